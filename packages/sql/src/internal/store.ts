/**
 * The operations of docs/STORE.md on SQL, shared by every dialect. Only what
 * truly differs (the clock expression, conflict clauses, how an UPDATE
 * reports its rows, transient errors, wake-ups) comes from the `Dialect`.
 *
 * Every comparison with "now" and every time stamp uses the database clock
 * (`dialect.now`) inside the statement itself. Every value is a bound
 * parameter; identifiers come only from the validated table prefix.
 *
 * @internal
 */

import { randomUUID } from "node:crypto"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Fragment } from "@effect/sql/Statement"
import { JobStore, JobsSError } from "@jobss/core"
import { Effect, Either, Option, Schedule } from "effect"
import { type Dialect, type Row, heldPairs, inList, messageOf, powerOfTwoSizes } from "./dialect.js"
import { isTransient } from "./driverError.js"
import * as rows from "./rows.js"

type JobStoreShape = JobStore.JobStoreShape
type NewRun = JobStore.NewRun
type Settlement = JobStore.Settlement
type InstanceCounters = JobStore.InstanceCounters

/** Rows per INSERT statement: 500 rows x 20 parameters stays far below every dialect's limit (SQLite: 32766). */
const insertChunkRows = 500
/** Rows per INSERT statement on PostgreSQL, which binds one array per column whatever the row count. */
const unnestChunkRows = 10_000
/** Bytes of arguments per INSERT statement (MySQL's default max_allowed_packet is 16 MiB; args may be 1 MiB each). */
const insertChunkBytes = 4 * 1024 * 1024
/** Values per IN list (ids, claims, unique names). */
const listChunk = 1000
/** Settlements per batched UPDATE (3 parameters each). */
const settleChunk = 300
/** Rounds of insert for unique names whose holder ended while we looked. */
const insertRounds = 5
/** Rounds of cancel while the run moves between states under our feet. */
const cancelRounds = 5

const retryTransient = Schedule.exponential("10 millis").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(5)))

const chunksOf = <A>(items: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> => {
  const chunks: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  return chunks
}

/** Insert batches bounded by row count and by argument bytes (and of power-of-two sizes, if asked). */
const insertChunks = (
  runs: ReadonlyArray<NewRun>,
  maxRows: number,
  powersOfTwo: boolean
): ReadonlyArray<ReadonlyArray<NewRun>> =>
  powersOfTwo ? boundedChunks(runs, maxRows).flatMap(splitPowersOfTwo) : boundedChunks(runs, maxRows)

const splitPowersOfTwo = <A>(items: ReadonlyArray<A>): ReadonlyArray<ReadonlyArray<A>> => {
  const pieces: Array<ReadonlyArray<A>> = []
  let start = 0
  for (const size of powerOfTwoSizes(items.length)) {
    pieces.push(items.slice(start, start + size))
    start += size
  }
  return pieces
}

const boundedChunks = (runs: ReadonlyArray<NewRun>, maxRows: number): Array<ReadonlyArray<NewRun>> => {
  const chunks: Array<ReadonlyArray<NewRun>> = []
  let current: Array<NewRun> = []
  let bytes = 0
  for (const run of runs) {
    const size = run.args.length * 3 + 512
    if (current.length > 0 && (current.length >= maxRows || bytes + size > insertChunkBytes)) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(run)
    bytes += size
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

/** The row id inside a claim token made by `claimOf` (a UUID has no colon). */
const claimedId = (claim: string): string => claim.slice(claim.indexOf(":") + 1)

/** Milliseconds and counters are integers in every table. */
const int = (n: number): number => Math.round(n)
const intOrNull = (n: number | null): number | null => (n === null ? null : Math.round(n))

/** Maps any failure of an operation to a `JobStoreError` naming it, transient unless the driver says otherwise. */
const storeError =
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
const decodeAll =
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

/** The `JobStoreShape` over a dialect. */
export const make = (dialect: Dialect): JobStoreShape => {
  const { sql, tables: t, now } = dialect
  const runs = sql(t.runs)
  const instancesTable = sql(t.instances)
  const historyTable = sql(t.history)

  /** Error mapping, defects included (a failed COMMIT is a defect in @effect/sql), and a span. */
  const operation =
    (name: string) =>
    <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, JobsSError.JobStoreError> =>
      effect.pipe(
        Effect.mapError(storeError(name)),
        Effect.catchAllDefect((defect) => Effect.fail(storeError(name)(defect))),
        // no stack trace: it would point into the store, and capturing one costs more than a small claim's decoding
        Effect.withSpan(`SqlStore.${name}`, { captureStackTrace: false })
      )

  /**
   * One statement or transaction, retried on deadlocks and busy databases, unless it runs inside
   * the caller's transaction (which the failure has already doomed or rolled back).
   */
  const unit = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (transaction) =>
      Option.isSome(transaction)
        ? effect
        : Effect.retry(effect, { schedule: retryTransient, while: (error) => dialect.isTransient(error) })
    )

  const affected = <E>(statement: Effect.Effect<unknown, E>): Effect.Effect<number, E> =>
    Effect.map(unit(statement), dialect.affectedRows)

  // -------------------------------------------------------------------------------------------
  // Fragments

  /** A listed job, and no schedule or a listed one (claim, nextDue, reap, waiting). */
  const claimable = (jobs: ReadonlyArray<string>, schedules: ReadonlyArray<string>): Fragment =>
    sql`${inList(sql, "job", jobs)} AND (schedule IS NULL OR ${inList(sql, "schedule", schedules)})`

  const fence = (id: string, claim: string): Fragment => sql`id = ${id} AND claim = ${claim} AND status = 'running'`

  /** The random part of a batch's claim tokens, with the colon that precedes each row's id. */
  const claimToken = (): string => `${randomUUID()}:`

  /** A claim token per row: the batch's `token`, then the row's id (see `claimedId`). */
  const claimOf = (token: string): Fragment => dialect.concat(sql`${token}`, sql.literal("id"))

  const releaseHold = sql.literal("claim = NULL, unique_key = NULL, lease_until = NULL")

  const succeededSet = sql`status = 'succeeded', run_success_count = run_success_count + 1, error = NULL, finished_at = ${now}, ${releaseHold}`
  const failedSet = (error: string | null) =>
    sql`status = 'failed', error = ${error}, finished_at = ${now}, ${releaseHold}`
  const cancelledSet = sql`status = 'cancelled', finished_at = ${now}, ${releaseHold}`
  const releasedSet = sql.literal(
    "status = 'pending', run_total_count = run_total_count - 1, claim = NULL, lease_until = NULL, timeout_at = NULL"
  )
  const retrySet = (s: Extract<Settlement, { _tag: "Retry" }>) =>
    sql`status = 'pending', run_at = ${int(s.runAt)}, retries_error_count = ${int(s.retriesErrorCount)},
      retries_timeout_count = ${int(s.retriesTimeoutCount)}, error = ${s.error},
      claim = NULL, lease_until = NULL, timeout_at = NULL`

  const insertColumns = sql.literal(
    "(id, origin_id, occurrence, job, args, unique_name, unique_key, schedule, status, run_at, run_total_count, " +
      "run_success_count, run_success_limit, run_timeout_ms, retries_error_count, retries_error_limit, " +
      "retries_timeout_count, retries_timeout_limit, created_at, created_by, cancel_requested, trace_context)"
  )
  const insertValues = (r: NewRun): Fragment =>
    sql`(${r.id}, ${r.originId}, ${int(r.occurrence)}, ${r.job}, ${r.args}, ${r.uniqueName}, ${r.uniqueName},
      ${r.schedule}, 'pending', ${int(r.runAt)}, ${int(r.runTotalCount)}, ${int(r.runSuccessCount)},
      ${intOrNull(r.runSuccessLimit)}, ${int(r.runTimeoutMs)}, ${int(r.retriesErrorCount)},
      ${int(r.retriesErrorLimit)}, ${int(r.retriesTimeoutCount)}, ${int(r.retriesTimeoutLimit)},
      COALESCE(${intOrNull(r.createdAt)}, ${now}), ${r.createdBy}, 0, ${r.traceContext})`

  /**
   * PostgreSQL: the rows as one bound array per column, unnested: one statement text (and a plan made in
   * microseconds) for any batch size, where a VALUES list of 22 parameters per row took longer to parse
   * and plan than to insert.
   */
  const unnestedRows = (chunk: ReadonlyArray<NewRun>): Fragment => {
    const column = <A>(value: (r: NewRun) => A): ReadonlyArray<A> => chunk.map(value)
    return sql`SELECT x.id, x.origin_id, x.occurrence, x.job, x.args, x.unique_name, x.unique_name, x.schedule,
      'pending', x.run_at, x.run_total_count, x.run_success_count, x.run_success_limit, x.run_timeout_ms,
      x.retries_error_count, x.retries_error_limit, x.retries_timeout_count, x.retries_timeout_limit,
      COALESCE(x.created_at, ${now}), x.created_by, 0, x.trace_context
      FROM unnest(${column((r) => r.id)}::text[], ${column((r) => r.originId)}::text[],
        ${column((r) => int(r.occurrence))}::integer[], ${column((r) => r.job)}::text[], ${column((r) => r.args)}::text[],
        ${column((r) => r.uniqueName)}::text[], ${column((r) => r.schedule)}::text[], ${column((r) => int(r.runAt))}::bigint[],
        ${column((r) => int(r.runTotalCount))}::integer[], ${column((r) => int(r.runSuccessCount))}::integer[],
        ${column((r) => intOrNull(r.runSuccessLimit))}::integer[], ${column((r) => int(r.runTimeoutMs))}::bigint[],
        ${column((r) => int(r.retriesErrorCount))}::integer[], ${column((r) => int(r.retriesErrorLimit))}::integer[],
        ${column((r) => int(r.retriesTimeoutCount))}::integer[], ${column((r) => int(r.retriesTimeoutLimit))}::integer[],
        ${column((r) => intOrNull(r.createdAt))}::bigint[], ${column((r) => r.createdBy)}::text[],
        ${column((r) => r.traceContext)}::text[])
      AS x(id, origin_id, occurrence, job, args, unique_name, schedule, run_at, run_total_count, run_success_count,
        run_success_limit, run_timeout_ms, retries_error_count, retries_error_limit, retries_timeout_count,
        retries_timeout_limit, created_at, created_by, trace_context)`
  }

  /** The rows of an INSERT INTO runs: unnested arrays for several rows on PostgreSQL, a VALUES list otherwise (one row: a little faster). */
  const insertRows = (chunk: ReadonlyArray<NewRun>): Fragment =>
    dialect.name === "pg" && chunk.length > 1 ? unnestedRows(chunk) : sql`VALUES ${sql.csv(chunk.map(insertValues))}`

  // -------------------------------------------------------------------------------------------
  // Clock

  const storeNow: Effect.Effect<number, JobsSError.JobStoreError> = unit(sql<Row>`SELECT ${now} AS now_ms`).pipe(
    Effect.flatMap((result) => {
      const value = rows.toNumber(result[0]?.["now_ms"])
      return value === undefined
        ? Effect.fail(new JobsSError.JobStoreError({ message: "SqlStore.now: the database returned no time" }))
        : Effect.succeed(value)
    }),
    operation("now")
  )

  // -------------------------------------------------------------------------------------------
  // insert

  const duplicateIdError = (ids: Iterable<string>) =>
    new JobsSError.JobStoreError({ message: `SqlStore.insert failed: duplicate run id ${[...ids].join(", ")}` })

  /** Ids of the batch that exist already (or twice in the batch). */
  const duplicateIds = (batch: ReadonlyArray<NewRun>, inDatabase: boolean) =>
    Effect.gen(function* () {
      const seen = new Set<string>()
      const duplicates = new Set<string>()
      for (const run of batch) {
        if (seen.has(run.id)) duplicates.add(run.id)
        seen.add(run.id)
      }
      if (inDatabase) for (const id of yield* existingIds([...seen])) duplicates.add(id)
      return duplicates
    })

  /** An INSERT that failed on a duplicate id says which (when the database can still be asked). */
  const explainInsertFailure = (batch: ReadonlyArray<NewRun>) => (error: unknown) =>
    duplicateIds(batch, true).pipe(
      Effect.orElseSucceed(() => new Set<string>()),
      Effect.flatMap((duplicates) => Effect.fail(duplicates.size > 0 ? duplicateIdError(duplicates) : error))
    )

  const insertStatements = (batch: ReadonlyArray<NewRun>) => {
    const chunks = insertChunks(
      batch,
      dialect.name === "pg" ? unnestChunkRows : insertChunkRows,
      dialect.preparesStatements
    )
    const statements = Effect.forEach(
      chunks,
      (chunk) => sql`INSERT INTO ${runs} ${insertColumns} ${insertRows(chunk)} ${dialect.onUniqueKeyConflictIgnore}`,
      { discard: true }
    )
    // A batch of several statements is written all or nothing.
    return unit(chunks.length > 1 ? sql.withTransaction(statements) : statements).pipe(
      Effect.catchAll(explainInsertFailure(batch))
    )
  }

  /** The active holder (`id`, `origin_id`) of each unique name. */
  const holders = (names: ReadonlyArray<string>) =>
    Effect.map(
      Effect.forEach(chunksOf(names, listChunk), (chunk) =>
        unit(sql<Row>`SELECT id, origin_id, unique_key FROM ${runs} WHERE ${inList(sql, "unique_key", chunk)}`)
      ),
      (results) => new Map(results.flat().map((row) => [String(row["unique_key"]), row] as const))
    )

  const existingIds = (ids: ReadonlyArray<string>) =>
    Effect.map(
      Effect.forEach(chunksOf(ids, listChunk), (chunk) =>
        unit(sql<Row>`SELECT id FROM ${runs} WHERE ${inList(sql, "id", chunk)}`)
      ),
      (results) => new Set(results.flat().map((row) => String(row["id"])))
    )

  /** Inserts, skipping rows whose unique name is held; then learns, per unique run, who holds it. */
  const insertRound = (batch: ReadonlyArray<NewRun>) =>
    Effect.gen(function* () {
      yield* insertStatements(batch)
      const unique = batch.filter((run) => run.uniqueName !== null)
      const held = yield* holders([...new Set(unique.map((run) => run.uniqueName!))])
      const results = new Map<string, JobStore.InsertResult>()
      const unresolved: Array<NewRun> = []
      for (const run of unique) {
        const holder = held.get(run.uniqueName!)
        if (holder === undefined) unresolved.push(run)
        else if (holder["id"] === run.id) results.set(run.id, { originId: run.originId, inserted: true })
        else results.set(run.id, { originId: String(holder["origin_id"]), inserted: false })
      }
      // No holder: ours was inserted and has already ended, or the holder that refused it has ended.
      const inserted = yield* existingIds(unresolved.map((run) => run.id))
      for (const run of unresolved) {
        if (inserted.has(run.id)) results.set(run.id, { originId: run.originId, inserted: true })
      }
      return { results, retry: unresolved.filter((run) => !inserted.has(run.id)) }
    })

  const insert = (batch: ReadonlyArray<NewRun>) =>
    Effect.gen(function* () {
      if (batch.length === 0) return []
      // MySQL's ON DUPLICATE KEY would swallow a duplicate id: look for them first there.
      const duplicates = yield* duplicateIds(batch, dialect.ignoresDuplicateIds)
      if (duplicates.size > 0) return yield* duplicateIdError(duplicates)
      const results = new Map<string, JobStore.InsertResult>()
      let pending: ReadonlyArray<NewRun> = batch
      for (let round = 0; round < insertRounds && pending.length > 0; round++) {
        const outcome = yield* insertRound(pending)
        for (const [id, result] of outcome.results) results.set(id, result)
        pending = outcome.retry
      }
      if (pending.length > 0) {
        return yield* new JobsSError.JobStoreError({
          message: `SqlStore.insert failed: the unique names of ${pending.length} runs kept changing hands`
        })
      }
      return batch.map(
        (run): JobStore.InsertResult => results.get(run.id) ?? { originId: run.originId, inserted: true }
      )
    }).pipe(operation("insert"))

  // -------------------------------------------------------------------------------------------
  // claim, reap

  /** Fails rows the runtime cannot be given (they would come back forever otherwise). */
  const failMalformed = (row: Row, problem: string) => {
    const id = rows.textColumn(row, "id")
    const claim = rows.textColumn(row, "claim")
    const message = `malformed row: ${problem}`
    return Effect.logWarning(`SqlStore: run ${id} ends failed, ${message}`).pipe(
      Effect.zipRight(
        id === undefined || claim === undefined
          ? Effect.void
          : affected(sql`UPDATE ${runs} SET ${failedSet(message)} WHERE ${fence(id, claim)}`.raw)
      )
    )
  }

  const decodeTaken = (taken: ReadonlyArray<Row>) =>
    Effect.gen(function* () {
      const decoded: Array<JobStore.ClaimedRun> = []
      for (const row of taken) {
        const run = rows.decodeClaimed(row)
        if (Either.isRight(run)) decoded.push(run.right)
        else yield* failMalformed(row, run.left)
      }
      return decoded.sort((a, b) => a.runAt - b.runAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    })

  const claim = (request: JobStore.ClaimRequest) =>
    Effect.gen(function* () {
      const limit = Math.floor(request.limit)
      if (request.jobs.length === 0 || limit <= 0) return []
      const leaseMs = int(request.leaseMs)
      const token = claimToken()
      const due = sql`status = 'pending' AND run_at <= ${now} AND ${claimable(request.jobs, request.schedules)}`
      const set = (at: Fragment) =>
        sql`status = 'running', claim = ${claimOf(token)}, started_at = ${at}, started_by = ${request.instanceId},
          lease_until = ${at} + ${leaseMs}, timeout_at = CASE WHEN run_timeout_ms = 0 THEN NULL ELSE ${at} + run_timeout_ms END,
          run_total_count = run_total_count + 1`
      const taken = yield* unit(
        dialect.claim !== undefined
          ? dialect.claim({ ...request, due, set, limit, leaseMs, token })
          : dialect.updateReturning({
              where: due,
              pick: { orderBy: sql.literal("run_at, id"), limit },
              set: set(now),
              returning: "row"
            })
      )
      return yield* decodeTaken(taken)
    }).pipe(operation("claim"))

  const reap = (request: JobStore.ReapRequest) =>
    Effect.gen(function* () {
      const limit = Math.floor(request.limit)
      if (request.jobs.length === 0 || limit <= 0) return []
      const leaseMs = int(request.leaseMs)
      const graceMs = int(request.graceMs)
      const taken = yield* unit(
        dialect.updateReturning({
          where: sql`status = 'running' AND ${claimable(request.jobs, request.schedules)}
            AND (lease_until < ${now} OR timeout_at < ${now} - ${graceMs})`,
          pick: { orderBy: sql.literal("run_at, id"), limit },
          set: sql`claim = ${claimOf(claimToken())}, lease_until = ${now} + ${leaseMs}`,
          returning: "row"
        })
      )
      const claimed = yield* decodeTaken(taken)
      return claimed.map((run): JobStore.ReapedRun => {
        // The update set lease_until = now + leaseMs on the database clock: that gives its "now".
        const at = (run.leaseUntil ?? 0) - leaseMs
        const timedOut = run.timeoutAt !== null && run.timeoutAt + graceMs < at
        return { ...run, reason: timedOut ? "timeout" : "lease" }
      })
    }).pipe(operation("reap"))

  const nextDue = (jobs: ReadonlyArray<string>, schedules: ReadonlyArray<string>) =>
    unit(
      sql<Row>`SELECT ${now} AS now_ms, (SELECT MIN(run_at) FROM ${runs}
        WHERE status = 'pending' AND ${claimable(jobs, schedules)}) AS next_run_at`
    ).pipe(
      Effect.flatMap((result) => {
        const row = result[0]
        const at = rows.toNumber(row?.["now_ms"])
        const next = row?.["next_run_at"]
        if (at === undefined) {
          return Effect.fail(
            new JobsSError.JobStoreError({ message: "SqlStore.nextDue: the database returned no time" })
          )
        }
        return Effect.succeed({
          now: at,
          nextRunAt: next === null || next === undefined ? null : (rows.toNumber(next) ?? null)
        })
      }),
      operation("nextDue")
    )

  // -------------------------------------------------------------------------------------------
  // settle

  const historyInto = sql`${historyTable} (origin_id, run_id, occurrence, job, attempt, started_by, started_at,
    finished_at, outcome, error)`

  /**
   * The history row of each settled row, read after the update: a released attempt gave its
   * number back, and a final one has its `finished_at`.
   */
  const historySelect = (s: Settlement): Fragment =>
    sql`origin_id, id, occurrence, job, ${sql.literal(s._tag === "Released" ? "run_total_count + 1" : "run_total_count")},
      COALESCE(started_by, ''), COALESCE(started_at, ${now}), COALESCE(finished_at, ${now}),
      ${JobStore.attemptOutcome(s)}, ${JobStore.attemptError(s)}`

  /** A fenced UPDATE of settlements sharing one SET list and history label, recording their attempts; the ids whose fence held. */
  const settleRecorded = (batch: ReadonlyArray<Settlement>, set: Fragment) =>
    Effect.map(
      Effect.forEach(chunksOf(batch, settleChunk), (chunk) =>
        dialect.updateRecording({
          where:
            chunk.length === 1
              ? fence(chunk[0]!.id, chunk[0]!.claim)
              : sql`status = 'running' AND ${heldPairs(sql, dialect.name, chunk)}`,
          set,
          into: historyInto,
          select: historySelect(chunk[0]!),
          ids: chunk.map((s) => s.id)
        })
      ),
      (results) => new Set(results.flat().map((row) => String(row["id"])))
    )

  /** The SET list of a settlement (a `Next` ends its occurrence). */
  const setOf = (s: Settlement): Fragment => {
    switch (s._tag) {
      case "Succeeded":
        return succeededSet
      case "Failed":
        return failedSet(s.error)
      case "Cancelled":
        return cancelledSet
      case "Retry":
        return retrySet(s)
      case "Released":
        return releasedSet
      case "Next":
        return s.outcome === "succeeded"
          ? succeededSet
          : s.outcome === "failed"
            ? failedSet(s.error)
            : sql`${cancelledSet}, error = ${s.error}`
    }
  }

  /** `Next`: this occurrence ends (its attempt recorded) and the next one is inserted, in one transaction, when the fence holds. */
  const settleNext = (s: Extract<Settlement, { _tag: "Next" }>) =>
    dialect.transaction(
      Effect.gen(function* () {
        // The fenced UPDATE comes first: on SQLite the transaction takes the write lock at once.
        const ended = yield* settleRecorded([s], setOf(s))
        if (ended.size === 0) return false
        yield* sql`INSERT INTO ${runs} ${insertColumns} VALUES ${insertValues(s.next)}`
        return true
      })
    )

  const settle = (settlements: ReadonlyArray<Settlement>) =>
    Effect.gen(function* () {
      const results: Array<boolean> = settlements.map(() => false)
      // Settlements with one SET list and one history label (no error) share a statement.
      const batches = new Map<string, Array<number>>()
      const singles: Array<number> = []
      const batchedIds = new Set<string>()
      settlements.forEach((s, index) => {
        if ((s._tag === "Succeeded" || s._tag === "Cancelled" || s._tag === "Released") && !batchedIds.has(s.id)) {
          batchedIds.add(s.id)
          const key = `${s._tag}:${JobStore.attemptOutcome(s)}`
          const batch = batches.get(key) ?? []
          batch.push(index)
          batches.set(key, batch)
        } else {
          singles.push(index)
        }
      })
      // Next first: a failing insert (duplicate id) then fails the call before anything else is written.
      singles.sort((a, b) => Number(settlements[b]!._tag === "Next") - Number(settlements[a]!._tag === "Next"))
      for (const index of singles) {
        const s = settlements[index]!
        results[index] =
          s._tag === "Next" ? yield* unit(settleNext(s)) : (yield* unit(settleRecorded([s], setOf(s)))).has(s.id)
      }
      for (const indexes of batches.values()) {
        const batch = indexes.map((index) => settlements[index]!)
        const held = yield* unit(settleRecorded(batch, setOf(batch[0]!)))
        for (const index of indexes) results[index] = held.has(settlements[index]!.id)
      }
      return results
    }).pipe(operation("settle"))

  // -------------------------------------------------------------------------------------------
  // extend, cancel, get, waiting

  const extend = (instanceId: string, claims: ReadonlyArray<string>, leaseMs: number) =>
    Effect.gen(function* () {
      const held: Array<JobStore.HeldRun> = []
      for (const chunk of chunksOf(claims, listChunk)) {
        const updated = yield* unit(
          dialect.updateReturning({
            // by primary key first: MySQL's locking read then locks these rows only
            where: sql`${inList(sql, "id", chunk.map(claimedId))} AND ${inList(sql, "claim", chunk)}
              AND status = 'running' AND started_by = ${instanceId}`,
            set: sql`lease_until = ${now} + ${int(leaseMs)}`,
            returning: ["claim", "cancel_requested"]
          })
        )
        for (const row of updated) {
          const decoded = rows.decodeHeld(row)
          if (Either.isLeft(decoded)) {
            return yield* new JobsSError.JobStoreError({ message: `SqlStore.extend failed: ${decoded.left}` })
          }
          held.push(decoded.right)
        }
      }
      return held
    }).pipe(operation("extend"))

  const cancelOnce = (originId: string) =>
    Effect.gen(function* () {
      const cancelled = yield* affected(
        sql`UPDATE ${runs} SET ${cancelledSet} WHERE origin_id = ${originId} AND status = 'pending'`.raw
      )
      if (cancelled > 0) return "cancelled" as const
      const requested = yield* affected(
        sql`UPDATE ${runs} SET cancel_requested = 1 WHERE origin_id = ${originId} AND status = 'running'`.raw
      )
      if (requested > 0) return "requested" as const
      const [latest] = yield* unit(
        sql<Row>`SELECT status FROM ${runs} WHERE origin_id = ${originId} ORDER BY occurrence DESC LIMIT 1`
      )
      if (latest === undefined) return "notFound" as const
      // Active again (released, or its next occurrence inserted) between our statements: look again.
      return latest["status"] === "pending" || latest["status"] === "running" ? undefined : ("finished" as const)
    })

  const cancel = (originId: string) =>
    Effect.gen(function* () {
      for (let round = 0; round < cancelRounds; round++) {
        const result = yield* cancelOnce(originId)
        if (result !== undefined) return result
      }
      return yield* new JobsSError.JobStoreError({
        message: `SqlStore.cancel failed: run ${originId} kept changing state`
      })
    }).pipe(operation("cancel"))

  const get = (originId: string) =>
    unit(sql<Row>`SELECT * FROM ${runs} WHERE origin_id = ${originId} ORDER BY occurrence DESC LIMIT 1`).pipe(
      Effect.flatMap(([row]) => {
        if (row === undefined) return Effect.succeed(undefined)
        const run = rows.decodeRun(row)
        return Either.isRight(run)
          ? Effect.succeed(run.right)
          : Effect.fail(
              new JobsSError.JobStoreError({ message: `SqlStore.get failed: malformed row ${row["id"]}: ${run.left}` })
            )
      }),
      operation("get")
    )

  const history = (originId: string) =>
    unit(sql<Row>`SELECT * FROM ${historyTable} WHERE origin_id = ${originId} ORDER BY seq`).pipe(
      Effect.flatMap(decodeAll("history", (row) => `malformed attempt ${row["seq"]}`, rows.decodeAttempt)),
      operation("history")
    )

  // -------------------------------------------------------------------------------------------
  // prune, pendingCounts

  /** Finished rows past their status's retention (on the database clock). */
  const expired = (keepMs: JobStore.PruneRequest["keepMs"]): Fragment => {
    const statuses = (["succeeded", "failed", "cancelled"] as const).flatMap((status) => {
      const keep = keepMs[status]
      return keep === null ? [] : [sql`(status = ${status} AND finished_at < ${now} - ${int(keep)})`]
    })
    return statuses.length === 0 ? sql.literal("1 = 0") : sql.or(statuses)
  }

  const prune = (request: JobStore.PruneRequest) =>
    Effect.gen(function* () {
      const limit = Math.floor(request.limit)
      if (limit <= 0) return 0
      const deleted = yield* unit(
        dialect.transaction(
          Effect.gen(function* () {
            const gone = yield* dialect.deleteReturning({
              where: expired(request.keepMs),
              pick: { orderBy: sql.literal("finished_at, id"), limit }
            })
            for (const chunk of chunksOf(
              gone.map((row) => row["id"]),
              listChunk
            )) {
              yield* sql`DELETE FROM ${historyTable} WHERE ${inList(sql, "run_id", chunk)}`
            }
            return gone.length
          })
        )
      )
      return deleted
    }).pipe(operation("prune"))

  const pendingCounts = unit(
    sql<Row>`SELECT job, COUNT(*) AS pending FROM ${runs} WHERE status = 'pending' GROUP BY job`
  ).pipe(
    Effect.flatMap(decodeAll("pendingCounts", (row) => `malformed count of ${row["job"]}`, rows.decodePendingCount)),
    operation("pendingCounts")
  )

  const waiting = (liveWithinMs: number) =>
    Effect.gen(function* () {
      const live = yield* unit(
        sql<Row>`SELECT jobs, schedules FROM ${instancesTable}
          WHERE shutdown_at IS NULL AND last_seen_at >= ${now} - ${int(liveWithinMs)}`
      )
      const jobs = new Set<string>()
      const schedules = new Set<string>()
      for (const row of live) {
        const lists = rows.decodeLists(row)
        if (Either.isRight(lists)) {
          for (const job of lists.right.jobs) jobs.add(job)
          for (const schedule of lists.right.schedules) schedules.add(schedule)
        }
      }
      const pending = yield* unit(
        sql<Row>`SELECT id, origin_id, job, schedule, run_at FROM ${runs}
          WHERE status = 'pending' AND NOT (${claimable([...jobs], [...schedules])}) ORDER BY run_at, id`
      )
      const result: Array<JobStore.WaitingRun> = []
      for (const row of pending) {
        const decoded = rows.decodeWaiting(row)
        if (Either.isRight(decoded)) result.push(decoded.right)
      }
      return result
    }).pipe(operation("waiting"))

  // -------------------------------------------------------------------------------------------
  // instances

  const registerInstance = (instance: JobStore.InstanceInfo) =>
    unit(
      sql`INSERT INTO ${instancesTable} (id, name, workers, jobs, schedules, poll_interval_ms, poll_limit,
        started_at, last_seen_at, shutdown_at, runs_started, runs_succeeded, runs_rescheduled, runs_timed_out,
        runs_resurrected, runs_errors)
      VALUES (${instance.id}, ${instance.name}, ${int(instance.workers)}, ${JSON.stringify(instance.jobs)},
        ${JSON.stringify(instance.schedules)}, ${int(instance.pollIntervalMs)}, ${int(instance.pollLimit)},
        ${now}, ${now}, NULL, 0, 0, 0, 0, 0, 0)
      ${dialect.onConflictReplace("id", instanceReplaced)}`
    ).pipe(Effect.asVoid, operation("registerInstance"))

  const countersSet = (c: InstanceCounters): Fragment =>
    sql`runs_started = ${int(c.runsStarted)}, runs_succeeded = ${int(c.runsSucceeded)},
      runs_rescheduled = ${int(c.runsRescheduled)}, runs_timed_out = ${int(c.runsTimedOut)},
      runs_resurrected = ${int(c.runsResurrected)}, runs_errors = ${int(c.runsErrors)}, last_seen_at = ${now}`

  const touchInstance = (id: string, counters: InstanceCounters) =>
    unit(sql`UPDATE ${instancesTable} SET ${countersSet(counters)} WHERE id = ${id}`).pipe(
      Effect.asVoid,
      operation("touchInstance")
    )

  const shutdownInstance = (id: string, counters: InstanceCounters) =>
    unit(sql`UPDATE ${instancesTable} SET ${countersSet(counters)}, shutdown_at = ${now} WHERE id = ${id}`).pipe(
      Effect.asVoid,
      operation("shutdownInstance")
    )

  const instances = unit(sql<Row>`SELECT * FROM ${instancesTable} ORDER BY started_at, id`).pipe(
    Effect.flatMap(decodeAll("instances", (row) => `malformed instance ${row["id"]}`, rows.decodeInstance)),
    operation("instances")
  )

  return {
    now: storeNow,
    insert,
    claim,
    nextDue,
    settle,
    extend,
    reap,
    cancel,
    get,
    history,
    prune,
    pendingCounts,
    waiting,
    registerInstance,
    touchInstance,
    shutdownInstance,
    instances,
    wakeups: dialect.wakeups
  }
}

/** Every instance column but the key, replaced when an instance registers again. */
const instanceReplaced: ReadonlyArray<string> = [
  "name",
  "workers",
  "jobs",
  "schedules",
  "poll_interval_ms",
  "poll_limit",
  "started_at",
  "last_seen_at",
  "shutdown_at",
  "runs_started",
  "runs_succeeded",
  "runs_rescheduled",
  "runs_timed_out",
  "runs_resurrected",
  "runs_errors"
]
