/**
 * The database refuses writes for a while, past the lease: PostgreSQL turned read-only (as after a
 * failover to a standby: the sessions are dropped, new ones are read-only), MariaDB with the
 * application user's write privileges revoked (its sessions dropped), SQLite full (no page may be
 * added to the file). The instance logs the failures and lives on; once writes are accepted again
 * every run ends, none twice, and new runs are served.
 */
import { randomBytes } from "node:crypto"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Job, JobsS, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Context, Effect, Layer, Ref, Schema } from "effect"
import { runBreaches } from "../cluster/scenario.js"
import { fastOptions } from "../support/cluster.js"
import { type Backend, type DatabaseHandle, adminLayer, clientLayer, makeDatabase } from "../support/databases.js"

const Work = Job.make({
  name: "ReadOnlyWork",
  args: Schema.Struct({ n: Schema.Number, pad: Schema.optional(Schema.String) })
})

/** Longer than the lease of `fastOptions` (2 s). */
const refusedForMs = 3_000

/** How a backend stops accepting writes, and accepts them again. */
interface Refusal {
  /** The client the instance runs on. */
  readonly client: Layer.Layer<SqlClient.SqlClient, unknown>
  readonly refuse: (instance: SqlClient.SqlClient) => Effect.Effect<void, unknown>
  readonly accept: (instance: SqlClient.SqlClient) => Effect.Effect<void, unknown>
}

const onAdmin = (backend: "postgres" | "mariadb", statements: ReadonlyArray<string>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.forEach(statements, (statement) => sql.unsafe(statement))).pipe(
    Effect.provide(adminLayer(backend))
  )

const postgresReadOnly = (database: DatabaseHandle): Refusal => {
  const dropSessions = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${database.name}' AND pid <> pg_backend_pid()`
  return {
    client: database.layer,
    refuse: () =>
      onAdmin("postgres", [`ALTER DATABASE ${database.name} SET default_transaction_read_only = on`, dropSessions]),
    accept: () =>
      onAdmin("postgres", [`ALTER DATABASE ${database.name} RESET default_transaction_read_only`, dropSessions])
  }
}

/** MariaDB: an application user whose write privileges are revoked (and its sessions dropped). */
const mariadbWritesRevoked = (database: DatabaseHandle) =>
  Effect.gen(function* () {
    const user = `jobss_ro_${randomBytes(4).toString("hex")}`
    const writes = `INSERT, UPDATE, DELETE ON ${database.name}.*`
    yield* Effect.acquireRelease(
      onAdmin("mariadb", [
        `CREATE USER '${user}'@'%' IDENTIFIED BY 'app-secret'`,
        `GRANT SELECT, ${writes} TO '${user}'@'%'`
      ]),
      () => onAdmin("mariadb", [`DROP USER '${user}'@'%'`]).pipe(Effect.orDie)
    )
    const url = new URL(database.url)
    url.username = user
    url.password = "app-secret"
    const dropSessions = Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.flatMap(
        sql<{ id: number }>`SELECT id FROM information_schema.processlist WHERE user = ${user}`,
        (sessions) =>
          Effect.forEach(sessions, (session) => sql.unsafe(`KILL CONNECTION ${Number(session.id)}`).pipe(Effect.ignore))
      )
    ).pipe(Effect.provide(adminLayer("mariadb")))
    const refusal: Refusal = {
      client: clientLayer("mariadb", url.toString()),
      refuse: () => Effect.zipRight(onAdmin("mariadb", [`REVOKE ${writes} FROM '${user}'@'%'`]), dropSessions),
      accept: () => Effect.zipRight(onAdmin("mariadb", [`GRANT ${writes} TO '${user}'@'%'`]), dropSessions)
    }
    return refusal
  })

/** SQLite: the file may not grow past its present size (the instance's own connection's limit). */
const sqliteFull = (database: DatabaseHandle): Refusal => ({
  client: database.layer,
  refuse: (sql) =>
    Effect.flatMap(sql<{ page_count: number }>`PRAGMA page_count`, ([row]) =>
      sql.unsafe(`PRAGMA max_page_count = ${Number(row?.page_count)}`)
    ),
  accept: (sql) => sql.unsafe("PRAGMA max_page_count = 1073741823")
})

const refusalOn = (backend: Backend, database: DatabaseHandle) =>
  backend === "postgres"
    ? Effect.succeed(postgresReadOnly(database))
    : backend === "mariadb"
      ? mariadbWritesRevoked(database)
      : Effect.succeed(sqliteFull(database))

describe.each(["sqlite", "postgres", "mariadb"] as const)("writes refused on %s", (backend) => {
  it.scopedLive(`the instance lives on and every run ends once writes are back (${backend})`, () =>
    Effect.gen(function* () {
      const database = yield* makeDatabase(backend)
      // the owner migrates (the MariaDB application user may not)
      yield* Layer.build(SqlStore.layer().pipe(Layer.provide(database.layer)))
      const refusal = yield* refusalOn(backend, database)
      const started = yield* Ref.make(0)
      const work = Work.toLayer(() =>
        Effect.zipRight(
          Ref.update(started, (n) => n + 1),
          Effect.sleep("150 millis")
        )
      )
      const client = yield* Layer.build(refusal.client)
      const context = yield* Layer.build(
        work.pipe(
          Layer.provideMerge(JobsS.layer({ ...fastOptions, workers: 4 })),
          Layer.provide(SqlStore.layer({ autoMigrate: false })),
          Layer.provide(Layer.succeedContext(client))
        )
      )
      const scheduler = Context.get(context, Scheduler.Scheduler)
      const sql = Context.get(client, SqlClient.SqlClient)
      const ids = yield* scheduler.createRuns(
        Work,
        Array.from({ length: 60 }, (_, n) => ({ n }))
      )
      while ((yield* Ref.get(started)) < 8) yield* Effect.sleep("20 millis")
      yield* refusal.refuse(sql)
      const refusedAt = Date.now()
      // writes are refused indeed (a run large enough to need new pages in SQLite's file)
      const refused = yield* Effect.either(scheduler.createRun(Work, { n: -1, pad: "x".repeat(200_000) }))
      expect(refused._tag).toBe("Left")
      yield* Effect.sleep(refusedForMs - (Date.now() - refusedAt))
      yield* refusal.accept(sql)

      const states = yield* Effect.forEach(ids, (id) => scheduler.awaitRun(id, { timeout: "60 seconds" }), {
        concurrency: 8
      })
      expect(states.filter((state) => state.status !== "succeeded")).toEqual([])
      const breaches = yield* Effect.forEach(states, (state) =>
        Effect.map(scheduler.getRunHistory(state.originId), (history) => runBreaches(state, history))
      )
      expect(breaches.flat()).toEqual([])
      // and it goes on serving
      const later = yield* scheduler.createRun(Work, { n: 1_000 })
      expect((yield* scheduler.awaitRun(later, { timeout: "20 seconds" })).status).toBe("succeeded")
    })
  )
})
