/** SqlStore migrations on every SQL backend: idempotent, safe when several clients migrate at once, completed after a migrator died halfway. */
import { spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { JobStore } from "@jobss/core"
import { SqlStore, SqlStoreMigrations } from "@jobss/sql"
import { Context, Deferred, Effect, Exit, Layer, Logger, type Scope } from "effect"
import { newRun } from "../../core/test/fixtures.js"
import * as mysql from "../src/internal/mysql/migrations.js"
import { stepOf } from "../src/internal/mysql/migrator.js"
import { freshDatabase, makeDatabase, sqlBackends } from "./databases.js"

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = join(here, "..", "..", "..")
const childScript = join(here, "fixtures", "migrateProcess.ts")

const tableNames = (backend: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows =
      backend === "sqlite"
        ? yield* sql<{ readonly name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
        : backend === "postgres"
          ? yield* sql<{ readonly name: string }>`SELECT tablename AS name FROM pg_tables
              WHERE schemaname = current_schema() ORDER BY tablename`
          : yield* sql<{ readonly name: string }>`SELECT TABLE_NAME AS name FROM information_schema.TABLES
              WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME`
    return rows.map((row) => row.name)
  })

/** The indexes on the runs table, with whether each is partial (SQL text with a WHERE) where the backend says so. */
const runIndexes = (backend: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows =
      backend === "sqlite"
        ? yield* sql<{ readonly name: string; readonly definition: string | null }>`SELECT name, sql AS definition
            FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobss_runs' AND sql IS NOT NULL ORDER BY name`
        : backend === "postgres"
          ? yield* sql<{ readonly name: string; readonly definition: string | null }>`SELECT indexname AS name,
              indexdef AS definition FROM pg_indexes WHERE tablename = 'jobss_runs' ORDER BY indexname`
          : yield* sql<{ readonly name: string; readonly definition: string | null }>`SELECT DISTINCT
              INDEX_NAME AS name, NULL AS definition FROM information_schema.STATISTICS
              WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'jobss_runs' ORDER BY INDEX_NAME`
    return rows.map((row) => ({ name: row.name, partial: /\bWHERE\b/i.test(row.definition ?? "") }))
  })

/**
 * Everything the migrations define, as the database describes it: tables, columns, indexes (and on
 * PostgreSQL functions and triggers), and the bookkeeping rows; two databases migrated alike are equal.
 */
const schemaOf = (backend: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const recorded = yield* sql`SELECT migration_id, name FROM jobss_migrations ORDER BY migration_id`
    if (backend === "sqlite") {
      const objects = yield* sql`SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name`
      return { objects, recorded }
    }
    if (backend === "postgres") {
      return {
        columns: yield* sql`SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length,
          is_nullable, column_default FROM information_schema.columns WHERE table_schema = current_schema()
          ORDER BY table_name, ordinal_position`,
        indexes: yield* sql`SELECT tablename, indexname, indexdef FROM pg_indexes
          WHERE schemaname = current_schema() ORDER BY tablename, indexname`,
        routines: yield* sql`SELECT routine_name, routine_definition FROM information_schema.routines
          WHERE routine_schema = current_schema() ORDER BY routine_name`,
        triggers: yield* sql`SELECT trigger_name, event_manipulation, event_object_table, action_statement
          FROM information_schema.triggers WHERE trigger_schema = current_schema()
          ORDER BY trigger_name, event_manipulation`,
        recorded
      }
    }
    return {
      tables: yield* sql`SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES
        WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME`,
      columns: yield* sql`SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE,
        COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
        ORDER BY TABLE_NAME, ORDINAL_POSITION`,
      indexes: yield* sql`SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME
        FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
        ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
      recorded
    }
  })

/** The ids of every migration, as a fresh database applies them. */
const allMigrations = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]

const storeOf = (layer: Layer.Layer<SqlClient.SqlClient, unknown>, options?: SqlStore.SqlStoreOptions) =>
  Effect.map(Layer.build(SqlStore.layer(options).pipe(Layer.provide(layer))), Context.get(JobStore.JobStore))

/** A store on the client in context does its work: a run with a trace context is claimed, settled and recorded. */
const storeWorks = Effect.gen(function* () {
  const store = yield* storeOf(Layer.succeedContext(yield* Effect.context<SqlClient.SqlClient>()))
  yield* store.registerInstance({
    id: "instance",
    name: "instance",
    workers: 1,
    jobs: ["Job"],
    schedules: [],
    pollIntervalMs: 1000,
    pollLimit: 10
  })
  const run = newRun({ job: "Job", runAt: yield* store.now, traceContext: "00-trace-context" })
  yield* store.insert([run])
  const [claimed] = yield* store.claim({
    instanceId: "instance",
    jobs: ["Job"],
    schedules: [],
    limit: 1,
    leaseMs: 60_000
  })
  expect(claimed?.id).toBe(run.id)
  expect(yield* store.settle([{ _tag: "Succeeded", id: run.id, claim: claimed!.claim }])).toEqual([true])
  expect((yield* store.history(run.id)).map((attempt) => attempt.outcome)).toEqual(["succeeded"])
  expect((yield* store.get(run.id))?.status).toBe("succeeded")
})

describe.each(sqlBackends)("SqlStore migrations on %s", (backend) => {
  it.scopedLive(`migrations applied twice: the second run applies nothing (${backend})`, () =>
    Effect.gen(function* () {
      const first = yield* SqlStoreMigrations.run()
      const second = yield* SqlStoreMigrations.run()
      expect(first.map(([id]) => id)).toEqual(allMigrations)
      expect(second).toEqual([])
      const tables = yield* tableNames(backend)
      expect(tables).toEqual(
        expect.arrayContaining([
          "jobss_instances",
          "jobss_leader",
          "jobss_migrations",
          "jobss_queue_starts",
          "jobss_queues",
          "jobss_run_history",
          "jobss_runs"
        ])
      )
    }).pipe(Effect.provide(freshDatabase(backend)))
  )

  it.scopedLive(
    `migration 3: no claim index; active unique names only, where indexes can be partial (${backend})`,
    () =>
      Effect.gen(function* () {
        yield* SqlStoreMigrations.run()
        const indexes = yield* runIndexes(backend)
        const names = indexes.map((index) => index.name)
        expect(names).not.toContain("jobss_runs_claim")
        if (backend === "mariadb") {
          expect(names).toContain("jobss_runs_unique_key")
        } else {
          expect(names).not.toContain("jobss_runs_unique_key")
          expect(indexes).toContainEqual({ name: "jobss_runs_unique_active", partial: true })
        }
        // (the conformance suite, on migrated stores, checks that a unique name still has one active holder)
      }).pipe(Effect.provide(freshDatabase(backend)))
  )

  it.scopedLive(
    `migration 5: on MySQL/MariaDB, retention's index is by finished_at alone, so claims leave it alone (${backend})`,
    () =>
      Effect.gen(function* () {
        yield* SqlStoreMigrations.run()
        const names = (yield* runIndexes(backend)).map((index) => index.name)
        if (backend === "mariadb") {
          expect(names).toContain("jobss_runs_finished_at")
          expect(names).not.toContain("jobss_runs_finished")
        } else {
          expect(names).toContain("jobss_runs_finished")
        }
      }).pipe(Effect.provide(freshDatabase(backend)))
  )

  it.scopedLive(`four clients migrating at once all succeed, one applies the migrations (${backend})`, () =>
    Effect.gen(function* () {
      const db = yield* makeDatabase(backend)
      const clients = yield* Effect.forEach([1, 2, 3, 4], () => Layer.build(db.layer))
      const applied = yield* Effect.forEach(
        clients,
        (context) => SqlStoreMigrations.run().pipe(Effect.provide(context)),
        { concurrency: "unbounded" }
      )
      expect(applied.flat().map(([id]) => id)).toEqual(allMigrations)
      const [first] = clients
      expect(yield* tableNames(backend).pipe(Effect.provide(first!))).toEqual(
        expect.arrayContaining([
          "jobss_instances",
          "jobss_leader",
          "jobss_migrations",
          "jobss_queue_starts",
          "jobss_queues",
          "jobss_run_history",
          "jobss_runs"
        ])
      )
    })
  )

  it.scopedLive(`four stores starting at once with autoMigrate all work (${backend})`, () =>
    Effect.gen(function* () {
      const db = yield* makeDatabase(backend)
      const stores = yield* Effect.forEach([1, 2, 3, 4], () => storeOf(db.layer), { concurrency: "unbounded" })
      const now = yield* stores[0]!.now
      const id = "00000000-0000-7000-8000-000000000001"
      yield* stores[1]!.insert([newRun({ id, job: "Job", runAt: now })])
      for (const store of stores) expect((yield* store.get(id))?.status).toBe("pending")
    })
  )

  it.scopedLive(`autoMigrate: false on an empty database says to run SqlStoreMigrations (${backend})`, () =>
    Effect.gen(function* () {
      const db = yield* makeDatabase(backend)
      const error = (yield* Effect.flip(storeOf(db.layer, { autoMigrate: false }))) as { _tag: string; message: string }
      expect(error._tag).toBe("JobStoreError")
      expect(error.message).toContain("SqlStoreMigrations")
      yield* SqlStoreMigrations.run().pipe(Effect.provide(db.layer))
      const store = yield* storeOf(db.layer, { autoMigrate: false })
      expect(yield* store.get("nothing")).toBeUndefined()
    })
  )

  it.scopedLive(`table prefixes keep stores apart on one database (${backend})`, () =>
    Effect.gen(function* () {
      const db = yield* makeDatabase(backend)
      const a = yield* storeOf(db.layer, { tablePrefix: "app_a_" })
      const b = yield* storeOf(db.layer, { tablePrefix: "App_B_" })
      yield* a.registerInstance({
        id: "instance-a",
        name: "a",
        workers: 1,
        jobs: ["Job"],
        schedules: [],
        pollIntervalMs: 1000,
        pollLimit: 10
      })
      expect((yield* a.instances).map((instance) => instance.id)).toEqual(["instance-a"])
      expect(yield* b.instances).toEqual([])
      const tables = yield* tableNames(backend).pipe(Effect.provide(db.layer))
      // identifiers are lower case on every backend
      expect(tables).toEqual(expect.arrayContaining(["app_a_runs", "app_b_runs", "app_b_migrations"]))
    })
  )
})

/** A child running `fixtures/migrateProcess.ts`. */
interface MigrateProcess {
  readonly ready: Effect.Effect<void>
  readonly go: Effect.Effect<void>
  /** Resolves once the child holds back the statement of `pauseBefore`. */
  readonly paused: Effect.Effect<void>
  readonly kill: Effect.Effect<void>
  readonly done: Effect.Effect<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>
}

const startMigrateProcess = (
  backend: string,
  url: string,
  options: { readonly pauseBefore?: string } = {}
): Effect.Effect<MigrateProcess, never, Scope.Scope> =>
  Effect.gen(function* () {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(process.execPath, ["--conditions=@jobss/source", "--import", "tsx", childScript, backend, url], {
          cwd: repoRoot,
          stdio: ["pipe", "pipe", "pipe"],
          env:
            options.pauseBefore === undefined
              ? process.env
              : { ...process.env, JOBSS_TEST_PAUSE_BEFORE: options.pauseBefore }
        })
      ),
      (child) => Effect.sync(() => child.kill("SIGKILL"))
    )
    const ready = yield* Deferred.make<void>()
    const paused = yield* Deferred.make<void>()
    const done = yield* Deferred.make<{ code: number | null; stdout: string; stderr: string }>()
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => {
      stdout += chunk
      if (stdout.includes("ready\n")) Deferred.unsafeDone(ready, Exit.void)
      if (stdout.includes("paused\n")) Deferred.unsafeDone(paused, Exit.void)
    })
    child.stderr.on("data", (chunk) => {
      stderr += chunk
    })
    child.on("close", (code) => {
      Deferred.unsafeDone(ready, Exit.void)
      Deferred.unsafeDone(paused, Exit.die(new Error(`the child exited (${code}) before pausing: ${stderr}`)))
      Deferred.unsafeDone(done, Exit.succeed({ code, stdout: stdout.replace("ready\n", ""), stderr }))
    })
    return {
      ready: Deferred.await(ready),
      go: Effect.sync(() => child.stdin.write("go\n")),
      paused: Deferred.await(paused),
      kill: Effect.sync(() => child.kill("SIGKILL")),
      done: Deferred.await(done)
    }
  })

describe.each(sqlBackends)("SqlStore migrations interrupted on %s", (backend) => {
  it.scopedLive(
    `a migrator killed after its first migration: the next run completes the schema, equal to a fresh one (${backend})`,
    () =>
      Effect.gen(function* () {
        const db = yield* makeDatabase(backend)
        // The child stops before the first statement of migration 2 (every dialect's starts so), then dies.
        const child = yield* startMigrateProcess(backend, db.url, { pauseBefore: "ADD COLUMN trace_context" })
        yield* child.ready
        yield* child.go
        yield* child.paused
        yield* child.kill
        expect((yield* child.done).code).toBeNull()

        const schema = Effect.gen(function* () {
          yield* SqlStoreMigrations.run()
          return yield* schemaOf(backend)
        })
        const resumed = yield* schema.pipe(Effect.provide(db.layer))
        const fresh = yield* schema.pipe(Effect.provide(freshDatabase(backend)))
        expect(resumed).toEqual(fresh)
        yield* storeWorks.pipe(Effect.provide(db.layer))
      }),
    60_000
  )
})

describe("SqlStore migrations on MySQL/MariaDB, one at a time", () => {
  const released = mysql.migrations("jobss_")
  const statements = released.flatMap((migration) => migration.statements)

  it("every statement is a step the runner can check in information_schema, so it can be repeated", () => {
    expect(statements.filter((statement) => stepOf(statement) === undefined)).toEqual([])
  })

  // The previous migrator recorded every pending migration, then ran their statements: a crash or a
  // failure after statement k left all of them recorded and only k statements done. (On PostgreSQL
  // and SQLite the records rolled back with the statements.)
  it.scopedLive(
    "a database the previous migrator recorded but left unfinished, at any statement, is completed to a fresh one's schema",
    () =>
      Effect.gen(function* () {
        const fresh = yield* Effect.gen(function* () {
          yield* SqlStoreMigrations.run()
          return yield* schemaOf("mariadb")
        }).pipe(Effect.provide(freshDatabase("mariadb")))
        for (let done = 0; done <= statements.length; done++) {
          const db = yield* makeDatabase("mariadb")
          const warnings: Array<string> = []
          const collect = Logger.replace(
            Logger.defaultLogger,
            Logger.make(({ logLevel, message }) => {
              if (logLevel._tag === "Warning") warnings.push(String(message))
            })
          )
          const outcome = yield* Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            for (const statement of statements.slice(0, done)) yield* sql.unsafe(statement)
            yield* sql.unsafe(mysql.migrationsTable("jobss_"))
            for (const { id, name } of released) {
              yield* sql`INSERT INTO jobss_migrations (migration_id, name) VALUES (${id}, ${name})`
            }
            const applied = yield* SqlStoreMigrations.run().pipe(Effect.provide(collect))
            return { applied, schema: yield* schemaOf("mariadb") }
          }).pipe(Effect.provide(db.layer))
          expect(outcome, `stopped after ${done} statements`).toEqual({ applied: [], schema: fresh })
          expect(warnings.length, `stopped after ${done} statements: ${warnings.join("; ")}`).toBe(
            done < statements.length ? 1 : 0
          )
          if (done === 0) yield* storeWorks.pipe(Effect.provide(db.layer))
        }
      }),
    120_000
  )
})

describe.each(sqlBackends)("SqlStore migrations from several processes on %s", (backend) => {
  it.scopedLive(
    `four processes migrating at the same instant: all succeed with the full schema, one applies (${backend})`,
    () =>
      Effect.gen(function* () {
        const db = yield* makeDatabase(backend)
        const children = yield* Effect.forEach([1, 2, 3, 4], () => startMigrateProcess(backend, db.url))
        yield* Effect.forEach(children, (child) => child.ready, { concurrency: "unbounded" })
        yield* Effect.forEach(children, (child) => child.go)
        const results = yield* Effect.forEach(children, (child) => child.done, { concurrency: "unbounded" })
        for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 })
        const applied = results.flatMap((result) => JSON.parse(result.stdout).applied as Array<[number, string]>)
        expect(applied.map(([id]) => id)).toEqual(allMigrations)
      }),
    60_000
  )
})
