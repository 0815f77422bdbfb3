import { describe, expect, it } from "@effect/vitest"
/** Runs once, later, on a schedule; the fields of RunInfo and RunState; bad input. On every backend. */
import { Job, JobSchedule, JobsSError, RunId, RunInfo } from "@jobss/core"
import { Duration, Effect, Schema } from "effect"
import { newRun } from "../../packages/core/test/fixtures.js"
import { makeCluster, runtimeBackends } from "../support/cluster.js"
import { makeLedger } from "../support/ledger.js"

const Greet = Job.make({ name: "Greet", args: Schema.Struct({ name: Schema.String }) })
const Spaced = JobSchedule.spaced({ name: "Every300ms", every: "300 millis" })

describe.each(runtimeBackends)("runtime basics on %s", (backend) => {
  it.scopedLive(`runs once now, and once after a delay well before the next poll (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const cluster = yield* makeCluster(backend)
      const instance = yield* cluster.start(
        { pollInterval: "5 seconds" },
        Greet.toLayer(() => ledger.record)
      )
      // let the poller settle into its 5 s sleep: the delayed run must not wait for it
      yield* Effect.sleep("200 millis")
      const now = yield* instance.scheduler.createRun(Greet, { name: "now" })
      const createdAt = Date.now()
      const later = yield* instance.scheduler.createRun(Greet, { name: "later" }, { delay: "1 second" })
      expect((yield* instance.scheduler.awaitRun(now, { timeout: "10 seconds" })).status).toBe("succeeded")
      const state = yield* instance.scheduler.awaitRun(later, { timeout: "10 seconds" })
      expect(state.status).toBe("succeeded")
      const [execution] = ledger.of(later)
      expect(ledger.of(now)).toHaveLength(1)
      expect(ledger.of(later)).toHaveLength(1)
      expect(execution!.at).toBeGreaterThanOrEqual(createdAt + 1_000 - 5)
      expect(execution!.at).toBeLessThan(createdAt + 3_000)
      expect(execution!.at).toBeGreaterThanOrEqual(state.runAt.getTime() - 5)
    })
  )

  it.scopedLive(`a scheduled run with limit 2 runs exactly twice, also after a delay (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const cluster = yield* makeCluster(backend)
      const instance = yield* cluster.start(
        { pollInterval: "5 seconds", schedules: [Spaced] },
        Greet.toLayer(() => ledger.record)
      )
      const createdAt = Date.now()
      const plain = yield* instance.scheduler.createRun(Greet, { name: "C" }, { schedule: Spaced, limit: 2 })
      const delayed = yield* instance.scheduler.createRun(
        Greet,
        { name: "D" },
        { schedule: Spaced, limit: 2, delay: "1 second" }
      )
      const plainState = yield* instance.scheduler.awaitRun(plain, { timeout: "10 seconds" })
      const delayedState = yield* instance.scheduler.awaitRun(delayed, { timeout: "10 seconds" })
      yield* Effect.sleep("700 millis")
      expect(ledger.of(plain)).toHaveLength(2)
      expect(ledger.of(delayed)).toHaveLength(2)
      expect(plainState).toMatchObject({ status: "succeeded", occurrence: 1, runSuccessCount: 2, runSuccessLimit: 2 })
      expect(delayedState.runSuccessCount).toBe(2)
      const [first, second] = ledger.of(delayed)
      expect(first!.at).toBeGreaterThanOrEqual(createdAt + 1_300 - 5)
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(300 - 5)
      expect(first!.originId).toBe(delayed)
      expect(second!.id).not.toBe(first!.id)
    })
  )

  it.scopedLive(`RunInfo and getRunState carry the run's fields (${backend})`, () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      const cluster = yield* makeCluster(backend)
      const instance = yield* cluster.start(
        { pollInterval: "1 second", schedules: [Spaced], retriesTimeoutLimit: 4 },
        Greet.toLayer(() => Effect.map(RunInfo, (info) => seen.push(info)))
      )
      const before = Date.now()
      const id = yield* instance.scheduler.createRun(
        Greet,
        { name: "F" },
        { unique: "info-run", retriesErrorLimit: 5, runTimeout: "10 seconds", delay: "100 millis" }
      )
      const state = yield* instance.scheduler.awaitRun(id, { timeout: "10 seconds" })
      expect(seen).toHaveLength(1)
      const info = seen[0] as RunInfo["Type"]
      expect(info).toMatchObject({
        id,
        originId: id,
        name: "info-run",
        job: "Greet",
        args: { name: "F" },
        runTotalCount: 1,
        runSuccessCount: 0,
        runSuccessLimit: undefined,
        runStartedBy: instance.jobs.instanceId,
        runTimeout: Duration.seconds(10),
        retriesOnErrorCount: 0,
        retriesErrorLimit: 5,
        retriesOnTimeoutCount: 0,
        retriesTimeoutLimit: 4,
        schedule: undefined,
        createdBy: instance.jobs.instanceId
      })
      expect(info.runAt.getTime()).toBeGreaterThanOrEqual(before + 100 - 5)
      expect(info.runTimeoutAt!.getTime() - info.runStartedAt.getTime()).toBe(10_000)
      expect(Math.abs(info.createdAt.getTime() - before)).toBeLessThan(2_000)
      expect(state).toMatchObject({
        originId: id,
        id,
        occurrence: 0,
        status: "succeeded",
        job: "Greet",
        args: { name: "F" },
        name: "info-run",
        runTotalCount: 1,
        runSuccessCount: 1,
        retriesErrorLimit: 5,
        runTimeout: Duration.seconds(10),
        runStartedBy: instance.jobs.instanceId,
        createdBy: instance.jobs.instanceId,
        cancelRequested: false,
        runCompletedError: undefined
      })
      expect(state.runCompletedAt!.getTime()).toBeGreaterThanOrEqual(state.runStartedAt!.getTime())

      const scheduled = yield* instance.scheduler.createRun(Greet, { name: "S" }, { schedule: Spaced, limit: 2 })
      yield* instance.scheduler.awaitRun(scheduled, { timeout: "10 seconds" })
      const [, first, second] = seen as Array<RunInfo["Type"]>
      expect(first).toMatchObject({
        originId: scheduled,
        id: scheduled,
        schedule: "Every300ms",
        runSuccessCount: 0,
        runSuccessLimit: 2
      })
      expect(second).toMatchObject({
        originId: scheduled,
        schedule: "Every300ms",
        runSuccessCount: 1,
        runTotalCount: 2
      })
      expect(second!.id).not.toBe(scheduled)
      const missing = yield* Effect.flip(
        instance.scheduler.getRunState(RunId.make("00000000-0000-7000-8000-000000000000"))
      )
      expect(missing._tag).toBe("RunNotFound")
    })
  )

  it.scopedLive(`bad input: invalid args write nothing, undecodable stored args fail that run only (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const cluster = yield* makeCluster(backend)
      const instance = yield* cluster.start(
        { pollInterval: "1 second" },
        Greet.toLayer(() => ledger.record)
      )
      const store = yield* cluster.store
      const error = yield* Effect.flip(instance.scheduler.createRun(Greet, { name: 42 } as unknown as { name: string }))
      expect(error).toBeInstanceOf(JobsSError.InvalidRunArgs)
      expect(error.message).toContain("Expected string")
      expect((yield* store.nextDue(["Greet"], [])).nextRunAt).toBeNull()

      const badRun = (id: string, args: string) => newRun({ id, job: "Greet", args, runAt: Date.now() - 1_000 })
      const wrongShape = RunId.generate(Date.now())
      const notJson = RunId.generate(Date.now())
      yield* store.insert([badRun(wrongShape, JSON.stringify({ name: 42 })), badRun(notJson, "{not json")])
      const good = yield* instance.scheduler.createRun(Greet, { name: "good" })
      const shape = yield* instance.scheduler.awaitRun(RunId.make(wrongShape), { timeout: "10 seconds" })
      const json = yield* instance.scheduler.awaitRun(RunId.make(notJson), { timeout: "10 seconds" })
      expect(shape.status).toBe("failed")
      expect(shape.runCompletedError).toContain("do not match the job's Schema")
      expect(json.status).toBe("failed")
      expect(json.runCompletedError).toContain("not valid JSON")
      expect((yield* instance.scheduler.awaitRun(good, { timeout: "10 seconds" })).status).toBe("succeeded")
      expect(ledger.entries.map((entry) => entry.originId)).toEqual([good])
    })
  )
})
