/**
 * The admin API: list the runs that failed, redrive them (pending again, with fresh retry counters
 * and their history kept), and count runs by status.
 */
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Job, JobsS, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Effect, Layer, Ref, Schema } from "effect"

export const Charge = Job.make({ name: "Charge", args: Schema.Struct({ order: Schema.Number }) })

/** An instance whose payment API is down until `up` is set. */
export const AdminLive = (filename: string, up: Ref.Ref<boolean>) =>
  Charge.toLayer(({ order }) =>
    Effect.flatMap(Ref.get(up), (isUp) => (isUp ? Effect.void : Effect.fail(`payment API down for order ${order}`)))
  ).pipe(
    Layer.provideMerge(JobsS.layer({ pollInterval: "100 millis" })),
    Layer.provide(SqlStore.layer()),
    Layer.provide(SqliteClient.layer({ filename }))
  )

/** Redrives every failed run of `Charge`, a page at a time, and returns their ids. */
export const redriveFailedCharges = Effect.gen(function* () {
  const redriven: Array<string> = []
  let cursor: string | undefined
  do {
    const page = yield* Scheduler.listRuns({
      status: "failed",
      job: Charge.name,
      limit: 100,
      ...(cursor && { cursor })
    })
    const reports = yield* Scheduler.retryRuns(page.runs.map((run) => run.originId))
    redriven.push(...reports.filter((report) => report.result === "changed").map((report) => report.id))
    cursor = page.cursor // undefined after the last page
  } while (cursor !== undefined)
  return redriven
})

/** Counts of the stored runs: `counts.byStatus.succeeded`, `counts.byJob`. */
export const runCounts = Scheduler.countRuns
