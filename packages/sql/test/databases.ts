/**
 * The repository's test databases (`test/support/databases.ts`: a fresh, isolated database per
 * test on SQLite, PostgreSQL and MariaDB), for this package's tests.
 *
 * That module lives outside this package's TypeScript project (`rootDir` is the package), so a
 * static import would not type-check here; it is loaded at run time and typed by the small
 * interface below, which mirrors the part of its API these tests use.
 */
import type { SqlClient } from "@effect/sql"
import { JobStore } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Context, Effect, Layer, type Scope } from "effect"

/** A SQL backend of the test harness. */
export type Backend = "sqlite" | "postgres" | "mariadb"

/** A fresh database: `layer` builds a new client (own pool) on it each time it is built. */
export interface DatabaseHandle {
  readonly backend: Backend
  readonly name: string
  readonly url: string
  readonly layer: Layer.Layer<SqlClient.SqlClient, unknown>
}

interface Harness {
  readonly sqlBackends: ReadonlyArray<Backend>
  readonly makeDatabase: (backend: Backend) => Effect.Effect<DatabaseHandle, unknown, Scope.Scope>
  readonly freshDatabase: (backend: Backend) => Layer.Layer<SqlClient.SqlClient, unknown>
}

const harnessPath = ["..", "..", "..", "test", "support", "databases.js"].join("/")
const harness = (await import(/* @vite-ignore */ harnessPath)) as Harness

/** Every SQL backend. */
export const sqlBackends: ReadonlyArray<Backend> = harness.sqlBackends

/** A fresh database on `backend`, dropped when the scope closes. */
export const makeDatabase: Harness["makeDatabase"] = harness.makeDatabase

/** A fresh database on `backend` and one client on it. */
export const freshDatabase: Harness["freshDatabase"] = harness.freshDatabase

/** A fresh database on `backend`, one client on it and a (migrated) `SqlStore` over that client, all in the scope. */
export const storeOn = (backend: Backend) =>
  Effect.gen(function* () {
    const database = yield* makeDatabase(backend)
    const client = yield* Layer.build(database.layer)
    const store = yield* Effect.map(
      Layer.build(SqlStore.layer().pipe(Layer.provide(Layer.succeedContext(client)))),
      Context.get(JobStore.JobStore)
    )
    return { client, store }
  })
