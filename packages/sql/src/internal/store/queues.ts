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

/**
 * Running and pending runs per queue: each status counted on its own, with the very predicate of
 * its partial index (`runs_queue_running`, `runs_queued`; MySQL: `runs_due`, queue then status),
 * so that each is an index-only read of the few running runs and of the pending ones.
 */
export const queueCountsStatement = (ctx: StoreContext) => {
  const { sql, runs } = ctx
  return sql`SELECT queue, SUM(running) AS running, SUM(pending) AS pending FROM (
      SELECT queue, COUNT(*) AS running, 0 AS pending FROM ${runs}
        WHERE status = 'running' AND queue IS NOT NULL GROUP BY queue
      UNION ALL
      SELECT queue, 0 AS running, COUNT(*) AS pending FROM ${runs}
        WHERE status = 'pending' AND queue IS NOT NULL GROUP BY queue
    ) counts GROUP BY queue ORDER BY queue`
}

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

  const queueCounts = unit(sql<Row>`${queueCountsStatement(ctx)}`).pipe(
    Effect.flatMap(
      decodeAll("queueCounts", (row) => `malformed counts of queue ${row["queue"]}`, rows.decodeQueueCount)
    ),
    operation("queueCounts")
  )

  return { registerQueue, pauseQueue, queues, queueCounts }
}
