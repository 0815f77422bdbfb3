/**
 * The admin API through `Scheduler`, on every backend: a failed run found by `listRuns` is retried
 * and succeeds (its history kept), `runNow` starts a run due in an hour, a finished run is deleted,
 * the counts, instances, schedules and throughput say what happened; bad input is a typed error.
 */
import { describe, expect, it } from "@effect/vitest"
import { Admin, Job, JobSchedule, RunId } from "@jobss/core"
import { Effect, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"

const Flaky = Job.make({ name: "AdminFlaky", args: Schema.Struct({ key: Schema.String }), retriesErrorLimit: 0 })
const Later = Job.make({ name: "AdminLater", args: Schema.Struct({}) })
const Tick = JobSchedule.spaced({ name: "AdminTick", every: "1 hour" })

describe.each(runtimeBackends)("admin API on %s", (backend) => {
  it.scopedLive(`a failed run is listed, retried and succeeds; runNow, delete, counts, instances (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      let healthy = false
      const instance = yield* cluster.start(
        { ...fastOptions, schedules: [Tick] },
        Flaky.toLayer(() => (healthy ? Effect.void : Effect.fail("not yet")))
      )
      const { scheduler } = instance
      const id = yield* scheduler.createRun(Flaky, { key: "needle-42" })
      const other = yield* scheduler.createRun(Flaky, { key: "other" })
      expect((yield* scheduler.awaitRun(id, { timeout: "20 seconds" })).status).toBe("failed")
      expect((yield* scheduler.awaitRun(other, { timeout: "20 seconds" })).status).toBe("failed")

      const failed = yield* scheduler.listRuns({ status: "failed", job: Flaky.name, argsContains: "needle" })
      expect(failed.runs.map((run) => run.originId)).toEqual([id])
      expect(failed.cursor).toBeUndefined()

      healthy = true
      yield* scheduler.retryRun(id)
      const retried = yield* scheduler.awaitRun(id, { timeout: "20 seconds" })
      expect(retried).toMatchObject({ status: "succeeded", retriesOnErrorCount: 0, runTotalCount: 2 })
      expect((yield* scheduler.getRunHistory(id)).map((attempt) => attempt.outcome)).toEqual(["failed", "succeeded"])
      const refused = yield* Effect.flip(scheduler.retryRun(id))
      expect(refused).toMatchObject({ _tag: "RunActionRefused", action: "retry", status: "succeeded" })
      expect(refused.message).toContain("only a failed or cancelled run can be retried")

      const later = yield* scheduler.createRun(Flaky, { key: "later" }, { delay: "1 hour" })
      yield* scheduler.runNow(later)
      expect((yield* scheduler.awaitRun(later, { timeout: "20 seconds" })).status).toBe("succeeded")

      const counts = yield* scheduler.countRuns
      expect(counts.byJob.find((job) => job.job === Flaky.name)?.byStatus).toMatchObject({ succeeded: 2 })

      const missing = RunId.make(RunId.generate(Date.now()))
      expect(yield* scheduler.deleteRuns([id, missing, "not-an-id" as RunId.RunId])).toEqual([
        { id, result: "changed", status: undefined },
        { id: missing, result: "notFound", status: undefined },
        { id: "not-an-id", result: "notFound", status: undefined }
      ])
      expect((yield* Effect.flip(scheduler.getRunState(id)))._tag).toBe("RunNotFound")
      expect((yield* Effect.flip(scheduler.deleteRun(missing)))._tag).toBe("RunNotFound")

      const instances = yield* scheduler.listInstances()
      const me = instances.find((row) => row.id === instance.jobs.instanceId)
      expect(me).toMatchObject({ alive: true, jobs: [Flaky.name], schedules: [Tick.name] })

      const throughput = yield* scheduler.runThroughput({ minutes: 5 })
      expect(throughput).toHaveLength(5)
      const total = (key: "succeeded" | "failed") => throughput.reduce((sum, minute) => sum + minute[key], 0)
      // the deleted run's attempts went with it: "other" failed, "later" succeeded
      expect(total("succeeded")).toBe(1)
      expect(total("failed")).toBe(1)
    })
  )

  it.scopedLive(`listSchedules shows a recurring run's next due time; pages of listRuns (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const instance = yield* cluster.start(
        { ...fastOptions, schedules: [Tick] },
        Later.toLayer(() => Effect.void)
      )
      const { scheduler } = instance
      const recurring = yield* scheduler.createRun(Later, {}, { schedule: Tick })
      const ids = yield* scheduler.createRuns(Later, [{}, {}, {}, {}, {}], { delay: "1 hour" })
      const { schedules } = yield* scheduler.listSchedules()
      const mine = schedules.find((schedule) => schedule.originId === recurring)
      expect(mine).toMatchObject({ schedule: Tick.name, job: Later.name, status: "pending", previous: undefined })
      expect(mine!.nextRunAt.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000)

      const seen: Array<string> = []
      let cursor: string | undefined
      do {
        const page: Admin.RunPage = yield* scheduler.listRuns({
          job: Later.name,
          limit: 2,
          ...(cursor === undefined ? {} : { cursor })
        })
        expect(page.runs.length).toBeLessThanOrEqual(2)
        seen.push(...page.runs.map((run) => run.id))
        cursor = page.cursor
      } while (cursor !== undefined)
      expect(seen.sort()).toEqual([recurring, ...ids].sort())
    })
  )
})

describe("admin API input", () => {
  it.scopedLive("bad input is a typed error naming the field, the value and the rule", () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster("memory")
      const { scheduler } = yield* cluster.start(
        fastOptions,
        Later.toLayer(() => Effect.void)
      )
      const message = (effect: Effect.Effect<unknown, { readonly _tag: string; readonly message: string }>) =>
        Effect.map(Effect.flip(effect), (error) => `${error._tag}: ${error.message}`)
      expect(yield* message(scheduler.listRuns({ limit: 0 }))).toBe(
        "InvalidAdminQuery: limit must be an integer from 1 to 500, got 0"
      )
      expect(yield* message(scheduler.listRuns({ limit: 501 }))).toContain("got 501")
      expect(yield* message(scheduler.listRuns({ cursor: "bm9wZQ" }))).toContain(
        'cursor must be the cursor of a previous page of listRuns, got "bm9wZQ"'
      )
      expect(yield* message(scheduler.listRuns({ status: "broken" as "failed" }))).toContain(
        "status must be one of pending, running, succeeded, failed, cancelled"
      )
      expect(yield* message(scheduler.listRuns({ createdAfter: new Date(Number.NaN) }))).toContain(
        "createdAfter must be a valid Date"
      )
      expect(yield* message(scheduler.listRuns({ job: " padded" }))).toContain('job " padded" is invalid')
      expect(yield* message(scheduler.runThroughput({ minutes: 1441 }))).toContain(
        "minutes must be an integer from 1 to 1440"
      )
      const tooMany = Array.from({ length: Admin.maxBulkIds + 1 }, () => RunId.make(RunId.generate(0)))
      expect(yield* message(scheduler.retryRuns(tooMany))).toContain(
        "ids must be a list of at most 1000 run ids, got 1001 ids"
      )
      const pending = yield* scheduler.createRun(Later, {}, { delay: "1 hour" })
      expect(yield* message(scheduler.deleteRun(pending))).toContain(
        "it is pending, and only a finished run (succeeded, failed or cancelled) can be deleted"
      )
      expect(yield* message(scheduler.retryRun("x" as RunId.RunId))).toContain("RunNotFound")
    })
  )
})
