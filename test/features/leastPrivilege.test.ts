/**
 * Least privilege: the owner applies the migrations with `SqlStoreMigrations.run`; the application
 * then runs with a role that may only read and write the tables (no DDL), on `autoMigrate: false`.
 */
import { randomBytes } from "node:crypto"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Scheduler } from "@jobss/core"
import { Effect, Layer, LogLevel, Logger } from "effect"
import { Announce } from "../../examples/src/features.js"
import { makeAppLayer, migrateAsOwner } from "../../examples/src/leastPrivilege.js"
import { clientLayer, makeDatabase } from "../support/databases.js"

const quiet = Logger.minimumLogLevel(LogLevel.Warning)

/** The statements an administrator runs to create the application's role, per server. */
const roleStatements = {
  postgres: (role: string, database: string) => ({
    create: [
      `CREATE ROLE ${role} LOGIN PASSWORD 'app-secret'`,
      `GRANT CONNECT ON DATABASE ${database} TO ${role}`,
      `GRANT USAGE ON SCHEMA public TO ${role}`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`,
      `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO ${role}`
    ],
    drop: [`DROP OWNED BY ${role}`, `DROP ROLE ${role}`]
  }),
  mariadb: (role: string, database: string) => ({
    create: [
      `CREATE USER '${role}'@'%' IDENTIFIED BY 'app-secret'`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ${database}.* TO '${role}'@'%'`
    ],
    drop: [`DROP USER '${role}'@'%'`]
  })
} as const

describe.each(["postgres", "mariadb"] as const)("least privilege on %s", (backend) => {
  it.scopedLive(`an application role without DDL rights runs jobs once the owner has migrated (${backend})`, () =>
    Effect.gen(function* () {
      const database = yield* makeDatabase(backend)
      const role = `jobss_app_${randomBytes(4).toString("hex")}`
      const statements = roleStatements[backend](role, database.name)
      const appUrl = new URL(database.url)
      appUrl.username = role
      appUrl.password = "app-secret"
      const app = clientLayer(backend, appUrl.toString())
      const asOwner = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) => Effect.provide(effect, database.layer)
      const run = (statement: string) => asOwner(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)))

      // Before the owner migrates, the application's store refuses to start, saying what to do.
      const early = yield* Effect.flip(Layer.build(makeAppLayer(database.layer)))
      expect(String(early)).toContain("SqlStoreMigrations.run")

      const applied = yield* asOwner(migrateAsOwner).pipe(Effect.provide(quiet))
      expect(applied.length).toBeGreaterThan(0)
      yield* Effect.acquireRelease(Effect.forEach(statements.create, run, { discard: true }), () =>
        Effect.forEach(statements.drop, run, { discard: true }).pipe(Effect.orDie)
      )

      // The role may not change the schema ...
      const ddl = yield* Effect.flip(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe("CREATE TABLE not_allowed (id INT)")).pipe(
          Effect.provide(app)
        )
      )
      expect(String("cause" in ddl ? ddl.cause : ddl)).toMatch(/denied/i)

      // ... and runs jobs all the same.
      const state = yield* Effect.gen(function* () {
        const id = yield* Scheduler.createRun(Announce, { name: "least privilege" })
        return yield* Scheduler.awaitRun(id, { timeout: "20 seconds" })
      }).pipe(Effect.provide(makeAppLayer(app).pipe(Layer.provide(quiet))))
      expect(state.status).toBe("succeeded")
    })
  )
})
