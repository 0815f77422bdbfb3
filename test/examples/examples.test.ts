import { describe, expect, it } from "@effect/vitest"
/** Runs the README's examples: the feature tour, the clock and the run history on every SQL backend, the client operations, the memory-store test. */
import { JobSchedule, RetryBackoff, Scheduler } from "@jobss/core"
import { Effect, Either, Layer, LogLevel, Logger } from "effect"
import * as Client from "../../examples/src/client.js"
import * as Clock from "../../examples/src/clock.js"
import * as Definitions from "../../examples/src/definitions.js"
import * as Features from "../../examples/src/features.js"
import * as History from "../../examples/src/history.js"
import * as Testing from "../../examples/src/testing.js"
import { makeDatabase, sqlBackends } from "../support/databases.js"

const quiet = Logger.minimumLogLevel(LogLevel.Warning)

describe.each(sqlBackends)("README examples on %s", (backend) => {
  it.scopedLive(`the feature tour runs every kind of run to its expected end (${backend})`, () =>
    Effect.gen(function* () {
      const database = yield* makeDatabase(backend)
      const { sameUniqueRun, states } = yield* Features.program.pipe(
        Effect.provide(Features.makeLayer(database.layer).pipe(Layer.provide(quiet)))
      )
      expect(sameUniqueRun).toBe(true)
      expect(states.map((state) => [state.job, state.status])).toEqual([
        ["Announce", "succeeded"],
        ["Announce", "succeeded"],
        ["Announce", "succeeded"],
        ["Announce", "succeeded"],
        ["Flaky", "succeeded"],
        ["Sleepy", "failed"]
      ])
      expect(states[2]!.runSuccessCount).toBe(2)
      expect(states[4]!.retriesOnErrorCount).toBe(2)
      expect(states[5]).toMatchObject({ retriesOnTimeoutCount: 1, runCompletedError: "Timed out after 200 ms" })
    })
  )

  it.scopedLive(`the clock example creates one recurring run however many instances ask (${backend})`, () =>
    Effect.gen(function* () {
      const database = yield* makeDatabase(backend)
      const EveryHalfSecond = JobSchedule.spaced({ name: "OnTheMinute", every: "500 millis" })
      const ids = yield* Effect.forEach(
        [1, 2, 3],
        () =>
          Clock.ensureRecurring(EveryHalfSecond).pipe(
            Effect.provide(Clock.makeLayer(database.layer, EveryHalfSecond).pipe(Layer.provide(quiet)))
          ),
        { concurrency: "unbounded" }
      )
      expect(new Set(ids).size).toBe(1)
      const state = yield* Effect.gen(function* () {
        yield* Effect.sleep("1200 millis")
        return yield* Scheduler.getRunState(ids[0]!)
      }).pipe(Effect.provide(Clock.makeLayer(database.layer, EveryHalfSecond).pipe(Layer.provide(quiet))))
      expect(state.runSuccessCount).toBeGreaterThanOrEqual(1)
      expect(state.status).not.toBe("failed")
    })
  )

  it.scopedLive(`the history example reads the attempts of a run that failed twice (${backend})`, () =>
    Effect.gen(function* () {
      const database = yield* makeDatabase(backend)
      const outcomes = yield* History.program.pipe(
        Effect.provide(History.makeLayer(database.layer).pipe(Layer.provide(quiet)))
      )
      expect(outcomes).toEqual(["retried", "retried", "succeeded"])
    })
  )

  it.scopedLive(`a client-only process creates, reads and cancels runs (${backend})`, () =>
    Effect.gen(function* () {
      const database = yield* makeDatabase(backend)
      const result = yield* Client.manageRuns.pipe(Effect.provide(Client.makeClientLayer(database.layer)))
      expect(result).toEqual({ before: "pending", cancelled: "cancelled", after: "cancelled", waiting: 0 })
    })
  )
})

describe("README example: unit tests on the memory store", () => {
  it.scopedLive("announceAndWait succeeds on JobStore.layerMemory", () =>
    Effect.gen(function* () {
      const state = yield* Testing.announceAndWait("test").pipe(
        Effect.provide(Testing.TestJobsS.pipe(Layer.provide(quiet)))
      )
      expect(state.status).toBe("succeeded")
    })
  )
})

describe("README example: schedules and backoff definitions", () => {
  it("compute the documented times", () => {
    const at = Date.parse("2026-07-01T10:15:30Z")
    const next = (schedule: JobSchedule.JobSchedule) => Either.getOrThrow(JobSchedule.nextRunAt(schedule, at))
    expect(new Date(next(Definitions.OnTheMin)).toISOString()).toBe("2026-07-01T10:16:00.000Z")
    expect(new Date(next(Definitions.Nightly)).toISOString()).toBe("2026-07-02T01:00:00.000Z")
    expect(next(Definitions.EverySecond)).toBe(at + 1_000)
    const backoff = Definitions.Email.retryBackoff!
    expect([1, 2, 3, 20].map((attempt) => RetryBackoff.delayMillis(backoff, attempt, 0.999_999))).toEqual([
      1_000, 2_000, 4_000, 600_000
    ])
  })
})
