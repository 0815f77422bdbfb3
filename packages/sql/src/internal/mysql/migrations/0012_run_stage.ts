/**
 * MySQL/MariaDB migration 12 (`12_run_stage`): admin indexes that no claim changes. MySQL has no
 * partial indexes, so every index holding `status` changes at each claim and each settlement, and
 * the admin indexes of migrations 10 and 11 cost the claim path about a sixth of its throughput.
 * The generated column `stage` is `active` for pending and running runs and the status otherwise;
 * `runs_status_created`, `runs_job_status_created`, `runs_queue_status_created` and `runs_scheduled`
 * hold it instead of `status` (each rebuilt under its name in one statement, so the previous
 * release's `FORCE INDEX` still finds it), and only a settlement changes them. The admin queries
 * read running runs, never more than the cluster's workers, through `runs_pending` (status, run_at);
 * `runs_running` goes, the reaper reads the same few rows through `runs_pending`. Each statement is
 * a step the runner checks and skips when done.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => {
  const rebuild = (index: string, columns: string) =>
    `ALTER TABLE \`${p}runs\` DROP INDEX \`${p}${index}\`, ADD INDEX \`${p}${index}\` (${columns})`
  return [
    `ALTER TABLE \`${p}runs\` ADD COLUMN stage varchar(16) AS (IF(status IN ('pending', 'running'), 'active', status)) VIRTUAL`,
    rebuild("runs_status_created", "stage, created_at, id"),
    rebuild("runs_job_status_created", "job, stage, created_at, id"),
    rebuild("runs_queue_status_created", "queue, stage, created_at, id"),
    rebuild("runs_scheduled", "stage, schedule, origin_id"),
    `ALTER TABLE \`${p}runs\` DROP INDEX \`${p}runs_running\``
  ]
}
