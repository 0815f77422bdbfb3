/**
 * MySQL/MariaDB migration 2 (`2_run_history`): the run's trace context, the retention index of
 * finished runs, and the run history table (one row per recorded attempt) with its indexes.
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `ALTER TABLE \`${p}runs\` ADD COLUMN trace_context varchar(255) NULL`,
  `CREATE INDEX \`${p}runs_finished\` ON \`${p}runs\` (status, finished_at)`,
  `CREATE TABLE IF NOT EXISTS \`${p}run_history\` (
  seq bigint AUTO_INCREMENT PRIMARY KEY,
  origin_id varchar(36) NOT NULL,
  run_id varchar(36) NOT NULL,
  occurrence int NOT NULL,
  job varchar(255) NOT NULL,
  attempt int NOT NULL,
  started_by varchar(255) NOT NULL,
  started_at bigint NOT NULL,
  finished_at bigint NOT NULL,
  outcome varchar(16) NOT NULL,
  error longtext NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  `CREATE INDEX \`${p}history_origin\` ON \`${p}run_history\` (origin_id, seq)`,
  `CREATE INDEX \`${p}history_run\` ON \`${p}run_history\` (run_id)`
]
