/**
 * SQLite migration 13 (`13_partition_heads`): a claim of a partitioned queue costs per partition,
 * not per pending run (`store/queueClaim.ts`): `runs_partitions` holds the pending runs of queues by
 * partition in claim order, so the claim finds the partitions with pending runs by a loose scan (one
 * index probe per key) and reads each one's first due runs from it.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `CREATE INDEX IF NOT EXISTS "${p}runs_partitions" ON "${p}runs" (queue, partition_key, priority, run_at, id) WHERE status = 'pending' AND queue IS NOT NULL`
]
