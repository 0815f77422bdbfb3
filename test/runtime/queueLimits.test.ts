/**
 * Queue limits at runtime, on every backend, with in-process instances: the cluster-wide
 * concurrency never exceeded (3 instances of 4 workers, the store sampled at every attempt start
 * and the attempts' overlap measured), `workerConcurrency` capping each instance, and no
 * head-of-line blocking (a saturated queue holds back neither other queues nor runs in no queue).
 */
import { describe, expect, it } from "@effect/vitest"
import { Job, JobQueue } from "@jobss/core"
import { Effect, Layer, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"
import { makeLedger } from "../support/ledger.js"

const args = Schema.Struct({ n: Schema.Number })
const Limited = JobQueue.make({ name: "limited", concurrency: 5, workerConcurrency: 2 })
const Capped = Job.make({ name: "Capped", args, queue: Limited })
const Narrow = JobQueue.make({ name: "narrow", concurrency: 1 })
const Slow = Job.make({ name: "Slow", args, queue: Narrow })
const Free = Job.make({ name: "Free", args })

/** The most intervals open at once, from `[start, end]` pairs. */
const maxOverlap = (intervals: ReadonlyArray<readonly [number, number]>): number => {
  const edges = intervals.flatMap(
    ([start, end]): Array<readonly [number, number]> => [
      [start, 1],
      [end, -1]
    ]
  )
  // an end before a start at the same instant: touching intervals do not overlap
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let open = 0
  let most = 0
  for (const [, step] of edges) {
    open += step
    most = Math.max(most, open)
  }
  return most
}

describe.each(runtimeBackends)("queue limits at runtime on %s", (backend) => {
  it.scopedLive(
    `3 instances of 4 workers: at most 5 runs of the queue at once cluster-wide, at most 2 per instance (${backend})`,
    () =>
      Effect.gen(function* () {
        const ledger = makeLedger()
        const cluster = yield* makeCluster(backend)
        const store = yield* cluster.store
        const sampled: Array<number> = []
        const intervals: Array<readonly [number, number, string]> = []
        const work = Capped.toLayer(() =>
          Effect.gen(function* () {
            const entry = yield* ledger.record
            const counts = yield* Effect.orDie(store.queueCounts)
            sampled.push(counts.find((count) => count.queue === "limited")?.running ?? 0)
            yield* Effect.sleep("40 millis")
            intervals.push([entry.at, Date.now(), entry.instance])
          })
        )
        const instances = yield* Effect.forEach([1, 2, 3], () => cluster.start({ ...fastOptions, workers: 4 }, work), {
          concurrency: "unbounded"
        })
        const ids = yield* instances[0]!.scheduler.createRuns(
          Capped,
          Array.from({ length: 45 }, (_, n) => ({ n }))
        )
        for (const id of ids) {
          expect((yield* instances[1]!.scheduler.awaitRun(id, { timeout: "60 seconds" })).status).toBe("succeeded")
        }
        expect(ledger.entries).toHaveLength(45)
        // the store's own count at every start, and the attempts' overlap
        expect(Math.max(...sampled)).toBeLessThanOrEqual(5)
        expect(maxOverlap(intervals.map(([start, end]) => [start, end]))).toBeLessThanOrEqual(5)
        for (const instance of instances) {
          const mine = intervals.filter(([, , id]) => id === instance.jobs.instanceId)
          expect(maxOverlap(mine.map(([start, end]) => [start, end]))).toBeLessThanOrEqual(2)
        }
        // every instance took part: the limit is shared, not held by one
        expect(new Set(intervals.map(([, , id]) => id)).size).toBe(3)
      })
  )

  it.scopedLive(`a saturated queue holds back neither runs in no queue nor other queues (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const cluster = yield* makeCluster(backend)
      const implementations = Layer.mergeAll(
        Slow.toLayer(() => Effect.zipRight(ledger.record, Effect.sleep("5 seconds"))),
        Free.toLayer(() => Effect.asVoid(ledger.record)),
        Capped.toLayer(() => Effect.asVoid(ledger.record))
      )
      const instance = yield* cluster.start({ ...fastOptions, workers: 4 }, implementations)
      // the narrow queue is saturated by its first run; 20 more wait, due before the others and first by priority
      yield* instance.scheduler.createRuns(
        Slow,
        Array.from({ length: 21 }, (_, n) => ({ n })),
        { priority: -10 }
      )
      yield* Effect.sleep("50 millis")
      const frees = yield* instance.scheduler.createRuns(
        Free,
        Array.from({ length: 10 }, (_, n) => ({ n }))
      )
      const cappeds = yield* instance.scheduler.createRuns(
        Capped,
        Array.from({ length: 10 }, (_, n) => ({ n }))
      )
      for (const id of [...frees, ...cappeds]) {
        expect((yield* instance.scheduler.awaitRun(id, { timeout: "4 seconds" })).status).toBe("succeeded")
      }
      expect(ledger.entries.filter((entry) => entry.job === "Slow")).toHaveLength(1)
    })
  )
})
