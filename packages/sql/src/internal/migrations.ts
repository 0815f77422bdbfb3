/**
 * The schema: numbered migrations per dialect, applied with `@effect/sql`'s
 * Migrator under a dialect lock so that several processes starting at once
 * migrate one after the other.
 *
 * Migrations are append-only: once released, a numbered migration never
 * changes; schema changes are new numbers.
 *
 * @internal
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { JobsSError } from "@jobss/core"
import { Effect } from "effect"
import { type Dialect, type DialectName, type Tables, messageOf } from "./dialect.js"

type ColumnType = "id" | "name" | "status" | "claim" | "text" | "bigint" | "int" | "flag"

const columnTypes: Record<DialectName, Record<ColumnType, string>> = {
  pg: {
    id: "varchar(36)",
    name: "varchar(255)",
    status: "varchar(16)",
    claim: "varchar(100)",
    text: "text",
    bigint: "bigint",
    int: "integer",
    flag: "smallint"
  },
  mysql: {
    id: "varchar(36)",
    name: "varchar(255)",
    status: "varchar(16)",
    claim: "varchar(100)",
    text: "longtext",
    bigint: "bigint",
    int: "int",
    flag: "smallint"
  },
  sqlite: {
    id: "TEXT",
    name: "TEXT",
    status: "TEXT",
    claim: "TEXT",
    text: "TEXT",
    bigint: "INTEGER",
    int: "INTEGER",
    flag: "INTEGER"
  }
}

/** `[name, type, constraints]` */
type Column = readonly [string, ColumnType, string]

const runColumns: ReadonlyArray<Column> = [
  ["id", "id", "NOT NULL PRIMARY KEY"],
  ["origin_id", "id", "NOT NULL"],
  ["occurrence", "int", "NOT NULL"],
  ["job", "name", "NOT NULL"],
  ["args", "text", "NOT NULL"],
  ["unique_name", "name", "NULL"],
  ["unique_key", "name", "NULL"],
  ["schedule", "name", "NULL"],
  ["status", "status", "NOT NULL"],
  ["run_at", "bigint", "NOT NULL"],
  ["run_total_count", "int", "NOT NULL"],
  ["run_success_count", "int", "NOT NULL"],
  ["run_success_limit", "int", "NULL"],
  ["run_timeout_ms", "bigint", "NOT NULL"],
  ["retries_error_count", "int", "NOT NULL"],
  ["retries_error_limit", "int", "NOT NULL"],
  ["retries_timeout_count", "int", "NOT NULL"],
  ["retries_timeout_limit", "int", "NOT NULL"],
  ["created_at", "bigint", "NOT NULL"],
  ["created_by", "name", "NOT NULL"],
  ["started_at", "bigint", "NULL"],
  ["started_by", "name", "NULL"],
  ["timeout_at", "bigint", "NULL"],
  ["lease_until", "bigint", "NULL"],
  ["claim", "claim", "NULL"],
  ["cancel_requested", "flag", "NOT NULL DEFAULT 0"],
  ["error", "text", "NULL"],
  ["finished_at", "bigint", "NULL"]
]

const instanceColumns: ReadonlyArray<Column> = [
  ["id", "name", "NOT NULL PRIMARY KEY"],
  ["name", "name", "NOT NULL"],
  ["workers", "int", "NOT NULL"],
  ["jobs", "text", "NOT NULL"],
  ["schedules", "text", "NOT NULL"],
  ["poll_interval_ms", "bigint", "NOT NULL"],
  ["poll_limit", "int", "NOT NULL"],
  ["started_at", "bigint", "NOT NULL"],
  ["last_seen_at", "bigint", "NOT NULL"],
  ["shutdown_at", "bigint", "NULL"],
  ["runs_started", "bigint", "NOT NULL DEFAULT 0"],
  ["runs_succeeded", "bigint", "NOT NULL DEFAULT 0"],
  ["runs_rescheduled", "bigint", "NOT NULL DEFAULT 0"],
  ["runs_timed_out", "bigint", "NOT NULL DEFAULT 0"],
  ["runs_resurrected", "bigint", "NOT NULL DEFAULT 0"],
  ["runs_errors", "bigint", "NOT NULL DEFAULT 0"]
]

/**
 * An index. `partial` is used where partial indexes exist (PostgreSQL, SQLite), `composite`
 * on MySQL/MariaDB, which has none (a leading `status` column plays the same role).
 */
interface Index {
  readonly name: string
  readonly unique?: boolean
  readonly partial: { readonly columns: string; readonly where?: string }
  readonly composite: string
}

const runIndexes: ReadonlyArray<Index> = [
  // claim and nextDue: due pending rows, oldest first
  {
    name: "runs_pending",
    partial: { columns: "run_at, id", where: "status = 'pending'" },
    composite: "status, run_at"
  },
  // get, cancel: the occurrences of a run
  { name: "runs_origin", partial: { columns: "origin_id, occurrence" }, composite: "origin_id, occurrence" },
  // uniqueness of active unique names (NULL for every other row, and NULLs never collide)
  { name: "runs_unique_key", unique: true, partial: { columns: "unique_key" }, composite: "unique_key" },
  // reap: running rows by lease
  {
    name: "runs_running",
    partial: { columns: "lease_until", where: "status = 'running'" },
    composite: "status, lease_until"
  },
  // extend: held claims
  { name: "runs_claim", partial: { columns: "claim", where: "claim IS NOT NULL" }, composite: "claim" }
]

const columnList = (dialect: DialectName, columns: ReadonlyArray<Column>): string =>
  columns.map(([name, type, constraints]) => `${name} ${columnTypes[dialect][type]} ${constraints}`).join(",\n  ")

/** MySQL tables are InnoDB and compare text byte for byte (names are case sensitive, as elsewhere). */
const tableOptions = (dialect: DialectName): string =>
  dialect === "mysql" ? " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin" : ""

const createTable = (dialect: DialectName, name: string, columns: ReadonlyArray<Column>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE IF NOT EXISTS ${sql(name)} (\n  ${sql.literal(columnList(dialect, columns))}\n)${sql.literal(tableOptions(dialect))}`.pipe(
      Effect.asVoid
    )
  )

const createIndex = (dialect: DialectName, t: Tables, index: Index) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const unique = sql.literal(index.unique === true ? "UNIQUE " : "")
    const name = sql(`${t.prefix}${index.name}`)
    const body =
      dialect === "mysql"
        ? index.composite
        : `${index.partial.columns})${index.partial.where === undefined ? "" : ` WHERE ${index.partial.where}`}`
    const close = dialect === "mysql" ? ")" : ""
    return sql`CREATE ${unique}INDEX IF NOT EXISTS ${name} ON ${sql(t.runs)} (${sql.literal(body)}${sql.literal(close)}`.pipe(
      Effect.asVoid
    )
  })

/** PostgreSQL: inserts, and rows becoming pending again (retry, release), notify the wake-up channel. */
const createNotifyTriggers = (t: Tables) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const fn = sql(`${t.prefix}runs_notify`)
    const runs = sql(t.runs)
    // The channel comes from the validated prefix ([a-z0-9_]); PgClient.listen ignores empty payloads.
    const notify = sql.literal(`PERFORM pg_notify('${t.channel}', 'due'); RETURN NULL;`)
    const onInsert = sql(`${t.prefix}runs_notify_insert`)
    const onPending = sql(`${t.prefix}runs_notify_pending`)
    return Effect.all(
      [
        sql`CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${notify} END $$`,
        sql`DROP TRIGGER IF EXISTS ${onInsert} ON ${runs}`,
        sql`CREATE TRIGGER ${onInsert} AFTER INSERT ON ${runs} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
        sql`DROP TRIGGER IF EXISTS ${onPending} ON ${runs}`,
        sql`CREATE TRIGGER ${onPending} AFTER UPDATE OF status ON ${runs} FOR EACH ROW
          WHEN (NEW.status = 'pending' AND OLD.status <> 'pending') EXECUTE FUNCTION ${fn}()`
      ],
      { discard: true }
    )
  })

/** The numbered migrations of a dialect (keys `<id>_<name>`, as `Migrator.fromRecord` reads them). */
export const migrationsFor = (
  dialect: DialectName,
  t: Tables
): Record<string, Effect.Effect<void, SqlError, SqlClient.SqlClient>> => ({
  "1_create_tables": Effect.all(
    [
      createTable(dialect, t.runs, runColumns),
      ...runIndexes.map((index) => createIndex(dialect, t, index)),
      createTable(dialect, t.instances, instanceColumns),
      ...(dialect === "pg" ? [createNotifyTriggers(t)] : [])
    ],
    { discard: true }
  )
})

/** The id of the newest migration of a dialect. */
export const latestMigrationId = (dialect: DialectName, t: Tables): number =>
  Math.max(...Object.keys(migrationsFor(dialect, t)).map((key) => Number.parseInt(key, 10)))

/**
 * The Migrator's bookkeeping table, created ahead of it (under the migration lock) with the very
 * definition the Migrator uses, so its own "create if missing" step never races.
 */
export const createMigrationsTable = (dialect: DialectName, t: Tables) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const table = sql(t.migrations)
    switch (dialect) {
      case "pg":
        return sql`CREATE TABLE IF NOT EXISTS ${table} (
  migration_id integer primary key,
  created_at timestamp with time zone not null default now(),
  name text not null
)`
      case "mysql":
        return sql`CREATE TABLE IF NOT EXISTS ${table} (
  migration_id INTEGER UNSIGNED NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  name VARCHAR(255) NOT NULL,
  PRIMARY KEY (migration_id)
)`
      case "sqlite":
        return sql`CREATE TABLE IF NOT EXISTS ${table} (
  migration_id integer PRIMARY KEY NOT NULL,
  created_at datetime NOT NULL DEFAULT current_timestamp,
  name VARCHAR(255) NOT NULL
)`
    }
  }).pipe(Effect.asVoid)

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
        loader: Migrator.fromRecord(migrationsFor(dialect.name, dialect.tables)),
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
  const expected = latestMigrationId(dialect.name, t)
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
