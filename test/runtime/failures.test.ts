import { describe, expect, it } from "@effect/vitest"
/** Errors, defects, timeouts and cancellation, with the limits at each level. On every backend. */
import { Job } from "@jobss/core"
import { Deferred, Duration, Effect, Layer, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"
import { makeLedger } from "../support/ledger.js"

const Args = Schema.Struct({ failures: Schema.Number })

describe.each(runtimeBackends)("runtime failures on %s", (backend) => {
  it.scopedLive(`errors and defects are recorded and retried up to the run, job or instance limit (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const cluster = yield* makeCluster(backend)
      const Fails = Job.make({ name: "Fails", args: Args })
      const FailsJobLimit = Job.make({ name: "FailsJobLimit", args: Args, retriesErrorLimit: 2 })
      const Throws = Job.make({ name: "Throws", args: Args })
      const fail = ({ failures }: { failures: number }) =>
        Effect.flatMap(ledger.record, (execution) =>
          execution.attempt <= failures ? Effect.fail(`planned failure ${execution.attempt}`) : Effect.void
        )
      const implementations = Layer.mergeAll(
        Fails.toLayer(fail),
        FailsJobLimit.toLayer(fail),
        Throws.toLayer(() =>
          Effect.flatMap(ledger.record, () =>
            Effect.sync(() => {
              throw new Error("boom from a defect")
            })
          )
        )
      )
      const instance = yield* cluster.start({ ...fastOptions, retriesErrorLimit: 1 }, implementations)
      const { scheduler } = instance
      const byInstance = yield* scheduler.createRun(Fails, { failures: 100 })
      const byJob = yield* scheduler.createRun(FailsJobLimit, { failures: 100 })
      const byRun = yield* scheduler.createRun(FailsJobLimit, { failures: 100 }, { retriesErrorLimit: 0 })
      const unlimited = yield* scheduler.createRun(Fails, { failures: 4 }, { retriesErrorLimit: -1 })
      const defect = yield* scheduler.createRun(Throws, { failures: 0 })
      const states = yield* Effect.forEach([byInstance, byJob, byRun, unlimited, defect], (id) =>
        scheduler.awaitRun(id, { timeout: "20 seconds" })
      )
      expect(states.map((state) => state.status)).toEqual(["failed", "failed", "failed", "succeeded", "failed"])
      expect([byInstance, byJob, byRun, unlimited, defect].map((id) => ledger.of(id).length)).toEqual([2, 3, 1, 5, 2])
      expect(states[0]).toMatchObject({ retriesOnErrorCount: 1, retriesErrorLimit: 1, runTotalCount: 2 })
      expect(states[0]!.runCompletedError).toContain("planned failure 2")
      expect(states[1]).toMatchObject({ retriesOnErrorCount: 2, retriesErrorLimit: 2 })
      expect(states[2]).toMatchObject({ retriesOnErrorCount: 0, retriesErrorLimit: 0 })
      expect(states[3]).toMatchObject({ retriesOnErrorCount: 4, retriesErrorLimit: -1, runCompletedError: undefined })
      expect(states[4]!.runCompletedError).toContain("boom from a defect")
      expect((yield* instance.jobs.counters).runsErrors).toBe(2 + 3 + 1 + 4 + 2)
    })
  )

  it.scopedLive(`a timeout interrupts the job, runs its finalizer and is retried up to the limit (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const cluster = yield* makeCluster(backend)
      const finalized: Array<number> = []
      const Slow = Job.make({ name: "Slow", args: Schema.Struct({}), runTimeout: "300 millis", retriesTimeoutLimit: 1 })
      const instance = yield* cluster.start(
        fastOptions,
        Slow.toLayer(() =>
          Effect.flatMap(ledger.record, (execution) =>
            Effect.sleep("30 seconds").pipe(Effect.ensuring(Effect.sync(() => finalized.push(execution.attempt))))
          )
        )
      )
      const id = yield* instance.scheduler.createRun(Slow, {})
      const state = yield* instance.scheduler.awaitRun(id, { timeout: "20 seconds" })
      expect(state).toMatchObject({
        status: "failed",
        retriesOnTimeoutCount: 1,
        retriesTimeoutLimit: 1,
        runTimeout: Duration.millis(300)
      })
      expect(state.runCompletedError).toContain("Timed out after 300 ms")
      expect(finalized).toEqual([1, 2])
      expect(ledger.of(id)).toHaveLength(2)
      expect((yield* instance.jobs.counters).runsTimedOut).toBe(2)
    })
  )

  it.scopedLive(
    `cancelRun: a pending run never starts, a running one is interrupted on another instance (${backend})`,
    () =>
      Effect.gen(function* () {
        const ledger = makeLedger()
        const cluster = yield* makeCluster(backend)
        const started = yield* Deferred.make<void>()
        const interrupted = yield* Deferred.make<void>()
        const Long = Job.make({ name: "Long", args: Schema.Struct({}) })
        const runner = yield* cluster.start(
          fastOptions,
          Long.toLayer(() =>
            ledger.record.pipe(
              Effect.zipRight(Deferred.succeed(started, undefined)),
              Effect.zipRight(Effect.never),
              Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
            )
          )
        )
        const client = yield* cluster.client
        const pending = yield* client.createRun(Long, {}, { delay: "1 hour" })
        expect(yield* client.cancelRun(pending)).toBe("cancelled")
        expect((yield* client.getRunState(pending)).status).toBe("cancelled")

        const running = yield* client.createRun(Long, {})
        yield* Deferred.await(started)
        expect(yield* client.cancelRun(running)).toBe("requested")
        yield* Deferred.await(interrupted).pipe(Effect.timeout("5 seconds"))
        const state = yield* client.awaitRun(running, { timeout: "5 seconds" })
        expect(state.status).toBe("cancelled")
        expect(yield* client.cancelRun(running)).toBe("finished")
        expect(ledger.entries.map((entry) => entry.originId)).toEqual([running])
        expect(runner.jobs.instanceId).toBe(state.runStartedBy)
      })
  )
})
