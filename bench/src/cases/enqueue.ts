/**
 * Enqueue: jobs created one at a time (one caller, each call awaited) and in batches (one round
 * trip per batch) on PostgreSQL, by JobsS (`createRun`, `createRuns`), graphile-worker (`addJob`,
 * `addJobs`), pg-boss (`send`, `insert`) and SqlPersistedQueue (`offer`; it has no batch API).
 * Nothing consumes the jobs.
 */
import * as PersistedQueue from "@effect/experimental/PersistedQueue"
import { SqlPersistedQueue } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted, Schema } from "effect"
import type { SystemId } from "../common.js"
import { median, now, percentile, round } from "../common.js"
import { type BenchContext, type Row, rowFor, updateMedians, wanted } from "../context.js"
import { createDatabase, dropDatabase } from "../db.js"
import { queueName } from "../peers/consumer.js"
import { graphileUtils } from "../peers/graphile.js"
import { pgboss, pgbossQueue } from "../peers/pgboss.js"
import { setupOf } from "../systems.js"

/** A producer: creates job `i`, or jobs `[from, from + count)` in one call. */
interface Producer {
  readonly one: (i: number) => Promise<unknown>
  readonly many?: (from: number, count: number) => Promise<unknown>
  readonly close: () => Promise<void>
}

/** The systems of this case: the PostgreSQL ones with a producer API. */
type Enqueuer = Exclude<SystemId, "raw" | "plainjob">

const producers: Record<Enqueuer, (url: string) => Promise<Producer>> = {
  jobss: async (url) => {
    const { jobssProducer } = await import("../jobss.js")
    const producer = await jobssProducer("postgres", url)
    return { one: (i) => producer.createRun(i), many: producer.createRuns, close: producer.close }
  },
  graphile: async (url) => {
    const utils = await graphileUtils(url)
    return {
      one: (i) => utils.addJob(queueName, { i }),
      many: (from, count) =>
        utils.addJobs(Array.from({ length: count }, (_, k) => ({ identifier: queueName, payload: { i: from + k } }))),
      close: async () => {
        await utils.release()
      }
    }
  },
  pgboss: async (url) => {
    const boss = await pgboss(url, { listen: false, worker: false })
    await pgbossQueue(boss, false)
    return {
      one: (i) => boss.send(queueName, { i }),
      many: (from, count) =>
        boss.insert(
          queueName,
          Array.from({ length: count }, (_, k) => ({ data: { i: from + k } }))
        ),
      close: () => boss.stop({ graceful: false })
    }
  },
  persisted: async (url) => {
    const layer = PersistedQueue.layer.pipe(
      Layer.provide(SqlPersistedQueue.layerStore()),
      Layer.provide(PgClient.layer({ url: Redacted.make(url) }))
    )
    const { buildLayer } = await import("../jobss.js")
    const built = await buildLayer(layer)
    const queue = await Effect.runPromise(
      PersistedQueue.make({ name: queueName, schema: Schema.Struct({ i: Schema.Number }) }).pipe(
        Effect.provide(built.context)
      )
    )
    return { one: (i) => Effect.runPromise(queue.offer({ i })), close: built.close }
  }
}

const labels: Record<Enqueuer, { one: string; many: string }> = {
  jobss: { one: "JobsS createRun", many: "JobsS createRuns" },
  graphile: { one: "graphile-worker addJob", many: "graphile-worker addJobs" },
  pgboss: { one: "pg-boss send", many: "pg-boss insert" },
  persisted: { one: "SqlPersistedQueue offer", many: "" }
}

/** Enqueue rates on PostgreSQL. */
export const enqueue = async (context: BenchContext): Promise<void> => {
  if (!context.pg) return
  const single = context.quick ? 30 : 1_000
  const total = context.quick ? 300 : 10_000
  const batch = context.quick ? 100 : 1_000
  const systems = (["jobss", "graphile", "pgboss", "persisted"] as const).filter((system) => wanted(context, system))
  const rows = new Map<string, Row>()
  for (const system of systems) {
    rows.set(
      `${system}:one`,
      rowFor(context, {
        case: "enqueue",
        backend: "postgres",
        system,
        variant: "one",
        label: `${labels[system].one} (one at a time)`,
        params: { count: single }
      })
    )
    if (labels[system].many !== "") {
      rows.set(
        `${system}:many`,
        rowFor(context, {
          case: "enqueue",
          backend: "postgres",
          system,
          variant: "batch",
          label: `${labels[system].many} (batches of ${batch})`,
          params: { count: total, batch }
        })
      )
    }
  }
  for (let rep = 1; rep <= context.reps; rep++) {
    for (const system of systems) {
      if (context.interrupted()) return
      const name = `bench_enq_${system}`
      try {
        const url = await createDatabase("postgres", context.pg.url, name)
        await setupOf(system, "postgres").install(url)
        const producer = await producers[system](url)
        try {
          // one at a time
          const latencies: Array<number> = []
          const started = now()
          for (let i = 0; i < single; i++) {
            const t = now()
            await producer.one(i)
            latencies.push(now() - t)
          }
          const elapsed = now() - started
          const oneRow = rows.get(`${system}:one`)!
          oneRow.reps.push({
            perSecond: round((single / elapsed) * 1000, 0),
            p50Ms: round(percentile(latencies, 50), 3),
            p99Ms: round(percentile(latencies, 99), 3)
          })
          updateMedians(oneRow, median)
          // batches
          const many = producer.many
          const manyRow = rows.get(`${system}:many`)
          if (many && manyRow) {
            const batchTimes: Array<number> = []
            const startedMany = now()
            for (let from = single; from < single + total; from += batch) {
              const t = now()
              await many(from, batch)
              batchTimes.push(now() - t)
            }
            const elapsedMany = now() - startedMany
            manyRow.reps.push({
              perSecond: round((total / elapsedMany) * 1000, 0),
              batchP50Ms: round(percentile(batchTimes, 50), 2)
            })
            updateMedians(manyRow, median)
          }
          context.log(
            `enqueue #${rep} ${system}: one ${oneRow.reps.at(-1)?.perSecond}/s` +
              (manyRow ? `, batches ${manyRow.reps.at(-1)?.perSecond}/s` : "")
          )
        } finally {
          await producer.close()
        }
      } catch (error) {
        const message = `enqueue ${system}: ${String(error)}`
        context.log(`FAILED ${message}`)
        context.results.errors.push(message)
      } finally {
        await dropDatabase("postgres", context.pg.url, name).catch(() => undefined)
      }
      await context.save()
    }
  }
}
