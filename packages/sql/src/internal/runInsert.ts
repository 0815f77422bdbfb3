/**
 * The run row as an `INSERT INTO runs` writes it, on every dialect, derived from the row definition
 * (`JobStore.runFields` and `runColumns.ts`): the column list, and each column's value in a new row
 * (a `NewRun` field as bound, the store's clock for a `null` `newOrNow` field, a field's initial value
 * as a literal; fields whose initial value is `null` are left to the column default). As a VALUES
 * list here; PostgreSQL's unnest shape for several rows is in `postgres/dialect.ts`.
 *
 * @internal
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { Fragment } from "@effect/sql/Statement"
import { JobStore } from "@jobss/core"
import { type RunFieldName, encodeValue, literalOf, runColumns, runFieldNames } from "./runColumns.js"

/** The fields a `NewRun` carries (those an insert takes from the runtime), in column order. */
export const newRunFields: ReadonlyArray<RunFieldName & keyof JobStore.NewRun> = runFieldNames.filter(
  (field): field is RunFieldName & keyof JobStore.NewRun => typeof JobStore.runFields[field].insert === "string"
)

/** The fields an insert writes: the `NewRun`'s and those with a non-null initial value. */
const insertedFields: ReadonlyArray<RunFieldName> = runFieldNames.filter((field) => {
  const insert: JobStore.RunFieldInsert<JobStore.RunFieldKind> = JobStore.runFields[field].insert
  return typeof insert === "string" || insert.initial !== null
})

/** The unique index's key, a column beside the fields: the unique name while the run is active. */
const uniqueKey = "unique_key"

/** The column list of every `INSERT INTO runs`. */
export const insertColumns: string = `(${[...insertedFields.map((field) => runColumns[field].name), uniqueKey].join(", ")})`

/**
 * The values of one new row, in `insertColumns` order, given the expression of each `NewRun` field
 * (a bound value, or a column of unnested arrays): the row is pending, its unique name its key.
 */
export const insertedValues = (
  sql: SqlClient.SqlClient,
  now: Fragment,
  valueOf: (field: RunFieldName & keyof JobStore.NewRun) => Fragment
): Fragment =>
  sql.csv([
    ...insertedFields.map((field): Fragment => {
      const insert: JobStore.RunFieldInsert<JobStore.RunFieldKind> = JobStore.runFields[field].insert
      const name = field as RunFieldName & keyof JobStore.NewRun
      return insert === "new"
        ? valueOf(name)
        : insert === "newOrNow"
          ? sql`COALESCE(${valueOf(name)}, ${now})`
          : sql.literal(literalOf(insert.initial))
    }),
    valueOf("uniqueName")
  ])

/** One new run as a VALUES row. */
export const valuesRow = (sql: SqlClient.SqlClient, now: Fragment, run: JobStore.NewRun): Fragment =>
  sql`(${insertedValues(sql, now, (field) => sql`${encodeValue(run[field])}`)})`

/** New runs as a VALUES list. */
export const valuesList = (sql: SqlClient.SqlClient, now: Fragment, chunk: ReadonlyArray<JobStore.NewRun>): Fragment =>
  sql`VALUES ${sql.csv(chunk.map((run) => valuesRow(sql, now, run)))}`
