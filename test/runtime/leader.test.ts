/**
 * Maintenance on one leader, on every backend: of several instances exactly one holds the
 * maintenance lease and only it runs the reaper, retention and the pending gauge; a leader that
 * stops gracefully gives the lease up at once, a frozen one loses it once it expires; runs of a dead
 * instance are still taken over within `leaseDuration + timeoutCheck`, in a partial cluster too.
 */
import { describe, expect, it } from "@effect/vitest"
import { Job, type JobStore } from "@jobss/core"
import { Deferred, Effect, Schema } from "effect"
import { type TestInstance, fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"
import { makeLedger } from "../support/ledger.js"

const Work = Job.make({ name: "Work", args: Schema.Struct({ n: Schema.Number }) })
const Other = Job.make({ name: "Other", args: Schema.Struct({ n: Schema.Number }) })

/** Fast loops, retention included, so every kind of maintenance shows within a second. */
const options = { ...fastOptions, retentionCheck: "200 millis", shutdownTimeout: "1 second" } as const

/** The maintenance lease's name (`internal/leader.ts`). */
const leaseName = "maintenance"

const maintenance = ["reap", "prune", "pendingCounts"] as const

const maintenanceCalls = (instance: TestInstance): ReadonlyArray<number> =>
  maintenance.map((operation) => instance.calls(operation))

/** Waits (live clock, bounded) until a live lease is held by one of `among`; returns it. */
const leaderAmong = (
  store: JobStore.JobStoreShape,
  among: ReadonlyArray<TestInstance>,
  within = 10_000
): Effect.Effect<TestInstance, unknown> =>
  Effect.gen(function* () {
    const deadline = Date.now() + within
    while (Date.now() < deadline) {
      const lease = yield* store.lease(leaseName)
      const leader = among.find((instance) => lease?.live === true && lease.holder === instance.jobs.instanceId)
      if (leader !== undefined) return leader
      yield* Effect.sleep("25 millis")
    }
    return yield* Effect.fail(new Error(`no leader among ${among.length} instances within ${within} ms`))
  })

describe.each(runtimeBackends)("maintenance leader on %s", (backend) => {
  it.scopedLive(`of 3 instances exactly one leads, and only it runs maintenance (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const store = yield* cluster.store
      const work = Work.toLayer(() => Effect.void)
      const instances = yield* Effect.forEach([1, 2, 3], () => cluster.start(options, work))
      const leader = yield* leaderAmong(store, instances)
      yield* Effect.sleep("500 millis")
      const before = instances.map(maintenanceCalls)
      yield* Effect.sleep("1500 millis")
      const lease = yield* store.lease(leaseName)
      expect(lease).toMatchObject({ holder: leader.jobs.instanceId, live: true, jobs: ["Work"] })
      instances.forEach((instance, i) => {
        const during = maintenanceCalls(instance).map((calls, k) => calls - before[i]![k]!)
        if (instance === leader) for (const calls of during) expect(calls).toBeGreaterThan(0)
        else expect(during, `instance ${i} is not the leader`).toEqual([0, 0, 0])
        expect(instance.calls("acquireLease")).toBeGreaterThan(0)
      })
    })
  )

  it.scopedLive(`a leader stopped gracefully gives the lease up at once; another takes over (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const store = yield* cluster.store
      const work = Work.toLayer(() => Effect.void)
      const instances = yield* Effect.forEach([1, 2, 3], () => cluster.start(options, work))
      const leader = yield* leaderAmong(store, instances)
      yield* leader.stop
      const rest = instances.filter((instance) => instance !== leader)
      const after = yield* store.lease(leaseName)
      // freed before the lease ran out: either free now or already taken by one of the others
      expect(after?.live === false || rest.some((instance) => instance.jobs.instanceId === after?.holder)).toBe(true)
      const next = yield* leaderAmong(store, rest, 2_000)
      const before = next.calls("pendingCounts")
      yield* Effect.sleep("500 millis")
      expect(next.calls("pendingCounts")).toBeGreaterThan(before)
    })
  )

  it.scopedLive(`a frozen leader is replaced once its lease expired (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const store = yield* cluster.store
      const work = Work.toLayer(() => Effect.void)
      const instances = yield* Effect.forEach([1, 2, 3], () => cluster.start(options, work))
      const leader = yield* leaderAmong(store, instances)
      yield* leader.freezer.freeze("hang")
      const frozenLease = yield* store.lease(leaseName)
      const rest = instances.filter((instance) => instance !== leader)
      const next = yield* leaderAmong(store, rest)
      const now = yield* store.now
      expect(now).toBeGreaterThanOrEqual(frozenLease!.leaseUntil)
      const before = next.calls("pendingCounts")
      yield* Effect.sleep("500 millis")
      expect(next.calls("pendingCounts")).toBeGreaterThan(before)
      yield* leader.freezer.freeze("fail")
    })
  )

  it.scopedLive(`a run of a dead leader is taken over within leaseDuration + timeoutCheck (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const cluster = yield* makeCluster(backend)
      const store = yield* cluster.store
      const started = yield* Deferred.make<void>()
      const a = yield* cluster.start(
        options,
        Work.toLayer(() => Effect.zipRight(Deferred.succeed(started, undefined), Effect.never))
      )
      yield* leaderAmong(store, [a])
      const id = yield* a.scheduler.createRun(Work, { n: 1 })
      yield* Deferred.await(started)
      const work = Work.toLayer(() => ledger.record)
      const rest = yield* Effect.forEach([1, 2], () => cluster.start(options, work))
      yield* a.freezer.freeze("hang")
      const frozenAt = Date.now()
      const state = yield* rest[0]!.scheduler.awaitRun(id, { timeout: "20 seconds" })
      const takenOverMs = Date.now() - frozenAt
      expect(state.status).toBe("succeeded")
      expect(ledger.of(id)).toHaveLength(1)
      // the bound: leaseDuration (2 s) + timeoutCheck (200 ms), and time to run the retry
      expect(takenOverMs).toBeLessThan(2_200 + 1_500)
      yield* a.freezer.freeze("fail")
    })
  )

  it.scopedLive(`the leader settles the runs it takes over together, not one write each (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const store = yield* cluster.store
      const count = 40
      const started = yield* Deferred.make<void>()
      let running = 0
      const a = yield* cluster.start(
        { ...options, workers: count },
        Work.toLayer(() =>
          Effect.zipRight(
            Effect.sync(() => ++running === count && Deferred.unsafeDone(started, Effect.void)),
            Effect.never
          )
        )
      )
      yield* leaderAmong(store, [a])
      const ids = yield* Effect.forEach(
        Array.from({ length: count }, (_, n) => n),
        (n) => a.scheduler.createRun(Work, { n })
      )
      yield* Deferred.await(started)
      const b = yield* cluster.start(
        options,
        Work.toLayer(() => Effect.void)
      )
      yield* a.freezer.freeze("hang")
      yield* Effect.forEach(ids, (id) => b.scheduler.awaitRun(id, { timeout: "20 seconds" }), {
        concurrency: "unbounded"
      })
      // 40 takeovers and 40 attempts settled in a few batched writes (one write per takeover before)
      expect(b.calls("reap")).toBeGreaterThan(0)
      expect(b.calls("settle")).toBeLessThan(count / 2)
      yield* a.freezer.freeze("fail")
    })
  )

  it.scopedLive(
    `partial cluster: a run of a job the leader lacks is taken over by an instance with it (${backend})`,
    () =>
      Effect.gen(function* () {
        const ledger = makeLedger()
        const cluster = yield* makeCluster(backend)
        const store = yield* cluster.store
        const started = yield* Deferred.make<void>()
        const leader = yield* cluster.start(
          options,
          Work.toLayer(() => Effect.void)
        )
        yield* leaderAmong(store, [leader])
        const stuck = yield* cluster.start(
          options,
          Other.toLayer(() => Effect.zipRight(Deferred.succeed(started, undefined), Effect.never))
        )
        const id = yield* stuck.scheduler.createRun(Other, { n: 1 })
        yield* Deferred.await(started)
        const rescuer = yield* cluster.start(
          options,
          Other.toLayer(() => ledger.record)
        )
        yield* stuck.freezer.freeze("hang")
        const state = yield* rescuer.scheduler.awaitRun(id, { timeout: "20 seconds" })
        expect(state.status).toBe("succeeded")
        expect(ledger.of(id).map((entry) => entry.instance)).toEqual([rescuer.jobs.instanceId])
        expect((yield* store.lease(leaseName))?.holder).toBe(leader.jobs.instanceId)
        expect(rescuer.calls("reap")).toBeGreaterThan(0)
        yield* stuck.freezer.freeze("fail")
      })
  )
})
