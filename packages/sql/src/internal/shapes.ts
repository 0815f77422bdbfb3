/**
 * Statement shapes that several dialects share: `UPDATE/DELETE ... RETURNING`
 * and `ON CONFLICT` (PostgreSQL, SQLite); settlements recorded in a second
 * statement and settled pairs as IN lists (MySQL, SQLite).
 *
 * @internal
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment, Statement } from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import type { Dialect, Recording, RecordingUpdate, Row, UpdateRequest } from "./dialect.js"
import { inList } from "./sqlValues.js"

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
): Statement<Row> =>
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

/**
 * `idsAndClaimsIn` as two IN lists, padded to few statement texts, each found by a lookup (MySQL,
 * SQLite; an OR of the pairs cost a comparison per pair for every row).
 */
export const idsAndClaimsInLists = (
  sql: SqlClient.SqlClient,
  ids: ReadonlyArray<string>,
  claims: ReadonlyArray<string>
): Fragment => sql`${inList(sql, "id", ids)} AND ${inList(sql, "claim", claims)}`

/** Inserts the record of each of these runs that `record.when` selects (`record.select` over their current columns). */
export const recordRuns = (
  sql: SqlClient.SqlClient,
  runs: string,
  record: Recording,
  ids: ReadonlyArray<unknown>
): Effect.Effect<unknown, SqlError> =>
  sql`INSERT INTO ${record.into} SELECT ${record.select} FROM ${sql(runs)} WHERE ${inList(sql, "id", ids)} AND ${record.when}`

/**
 * `updateRecording` for dialects without data-modifying CTEs: in one transaction, `update` (which
 * reports the changed ids), then one INSERT ... SELECT over those rows when the request records.
 */
export const updateThenRecord =
  (
    sql: SqlClient.SqlClient,
    runs: string,
    transaction: Dialect["transaction"],
    update: (request: UpdateRequest) => Effect.Effect<ReadonlyArray<Row>, SqlError>
  ) =>
  ({ record, set, where }: RecordingUpdate): Effect.Effect<ReadonlyArray<Row>, SqlError> =>
    transaction(
      Effect.gen(function* () {
        const updated = yield* update({ where, set, returning: [] })
        if (updated.length > 0 && record !== undefined) {
          yield* recordRuns(
            sql,
            runs,
            record,
            updated.map((row) => row["id"])
          )
        }
        return updated
      })
    )
