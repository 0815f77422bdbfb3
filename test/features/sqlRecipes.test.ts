/**
 * The SQL recipes of `docs/operations.md` ("SQL recipes"), each run as written on every SQL backend
 * against a store with runs in every state the recipes look at: pending in a queue and in none,
 * running, failed and succeeded.
 */
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Job, JobQueue, JobsS, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Context, Deferred, Effect, Layer, LogLevel, Logger, Schema } from "effect"
import { fastOptions } from "../support/cluster.js"
import { makeDatabase, sqlBackends } from "../support/databases.js"
import { eventually } from "../support/eventually.js"

const docs = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs", "operations.md"), "utf8")

/** The recipes by the name of their first comment line (`-- backlog: ...` is `backlog`). */
const recipes = new Map(
  [...docs.slice(docs.indexOf("### SQL recipes")).matchAll(/```sql\n([\s\S]*?)```/g)].map((match) => {
    const text = match[1]!
    return [/^-- (\w+):/.exec(text)![1]!, text] as const
  })
)

const Emails = JobQueue.make({ name: "emails", concurrency: 1 })
const SendEmail = Job.make({ name: "SendEmail", args: Schema.Struct({ to: Schema.String }), queue: Emails })
const Report = Job.make({ name: "Report", args: Schema.Struct({ block: Schema.Boolean }) })

/** Rows with their numbers as numbers (drivers return counts and sums as strings, bigints or numbers). */
const plain = (rows: ReadonlyArray<Record<string, unknown>>) =>
  rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([key, value]) => [
        key,
        typeof value === "bigint" || (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value))
          ? Number(value)
          : value
      ])
    )
  )

describe.each(sqlBackends)("SQL recipes of docs/operations.md on %s", (backend) => {
  it("the docs hold the five recipes", () => {
    expect([...recipes.keys()]).toEqual(["backlog", "running", "failures", "durations", "reprioritize"])
  })

  it.scopedLive(`each recipe runs as written and finds what the store holds (${backend})`, () =>
    Effect.gen(function* () {
      const database = yield* makeDatabase(backend)
      const run = (name: string) =>
        Effect.provide(
          Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<Record<string, unknown>>(recipes.get(name)!)),
          database.layer
        ).pipe(Effect.map(plain))
      const blocked = yield* Deferred.make<void>()
      const implementations = Layer.mergeAll(
        SendEmail.toLayer(({ to }) => (to === "bad" ? Effect.fail("smtp refused") : Effect.void)),
        Report.toLayer(({ block }) => (block ? Deferred.await(blocked) : Effect.void))
      )
      const context = yield* Layer.build(
        implementations.pipe(
          Layer.provideMerge(JobsS.layer(fastOptions)),
          Layer.provide(SqlStore.layer().pipe(Layer.provide(database.layer))),
          Layer.provide(Logger.minimumLogLevel(LogLevel.Error)) // the failures are on purpose
        )
      )
      const jobs = Context.get(context, JobsS.JobsS)
      const scheduler = Context.get(context, Scheduler.Scheduler)
      const failedIds = yield* scheduler.createRuns(SendEmail, [{ to: "bad" }, { to: "bad" }], { retriesErrorLimit: 0 })
      const ok = yield* scheduler.createRun(Report, { block: false })
      const running = yield* scheduler.createRun(Report, { block: true })
      for (const id of [...failedIds, ok]) yield* scheduler.awaitRun(id, { timeout: "20 seconds" })
      yield* eventually(scheduler.getRunState(running), (state) => state.status === "running")
      const later = new Date(Date.now() + 3_600_000)
      yield* scheduler.createRuns(SendEmail, [{ to: "a" }, { to: "b" }], { runAt: later })
      yield* scheduler.createRun(Report, { block: false }, { runAt: later })

      expect(yield* run("backlog")).toEqual(
        expect.arrayContaining([
          { queue: "", pending: 1, oldest_due_at: later.getTime() },
          { queue: "emails", pending: 2, oldest_due_at: later.getTime() }
        ])
      )
      expect(yield* run("running")).toEqual([
        { started_by: jobs.instanceId, running: 1, first_lease_until: expect.any(Number) }
      ])
      const failures = yield* run("failures")
      expect(failures).toHaveLength(1)
      expect(failures[0]).toMatchObject({ error: expect.stringContaining("smtp refused"), runs: 2 })
      const durations = yield* run("durations")
      expect(durations).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ job: "SendEmail", outcome: "failed", attempts: 2 }),
          expect.objectContaining({ job: "Report", outcome: "succeeded", attempts: 1 })
        ])
      )
      for (const row of durations) expect(row["longest_ms"]).toBeGreaterThanOrEqual(0)

      yield* run("reprioritize")
      const pending = yield* scheduler.listRuns({ status: "pending", job: SendEmail.name })
      expect(pending.runs.map((state) => state.priority)).toEqual([-10, -10])
      yield* Deferred.succeed(blocked, undefined)
    })
  )
})
