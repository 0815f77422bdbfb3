/**
 * Crash with queue limits: a random child is SIGKILLed every 2-5 s and restarted while the runs of a
 * partitioned queue (3 partitions, each at most 3 running and 8 starts a second, at most 2 on any one
 * instance) (100-300 ms each) go through 4 processes of 4 workers. Every run completes with a clean history, and no
 * limit is exceeded: each partition's running runs sampled in the database every 20 ms, each
 * partition's attempts in the run history (claim to settlement, on the database's clock: their
 * overlap and their starts in any 1 s window), and each instance's executions in the ledger (a
 * killed one holding its slot until its run is taken over).
 */
import { SqlClient } from "@effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { type Backend, makeDatabase } from "../support/databases.js"
import {
  acquireScenarioLock,
  makeProcessCluster,
  parentClientLayer,
  releaseScenarioLock
} from "../support/processes.js"
import { attemptIntervals, ledgerIntervals, maxOverlap, mostInWindow } from "../support/queueOracle.js"
import { type WorkerInstance, workIn } from "./protocol.js"
import {
  awaitAll,
  between,
  busySlot,
  historyBreaches,
  killAndRestart,
  parentScheduler,
  parentStore,
  report,
  sampleEvery,
  shortLeases,
  unlimitedRetries
} from "./scenario.js"

beforeAll(acquireScenarioLock, 30 * 60_000)
afterAll(releaseScenarioLock)

const backends: ReadonlyArray<Backend> = ["sqlite", "postgres", "mariadb"]
const partitions = ["a", "b", "c"] as const
const queue = {
  name: "tenants",
  partitioned: true,
  concurrency: 3,
  workerConcurrency: 2,
  rateLimit: { limit: 8, periodMs: 1_000 }
} as const
const runsPerPartition = 80

/** The running runs of each partition of the queue, read from the database's runs table. */
const runningPerPartition = (backend: Backend, url: string) =>
  Effect.gen(function* () {
    const sql = yield* Effect.provide(SqlClient.SqlClient, yield* Layer.build(parentClientLayer(backend, url)))
    return Effect.map(
      sql<{ readonly part: string; readonly n: unknown }>`SELECT partition_key AS part, COUNT(*) AS n
        FROM jobss_runs WHERE status = 'running' AND queue = ${queue.name} GROUP BY partition_key`,
      (rows) => rows.map((row) => Number(row.n))
    )
  })

describe.each(backends)("cluster: crash with queue limits on %s", (backend) => {
  it.scopedLive(
    `4 processes x 4 workers, a process SIGKILLed every 2-5 s: each partition's concurrency and rate, and each instance's cap, hold (${backend})`,
    () =>
      Effect.gen(function* () {
        const db = yield* makeDatabase(backend)
        const instance: WorkerInstance = { ...shortLeases, workers: 4, queue }
        const scheduler = yield* parentScheduler(backend, db.url)
        const store = yield* parentStore(backend, db.url)
        const cluster = yield* makeProcessCluster({
          backend,
          url: db.url,
          label: `queue-crash-${backend}`,
          size: 4,
          instance,
          maxConnections: 2,
          logLevel: "Warning"
        })
        yield* cluster.startAll
        const sampling = yield* sampleEvery(yield* runningPerPartition(backend, db.url))
        const byPartition = yield* Effect.forEach(partitions, (partitionKey) =>
          scheduler.createRuns(
            workIn(queue),
            Array.from({ length: runsPerPartition }, (_, n) => ({ n, ms: between(100, 300) })),
            { ...unlimitedRetries, partitionKey }
          )
        )
        // each kill lands on a process executing a run of the queue, whose slot it then holds until the takeover
        const killer = yield* killAndRestart(cluster, 2_000, 5_000, busySlot)
        const states = yield* awaitAll(scheduler, byPartition.flat(), 240_000)
        yield* Fiber.interrupt(killer)
        yield* sampling.stop
        expect(states.filter((state) => state.status !== "succeeded")).toEqual([])
        expect(yield* historyBreaches(scheduler, states)).toEqual([])

        // the database, sampled: never more than 3 running in a partition
        expect(Math.max(...sampling.samples.flat())).toBeLessThanOrEqual(queue.concurrency)
        // the history of each partition: at most 3 attempts at once (reached), at most 8 starts in any second (reached)
        const attempts = yield* Effect.forEach(byPartition, (ids) =>
          Effect.map(Effect.forEach(ids, store.history, { concurrency: 4 }), (of) => of.flat())
        )
        const overlaps = attempts.map((of) => maxOverlap(attemptIntervals(of)))
        const windows = attempts.map((of) =>
          mostInWindow(
            of.map((attempt) => attempt.startedAt),
            queue.rateLimit.periodMs
          )
        )
        expect(Math.max(...overlaps)).toBe(queue.concurrency)
        expect(Math.max(...windows)).toBe(queue.rateLimit.limit)
        // the partitions ran side by side
        expect(maxOverlap(attemptIntervals(attempts.flat()))).toBeGreaterThan(queue.concurrency)
        // each instance, from the ledger: at most 2 executions at once (reached), a killed one's held until its takeover
        const ledger = yield* cluster.ledger
        const executions = ledgerIntervals(ledger)
        const instances = new Set(executions.map(({ start }) => start.instance))
        const perInstance = [...instances].map((id) =>
          maxOverlap(executions.filter(({ start }) => start.instance === id).map(({ interval }) => interval))
        )
        expect(Math.max(...perInstance)).toBe(queue.workerConcurrency)
        const kills = (yield* cluster.events).filter((event) => event.action === "kill")
        // processes were killed while they executed runs of the queue
        const killedExecutions = executions.length - ledger.filter((row) => row.kind === "end").length
        expect(killedExecutions).toBeGreaterThan(0)
        expect(yield* cluster.unexpectedExits).toEqual([])
        yield* report("queue-crash", backend, {
          runs: states.length,
          kills: kills.length,
          killedExecutions,
          takeovers: ledger.filter((row) => row.kind === "reap").length,
          mostRunningSampled: Math.max(...sampling.samples.flat()),
          mostPerPartition: Math.max(...overlaps),
          mostStartsPerSecond: Math.max(...windows),
          mostPerInstance: Math.max(...perInstance)
        })
      }),
    300_000
  )
})
