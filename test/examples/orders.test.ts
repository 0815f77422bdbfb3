/** Runs the README's transaction and batch example on every SQL backend. */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Scheduler } from "@jobss/core"
import { Effect, Layer, LogLevel, Logger } from "effect"
import * as Orders from "../../examples/src/orders.js"
import { makeDatabase, sqlBackends } from "../support/databases.js"

const quiet = Logger.minimumLogLevel(LogLevel.Warning)

describe.each(sqlBackends)("README example: transactions and batches on %s", (backend) => {
  it.scopedLive(
    `an order and its run commit or roll back together; a batch creates one run per item (${backend})`,
    () =>
      Effect.gen(function* () {
        const database = yield* makeDatabase(backend)
        const { declined, orders, runs, shipped, states } = yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          yield* sql`CREATE TABLE orders (id INTEGER PRIMARY KEY)`
          const declined = yield* Effect.flip(Orders.placeOrder(1, false))
          const placed = yield* Orders.placeOrder(2, true)
          const batch = yield* Orders.shipAll([3, 4, 5])
          const states = yield* Effect.forEach([placed, ...batch], (id) =>
            Scheduler.awaitRun(id, { timeout: "20 seconds" })
          )
          const orders = yield* sql<{ readonly id: number }>`SELECT id FROM orders ORDER BY id`
          const runs = yield* sql<{ readonly args: string }>`SELECT args FROM jobss_runs ORDER BY args`
          return { declined, orders, runs, shipped: batch.length, states }
        }).pipe(Effect.provide(Orders.makeLayer(database.layer).pipe(Layer.provide(quiet))))
        expect(declined).toEqual(new Orders.PaymentDeclined({ order: 1 }))
        expect(orders.map((row) => Number(row.id))).toEqual([2])
        // the declined order's run was rolled back with it: only orders 2 to 5 have runs
        expect(runs.map((row) => JSON.parse(row.args).order)).toEqual([2, 3, 4, 5])
        expect(shipped).toBe(3)
        expect(states.map((state) => state.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"])
        expect(states.map((state) => state.args)).toEqual([{ order: 2 }, { order: 3 }, { order: 4 }, { order: 5 }])
      })
  )
})
