/** SqlStore migrations on every SQL backend: idempotent, and safe when several clients migrate at once. */
import { spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { JobStore } from "@jobss/core"
import { SqlStore, SqlStoreMigrations } from "@jobss/sql"
import { Context, Deferred, Effect, Exit, Layer, type Scope } from "effect"
import { newRun } from "../../core/test/fixtures.js"
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

/** The ids of every migration, as a fresh database applies them. */
const allMigrations = [1, 2, 3, 4, 5]

const storeOf = (layer: Layer.Layer<SqlClient.SqlClient, unknown>, options?: SqlStore.SqlStoreOptions) =>
  Effect.map(Layer.build(SqlStore.layer(options).pipe(Layer.provide(layer))), Context.get(JobStore.JobStore))

describe.each(sqlBackends)("SqlStore migrations on %s", (backend) => {
  it.scopedLive(`migrations applied twice: the second run applies nothing (${backend})`, () =>
    Effect.gen(function* () {
      const first = yield* SqlStoreMigrations.run()
      const second = yield* SqlStoreMigrations.run()
      expect(first.map(([id]) => id)).toEqual(allMigrations)
      expect(second).toEqual([])
      const tables = yield* tableNames(backend)
      expect(tables).toEqual(
        expect.arrayContaining(["jobss_instances", "jobss_migrations", "jobss_run_history", "jobss_runs"])
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
        expect.arrayContaining(["jobss_instances", "jobss_migrations", "jobss_run_history", "jobss_runs"])
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
  readonly done: Effect.Effect<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>
}

const startMigrateProcess = (backend: string, url: string): Effect.Effect<MigrateProcess, never, Scope.Scope> =>
  Effect.gen(function* () {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(process.execPath, ["--conditions=@jobss/source", "--import", "tsx", childScript, backend, url], {
          cwd: repoRoot,
          stdio: ["pipe", "pipe", "pipe"]
        })
      ),
      (child) => Effect.sync(() => child.kill("SIGKILL"))
    )
    const ready = yield* Deferred.make<void>()
    const done = yield* Deferred.make<{ code: number | null; stdout: string; stderr: string }>()
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => {
      stdout += chunk
      if (stdout.includes("ready\n")) Deferred.unsafeDone(ready, Exit.void)
    })
    child.stderr.on("data", (chunk) => {
      stderr += chunk
    })
    child.on("close", (code) => {
      Deferred.unsafeDone(ready, Exit.void)
      Deferred.unsafeDone(done, Exit.succeed({ code, stdout: stdout.replace("ready\n", ""), stderr }))
    })
    return {
      ready: Deferred.await(ready),
      go: Effect.sync(() => child.stdin.write("go\n")),
      done: Deferred.await(done)
    }
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
