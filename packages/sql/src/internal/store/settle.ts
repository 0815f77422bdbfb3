/**
 * `settle`: the end of attempts, fenced by their claims, each recorded in the
 * run history in the same statement or transaction; settlements that share a
 * SET list share a statement.
 *
 * @internal
 */
import type { Fragment } from "@effect/sql/Statement"
import { JobStore } from "@jobss/core"
import * as Effect from "effect/Effect"
import type { Recording } from "../dialect.js"
import { type StoreContext, chunksOf } from "./context.js"
import * as History from "./history.js"

type Settlement = JobStore.Settlement

/** Settlements per batched UPDATE (3 parameters each). */
const settleChunk = 300

/** The store's `settle`. */
export const make = (ctx: StoreContext): Pick<JobStore.JobStoreShape, "settle"> => {
  const {
    dialect,
    sql,
    now,
    runs,
    unit,
    operation,
    fence,
    succeededSet,
    failedSet,
    cancelledSet,
    unlessCancelled,
    releasedSet,
    retrySet,
    snoozedSet,
    nextSet,
    insertColumns,
    insertValues
  } = ctx

  const history = History.make(ctx)

  /** The history label of a settlement: `cancelled` for one that a cancel request turned into the run's end. */
  const outcomeOf = (s: Settlement): Fragment => {
    const label = JobStore.attemptOutcome(s)
    return JobStore.continuesRun(s) ? unlessCancelled(sql`${label}`, sql.literal("'cancelled'")) : sql`${label}`
  }

  /**
   * The history row of each settled row, read after the update: a released attempt gave its
   * number back, and a final one has its `finished_at`.
   */
  const historySelect = (s: Settlement): Fragment =>
    sql`origin_id, id, occurrence, job, ${sql.literal(s._tag === "Released" ? "run_total_count + 1" : "run_total_count")},
      COALESCE(started_by, ''), COALESCE(started_at, ${now}), COALESCE(finished_at, ${now}),
      ${outcomeOf(s)}, ${JobStore.attemptError(s)}, ${JobStore.attemptResult(s)}`

  /**
   * What the history records of settled rows: every attempt but a success (`history.ts`), so a
   * `Succeeded` settlement records nothing and a `Next` records the occurrence it ends unless that
   * ended `succeeded`.
   */
  const recordOf = (s: Settlement): Recording | undefined =>
    s._tag === "Succeeded" ? undefined : { into: history.into, select: historySelect(s), when: history.recorded }

  /**
   * The rows of settlements, each by `id` and the `claim` it must still hold. A claim token is made
   * for one row (`JobStore.ClaimToken`), so a row whose claim is in the list is the row that claim
   * was paired with: two lists do (`dialect.idsAndClaimsIn`), and pairs that break this never match.
   */
  const heldPairs = (pairs: ReadonlyArray<{ readonly id: string; readonly claim: string }>): Fragment => {
    const sound = pairs.filter(({ claim, id }) => JobStore.ClaimToken.isFor(claim, id))
    return dialect.idsAndClaimsIn(
      sound.map(({ id }) => id),
      sound.map(({ claim }) => claim)
    )
  }

  /** A fenced UPDATE of settlements sharing one SET list and history label, recording their attempts (`recordOf`); the ids whose fence held. */
  const settleRecorded = (batch: ReadonlyArray<Settlement>, set: Fragment) => {
    const record = recordOf(batch[0]!)
    return Effect.map(
      Effect.forEach(chunksOf(batch, settleChunk), (chunk) =>
        dialect.updateRecording({
          where:
            chunk.length === 1 ? fence(chunk[0]!.id, chunk[0]!.claim) : sql`status = 'running' AND ${heldPairs(chunk)}`,
          set,
          record,
          ids: chunk.map((s) => s.id)
        })
      ),
      (results) => new Set(results.flat().map((row) => String(row["id"])))
    )
  }

  /** The SET list of a settlement (a `Next` ends its occurrence). */
  const setOf = (s: Settlement): Fragment => {
    switch (s._tag) {
      case "Succeeded":
        return succeededSet(s.result ?? null)
      case "Failed":
        return failedSet(s.error)
      case "Cancelled":
        return cancelledSet
      case "Retry":
        return retrySet(s)
      case "Released":
        return releasedSet
      case "Snoozed":
        return snoozedSet(s)
      case "Next":
        return nextSet(s)
    }
  }

  /**
   * `Next`: this occurrence ends (its attempt recorded) and the next one is inserted, in one
   * transaction, when the fence holds and no cancel was requested (the row is locked by the update).
   */
  const settleNext = (s: Extract<Settlement, { _tag: "Next" }>) =>
    dialect.transaction(
      Effect.gen(function* () {
        // The fenced UPDATE comes first: on SQLite the transaction takes the write lock at once.
        const ended = yield* settleRecorded([s], setOf(s))
        if (ended.size === 0) return false
        const [row] = yield* sql<{
          readonly cancel_requested: unknown
        }>`SELECT cancel_requested FROM ${runs} WHERE id = ${s.id}`
        if (Number(row?.cancel_requested) === 1) return true
        yield* sql`INSERT INTO ${runs} ${insertColumns} VALUES ${insertValues(s.next)}`
        return true
      })
    )

  const settle = (settlements: ReadonlyArray<Settlement>) =>
    Effect.gen(function* () {
      const results: Array<boolean> = settlements.map(() => false)
      // Settlements with one SET list and one history label (no error, no result) share a statement.
      const batches = new Map<string, Array<number>>()
      const singles: Array<number> = []
      const batchedIds = new Set<string>()
      settlements.forEach((s, index) => {
        const shared =
          (s._tag === "Succeeded" && (s.result === undefined || s.result === null)) ||
          s._tag === "Cancelled" ||
          s._tag === "Released"
        if (shared && !batchedIds.has(s.id)) {
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

  return { settle }
}
