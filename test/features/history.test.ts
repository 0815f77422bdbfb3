import { describe, expect, it } from "@effect/vitest"
/** Run history, retention, the pending-runs gauge and the stored trace context, at runtime on every backend. */
import { Job, JobsSMetrics, RunInfo } from "@jobss/core"
import { Deferred, Duration, Effect, Metric, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends, startRecorded } from "../support/cluster.js"
import { eventually } from "../support/eventually.js"

const Flaky = Job.make({ name: "HistoryFlaky", args: Schema.Struct({ failures: Schema.Number }) })
const Slow = Job.make({ name: "HistorySlow", args: Schema.Struct({}) })

const fast = { ...fastOptions, leaseDuration: "1 second" } as const

/** Fails its first `failures` attempts, each after 50 ms of work. */
const FlakyLive = Flaky.toLayer(({ failures }) =>
  Effect.gen(function* () {
    const info = yield* RunInfo
    yield* Effect.sleep("50 millis")
    if (info.retriesOnErrorCount < failures) return yield* Effect.fail(`attempt ${info.runTotalCount} failed`)
  })
)

describe.each(runtimeBackends)("run history and retention on %s", (backend) => {
  it.scopedLive(`a run that fails twice then succeeds shows its 3 attempts (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const instance = yield* cluster.start(fast, FlakyLive)
      const id = yield* instance.scheduler.createRun(Flaky, { failures: 2 }, { retriesErrorLimit: 5 })
      expect((yield* instance.scheduler.awaitRun(id, { timeout: "15 seconds" })).status).toBe("succeeded")
      const history = yield* instance.scheduler.getRunHistory(id)
      expect(history.map((attempt) => [attempt.attempt, attempt.outcome, attempt.runCompletedError])).toEqual([
        [1, "retried", expect.stringContaining("attempt 1 failed")],
        [2, "retried", expect.stringContaining("attempt 2 failed")],
        [3, "succeeded", undefined]
      ])
      for (const attempt of history) {
        expect(attempt).toMatchObject({ originId: id, id, occurrence: 0, job: Flaky.name })
        expect(attempt.runStartedBy).toBe(instance.jobs.instanceId)
        expect(Duration.toMillis(attempt.duration)).toBeGreaterThanOrEqual(40)
        expect(Duration.toMillis(attempt.duration)).toBeLessThan(10_000)
        expect(attempt.runCompletedAt.getTime() - attempt.runStartedAt.getTime()).toBe(
          Duration.toMillis(attempt.duration)
        )
      }
      expect(history[1]!.runStartedAt.getTime()).toBeGreaterThanOrEqual(history[0]!.runCompletedAt.getTime())
    })
  )

  it.scopedLive(`timed-out and taken-over attempts are recorded as such (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const started = yield* Deferred.make<void>()
      const a = yield* cluster.start(
        { ...fast, shutdownTimeout: "100 millis" },
        Slow.toLayer(() => Effect.zipRight(Deferred.succeed(started, undefined), Effect.never))
      )
      // a hung instance never shuts down: let its store fail at the end of the test
      yield* Effect.addFinalizer(() => a.freezer.freeze("fail"))
      const timedOut = yield* a.scheduler.createRun(Slow, {}, { runTimeout: "200 millis", retriesTimeoutLimit: 0 })
      expect((yield* a.scheduler.awaitRun(timedOut, { timeout: "15 seconds" })).status).toBe("failed")
      const [attempt] = yield* a.scheduler.getRunHistory(timedOut)
      expect(attempt).toMatchObject({ outcome: "timedOut", runCompletedError: "Timed out after 200 ms" })
      expect(Duration.toMillis(attempt!.duration)).toBeGreaterThanOrEqual(150)

      // an instance that hangs: another one takes the run over once the lease has expired
      const startedAgain = yield* Deferred.make<void>()
      yield* Deferred.succeed(started, undefined)
      const lost = yield* a.scheduler.createRun(Slow, {}, { runTimeout: "1 minute", retriesTimeoutLimit: 0 })
      // hangs once its heartbeat recorded the start (a run whose start was never recorded is given back instead)
      const store = yield* cluster.store
      yield* eventually(store.get(lost), startRecorded)
      yield* a.freezer.freeze("hang")
      const b = yield* cluster.start(
        fast,
        Slow.toLayer(() => Deferred.succeed(startedAgain, undefined))
      )
      expect((yield* b.scheduler.awaitRun(lost, { timeout: "20 seconds" })).status).toBe("failed")
      const [takenOver] = yield* b.scheduler.getRunHistory(lost)
      expect(takenOver).toMatchObject({ outcome: "lost", runStartedBy: a.jobs.instanceId })
      expect(takenOver!.runCompletedError).toContain("stopped heart-beating")
      expect(yield* Deferred.isDone(startedAgain)).toBe(false) // no retry was left
    })
  )

  it.scopedLive(`retention deletes finished runs and their history, never active ones (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const instance = yield* cluster.start(
        {
          ...fast,
          retention: { succeeded: "300 millis", failed: "forever", cancelled: "300 millis" },
          retentionCheck: "100 millis"
        },
        FlakyLive
      )
      const { scheduler } = instance
      const succeeded = yield* scheduler.createRun(Flaky, { failures: 0 })
      const failed = yield* scheduler.createRun(Flaky, { failures: 1 }, { retriesErrorLimit: 0 })
      const later = yield* scheduler.createRun(Flaky, { failures: 0 }, { delay: "1 hour" })
      expect((yield* scheduler.awaitRun(succeeded, { timeout: "15 seconds" })).status).toBe("succeeded")
      expect((yield* scheduler.awaitRun(failed, { timeout: "15 seconds" })).status).toBe("failed")
      expect(yield* scheduler.getRunHistory(succeeded)).toHaveLength(1)
      const gone = yield* eventually(Effect.either(scheduler.getRunState(succeeded)), (state) => state._tag === "Left")
      expect(gone).toMatchObject({ _tag: "Left", left: { _tag: "RunNotFound" } })
      expect((yield* Effect.flip(scheduler.getRunHistory(succeeded)))._tag).toBe("RunNotFound")
      expect((yield* scheduler.getRunState(failed)).status).toBe("failed") // kept forever
      expect(yield* scheduler.getRunHistory(failed)).toHaveLength(1)
      expect((yield* scheduler.getRunState(later)).status).toBe("pending")
      expect(yield* scheduler.getRunHistory(later)).toEqual([])
    })
  )

  it.scopedLive(`the jobss_runs_pending gauge reports pending runs per job (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const instance = yield* cluster.start(fast, FlakyLive)
      // a job name of this test only: metrics are global to the process
      const Waiting = Job.make({ name: `HistoryWaiting-${backend}`, args: Schema.Struct({}) })
      const gauge = Metric.value(Metric.tagged(JobsSMetrics.runsPending, "job", Waiting.name))
      const ids = yield* instance.scheduler.createRuns(Waiting, [{}, {}, {}])
      expect((yield* eventually(gauge, (state) => state.value === 3)).value).toBe(3)
      yield* Effect.forEach(ids, (id) => instance.scheduler.cancelRun(id), { discard: true })
      expect((yield* eventually(gauge, (state) => state.value === 0)).value).toBe(0)
    })
  )

  it.scopedLive(`a run created inside a span stores that span's trace context (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const instance = yield* cluster.start(fast, FlakyLive)
      const { id, span } = yield* Effect.gen(function* () {
        const span = yield* Effect.currentSpan
        const id = yield* instance.scheduler.createRun(Flaky, { failures: 0 }, { delay: "1 hour" })
        return { id, span }
      }).pipe(Effect.withSpan("handle request"))
      const store = yield* cluster.store
      const stored = yield* store.get(id)
      // Effect's built-in tracer exports nowhere: createRun makes no span of its own under it
      expect(stored?.traceContext).toBe(`00-${span.traceId}-${span.spanId}-01`)
      const unspanned = yield* instance.scheduler.createRun(Flaky, { failures: 0 }, { delay: "1 hour" })
      expect((yield* store.get(unspanned))?.traceContext).toBeNull()
      const outside = yield* Effect.withTracerEnabled(instance.scheduler.createRun(Flaky, { failures: 0 }), false)
      expect((yield* store.get(outside))?.traceContext).toBeNull()
    })
  )
})
