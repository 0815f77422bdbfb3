/**
 * Typed results and snoozes: a job whose implementation returns a value typed by its `success`
 * Schema (stored with the run, decoded by `awaitResult`), and that snoozes while a resource is busy
 * (the run is due again later, no retry used).
 */
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Job, JobsS, RunInfo, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Effect, Layer, Schema } from "effect"

export const Resize = Job.make({
  name: "Resize",
  args: Schema.Struct({ url: Schema.String }),
  success: Schema.Struct({ width: Schema.Number, at: Schema.DateFromString }), // optional; absent: void
  maxSnoozes: 10 // optional; absent: unlimited
})

/** Busy for the first two attempts of each run (a stand-in for an API that answered 429). */
const busy = Effect.map(RunInfo, (info) => info.snoozeCount < 2)

export const ResizeLive = Resize.toLayer(({ url }) =>
  Effect.gen(function* () {
    if (yield* busy) return yield* Job.snooze("100 millis") // ends this attempt; the run is due again in 100 ms
    return { width: url.length * 10, at: new Date() } // encoded with `success` and stored
  })
)

/** An instance with the job, on an SQLite file. */
export const ResultsLive = (filename: string) =>
  ResizeLive.pipe(
    Layer.provideMerge(JobsS.layer({ pollInterval: "100 millis" })),
    Layer.provide(SqlStore.layer()),
    Layer.provide(SqliteClient.layer({ filename }))
  )

export const resize = (url: string) =>
  Effect.gen(function* () {
    const id = yield* Scheduler.createRun(Resize, { url })
    const result = yield* Scheduler.awaitResult(Resize, id, { timeout: "1 minute" }) // decoded: { width, at: Date }
    const state = yield* Scheduler.getRunState(id) // state.result: the encoded JSON of the last successful attempt
    const history = yield* Scheduler.getRunHistory(id) // snoozed, snoozed, succeeded
    return { result, state, outcomes: history.map((attempt) => attempt.outcome) }
  })
