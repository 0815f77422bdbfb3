/**
 * MySQL/MariaDB migration 1 (`1_create_tables`): the runs table with its indexes (due pending runs,
 * the occurrences of a run, unique names, running runs by lease, held claims) and the instances table.
 * MySQL has no partial indexes: `status` leads the composite ones instead.
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `CREATE TABLE IF NOT EXISTS \`${p}runs\` (
  id varchar(36) NOT NULL PRIMARY KEY,
  origin_id varchar(36) NOT NULL,
  occurrence int NOT NULL,
  job varchar(255) NOT NULL,
  args longtext NOT NULL,
  unique_name varchar(255) NULL,
  unique_key varchar(255) NULL,
  schedule varchar(255) NULL,
  status varchar(16) NOT NULL,
  run_at bigint NOT NULL,
  run_total_count int NOT NULL,
  run_success_count int NOT NULL,
  run_success_limit int NULL,
  run_timeout_ms bigint NOT NULL,
  retries_error_count int NOT NULL,
  retries_error_limit int NOT NULL,
  retries_timeout_count int NOT NULL,
  retries_timeout_limit int NOT NULL,
  created_at bigint NOT NULL,
  created_by varchar(255) NOT NULL,
  started_at bigint NULL,
  started_by varchar(255) NULL,
  timeout_at bigint NULL,
  lease_until bigint NULL,
  claim varchar(100) NULL,
  cancel_requested smallint NOT NULL DEFAULT 0,
  error longtext NULL,
  finished_at bigint NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  `CREATE INDEX \`${p}runs_pending\` ON \`${p}runs\` (status, run_at)`,
  `CREATE INDEX \`${p}runs_origin\` ON \`${p}runs\` (origin_id, occurrence)`,
  `CREATE UNIQUE INDEX \`${p}runs_unique_key\` ON \`${p}runs\` (unique_key)`,
  `CREATE INDEX \`${p}runs_running\` ON \`${p}runs\` (status, lease_until)`,
  `CREATE INDEX \`${p}runs_claim\` ON \`${p}runs\` (claim)`,
  `CREATE TABLE IF NOT EXISTS \`${p}instances\` (
  id varchar(255) NOT NULL PRIMARY KEY,
  name varchar(255) NOT NULL,
  workers int NOT NULL,
  jobs longtext NOT NULL,
  schedules longtext NOT NULL,
  poll_interval_ms bigint NOT NULL,
  poll_limit int NOT NULL,
  started_at bigint NOT NULL,
  last_seen_at bigint NOT NULL,
  shutdown_at bigint NULL,
  runs_started bigint NOT NULL DEFAULT 0,
  runs_succeeded bigint NOT NULL DEFAULT 0,
  runs_rescheduled bigint NOT NULL DEFAULT 0,
  runs_timed_out bigint NOT NULL DEFAULT 0,
  runs_resurrected bigint NOT NULL DEFAULT 0,
  runs_errors bigint NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
]
