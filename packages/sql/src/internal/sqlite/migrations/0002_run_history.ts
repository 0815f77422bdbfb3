/**
 * SQLite migration 2 (`2_run_history`): the run's trace context, the retention index of finished runs,
 * and the run history table (one row per recorded attempt) with its indexes.
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `ALTER TABLE "${p}runs" ADD COLUMN trace_context TEXT NULL`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_finished" ON "${p}runs" (status, finished_at) WHERE finished_at IS NOT NULL`,
  `CREATE TABLE IF NOT EXISTS "${p}run_history" (
  seq INTEGER PRIMARY KEY,
  origin_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  occurrence INTEGER NOT NULL,
  job TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  started_by TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  error TEXT NULL
)`,
  `CREATE INDEX IF NOT EXISTS "${p}history_origin" ON "${p}run_history" (origin_id, seq)`,
  `CREATE INDEX IF NOT EXISTS "${p}history_run" ON "${p}run_history" (run_id)`
]
