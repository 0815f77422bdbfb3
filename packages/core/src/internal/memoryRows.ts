/**
 * The memory store's run table: its rows (with the two columns `StoredRun` does not expose), the
 * indexes kept beside them, and the row operations several store operations share.
 *
 * @internal
 */
import type { Mutable } from "effect/Types"
import type { ClaimedRun, NewRun, StoredAttempt, StoredInstance, StoredQueue, StoredRun } from "../JobStore.js"
import { insertedRow, storedFields } from "./runRow.js"

/** A stored occurrence with the two columns the interface does not expose. */
export interface Row extends Mutable<StoredRun> {
  /** The fencing token; `null` unless running. */
  claim: string | null
  /** Equal to `uniqueName` while the row is active, `null` otherwise. */
  uniqueKey: string | null
}

/** Everything a memory store holds. */
export interface State {
  /** Occurrences by id, in insertion order. */
  readonly rows: Map<string, Row>
  /** Occurrences by `originId`. */
  readonly chains: Map<string, Array<Row>>
  /** The active holder of each unique name (the unique index). */
  readonly uniqueKeys: Map<string, Row>
  /** Instance rows by id. */
  readonly instances: Map<string, Mutable<StoredInstance>>
  /** Recorded attempts by `originId`, in the order they ended. */
  readonly history: Map<string, Array<StoredAttempt>>
  /** Named leases: their holder and until when they are held. */
  readonly leases: Map<string, { holder: string; leaseUntil: number }>
  /** Stored queues by name. */
  readonly queues: Map<string, StoredQueue>
  /** The attempt starts of each rate-limited queue: partition (`""` when not partitioned or no key) and time. */
  readonly starts: Map<string, Array<{ readonly partition: string; readonly at: number }>>
}

/** An empty store. */
export const empty = (): State => ({
  rows: new Map(),
  chains: new Map(),
  uniqueKeys: new Map(),
  instances: new Map(),
  history: new Map(),
  leases: new Map(),
  queues: new Map(),
  starts: new Map()
})

/** Whether the row is pending or running. */
export const isActive = (row: Row): boolean => row.status === "pending" || row.status === "running"

/** The row as the interface returns it (a copy of its fields). */
export const toStored = (row: Row): StoredRun => storedFields(row)

/** The row as a claim returns it. */
export const toClaimed = (row: Row, claim: string): ClaimedRun => ({ ...toStored(row), claim })

/** The filter `claim`, `nextDue` and `reap` share: a listed job, and no schedule or a listed one. */
export const matcher = (jobs: ReadonlyArray<string>, schedules: ReadonlyArray<string>): ((row: Row) => boolean) => {
  const jobSet = new Set(jobs)
  const scheduleSet = new Set(schedules)
  return (row) => jobSet.has(row.job) && (row.schedule === null || scheduleSet.has(row.schedule))
}

/** Due order: `runAt`, then `id`. */
export const byRunAt = (a: Row, b: Row): number => a.runAt - b.runAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** Claim order: `priority`, then due order. */
export const byPriority = (a: Row, b: Row): number => a.priority - b.priority || byRunAt(a, b)

/** The rows that satisfy `predicate`, in insertion order. */
export const rowsWhere = (state: State, predicate: (row: Row) => boolean): Array<Row> => {
  const found: Array<Row> = []
  for (const row of state.rows.values()) {
    if (predicate(row)) found.push(row)
  }
  return found
}

/** Ends a row's hold on its claim, lease and unique name. */
export const release = (state: State, row: Row): void => {
  if (row.uniqueKey !== null && state.uniqueKeys.get(row.uniqueKey) === row) {
    state.uniqueKeys.delete(row.uniqueKey)
  }
  row.uniqueKey = null
  row.claim = null
  row.leaseUntil = null
}

/** Adds a new pending row; the caller has checked that its id is free and its unique name is not held. */
export const addRow = (state: State, run: NewRun, now: number): void => {
  const row: Row = { ...insertedRow(run, now), claim: null, uniqueKey: run.uniqueName }
  state.rows.set(row.id, row)
  const chain = state.chains.get(row.originId)
  if (chain === undefined) state.chains.set(row.originId, [row])
  else chain.push(row)
  if (row.uniqueKey !== null) state.uniqueKeys.set(row.uniqueKey, row)
}

/** Ends the row with a final status at `now`. */
export const finish = (state: State, row: Row, status: "succeeded" | "failed" | "cancelled", now: number): void => {
  release(state, row)
  row.status = status
  row.finishedAt = now
}

/** The latest occurrence of a run. */
export const latest = (state: State, originId: string): Row | undefined => {
  let found: Row | undefined
  for (const row of state.chains.get(originId) ?? []) {
    if (found === undefined || row.occurrence > found.occurrence) found = row
  }
  return found
}
