/**
 * Latency: an idle worker process; the parent (another process, another client) creates one run
 * at a time and measures the time from the start of the create call until the job starts in
 * the worker, over 200 runs. PostgreSQL, everyone with LISTEN/NOTIFY.
 *
 * Precision: runs created with a 1 s delay (staggered so the worker is idle when each comes due);
 * the job's start minus its due time (JobsS's stored `runAt`).
 */
import type { SystemId } from "../common.js"
import { median, now, percentile, round, sleep } from "../common.js"
import { type Started, startConsumer } from "../consumerProcess.js"
import { type BenchContext, type Row, rowFor, updateMedians, wanted } from "../context.js"
import { createDatabase, dropDatabase } from "../db.js"
import { queueName } from "../peers/consumer.js"
import { graphileUtils } from "../peers/graphile.js"
import { pgboss, pgbossQueue } from "../peers/pgboss.js"
import { setupOf } from "../systems.js"

interface LatencyConfig {
  readonly system: SystemId
  readonly variant: string
  readonly label: string
}

const configs: ReadonlyArray<LatencyConfig> = [
  { system: "jobss", variant: "default", label: "JobsS (LISTEN/NOTIFY)" },
  { system: "graphile", variant: "default", label: "graphile-worker (default, LISTEN/NOTIFY)" },
  { system: "pgboss", variant: "default", label: "pg-boss (useListenNotify, queue notify)" }
]

/** Creates job `i` (or with a delay); closes. */
interface Creator {
  readonly create: (i: number, delayMs?: number) => Promise<unknown>
  readonly close: () => Promise<void>
}

const creator = async (system: SystemId, url: string): Promise<Creator> => {
  switch (system) {
    case "jobss": {
      const { jobssProducer } = await import("../jobss.js")
      const producer = await jobssProducer("postgres", url)
      return {
        create: (i, delayMs) => producer.createRun(i, delayMs === undefined ? undefined : { delay: delayMs }),
        close: producer.close
      }
    }
    case "graphile": {
      const utils = await graphileUtils(url)
      return {
        create: (i) => utils.addJob(queueName, { i }),
        close: async () => {
          await utils.release()
        }
      }
    }
    case "pgboss": {
      const boss = await pgboss(url, { listen: false, worker: false })
      await pgbossQueue(boss, true)
      return { create: (i) => boss.send(queueName, { i }), close: () => boss.stop({ graceful: false }) }
    }
    default:
      throw new Error(`no latency producer for ${system}`)
  }
}

/** Waits for job `i`'s start report. */
const waiter = () => {
  const starts = new Map<number, Started>()
  const waiting = new Map<number, (started: Started) => void>()
  return {
    onStarted: (started: Started) => {
      const resolve = waiting.get(started.i)
      if (resolve) {
        waiting.delete(started.i)
        resolve(started)
      } else starts.set(started.i, started)
    },
    wait: (i: number, timeoutMs: number): Promise<Started> => {
      const early = starts.get(i)
      if (early) return Promise.resolve(early)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(i)
          reject(new Error(`job ${i} did not start within ${timeoutMs} ms`))
        }, timeoutMs)
        waiting.set(i, (started) => {
          clearTimeout(timer)
          resolve(started)
        })
      })
    },
    all: () => starts
  }
}

/** A listening consumer and a creator on a fresh database. */
const setup = async (context: BenchContext, config: LatencyConfig, name: string) => {
  const url = await createDatabase("postgres", context.pg!.url, name)
  await setupOf(config.system, "postgres").install(url)
  const create = await creator(config.system, url)
  const consumer = await startConsumer({
    mode: "listen",
    system: config.system,
    backend: "postgres",
    url,
    variant: config.variant,
    count: 0,
    workers: 10,
    capMs: 0
  })
  const starts = waiter()
  await consumer.listen(starts.onStarted)
  return {
    create,
    consumer,
    starts,
    close: async () => {
      await consumer.stop().catch(() => undefined)
      await create.close().catch(() => undefined)
      await dropDatabase("postgres", context.pg!.url, name)
    }
  }
}

/** Latency of enqueue -> start on an idle worker. */
export const latency = async (context: BenchContext): Promise<void> => {
  if (!context.pg) return
  const runs = context.quick ? 20 : 200
  const active = configs.filter((config) => wanted(context, config.system))
  const rows = new Map<LatencyConfig, Row>()
  for (const config of active) {
    rows.set(
      config,
      rowFor(context, {
        case: "latency",
        backend: "postgres",
        system: config.system,
        variant: config.variant,
        label: config.label,
        params: { runs }
      })
    )
  }
  for (let rep = 1; rep <= context.reps; rep++) {
    for (const config of active) {
      if (context.interrupted()) return
      const row = rows.get(config)!
      let env: Awaited<ReturnType<typeof setup>> | undefined
      try {
        env = await setup(context, config, `bench_lat_${config.system}`)
        await sleep(1_000) // settle: listeners connected, pollers asleep
        const latencies: Array<number> = []
        const createMs: Array<number> = []
        for (let i = 0; i < runs; i++) {
          const t = now()
          await env.create.create(i)
          createMs.push(now() - t)
          const started = await env.starts.wait(i, 10_000)
          latencies.push(started.at - t)
          await sleep(5 + Math.random() * 10) // idle again before the next one
        }
        row.reps.push({
          p50Ms: round(percentile(latencies, 50), 2),
          p95Ms: round(percentile(latencies, 95), 2),
          p99Ms: round(percentile(latencies, 99), 2),
          maxMs: round(Math.max(...latencies), 2),
          createP50Ms: round(percentile(createMs, 50), 2)
        })
        updateMedians(row, median)
        context.log(`latency #${rep} ${config.label}: ${JSON.stringify(row.reps.at(-1))}`)
      } catch (error) {
        const message = `latency ${config.label}: ${String(error)}`
        context.log(`FAILED ${message}`)
        context.results.errors.push(message)
      } finally {
        await env?.close().catch(() => undefined)
      }
      await context.save()
    }
  }
}

/** Start minus due time of runs delayed by 1 s (JobsS). */
export const precision = async (context: BenchContext): Promise<void> => {
  if (!context.pg || !wanted(context, "jobss")) return
  const runs = context.quick ? 10 : 100
  const spacingMs = 20
  const config = configs[0]!
  const row = rowFor(context, {
    case: "precision",
    backend: "postgres",
    system: "jobss",
    variant: "default",
    label: "JobsS, runs delayed 1 s",
    params: { runs, delayMs: 1_000 }
  })
  for (let rep = 1; rep <= context.reps; rep++) {
    if (context.interrupted()) return
    let env: Awaited<ReturnType<typeof setup>> | undefined
    try {
      env = await setup(context, config, "bench_prec_jobss")
      await sleep(1_000)
      for (let i = 0; i < runs; i++) {
        await env.create.create(i, 1_000)
        await sleep(spacingMs)
      }
      const lateness: Array<number> = []
      for (let i = 0; i < runs; i++) {
        const started = await env.starts.wait(i, 10_000)
        if (started.due !== null) lateness.push(started.at - started.due)
      }
      row.reps.push({
        p50Ms: round(percentile(lateness, 50), 2),
        p95Ms: round(percentile(lateness, 95), 2),
        maxMs: round(Math.max(...lateness), 2),
        minMs: round(Math.min(...lateness), 2)
      })
      updateMedians(row, median)
      context.log(`precision #${rep}: ${JSON.stringify(row.reps.at(-1))}`)
    } catch (error) {
      const message = `precision: ${String(error)}`
      context.log(`FAILED ${message}`)
      context.results.errors.push(message)
    } finally {
      await env?.close().catch(() => undefined)
    }
    await context.save()
  }
}
