/**
 * Picks the dialect of the `SqlClient` in context and builds it.
 *
 * @internal
 */

import type * as MysqlClient from "@effect/sql-mysql2/MysqlClient"
import type * as PgClient from "@effect/sql-pg/PgClient"
import type * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { JobsSError } from "@jobss/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { type Dialect, messageOf, tables } from "./dialect.js"
import * as mysql from "./mysql/dialect.js"
import * as postgres from "./postgres/dialect.js"
import * as sqlite from "./sqlite/dialect.js"

// The drivers' tags, by key: importing the driver modules would load every driver for every user.
/** The `PgClient` tag of `@effect/sql-pg`. */
export const PgClientTag = Context.GenericTag<PgClient.PgClient>("@effect/sql-pg/PgClient")
/** The `MysqlClient` tag of `@effect/sql-mysql2`. */
export const MysqlClientTag = Context.GenericTag<MysqlClient.MysqlClient>("@effect/sql-mysql2/MysqlClient")
/** The `SqliteClient` tag of `@effect/sql-sqlite-node`. */
export const SqliteClientTag = Context.GenericTag<SqliteClient.SqliteClient>("@effect/sql-sqlite-node/SqliteClient")

/** The pattern a table prefix must match: it becomes part of SQL identifiers. */
export const tablePrefixPattern = /^[A-Za-z_][A-Za-z0-9_]{0,30}$/

/** The prefix, or an `InvalidConfig` saying why it cannot be used. */
export const validatePrefix = (prefix: string): Effect.Effect<string, JobsSError.InvalidConfig> =>
  tablePrefixPattern.test(prefix)
    ? Effect.succeed(prefix)
    : Effect.fail(
        new JobsSError.InvalidConfig({
          message:
            `SqlStore: invalid tablePrefix ${JSON.stringify(prefix)}: it becomes part of table names, so it must ` +
            "start with a letter or an underscore and contain only letters, digits and underscores (at most 31 characters)"
        })
      )

/** The dialect of the client in context, with its clock, statements, migrations and migration lock. */
export const fromContext = (
  prefix: string
): Effect.Effect<Dialect, JobsSError.InvalidConfig | JobsSError.JobStoreError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const client = yield* SqlClient.SqlClient
    // Rows are read by column name: never let the user's name transforms rename them.
    const sql = client.withoutTransforms()
    const t = tables(yield* validatePrefix(prefix))
    return yield* sql.onDialectOrElse({
      pg: () => Effect.map(Effect.serviceOption(PgClientTag), (pg) => postgres.make(sql, t, pg)),
      mysql: () => Effect.map(Effect.serviceOption(MysqlClientTag), (my) => mysql.make(sql, t, my)),
      sqlite: () => Effect.map(Effect.serviceOption(SqliteClientTag), (lite) => sqlite.make(sql, t, lite)),
      orElse: () =>
        Effect.fail(
          new JobsSError.InvalidConfig({
            message: "SqlStore supports PostgreSQL, MySQL/MariaDB and SQLite clients only"
          })
        )
    })
  })

/** Checks the server version and applies the dialect's per-connection settings. */
export const setup = (dialect: Dialect): Effect.Effect<void, JobsSError.JobStoreError> =>
  dialect.setup.pipe(
    Effect.mapError((cause) =>
      cause instanceof JobsSError.JobStoreError
        ? cause
        : new JobsSError.JobStoreError({ message: `SqlStore setup failed: ${messageOf(cause)}`, cause })
    )
  )
