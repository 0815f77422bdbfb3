/**
 * MySQL/MariaDB migration 3 (`3_lean_indexes`): fewer index entries per claim and settlement: no index
 * of claims (every lookup by claim also names the row's id).
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `ALTER TABLE \`${p}runs\` DROP INDEX \`${p}runs_claim\``
]
