/**
 * PostgreSQL migration 6 (`6_results_and_snoozes`): the encoded result of a run's latest successful
 * attempt and the snoozes of its occurrence, and each recorded attempt's result.
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `ALTER TABLE "${p}runs" ADD COLUMN result text NULL`,
  `ALTER TABLE "${p}runs" ADD COLUMN snooze_count integer NOT NULL DEFAULT 0`,
  `ALTER TABLE "${p}run_history" ADD COLUMN result text NULL`
]
