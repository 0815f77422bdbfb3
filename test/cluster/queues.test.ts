/**
 * Queue limits across real processes: 20 child processes (6 on one SQLite file) claiming runs of one
 * queue limited to 5 never run more than 5 at once (the database sampled throughout, and the
 * attempts' overlap in the ledger); a slot held by a process killed with SIGKILL stays taken until
 * its run is taken over, then frees (never leaked).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type Backend, makeDatabase } from "../support/databases.js"
import { acquireScenarioLock, makeProcessCluster, releaseScenarioLock } from "../support/processes.js"
import { ledgerIntervals, maxOverlap } from "../support/queueOracle.js"
import { type LedgerRow, type WorkerInstance, workIn } from "./protocol.js"
import {
  awaitAll,
  awaitReportedStarts,
  parentScheduler,
  parentStore,
  sampleEvery,
  shortLeases,
  unlimitedRetries
} from "./scenario.js"

beforeAll(acquireScenarioLock, 30 * 60_000)
afterAll(releaseScenarioLock)

const backends: ReadonlyArray<Backend> = ["sqlite", "postgres", "mariadb"]

/** The most attempts open at once in the ledger: from their `start` to their `end`, or to the takeover of a killed one. */
const ledgerOverlap = (ledger: ReadonlyArray<LedgerRow>): number =>
  maxOverlap(ledgerIntervals(ledger).map(({ interval }) => interval))

/** Samples the queue's running runs in the database every 20 ms until stopped. */
const sampler = (backend: Backend, url: string, queue: string) =>
  Effect.flatMap(parentStore(backend, url), (store) =>
    sampleEvery(Effect.map(store.queueCounts, (counts) => counts.find((count) => count.queue === queue)?.running ?? 0))
  )

describe.each(backends)("queue limits across processes on %s", (backend) => {
  it.scopedLive(
    `${backend === "sqlite" ? 6 : 20} processes never run more than the queue's 5 at once (${backend})`,
    () =>
      Effect.gen(function* () {
        const db = yield* makeDatabase(backend)
        const queue = { name: "limited", concurrency: 5 }
        // SQLite has no wake-ups across processes: the process that settles claims again at once, and
        // with runs claimed ahead of its 2 workers it could hold all 5 slots while the others poll.
        // Without claiming ahead it holds at most 2, so the limit is reached by several processes.
        const instance: WorkerInstance = {
          ...shortLeases,
          workers: 2,
          queue,
          ...(backend === "sqlite" ? { claimAheadMs: 0 } : {})
        }
        const scheduler = yield* parentScheduler(backend, db.url)
        const cluster = yield* makeProcessCluster({
          backend,
          url: db.url,
          label: `queues-${backend}`,
          size: backend === "sqlite" ? 6 : 20,
          instance,
          maxConnections: 2,
          logLevel: "Warning"
        })
        yield* cluster.startAll
        const sampling = yield* sampler(backend, db.url, queue.name)
        const ids = yield* scheduler.createRuns(
          workIn(queue),
          Array.from({ length: 60 }, (_, n) => ({ n, ms: 40 })),
          unlimitedRetries
        )
        const states = yield* awaitAll(scheduler, ids, 120_000)
        yield* sampling.stop
        expect(states.filter((state) => state.status !== "succeeded")).toEqual([])
        const ledger = yield* cluster.ledger
        expect(Math.max(...sampling.samples)).toBeLessThanOrEqual(5)
        expect(ledgerOverlap(ledger)).toBeLessThanOrEqual(5)
        // the limit was reached, by several processes
        expect(ledgerOverlap(ledger)).toBeGreaterThan(1)
        expect(new Set(ledger.filter((row) => row.kind === "start").map((row) => row.pid)).size).toBeGreaterThan(1)
      }),
    300_000
  )

  it.scopedLive(
    `a slot held by a process killed with SIGKILL frees once its run is taken over, never before (${backend})`,
    () =>
      Effect.gen(function* () {
        const db = yield* makeDatabase(backend)
        const queue = { name: "pair", concurrency: 2 }
        const instance: WorkerInstance = { ...shortLeases, workers: 2, queue }
        const scheduler = yield* parentScheduler(backend, db.url)
        const cluster = yield* makeProcessCluster({
          backend,
          url: db.url,
          label: `queue-kill-${backend}`,
          size: 3,
          instance,
          maxConnections: 2,
          logLevel: "Warning"
        })
        yield* cluster.startAll
        const ids = yield* scheduler.createRuns(
          workIn(queue),
          Array.from({ length: 4 }, (_, n) => ({ n, ms: 1_500 })),
          unlimitedRetries
        )
        // both slots taken: kill a process that holds one, once its heartbeat reported the start (a start
        // not reported yet counts as never started: given back, not taken over)
        const store = yield* parentStore(backend, db.url)
        const { reported } = yield* awaitReportedStarts(cluster, store, { count: 2, running: true })
        const victim = reported[0]!
        const children = yield* Effect.forEach([0, 1, 2], (slot) => cluster.child(slot))
        const slot = children.findIndex((child) => child?.pid === victim.pid)
        const killed = yield* cluster.kill(slot)
        const states = yield* awaitAll(scheduler, ids, 60_000)
        expect(states.filter((state) => state.status !== "succeeded")).toEqual([])
        const ledger = yield* cluster.ledger
        const reap = ledger.find((row) => row.kind === "reap" && row.run_id === victim.run_id)
        expect(reap, "the killed process's run was taken over").toBeDefined()
        // never more than 2 attempts held at once, the killed one counted until its takeover
        expect(ledgerOverlap(ledger)).toBeLessThanOrEqual(2)
        // while the slot was held by the dead process, at most one other attempt started at a time
        const startsWhileHeld = ledger.filter(
          (row) => row.kind === "start" && row.pid !== victim.pid && row.db_at > killed.at && row.db_at < reap!.db_at
        )
        const endsWhileHeld = ledger.filter(
          (row) => row.kind === "end" && row.db_at > killed.at && row.db_at < reap!.db_at
        )
        expect(startsWhileHeld.length).toBeLessThanOrEqual(endsWhileHeld.length + 1)
        // the slot was not leaked: the victim's run ran again and every run finished
        expect(ledger.filter((row) => row.kind === "start" && row.origin_id === victim.origin_id).length).toBe(2)
      }),
    300_000
  )
})
