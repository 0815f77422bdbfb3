/**
 * PostgreSQL migration 3 (`3_lean_indexes`): fewer index entries per claim and settlement: no index of
 * claims (every lookup by claim also names the row's id). Only active unique names are indexed (the
 * partial index is built before the full one goes, so uniqueness holds throughout).
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `DROP INDEX IF EXISTS "${p}runs_claim"`,
  `CREATE UNIQUE INDEX IF NOT EXISTS "${p}runs_unique_active" ON "${p}runs" (unique_key) WHERE unique_key IS NOT NULL`,
  `DROP INDEX IF EXISTS "${p}runs_unique_key"`
]
