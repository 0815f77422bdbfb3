/**
 * Retry backoff and missed-schedule policies on every backend, in real time: the stored due time of
 * a retry is honoured by another instance after a restart, and occurrences missed while no instance
 * ran are run once, skipped, or caught up as the schedule's `missed` policy says.
 */
import { describe, expect, it } from "@effect/vitest"
import { Job, JobSchedule, RetryBackoff, RunInfo } from "@jobss/core"
import { Effect, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"
import { eventually } from "../support/eventually.js"

/** Clock tolerance between the test's clock and the store's (same machine; timers fire a little late or early). */
const slackMs = 60

describe.each(runtimeBackends)("retry backoff and missed schedules on %s", (backend) => {
  it.scopedLive(`a retry waits for its backoff, also on another instance after a restart (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const Backoff = Job.make({
        name: "Backoff",
        args: Schema.Struct({}),
        retriesErrorLimit: 2,
        retryBackoff: RetryBackoff.fixed("800 millis")
      })
      const attempts: Array<{ readonly instance: string; readonly start: number; readonly end: number }> = []
      const implementation = Backoff.toLayer(() =>
        Effect.flatMap(RunInfo, (info) =>
          Effect.suspend(() => {
            const start = Date.now()
            attempts.push({ instance: info.runStartedBy, start, end: start })
            return info.runTotalCount === 1 ? Effect.fail("first attempt fails") : Effect.void
          })
        )
      )
      const first = yield* cluster.start(fastOptions, implementation)
      const id = yield* first.scheduler.createRun(Backoff, {})
      const client = yield* cluster.client
      // wait for the failure to be recorded, then stop the instance: the retry is due later
      const pending = yield* eventually(client.getRunState(id), (state) => state.retriesOnErrorCount === 1)
      yield* first.stop
      expect(pending).toMatchObject({
        status: "pending",
        runTotalCount: 1,
        runCompletedError: expect.stringContaining("first attempt fails")
      })
      expect(pending.runAt.getTime()).toBeGreaterThanOrEqual(attempts[0]!.start + 800 - slackMs)

      const second = yield* cluster.start(fastOptions, implementation)
      const done = yield* second.scheduler.awaitRun(id, { timeout: "15 seconds" })
      expect(done).toMatchObject({ status: "succeeded", runTotalCount: 2, runStartedBy: second.jobs.instanceId })
      expect(attempts.map((attempt) => attempt.instance)).toEqual([first.jobs.instanceId, second.jobs.instanceId])
      expect(attempts[1]!.start).toBeGreaterThanOrEqual(pending.runAt.getTime() - slackMs)
    })
  )

  it.scopedLive(`an immediate retry starts at once, not at the next poll (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const Once = Job.make({ name: "FailsOnce", args: Schema.Struct({}), retriesErrorLimit: 1 })
      const starts: Array<number> = []
      const instance = yield* cluster.start(
        { ...fastOptions, pollInterval: "1 minute" },
        Once.toLayer(() =>
          Effect.flatMap(RunInfo, (info) =>
            Effect.suspend(() => {
              starts.push(Date.now())
              return info.runTotalCount === 1 ? Effect.fail("fails once") : Effect.void
            })
          )
        )
      )
      const id = yield* instance.scheduler.createRun(Once, {})
      const state = yield* instance.scheduler.awaitRun(id, { timeout: "20 seconds" })
      expect(state).toMatchObject({ status: "succeeded", runTotalCount: 2 })
      expect(starts[1]! - starts[0]!).toBeLessThan(2_000)
    })
  )

  for (const [missed, limit] of [
    ["runOnce", 2],
    ["skip", 1],
    [{ catchUp: 2 }, 3]
  ] as const) {
    it.scopedLive(`missed occurrences with policy ${JSON.stringify(missed)} (${backend})`, () =>
      Effect.gen(function* () {
        const cluster = yield* makeCluster(backend)
        const EverySecond = JobSchedule.spaced({ name: "EverySecond", every: "1 second", missed })
        const Tick = Job.make({ name: "Tick", args: Schema.Struct({}) })
        const runAts: Array<number> = []
        const client = yield* cluster.client
        const id = yield* client.createRun(Tick, {}, { schedule: EverySecond, limit })
        const created = (yield* client.getRunState(id)).createdAt.getTime()
        // no instance knows the schedule for 3.5 s: the occurrences due at 1, 2 and 3 s are missed
        yield* Effect.sleep("3500 millis")
        const startedAt = Date.now()
        const instance = yield* cluster.start(
          { ...fastOptions, schedules: [EverySecond] },
          Tick.toLayer(() => Effect.flatMap(RunInfo, (info) => Effect.sync(() => runAts.push(info.runAt.getTime()))))
        )
        const state = yield* instance.scheduler.awaitRun(id, { timeout: "15 seconds" })
        expect(state).toMatchObject({ status: "succeeded", runSuccessCount: limit })
        const relative = runAts.map((at) => Math.round((at - created) / 1_000))
        if (missed === "runOnce") {
          // the first missed occurrence once, then the next one a period after it ran
          expect(relative[0]).toBe(1)
          expect(runAts[1]).toBeGreaterThanOrEqual(startedAt - slackMs)
        } else if (missed === "skip") {
          // nothing due before the instance started runs
          expect(runAts).toHaveLength(1)
          expect(runAts[0]).toBeGreaterThanOrEqual(startedAt - slackMs)
          expect(state.id).not.toBe(id)
        } else {
          // the claimed occurrence and the two missed ones after it, in order
          expect(relative).toEqual([1, 2, 3])
        }
        expect(runAts).toHaveLength(limit)
      })
    )
  }
})
