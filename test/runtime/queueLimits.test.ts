/**
 * Queue limits at runtime, on every backend, with in-process instances: the cluster-wide
 * concurrency never exceeded (3 instances of 4 workers, the store sampled at every attempt start
 * and the attempts' overlap measured), `workerConcurrency` capping each instance, and no
 * head-of-line blocking (a saturated queue holds back neither other queues nor runs in no queue);
 * per-partition concurrency holding while different keys run side by side, and each partition's
 * rate window holding across instances (both read from the stored history: each attempt from its
 * claim to its settlement, on the store's clock).
 */
import { describe, expect, it } from "@effect/vitest"
import { Job, JobQueue } from "@jobss/core"
import { Effect, Layer, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"
import { makeLedger } from "../support/ledger.js"
import { attemptIntervals, maxOverlap, mostInWindow } from "../support/queueOracle.js"

const args = Schema.Struct({ n: Schema.Number })
const Limited = JobQueue.make({ name: "limited", concurrency: 5, workerConcurrency: 2 })
const Capped = Job.make({ name: "Capped", args, queue: Limited })
const Narrow = JobQueue.make({ name: "narrow", concurrency: 1 })
const Slow = Job.make({ name: "Slow", args, queue: Narrow })
const Free = Job.make({ name: "Free", args })
const Tenants = JobQueue.make({ name: "tenants", concurrency: 2, partitioned: true })
const PerTenant = Job.make({ name: "PerTenant", args, queue: Tenants })
// one run at a time per instance: each window's starts are shared out among the instances, not all
// taken by whichever instance's timer fires first (on a loaded machine one instance could take them all)
const Metered = JobQueue.make({
  name: "metered",
  rateLimit: { limit: 4, period: "1 second" },
  workerConcurrency: 1,
  partitioned: true
})
const CallApi = Job.make({ name: "CallApi", args, queue: Metered })

/** The partition keys of the partition tests (`undefined`: the runs without a key, one partition too). */
const keys = ["a", "b", "c", undefined] as const

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

  it.scopedLive(
    `3 instances of 4 workers: at most 2 runs of each partition at once, several partitions side by side (${backend})`,
    () =>
      Effect.gen(function* () {
        const cluster = yield* makeCluster(backend)
        const store = yield* cluster.store
        const work = PerTenant.toLayer(() => Effect.sleep("100 millis"))
        // no claim-ahead: a run claimed into an instance's buffer holds its slot until a worker is free, and
        // one warm instance could then hold all 8 slots with 4 workers, leaving the others nothing to share
        const options = { ...fastOptions, workers: 4, claimAhead: "0 millis" } as const
        const instances = yield* Effect.forEach([1, 2, 3], () => cluster.start(options, work), {
          concurrency: "unbounded"
        })
        // created by a client: no instance is woken first, the 8 slots of the 4 partitions are shared out at the polls
        const client = yield* cluster.client
        const byKey = yield* Effect.forEach(keys, (partitionKey) =>
          client.createRuns(
            PerTenant,
            Array.from({ length: 8 }, (_, n) => ({ n })),
            partitionKey === undefined ? {} : { partitionKey }
          )
        )
        for (const [i, ids] of byKey.entries()) {
          for (const id of ids) {
            const state = yield* instances[1]!.scheduler.awaitRun(id, { timeout: "60 seconds" })
            expect(state).toMatchObject({ status: "succeeded", partitionKey: keys[i] })
          }
        }
        const attempts = yield* Effect.forEach(byKey, (ids) =>
          Effect.map(Effect.forEach(ids, store.history), (h) => h.flat())
        )
        const perPartition = attempts.map((of) => maxOverlap(attemptIntervals(of)))
        // the limit was reached and held in every partition, and it is each partition's: more than 2 ran at once
        expect(Math.max(...perPartition)).toBe(2)
        expect(maxOverlap(attemptIntervals(attempts.flat()))).toBeGreaterThan(2)
        expect(new Set(attempts.flat().map((attempt) => attempt.startedBy)).size).toBeGreaterThan(1)
      })
  )

  it.scopedLive(`3 instances: at most 4 starts of each partition in any 1 second window (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const store = yield* cluster.store
      const work = CallApi.toLayer(() => Effect.void)
      const instances = yield* Effect.forEach([1, 2, 3], () => cluster.start({ ...fastOptions, workers: 2 }, work), {
        concurrency: "unbounded"
      })
      const byKey = yield* Effect.forEach(["x", "y"], (partitionKey) =>
        instances[0]!.scheduler.createRuns(
          CallApi,
          Array.from({ length: 10 }, (_, n) => ({ n })),
          { partitionKey }
        )
      )
      for (const id of byKey.flat()) {
        expect((yield* instances[2]!.scheduler.awaitRun(id, { timeout: "60 seconds" })).status).toBe("succeeded")
      }
      const attempts = yield* Effect.forEach(byKey, (ids) =>
        Effect.map(Effect.forEach(ids, store.history), (h) => h.flat())
      )
      const starts = attempts.map((of) => of.map((attempt) => attempt.startedAt))
      expect(starts.map((of) => mostInWindow(of, 1_000))).toEqual([4, 4])
      // the windows are each partition's, and shared by the instances
      expect(mostInWindow(starts.flat(), 1_000)).toBeGreaterThan(4)
      expect(new Set(attempts.flat().map((attempt) => attempt.startedBy)).size).toBeGreaterThan(1)
    })
  )
})
