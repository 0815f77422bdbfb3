/**
 * The history of a run as `Scheduler.getRunHistory` reports it: one entry per
 * attempt, across retries and occurrences, kept until the run is pruned by the
 * instance's `retention` policy.
 *
 * @since 0.1.0
 */
export * from "./internal/runHistory.js"
