/**
 * Migration 8 (`8_dispatched`): when the attempt of a claimed run started (it left the claiming
 * instance's buffer for a worker), as its heartbeat reported it: epoch milliseconds on the database
 * clock, `NULL` until reported. A run counts as started when `dispatched_at >= started_at`, so a
 * claim needs no change and a stale value from an earlier claim never counts.
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `ALTER TABLE "${p}runs" ADD COLUMN dispatched_at INTEGER NULL`
]
