/**
 * Oracles of queue limits, shared by the runtime and cluster tests: the most intervals open at once
 * (concurrency), the most starts in any window of a period (rate limits), and the intervals the
 * stored run history gives each attempt (from its claim to its settlement, on the database's clock)
 * or the cluster ledger (from the job's start to its end, or to the takeover of a killed one).
 */
import type { JobStore } from "@jobss/core"
import type { LedgerRow } from "../cluster/protocol.js"

/** The most intervals open at once, from `[start, end]` pairs; touching intervals (an end at a start's instant) do not overlap. */
export const maxOverlap = (intervals: ReadonlyArray<readonly [number, number]>): number => {
  const edges = intervals.flatMap(
    ([start, end]): Array<readonly [number, number]> => [
      [start, 1],
      [end, -1]
    ]
  )
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let open = 0
  let most = 0
  for (const [, step] of edges) {
    open += step
    most = Math.max(most, open)
  }
  return most
}

/**
 * The most starts in any window of `periodMs` (`[at, at + periodMs)`): a sliding-window rate limit of
 * `limit` per `periodMs` holds when this is at most `limit`.
 */
export const mostInWindow = (starts: ReadonlyArray<number>, periodMs: number): number => {
  const sorted = [...starts].sort((a, b) => a - b)
  let most = 0
  let last = 0
  for (let first = 0; first < sorted.length; first++) {
    while (last < sorted.length && sorted[last]! < sorted[first]! + periodMs) last++
    most = Math.max(most, last - first)
  }
  return most
}

/** The interval each recorded attempt held its queue slot: from its claim to its settlement. */
export const attemptIntervals = (
  attempts: ReadonlyArray<JobStore.StoredAttempt>
): ReadonlyArray<readonly [number, number]> => attempts.map((attempt) => [attempt.startedAt, attempt.finishedAt])

/**
 * Each execution of the cluster ledger, as its `start` row and the interval from it to its `end` row, or
 * to the takeover (`reap`) of its run when its process was killed first (unbounded if never taken over).
 */
export const ledgerIntervals = (
  ledger: ReadonlyArray<LedgerRow>
): ReadonlyArray<{ readonly start: LedgerRow; readonly interval: readonly [number, number] }> => {
  const key = (row: LedgerRow) => `${row.run_id}:${row.attempt}`
  const ends = new Map<string, number>()
  for (const row of ledger) if (row.kind === "end") ends.set(key(row), row.db_at)
  const reaps = new Map<string, number>()
  for (const row of ledger) if (row.kind === "reap" && !reaps.has(row.run_id)) reaps.set(row.run_id, row.db_at)
  return ledger
    .filter((row) => row.kind === "start")
    .map((start) => ({
      start,
      interval: [start.db_at, ends.get(key(start)) ?? reaps.get(start.run_id) ?? Number.POSITIVE_INFINITY] as const
    }))
}
