/**
 * `SqlStore`: the JobsS `JobStore` on the `@effect/sql` client in context —
 * PostgreSQL, MySQL/MariaDB or SQLite — with the same semantics on each
 * (docs/STORE.md). Time comparisons and stamps use the database clock.
 *
 * ```ts
 * const JobsSLive = JobsS.layer({ workers: 10 }).pipe(
 *   Layer.provide(SqlStore.layer()),
 *   Layer.provide(SqliteClient.layer({ filename: "jobss.db" }))
 * )
 * ```
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { JobStore, JobsSError } from "@jobss/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as dialect from "./internal/dialect.js"
import * as dialects from "./internal/dialects.js"
import * as migrations from "./internal/migrations.js"
import * as startup from "./internal/startup.js"
import * as store from "./internal/store.js"
import * as ownConnection from "./internal/store/ownConnection.js"

/**
 * Options of `SqlStore.make` and `SqlStore.layer`.
 *
 * On SQLite the store sets `busy_timeout` to 200 ms on the client's connection: better-sqlite3 waits
 * for another connection's write lock synchronously, stopping the whole event loop, so a statement
 * waits at most 200 ms and a store operation is tried again through the scheduler for about 1 s more
 * before it fails with a transient `JobStoreError`. A process that holds the lock (frozen mid-write)
 * stops no other process's event loop for more than 200 ms at a time, well within the heartbeat
 * interval. Your own statements on that client wait 200 ms too: retry a transaction that fails with
 * SQLITE_BUSY.
 */
export interface SqlStoreOptions {
  /**
   * Prefix of the store's tables (default `"jobss_"`: `jobss_runs`, `jobss_instances`,
   * `jobss_migrations`). Letters, digits and underscores, not starting with a digit, at most 31
   * characters; table names are lower case.
   */
  readonly tablePrefix?: string
  /**
   * Apply pending migrations when the store starts (default `true`). With `false`, apply them
   * beforehand with `SqlStoreMigrations.run` (e.g. as a schema owner role); the store then only
   * checks that the schema is current.
   */
  readonly autoMigrate?: boolean
}

/** The table prefix used when none is given. */
export const defaultTablePrefix: string = dialect.defaultTablePrefix

/** Builds the store on the `SqlClient` in context: validates options, prepares the connection, migrates. */
export const make = (
  options: SqlStoreOptions = {}
): Effect.Effect<
  JobStore.JobStoreShape,
  JobsSError.JobStoreError | JobsSError.InvalidConfig,
  SqlClient.SqlClient | Scope.Scope
> =>
  Effect.gen(function* () {
    const autoMigrate = options.autoMigrate ?? true
    if (typeof autoMigrate !== "boolean") {
      const given: unknown = autoMigrate
      const shown =
        typeof given === "string" ? JSON.stringify(given) : typeof given === "object" ? "an object" : String(given)
      return yield* new JobsSError.InvalidConfig({
        message: `SqlStore: autoMigrate must be true or false, got ${shown}`
      })
    }
    const selected = yield* dialects.fromContext(options.tablePrefix ?? defaultTablePrefix)
    yield* dialects.setup(selected)
    yield* autoMigrate ? migrations.migrate(selected) : migrations.checkCurrent(selected)
    return store.make(selected, yield* ownConnection.make(selected))
  }).pipe(startup.explain)

/**
 * The `JobStore` layer on the `SqlClient` in context. When the database cannot be used at start
 * (unreachable, a refused login, an SQLite file that is read-only or not a database), it fails with a
 * `JobStoreError` saying so: "SqlStore cannot start: cannot connect to the PostgreSQL server at
 * 127.0.0.1:5432: connection refused". Failures of the client's own start: see `client`.
 */
export const layer = (
  options: SqlStoreOptions = {}
): Layer.Layer<JobStore.JobStore, JobsSError.JobStoreError | JobsSError.InvalidConfig, SqlClient.SqlClient> =>
  Layer.scoped(JobStore.JobStore, make(options))

/**
 * A database client's layer whose own start's failures are a `JobStoreError` that says what is
 * wrong: `Layer.provide(SqlStore.client(PgClient.layer({ url })))`. `PgClient.layer` and
 * `MysqlClient.layer` connect once while they are built, and `SqliteClient.layer` opens its file,
 * before the store exists: a refused connection, a refused login, a missing database or an SQLite
 * file that cannot be opened is otherwise the driver's `SqlError` ("Failed to connect", the reason
 * in its `cause`) or a defect. The message names what the driver's failure names (the server's
 * address when the connection was refused; not the SQLite file's name). Other failures pass.
 */
export const client = <ROut, E, RIn>(
  layer: Layer.Layer<ROut, E, RIn>
): Layer.Layer<ROut, JobsSError.JobStoreError | Exclude<E, SqlError>, RIn> => startup.explainClient(layer)

/**
 * `SqlStore.layer` configured from effect `Config` values, e.g.
 * `SqlStore.layerConfig({ tablePrefix: Config.string("JOBSS_TABLE_PREFIX") })`; the values read are
 * checked like `layer`'s options.
 */
export const layerConfig = (
  config: Config.Config.Wrap<SqlStoreOptions>
): Layer.Layer<
  JobStore.JobStore,
  ConfigError.ConfigError | JobsSError.JobStoreError | JobsSError.InvalidConfig,
  SqlClient.SqlClient
> => Layer.scoped(JobStore.JobStore, Effect.flatMap(Config.unwrap(config), make))
