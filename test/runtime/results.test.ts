/** Typed results (`success`, `awaitResult`) and snoozes (`Job.snooze`, `maxSnoozes`), on every backend. */
import { describe, expect, it } from "@effect/vitest"
import { Job, JobSchedule, RunInfo } from "@jobss/core"
import { Effect, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"
import { makeLedger } from "../support/ledger.js"

const NoArgs = Schema.Struct({})

describe.each(runtimeBackends)("results and snoozes on %s", (backend) => {
  it.scopedLive(`a typed result round trip, a Date through DateFromString (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const Resize = Job.make({
        name: "Resize",
        args: Schema.Struct({ url: Schema.String }),
        success: Schema.Struct({ width: Schema.Number, at: Schema.DateFromString })
      })
      const at = new Date("2025-01-02T03:04:05.678Z")
      const instance = yield* cluster.start(
        fastOptions,
        Resize.toLayer(({ url }) => Effect.succeed({ width: url.length, at }))
      )
      const id = yield* instance.scheduler.createRun(Resize, { url: "https://x/640" })
      const result = yield* instance.scheduler.awaitResult(Resize, id, { timeout: "20 seconds" })
      expect(result).toEqual({ width: 13, at })
      expect(result.at).toBeInstanceOf(Date)
      const encoded = { width: 13, at: "2025-01-02T03:04:05.678Z" }
      expect((yield* instance.scheduler.getRunState(id)).result).toEqual(encoded)
      const history = yield* instance.scheduler.getRunHistory(id)
      expect(history.map((attempt) => [attempt.outcome, attempt.result])).toEqual([["succeeded", encoded]])
    })
  )

  it.scopedLive(`awaitResult of a failed run fails with its status and stored error (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const Fails = Job.make({ name: "Fails", args: NoArgs, success: Schema.Number, retriesErrorLimit: 0 })
      const instance = yield* cluster.start(
        fastOptions,
        Fails.toLayer(() => Effect.fail("the disk is full"))
      )
      const id = yield* instance.scheduler.createRun(Fails, {})
      const error = yield* Effect.flip(instance.scheduler.awaitResult(Fails, id, { timeout: "20 seconds" }))
      expect(error._tag).toBe("RunNotSucceeded")
      expect(error).toMatchObject({ id, status: "failed" })
      expect(error._tag === "RunNotSucceeded" && error.error).toContain("the disk is full")
    })
  )

  it.scopedLive(`a result that does not encode fails the attempt, which is retried (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const cluster = yield* makeCluster(backend)
      const Measure = Job.make({
        name: "Measure",
        args: NoArgs,
        success: Schema.Struct({ ratio: Schema.Number }),
        retriesErrorLimit: 1
      })
      const instance = yield* cluster.start(
        fastOptions,
        Measure.toLayer(() => Effect.as(ledger.record, { ratio: Number.NaN }))
      )
      const id = yield* instance.scheduler.createRun(Measure, {})
      const state = yield* instance.scheduler.awaitRun(id, { timeout: "20 seconds" })
      expect(state).toMatchObject({ status: "failed", retriesOnErrorCount: 1, result: undefined })
      expect(state.runCompletedError).toContain(
        "The encoded result does not survive JSON: result.ratio is NaN, which JSON stores as null"
      )
      expect(ledger.of(id)).toHaveLength(2)
      const history = yield* instance.scheduler.getRunHistory(id)
      expect(history.map((attempt) => attempt.outcome)).toEqual(["retried", "failed"])
    })
  )

  it.scopedLive(
    `a snooze ends the attempt without using a retry; the run is due again after its delay (${backend})`,
    () =>
      Effect.gen(function* () {
        const cluster = yield* makeCluster(backend)
        const Poll = Job.make({ name: "Poll", args: NoArgs, success: Schema.String, retriesErrorLimit: 0 })
        const instance = yield* cluster.start(
          fastOptions,
          Poll.toLayer(() =>
            Effect.flatMap(RunInfo, (info) =>
              info.snoozeCount < 2 ? Job.snooze("300 millis") : Effect.succeed("ready")
            )
          )
        )
        const id = yield* instance.scheduler.createRun(Poll, {})
        expect(yield* instance.scheduler.awaitResult(Poll, id, { timeout: "20 seconds" })).toBe("ready")
        const state = yield* instance.scheduler.getRunState(id)
        expect(state).toMatchObject({ status: "succeeded", retriesOnErrorCount: 0, runTotalCount: 3, snoozeCount: 2 })
        const history = yield* instance.scheduler.getRunHistory(id)
        expect(history.map((attempt) => attempt.outcome)).toEqual(["snoozed", "snoozed", "succeeded"])
        for (const i of [1, 2]) {
          const waited = history[i]!.runStartedAt.getTime() - history[i - 1]!.runCompletedAt.getTime()
          expect(waited).toBeGreaterThanOrEqual(250)
        }
      })
  )

  it.scopedLive(`snoozes of a scheduled run never count toward its limit (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const Often = JobSchedule.spaced({ name: "Often", every: "100 millis" })
      const Tick = Job.make({ name: "Tick", args: NoArgs, success: Schema.Number })
      const instance = yield* cluster.start(
        { ...fastOptions, schedules: [Often] },
        Tick.toLayer(() =>
          Effect.flatMap(RunInfo, (info) =>
            info.snoozeCount === 0 ? Job.snooze("50 millis") : Effect.succeed(info.runSuccessCount)
          )
        )
      )
      const id = yield* instance.scheduler.createRun(Tick, {}, { schedule: Often, limit: 2 })
      expect(yield* instance.scheduler.awaitResult(Tick, id, { timeout: "20 seconds" })).toBe(1)
      const state = yield* instance.scheduler.getRunState(id)
      expect(state).toMatchObject({ status: "succeeded", occurrence: 1, runSuccessCount: 2, runTotalCount: 4 })
      const history = yield* instance.scheduler.getRunHistory(id)
      expect(history.map((attempt) => [attempt.occurrence, attempt.outcome, attempt.result])).toEqual([
        [0, "snoozed", undefined],
        [0, "succeeded", 0],
        [1, "snoozed", undefined],
        [1, "succeeded", 1]
      ])
    })
  )

  it.scopedLive(`maxSnoozes ends the run failed past the limit; a bad value is refused (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const Waits = Job.make({ name: "Waits", args: NoArgs, maxSnoozes: 2 })
      const Bad = Job.make({ name: "Bad", args: NoArgs, maxSnoozes: -1 })
      const refused = yield* Effect.flip(
        cluster.start(
          fastOptions,
          Bad.toLayer(() => Effect.void)
        )
      )
      expect(refused).toMatchObject({ _tag: "InvalidRunOptions" })
      expect(String((refused as { message?: unknown }).message)).toContain("maxSnoozes must be an integer from 0")
      const instance = yield* cluster.start(
        fastOptions,
        Waits.toLayer(() => Job.snooze("10 millis"))
      )
      const id = yield* instance.scheduler.createRun(Waits, {})
      const state = yield* instance.scheduler.awaitRun(id, { timeout: "20 seconds" })
      expect(state).toMatchObject({ status: "failed", runTotalCount: 3, snoozeCount: 2, retriesOnErrorCount: 0 })
      expect(state.runCompletedError).toBe("Snoozed more than maxSnoozes (2) times in this occurrence")
      const history = yield* instance.scheduler.getRunHistory(id)
      expect(history.map((attempt) => attempt.outcome)).toEqual(["snoozed", "snoozed", "failed"])
    })
  )
})
