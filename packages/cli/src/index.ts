/**
 * JobsS command line: the `jobss` command (`migrate`, `runs`, `queues`, `instances`, `schedules`, `stats`, `dashboard`).
 *
 * @since 0.2.0
 */

/** The `jobss` command and a function that runs it. */
export * as JobsSCli from "./JobsSCli.js"
