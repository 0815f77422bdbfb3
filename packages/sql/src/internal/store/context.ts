/**
 * What every store operation shares: the dialect, the tables, error mapping
 * and retries, and the SQL fragments several operations use (the fences and
 * the SET lists of settlements).
 *
 * @internal
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { Fragment, Identifier } from "@effect/sql/Statement"
import { type JobStore, JobsSError } from "@jobss/core"
import { Effect, Either, Option } from "effect"
import { type Dialect, type Row, messageOf } from "../dialect.js"
import { isTransient } from "../driverError.js"
import { insertColumns, valuesRow } from "../runInsert.js"
import { inList, int } from "../sqlValues.js"

type Settlement = JobStore.Settlement

/** Values per IN list (ids, claims, unique names). */
export const listChunk = 1000

/** The items in slices of at most `size`. */
export const chunksOf = <A>(items: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> => {
  const chunks: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  return chunks
}

/** Maps any failure of an operation to a `JobStoreError` naming it, transient unless the driver says otherwise. */
export const storeError =
  (operation: string) =>
  (error: unknown): JobsSError.JobStoreError =>
    error instanceof JobsSError.JobStoreError
      ? error
      : new JobsSError.JobStoreError({
          message: `SqlStore.${operation} failed: ${messageOf(error)}`,
          cause: error,
          transient: isTransient(error)
        })

/** Decodes every row, or fails the operation naming the first malformed one. */
export const decodeAll =
  <A>(operation: string, what: (row: Row) => string, decode: (row: Row) => Either.Either<A, string>) =>
  (found: ReadonlyArray<Row>): Effect.Effect<ReadonlyArray<A>, JobsSError.JobStoreError> =>
    Effect.forEach(found, (row) =>
      Either.match(decode(row), {
        onLeft: (problem) =>
          Effect.fail(
            new JobsSError.JobStoreError({ message: `SqlStore.${operation} failed: ${what(row)}: ${problem}` })
          ),
        onRight: Effect.succeed
      })
    )

/** The dialect, the tables and the fragments the operations share (built once per store). */
export interface StoreContext {
  readonly dialect: Dialect
  readonly sql: SqlClient.SqlClient
  /** The database clock (`dialect.now`). */
  readonly now: Fragment
  readonly runs: Identifier
  readonly instancesTable: Identifier
  readonly historyTable: Identifier
  /** Error mapping, defects included (a failed COMMIT is a defect in @effect/sql), and a span. */
  readonly operation: (
    name: string
  ) => <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, JobsSError.JobStoreError>
  /**
   * One statement or transaction, retried on deadlocks and busy databases, unless it runs inside
   * the caller's transaction (which the failure has already doomed or rolled back).
   */
  readonly unit: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E>
  /** The number of rows a statement (run with `.raw`, as a `unit`) matched. */
  readonly affected: <E>(statement: Effect.Effect<unknown, E>) => Effect.Effect<number, E>
  /** A listed job, and no schedule or a listed one (claim, nextDue, reap, waiting). */
  readonly claimable: (jobs: ReadonlyArray<string>, schedules: ReadonlyArray<string>) => Fragment
  /** The row `id`, running under `claim`. */
  readonly fence: (id: string, claim: string) => Fragment
  readonly succeededSet: Fragment
  readonly failedSet: (error: string | null) => Fragment
  readonly cancelledSet: Fragment
  /** Pending again, the attempt given back. */
  readonly releasedSet: Fragment
  readonly retrySet: (s: Extract<Settlement, { _tag: "Retry" }>) => Fragment
  /** The column list of every `INSERT INTO runs`. */
  readonly insertColumns: Fragment
  /** One new run as a VALUES row. */
  readonly insertValues: (run: JobStore.NewRun) => Fragment
}

/** The context of a store over a dialect. */
export const make = (dialect: Dialect): StoreContext => {
  const { sql, tables: t, now } = dialect

  const operation =
    (name: string) =>
    <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, JobsSError.JobStoreError> =>
      effect.pipe(
        Effect.mapError(storeError(name)),
        Effect.catchAllDefect((defect) => Effect.fail(storeError(name)(defect))),
        // no stack trace: it would point into the store, and capturing one costs more than a small claim's decoding
        Effect.withSpan(`SqlStore.${name}`, { captureStackTrace: false })
      )

  const unit = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (transaction) =>
      Option.isSome(transaction) ? effect : dialect.retrying(effect)
    )

  const releaseHold = sql.literal("claim = NULL, unique_key = NULL, lease_until = NULL")

  return {
    dialect,
    sql,
    now,
    runs: sql(t.runs),
    instancesTable: sql(t.instances),
    historyTable: sql(t.history),
    operation,
    unit,
    affected: (statement) => Effect.map(unit(statement), dialect.affectedRows),
    claimable: (jobs, schedules) =>
      sql`${inList(sql, "job", jobs)} AND (schedule IS NULL OR ${inList(sql, "schedule", schedules)})`,
    fence: (id, claim) => sql`id = ${id} AND claim = ${claim} AND status = 'running'`,
    succeededSet: sql`status = 'succeeded', run_success_count = run_success_count + 1, error = NULL, finished_at = ${now}, ${releaseHold}`,
    failedSet: (error) => sql`status = 'failed', error = ${error}, finished_at = ${now}, ${releaseHold}`,
    cancelledSet: sql`status = 'cancelled', finished_at = ${now}, ${releaseHold}`,
    releasedSet: sql.literal(
      "status = 'pending', run_total_count = run_total_count - 1, claim = NULL, lease_until = NULL, timeout_at = NULL"
    ),
    retrySet: (s) =>
      sql`status = 'pending', run_at = ${int(s.runAt)}, retries_error_count = ${int(s.retriesErrorCount)},
      retries_timeout_count = ${int(s.retriesTimeoutCount)}, error = ${s.error},
      claim = NULL, lease_until = NULL, timeout_at = NULL`,
    insertColumns: sql.literal(insertColumns),
    insertValues: (run) => valuesRow(sql, now, run)
  }
}
