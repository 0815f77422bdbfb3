/**
 * The memory store's queues: stored definitions and paused flags, and the
 * budget a claim takes runs of queues from (free concurrency per partition,
 * free slots of the claiming instance, rate-limit room in the sliding window).
 *
 * @internal
 */
import type { QueueCount, QueueDefinition, StoredQueue } from "../JobStore.js"
import * as ClaimToken from "./claimToken.js"
import type { Row, State } from "./memoryRows.js"

/** Writes a definition (the paused flag stays); returns the row as it was. */
export const registerQueue = (
  state: State,
  definition: QueueDefinition,
  instanceId: string,
  now: number
): StoredQueue | undefined => {
  const previous = state.queues.get(definition.name)
  state.queues.set(definition.name, {
    ...definition,
    paused: previous?.paused ?? false,
    definedBy: instanceId,
    updatedAt: now
  })
  return previous
}

/** Sets the paused flag, storing a row without limits when there is none. */
export const pauseQueue = (state: State, name: string, paused: boolean, now: number): void => {
  const previous = state.queues.get(name)
  state.queues.set(
    name,
    previous === undefined
      ? {
          name,
          concurrency: null,
          workerConcurrency: null,
          rateLimit: null,
          ratePeriodMs: null,
          partitioned: false,
          paused,
          definedBy: null,
          updatedAt: now
        }
      : { ...previous, paused, updatedAt: now }
  )
}

/** The partition a row counts in for its stored queue. */
const partitionOf = (queue: StoredQueue, row: Row): string => (queue.partitioned ? (row.partitionKey ?? "") : "")

/** Decides, run by run in claim order, whether the queues' limits let a claim take it; `take` counts what it lets through. */
export interface QueueBudget {
  readonly take: (row: Row) => boolean
}

/**
 * The room each queue has for the claim of `instanceId` at `now`: a run of a queue that is not stored
 * (limits unknown) or paused is never taken; the window of each rate-limited queue is pruned.
 */
export const budget = (state: State, instanceId: string, now: number): QueueBudget => {
  const owned = ClaimToken.owned(instanceId)
  const running = new Map<string, number>()
  const mine = new Map<string, number>()
  const started = new Map<string, number>()
  const key = (queue: string, partition: string) => `${queue}\u0000${partition}`
  const bump = (counts: Map<string, number>, at: string) => counts.set(at, (counts.get(at) ?? 0) + 1)
  for (const row of state.rows.values()) {
    if (row.status !== "running" || row.queue === null) continue
    const queue = state.queues.get(row.queue)
    if (queue === undefined) continue
    bump(running, key(row.queue, partitionOf(queue, row)))
    if (row.claim?.startsWith(owned) === true) bump(mine, row.queue)
  }
  for (const [name, starts] of state.starts) {
    const queue = state.queues.get(name)
    const since = now - (queue?.ratePeriodMs ?? 0)
    const kept = starts.filter((start) => start.at > since)
    state.starts.set(name, kept)
    for (const start of kept) bump(started, key(name, start.partition))
  }
  return {
    take: (row) => {
      const queue = row.queue === null ? undefined : state.queues.get(row.queue)
      if (queue === undefined || queue.paused) return false
      const at = key(queue.name, partitionOf(queue, row))
      if (queue.concurrency !== null && (running.get(at) ?? 0) >= queue.concurrency) return false
      if (queue.workerConcurrency !== null && (mine.get(queue.name) ?? 0) >= queue.workerConcurrency) return false
      if (queue.rateLimit !== null && (started.get(at) ?? 0) >= queue.rateLimit) return false
      bump(running, at)
      bump(mine, queue.name)
      if (queue.rateLimit !== null) {
        bump(started, at)
        const starts = state.starts.get(queue.name) ?? []
        starts.push({ partition: partitionOf(queue, row), at: now })
        state.starts.set(queue.name, starts)
      }
      return true
    }
  }
}

/**
 * When the first start in the window of one of `queues` (those rate-limited and not paused) leaves it,
 * after `now`: a slot of the rate limit frees then; `null` when none will.
 */
export const windowFrees = (state: State, queues: ReadonlySet<string>, now: number): number | null => {
  let earliest: number | null = null
  for (const name of queues) {
    const queue = state.queues.get(name)
    if (queue === undefined || queue.paused || queue.ratePeriodMs === null) continue
    for (const start of state.starts.get(name) ?? []) {
      const frees = start.at + queue.ratePeriodMs
      if (frees > now && (earliest === null || frees < earliest)) earliest = frees
    }
  }
  return earliest
}

/** The running and pending runs of each queue that has any, by name. */
export const queueCounts = (state: State): ReadonlyArray<QueueCount> => {
  const counts = new Map<string, { running: number; pending: number }>()
  for (const row of state.rows.values()) {
    if (row.queue === null || (row.status !== "running" && row.status !== "pending")) continue
    const count = counts.get(row.queue) ?? { running: 0, pending: 0 }
    count[row.status] += 1
    counts.set(row.queue, count)
  }
  return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([queue, count]) => ({ queue, ...count }))
}
