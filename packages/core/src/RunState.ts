/**
 * The state of a run as `Scheduler.getRunState` and `Scheduler.awaitRun` report it.
 *
 * @since 0.1.0
 */
export * from "./internal/runState.js"
