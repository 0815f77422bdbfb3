import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
/** createRun inside the application's own SQL transaction, and batch creation. On every SQL backend. */
import { Job, JobsS, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Context, Effect, Layer, LogLevel, Logger, Ref, Schema } from "effect"
import { makeDatabase, sqlBackends } from "../support/databases.js"
import { makeLedger } from "../support/ledger.js"

const Ship = Job.make({ name: "Ship", args: Schema.Struct({ order: Schema.Number }) })

describe.each(sqlBackends)("transactional and batch creation on %s", (backend) => {
  it.scopedLive(`createRun joins the caller's transaction: rolled back, the run never exists (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const database = yield* makeDatabase(backend)
      const context = yield* Layer.build(
        Ship.toLayer(() => ledger.record).pipe(
          Layer.provideMerge(JobsS.layer({ pollInterval: "200 millis" })),
          Layer.provideMerge(SqlStore.layer()),
          Layer.provideMerge(database.layer),
          Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
        )
      )
      const sql = Context.get(context, SqlClient.SqlClient)
      const scheduler = Context.get(context, Scheduler.Scheduler)
      yield* sql`CREATE TABLE orders (id INTEGER PRIMARY KEY)`
      const created = yield* Ref.make<Array<string>>([])

      const placeOrder = (order: number, commit: boolean) =>
        sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`INSERT INTO orders (id) VALUES (${order})`
            const id = yield* scheduler.createRun(Ship, { order })
            yield* Ref.update(created, (ids) => [...ids, id])
            if (!commit) return yield* Effect.fail("payment declined" as const)
          })
        )

      expect(yield* Effect.flip(placeOrder(1, false))).toBe("payment declined")
      const [rolledBack] = yield* Ref.get(created)
      expect((yield* Effect.flip(scheduler.getRunState(rolledBack! as never)))._tag).toBe("RunNotFound")

      yield* placeOrder(2, true)
      const committed = (yield* Ref.get(created))[1]!
      expect((yield* scheduler.awaitRun(committed as never, { timeout: "10 seconds" })).status).toBe("succeeded")
      yield* Effect.sleep("500 millis")
      expect(ledger.entries.map((entry) => entry.args)).toEqual([{ order: 2 }])
      expect(yield* sql<{ id: number }>`SELECT id FROM orders`).toEqual([{ id: 2 }])
    })
  )

  it.scopedLive(`createRuns writes a batch and respects uniqueness per item (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const database = yield* makeDatabase(backend)
      const scheduler = yield* Layer.build(
        Ship.toLayer(() => ledger.record).pipe(
          Layer.provideMerge(JobsS.layer({ pollInterval: "200 millis" })),
          Layer.provide(SqlStore.layer()),
          Layer.provide(database.layer),
          Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
        )
      ).pipe(Effect.map(Context.get(Scheduler.Scheduler)))
      const ids = yield* scheduler.createRuns(
        Ship,
        Array.from({ length: 500 }, (_, order) => ({ order }))
      )
      expect(new Set(ids).size).toBe(500)
      const unique = yield* scheduler.createRuns(Ship, [{ order: 1 }, { order: 2 }], {
        unique: "one-shipment",
        delay: "1 hour"
      })
      expect(unique[0]).toBe(unique[1])
      yield* Effect.forEach(ids, (id) => scheduler.awaitRun(id, { timeout: "30 seconds" }), {
        discard: true,
        concurrency: 20
      })
      expect(ledger.entries).toHaveLength(500)
      expect(new Set(ledger.entries.map((entry) => (entry.args as { order: number }).order)).size).toBe(500)
    })
  )
})
