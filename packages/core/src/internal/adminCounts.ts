/**
 * The counting part of the admin API: `countRuns` (occurrences by status, job and queue) and
 * `listQueues` (stored queues joined with their running and pending counts), over a store.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { JobStoreShape } from "../JobStore.js"
import * as Api from "./adminApi.js"
import type { QueueRunCount, RunCount } from "./adminTypes.js"
import { type RunStatus, runStatuses } from "./runRow.js"

type Counts = { -readonly [S in RunStatus]: number }

/** Every status at 0. */
export const zeroCounts = (): Counts => ({ pending: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 })

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** A group's counts: its total, per status, and the statuses where some count was capped. */
interface Group {
  readonly key: string
  readonly total: number
  readonly byStatus: Counts
  readonly capped: ReadonlyArray<RunStatus>
}

/** Sums counts per status and per `key`, the groups sorted by key; a capped count caps its status. */
const group = <A extends { readonly status: RunStatus; readonly count: number; readonly capped: boolean }>(
  counts: ReadonlyArray<A>,
  key: (count: A) => string
): ReadonlyArray<Group> => {
  const groups = new Map<string, { key: string; total: number; byStatus: Counts; capped: Set<RunStatus> }>()
  for (const count of counts) {
    const at = key(count)
    const entry = groups.get(at) ?? { key: at, total: 0, byStatus: zeroCounts(), capped: new Set<RunStatus>() }
    entry.total += count.count
    entry.byStatus[count.status] += count.count
    if (count.capped) entry.capped.add(count.status)
    groups.set(at, entry)
  }
  return [...groups.values()]
    .sort((a, b) => byName(a.key, b.key))
    .map((entry) => ({ ...entry, capped: runStatuses.filter((status) => entry.capped.has(status)) }))
}

/** What `countRuns` reports from the store's counts per job and status and per queue and status. */
export const runCounts = (
  counts: ReadonlyArray<RunCount>,
  queueCounts: ReadonlyArray<QueueRunCount>
): Api.RunCounts => {
  const all = group(counts, () => "")[0]
  return {
    total: all?.total ?? 0,
    byStatus: all?.byStatus ?? zeroCounts(),
    capped: all?.capped ?? [],
    byJob: group(counts, (count) => count.job).map(({ key, ...rest }) => ({ job: key, ...rest })),
    byQueue: group(queueCounts, (count) => count.queue).map(({ key, ...rest }) => ({ queue: key, ...rest }))
  }
}

/** `countRuns` over a store: every occurrence by status, by job and by queue, each count up to `maxCount`. */
export const countRuns = (store: JobStoreShape): Api.SchedulerAdmin["countRuns"] =>
  Effect.map(
    Effect.all([store.admin.countRuns(Api.maxCount), store.admin.countQueueRuns(Api.maxCount)], { concurrency: 2 }),
    ([counts, queueCounts]) => runCounts(counts, queueCounts)
  )

/** `listQueues` over a store: the stored queues and those only active runs name, by name. */
export const listQueues = (store: JobStoreShape): Api.SchedulerAdmin["listQueues"] =>
  Effect.map(Effect.all([store.queues, store.queueCounts], { concurrency: 2 }), ([stored, counts]) => {
    const countOf = new Map(counts.map((count) => [count.queue, count]))
    const storedNames = new Set(stored.map((queue) => queue.name))
    const fromRows = stored.map((queue): Api.QueueState => {
      const limits = queue.definedBy !== null
      return {
        name: queue.name,
        defined: limits,
        concurrency: queue.concurrency ?? undefined,
        workerConcurrency: queue.workerConcurrency ?? undefined,
        rateLimit:
          queue.rateLimit === null || queue.ratePeriodMs === null
            ? undefined
            : { limit: queue.rateLimit, period: Duration.millis(queue.ratePeriodMs) },
        partitioned: queue.partitioned,
        paused: queue.paused,
        running: countOf.get(queue.name)?.running ?? 0,
        pending: countOf.get(queue.name)?.pending ?? 0,
        updatedAt: new Date(queue.updatedAt)
      }
    })
    const onlyNamed = counts
      .filter((count) => !storedNames.has(count.queue))
      .map(
        (count): Api.QueueState => ({
          name: count.queue,
          defined: false,
          concurrency: undefined,
          workerConcurrency: undefined,
          rateLimit: undefined,
          partitioned: false,
          paused: false,
          running: count.running,
          pending: count.pending,
          updatedAt: undefined
        })
      )
    return [...fromRows, ...onlyNamed].sort((a, b) => byName(a.name, b.name))
  })
