/**
 * SQLite: every claim, reap and fenced write is a single autocommit
 * `UPDATE ... RETURNING` (a deferred read-then-write transaction would fail
 * with SQLITE_BUSY instead of waiting when several processes share the file).
 * The connection waits up to `busy_timeout` for the write lock. Migrations run
 * in a transaction whose first statement is a write, so concurrent migrators
 * queue on the write lock. No wake-ups (polling).
 *
 * @internal
 */

import type * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Option, Stream } from "effect"
import { type Dialect, type Row, type Tables, causeOf, propertyOf, requireVersion } from "./dialect.js"
import { createMigrationsTable } from "./migrations.js"
import * as shared from "./shared.js"

/** Milliseconds a statement waits for another connection's write lock before SQLITE_BUSY. */
export const busyTimeoutMs = 10_000

/** The SQLite dialect; `client` (when present) tells whether the user disabled WAL. */
export const make = (
  sql: SqlClient.SqlClient,
  t: Tables,
  client: Option.Option<SqliteClient.SqliteClient>
): Dialect => ({
  name: "sqlite",
  sql,
  tables: t,
  now: sql.literal("CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)"),
  concat: (left, right) => sql`(${left} || ${right})`,
  onUniqueKeyConflictIgnore: shared.onUniqueKeyConflictIgnore(sql),
  ignoresDuplicateIds: false,
  preparesStatements: false,
  onConflictReplace: (key, columns) => shared.onConflictReplace(sql, key, columns),
  updateReturning: (request) =>
    shared.updateReturning(sql, t.runs, {
      set: request.set,
      where:
        request.pick === undefined
          ? request.where
          : sql`id IN (SELECT id FROM ${sql(t.runs)} WHERE ${request.where} ORDER BY ${request.pick.orderBy} LIMIT ${request.pick.limit})`,
      returning: request.returning
    }),
  affectedRows: (raw) => Number(propertyOf(raw, "changes") ?? 0),
  isTransient: (error) => {
    const code = propertyOf(causeOf(error), "code")
    return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))
  },
  setup: setup(sql, client),
  withMigrationLock: (migrate) =>
    createMigrationsTable("sqlite", t).pipe(
      Effect.zipRight(
        sql.withTransaction(
          // A write first: the transaction takes the write lock now (waiting for it), not on upgrade.
          sql`DELETE FROM ${sql(t.migrations)} WHERE migration_id < 0`.pipe(Effect.zipRight(migrate))
        )
      )
    ),
  wakeups: Stream.never
})

/** `busy_timeout` on the connection; WAL for a file database unless the client was told not to. */
const setup = (sql: SqlClient.SqlClient, client: Option.Option<SqliteClient.SqliteClient>) =>
  Effect.gen(function* () {
    const [row] = yield* sql<Row>`SELECT sqlite_version() AS version`
    yield* requireVersion("SQLite", String(row?.["version"]), [3, 35], "UPDATE ... RETURNING")
    yield* sql.unsafe(`PRAGMA busy_timeout = ${busyTimeoutMs}`)
    const walDisabled = Option.exists(client, (c) => c.config.disableWAL === true)
    const files = yield* sql<Row>`PRAGMA database_list`
    const mainFile = files.find((row) => row["name"] === "main")?.["file"]
    if (!walDisabled && typeof mainFile === "string" && mainFile !== "") {
      yield* sql`PRAGMA journal_mode = WAL`
    }
  })
