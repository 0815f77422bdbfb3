/**
 * PostgreSQL migration 1 (`1_create_tables`): the runs table with its indexes (due pending runs, the
 * occurrences of a run, unique names, running runs by lease, held claims) and the instances table.
 * Inserts, and runs becoming pending again, notify the wake-up channel (`<prefix>runs`).
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `CREATE TABLE IF NOT EXISTS "${p}runs" (
  id varchar(36) NOT NULL PRIMARY KEY,
  origin_id varchar(36) NOT NULL,
  occurrence integer NOT NULL,
  job varchar(255) NOT NULL,
  args text NOT NULL,
  unique_name varchar(255) NULL,
  unique_key varchar(255) NULL,
  schedule varchar(255) NULL,
  status varchar(16) NOT NULL,
  run_at bigint NOT NULL,
  run_total_count integer NOT NULL,
  run_success_count integer NOT NULL,
  run_success_limit integer NULL,
  run_timeout_ms bigint NOT NULL,
  retries_error_count integer NOT NULL,
  retries_error_limit integer NOT NULL,
  retries_timeout_count integer NOT NULL,
  retries_timeout_limit integer NOT NULL,
  created_at bigint NOT NULL,
  created_by varchar(255) NOT NULL,
  started_at bigint NULL,
  started_by varchar(255) NULL,
  timeout_at bigint NULL,
  lease_until bigint NULL,
  claim varchar(100) NULL,
  cancel_requested smallint NOT NULL DEFAULT 0,
  error text NULL,
  finished_at bigint NULL
)`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_pending" ON "${p}runs" (run_at, id) WHERE status = 'pending'`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_origin" ON "${p}runs" (origin_id, occurrence)`,
  `CREATE UNIQUE INDEX IF NOT EXISTS "${p}runs_unique_key" ON "${p}runs" (unique_key)`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_running" ON "${p}runs" (lease_until) WHERE status = 'running'`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_claim" ON "${p}runs" (claim) WHERE claim IS NOT NULL`,
  `CREATE TABLE IF NOT EXISTS "${p}instances" (
  id varchar(255) NOT NULL PRIMARY KEY,
  name varchar(255) NOT NULL,
  workers integer NOT NULL,
  jobs text NOT NULL,
  schedules text NOT NULL,
  poll_interval_ms bigint NOT NULL,
  poll_limit integer NOT NULL,
  started_at bigint NOT NULL,
  last_seen_at bigint NOT NULL,
  shutdown_at bigint NULL,
  runs_started bigint NOT NULL DEFAULT 0,
  runs_succeeded bigint NOT NULL DEFAULT 0,
  runs_rescheduled bigint NOT NULL DEFAULT 0,
  runs_timed_out bigint NOT NULL DEFAULT 0,
  runs_resurrected bigint NOT NULL DEFAULT 0,
  runs_errors bigint NOT NULL DEFAULT 0
)`,
  `CREATE OR REPLACE FUNCTION "${p}runs_notify"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('${p}runs', 'due'); RETURN NULL; END $$`,
  `DROP TRIGGER IF EXISTS "${p}runs_notify_insert" ON "${p}runs"`,
  `CREATE TRIGGER "${p}runs_notify_insert" AFTER INSERT ON "${p}runs" FOR EACH STATEMENT EXECUTE FUNCTION "${p}runs_notify"()`,
  `DROP TRIGGER IF EXISTS "${p}runs_notify_pending" ON "${p}runs"`,
  `CREATE TRIGGER "${p}runs_notify_pending" AFTER UPDATE OF status ON "${p}runs" FOR EACH ROW
          WHEN (NEW.status = 'pending' AND OLD.status <> 'pending') EXECUTE FUNCTION "${p}runs_notify"()`
]
