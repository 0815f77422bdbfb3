/**
 * The claim when the claimer takes runs of queues, on the dialects without a statement of their own
 * (`Dialect.queuedClaim`; PostgreSQL's function of migration 9 takes the same steps): one
 * transaction. Its first statement locks the rows of the claimer's queues (`lockQueues`, in name order), so
 * the claims of one queue happen one after the other across the cluster and each one counts what
 * the ones before it took. Then, for each queue that is not paused, it counts the queue's running
 * runs per partition (and those of this instance) and the attempt starts in its rate window (old
 * ones pruned), and picks at most the free slots of its due runs; runs in no queue are picked as by
 * the plain claim. The candidates are merged in claim order (priority, due time, id), the first
 * `limit` are claimed, and the starts of rate-limited queues are recorded.
 *
 * Counts read after the lock see every claim committed before it: PostgreSQL (READ COMMITTED) takes
 * a snapshot per statement, and InnoDB takes the transaction's snapshot at its first plain read,
 * which comes after the locking one; SQLite has one writer, and the lock statement is a write.
 *
 * @internal
 */
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import { JobStore } from "@jobss/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { QueuedClaim, Row } from "../dialect.js"
import * as rows from "../rows.js"
import { inList, int } from "../sqlValues.js"
import type { StoreContext } from "./context.js"

/** A dialect's queued claim that takes several statements. */
type TransactionClaim = Extract<QueuedClaim, { readonly _tag: "Transaction" }>

/** What the queued claim needs from the store's claim. */
export interface QueuedCall {
  readonly instanceId: string
  /** Pending, due, of a listed job and schedule (any queue). */
  readonly due: Fragment
  /** The claim's SET list at time `at`. */
  readonly set: (at: Fragment) => Fragment
  readonly limit: number
  readonly queues: ReadonlyArray<string>
}

/** A run the claim may take: its claim order, and its queue and partition when it has one. */
interface Candidate {
  readonly id: string
  readonly priority: number
  readonly runAt: number
  readonly queue: JobStore.StoredQueue | undefined
  readonly partition: string
}

const byClaimOrder = (a: Candidate, b: Candidate): number =>
  a.priority - b.priority || a.runAt - b.runAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** Counts per partition (`""`: no key, or a queue that is not partitioned) from rows of `part` and `column`. */
const perPartition = (found: ReadonlyArray<Row>, partitioned: boolean, column: string): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const row of found) {
    const part = partitioned ? (rows.textColumn(row, "part") ?? "") : ""
    counts.set(part, (counts.get(part) ?? 0) + (rows.toNumber(row[column]) ?? 0))
  }
  return counts
}

/** Partitions per statement that reads their first runs (SQLite allows 500 terms in a compound SELECT). */
const partitionsPerRead = 100

/**
 * The first due runs of each partition of `queue` (`""`: its runs without a key), `room(part)` of
 * them, read through the partitions index of migration 13: a loose scan of the index finds the
 * partitions with pending runs (one probe per key), and each one's runs come from it in claim order.
 * The cost grows with the partitions, never with the pending runs.
 */
const partitionHeads = (
  ctx: StoreContext,
  locks: TransactionClaim,
  call: QueuedCall,
  queue: string,
  room: (part: string) => number
): Effect.Effect<ReadonlyArray<Row>, SqlError> =>
  Effect.gen(function* () {
    const { runs, sql } = ctx
    const { holds, through } = locks.byPartition
    const keys = yield* locks.byPartition.keys(queue)
    // the runs without a key last (a key is never empty; MySQL's scan also yields them as a NULL key)
    const keyed = keys.flatMap((row) => rows.textColumn(row, "part") ?? [])
    const parts = [...keyed.filter((part) => part !== ""), ""].flatMap((part) => {
      const n = room(part)
      return n > 0 ? [{ part, n }] : []
    })
    const heads: Array<Row> = []
    for (let from = 0; from < parts.length; from += partitionsPerRead) {
      const reads = parts.slice(from, from + partitionsPerRead).map(
        ({ n, part }, index) =>
          sql`SELECT * FROM (SELECT id, priority, run_at, partition_key FROM ${runs} ${through}
          WHERE ${call.due} AND ${holds} AND queue = ${queue}
            AND ${part === "" ? sql`partition_key IS NULL` : sql`partition_key = ${part}`}
          ORDER BY priority, run_at, id LIMIT ${n}) ${sql.literal(`h${index}`)}`
      )
      heads.push(...(yield* sql<Row>`${sql.join(" UNION ALL ", false)(reads)}`))
    }
    return heads
  })

/** The queued claim, inside the caller's transaction; returns the claimed rows (every column). */
export const claimQueued = (
  ctx: StoreContext,
  locks: TransactionClaim,
  call: QueuedCall
): Effect.Effect<ReadonlyArray<Row>, SqlError> =>
  Effect.gen(function* () {
    const { dialect, now, runs, sql } = ctx
    const starts = sql(dialect.tables.queueStarts)
    const locked = yield* locks.lockQueues(call.queues)
    const queues = locked.flatMap((row) => {
      const queue = rows.decodeQueue(row)
      return Either.isRight(queue) && !queue.right.paused ? [queue.right] : []
    })
    const candidate =
      (queue: JobStore.StoredQueue | undefined) =>
      (row: Row): Candidate => ({
        id: rows.textColumn(row, "id") ?? "",
        priority: rows.toNumber(row["priority"]) ?? 0,
        runAt: rows.toNumber(row["run_at"]) ?? 0,
        queue,
        partition: queue?.partitioned === true ? (rows.textColumn(row, "partition_key") ?? "") : ""
      })
    const pick = (queue: string | undefined, limit: number) =>
      sql<Row>`SELECT id, priority, run_at, partition_key FROM ${runs} ${dialect.dueIndex(queue !== undefined)}
        WHERE ${call.due} AND ${queue === undefined ? sql`queue IS NULL` : sql`queue = ${queue}`}
        ORDER BY priority, run_at, id LIMIT ${limit} ${locks.pickLock}`
    const candidates: Array<Candidate> = (yield* pick(undefined, call.limit)).map(candidate(undefined))

    const owned = `${JobStore.ClaimToken.owned(call.instanceId)}%`
    for (const queue of queues) {
      const counted = yield* sql<Row>`SELECT COALESCE(partition_key, '') AS part, COUNT(*) AS running,
        SUM(CASE WHEN claim LIKE ${owned} THEN 1 ELSE 0 END) AS mine
        FROM ${runs} WHERE status = 'running' AND queue = ${queue.name} GROUP BY COALESCE(partition_key, '')`
      const running = perPartition(counted, queue.partitioned, "running")
      const mine = [...perPartition(counted, false, "mine").values()].reduce((a, b) => a + b, 0)
      let started = new Map<string, number>()
      if (queue.rateLimit !== null) {
        const since = sql`${now} - ${int(queue.ratePeriodMs ?? 0)}`
        yield* sql`DELETE FROM ${starts} WHERE queue = ${queue.name} AND started_at <= ${since}`
        started = perPartition(
          yield* sql<Row>`SELECT partition_key AS part, COUNT(*) AS n FROM ${starts}
            WHERE queue = ${queue.name} GROUP BY partition_key`,
          queue.partitioned,
          "n"
        )
      }
      const free = (part: string): number =>
        Math.min(
          queue.concurrency === null ? call.limit : queue.concurrency - (running.get(part) ?? 0),
          queue.rateLimit === null ? call.limit : queue.rateLimit - (started.get(part) ?? 0)
        )
      let cap = Math.min(call.limit, queue.workerConcurrency === null ? call.limit : queue.workerConcurrency - mine)
      if (!queue.partitioned) {
        cap = Math.min(cap, free(""))
        if (cap > 0) candidates.push(...(yield* pick(queue.name, cap)).map(candidate(queue)))
        continue
      }
      if (cap <= 0) continue
      // each partition's first due runs, as many as it has room for; the first `cap` of them in claim order
      const heads = yield* partitionHeads(ctx, locks, call, queue.name, (part) => Math.min(cap, free(part)))
      const chosen = heads.map(candidate(queue)).sort(byClaimOrder).slice(0, cap)
      if (chosen.length === 0) continue
      const lockedIds = yield* sql<Row>`SELECT id FROM ${runs} WHERE ${inList(
        sql,
        "id",
        chosen.map((c) => c.id)
      )} AND status = 'pending' ${locks.pickLock}`
      const held = new Set(lockedIds.map((row) => rows.textColumn(row, "id")))
      candidates.push(...chosen.filter((c) => held.has(c.id)))
    }

    const chosen = candidates.sort(byClaimOrder).slice(0, call.limit)
    if (chosen.length === 0) return []
    const taken = yield* dialect.updateReturning({
      where: sql`${inList(
        sql,
        "id",
        chosen.map((c) => c.id)
      )} AND status = 'pending'`,
      set: call.set(now),
      returning: "row"
    })
    // each start recorded at its run's claim time (the update's clock reading, not a later one)
    const startedAt = new Map(taken.map((row) => [rows.textColumn(row, "id"), rows.toNumber(row["started_at"])]))
    const limited = chosen.filter((c) => c.queue?.rateLimit !== null && c.queue !== undefined && startedAt.has(c.id))
    if (limited.length > 0) {
      yield* sql`INSERT INTO ${starts} (queue, partition_key, started_at) VALUES ${sql.csv(
        limited.map((c) => sql`(${c.queue!.name}, ${c.partition}, ${startedAt.get(c.id) ?? now})`)
      )}`
    }
    return taken
  })
