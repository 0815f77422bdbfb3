/**
 * The rest of a run's life and the queries about runs: `extend` (leases of
 * held claims, the starts of their attempts, and cancel requests), `cancel`, `get`, `history`, `prune`
 * (retention), `pendingCounts` and `waiting` (runs no live instance can claim).
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
import { type StoreContext, chunksOf, decodeAll, listChunk } from "./context.js"
import * as History from "./history.js"

/** Rounds of cancel while the run moves between states under our feet. */
const cancelRounds = 5

type RunOperations = "extend" | "cancel" | "get" | "history" | "prune" | "pendingCounts" | "waiting"

/** The store's operations on runs after their claim, and its queries about runs. */
export const make = (ctx: StoreContext): Pick<JobStore.JobStoreShape, RunOperations> => {
  const { dialect, sql, now, runs, instancesTable, historyTable, unit, affected, operation, claimable, cancelledSet } =
    ctx

  /**
   * The start of the attempts of `claims`, as the heartbeat reports it: at the report's time, the
   * closest bound the database knows that is never before the dispatch (one heartbeat late at most),
   * so the store's `timeout_at` never comes before the deadline the instance enforces from the dispatch.
   */
  const startedSet = (claims: ReadonlyArray<string>): Fragment => {
    const reported = inList(sql, "claim", claims)
    return sql`, dispatched_at = CASE WHEN ${reported} THEN ${now} ELSE dispatched_at END,
      timeout_at = CASE WHEN ${reported} AND run_timeout_ms <> 0 THEN ${now} + run_timeout_ms ELSE timeout_at END`
  }

  const extend = (
    instanceId: string,
    claims: ReadonlyArray<string>,
    leaseMs: number,
    dispatched: ReadonlyArray<string>
  ) =>
    Effect.gen(function* () {
      const held: Array<JobStore.HeldRun> = []
      const reported = new Set(dispatched)
      for (const chunk of chunksOf(claims, listChunk)) {
        const started = chunk.filter((claim) => reported.has(claim))
        const updated = yield* unit(
          dialect.updateReturning({
            // by primary key first: MySQL's locking read then locks these rows only
            where: sql`${inList(sql, "id", chunk.map(JobStore.ClaimToken.idOf))} AND ${inList(sql, "claim", chunk)}
              AND status = 'running' AND started_by = ${instanceId}`,
            set: sql`lease_until = ${now} + ${int(leaseMs)}${started.length === 0 ? sql.literal("") : startedSet(started)}`,
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
      // on the heartbeat's own connection: never behind the jobs' work on the pool
    }).pipe(ctx.ownConnection.transaction, operation("extend"))

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

  const { attempts } = History.make(ctx)
  const history = (originId: string) =>
    unit(sql<Row>`${attempts(originId)}`).pipe(
      Effect.flatMap(
        decodeAll("history", (row) => `malformed attempt ${row["seq"] ?? `of ${row["run_id"]}`}`, rows.decodeAttempt)
      ),
      operation("history")
    )

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

  return { extend, cancel, get, history, prune, pendingCounts, waiting }
}
