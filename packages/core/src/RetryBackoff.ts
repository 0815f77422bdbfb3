/**
 * Retry delays: how long a failed or timed-out attempt waits before the next one.
 * The due time of the next attempt is stored with the run, so any instance honours
 * it, also after a restart. The default is immediate: a retry is due as soon as its attempt ended.
 *
 * A policy is plain data: the constructors keep what they are given and check nothing. A job whose
 * policy breaks a rule (a duration that does not decode, is negative or is infinite, a `factor`
 * below 1, a `max` below `base`) is refused with `InvalidRunOptions` by `job.toLayer` and by
 * `createRun`, before anything runs or is written.
 *
 * @since 0.1.0
 */
export * from "./internal/retryBackoff.js"
