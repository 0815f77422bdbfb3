/**
 * Creating runs inside the application's own transaction, and many at once: an order and the run
 * that ships it are written together or not at all.
 */
import { SqlClient } from "@effect/sql"
import { Job, JobsS, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Effect, Layer, Schema } from "effect"

/** Ships one order. */
export const Ship = Job.make({ name: "Ship", args: Schema.Struct({ order: Schema.Number }) })

/** The payment of an order was declined: the order and its run are rolled back. */
export class PaymentDeclined extends Schema.TaggedError<PaymentDeclined>()("PaymentDeclined", {
  order: Schema.Number
}) {}

/** Writes the order and creates the run that ships it in one transaction: both exist, or neither. */
export const placeOrder = (order: number, paid: boolean) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(
      Effect.gen(function* () {
        yield* sql`INSERT INTO orders (id) VALUES (${order})`
        const id = yield* Scheduler.createRun(Ship, { order }) // joins the transaction
        if (!paid) return yield* new PaymentDeclined({ order }) // rolls back the order and the run
        return id
      })
    )
  })

/** One run per order, written in one round trip per batch; the ids come back in the orders' order. */
export const shipAll = (orders: ReadonlyArray<number>) =>
  Scheduler.createRuns(
    Ship,
    orders.map((order) => ({ order }))
  )

/** An instance that ships orders, sharing its `SqlClient` (and so its transactions) with the program. */
export const makeLayer = <E>(database: Layer.Layer<SqlClient.SqlClient, E>) =>
  Ship.toLayer(({ order }) => Effect.log(`shipping order ${order}`)).pipe(
    Layer.provideMerge(JobsS.layer({ pollInterval: "1 second" })),
    Layer.provide(SqlStore.layer()),
    Layer.provideMerge(database)
  )
