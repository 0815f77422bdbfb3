import { describe, expect, it } from "@effect/vitest"
/** Several instances on one store: uniqueness, work sharing, partial clusters, failover, shutdown. On every backend. */
import { Job, JobSchedule } from "@jobss/core"
import { Deferred, Effect, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"
import { makeLedger } from "../support/ledger.js"

const Work = Job.make({ name: "Work", args: Schema.Struct({ n: Schema.Number, ms: Schema.Number }) })
const Other = Job.make({ name: "Other", args: Schema.Struct({ n: Schema.Number }) })
const Spaced = JobSchedule.spaced({ name: "Every200ms", every: "200 millis" })

const fast = { ...fastOptions, leaseDuration: "1 second" } as const

describe.each(runtimeBackends)("runtime cluster on %s", (backend) => {
  it.scopedLive(
    `a unique run created on each of 10 instances runs once, and again only after it ended (${backend})`,
    () =>
      Effect.gen(function* () {
        const ledger = makeLedger()
        const cluster = yield* makeCluster(backend)
        const work = Work.toLayer(({ ms }) => Effect.zipRight(ledger.record, Effect.sleep(ms)))
        const instances = yield* Effect.forEach(
          Array.from({ length: 10 }),
          () => cluster.start({ ...fast, workers: 5 }, work),
          {
            concurrency: "unbounded"
          }
        )
        const ids = yield* Effect.forEach(
          instances,
          (instance, n) => instance.scheduler.createRun(Work, { n, ms: 300 }, { unique: "GlobalUniqueJob1" }),
          { concurrency: "unbounded" }
        )
        expect(new Set(ids).size).toBe(1)
        const first = ids[0]!
        expect((yield* instances[0]!.scheduler.awaitRun(first, { timeout: "15 seconds" })).status).toBe("succeeded")
        expect(ledger.of(first)).toHaveLength(1)
        const again = yield* instances[3]!.scheduler.createRun(Work, { n: 99, ms: 0 }, { unique: "GlobalUniqueJob1" })
        expect(again).not.toBe(first)
        expect((yield* instances[0]!.scheduler.awaitRun(again, { timeout: "15 seconds" })).status).toBe("succeeded")
        expect(ledger.entries).toHaveLength(2)
      })
  )

  it.scopedLive(
    `a scheduled unique run with limit 2 created on each of 5 instances runs exactly twice (${backend})`,
    () =>
      Effect.gen(function* () {
        const ledger = makeLedger()
        const cluster = yield* makeCluster(backend)
        const work = Work.toLayer(() => ledger.record)
        const instances = yield* Effect.forEach(
          Array.from({ length: 5 }),
          () => cluster.start({ ...fast, schedules: [Spaced] }, work),
          {
            concurrency: "unbounded"
          }
        )
        const ids = yield* Effect.forEach(
          instances,
          (instance, n) =>
            instance.scheduler.createRun(Work, { n, ms: 0 }, { unique: "ScheduledUnique", schedule: Spaced, limit: 2 }),
          { concurrency: "unbounded" }
        )
        expect(new Set(ids).size).toBe(1)
        expect((yield* instances[0]!.scheduler.awaitRun(ids[0]!, { timeout: "15 seconds" })).status).toBe("succeeded")
        yield* Effect.sleep("600 millis")
        expect(ledger.entries).toHaveLength(2)
      })
  )

  it.scopedLive(`work sharing: 30 runs created on one of 10 one-worker instances run on several (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const cluster = yield* makeCluster(backend)
      const work = Work.toLayer(({ ms }) => Effect.zipRight(ledger.record, Effect.sleep(ms)))
      const instances = yield* Effect.forEach(
        Array.from({ length: 10 }),
        () => cluster.start({ ...fast, workers: 1 }, work),
        {
          concurrency: "unbounded"
        }
      )
      const ids = yield* instances[0]!.scheduler.createRuns(
        Work,
        Array.from({ length: 30 }, (_, n) => ({ n, ms: 100 }))
      )
      yield* Effect.forEach(ids, (id) => instances[0]!.scheduler.awaitRun(id, { timeout: "30 seconds" }), {
        discard: true
      })
      expect(ledger.entries).toHaveLength(30)
      expect(new Set(ledger.entries.map((entry) => entry.originId)).size).toBe(30)
      expect(new Set(ledger.entries.map((entry) => entry.instance)).size).toBeGreaterThan(1)
    })
  )

  it.scopedLive(`an instance never claims runs of jobs it does not implement (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const cluster = yield* makeCluster(backend)
      const onlyWork = yield* cluster.start(
        fast,
        Work.toLayer(() => ledger.record)
      )
      const workAndOther = yield* cluster.start(
        fast,
        Other.toLayer(() => ledger.record)
      )
      const ids = yield* onlyWork.scheduler.createRuns(
        Other,
        Array.from({ length: 5 }, (_, n) => ({ n }))
      )
      yield* Effect.forEach(ids, (id) => onlyWork.scheduler.awaitRun(id, { timeout: "15 seconds" }), { discard: true })
      expect(ledger.entries.map((entry) => entry.instance)).toEqual(Array(5).fill(workAndOther.jobs.instanceId))

      const Unknown = Job.make({ name: "DeployedLater", args: Schema.Struct({}) })
      const waitingId = yield* onlyWork.scheduler.createRun(Unknown, {})
      yield* Effect.sleep("500 millis")
      expect((yield* onlyWork.scheduler.getRunState(waitingId)).status).toBe("pending")
      const waiting = yield* onlyWork.scheduler.waitingRuns
      expect(waiting.map((run) => run.originId)).toEqual([waitingId])
      const later = yield* cluster.start(
        fast,
        Unknown.toLayer(() => ledger.record)
      )
      expect((yield* later.scheduler.awaitRun(waitingId, { timeout: "15 seconds" })).runStartedBy).toBe(
        later.jobs.instanceId
      )
    })
  )

  it.scopedLive(`failover: a run on a hung instance is completed by another after its lease (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const cluster = yield* makeCluster(backend)
      const started = yield* Deferred.make<void>()
      const a = yield* cluster.start(
        fast,
        Work.toLayer(() => Effect.zipRight(Deferred.succeed(started, undefined), Effect.never))
      )
      const id = yield* a.scheduler.createRun(Work, { n: 1, ms: 0 }, { runTimeout: "1 second" })
      yield* Deferred.await(started)
      yield* a.freezer.freeze("hang")
      const b = yield* cluster.start(
        fast,
        Work.toLayer(() => ledger.record)
      )
      const state = yield* b.scheduler.awaitRun(id, { timeout: "20 seconds" })
      expect(state).toMatchObject({
        status: "succeeded",
        createdBy: a.jobs.instanceId,
        runStartedBy: b.jobs.instanceId,
        runCompletedError: undefined
      })
      expect(ledger.of(id)).toHaveLength(1)
      expect(ledger.of(id)[0]!.instance).toBe(b.jobs.instanceId)
      expect((yield* b.jobs.counters).runsStarted).toBe(1)
      yield* a.freezer.freeze("fail")
    })
  )

  it.scopedLive(`shutdown records finished runs and hands interrupted ones back to another instance (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const cluster = yield* makeCluster(backend)
      const finalized: Array<number> = []
      const slowOnA = Work.toLayer(({ ms, n }) =>
        Effect.zipRight(ledger.record, Effect.sleep(ms)).pipe(
          Effect.onInterrupt(() => Effect.sync(() => finalized.push(n)))
        )
      )
      const a = yield* cluster.start({ ...fast, workers: 2, shutdownTimeout: "500 millis" }, slowOnA)
      const short = yield* a.scheduler.createRun(Work, { n: 1, ms: 200 })
      const long = yield* a.scheduler.createRun(Work, { n: 2, ms: 60_000 })
      yield* Effect.sleep("150 millis")
      expect(ledger.entries).toHaveLength(2)
      yield* a.stop
      expect(finalized).toEqual([2])
      const client = yield* cluster.client
      expect((yield* client.getRunState(short)).status).toBe("succeeded")
      const handedBack = yield* client.getRunState(long)
      expect(handedBack).toMatchObject({
        status: "pending",
        retriesOnErrorCount: 0,
        retriesOnTimeoutCount: 0,
        runTotalCount: 0
      })
      const b = yield* cluster.start(
        fast,
        Work.toLayer(() => ledger.record)
      )
      const state = yield* b.scheduler.awaitRun(long, { timeout: "15 seconds" })
      expect(state).toMatchObject({ status: "succeeded", runStartedBy: b.jobs.instanceId })
      const store = yield* cluster.store
      const rows = yield* store.instances
      const stopped = rows.find((row) => row.id === a.jobs.instanceId)!
      expect(stopped.shutdownAt).not.toBeNull()
      expect(stopped).toMatchObject({ runsStarted: 2, runsSucceeded: 1 })
    })
  )
})
