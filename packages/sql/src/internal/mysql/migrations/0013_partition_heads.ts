/**
 * MySQL/MariaDB migration 13 (`13_partition_heads`): a claim of a partitioned queue costs per
 * partition, not per pending run (`store/queueClaim.ts`). The generated column `queue_stage` is
 * `active` for the pending and running runs of queues, their status once finished, and NULL for
 * runs in no queue; `runs_partitions` holds the runs of queues by partition in claim order. A claim
 * does not change the index (the stage stays `active`), and a run in no queue never changes it, so
 * the unqueued claim path pays nothing for it. Each statement is a step the runner checks and skips
 * when done.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `ALTER TABLE \`${p}runs\` ADD COLUMN queue_stage varchar(16) AS (IF(queue IS NULL, NULL, IF(status IN ('pending', 'running'), 'active', status))) VIRTUAL`,
  `CREATE INDEX \`${p}runs_partitions\` ON \`${p}runs\` (queue, queue_stage, partition_key, priority, run_at)`
]
