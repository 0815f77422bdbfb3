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
 * Each execution of the cluster ledger, as its `start` row and the interval from it to its first
 * `end` row after it (written by the same process), or to the first takeover (`reap`) or give-back
 * (`giveBack`) of its run after it when its process stopped first (unbounded if neither came).
 */
export const ledgerIntervals = (
  ledger: ReadonlyArray<LedgerRow>
): ReadonlyArray<{ readonly start: LedgerRow; readonly interval: readonly [number, number] }> => {
  const timesBy = (kinds: ReadonlyArray<LedgerRow["kind"]>, key: (row: LedgerRow) => string) => {
    const times = new Map<string, Array<number>>()
    for (const row of ledger)
      if (kinds.includes(row.kind)) times.set(key(row), [...(times.get(key(row)) ?? []), row.db_at])
    return times
  }
  const execution = (row: LedgerRow) => `${row.run_id}:${row.attempt}:${row.instance}:${row.generation}`
  const ends = timesBy(["end"], execution)
  const releases = timesBy(["reap", "giveBack"], (row) => row.run_id)
  const firstAfter = (times: ReadonlyArray<number> | undefined, at: number) =>
    Math.min(Number.POSITIVE_INFINITY, ...(times ?? []).filter((time) => time >= at))
  return ledger
    .filter((row) => row.kind === "start")
    .map((start) => {
      const end = firstAfter(ends.get(execution(start)), start.db_at)
      const released = firstAfter(releases.get(start.run_id), start.db_at)
      return { start, interval: [start.db_at, Number.isFinite(end) ? end : released] as const }
    })
}
