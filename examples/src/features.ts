import type { SqlClient } from "@effect/sql"
/**
 * A tour of JobsS: runs now and later, a schedule with a limit, a unique run,
 * retries and a timeout. Run it with `npm run example` (embedded SQLite).
 */
import { Job, JobSchedule, JobsS, RunInfo, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Duration, Effect, Layer, Schema } from "effect"

// A job is a definition: a name and a Schema for its arguments (shared by every process).
export const Announce = Job.make({
  name: "Announce",
  args: Schema.Struct({ name: Schema.String }),
  retriesErrorLimit: 2,
  runTimeout: "1 minute"
})

// A job that fails twice, then succeeds: retries are automatic.
export const Flaky = Job.make({ name: "Flaky", args: Schema.Struct({ failures: Schema.Number }) })

// A job that takes too long: its attempts are interrupted after `runTimeout`.
export const Sleepy = Job.make({ name: "Sleepy", args: Schema.Struct({ seconds: Schema.Number }) })

// Schedules say when the next occurrence is due.
export const EverySecond = JobSchedule.spaced({ name: "EverySecond", every: "1 second" })

// Implementations register on the instances that provide these layers.
export const AnnounceLive = Announce.toLayer(({ name }) =>
  Effect.gen(function* () {
    const info = yield* RunInfo
    yield* Effect.log(`Hi ${name}! (run ${info.originId}, attempt ${info.runTotalCount})`)
  })
)

export const FlakyLive = Flaky.toLayer(({ failures }) =>
  Effect.gen(function* () {
    const info = yield* RunInfo
    if (info.retriesOnErrorCount < failures) {
      return yield* Effect.fail(`attempt ${info.retriesOnErrorCount + 1} failed`)
    }
    yield* Effect.log(`Flaky succeeded after ${info.retriesOnErrorCount} retries`)
  })
)

export const SleepyLive = Sleepy.toLayer(({ seconds }) =>
  Effect.sleep(Duration.seconds(seconds)).pipe(
    Effect.onInterrupt(() => Effect.log("Sleepy was interrupted by its timeout"))
  )
)

/** The instance: JobsS on the SqlStore of the SqlClient it is given, with every implementation registered. */
export const makeLayer = <E>(database: Layer.Layer<SqlClient.SqlClient, E>) =>
  Layer.mergeAll(AnnounceLive, FlakyLive, SleepyLive).pipe(
    Layer.provideMerge(JobsS.layer({ workers: 10, pollInterval: "1 second", schedules: [EverySecond] })),
    Layer.provide(SqlStore.layer()),
    Layer.provide(database)
  )

/** Creates one run of each kind and waits for all of them; returns their final states. */
export const program = Effect.gen(function* () {
  const a = yield* Scheduler.createRun(Announce, { name: "A" }) // once, now
  const b = yield* Scheduler.createRun(Announce, { name: "B" }, { delay: "1 second" }) // once, later
  const c = yield* Scheduler.createRun(Announce, { name: "C" }, { schedule: EverySecond, limit: 2 }) // twice
  const e1 = yield* Scheduler.createRun(Announce, { name: "E" }, { unique: "GlobalUniqueJob1", delay: "500 millis" })
  const e2 = yield* Scheduler.createRun(Announce, { name: "E again" }, { unique: "GlobalUniqueJob1" }) // same run
  const flaky = yield* Scheduler.createRun(Flaky, { failures: 2 }, { retriesErrorLimit: 5 })
  const sleepy = yield* Scheduler.createRun(
    Sleepy,
    { seconds: 60 },
    { runTimeout: "200 millis", retriesTimeoutLimit: 1 }
  )
  const states = yield* Effect.forEach([a, b, c, e1, flaky, sleepy], (id) => Scheduler.awaitRun(id))
  for (const state of states) {
    const error = state.runCompletedError ? ` (${state.runCompletedError})` : ""
    yield* Effect.log(`${state.job} ${state.originId}: ${state.status}${error}`)
  }
  return { sameUniqueRun: e1 === e2, states }
})
