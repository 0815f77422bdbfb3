/**
 * The admin API's types and bounds: what `Scheduler.listRuns`, `countRuns`, `retryRun(s)`,
 * `runNow` / `runRunsNow`, `deleteRun(s)`, `listInstances`, `listSchedules` and `runThroughput`
 * take and return. The `jobss` command and the dashboard are built on it.
 *
 * @since 0.2.0
 */
export * from "./internal/adminApi.js"
