/** Time-based runtime logic on the memory store, driven by TestClock: no real waiting. */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, LogLevel, Logger, Schema, TestClock } from "effect"
import { Job, JobSchedule, JobStore, JobsS, type JobsSConfig, RetryBackoff, RunInfo, Scheduler } from "../src/index.js"
import { newRun } from "./fixtures.js"

const Tick = Job.make({ name: "Tick", args: Schema.Struct({}) })

/** Lets forked fibers run after a clock adjustment. */
const settle = Effect.forEach(Array.from({ length: 20 }), () => Effect.yieldNow(), { discard: true })

const advance = (duration: Parameters<typeof TestClock.adjust>[0]) =>
  Effect.zipRight(TestClock.adjust(duration), settle)

const instance = (runs: Array<number>, fail: (attempt: number) => boolean, options: JobsSConfig.InstanceOptions = {}) =>
  Layer.build(
    Tick.toLayer(() =>
      Effect.flatMap(RunInfo, (info) =>
        Effect.suspend(() => {
          runs.push(info.runStartedAt.getTime())
          return fail(info.runTotalCount) ? Effect.fail("planned") : Effect.void
        })
      )
    ).pipe(
      Layer.provideMerge(JobsS.layer({ pollInterval: "5 seconds", ...options })),
      Layer.provide(JobStore.layerMemory),
      Layer.provide(Logger.minimumLogLevel(LogLevel.None))
    )
  ).pipe(Effect.map(Context.get(Scheduler.Scheduler)))

describe("runtime timing (memory store, TestClock)", () => {
  it.scoped("a delayed run starts when due, not at the next poll", () =>
    Effect.gen(function* () {
      const runs: Array<number> = []
      const scheduler = yield* instance(runs, () => false)
      yield* settle
      yield* scheduler.createRun(Tick, {}, { delay: "10 minutes" })
      yield* advance("9 minutes")
      expect(runs).toEqual([])
      yield* advance("59 seconds")
      expect(runs).toEqual([])
      yield* advance("1 second")
      expect(runs).toEqual([10 * 60_000])
    })
  )

  it.scoped("a scheduled run follows its schedule until its limit", () =>
    Effect.gen(function* () {
      const runs: Array<number> = []
      const EveryMinute = JobSchedule.spaced({ name: "EveryMinute", every: "1 minute" })
      const scheduler = yield* instance(runs, () => false, { schedules: [EveryMinute] })
      yield* settle
      const id = yield* scheduler.createRun(Tick, {}, { schedule: EveryMinute, limit: 3 })
      for (let minute = 0; minute < 5; minute++) yield* advance("1 minute")
      expect(runs).toEqual([60_000, 120_000, 180_000])
      expect((yield* scheduler.getRunState(id)).status).toBe("succeeded")
    })
  )

  it.scoped("retries wait for the job's backoff; the due time is stored with the run", () =>
    Effect.gen(function* () {
      const runs: Array<number> = []
      const Backoff = Job.make({
        name: "Tick",
        args: Schema.Struct({}),
        retriesErrorLimit: 3,
        retryBackoff: RetryBackoff.exponential({ base: "1 minute", factor: 2, jitter: false })
      })
      const scheduler = yield* Layer.build(
        Backoff.toLayer(() =>
          Effect.flatMap(RunInfo, (info) => {
            runs.push(info.runStartedAt.getTime())
            return info.runTotalCount <= 3 ? Effect.fail("planned") : Effect.void
          })
        ).pipe(
          Layer.provideMerge(JobsS.layer({ pollInterval: "1 hour" })),
          Layer.provide(JobStore.layerMemory),
          Layer.provide(Logger.minimumLogLevel(LogLevel.None))
        )
      ).pipe(Effect.map(Context.get(Scheduler.Scheduler)))
      yield* settle
      const id = yield* scheduler.createRun(Backoff, {})
      // the failure is settled by the instance's batching settler, a few fiber turns later
      const pending = yield* scheduler
        .getRunState(id)
        .pipe(Effect.zipLeft(Effect.yieldNow()), Effect.repeat({ until: (state) => state.retriesOnErrorCount === 1 }))
      expect(runs).toEqual([0])
      expect(pending.runAt.getTime()).toBe(60_000)
      for (let minute = 0; minute < 8; minute++) yield* advance("1 minute")
      // retries after 1, 2 and 4 minutes: at 1, 3 and 7
      expect(runs).toEqual([0, 60_000, 180_000, 420_000])
      expect((yield* scheduler.getRunState(id)).status).toBe("succeeded")
    })
  )
})

describe("missed schedules (memory store, TestClock)", () => {
  const runMissed = (missed: JobSchedule.MissedPolicy) =>
    Effect.gen(function* () {
      const EveryMinute = JobSchedule.spaced({ name: "EveryMinute", every: "1 minute", missed })
      const store = Layer.succeed(JobStore.JobStore, yield* JobStore.makeMemory)
      const client = yield* Layer.build(JobsS.layerClient().pipe(Layer.provide(store))).pipe(
        Effect.map(Context.get(Scheduler.Scheduler))
      )
      const id = yield* client.createRun(Tick, {}, { schedule: EveryMinute })
      // nobody runs the job for 10 minutes and 30 seconds: the occurrences due at 1..10 minutes are missed
      yield* TestClock.adjust("630 seconds")
      const runs: Array<number> = []
      yield* Layer.build(
        Tick.toLayer(() => Effect.flatMap(RunInfo, (info) => Effect.sync(() => runs.push(info.runAt.getTime())))).pipe(
          Layer.provideMerge(JobsS.layer({ pollInterval: "5 seconds", schedules: [EveryMinute] })),
          Layer.provide(store),
          Layer.provide(Logger.minimumLogLevel(LogLevel.None))
        )
      )
      yield* settle
      yield* advance("1 second")
      const first = yield* client.getRunState(id)
      yield* advance("60 seconds")
      return { runs: runs.map((at) => at / 1_000), first }
    })

  it.scoped("runOnce (default) runs the missed occurrence once, then continues from now", () =>
    Effect.gen(function* () {
      const { runs } = yield* runMissed("runOnce")
      expect(runs).toEqual([60, 690])
    })
  )

  it.scoped("skip does not run the missed occurrence and continues with the next future one", () =>
    Effect.gen(function* () {
      const { first, runs } = yield* runMissed("skip")
      expect(runs).toEqual([690])
      expect(first.occurrence).toBe(1)
    })
  )

  it.scoped("catchUp runs the claimed occurrence and at most the last n missed ones", () =>
    Effect.gen(function* () {
      const { runs } = yield* runMissed({ catchUp: 3 })
      expect(runs).toEqual([60, 480, 540, 600, 660])
    })
  )
})

describe("takeovers (memory store, TestClock)", () => {
  it.scoped("a run the reaper takes over counts one timeout; a lost lease counts a resurrection too", () =>
    Effect.gen(function* () {
      const context = yield* Layer.build(
        JobsS.layer({ pollInterval: "1 hour", timeoutCheck: "10 seconds" }).pipe(
          Layer.provideMerge(JobStore.layerMemory),
          Layer.provide(Logger.minimumLogLevel(LogLevel.None))
        )
      )
      const store = Context.get(context, JobStore.JobStore)
      const jobs = Context.get(context, JobsS.JobsS)
      yield* settle
      // two started attempts of an instance that is gone: one past its timeout (its lease still held), one whose
      // lease expired
      const claimGone = (fields: Partial<JobStore.NewRun>, leaseMs: number) =>
        Effect.gen(function* () {
          const run = newRun({ job: "Tick", runAt: yield* store.now, retriesTimeoutLimit: 0, ...fields })
          yield* store.insert([run])
          const claimed = yield* store.claim({ instanceId: "gone", jobs: ["Tick"], schedules: [], limit: 1, leaseMs })
          expect(claimed.map((claimedRun) => claimedRun.id)).toEqual([run.id])
          const claims = claimed.map((claimedRun) => claimedRun.claim)
          expect(yield* store.extend("gone", claims, leaseMs, claims)).toHaveLength(1)
          return run.id
        })
      const timedOut = yield* claimGone({ runTimeoutMs: 1_000 }, 3_600_000)
      const lost = yield* claimGone({ runTimeoutMs: 0 }, 2_000)
      // only now does this instance implement the job, so only its reaper could take the runs
      yield* Layer.build(Tick.toLayer(() => Effect.void)).pipe(Effect.provide(context))
      yield* advance("30 seconds")
      expect((yield* store.history(timedOut)).map((attempt) => attempt.outcome)).toEqual(["timedOut"])
      expect((yield* store.history(lost)).map((attempt) => attempt.outcome)).toEqual(["lost"])
      expect(yield* jobs.counters).toMatchObject({ runsTimedOut: 2, runsResurrected: 1, runsStarted: 0 })
    })
  )
})
