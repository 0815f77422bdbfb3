/**
 * The identifier `createRun` returns. It addresses a run for its whole life:
 * its retries and, for scheduled runs, every later occurrence.
 *
 * @since 0.1.0
 */
export * from "./internal/runId.js"
