/**
 * MySQL/MariaDB migration 9 (`9_queues`): flow control. Each run gets its queue, priority and
 * partition key; the queues table holds each queue's stored definition and paused flag, and the
 * starts table the attempt starts of rate-limited queues (a sliding window, pruned by the claim).
 * One index serves the claim of runs in no queue (`queue IS NULL`, pending, by priority and due
 * time), the claim of each queue's runs and the count of its running runs. Each statement is a step
 * the runner checks and skips when a repeated run finds it done.
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `ALTER TABLE \`${p}runs\` ADD COLUMN queue varchar(255) NULL`,
  `ALTER TABLE \`${p}runs\` ADD COLUMN priority int NOT NULL DEFAULT 0`,
  `ALTER TABLE \`${p}runs\` ADD COLUMN partition_key varchar(255) NULL`,
  `CREATE INDEX \`${p}runs_due\` ON \`${p}runs\` (queue, status, priority, run_at)`,
  `CREATE TABLE IF NOT EXISTS \`${p}queues\` (
  name varchar(255) NOT NULL PRIMARY KEY,
  concurrency int NULL,
  worker_concurrency int NULL,
  rate_limit int NULL,
  rate_period_ms bigint NULL,
  partitioned smallint NOT NULL DEFAULT 0,
  paused smallint NOT NULL DEFAULT 0,
  defined_by varchar(255) NULL,
  updated_at bigint NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  `CREATE TABLE IF NOT EXISTS \`${p}queue_starts\` (
  queue varchar(255) NOT NULL,
  partition_key varchar(255) NOT NULL,
  started_at bigint NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  `CREATE INDEX \`${p}queue_starts_window\` ON \`${p}queue_starts\` (queue, partition_key, started_at)`
]
