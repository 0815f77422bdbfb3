import type { SqlClient } from "@effect/sql"
/**
 * The database the examples use: an embedded SQLite file by default, or the
 * server named by `DATABASE_URL` (postgres://..., mysql://... / mariadb://...,
 * or a path to another SQLite file).
 */
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import type { SqlError } from "@effect/sql/SqlError"
import type { ConfigError, Layer } from "effect"
import { Redacted } from "effect"

/** A `SqlClient` for `url`: PostgreSQL, MySQL/MariaDB, or a SQLite file path. */
export const databaseLayer = (
  url: string | undefined = process.env.DATABASE_URL
): Layer.Layer<SqlClient.SqlClient, SqlError | ConfigError.ConfigError> => {
  if (url?.startsWith("postgres://") || url?.startsWith("postgresql://")) {
    return PgClient.layer({ url: Redacted.make(url) })
  }
  if (url?.startsWith("mysql://") || url?.startsWith("mariadb://")) {
    return MysqlClient.layer({ url: Redacted.make(url.replace(/^mariadb:/, "mysql:")) })
  }
  return SqliteClient.layer({ filename: url ?? "jobss-example.db" })
}
