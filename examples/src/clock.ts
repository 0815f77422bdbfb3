import type { SqlClient } from "@effect/sql"
/**
 * A scheduled run shared by a cluster: announce the time every minute, on every
 * instance that runs this program, exactly once per minute across the cluster.
 * `npm run clock -w examples` (Ctrl-C to stop; start it in several terminals to see them share the work).
 */
import { Job, JobSchedule, JobsS, RunInfo, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Effect, Fiber, Layer, Schema } from "effect"
import { databaseLayer } from "./database.js"

/** Due at the start of every minute. */
export const OnTheMinute = JobSchedule.cron({ name: "OnTheMinute", expression: "* * * * *" })

/** Says the time. */
export const AnnounceTime = Job.make({ name: "AnnounceTime", args: Schema.Struct({}) })

/** Logs the time and the instance that announced it. */
export const AnnounceTimeLive = AnnounceTime.toLayer(() =>
  Effect.gen(function* () {
    const info = yield* RunInfo
    yield* Effect.log(`The time is ${info.runAt.toISOString()} (announced by ${info.runStartedBy})`)
  })
)

/** An instance that knows the schedule and implements the job. */
export const makeLayer = <E>(
  database: Layer.Layer<SqlClient.SqlClient, E>,
  schedule: JobSchedule.JobSchedule = OnTheMinute
) =>
  AnnounceTimeLive.pipe(
    Layer.provideMerge(JobsS.layer({ schedules: [schedule] })),
    Layer.provide(SqlStore.layer()),
    Layer.provide(database)
  )

/** Makes sure the recurring run exists (a unique name: every instance may call this) and returns its id. */
export const ensureRecurring = (schedule: JobSchedule.JobSchedule = OnTheMinute) =>
  Scheduler.createRun(AnnounceTime, {}, { schedule, unique: "AnnounceTimeEveryMinute" })

if (import.meta.url === `file://${process.argv[1]}`) {
  const fiber = Effect.runFork(
    ensureRecurring().pipe(
      Effect.tap((id) => Effect.log(`Announcing the time every minute (run ${id}); Ctrl-C stops`)),
      Effect.zipRight(Effect.never),
      Effect.provide(makeLayer(databaseLayer()))
    )
  )
  process.once("SIGINT", () => Effect.runFork(Fiber.interrupt(fiber)))
  process.once("SIGTERM", () => Effect.runFork(Fiber.interrupt(fiber)))
}
