/**
 * What every store operation shares: the dialect, the tables, error mapping
 * and retries, and the SQL fragments several operations use (the fences and
 * the SET lists of settlements).
 *
 * @internal
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { Fragment, Identifier } from "@effect/sql/Statement"
import { JobStore, JobsSError } from "@jobss/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { type Dialect, type Row, messageOf } from "../dialect.js"
import { isTransient } from "../driverError.js"
import { insertColumns, valuesRow } from "../runInsert.js"
import { inList, int } from "../sqlValues.js"
import type { OwnConnection } from "./ownConnection.js"

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
  /** Runs a heartbeat operation on the heartbeat's own connection (where the pool has room for one). */
  readonly ownConnection: OwnConnection
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
  /**
   * A running row whose takeover is charged (core `chargedOnTakeover`): its instance reported the
   * attempt's start after the claim (a `dispatched_at` older than `started_at` was left by an earlier
   * claim), or the run was given back once unstarted (`JobStore.givenBackUnstarted`).
   */
  readonly chargedOnTakeover: Fragment
  /**
   * Succeeded: the run over with one more success and the attempt's result (or none: a literal
   * `NULL`, so that the successes without a result share a statement's text).
   */
  readonly succeededSet: (result: string | null) => Fragment
  readonly failedSet: (error: string | null) => Fragment
  readonly cancelledSet: Fragment
  /**
   * `value`, or `cancelled` when the row's cancel was requested: the SET lists of settlements that
   * would continue a run (retry, release, snooze, next occurrence) end it cancelled instead.
   */
  readonly unlessCancelled: (value: Fragment, cancelled: Fragment) => Fragment
  /**
   * Ends the occurrence of a `Next` settlement with its outcome (a success's result stored), or
   * cancelled when its cancel was requested.
   */
  readonly nextSet: (s: Extract<Settlement, { _tag: "Next" }>) => Fragment
  /** Pending again, the attempt given back (cancelled instead when its cancel was requested). */
  readonly releasedSet: Fragment
  /** `releasedSet`, marking the run given back once unstarted (the reaper's give-back). */
  readonly givenBackSet: Fragment
  /** Pending again at the retry's due time with its counters (cancelled instead when its cancel was requested). */
  readonly retrySet: (s: Extract<Settlement, { _tag: "Retry" }>) => Fragment
  /** Pending again at the snooze's due time, one more snooze (cancelled instead when its cancel was requested). */
  readonly snoozedSet: (s: Extract<Settlement, { _tag: "Snoozed" }>) => Fragment
  /** The column list of every `INSERT INTO runs`. */
  readonly insertColumns: Fragment
  /** One new run as a VALUES row. */
  readonly insertValues: (run: JobStore.NewRun) => Fragment
}

/** The context of a store over a dialect. */
export const make = (dialect: Dialect, ownConnection: OwnConnection): StoreContext => {
  const { sql, tables: t, now } = dialect

  const operation =
    (name: string) =>
    <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, JobsSError.JobStoreError> =>
      effect.pipe(
        Effect.mapError(storeError(name)),
        Effect.catchAllDefect((defect) => Effect.fail(storeError(name)(defect))),
        JobStore.withOperationSpan(`SqlStore.${name}`)
      )

  const unit = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (transaction) =>
      Option.isSome(transaction) ? effect : dialect.retrying(effect)
    )

  const releaseHold = sql.literal("claim = NULL, unique_key = NULL, lease_until = NULL")

  const unlessCancelled = (value: Fragment, cancelled: Fragment): Fragment =>
    sql`CASE WHEN cancel_requested = 1 THEN ${cancelled} ELSE ${value} END`

  /** A final status (`status` as SQL), now, the claim, lease and unique name let go. */
  const finalSet = (status: Fragment): Fragment => sql`status = ${status}, finished_at = ${now}, ${releaseHold}`
  const succeeded = (status: Fragment): Fragment =>
    sql`${finalSet(status)}, run_success_count = run_success_count + 1, error = NULL`
  const failed = (status: Fragment, error: string | null): Fragment => sql`${finalSet(status)}, error = ${error}`

  /**
   * The SET list that makes a run pending again, or ends it cancelled when its cancel was requested.
   * Every CASE reads `cancel_requested`, which no SET list assigns (MySQL assigns left to right).
   */
  const requeuedSet = (more: Fragment, dispatchedAt: Fragment = sql.literal("NULL")): Fragment =>
    sql`status = ${unlessCancelled(sql.literal("'pending'"), sql.literal("'cancelled'"))},
      finished_at = ${unlessCancelled(sql.literal("NULL"), now)},
      unique_key = ${unlessCancelled(sql.literal("unique_key"), sql.literal("NULL"))},
      ${more}, claim = NULL, lease_until = NULL, timeout_at = NULL, dispatched_at = ${dispatchedAt}`
  const attemptGivenBack = sql.literal("run_total_count = run_total_count - 1")

  return {
    dialect,
    sql,
    ownConnection,
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
    chargedOnTakeover: sql.literal(
      `(dispatched_at IS NOT NULL AND (dispatched_at >= started_at OR dispatched_at = ${JobStore.givenBackUnstarted}))`
    ),
    succeededSet: (result) =>
      sql`${succeeded(sql.literal("'succeeded'"))}, result = ${result === null ? sql.literal("NULL") : result}`,
    failedSet: (error) => failed(sql.literal("'failed'"), error),
    cancelledSet: finalSet(sql.literal("'cancelled'")),
    nextSet: (s) => {
      const status = unlessCancelled(sql.literal(`'${s.outcome}'`), sql.literal("'cancelled'"))
      switch (s.outcome) {
        case "succeeded":
          return sql`${succeeded(status)}, result = ${s.next.result}`
        case "failed":
          return failed(status, s.error)
        case "cancelled":
          return sql`${finalSet(status)}, error = ${s.error}`
      }
    },
    unlessCancelled,
    releasedSet: requeuedSet(attemptGivenBack),
    givenBackSet: requeuedSet(attemptGivenBack, sql.literal(String(JobStore.givenBackUnstarted))),
    retrySet: (s) =>
      requeuedSet(
        sql`run_at = ${unlessCancelled(sql`${int(s.runAt)}`, sql.literal("run_at"))},
        retries_error_count = ${unlessCancelled(sql`${int(s.retriesErrorCount)}`, sql.literal("retries_error_count"))},
        retries_timeout_count = ${unlessCancelled(sql`${int(s.retriesTimeoutCount)}`, sql.literal("retries_timeout_count"))},
        error = ${s.error}`
      ),
    snoozedSet: (s) =>
      requeuedSet(
        sql`run_at = ${unlessCancelled(sql`${int(s.runAt)}`, sql.literal("run_at"))},
        snooze_count = ${unlessCancelled(sql.literal("snooze_count + 1"), sql.literal("snooze_count"))}`
      ),
    insertColumns: sql.literal(insertColumns),
    insertValues: (run) => valuesRow(sql, now, run)
  }
}
