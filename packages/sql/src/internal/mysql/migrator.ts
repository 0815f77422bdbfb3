/**
 * MySQL/MariaDB's migration runner. Every DDL statement commits on its own (an implicit COMMIT,
 * which also commits whatever the transaction had written), so a migration cannot be one
 * transaction. Instead one connection takes the migration lock (`GET_LOCK`) and runs, on that same
 * connection, one pending migration at a time: its statements, then its record in the bookkeeping
 * table. Each statement is a step whose effect information_schema shows (a table, a column, an
 * index there or gone, an index with given columns); a step already in effect is skipped, so a
 * migration that stopped halfway (a crash, a killed pod, a failed statement) is simply run again,
 * whole, by the next migrator.
 *
 * The bookkeeping table and its rows are those of `@effect/sql`'s Migrator, which earlier versions
 * of this store used. That Migrator recorded every pending migration first and then ran them, so on
 * MySQL a crash halfway left migrations recorded that were never completed. Each run therefore also
 * checks, in one query, that the recorded migrations' objects are all there, and completes those
 * that are not (logging a warning that names them).
 *
 * @internal
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { JobsSError } from "@jobss/core"
import * as Effect from "effect/Effect"
import { type Migration, type Tables, messageOf } from "../dialect.js"
import { inList } from "../sqlValues.js"
import { migrationsTable } from "./migrations.js"

/** Seconds a starting process waits for another one's migrations. */
const migrationLockSeconds = 120

/** What a migration statement does, in terms information_schema can check. */
export type Step =
  | { readonly _tag: "CreateTable"; readonly table: string }
  | { readonly _tag: "AddColumn"; readonly table: string; readonly column: string }
  | { readonly _tag: "CreateIndex"; readonly table: string; readonly index: string }
  | { readonly _tag: "DropIndex"; readonly table: string; readonly index: string }
  /** The index rebuilt under its name with these columns, in one statement (created when it is missing). */
  | { readonly _tag: "RebuildIndex"; readonly table: string; readonly index: string; readonly columns: string }

/** The statement forms the runner knows, and the step each one is. */
const forms: ReadonlyArray<readonly [RegExp, (match: RegExpExecArray) => Step]> = [
  [/^CREATE TABLE IF NOT EXISTS `(\w+)` \(/, (m) => ({ _tag: "CreateTable", table: m[1]! })],
  [/^ALTER TABLE `(\w+)` ADD COLUMN (\w+) /, (m) => ({ _tag: "AddColumn", table: m[1]!, column: m[2]! })],
  [/^CREATE (?:UNIQUE )?INDEX `(\w+)` ON `(\w+)` /, (m) => ({ _tag: "CreateIndex", table: m[2]!, index: m[1]! })],
  [/^ALTER TABLE `(\w+)` DROP INDEX `(\w+)`$/, (m) => ({ _tag: "DropIndex", table: m[1]!, index: m[2]! })],
  [
    /^ALTER TABLE `(\w+)` DROP INDEX `(\w+)`, ADD INDEX `\2` \(([\w, ]+)\)$/,
    (m) => ({ _tag: "RebuildIndex", table: m[1]!, index: m[2]!, columns: m[3]! })
  ]
]

/** The step a migration statement is, or `undefined` when it has none of the forms the runner can check. */
export const stepOf = (statement: string): Step | undefined => {
  for (const [form, step] of forms) {
    const match = form.exec(statement)
    if (match !== null) return step(match)
  }
  return undefined
}

/** A statement of a migration, with its step. */
interface Planned {
  readonly migration: Migration
  readonly statement: string
  readonly step: Step
}

/** The migration's statements as steps; fails naming a statement that is not one. */
const plan = (migration: Migration): Effect.Effect<ReadonlyArray<Planned>, JobsSError.JobStoreError> =>
  Effect.forEach(migration.statements, (statement) => {
    const step = stepOf(statement)
    return step === undefined
      ? Effect.fail(
          new JobsSError.JobStoreError({
            message:
              `SqlStore migration ${migration.id}_${migration.name}: a statement the MySQL runner cannot check, ` +
              `so it could not be repeated safely: ${statement.slice(0, 80)}`
          })
        )
      : Effect.succeed({ migration, statement, step })
  })

/** The object a step creates or drops, named as `objectsOf` names it. */
const objectOf = (step: Step): string => {
  switch (step._tag) {
    case "CreateTable":
      return `table ${step.table}`
    case "AddColumn":
      return `column ${step.table}.${step.column}`
    case "CreateIndex":
    case "DropIndex":
    case "RebuildIndex":
      return `index ${step.table}.${step.index}`
  }
}

/** How `objectsOf` names an index with its columns, in order, separated by `, `. */
const indexColumnsOf = (table: string, index: string, columns: string): string =>
  `index columns ${table}.${index} (${columns})`

/** Whether the step is in effect in a database holding `objects`. */
const inEffect = (step: Step, objects: ReadonlySet<string>): boolean =>
  step._tag === "RebuildIndex"
    ? objects.has(indexColumnsOf(step.table, step.index, step.columns))
    : objects.has(objectOf(step)) !== (step._tag === "DropIndex")

/** The tables, columns and indexes of these tables in the current database, named as `objectOf` names them. */
const objectsOf = (
  sql: SqlClient.SqlClient,
  tables: ReadonlyArray<string>
): Effect.Effect<ReadonlySet<string>, SqlError> =>
  Effect.map(
    sql<{ readonly kind: string; readonly name: string }>`
      SELECT 'table' AS kind, TABLE_NAME AS name FROM information_schema.TABLES
      WHERE TABLE_SCHEMA = DATABASE() AND ${inList(sql, "TABLE_NAME", tables)}
      UNION ALL SELECT 'column', CONCAT(TABLE_NAME, '.', COLUMN_NAME) FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = DATABASE() AND ${inList(sql, "TABLE_NAME", tables)}
      UNION ALL SELECT DISTINCT 'index', CONCAT(TABLE_NAME, '.', INDEX_NAME) FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = DATABASE() AND ${inList(sql, "TABLE_NAME", tables)}
      UNION ALL SELECT 'index columns', CONCAT(TABLE_NAME, '.', INDEX_NAME, ' (',
        GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR ', '), ')') FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = DATABASE() AND ${inList(sql, "TABLE_NAME", tables)} GROUP BY TABLE_NAME, INDEX_NAME`,
    (rows) => new Set(rows.map((row) => `${row.kind} ${row.name}`))
  )

/** Executes the statement unless its step is already in effect (an index to rebuild that is missing is created). */
const runStep = (sql: SqlClient.SqlClient, planned: Planned): Effect.Effect<void, SqlError> =>
  Effect.flatMap(objectsOf(sql, [planned.step.table]), (objects) => {
    const { step } = planned
    if (inEffect(step, objects)) return Effect.void
    if (step._tag === "RebuildIndex" && !objects.has(objectOf(step))) {
      return Effect.asVoid(sql.unsafe(`CREATE INDEX \`${step.index}\` ON \`${step.table}\` (${step.columns})`))
    }
    return Effect.asVoid(sql.unsafe(planned.statement))
  })

/** The steps of migrations applied in order, without those a later step undoes (an index created, then dropped). */
const lastPerObject = (steps: ReadonlyArray<Planned>): ReadonlyArray<Planned> =>
  steps.filter((planned, i) => !steps.slice(i + 1).some((later) => objectOf(later.step) === objectOf(planned.step)))

/** Completes what the recorded migrations left undone (see the module's comment). */
const completeRecorded = (
  sql: SqlClient.SqlClient,
  recorded: ReadonlyArray<Migration>
): Effect.Effect<void, SqlError | JobsSError.JobStoreError> =>
  Effect.gen(function* () {
    const steps = lastPerObject((yield* Effect.forEach(recorded, plan)).flat())
    if (steps.length === 0) return
    const objects = yield* objectsOf(sql, [...new Set(steps.map((planned) => planned.step.table))])
    const missing = steps.filter((planned) => !inEffect(planned.step, objects))
    if (missing.length === 0) return
    const names = [...new Set(missing.map(({ migration }) => `${migration.id}_${migration.name}`))]
    yield* Effect.logWarning(
      `SqlStore migrations: completing ${names.join(", ")}, recorded as applied but left unfinished ` +
        `(${missing.map((planned) => objectOf(planned.step)).join(", ")}), as an earlier version could leave them`
    )
    yield* Effect.forEach(missing, (planned) => runStep(sql, planned), { discard: true })
  })

/** Completes the recorded migrations, then applies and records the pending ones, one at a time. */
const migrateOnConnection = (
  sql: SqlClient.SqlClient,
  t: Tables,
  migrations: ReadonlyArray<Migration>
): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, SqlError | JobsSError.JobStoreError> =>
  Effect.gen(function* () {
    yield* sql.unsafe(migrationsTable(t.prefix))
    const [row] = yield* sql<{ readonly latest: unknown }>`SELECT MAX(migration_id) AS latest FROM ${sql(t.migrations)}`
    const latest = Number(row?.latest ?? 0)
    yield* completeRecorded(
      sql,
      migrations.filter((migration) => migration.id <= latest)
    )
    const pending = migrations.filter((migration) => migration.id > latest).sort((a, b) => a.id - b.id)
    return yield* Effect.forEach(pending, (migration) =>
      Effect.gen(function* () {
        for (const planned of yield* plan(migration)) yield* runStep(sql, planned)
        yield* sql`INSERT INTO ${sql(t.migrations)} (migration_id, name) VALUES (${migration.id}, ${migration.name})`
        yield* Effect.logDebug("SqlStore migration applied")
        return [migration.id, migration.name] as const
      }).pipe(
        Effect.mapError((cause) =>
          cause instanceof JobsSError.JobStoreError
            ? cause
            : new JobsSError.JobStoreError({
                message: `SqlStore migration ${migration.id}_${migration.name} failed: ${messageOf(cause)}`,
                cause
              })
        ),
        Effect.annotateLogs({ migration_id: String(migration.id), migration_name: migration.name })
      )
    )
  })

/**
 * Applies MySQL/MariaDB migrations: under `GET_LOCK` on one reserved connection, which also runs
 * every statement (the lock is held exactly as long as that connection lives, so no statement runs
 * without it); released at the end.
 */
export const migrate = (
  sql: SqlClient.SqlClient,
  t: Tables,
  migrations: ReadonlyArray<Migration>
): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, SqlError | JobsSError.JobStoreError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const connection = yield* sql.reserve
      const name = `jobss:migrate:${t.migrations}`
      const [row] = yield* connection.execute(
        "SELECT GET_LOCK(?, ?) AS acquired",
        [name, migrationLockSeconds],
        undefined
      )
      if (Number(row?.["acquired"]) !== 1) {
        return yield* new JobsSError.JobStoreError({
          message: `SqlStore migrations: another process held the migration lock for ${migrationLockSeconds} s`
        })
      }
      yield* Effect.addFinalizer(() =>
        connection.execute("SELECT RELEASE_LOCK(?)", [name], undefined).pipe(Effect.ignore)
      )
      // Statements of `sql` run on the connection given as the transaction's; DDL commits each one anyway.
      return yield* migrateOnConnection(sql, t, migrations).pipe(
        Effect.provideService(SqlClient.TransactionConnection, [connection, 0])
      )
    })
  )
