/**
 * Flow control at runtime, on every backend: pause and resume across instances (stored; the runs
 * of other jobs go on meanwhile), priority order, the queue gauges and wait histogram, and runs
 * waiting on a rate window started as it frees a slot, not at the next poll; where the store wakes
 * other instances (memory, PostgreSQL), a slot freed on one instance taken at once by another.
 */
import { describe, expect, it } from "@effect/vitest"
import { Job, JobQueue, JobsSMetrics } from "@jobss/core"
import { Deferred, Effect, Metric, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"
import { eventually } from "../support/eventually.js"
import { makeLedger } from "../support/ledger.js"

const Reports = JobQueue.make({ name: "reports" })
const Report = Job.make({ name: "Report", args: Schema.Struct({ n: Schema.Number }), queue: Reports })
const Other = Job.make({ name: "Other", args: Schema.Struct({ n: Schema.Number }) })

describe.each(runtimeBackends)("queues at runtime on %s", (backend) => {
  it.scopedLive(
    `a queue paused on one instance starts no run on any; other runs go on; resumed on another, all run (${backend})`,
    () =>
      Effect.gen(function* () {
        const ledger = makeLedger()
        const cluster = yield* makeCluster(backend)
        const work = Report.toLayer(() => ledger.record)
        const other = Other.toLayer(() => ledger.record)
        const a = yield* cluster.start({ ...fastOptions, workers: 2 }, work)
        const b = yield* cluster.start({ ...fastOptions, workers: 2 }, work)
        const c = yield* cluster.start({ ...fastOptions, workers: 2 }, other)
        yield* a.scheduler.pauseQueue(Reports)
        const reports = yield* a.scheduler.createRuns(
          Report,
          [1, 2, 3, 4, 5, 6].map((n) => ({ n }))
        )
        const others = yield* b.scheduler.createRuns(
          Other,
          [1, 2, 3].map((n) => ({ n }))
        )
        for (const id of others) {
          expect((yield* c.scheduler.awaitRun(id, { timeout: "15 seconds" })).status).toBe("succeeded")
        }
        // several polls of every instance: the paused queue's runs are still pending
        yield* Effect.sleep("800 millis")
        expect(ledger.entries.filter((entry) => entry.job === "Report")).toEqual([])
        for (const id of reports) expect((yield* b.scheduler.getRunState(id)).status).toBe("pending")
        yield* b.scheduler.resumeQueue("reports")
        for (const id of reports) {
          expect((yield* a.scheduler.awaitRun(id, { timeout: "15 seconds" })).status).toBe("succeeded")
        }
        expect(ledger.entries.filter((entry) => entry.job === "Report")).toHaveLength(6)
      })
  )

  it.scopedLive(`due runs start lowest priority first, then earliest due (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const cluster = yield* makeCluster(backend)
      const instance = yield* cluster.start(
        { ...fastOptions, workers: 1 },
        Report.toLayer(() => ledger.record)
      )
      // paused while they are created, so that every run is due when the queue resumes
      yield* instance.scheduler.pauseQueue(Reports)
      const priorities = [5, -1, 3, 0, 5, -1, 2]
      for (const [n, priority] of priorities.entries()) {
        const id = yield* instance.scheduler.createRun(Report, { n }, { priority })
        // the run's state says where it waits and in what order
        expect(yield* instance.scheduler.getRunState(id)).toMatchObject({
          queue: Reports.name,
          priority,
          partitionKey: undefined
        })
        yield* Effect.sleep("5 millis")
      }
      yield* instance.scheduler.resumeQueue(Reports)
      yield* eventually(
        Effect.sync(() => ledger.entries.length),
        (count) => count === priorities.length
      )
      const expected = [...priorities.entries()].sort((x, y) => x[1] - y[1] || x[0] - y[0]).map(([n]) => n)
      expect(ledger.entries.map((entry) => (entry.args as { readonly n: number }).n)).toEqual(expected)
    })
  )

  it.scopedLive(`running and pending gauges per queue, and the time runs waited on the queue (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      // names of this test only: metrics are global to the process
      const queue = `metered-${backend}`
      const Metered = Job.make({
        name: `Metered-${backend}`,
        args: Schema.Struct({ n: Schema.Number }),
        queue: JobQueue.make({ name: queue, concurrency: 1 })
      })
      const gate = yield* Deferred.make<void>()
      const instance = yield* cluster.start(
        fastOptions,
        Metered.toLayer(() => Deferred.await(gate))
      )
      const ids = yield* instance.scheduler.createRuns(
        Metered,
        [1, 2, 3].map((n) => ({ n }))
      )
      const gauges = Effect.all([
        Metric.value(Metric.tagged(JobsSMetrics.queueRunning, "queue", queue)),
        Metric.value(Metric.tagged(JobsSMetrics.queuePending, "queue", queue))
      ])
      yield* eventually(gauges, ([running, pending]) => running.value === 1 && pending.value === 2)
      yield* Deferred.succeed(gate, undefined)
      for (const id of ids) {
        expect((yield* instance.scheduler.awaitRun(id, { timeout: "15 seconds" })).status).toBe("succeeded")
      }
      yield* eventually(gauges, ([running, pending]) => running.value === 0 && pending.value === 0)
      const waited = yield* Metric.value(
        JobsSMetrics.queueWait.pipe(Metric.tagged("job", Metered.name), Metric.tagged("queue", queue))
      )
      expect(waited.count).toBe(3)
    })
  )

  it.scopedLive(`runs waiting on a rate window start as it frees a slot, not at the next poll (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const Paced = Job.make({
        name: "Paced",
        args: Schema.Struct({ n: Schema.Number }),
        queue: JobQueue.make({ name: "paced", rateLimit: { limit: 2, period: "500 millis" } })
      })
      // a poll every 30 seconds: only the window's wake-up can start the later runs in time
      const instance = yield* cluster.start(
        { ...fastOptions, pollInterval: "30 seconds" },
        Paced.toLayer(() => Effect.void)
      )
      const ids = yield* instance.scheduler.createRuns(
        Paced,
        [1, 2, 3, 4, 5, 6].map((n) => ({ n }))
      )
      for (const id of ids) {
        expect((yield* instance.scheduler.awaitRun(id, { timeout: "10 seconds" })).status).toBe("succeeded")
      }
    })
  )
})

// The stores with wake-ups across instances (PostgreSQL's NOTIFY; the memory store in-process). On
// MySQL/MariaDB and SQLite a slot freed by another instance is noticed at the next poll, as the
// README says: there is nothing to wake.
describe.each(["memory", "postgres"] as const)("a freed queue slot wakes other instances on %s", (backend) => {
  it.scopedLive(`a slot freed on one instance is taken at once by another, woken by the store (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const single = JobQueue.make({ name: "single", concurrency: 1 })
      const First = Job.make({ name: "First", args: Schema.Struct({ n: Schema.Number }), queue: single })
      const Second = Job.make({ name: "Second", args: Schema.Struct({ n: Schema.Number }), queue: single })
      // polls every 30 seconds: only a wake-up can start the second run in time
      const options = { ...fastOptions, pollInterval: "30 seconds" } as const
      // the first run holds the slot until the test lets it end (a fixed duration could end before a
      // loaded machine sees it running, or before b has found the queue full)
      const finishFirst = yield* Deferred.make<void>()
      const a = yield* cluster.start(
        options,
        First.toLayer(() => Deferred.await(finishFirst))
      )
      const b = yield* cluster.start(
        options,
        Second.toLayer(() => Effect.void)
      )
      const first = yield* a.scheduler.createRun(First, { n: 1 })
      yield* eventually(a.scheduler.getRunState(first), (state) => state.status === "running")
      // b claims when it is created, finds the queue full, reads the next due time and sleeps
      const readsBefore = b.calls("nextDue")
      const second = yield* b.scheduler.createRun(Second, { n: 2 })
      yield* eventually(
        Effect.sync(() => b.calls("nextDue")),
        (reads) => reads > readsBefore
      )
      expect((yield* b.scheduler.getRunState(second)).status).toBe("pending")
      yield* Deferred.succeed(finishFirst, undefined)
      expect((yield* a.scheduler.awaitRun(first, { timeout: "10 seconds" })).status).toBe("succeeded")
      expect((yield* b.scheduler.awaitRun(second, { timeout: "5 seconds" })).status).toBe("succeeded")
    })
  )
})
