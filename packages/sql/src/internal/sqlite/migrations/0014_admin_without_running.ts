/**
 * SQLite migration 14 (`14_admin_without_running`): admin indexes that no claim changes. The
 * indexes of migrations 10 and 11 (`runs_status_created`, `runs_job_status_created`,
 * `runs_queue_status_created`) held every run by status, so a claim moved each of its runs in
 * them (an entry deleted and one inserted per index) and a settlement moved it again. Rebuilt
 * under their names with `WHERE status <> 'running'`, a claim only deletes a run's entries and a
 * settlement only inserts them. The admin queries read running runs, never more than the
 * cluster's workers, through `runs_running`; the counts per queue read pending and running runs
 * through `runs_queued` and `runs_queue_running`. Migrations run in a transaction, so the indexes
 * are replaced at once.
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => {
  const rebuild = (index: string, columns: string, where: string) => [
    `DROP INDEX IF EXISTS "${p}${index}"`,
    `CREATE INDEX "${p}${index}" ON "${p}runs" (${columns}) WHERE ${where}`
  ]
  return [
    ...rebuild("runs_status_created", "status, created_at, id", "status <> 'running'"),
    ...rebuild("runs_job_status_created", "job, status, created_at, id", "status <> 'running'"),
    ...rebuild(
      "runs_queue_status_created",
      "queue, status, created_at, id",
      "queue IS NOT NULL AND status <> 'running'"
    )
  ]
}
