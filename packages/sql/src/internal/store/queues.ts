/**
 * The queues table: `registerQueue` (an upsert of the definition that keeps the paused flag,
 * returning the row it replaced), `pauseQueue` (an upsert of the flag; resuming notifies the
 * instances where the dialect can), `queues`, and `queueCounts` (running and pending runs per queue).
 *
 * @internal
 */
import type { JobStore } from "@jobss/core"
import * as Effect from "effect/Effect"
import type { Row } from "../dialect.js"
import * as rows from "../rows.js"
import { int, intOrNull } from "../sqlValues.js"
import { type StoreContext, decodeAll } from "./context.js"

type QueueOperations = "registerQueue" | "pauseQueue" | "queues" | "queueCounts"

/** The columns a definition sets. */
const definitionColumns = [
  "concurrency",
  "worker_concurrency",
  "rate_limit",
  "rate_period_ms",
  "partitioned",
  "defined_by",
  "updated_at"
] as const

/** The store's operations on queues. */
export const make = (ctx: StoreContext): Pick<JobStore.JobStoreShape, QueueOperations> => {
  const { dialect, sql, now, unit, operation } = ctx
  const table = sql(dialect.tables.queues)
  const decode = decodeAll("queues", (row) => `malformed queue ${row["name"]}`, rows.decodeQueue)

  const find = (name: string) =>
    unit(sql<Row>`SELECT * FROM ${table} WHERE name = ${name}`).pipe(Effect.flatMap(decode))

  const registerQueue = (definition: JobStore.QueueDefinition, instanceId: string) =>
    Effect.gen(function* () {
      const previous = yield* find(definition.name)
      yield* unit(
        sql`INSERT INTO ${table} (name, ${sql.literal(definitionColumns.join(", "))}, paused)
        VALUES (${definition.name}, ${intOrNull(definition.concurrency)}, ${intOrNull(definition.workerConcurrency)},
          ${intOrNull(definition.rateLimit)}, ${intOrNull(definition.ratePeriodMs)}, ${definition.partitioned ? 1 : 0},
          ${instanceId}, ${now}, 0)
        ${dialect.onConflictReplace("name", definitionColumns)}`
      )
      return previous[0]
    }).pipe(operation("registerQueue"))

  const pauseQueue = (name: string, paused: boolean) =>
    unit(
      sql`INSERT INTO ${table} (name, partitioned, paused, updated_at) VALUES (${name}, 0, ${int(paused ? 1 : 0)}, ${now})
      ${dialect.onConflictReplace("name", ["paused", "updated_at"])}`
    ).pipe(Effect.zipRight(paused ? Effect.void : unit(dialect.notifyDue)), Effect.asVoid, operation("pauseQueue"))

  const queues = unit(sql<Row>`SELECT * FROM ${table} ORDER BY name`).pipe(Effect.flatMap(decode), operation("queues"))

  const queueCounts = unit(
    sql<Row>`SELECT queue, SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END) AS running,
      SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending
    FROM ${ctx.runs} WHERE queue IS NOT NULL AND status IN ('pending', 'running') GROUP BY queue ORDER BY queue`
  ).pipe(
    Effect.flatMap(
      decodeAll("queueCounts", (row) => `malformed counts of queue ${row["queue"]}`, rows.decodeQueueCount)
    ),
    operation("queueCounts")
  )

  return { registerQueue, pauseQueue, queues, queueCounts }
}
