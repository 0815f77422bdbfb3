/**
 * The clock, `claim` (due runs, through the dialect's claim), `reap` (started
 * runs whose lease or timeout passed, taken over with a new claim; runs whose
 * lease passed before they started, given back) and `nextDue`.
 * A claimed row that does not decode ends failed rather than coming back.
 *
 * @internal
 */
import type { Fragment } from "@effect/sql/Statement"
import { JobStore, JobsSError } from "@jobss/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { Row } from "../dialect.js"
import * as rows from "../rows.js"
import { inList, int } from "../sqlValues.js"
import type { StoreContext } from "./context.js"
import { claimQueued } from "./queueClaim.js"

/** The store's clock, `claim`, `reap` and `nextDue`. */
export const make = (ctx: StoreContext): Pick<JobStore.JobStoreShape, "now" | "claim" | "reap" | "nextDue"> => {
  const {
    dialect,
    sql,
    now,
    runs,
    unit,
    affected,
    operation,
    claimable,
    fence,
    failedSet,
    chargedOnTakeover,
    givenBackSet
  } = ctx

  // on the heartbeat's connection: a round trip never spent waiting for the pool, so the clock offset holds
  const storeNow: Effect.Effect<number, JobsSError.JobStoreError> = ctx.ownConnection
    .run(unit(sql<Row>`SELECT ${now} AS now_ms`))
    .pipe(
      Effect.flatMap((result) => {
        const value = rows.toNumber(result[0]?.["now_ms"])
        return value === undefined
          ? Effect.fail(new JobsSError.JobStoreError({ message: "SqlStore.now: the database returned no time" }))
          : Effect.succeed(value)
      }),
      operation("now")
    )

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
      return decoded.sort(
        (a, b) => a.priority - b.priority || a.runAt - b.runAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
      )
    })

  const claim = (request: JobStore.ClaimRequest) =>
    Effect.gen(function* () {
      const limit = Math.floor(request.limit)
      if (request.jobs.length === 0 || limit <= 0) return []
      const leaseMs = int(request.leaseMs)
      const prefix = JobStore.ClaimToken.prefix(request.instanceId)
      const due = sql`status = 'pending' AND run_at <= ${now} AND ${claimable(request.jobs, request.schedules)}`
      const set = (at: Fragment) =>
        sql`status = 'running', claim = ${dialect.claimTokens(prefix)}, started_at = ${at}, started_by = ${request.instanceId},
          lease_until = ${at} + ${leaseMs}, timeout_at = CASE WHEN run_timeout_ms = 0 THEN NULL ELSE ${at} + run_timeout_ms END,
          run_total_count = run_total_count + 1`
      const queues = request.queues ?? []
      const queued = dialect.queuedClaim
      const taken =
        queues.length === 0
          ? yield* unit(dialect.claim({ ...request, due: sql`${due} AND queue IS NULL`, set, limit, leaseMs, prefix }))
          : queued._tag === "Statement"
            ? yield* unit(
                queued.claim({
                  ...request,
                  due,
                  set,
                  limit,
                  leaseMs,
                  prefix,
                  queues,
                  owned: JobStore.ClaimToken.owned(request.instanceId)
                })
              )
            : yield* unit(
                dialect.transaction(
                  claimQueued(ctx, queued, { instanceId: request.instanceId, due, set, limit, queues })
                )
              )
      return yield* decodeTaken(taken)
    }).pipe(operation("claim"))

  const reap = (request: JobStore.ReapRequest) =>
    Effect.gen(function* () {
      const limit = Math.floor(request.limit)
      if (request.jobs.length === 0 || limit <= 0) return { taken: [], givenBack: [] }
      const leaseMs = int(request.leaseMs)
      const graceMs = int(request.graceMs)
      const mine = sql`status = 'running' AND ${claimable(request.jobs, request.schedules)}`
      // never started (buffered, or its start not reported yet): pending again, the attempt given back,
      // nothing recorded, once per attempt (marked); no fence needed, as the expired claim's settlements
      // no longer match
      const back = yield* unit(
        dialect.updateReturning({
          where: sql`${mine} AND lease_until < ${now} AND NOT ${chargedOnTakeover}`,
          pick: { orderBy: sql.literal("run_at, id"), limit },
          set: givenBackSet,
          returning: ["origin_id", "job", "started_by"]
        })
      )
      const givenBack = back.map(
        (row): JobStore.GivenBackRun => ({
          id: String(row["id"]),
          originId: String(row["origin_id"]),
          job: String(row["job"]),
          startedBy: row["started_by"] === null || row["started_by"] === undefined ? null : String(row["started_by"])
        })
      )
      // a run times out only once started (its timeout counts from the start the heartbeat reported),
      // or once given back unstarted before
      const taken = yield* unit(
        dialect.updateReturning({
          where: sql`${mine} AND ${chargedOnTakeover} AND (lease_until < ${now} OR timeout_at < ${now} - ${graceMs})`,
          pick: { orderBy: sql.literal("run_at, id"), limit },
          set: sql`claim = ${dialect.claimTokens(JobStore.ClaimToken.prefix(request.instanceId))}, lease_until = ${now} + ${leaseMs}`,
          returning: "row"
        })
      )
      const claimed = yield* decodeTaken(taken)
      return {
        givenBack,
        taken: claimed.map((run): JobStore.ReapedRun => {
          // The update set lease_until = now + leaseMs on the database clock: that gives its "now".
          const at = (run.leaseUntil ?? 0) - leaseMs
          const timedOut = run.timeoutAt !== null && run.timeoutAt + graceMs < at
          return { ...run, reason: timedOut ? "timeout" : "lease" }
        })
      }
    }).pipe(operation("reap"))

  const starts = sql(dialect.tables.queueStarts)
  const queuesTable = sql(dialect.tables.queues)
  /**
   * A due run of a queue that the last claim left waits on a limit: a slot, the window or a resume
   * wakes it, so only the queues' runs due later count (read apart from the runs in no queue: in one
   * condition with an OR, the database reads every pending run of the queues). The window of a
   * rate-limited queue with due runs frees a slot when its oldest start leaves it. An instance that
   * claims no queue's runs reads neither (PostgreSQL plans the statement at each call, and the
   * queues' parts more than doubled that).
   */
  const queueParts = (jobs: ReadonlyArray<string>, schedules: ReadonlyArray<string>, queues: ReadonlyArray<string>) =>
    queues.length === 0
      ? { laterInQueues: sql.literal("NULL"), windowFreesAt: sql.literal("NULL") }
      : {
          laterInQueues: sql`(SELECT MIN(run_at) FROM ${runs} WHERE status = 'pending' AND ${claimable(jobs, schedules)}
            AND ${inList(sql, "queue", queues)} AND run_at > ${now})`,
          windowFreesAt: sql`(SELECT MIN(s.started_at + q.rate_period_ms) FROM ${starts} s JOIN ${queuesTable} q ON q.name = s.queue
            WHERE ${inList(sql, "queue", queues)} AND q.rate_limit IS NOT NULL AND q.paused = 0
              AND s.started_at + q.rate_period_ms > ${now}
              AND EXISTS (SELECT 1 FROM ${runs} r WHERE r.status = 'pending' AND r.queue = q.name AND r.run_at <= ${now}
                AND ${claimable(jobs, schedules)}))`
        }
  const nextDue = (jobs: ReadonlyArray<string>, schedules: ReadonlyArray<string>, queues?: ReadonlyArray<string>) => {
    const parts = queueParts(jobs, schedules, queues ?? [])
    return unit(
      sql<Row>`SELECT ${now} AS now_ms, (SELECT MIN(run_at) FROM ${runs}
        WHERE status = 'pending' AND ${claimable(jobs, schedules)} AND queue IS NULL) AS next_run_at,
        ${parts.laterInQueues} AS later_in_queues, ${parts.windowFreesAt} AS window_frees_at`
    ).pipe(
      Effect.flatMap((result) => {
        const row = result[0]
        const at = rows.toNumber(row?.["now_ms"])
        const times = ["next_run_at", "later_in_queues", "window_frees_at"].flatMap((column) => {
          const time = rows.toNumber(row?.[column])
          return time === undefined ? [] : [time]
        })
        const next = times.length === 0 ? undefined : Math.min(...times)
        if (at === undefined) {
          return Effect.fail(
            new JobsSError.JobStoreError({ message: "SqlStore.nextDue: the database returned no time" })
          )
        }
        return Effect.succeed({ now: at, nextRunAt: next ?? null })
      }),
      operation("nextDue")
    )
  }

  return { now: storeNow, claim, reap, nextDue }
}
