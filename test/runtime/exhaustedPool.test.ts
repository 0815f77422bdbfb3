import { SqlClient } from "@effect/sql"
/**
 * A pool exhausted by the jobs' own work does not cut an instance off: on PostgreSQL and MariaDB the
 * heartbeat extends its leases on a connection of its own, so jobs that hold every other connection
 * of the pool (in transactions longer than the lease) are neither stopped by the lease guard nor
 * taken over. (SQLite has one connection, which the guard of test/runtime/cutOff.test.ts covers.)
 */
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Job, JobStore, JobsS, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Context, Effect, Layer, Redacted, Ref, Schema } from "effect"
import { fastOptions } from "../support/cluster.js"
import { makeDatabase } from "../support/databases.js"

const Hog = Job.make({ name: "Hog", args: Schema.Struct({ n: Schema.Number }) })

/** Connections in each instance's pool: the heartbeat's own and two for everything else. */
const poolSize = 3
/** Each job holds a connection in a transaction this long: past the lease of `fastOptions` (2 s). */
const holdMs = 3_000

describe.each(["postgres", "mariadb"] as const)("a pool exhausted by jobs on %s", (backend) => {
  it.scopedLive(`the heartbeat still extends the leases: no attempt is lost (${backend})`, () =>
    Effect.gen(function* () {
      const database = yield* makeDatabase(backend)
      const client =
        backend === "postgres"
          ? PgClient.layer({ url: Redacted.make(database.url), maxConnections: poolSize })
          : MysqlClient.layer({ url: Redacted.make(database.url), maxConnections: poolSize })
      const attempts = yield* Ref.make(0)
      const hog = Hog.toLayer(() =>
        Effect.gen(function* () {
          yield* Ref.update(attempts, (n) => n + 1)
          const sql = yield* SqlClient.SqlClient
          yield* sql.withTransaction(Effect.zipRight(sql`SELECT 1`, Effect.sleep(holdMs)))
        })
      )
      const context = yield* Layer.build(
        hog.pipe(
          Layer.provideMerge(JobsS.layer({ ...fastOptions, workers: 4 })),
          Layer.provideMerge(SqlStore.layer()),
          Layer.provideMerge(client)
        )
      )
      const scheduler = Context.get(context, Scheduler.Scheduler)
      const store = Context.get(context, JobStore.JobStore)
      // more jobs than connections: two hold the pool, two wait for it, and so do claims and settlements
      const ids = yield* scheduler.createRuns(Hog, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }])
      const states = yield* Effect.forEach(ids, (id) => scheduler.awaitRun(id, { timeout: "30 seconds" }))
      expect(states.map((state) => state.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"])
      expect(yield* Ref.get(attempts)).toBe(4)
      for (const id of ids) {
        expect((yield* store.history(id)).map((attempt) => attempt.outcome)).toEqual(["succeeded"])
      }
    })
  )
})
