import type { SqlClient } from "@effect/sql"
/**
 * Client-side operations: a process that only creates runs (`JobsS.layerClient`),
 * reads their state, cancels them, and lists runs no instance can execute.
 */
import { JobsS, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Effect, Layer } from "effect"
import { Announce } from "./features.js"

/** A process that creates runs but never executes them. */
export const makeClientLayer = <E>(database: Layer.Layer<SqlClient.SqlClient, E>) =>
  JobsS.layerClient().pipe(Layer.provide(SqlStore.layer()), Layer.provide(database))

/** Creates a run for tomorrow, looks at it, cancels it; lists runs waiting for an implementation. */
export const manageRuns = Effect.gen(function* () {
  const id = yield* Scheduler.createRun(Announce, { name: "tomorrow" }, { delay: "1 day" })
  const before = yield* Scheduler.getRunState(id) // status "pending", runAt tomorrow
  const cancelled = yield* Scheduler.cancelRun(id) // "cancelled": it will never run
  const after = yield* Scheduler.getRunState(id) // status "cancelled"
  const waiting = yield* Scheduler.waitingRuns // pending runs whose job no live instance implements
  return { before: before.status, cancelled, after: after.status, waiting: waiting.length }
})
