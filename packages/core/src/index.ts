/**
 * JobsS core: job definitions, the runtime, the client API and the store interface.
 *
 * @since 0.1.0
 */

/** Errors returned by JobsS. */
export * as JobsSError from "./JobsSError.js"

/** The durable store interface and the in-memory store. */
export * as JobStore from "./JobStore.js"

/** Run identifiers. */
export * as RunId from "./RunId.js"

/** Job definitions. */
export * as Job from "./Job.js"

/** Queues: concurrency, rate limits, partitions and pause for the runs of the jobs in them. */
export * as JobQueue from "./JobQueue.js"

/** Named schedules. */
export * as JobSchedule from "./JobSchedule.js"

/** Instance options and defaults. */
export * as JobsSConfig from "./JobsSConfig.js"

/** The instance layers and service. */
export * as JobsS from "./JobsS.js"

/** Retry delay policies. */
export * as RetryBackoff from "./RetryBackoff.js"

/** What a running job knows about its run. */
export { RunInfo } from "./RunInfo.js"

/** The state of a run. */
export * as RunState from "./RunState.js"

/** The attempts of a run. */
export * as RunHistory from "./RunHistory.js"

/** The admin API's types and bounds (its operations are on `Scheduler`). */
export * as Admin from "./Admin.js"

/** The client API. */
export * as Scheduler from "./Scheduler.js"

/** Metrics recorded by every instance. */
export * as JobsSMetrics from "./JobsSMetrics.js"
