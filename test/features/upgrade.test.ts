/**
 * Rolling upgrades: instances of one release keep working on a database that a later release has
 * already migrated (docs/operations.md, "Upgrading"). The later release is played by an additive
 * migration of the kind the compatibility rule allows: a migration recorded past this release's
 * last, a new column with a default on every table, a new table and a new index. This release then
 * starts (with and without `autoMigrate`), creates, claims, runs, retries, settles, cancels and
 * reads runs and their history as before.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Job, JobsS, RunInfo, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Context, Effect, Layer, Schema } from "effect"
import { fastOptions } from "../support/cluster.js"
import { makeDatabase, sqlBackends } from "../support/databases.js"

const Upgrade = Job.make({
  name: "UpgradeWork",
  args: Schema.Struct({ fail: Schema.Boolean }),
  success: Schema.Struct({ ok: Schema.Boolean })
})

/** What a later release's migration adds, and the migration record that says it ran. */
const laterMigration = (prefix: string) => [
  `ALTER TABLE ${prefix}runs ADD COLUMN later_flag INTEGER NOT NULL DEFAULT 0`,
  `ALTER TABLE ${prefix}run_history ADD COLUMN later_note VARCHAR(64) NULL`,
  `ALTER TABLE ${prefix}instances ADD COLUMN later_zone VARCHAR(64) NULL`,
  `CREATE TABLE ${prefix}later_things (id INTEGER PRIMARY KEY, name VARCHAR(64) NOT NULL)`,
  `CREATE INDEX ${prefix}runs_later ON ${prefix}runs (later_flag, run_at)`,
  `INSERT INTO ${prefix}migrations (migration_id, name) VALUES (1000, 'later_release')`
]

describe.each(sqlBackends)("an instance on a database migrated by a later release, on %s", (backend) => {
  for (const autoMigrate of [true, false]) {
    it.scopedLive(`it runs as before (autoMigrate: ${autoMigrate}, ${backend})`, () =>
      Effect.gen(function* () {
        const database = yield* makeDatabase(backend)
        // this release migrates, then the later one adds its own
        const owner = yield* Layer.build(database.layer)
        yield* Layer.build(SqlStore.layer().pipe(Layer.provide(Layer.succeedContext(owner))))
        const sql = Context.get(owner, SqlClient.SqlClient)
        yield* Effect.forEach(laterMigration("jobss_"), (statement) => sql.unsafe(statement), { discard: true })

        const work = Upgrade.toLayer(({ fail }) =>
          Effect.flatMap(RunInfo, (info) =>
            fail && info.runTotalCount === 1 ? Effect.fail("first attempt fails") : Effect.succeed({ ok: true })
          )
        )
        const context = yield* Layer.build(
          work.pipe(
            Layer.provideMerge(JobsS.layer(fastOptions)),
            Layer.provide(SqlStore.layer({ autoMigrate })),
            Layer.provide(database.layer)
          )
        )
        const scheduler = Context.get(context, Scheduler.Scheduler)
        const [plain, retried] = yield* scheduler.createRuns(Upgrade, [{ fail: false }, { fail: true }], {
          retriesErrorLimit: 2
        })
        expect(yield* scheduler.awaitResult(Upgrade, plain!, { timeout: "20 seconds" })).toEqual({ ok: true })
        expect(yield* scheduler.awaitResult(Upgrade, retried!, { timeout: "20 seconds" })).toEqual({ ok: true })
        expect((yield* scheduler.getRunHistory(retried!)).map((attempt) => attempt.outcome)).toEqual([
          "retried",
          "succeeded"
        ])
        const later = yield* scheduler.createRun(Upgrade, { fail: false }, { delay: "1 hour" })
        yield* scheduler.cancelRun(later)
        expect((yield* scheduler.getRunState(later)).status).toBe("cancelled")
        // the later release's columns keep their defaults in the rows this release wrote
        const flags = yield* sql<{ later_flag: number | string }>`SELECT later_flag FROM jobss_runs`
        expect(flags.map((row) => Number(row.later_flag))).toEqual([0, 0, 0])
      })
    )
  }
})
