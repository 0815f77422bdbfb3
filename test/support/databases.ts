/**
 * Real databases for tests: a fresh, empty, isolated database per test on SQLite, PostgreSQL and
 * MariaDB.
 *
 * PostgreSQL and MariaDB need running servers whose admin URLs are in `JOBSS_TEST_PG_URL` and
 * `JOBSS_TEST_MYSQL_URL`. `npm test` starts throwaway servers and sets both; to run vitest by
 * hand, start them with `node scripts/db-servers.mjs` and export the variables it prints.
 * A missing variable fails the test with a message saying so: a backend is never skipped.
 *
 * ```ts
 * import { it } from "@effect/vitest"
 * import { freshDatabase, makeDatabase, sqlBackends } from "../support/databases.js"
 *
 * for (const backend of sqlBackends) {
 *   it.scoped(`${backend}: ...`, () =>
 *     Effect.gen(function*() {
 *       const sql = yield* SqlClient.SqlClient
 *       // ...
 *     }).pipe(Effect.provide(freshDatabase(backend))))
 *
 *   it.scoped(`${backend}: two instances on one database`, () =>
 *     Effect.gen(function*() {
 *       const db = yield* makeDatabase(backend)      // dropped when the test's scope closes
 *       const a = yield* Layer.build(db.layer)         // one client (own pool)
 *       const b = yield* Layer.build(db.layer)         // another client, same database
 *     }))
 * }
 * ```
 */
import { randomBytes } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SqlClient, type SqlError } from "@effect/sql"
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { type ConfigError, Data, Duration, Effect, Layer, Redacted, type Scope } from "effect"

export type Backend = "sqlite" | "postgres" | "mariadb"

/** Every SQL backend; tests loop over it (`for (const backend of sqlBackends)`). */
export const sqlBackends: ReadonlyArray<Backend> = ["sqlite", "postgres", "mariadb"]

/** The environment variables holding the servers' admin URLs. */
export const serverUrlVariables = {
  postgres: "JOBSS_TEST_PG_URL",
  mariadb: "JOBSS_TEST_MYSQL_URL"
} as const

/** Setting up or tearing down a test database went wrong (missing server URL, temp file, ...). */
export class TestDatabaseError extends Data.TaggedError("TestDatabaseError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/** What building a client (or a fresh database) can fail with. */
export type ClientError = SqlError.SqlError | ConfigError.ConfigError
export type DatabaseError = ClientError | TestDatabaseError

export interface DatabaseHandle {
  readonly backend: Backend
  /** Database name (PostgreSQL, MariaDB) or file name (SQLite). */
  readonly name: string
  /** Connection URL of the database; for SQLite the file's path. */
  readonly url: string
  /**
   * A client on this database. It is `Layer.fresh`: every build makes a NEW client with its own
   * pool, so several "instances" can share the database, each through its own connections.
   */
  readonly layer: Layer.Layer<SqlClient.SqlClient, ClientError>
}

// ---------------------------------------------------------------------------------------------
// Client layers

/** Options of every MariaDB client made here: a small pool (the server allows 500 connections). */
export const mysqlClientOptions = {
  maxConnections: 10
} as const satisfies Omit<MysqlClient.MysqlClientConfig, "url">

/** A MariaDB/MySQL client with `mysqlClientOptions`. */
export const mysqlClientLayer = (url: string): Layer.Layer<SqlClient.SqlClient, ClientError> =>
  MysqlClient.layer({ ...mysqlClientOptions, url: Redacted.make(url) })

/** A PostgreSQL client (driver defaults: pool of 10). */
export const pgClientLayer = (url: string): Layer.Layer<SqlClient.SqlClient, ClientError> =>
  PgClient.layer({ url: Redacted.make(url) })

/** A SQLite client on a file (the driver switches the file to WAL). */
export const sqliteClientLayer = (filename: string): Layer.Layer<SqlClient.SqlClient, ClientError> =>
  SqliteClient.layer({ filename })

/** A new client (never shared through layer memoization) on `url`. */
export const clientLayer = (backend: Backend, url: string): Layer.Layer<SqlClient.SqlClient, ClientError> =>
  Layer.fresh(
    backend === "postgres" ? pgClientLayer(url) : backend === "mariadb" ? mysqlClientLayer(url) : sqliteClientLayer(url)
  )

// ---------------------------------------------------------------------------------------------
// Servers

/** The admin URL of the backend's server, from the environment. */
export const serverUrl = (backend: "postgres" | "mariadb"): Effect.Effect<string, TestDatabaseError> =>
  Effect.suspend(() => {
    const variable = serverUrlVariables[backend]
    const url = process.env[variable]
    if (url !== undefined && url !== "") return Effect.succeed(url)
    const example =
      backend === "postgres" ? "postgres://postgres@127.0.0.1:5432/postgres" : "mysql://root:secret@127.0.0.1:3306"
    return Effect.fail(
      new TestDatabaseError({
        message:
          `${variable} is not set, so the ${backend} tests cannot run. Run them through \`npm test\` ` +
          "(it starts throwaway PostgreSQL and MariaDB servers), or start servers with " +
          "`node scripts/db-servers.mjs` and export the variables it prints, or set " +
          `${variable} to an admin URL of an existing server (e.g. ${example}).`
      })
    )
  })

/** A client connected to the server as admin (to create, inspect or drop databases). */
export const adminLayer = (backend: "postgres" | "mariadb"): Layer.Layer<SqlClient.SqlClient, DatabaseError> =>
  Layer.unwrapEffect(
    Effect.map(serverUrl(backend), (url) =>
      Layer.fresh(
        backend === "postgres"
          ? PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })
          : MysqlClient.layer({ url: Redacted.make(url), maxConnections: 1 })
      )
    )
  )

/** Whether a database with this name exists on the backend's server. */
export const databaseExists = (backend: "postgres" | "mariadb", name: string): Effect.Effect<boolean, DatabaseError> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows =
      backend === "postgres"
        ? yield* sql`SELECT 1 AS found FROM pg_database WHERE datname = ${name}`
        : yield* sql`SELECT 1 AS found FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${name}`
    return rows.length > 0
  }).pipe(Effect.provide(adminLayer(backend)))

const withDatabase = (adminUrl: string, name: string): string => {
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

const createDatabase = (backend: "postgres" | "mariadb", name: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    if (backend === "postgres") {
      yield* sql`CREATE DATABASE ${sql(name)}`
    } else {
      yield* sql`CREATE DATABASE ${sql(name)} CHARACTER SET utf8mb4`
    }
  }).pipe(Effect.provide(adminLayer(backend)))

const dropDatabase = (backend: "postgres" | "mariadb", name: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    if (backend === "postgres") {
      // FORCE terminates connections still open on it (PostgreSQL 13+).
      yield* sql`DROP DATABASE IF EXISTS ${sql(name)} WITH (FORCE)`
    } else {
      // A leaked connection holding a metadata lock would block DROP DATABASE: kill them first.
      const others = yield* sql<{ readonly id: number | string }>`
        SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ${name} AND ID <> CONNECTION_ID()`
      for (const { id } of others) {
        yield* sql.unsafe(`KILL CONNECTION ${Number(id)}`).pipe(Effect.ignore)
      }
      yield* sql`DROP DATABASE IF EXISTS ${sql(name)}`
    }
  }).pipe(
    Effect.provide(adminLayer(backend)),
    Effect.timeoutFail({
      duration: Duration.seconds(60),
      onTimeout: () => new TestDatabaseError({ message: `dropping test database ${name} timed out` })
    })
  )

const serverDatabase = (backend: "postgres" | "mariadb"): Effect.Effect<DatabaseHandle, DatabaseError, Scope.Scope> =>
  Effect.gen(function* () {
    const adminUrl = yield* serverUrl(backend)
    const name = `jobss_t_${randomBytes(6).toString("hex")}`
    yield* Effect.acquireRelease(createDatabase(backend, name), () =>
      // A database that cannot be dropped is a leak (or a leaked connection): fail loudly.
      dropDatabase(backend, name).pipe(Effect.orDie)
    )
    const url = withDatabase(adminUrl, name)
    return { backend, name, url, layer: clientLayer(backend, url) }
  })

const sqliteDatabase: Effect.Effect<DatabaseHandle, DatabaseError, Scope.Scope> = Effect.gen(function* () {
  const dir = yield* Effect.acquireRelease(
    Effect.tryPromise({
      try: () => mkdtemp(join(tmpdir(), "jobss-sqlite-")),
      catch: (cause) => new TestDatabaseError({ message: "cannot create a temp folder for SQLite", cause })
    }),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )
  const file = join(dir, "test.db")
  const layer = clientLayer("sqlite", file)
  // Create the file in WAL mode now (the journal mode is stored in the file).
  yield* Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`PRAGMA journal_mode = WAL`
  }).pipe(Effect.provide(layer))
  return { backend: "sqlite" as const, name: file, url: file, layer }
})

/**
 * A fresh, empty database on `backend`, dropped (SQLite: its files deleted) when the scope closes.
 * Build `handle.layer` once per client ("instance") that should use it.
 */
export const makeDatabase = (backend: Backend): Effect.Effect<DatabaseHandle, DatabaseError, Scope.Scope> =>
  backend === "sqlite" ? sqliteDatabase : serverDatabase(backend)

/**
 * A fresh, isolated, empty database on the backend and one client on it; the database is dropped
 * (or its file deleted) when the layer's scope closes, after the client is closed.
 */
export const freshDatabase = (backend: Backend): Layer.Layer<SqlClient.SqlClient, DatabaseError> =>
  Layer.unwrapScoped(Effect.map(makeDatabase(backend), (database) => database.layer))
