import type { SqlClient } from "@effect/sql"
/**
 * Run history and retention: every attempt of a run is kept (outcome, instance,
 * start, end, duration, error) until the instance's retention policy deletes
 * the finished run.
 */
import { JobsS, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Duration, Effect, Layer } from "effect"
import { Flaky, FlakyLive } from "./features.js"

/** An instance that keeps successes for an hour, failures for a month and cancelled runs forever. */
export const makeLayer = <E>(database: Layer.Layer<SqlClient.SqlClient, E>) =>
  FlakyLive.pipe(
    Layer.provideMerge(
      JobsS.layer({
        pollInterval: "1 second",
        retention: { succeeded: "1 hour", failed: "30 days", cancelled: "forever" }
      })
    ),
    Layer.provide(SqlStore.layer()),
    Layer.provide(database)
  )

/** Runs a job that fails twice before it succeeds, and reads its attempts. */
export const program = Effect.gen(function* () {
  const id = yield* Scheduler.createRun(Flaky, { failures: 2 })
  yield* Scheduler.awaitRun(id)
  const attempts = yield* Scheduler.getRunHistory(id)
  for (const { attempt, duration, outcome, runCompletedError, runStartedBy } of attempts) {
    yield* Effect.log(
      `attempt ${attempt} on ${runStartedBy}: ${outcome} in ${Duration.format(duration)}`,
      runCompletedError ?? ""
    )
  }
  return attempts.map((attempt) => attempt.outcome) // ["retried", "retried", "succeeded"]
})
