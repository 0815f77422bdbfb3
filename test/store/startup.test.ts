/**
 * Starting against a database that cannot be used fails at once with a `JobStoreError` whose
 * message says what is wrong, on the real servers and on SQLite files:
 *
 * - what reaches the store (its first queries: setup, migrations): a server that went away after
 *   its client started, an SQLite file opened read-only, or one that is not a database;
 * - what the drivers raise while their own layer starts (PgClient and MysqlClient connect once,
 *   SqliteClient opens the file), through `SqlStore.client`: a refused port, a refused login, a
 *   missing database, a missing directory, a path that cannot be opened.
 *
 * The tests run as any user, root included (who reads and writes every file whatever its mode):
 * a path that is a directory stands for a file that cannot be opened, and the client's `readonly`
 * option for a file the process cannot write. PostgreSQL's test servers trust every local login, so
 * a refused login there is an unknown user; on MariaDB it is a wrong password.
 */
import { randomBytes } from "node:crypto"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SqlClient, type SqlError } from "@effect/sql"
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { JobStore, JobsS, type JobsSError } from "@jobss/core"
import { SqlStore, SqlStoreMigrations } from "@jobss/sql"
import { Config, ConfigError, Effect, Layer, Redacted } from "effect"
import { adminLayer, clientLayer, makeDatabase, serverUrl } from "../support/databases.js"
import * as TcpProxy from "../support/tcpProxy.js"

const servers = { postgres: "PostgreSQL", mariadb: "MySQL/MariaDB" } as const

/** An instance on the store on `client`: what a user's program builds first. */
const instanceOn = <E>(client: Layer.Layer<SqlClient.SqlClient, E>) =>
  JobsS.layer({}).pipe(Layer.provide(SqlStore.layer()), Layer.provide(client))

/** The error the instance's start failed with (it must fail, with a failure, not a defect). */
const startFailure = <E>(client: Layer.Layer<SqlClient.SqlClient, E>) =>
  Effect.flip(Effect.scoped(Layer.build(instanceOn(client))))

/** A loopback port nothing listens on. */
const closedPort = Effect.async<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** The server's admin URL with another user, password, port or database. */
const urlWith = (
  backend: "postgres" | "mariadb",
  change: { readonly user?: string; readonly password?: string; readonly port?: number; readonly database?: string }
) =>
  Effect.map(serverUrl(backend), (admin) => {
    const url = new URL(admin)
    if (change.user !== undefined) url.username = change.user
    if (change.password !== undefined) url.password = change.password
    if (change.port !== undefined) url.port = String(change.port)
    if (change.database !== undefined) url.pathname = `/${change.database}`
    return url.toString()
  })

const driverLayer = (
  backend: "postgres" | "mariadb",
  url: string
): Layer.Layer<SqlClient.SqlClient, SqlError.SqlError | ConfigError.ConfigError> =>
  backend === "postgres"
    ? PgClient.layer({ url: Redacted.make(url) })
    : MysqlClient.layer({ url: Redacted.make(url), maxConnections: 2 })

const expectStoreError = (error: unknown, message: string, transient: boolean) => {
  expect(error).toMatchObject({ _tag: "JobStoreError", transient })
  expect((error as JobsSError.JobStoreError).message).toBe(message)
  expect((error as JobsSError.JobStoreError).cause).toBeDefined()
}

/** A MariaDB user with a password, dropped when the scope closes. */
const mariadbUser = Effect.acquireRelease(
  Effect.gen(function* () {
    const user = `jobss_pw_${randomBytes(4).toString("hex")}`
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`CREATE USER '${user}'@'%' IDENTIFIED BY 'right-password'`)
    return user
  }).pipe(Effect.provide(adminLayer("mariadb"))),
  (user) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`DROP USER IF EXISTS '${user}'@'%'`)).pipe(
      Effect.provide(adminLayer("mariadb")),
      Effect.orDie
    )
)

describe.each(["postgres", "mariadb"] as const)("startup against an unusable %s server", (backend) => {
  const system = servers[backend]

  it.scopedLive(`a server gone after its client started: the store's first query says so (${backend})`, () =>
    Effect.gen(function* () {
      const database = yield* makeDatabase(backend)
      const proxy = yield* TcpProxy.make(database.url)
      const client = yield* Layer.build(clientLayer(backend, proxy.url))
      yield* proxy.sever
      const error = yield* startFailure(Layer.succeedContext(client))
      // refused, or lost: the pool may still hold the connection its client's start opened
      expect(error).toMatchObject({ _tag: "JobStoreError", transient: true })
      expect(error.message).toMatch(
        new RegExp(
          `^SqlStore cannot start: cannot connect to the ${system} server at 127\\.0\\.0\\.1:${proxy.port}: ` +
            "(connection refused|Connection terminated unexpectedly|Connection lost: The server closed the connection\\.)$"
        )
      )
    })
  )

  it.scopedLive(`a refused port, through SqlStore.client (${backend})`, () =>
    Effect.gen(function* () {
      const port = yield* closedPort
      const error = yield* startFailure(SqlStore.client(driverLayer(backend, yield* urlWith(backend, { port }))))
      expectStoreError(
        error,
        `SqlStore cannot start: cannot connect to the ${system} server at 127.0.0.1:${port}: connection refused`,
        true
      )
    })
  )

  it.scopedLive(`a missing database, through SqlStore.client (${backend})`, () =>
    Effect.gen(function* () {
      const missing = `jobss_missing_${randomBytes(4).toString("hex")}`
      const error = yield* startFailure(
        SqlStore.client(driverLayer(backend, yield* urlWith(backend, { database: missing })))
      )
      expectStoreError(
        error,
        `SqlStore cannot start: database ${missing} does not exist on the ${system} server`,
        false
      )
    })
  )
})

describe("startup with a refused login", () => {
  it.scopedLive("postgres: an unknown user, through SqlStore.client", () =>
    Effect.gen(function* () {
      const user = `jobss_nobody_${randomBytes(4).toString("hex")}`
      const url = yield* urlWith("postgres", { user, password: "any" })
      const error = yield* startFailure(SqlStore.client(driverLayer("postgres", url)))
      expectStoreError(
        error,
        `SqlStore cannot start: the PostgreSQL server refused the login: role "${user}" does not exist`,
        false
      )
    })
  )

  it.scopedLive("mariadb: a wrong password, through SqlStore.client", () =>
    Effect.gen(function* () {
      const user = yield* mariadbUser
      const database = yield* makeDatabase("mariadb")
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql.unsafe(`GRANT ALL ON \`${database.name}\`.* TO '${user}'@'%'`)
      ).pipe(Effect.provide(adminLayer("mariadb")))
      // the right password starts the instance: the user is set up, only the password is wrong below
      const right = new URL(database.url)
      right.username = user
      right.password = "right-password"
      yield* Effect.scoped(Layer.build(instanceOn(SqlStore.client(driverLayer("mariadb", right.toString())))))
      const wrong = new URL(right)
      wrong.password = "wrong-password"
      const error = yield* startFailure(SqlStore.client(driverLayer("mariadb", wrong.toString())))
      expect(error).toMatchObject({ _tag: "JobStoreError", transient: false })
      expect(error.message).toMatch(
        new RegExp(
          `^SqlStore cannot start: the MySQL/MariaDB server refused the login: Access denied for user '${user}'@`
        )
      )
    })
  )
})

describe("startup on an unusable SQLite file (SQLite)", () => {
  const folder = Effect.acquireRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "jobss-startup-"))),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

  it.scoped("sqlite: a file opened read-only: the store cannot migrate, and says so", () =>
    Effect.gen(function* () {
      const dir = yield* folder
      const file = join(dir, "jobs.db")
      // a store file made as usual, then opened read-only
      yield* Effect.scoped(Layer.build(SqlStore.layer().pipe(Layer.provide(SqliteClient.layer({ filename: file })))))
      const readOnly = SqliteClient.layer({ filename: file, readonly: true })
      const message = new RegExp(
        `^SqlStore cannot start: SQLite file ${file} is read-only, and the store must write to it \\(`
      )
      const error = yield* startFailure(readOnly)
      expect(error).toMatchObject({ _tag: "JobStoreError", transient: false })
      expect(error.message).toMatch(message)
      // the same from the explicit migrations (the CLI's path)
      const migrating = yield* Effect.flip(SqlStoreMigrations.run().pipe(Effect.provide(readOnly)))
      expect(migrating).toMatchObject({ _tag: "JobStoreError", transient: false })
      expect(migrating.message).toMatch(message)
    })
  )

  it.scoped("sqlite: a file that is not a database: the store's first query says so", () =>
    Effect.gen(function* () {
      const file = join(yield* folder, "notes.txt")
      yield* Effect.promise(() => writeFile(file, "these are notes, not a database\n".repeat(200)))
      const error = yield* startFailure(SqliteClient.layer({ filename: file, disableWAL: true }))
      expectStoreError(error, `SqlStore cannot start: SQLite file ${file} is not a database`, false)
    })
  )

  it.scoped("sqlite: a file that is not a database, opened by the client in WAL mode, through SqlStore.client", () =>
    Effect.gen(function* () {
      const file = join(yield* folder, "notes.txt")
      yield* Effect.promise(() => writeFile(file, "these are notes, not a database\n".repeat(200)))
      const error = yield* startFailure(SqlStore.client(SqliteClient.layer({ filename: file })))
      expectStoreError(error, "SqlStore cannot start: the SQLite file is not a database", false)
    })
  )

  it.scoped("sqlite: a file in a directory that does not exist, through SqlStore.client", () =>
    Effect.gen(function* () {
      const file = join(yield* folder, "missing", "jobs.db")
      const error = yield* startFailure(SqlStore.client(SqliteClient.layer({ filename: file })))
      expectStoreError(
        error,
        "SqlStore cannot start: the SQLite file cannot be opened: its directory does not exist",
        false
      )
    })
  )

  it.scoped("sqlite: a path that cannot be opened as a file (a directory), through SqlStore.client", () =>
    Effect.gen(function* () {
      const path = join(yield* folder, "a-directory")
      yield* Effect.promise(() => mkdir(path))
      const error = yield* startFailure(SqlStore.client(SqliteClient.layer({ filename: path })))
      expectStoreError(
        error,
        "SqlStore cannot start: the SQLite file cannot be opened (unable to open database file)",
        false
      )
    })
  )
})

describe("SqlStore.client passes what is not the driver's", () => {
  it.scoped("postgres: a missing configuration value stays a ConfigError", () =>
    Effect.gen(function* () {
      const client = PgClient.layerConfig({ url: Config.redacted("JOBSS_TEST_NO_SUCH_VARIABLE") })
      const error = yield* Effect.flip(Effect.scoped(Layer.build(SqlStore.client(client))))
      expect(ConfigError.isConfigError(error)).toBe(true)
    })
  )

  it.scoped("sqlite: a client that starts is the same client", () =>
    Effect.gen(function* () {
      const store = yield* Layer.build(
        SqlStore.layer().pipe(Layer.provideMerge(SqlStore.client(SqliteClient.layer({ filename: ":memory:" }))))
      )
      const sql = yield* SqlClient.SqlClient.pipe(Effect.provide(store))
      expect(yield* sql`SELECT 1 AS one`).toEqual([{ one: 1 }])
      expect(yield* JobStore.JobStore.pipe(Effect.provide(store))).toBeDefined()
    })
  )
})
