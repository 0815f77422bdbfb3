/**
 * MySQL/MariaDB migration 5 (`5_finished_index`): retention's index by `finished_at` alone. With
 * `status` leading it, every claim moved the row's entry; `finished_at` changes only when a run ends.
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `CREATE INDEX \`${p}runs_finished_at\` ON \`${p}runs\` (finished_at)`,
  `ALTER TABLE \`${p}runs\` DROP INDEX \`${p}runs_finished\``
]
