/**
 * Applies the schema: each dialect's numbered migrations (literal SQL in its
 * folder, `<dialect>/migrations/`), recorded in the bookkeeping table of
 * `@effect/sql`'s Migrator, under the dialect's lock so that several processes
 * starting at once migrate one after the other. Where DDL is transactional
 * (PostgreSQL, SQLite) the Migrator applies and records every pending
 * migration in one transaction (`inOneTransaction`); MySQL/MariaDB commits each
 * DDL statement on its own, so its runner (`mysql/migrator.ts`) applies and
 * records one migration at a time, each statement safe to repeat.
 *
 * Migrations are append-only: once released, a numbered migration never
 * changes (`test/migrationChecksums.test.ts` fixes their SQL); schema changes
 * are new numbers.
 *
 * @internal
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { JobsSError } from "@jobss/core"
import * as Effect from "effect/Effect"
import { type Dialect, type Migration, messageOf } from "./dialect.js"

/** The id of the newest migration of a dialect. */
export const latestMigrationId = (dialect: Dialect): number =>
  Math.max(...dialect.migrations.map((migration) => migration.id))

const runMigrator = Migrator.make({})

/**
 * The Migrator on `sql`: it records the pending migrations, then executes their statements in
 * order, all in one transaction. Only for databases whose DDL is transactional, where a failure or a
 * crash anywhere rolls everything back, the records included.
 */
export const inOneTransaction = (
  sql: SqlClient.SqlClient,
  table: string,
  migrations: ReadonlyArray<Migration>
): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, Migrator.MigrationError | SqlError> =>
  runMigrator({
    loader: Migrator.fromRecord(
      Object.fromEntries(
        migrations.map((migration) => [
          `${migration.id}_${migration.name}`,
          Effect.forEach(migration.statements, (statement) => sql.unsafe(statement), { discard: true })
        ])
      )
    ),
    table
  }).pipe(Effect.provideService(SqlClient.SqlClient, sql))

const migrationError = (cause: unknown): JobsSError.JobStoreError =>
  new JobsSError.JobStoreError({ message: `SqlStore migrations failed: ${messageOf(cause)}`, cause })

/** Applies the dialect's pending migrations and returns those it applied. */
export const migrate = (
  dialect: Dialect
): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, JobsSError.JobStoreError> =>
  dialect.applyMigrations.pipe(
    Effect.catchAllDefect((defect) => Effect.fail(migrationError(defect))),
    Effect.mapError((error) => (error instanceof JobsSError.JobStoreError ? error : migrationError(error))),
    Effect.withSpan("SqlStore.migrate")
  )

/**
 * With `autoMigrate: false`: fails when the store's tables are missing or known to be behind this
 * version. A bookkeeping table this role cannot read, next to readable tables, is only logged.
 */
export const checkCurrent = (dialect: Dialect): Effect.Effect<void, JobsSError.JobStoreError> => {
  const { sql, tables: t } = dialect
  const expected = latestMigrationId(dialect)
  const behind = (what: string) =>
    new JobsSError.JobStoreError({
      message:
        `SqlStore: ${what}, and autoMigrate is off: run SqlStoreMigrations.run ` +
        `(tablePrefix "${t.prefix}") first, or enable autoMigrate`
    })
  const tablesReadable = sql`SELECT id FROM ${sql(t.runs)} WHERE 1 = 0`.pipe(
    Effect.matchEffect({
      onFailure: (error) => Effect.fail(behind(`table ${t.runs} cannot be read (${messageOf(error)})`)),
      onSuccess: () =>
        Effect.logWarning(`SqlStore: cannot read ${t.migrations} to check the schema version (autoMigrate is off)`)
    })
  )
  return sql<{ readonly latest: unknown }>`SELECT MAX(migration_id) AS latest FROM ${sql(t.migrations)}`.pipe(
    Effect.matchEffect({
      onFailure: () => tablesReadable,
      onSuccess: (found) => {
        const latest = Number(found[0]?.latest ?? 0)
        return latest >= expected
          ? Effect.void
          : Effect.fail(behind(`the schema is at migration ${latest} but this version needs ${expected}`))
      }
    })
  )
}
