/**
 * MySQL/MariaDB's migrations, in order (the ids and names the Migrator
 * records), each a module of literal SQL in `migrations/`; how a statement is
 * executed (index statements only when needed); the Migrator's bookkeeping
 * table.
 *
 * @internal
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { Migration } from "../dialect.js"
import * as createTables from "./migrations/0001_create_tables.js"
import * as runHistory from "./migrations/0002_run_history.js"
import * as leanIndexes from "./migrations/0003_lean_indexes.js"
import * as finishedIndex from "./migrations/0005_finished_index.js"

/** The migrations for the (validated, lower-case) table prefix `p`. */
export const migrations = (p: string): ReadonlyArray<Migration> => [
  { id: 1, name: "create_tables", statements: createTables.statements(p) },
  { id: 2, name: "run_history", statements: runHistory.statements(p) },
  { id: 3, name: "lean_indexes", statements: leanIndexes.statements(p) },
  // PostgreSQL only: MySQL claims with a locking read and an UPDATE
  { id: 4, name: "claim_function", statements: [] },
  { id: 5, name: "finished_index", statements: finishedIndex.statements(p) }
]

/** The Migrator's bookkeeping table, with the very definition the Migrator uses. */
export const migrationsTable = (p: string): string => `CREATE TABLE IF NOT EXISTS \`${p}migrations\` (
  migration_id INTEGER UNSIGNED NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  name VARCHAR(255) NOT NULL,
  PRIMARY KEY (migration_id)
)`

/** `CREATE [UNIQUE] INDEX \`index\` ON \`table\` ...` */
const createIndex = /^CREATE (?:UNIQUE )?INDEX `(\w+)` ON `(\w+)` /
/** `ALTER TABLE \`table\` DROP INDEX \`index\`` */
const dropIndex = /^ALTER TABLE `(\w+)` DROP INDEX `(\w+)`$/

/** Whether the table has the index. */
const indexExists = (sql: SqlClient.SqlClient, table: string, index: string): Effect.Effect<boolean, SqlError> =>
  Effect.map(
    sql`SELECT 1 AS found FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} AND INDEX_NAME = ${index} LIMIT 1`,
    (rows) => rows.length > 0
  )

/**
 * Executes a migration statement. MySQL has no `IF [NOT] EXISTS` on indexes (MariaDB has): a
 * `CREATE INDEX` runs only when the index is missing and an `ALTER TABLE ... DROP INDEX` only when
 * it exists, so a migration that stopped half-way can run again.
 */
export const runStatement =
  (sql: SqlClient.SqlClient) =>
  (statement: string): Effect.Effect<void, SqlError> => {
    const execute = Effect.asVoid(sql.unsafe(statement))
    const created = createIndex.exec(statement)
    if (created !== null) {
      return Effect.flatMap(indexExists(sql, created[2]!, created[1]!), (exists) => (exists ? Effect.void : execute))
    }
    const dropped = dropIndex.exec(statement)
    if (dropped !== null) {
      return Effect.flatMap(indexExists(sql, dropped[1]!, dropped[2]!), (exists) => (exists ? execute : Effect.void))
    }
    return execute
  }
