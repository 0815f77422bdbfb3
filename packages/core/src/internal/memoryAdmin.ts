/**
 * The memory store's admin operations (`JobStoreShape.admin`) on its maps, with the semantics of
 * `SqlStore`'s (`packages/sql/src/internal/store/admin*.ts`): the same orders, keys and pages.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type {
  JobStoreAdmin,
  OutcomeCount,
  QueueRunCount,
  RunChange,
  RunCount,
  RunKey,
  RunListing,
  RunQuery,
  ScheduleKey,
  StoredSchedule
} from "./adminTypes.js"
import { toInstance } from "./memoryInstances.js"
import { type Row, type State, isActive, latest, toStored } from "./memoryRows.js"
import type { RunStatus } from "./runRow.js"

/** List order: newest first, `createdAt` then `id`, both descending. */
const newestFirst = (a: RunKey, b: RunKey): number =>
  b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

const keyOf = (row: Row): RunKey => ({ createdAt: row.createdAt, id: row.id })

const matches = (query: RunQuery, row: Row): boolean =>
  (query.statuses.length === 0 || query.statuses.includes(row.status)) &&
  (query.job === null || row.job === query.job) &&
  (query.queue === null || row.queue === query.queue) &&
  (query.name === null || row.uniqueName === query.name) &&
  (query.createdAfter === null || row.createdAt >= query.createdAfter) &&
  (query.createdBefore === null || row.createdAt < query.createdBefore) &&
  (query.after === null || newestFirst(query.after, keyOf(row)) < 0)

/** A page: with `argsContains`, at most `scanLimit` matching rows are read and filtered (as `SqlStore` does). */
const listRuns = (state: State, query: RunQuery): RunListing => {
  const candidates = Array.from(state.rows.values())
    .filter((row) => matches(query, row))
    .sort(newestFirst)
  const text = query.argsContains
  const window = text === null ? candidates.slice(0, query.limit + 1) : candidates.slice(0, query.scanLimit)
  const hits = text === null ? window : window.filter((row) => row.args.includes(text))
  const runs = hits.slice(0, query.limit)
  const next =
    hits.length > query.limit
      ? keyOf(runs.at(-1)!)
      : text !== null && window.length === query.scanLimit
        ? keyOf(window.at(-1)!)
        : null
  return { runs: runs.map(toStored), next }
}

/** Occurrences per status and `key` (rows whose key is `null` are left out). */
const countBy = (state: State, key: (row: Row) => string | null): ReadonlyArray<[string, RunStatus, number]> => {
  const counts = new Map<string, [string, RunStatus, number]>()
  for (const row of state.rows.values()) {
    const at = key(row)
    if (at === null) continue
    const entry = counts.get(`${row.status}\u0000${at}`) ?? [at, row.status, 0]
    entry[2] += 1
    counts.set(`${row.status}\u0000${at}`, entry)
  }
  return Array.from(counts.values())
}

const countRuns = (state: State, upTo: number): ReadonlyArray<RunCount> =>
  countBy(state, (row) => row.job).map(([job, status, count]) => ({
    job,
    status,
    count: Math.min(count, upTo),
    capped: count > upTo
  }))

const countQueueRuns = (state: State, upTo: number): ReadonlyArray<QueueRunCount> =>
  countBy(state, (row) => row.queue).map(([queue, status, count]) => ({
    queue,
    status,
    count: Math.min(count, upTo),
    capped: count > upTo
  }))

/** Applies `change` to the latest occurrence of each run it finds; `change` says what it did. */
const each = (
  state: State,
  originIds: ReadonlyArray<string>,
  change: (row: Row) => RunChange["outcome"]
): ReadonlyArray<RunChange> =>
  originIds.map((originId): RunChange => {
    const row = latest(state, originId)
    if (row === undefined) return { originId, outcome: "notFound", status: null }
    return { originId, outcome: change(row), status: row.status }
  })

const retry = (state: State, originIds: ReadonlyArray<string>, now: number): ReadonlyArray<RunChange> =>
  each(state, originIds, (row) => {
    if (row.status !== "failed" && row.status !== "cancelled") return "wrongState"
    if (row.uniqueName !== null && state.uniqueKeys.has(row.uniqueName)) return "nameTaken"
    row.status = "pending"
    row.runAt = now
    row.retriesErrorCount = 0
    row.retriesTimeoutCount = 0
    row.snoozeCount = 0
    row.finishedAt = null
    row.cancelRequested = false
    row.timeoutAt = null
    row.uniqueKey = row.uniqueName
    if (row.uniqueName !== null) state.uniqueKeys.set(row.uniqueName, row)
    return "changed"
  })

const runNow = (state: State, originIds: ReadonlyArray<string>, now: number): ReadonlyArray<RunChange> =>
  each(state, originIds, (row) => {
    if (row.status !== "pending") return "wrongState"
    row.runAt = Math.min(row.runAt, now)
    return "changed"
  })

const remove = (state: State, originIds: ReadonlyArray<string>): ReadonlyArray<RunChange> =>
  originIds.map((originId): RunChange => {
    const chain = state.chains.get(originId)
    const row = latest(state, originId)
    if (chain === undefined || row === undefined) return { originId, outcome: "notFound", status: null }
    if (chain.some(isActive)) return { originId, outcome: "wrongState", status: row.status }
    for (const occurrence of chain) state.rows.delete(occurrence.id)
    state.chains.delete(originId)
    state.history.delete(originId)
    return { originId, outcome: "changed", status: null }
  })

const bySchedule = (a: ScheduleKey, b: ScheduleKey): number =>
  a.schedule < b.schedule
    ? -1
    : a.schedule > b.schedule
      ? 1
      : a.originId < b.originId
        ? -1
        : a.originId > b.originId
          ? 1
          : 0

const schedules = (state: State, after: ScheduleKey | null, limit: number): ReadonlyArray<StoredSchedule> =>
  Array.from(state.rows.values())
    .filter(
      (row): row is Row & { schedule: string } =>
        row.schedule !== null &&
        isActive(row) &&
        (after === null || bySchedule(after, { schedule: row.schedule, originId: row.originId }) < 0)
    )
    .sort((a, b) => bySchedule(a, b))
    .slice(0, limit)
    .map((row): StoredSchedule => {
      const previous = state.chains.get(row.originId)?.find((other) => other.occurrence === row.occurrence - 1)
      return {
        run: toStored(row),
        previous:
          previous === undefined
            ? null
            : { status: previous.status, finishedAt: previous.finishedAt, error: previous.error }
      }
    })

const throughput = (state: State, since: number): ReadonlyArray<OutcomeCount> => {
  const counts = new Map<string, OutcomeCount & { count: number }>()
  for (const attempts of state.history.values()) {
    for (const attempt of attempts) {
      if (attempt.finishedAt < since) continue
      const minute = Math.floor(attempt.finishedAt / 60_000) * 60_000
      const key = `${minute}:${attempt.outcome}`
      const entry = counts.get(key) ?? { minute, outcome: attempt.outcome, count: 0 }
      entry.count += 1
      counts.set(key, entry)
    }
  }
  return Array.from(counts.values()).sort((a, b) => a.minute - b.minute)
}

/** The admin operations over a memory store's state; `wake` is told when runs may have become due. */
export const make = (state: State, wake: (when: boolean) => Effect.Effect<void>): JobStoreAdmin => {
  const changing = (f: (now: number) => ReadonlyArray<RunChange>) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => f(now))).pipe(
      Effect.tap((changes) => wake(changes.some((change) => change.outcome === "changed")))
    )
  return {
    listRuns: (query) => Effect.sync(() => listRuns(state, query)),
    countRuns: (upTo) => Effect.sync(() => countRuns(state, upTo)),
    countQueueRuns: (upTo) => Effect.sync(() => countQueueRuns(state, upTo)),
    retry: (originIds) => changing((now) => retry(state, originIds, now)),
    runNow: (originIds) => changing((now) => runNow(state, originIds, now)),
    remove: (originIds) => Effect.sync(() => remove(state, originIds)),
    schedules: (after, limit) => Effect.sync(() => schedules(state, after, limit)),
    instances: (limit) =>
      Effect.sync(() =>
        Array.from(state.instances.values(), toInstance)
          .sort((a, b) => b.lastSeenAt - a.lastSeenAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
          .slice(0, limit)
      ),
    throughput: (since) => Effect.sync(() => throughput(state, since))
  }
}
