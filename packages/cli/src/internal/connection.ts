/**
 * The database a command works on: `--database-url` (or `DATABASE_URL`) names PostgreSQL
 * (`postgres://`, `postgresql://`), MySQL/MariaDB (`mysql://`, `mariadb://`) or an SQLite file (any
 * other value, or `sqlite:<path>`), and `--table-prefix` the store's tables. Commands other than
 * `migrate` never change the schema (`autoMigrate: false`) and refuse an SQLite file that does not
 * exist (opening it would create an empty database).
 */
import { existsSync } from "node:fs"
import * as MysqlClient from "@effect/sql-mysql2/MysqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import { JobsS, JobsSError, type Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import type * as ConfigError from "effect/ConfigError"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

/** Where and how a command connects. */
export interface Connection {
  /** The database URL or SQLite path. */
  readonly databaseUrl: string
  /** The store's table prefix. */
  readonly tablePrefix: string
}

/** The database a URL names. */
export type Target =
  | { readonly _tag: "postgres"; readonly url: string }
  | { readonly _tag: "mysql"; readonly url: string }
  | { readonly _tag: "sqlite"; readonly filename: string }

/** Reads what the URL names. */
export const targetOf = (databaseUrl: string): Target => {
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) return { _tag: "postgres", url: databaseUrl }
  if (/^(mysql|mariadb):\/\//i.test(databaseUrl)) {
    return { _tag: "mysql", url: databaseUrl.replace(/^mariadb:/i, "mysql:") }
  }
  return { _tag: "sqlite", filename: databaseUrl.replace(/^sqlite:(\/\/)?/i, "") }
}

/** The client of the database, its start's failures explained (`SqlStore.client`). */
export const client = (
  connection: Connection,
  options: { readonly create: boolean }
): Layer.Layer<SqlClient.SqlClient, JobsSError.JobStoreError | ConfigError.ConfigError> => {
  const target = targetOf(connection.databaseUrl)
  switch (target._tag) {
    case "postgres":
      return SqlStore.client(PgClient.layer({ url: Redacted.make(target.url) }))
    case "mysql":
      return SqlStore.client(MysqlClient.layer({ url: Redacted.make(target.url) }))
    case "sqlite":
      return !options.create && target.filename !== ":memory:" && !existsSync(target.filename)
        ? Layer.fail(
            new JobsSError.JobStoreError({
              message: `No SQLite database at ${JSON.stringify(target.filename)} (run jobss migrate to create one)`
            })
          )
        : SqlStore.client(SqliteClient.layer({ filename: target.filename }))
  }
}

/** A client-only `Scheduler` on the store (its schema must be current). */
export const scheduler = (
  connection: Connection
): Layer.Layer<Scheduler.Scheduler, JobsSError.JobStoreError | JobsSError.InvalidConfig | ConfigError.ConfigError> =>
  JobsS.layerClient().pipe(
    Layer.provide(SqlStore.layer({ tablePrefix: connection.tablePrefix, autoMigrate: false })),
    Layer.provide(client(connection, { create: false }))
  )
