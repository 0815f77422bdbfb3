/**
 * SQLite migration 1 (`1_create_tables`): the runs table with its indexes (due pending runs, the
 * occurrences of a run, unique names, running runs by lease, held claims) and the instances table.
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `CREATE TABLE IF NOT EXISTS "${p}runs" (
  id TEXT NOT NULL PRIMARY KEY,
  origin_id TEXT NOT NULL,
  occurrence INTEGER NOT NULL,
  job TEXT NOT NULL,
  args TEXT NOT NULL,
  unique_name TEXT NULL,
  unique_key TEXT NULL,
  schedule TEXT NULL,
  status TEXT NOT NULL,
  run_at INTEGER NOT NULL,
  run_total_count INTEGER NOT NULL,
  run_success_count INTEGER NOT NULL,
  run_success_limit INTEGER NULL,
  run_timeout_ms INTEGER NOT NULL,
  retries_error_count INTEGER NOT NULL,
  retries_error_limit INTEGER NOT NULL,
  retries_timeout_count INTEGER NOT NULL,
  retries_timeout_limit INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  started_at INTEGER NULL,
  started_by TEXT NULL,
  timeout_at INTEGER NULL,
  lease_until INTEGER NULL,
  claim TEXT NULL,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  error TEXT NULL,
  finished_at INTEGER NULL
)`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_pending" ON "${p}runs" (run_at, id) WHERE status = 'pending'`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_origin" ON "${p}runs" (origin_id, occurrence)`,
  `CREATE UNIQUE INDEX IF NOT EXISTS "${p}runs_unique_key" ON "${p}runs" (unique_key)`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_running" ON "${p}runs" (lease_until) WHERE status = 'running'`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_claim" ON "${p}runs" (claim) WHERE claim IS NOT NULL`,
  `CREATE TABLE IF NOT EXISTS "${p}instances" (
  id TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  workers INTEGER NOT NULL,
  jobs TEXT NOT NULL,
  schedules TEXT NOT NULL,
  poll_interval_ms INTEGER NOT NULL,
  poll_limit INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  shutdown_at INTEGER NULL,
  runs_started INTEGER NOT NULL DEFAULT 0,
  runs_succeeded INTEGER NOT NULL DEFAULT 0,
  runs_rescheduled INTEGER NOT NULL DEFAULT 0,
  runs_timed_out INTEGER NOT NULL DEFAULT 0,
  runs_resurrected INTEGER NOT NULL DEFAULT 0,
  runs_errors INTEGER NOT NULL DEFAULT 0
)`
]
