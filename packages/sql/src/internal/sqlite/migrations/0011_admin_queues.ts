/**
 * SQLite migration 11 (`11_admin_queues`): the index of the admin queries by queue
 * (`store/admin.ts`): runs of a queue newest first by status (`runs_queue_status_created`, partial:
 * runs in no queue are not in it), which also makes the counts per queue and status an index-only scan.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `CREATE INDEX IF NOT EXISTS "${p}runs_queue_status_created" ON "${p}runs" (queue, status, created_at, id) WHERE queue IS NOT NULL`
]
