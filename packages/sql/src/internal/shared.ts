/**
 * Statement shapes shared by the dialects that have `UPDATE ... RETURNING`
 * (PostgreSQL, SQLite).
 *
 * @internal
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import type { Effect } from "effect"
import type { Row, UpdateRequest } from "./dialect.js"

/** The RETURNING list of an update request (`id` first, then the requested columns). */
export const returningList = (sql: SqlClient.SqlClient, returning: UpdateRequest["returning"]): Fragment =>
  sql.literal(returning === "row" ? "*" : ["id", ...returning].join(", "))

/** `UPDATE table SET ... WHERE ... RETURNING ...`, optionally preceded by a WITH clause. */
export const updateReturning = (
  sql: SqlClient.SqlClient,
  table: string,
  options: {
    readonly with?: Fragment
    readonly set: Fragment
    readonly where: Fragment
    readonly returning: UpdateRequest["returning"]
  }
): Effect.Effect<ReadonlyArray<Row>, SqlError> =>
  sql<Row>`${options.with ?? sql.literal("")}UPDATE ${sql(table)} SET ${options.set} WHERE ${options.where} RETURNING ${returningList(sql, options.returning)}`

/** `DELETE FROM table WHERE ... RETURNING id`, optionally preceded by a WITH clause. */
export const deleteReturning = (
  sql: SqlClient.SqlClient,
  table: string,
  options: { readonly with?: Fragment; readonly where: Fragment }
): Effect.Effect<ReadonlyArray<Row>, SqlError> =>
  sql<Row>`${options.with ?? sql.literal("")}DELETE FROM ${sql(table)} WHERE ${options.where} RETURNING id`

/**
 * `ON CONFLICT (unique_key) ... DO NOTHING` (PostgreSQL, SQLite). The predicate names the partial
 * index of active unique names (migration 3); the full index of earlier schemas satisfies it too.
 */
export const onUniqueKeyConflictIgnore = (sql: SqlClient.SqlClient): Fragment =>
  sql.literal("ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING")

/** `ON CONFLICT (key) DO UPDATE SET c = excluded.c, ...` (PostgreSQL, SQLite). */
export const onConflictReplace = (sql: SqlClient.SqlClient, key: string, columns: ReadonlyArray<string>): Fragment =>
  sql.literal(
    `ON CONFLICT (${key}) DO UPDATE SET ${columns.map((column) => `${column} = excluded.${column}`).join(", ")}`
  )
