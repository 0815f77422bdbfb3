/**
 * The counting part of the admin API: `countRuns` (occurrences by status, job and queue) and
 * `listQueues` (stored queues joined with their running and pending counts), over a store.
 */
import { Duration, Effect } from "effect"
import type { JobStoreShape } from "../JobStore.js"
import type * as Api from "./adminApi.js"
import type { RunStatus } from "./runRow.js"

type Counts = { -readonly [S in RunStatus]: number }

/** Every status at 0. */
export const zeroCounts = (): Counts => ({ pending: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 })

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Sums counts per status and per `key`, the groups sorted by key. */
const group = <A extends { readonly status: RunStatus; readonly count: number }>(
  counts: ReadonlyArray<A>,
  key: (count: A) => string
): ReadonlyArray<{ readonly key: string; readonly total: number; readonly byStatus: Counts }> => {
  const groups = new Map<string, { key: string; total: number; byStatus: Counts }>()
  for (const count of counts) {
    const at = key(count)
    const entry = groups.get(at) ?? { key: at, total: 0, byStatus: zeroCounts() }
    entry.total += count.count
    entry.byStatus[count.status] += count.count
    groups.set(at, entry)
  }
  return [...groups.values()].sort((a, b) => byName(a.key, b.key))
}

/** `countRuns` over a store: every occurrence by status, by job and by queue. */
export const countRuns = (store: JobStoreShape): Api.SchedulerAdmin["countRuns"] =>
  Effect.map(
    Effect.all([store.admin.countRuns, store.admin.countQueueRuns], { concurrency: 2 }),
    ([counts, queueCounts]): Api.RunCounts => {
      const all = group(counts, () => "")[0]
      return {
        total: all?.total ?? 0,
        byStatus: all?.byStatus ?? zeroCounts(),
        byJob: group(counts, (count) => count.job).map(({ key, ...rest }) => ({ job: key, ...rest })),
        byQueue: group(queueCounts, (count) => count.queue).map(({ key, ...rest }) => ({ queue: key, ...rest }))
      }
    }
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
