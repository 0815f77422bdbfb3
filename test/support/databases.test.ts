import { existsSync } from "node:fs"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { databaseExists, freshDatabase, makeDatabase, sqlBackends } from "./databases.js"

const client = (layer: Layer.Layer<SqlClient.SqlClient, unknown>) =>
  Effect.map(Layer.build(layer), (context) => Context.get(context, SqlClient.SqlClient))

const selectOne = (sql: SqlClient.SqlClient) =>
  Effect.map(sql<{ readonly one: number | string }>`SELECT 1 AS one`, (rows) => Number(rows[0]?.one))

const hasTable = (sql: SqlClient.SqlClient, table: string) =>
  sql`SELECT COUNT(*) AS n FROM ${sql(table)}`.pipe(
    Effect.as(true),
    Effect.catchAll(() => Effect.succeed(false))
  )

describe("test/support/databases", () => {
  for (const backend of sqlBackends) {
    describe(backend, () => {
      it.scoped(`${backend}: SELECT 1 through freshDatabase`, () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          assert.strictEqual(yield* selectOne(sql), 1)
        }).pipe(Effect.provide(freshDatabase(backend)))
      )

      it.scoped(`${backend}: two fresh databases are isolated`, () =>
        Effect.gen(function* () {
          const a = yield* client(freshDatabase(backend))
          const b = yield* client(freshDatabase(backend))
          yield* a`CREATE TABLE isolation_probe (id INTEGER PRIMARY KEY)`
          yield* a`INSERT INTO isolation_probe (id) VALUES (1)`
          assert.isTrue(yield* hasTable(a, "isolation_probe"))
          assert.isFalse(yield* hasTable(b, "isolation_probe"))
        })
      )

      it.scoped(`${backend}: clients of one handle share the database`, () =>
        Effect.gen(function* () {
          const database = yield* makeDatabase(backend)
          const a = yield* client(database.layer)
          const b = yield* client(database.layer)
          assert.notStrictEqual(a, b)
          yield* a`CREATE TABLE shared_probe (id INTEGER PRIMARY KEY)`
          yield* a`INSERT INTO shared_probe (id) VALUES (7)`
          const rows = yield* b<{ readonly id: number | string }>`SELECT id FROM shared_probe`
          assert.deepStrictEqual(
            rows.map((row) => Number(row.id)),
            [7]
          )
        })
      )

      it.effect(`${backend}: the database is removed when its scope closes`, () =>
        Effect.gen(function* () {
          const scope = yield* Scope.make()
          const database = yield* makeDatabase(backend).pipe(Scope.extend(scope))
          const sql = yield* client(database.layer).pipe(Scope.extend(scope))
          yield* sql`CREATE TABLE leftover (id INTEGER PRIMARY KEY)`
          if (backend === "sqlite") {
            assert.isTrue(existsSync(database.url))
            const mode = yield* sql<{ readonly journal_mode: string }>`PRAGMA journal_mode`
            assert.strictEqual(mode[0]?.journal_mode, "wal")
          } else {
            assert.match(database.name, /^jobss_t_[0-9a-f]+$/)
            assert.isTrue(yield* databaseExists(backend, database.name))
          }
          yield* Scope.close(scope, Exit.void)
          if (backend === "sqlite") {
            assert.isFalse(existsSync(database.url))
          } else {
            assert.isFalse(yield* databaseExists(backend, database.name))
          }
        })
      )
    })
  }
})
