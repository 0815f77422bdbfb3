/**
 * @effect/sql's SqlPersistedQueue (with @effect/experimental's PersistedQueue).
 */
import * as PersistedQueue from "@effect/experimental/PersistedQueue"
import { SqlPersistedQueue } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Exit, Fiber, Layer, Redacted, Schema, Scope } from "effect"
import type { ConsumerSpec } from "../common.js"
import { type Consumer, type OnJob, countOf, onePool, queueName } from "./consumer.js"

/** The SqlPersistedQueue table (its default name). */
export const persistedTable = "effect_queue"

const PersistedPayload = Schema.Struct({ i: Schema.Number })

/** The SqlPersistedQueue layers over a PostgreSQL client. */
const persistedLayer = (url: string) =>
  PersistedQueue.layer.pipe(
    Layer.provideMerge(SqlPersistedQueue.layerStore()),
    Layer.provide(PgClient.layer({ url: Redacted.make(url) }))
  )

/** Creates the SqlPersistedQueue table (its store does it on construction). */
export const persistedSetup = (url: string): Promise<void> =>
  Effect.runPromise(Effect.scoped(Layer.build(persistedLayer(url))).pipe(Effect.asVoid))

/** `workers` fibers taking from a SqlPersistedQueue. */
export const persistedConsumer = async (spec: ConsumerSpec, onJob: OnJob): Promise<Consumer> => {
  const pool = onePool(spec.url)
  const scope = Effect.runSync(Scope.make())
  let fiber: Fiber.RuntimeFiber<unknown, unknown> | undefined
  return {
    start: async () => {
      const context = await Effect.runPromise(Layer.buildWithScope(persistedLayer(spec.url), scope))
      const program = Effect.gen(function* () {
        const queue = yield* PersistedQueue.make({ name: queueName, schema: PersistedPayload })
        const taker = Effect.forever(queue.take((value) => Effect.sync(() => onJob(value.i, null))))
        yield* Effect.all(
          Array.from({ length: spec.workers }, () => taker),
          { concurrency: "unbounded" }
        )
      })
      fiber = Effect.runFork(program.pipe(Effect.provide(context)))
    },
    remaining: () => countOf(pool, `SELECT count(*) AS n FROM ${persistedTable} WHERE completed = FALSE`),
    stop: async () => {
      if (fiber) await Effect.runPromise(Fiber.interrupt(fiber))
      await Effect.runPromise(Scope.close(scope, Exit.void))
      await pool.end()
    }
  }
}

/** Fills the SqlPersistedQueue table with `count` elements in one statement (it has no batch API). */
export const persistedFill = async (url: string, count: number): Promise<void> => {
  const pool = onePool(url)
  try {
    await pool.query(
      `INSERT INTO ${persistedTable} (id, queue_name, element, completed, attempts, created_at, updated_at)
       SELECT gen_random_uuid()::text, $1, json_build_object('i', g)::text, FALSE, 0, now(), now()
       FROM generate_series(0, $2::int - 1) AS g`,
      [queueName, count]
    )
  } finally {
    await pool.end()
  }
}
