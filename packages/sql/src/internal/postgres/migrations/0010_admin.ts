/**
 * PostgreSQL migration 10 (`10_admin`): the indexes of the admin queries (`store/admin.ts`). Runs newest first
 * by status (`runs_status_created`), by job and status (`runs_job_status_created`, which also makes
 * `countRuns` an index-only scan), by unique name (`runs_name_created`); recurring runs with an
 * active occurrence by schedule (`runs_scheduled`); the run history by end time (throughput,
 * `history_finished`); instances by last sighting (`instances_last_seen`).
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `CREATE INDEX IF NOT EXISTS "${p}runs_status_created" ON "${p}runs" (status, created_at, id)`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_job_status_created" ON "${p}runs" (job, status, created_at, id)`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_name_created" ON "${p}runs" (unique_name, created_at, id) WHERE unique_name IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_scheduled" ON "${p}runs" (schedule, origin_id) WHERE schedule IS NOT NULL AND status IN ('pending', 'running')`,
  `CREATE INDEX IF NOT EXISTS "${p}history_finished" ON "${p}run_history" (finished_at)`,
  `CREATE INDEX IF NOT EXISTS "${p}instances_last_seen" ON "${p}instances" (last_seen_at, id)`
]
