/**
 * MySQL/MariaDB migration 11 (`11_admin_queues`): the index of the admin queries by queue
 * (`store/admin.ts`): runs of a queue newest first by status (`runs_queue_status_created`; no partial
 * indexes, so runs in no queue are in it too), which also covers the counts per queue and status.
 * Each statement is a step the runner checks and skips when done.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `CREATE INDEX \`${p}runs_queue_status_created\` ON \`${p}runs\` (queue, status, created_at, id)`
]
