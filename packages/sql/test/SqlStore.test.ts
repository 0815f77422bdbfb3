/** SQL-specific behaviour of SqlStore (the shared contract is covered by the store conformance suite). */
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { JobStore } from "@jobss/core"
import { SqlStore, SqlStoreMigrations } from "@jobss/sql"
import { Config, ConfigProvider, Context, Deferred, Effect, Layer, String as Str, Stream } from "effect"
import { newRun } from "../../core/test/fixtures.js"
import { versionAtLeast } from "../src/internal/dialect.js"
import { freshDatabase, makeDatabase, sqlBackends } from "./databases.js"

const memorySqlite = SqliteClient.layer({ filename: ":memory:" })

const storeLayer = (options?: SqlStore.SqlStoreOptions) => Layer.build(SqlStore.layer(options))
const buildStore = (options?: SqlStore.SqlStoreOptions) =>
  Effect.map(storeLayer(options), Context.get(JobStore.JobStore))

const claimAll = (store: JobStore.JobStoreShape, job: string) =>
  store.claim({ instanceId: "test", jobs: [job], schedules: [], limit: 10_000, leaseMs: 60_000 })

describe("SqlStore options (sqlite in memory)", () => {
  it.scoped("sqlite: tablePrefix `x; drop table y` is refused with InvalidConfig, nothing is created", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(buildStore({ tablePrefix: "x; drop table y" }))
      expect(error._tag).toBe("InvalidConfig")
      expect(error.message).toContain("tablePrefix")
      expect(error.message).toContain('"x; drop table y"')
      expect(error.message).toContain("letters, digits and underscores")
      const sql = yield* SqlClient.SqlClient
      expect(yield* sql`SELECT name FROM sqlite_master`).toEqual([])
    }).pipe(Effect.provide(memorySqlite))
  )

  it.scoped("sqlite: SqlStoreMigrations.run refuses an invalid tablePrefix too", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(SqlStoreMigrations.run({ tablePrefix: "jobs-" }))
      expect(error._tag).toBe("InvalidConfig")
      expect(error.message).toContain("tablePrefix")
    }).pipe(Effect.provide(memorySqlite))
  )

  it.scoped("sqlite: prefixes are letters, digits and underscores, not starting with a digit, at most 31 long", () =>
    Effect.gen(function* () {
      for (const prefix of ["", "1jobs_", "jobs ", "jobs.", 'a"b', "x".repeat(32), "jöbs_"]) {
        expect((yield* Effect.flip(buildStore({ tablePrefix: prefix })))._tag, prefix).toBe("InvalidConfig")
      }
      for (const prefix of ["_", "a", "Jobs_2_", "x".repeat(31)]) {
        yield* buildStore({ tablePrefix: prefix })
      }
    }).pipe(Effect.provide(memorySqlite))
  )

  it.scoped("sqlite: autoMigrate that is not a boolean is refused with InvalidConfig, nothing is created", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(buildStore({ autoMigrate: "false" as never }))
      expect(error._tag).toBe("InvalidConfig")
      expect(error.message).toBe('SqlStore: autoMigrate must be true or false, got "false"')
      const sql = yield* SqlClient.SqlClient
      expect(yield* sql`SELECT name FROM sqlite_master`).toEqual([])
    }).pipe(Effect.provide(memorySqlite))
  )

  const configured = () =>
    SqlStore.layerConfig({
      tablePrefix: Config.string("JOBSS_TABLE_PREFIX"),
      autoMigrate: Config.boolean("JOBSS_AUTO_MIGRATE")
    })
  const fromMap = (prefix: string) =>
    Layer.setConfigProvider(
      ConfigProvider.fromMap(
        new Map([
          ["JOBSS_TABLE_PREFIX", prefix],
          ["JOBSS_AUTO_MIGRATE", "true"]
        ])
      )
    )

  it.scoped("sqlite: layerConfig builds the store from a ConfigProvider", () =>
    Effect.gen(function* () {
      const store = Context.get(
        yield* Layer.build(configured().pipe(Layer.provide(fromMap("configured_")))),
        JobStore.JobStore
      )
      const sql = yield* SqlClient.SqlClient
      const tables = yield* sql<{ readonly name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`
      expect(tables.map((row) => row.name)).toContain("configured_runs")
      const run = newRun({ job: "Configured", runAt: yield* store.now })
      yield* store.insert([run])
      expect((yield* store.get(run.id))?.job).toBe("Configured")
    }).pipe(Effect.provide(memorySqlite))
  )

  it.scoped("sqlite: layerConfig refuses a bad value like layer, with InvalidConfig, and creates nothing", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Layer.build(configured().pipe(Layer.provide(fromMap("x; drop table y")))))
      expect(error._tag).toBe("InvalidConfig")
      expect(error.message).toContain('tablePrefix "x; drop table y"')
      const sql = yield* SqlClient.SqlClient
      expect(yield* sql`SELECT name FROM sqlite_master`).toEqual([])
    }).pipe(Effect.provide(memorySqlite))
  )

  it.scoped("sqlite: the client's name transforms do not change the store's tables or rows", () =>
    Effect.gen(function* () {
      const store = yield* buildStore()
      const sql = yield* SqlClient.SqlClient
      const tables = yield* sql<{ readonly name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`
      expect(tables.map((row) => row.name).sort()).toEqual([
        "jobss_instances",
        "jobss_leader",
        "jobss_migrations",
        "jobss_queue_starts",
        "jobss_queues",
        "jobss_run_history",
        "jobss_runs"
      ])
      const now = yield* store.now
      const run = newRun({ job: "Transformed", runAt: now, uniqueName: "u" })
      yield* store.insert([run])
      const [claimed] = yield* claimAll(store, "Transformed")
      expect(claimed?.id).toBe(run.id)
      expect(claimed?.originId).toBe(run.id)
    }).pipe(
      Effect.provide(
        SqliteClient.layer({
          filename: ":memory:",
          transformQueryNames: Str.camelToSnake,
          transformResultNames: Str.snakeToCamel
        })
      )
    )
  )
})

describe.each(sqlBackends)("SqlStore on %s", (backend) => {
  it.scopedLive(`now is the database clock (${backend})`, () =>
    Effect.gen(function* () {
      const store = yield* buildStore()
      const before = Date.now()
      const now = yield* store.now
      // same machine: the database clock and Date.now agree closely
      expect(Math.abs(now - before)).toBeLessThan(5_000)
      expect(Number.isInteger(now)).toBe(true)
    }).pipe(Effect.provide(freshDatabase(backend)))
  )

  it.scopedLive(`a duplicate run id is refused and changes nothing (${backend})`, () =>
    Effect.gen(function* () {
      const store = yield* buildStore()
      const now = yield* store.now
      const run = newRun({ job: "Dup", runAt: now + 60_000 })
      yield* store.insert([run])
      const error = yield* Effect.flip(store.insert([{ ...run, job: "Other", runAt: now }]))
      expect(error.message).toContain(run.id)
      expect((yield* store.get(run.id))?.job).toBe("Dup")
    }).pipe(Effect.provide(freshDatabase(backend)))
  )

  it.scopedLive(`large inserts are split into statements by row count and by size (${backend})`, () =>
    Effect.gen(function* () {
      const store = yield* buildStore()
      const now = yield* store.now
      // 1,500 rows x 20 parameters is more than SQLite accepts in one statement
      const many = Array.from({ length: 1_500 }, () => newRun({ job: "Many", runAt: now }))
      // 40 x 512 KiB is more than MariaDB's default max_allowed_packet (16 MiB)
      const big = Array.from({ length: 40 }, () =>
        newRun({ job: "Big", runAt: now, args: JSON.stringify("x".repeat(512 * 1024)) })
      )
      const results = yield* store.insert([...many, ...big])
      expect(results.filter((result) => result.inserted)).toHaveLength(1_540)
      expect(yield* claimAll(store, "Many")).toHaveLength(1_500)
      const claimedBig = yield* claimAll(store, "Big")
      expect(claimedBig).toHaveLength(40)
      expect(claimedBig.every((run) => run.args.length === 512 * 1024 + 2)).toBe(true)
    }).pipe(Effect.provide(freshDatabase(backend)))
  )

  it.scopedLive(`a batch keeps every value as written, whatever characters it holds (${backend})`, () =>
    Effect.gen(function* () {
      const store = yield* buildStore()
      const now = yield* store.now
      const awkward = ['{"q":"\\"quoted\\" \\\\ back"}', '["a,b",{"c":"{}"}]', '"NULL"', '"ünïcødé ✓ 🙂"', "{}"]
      const runs = awkward.map((args, index) =>
        newRun({
          job: "Awkward",
          runAt: now + index,
          args,
          uniqueName: index === 0 ? 'name with "quotes", commas {and} braces' : null,
          schedule: index === 1 ? "every-1-second" : null,
          runSuccessLimit: index === 2 ? 7 : null,
          createdAt: index === 3 ? now - 5_000 : null,
          traceContext: index === 4 ? "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" : null
        })
      )
      yield* store.insert(runs)
      for (const run of runs) {
        const stored = yield* store.get(run.id)
        expect(stored).toMatchObject({
          args: run.args,
          uniqueName: run.uniqueName,
          schedule: run.schedule,
          runSuccessLimit: run.runSuccessLimit,
          traceContext: run.traceContext,
          runAt: run.runAt
        })
        if (run.createdAt !== null) expect(stored?.createdAt).toBe(run.createdAt)
      }
    }).pipe(Effect.provide(freshDatabase(backend)))
  )

  it.scopedLive(`claims are fenced per row: every claimed row has its own token (${backend})`, () =>
    Effect.gen(function* () {
      const store = yield* buildStore()
      const now = yield* store.now
      yield* store.insert(Array.from({ length: 50 }, () => newRun({ job: "Tokens", runAt: now })))
      const claimed = yield* claimAll(store, "Tokens")
      expect(new Set(claimed.map((run) => run.claim)).size).toBe(50)
      // a token of one row does not settle another
      const [a, b] = claimed
      expect(yield* store.settle([{ _tag: "Succeeded", id: a!.id, claim: b!.claim }])).toEqual([false])
      expect(yield* store.settle([{ _tag: "Succeeded", id: a!.id, claim: a!.claim }])).toEqual([true])
    }).pipe(Effect.provide(freshDatabase(backend)))
  )
})

describe("SqlStore on postgres: LISTEN/NOTIFY", () => {
  it.scopedLive("postgres: wakeups fire when a run becomes pending again (retry, release), not only on insert", () =>
    Effect.gen(function* () {
      const db = yield* makeDatabase("postgres")
      const store = yield* Effect.map(
        Layer.build(SqlStore.layer().pipe(Layer.provide(db.layer))),
        Context.get(JobStore.JobStore)
      )
      const other = yield* Effect.map(
        Layer.build(SqlStore.layer().pipe(Layer.provide(db.layer))),
        Context.get(JobStore.JobStore)
      )
      const now = yield* store.now
      yield* other.insert([newRun({ job: "Wake", runAt: now }), newRun({ job: "Wake", runAt: now })])
      const [first, second] = yield* claimAll(other, "Wake")

      const expectWakeup = (action: Effect.Effect<unknown, unknown>) =>
        Effect.gen(function* () {
          const woken = yield* Deferred.make<void>()
          const subscribed = yield* Effect.forkScoped(
            store.wakeups.pipe(Stream.take(1), Stream.runDrain, Effect.zipRight(Deferred.succeed(woken, undefined)))
          )
          yield* Effect.sleep("300 millis") // LISTEN is in place
          yield* action
          yield* Deferred.await(woken).pipe(
            Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => "no wake-up" })
          )
          yield* Effect.void.pipe(Effect.zipRight(Effect.succeed(subscribed)))
        })

      yield* expectWakeup(
        other.settle([
          {
            _tag: "Retry",
            id: first!.id,
            claim: first!.claim,
            runAt: now,
            retriesErrorCount: 1,
            retriesTimeoutCount: 0,
            error: "boom"
          }
        ])
      )
      yield* expectWakeup(other.settle([{ _tag: "Released", id: second!.id, claim: second!.claim }]))
    })
  )
})

describe("SqlStore on sqlite: malformed rows", () => {
  it.scopedLive("sqlite: a claimed row that does not decode ends failed with the reason; the others are claimed", () =>
    Effect.gen(function* () {
      const store = yield* buildStore()
      const sql = yield* SqlClient.SqlClient
      const now = yield* store.now
      const good = newRun({ job: "Mixed", runAt: now })
      const bad = newRun({ job: "Mixed", runAt: now })
      yield* store.insert([good, bad])
      // SQLite's dynamic typing lets a wrong value into an INTEGER column
      yield* sql`UPDATE jobss_runs SET run_success_limit = 'lots' WHERE id = ${bad.id}`
      const claimed = yield* claimAll(store, "Mixed")
      expect(claimed.map((run) => run.id)).toEqual([good.id])
      const [row] = yield* sql<{
        status: string
        error: string
      }>`SELECT status, error FROM jobss_runs WHERE id = ${bad.id}`
      expect(row?.status).toBe("failed")
      expect(row?.error).toContain("run_success_limit")
    }).pipe(Effect.provide(freshDatabase("sqlite")))
  )
})

describe("server version checks", () => {
  it("versions are compared part by part, ignoring suffixes (sqlite, postgres, mariadb)", () => {
    const cases: ReadonlyArray<readonly [string, ReadonlyArray<number>, boolean]> = [
      ["3.35.0", [3, 35], true],
      ["3.34.1", [3, 35], false],
      ["15.8 (Debian 15.8-0+deb12u1)", [12], true],
      ["11.22", [12], false],
      ["10.11.6-MariaDB-0+deb12u1", [10, 6], true],
      ["10.5.23-MariaDB", [10, 6], false],
      ["8.0.36", [8, 0, 1], true],
      ["8.0.0", [8, 0, 1], false]
    ]
    for (const [version, minimum, expected] of cases) expect(versionAtLeast(version, minimum), version).toBe(expected)
  })
})
