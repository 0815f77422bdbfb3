/**
 * SQLite migration 9 (`9_queues`): flow control. Each run gets its queue, priority and partition
 * key; the queues table holds each queue's stored definition and paused flag, and the starts table
 * the attempt starts of rate-limited queues (a sliding window, pruned by the claim). Pending runs in
 * no queue are indexed in claim order (priority, then due time), those of queues per queue, and
 * running runs of queues per queue and partition (the claim counts them).
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `ALTER TABLE "${p}runs" ADD COLUMN queue TEXT NULL`,
  `ALTER TABLE "${p}runs" ADD COLUMN priority INTEGER NOT NULL DEFAULT 0`,
  `ALTER TABLE "${p}runs" ADD COLUMN partition_key TEXT NULL`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_due" ON "${p}runs" (priority, run_at, id) WHERE status = 'pending' AND queue IS NULL`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_queued" ON "${p}runs" (queue, priority, run_at, id) WHERE status = 'pending' AND queue IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_queue_running" ON "${p}runs" (queue, partition_key) WHERE status = 'running' AND queue IS NOT NULL`,
  `CREATE TABLE IF NOT EXISTS "${p}queues" (
  name TEXT NOT NULL PRIMARY KEY,
  concurrency INTEGER NULL,
  worker_concurrency INTEGER NULL,
  rate_limit INTEGER NULL,
  rate_period_ms INTEGER NULL,
  partitioned INTEGER NOT NULL DEFAULT 0,
  paused INTEGER NOT NULL DEFAULT 0,
  defined_by TEXT NULL,
  updated_at INTEGER NOT NULL
)`,
  `CREATE TABLE IF NOT EXISTS "${p}queue_starts" (
  queue TEXT NOT NULL,
  partition_key TEXT NOT NULL,
  started_at INTEGER NOT NULL
)`,
  `CREATE INDEX IF NOT EXISTS "${p}queue_starts_window" ON "${p}queue_starts" (queue, partition_key, started_at)`
]
