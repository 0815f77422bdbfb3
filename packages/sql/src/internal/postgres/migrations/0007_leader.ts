/**
 * Migration 7 (`7_leader`): the lease table of the maintenance leader (`leader.ts` in
 * @jobss/core): one row per lease name, its holder's instance id and until when it is held (epoch
 * milliseconds on the database clock).
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `CREATE TABLE IF NOT EXISTS "${p}leader" (
  name varchar(255) NOT NULL PRIMARY KEY,
  holder varchar(255) NOT NULL,
  lease_until bigint NOT NULL
)`
]
