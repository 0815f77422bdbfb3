/**
 * MySQL/MariaDB migration 10 (`10_admin`): the indexes of the admin queries (`store/admin.ts`).
 * Runs newest first by status (`runs_status_created`), by job and status (`runs_job_status_created`,
 * which also covers `countRuns`), by unique name (`runs_name_created`); active occurrences of
 * recurring runs by schedule (`runs_scheduled`: no partial indexes, so `status` leads); the run
 * history by end time (throughput, `history_finished`); instances by last sighting
 * (`instances_last_seen`). Each statement is a step the runner checks and skips when done.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `CREATE INDEX \`${p}runs_status_created\` ON \`${p}runs\` (status, created_at, id)`,
  `CREATE INDEX \`${p}runs_job_status_created\` ON \`${p}runs\` (job, status, created_at, id)`,
  `CREATE INDEX \`${p}runs_name_created\` ON \`${p}runs\` (unique_name, created_at, id)`,
  `CREATE INDEX \`${p}runs_scheduled\` ON \`${p}runs\` (status, schedule, origin_id)`,
  `CREATE INDEX \`${p}history_finished\` ON \`${p}run_history\` (finished_at)`,
  `CREATE INDEX \`${p}instances_last_seen\` ON \`${p}instances\` (last_seen_at, id)`
]
