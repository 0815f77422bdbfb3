/**
 * Applies the schema: each dialect's numbered migrations (literal SQL in its
 * folder, `<dialect>/migrations/`), with `@effect/sql`'s Migrator under the
 * dialect's lock so that several processes starting at once migrate one after
 * the other.
 *
 * Migrations are append-only: once released, a numbered migration never
 * changes (`test/migrationChecksums.test.ts` fixes their SQL); schema changes
 * are new numbers.
 *
 * @internal
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import { JobsSError } from "@jobss/core"
import { Effect } from "effect"
import { type Dialect, messageOf } from "./dialect.js"

/** The Migrator's loader: each migration executes its statements in order. */
const loaderOf = (dialect: Dialect): Migrator.Loader =>
  Migrator.fromRecord(
    Object.fromEntries(
      dialect.migrations.map((migration) => [
        `${migration.id}_${migration.name}`,
        Effect.forEach(migration.statements, dialect.runMigrationStatement, { discard: true })
      ])
    )
  )

/** The id of the newest migration of a dialect. */
export const latestMigrationId = (dialect: Dialect): number =>
  Math.max(...dialect.migrations.map((migration) => migration.id))

const runMigrator = Migrator.make({})

const migrationError = (cause: unknown): JobsSError.JobStoreError =>
  new JobsSError.JobStoreError({ message: `SqlStore migrations failed: ${messageOf(cause)}`, cause })

/** Applies the dialect's pending migrations under its migration lock and returns those it applied. */
export const migrate = (
  dialect: Dialect
): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, JobsSError.JobStoreError> =>
  dialect
    .withMigrationLock(
      runMigrator({
        loader: loaderOf(dialect),
        table: dialect.tables.migrations
      })
    )
    .pipe(
      Effect.catchAllDefect((defect) => Effect.fail(migrationError(defect))),
      Effect.mapError((error) => (error instanceof JobsSError.JobStoreError ? error : migrationError(error))),
      Effect.provideService(SqlClient.SqlClient, dialect.sql),
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
