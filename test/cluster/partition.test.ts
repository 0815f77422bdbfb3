/**
 * Network faults of one instance alone, through a TCP proxy in front of its store's connections
 * (its ledger writes go straight to the database, so the test sees everything it does):
 *
 * - **Cut off**: the proxy is severed while the child runs long jobs. Its attempts stop by
 *   themselves before their lease can expire (the lease guard), so the other child, which takes
 *   the runs over after the lease, never runs one at the same time; once the network is back the
 *   cut-off child heart-beats again and no run was lost or completed twice.
 * - **SIGTERM with a request on the wire**: the proxy holds the database's answers (a stalled
 *   network: the requests reach the database and commit there) while the child is told to stop.
 *   Once the answers come, the child shuts down, and at its exit it holds no run: nothing is left
 *   for the reaper, no attempt is used up.
 *
 * PostgreSQL and MariaDB: an SQLite store is a file in the same process, with no network between
 * (its cut-off case is the frozen lock holder of freeze.test.ts and the SQLite write-lock test).
 */
import { SqlClient } from "@effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer } from "effect"
import { makeDatabase } from "../support/databases.js"
import {
  type ProcessCluster,
  acquireScenarioLock,
  makeProcessCluster,
  parentClientLayer,
  releaseScenarioLock
} from "../support/processes.js"
import * as TcpProxy from "../support/tcpProxy.js"
import { type LedgerRow, Work } from "./protocol.js"
import {
  awaitAll,
  awaitReportedStarts,
  awaitSeenAfter,
  between,
  historyBreaches,
  parentScheduler,
  parentStore,
  report,
  shortLeases,
  stats,
  unlimitedRetries
} from "./scenario.js"

beforeAll(acquireScenarioLock, 30 * 60_000)
afterAll(releaseScenarioLock)

const workers = 4
const leaseMs = shortLeases.leaseMs

/** Waits until `test` holds for the ledger. */
const ledgerUntil = (cluster: ProcessCluster, test: (ledger: ReadonlyArray<LedgerRow>) => boolean) =>
  Effect.gen(function* () {
    while (!test(yield* cluster.ledger)) yield* Effect.sleep("50 millis")
  }).pipe(Effect.timeout("30 seconds"))

/** Two children on one database; the store of slot 0 connects through a proxy. */
const proxiedCluster = (backend: "postgres" | "mariadb", label: string) =>
  Effect.gen(function* () {
    const db = yield* makeDatabase(backend)
    const scheduler = yield* parentScheduler(backend, db.url)
    const proxy = yield* TcpProxy.make(db.url)
    const cluster = yield* makeProcessCluster({
      backend,
      url: db.url,
      storeUrls: [proxy.url],
      label: `${label}-${backend}`,
      size: 2,
      instance: { ...shortLeases, workers }
    })
    const [proxied, direct] = yield* cluster.startAll
    return { db, scheduler, proxy, cluster, proxied: proxied!, direct: direct! }
  })

const cutOff = (backend: "postgres" | "mariadb") =>
  Effect.gen(function* () {
    const { db, scheduler, proxy, cluster, proxied, direct } = yield* proxiedCluster(backend, "partition")
    // long runs, so the proxied child is in the middle of some when it is cut off
    const ids = yield* scheduler.createRuns(
      Work,
      Array.from({ length: 4 * workers }, (_, n) => ({ n, ms: between(3_000, 4_000) })),
      unlimitedRetries
    )
    // its heartbeat reported two starts (a start not reported yet would be given back, not taken over)
    const store = yield* parentStore(backend, db.url)
    yield* awaitReportedStarts(cluster, store, {
      count: 2,
      select: (row) => row.pid === proxied.pid,
      running: true
    })
    const cutAt = Date.now()
    yield* proxy.sever
    yield* Effect.sleep(3 * leaseMs)
    const restoredAt = Date.now()
    yield* proxy.restore

    const states = yield* awaitAll(scheduler, ids, 90_000)
    expect(yield* historyBreaches(scheduler, states)).toEqual([])
    expect(states.filter((state) => state.status !== "succeeded")).toEqual([])
    const ledger = yield* cluster.ledger
    const own = ledger.filter((row) => row.pid === proxied.pid)

    // what the cut-off child was executing when it was cut off
    const runningAtCut = own.filter(
      (start) =>
        start.kind === "start" &&
        start.local_at < cutAt &&
        !own.some(
          (end) =>
            end.origin_id === start.origin_id &&
            (end.kind === "end" || end.kind === "interrupted") &&
            end.seq > start.seq &&
            end.local_at < cutAt
        )
    )
    expect(runningAtCut.length).toBeGreaterThan(0)
    const stoppedAfter: Array<number> = []
    const rerunAfter: Array<number> = []
    let rerunByCutOff = 0
    for (const start of runningAtCut) {
      const stop = own.find(
        (row) =>
          row.origin_id === start.origin_id && row.seq > start.seq && (row.kind === "end" || row.kind === "interrupted")
      )
      // it ended or was stopped before the lease it last renewed (before the cut) could expire
      expect(stop, `the attempt of ${start.origin_id} cut off at ${cutAt} never stopped`).toBeDefined()
      expect(stop!.local_at).toBeLessThan(cutAt + leaseMs)
      stoppedAfter.push(stop!.local_at - cutAt)
      // and the run started again only after that: never two at once. Usually the other child reruns
      // it; when that child's workers are busy, the cut-off child, back on the network, may be first.
      const rerun = ledger.find(
        (row) => row.kind === "start" && row.origin_id === start.origin_id && row.seq > start.seq
      )
      if (rerun !== undefined) {
        expect(rerun.local_at).toBeGreaterThanOrEqual(stop!.local_at)
        rerunAfter.push(rerun.local_at - cutAt)
        if (rerun.pid === proxied.pid) rerunByCutOff++
      }
    }
    expect(rerunAfter.length).toBeGreaterThan(0)
    // taken over by the other child's reaper once the lease expired
    const takenOverAfter = ledger
      .filter(
        (row) =>
          row.kind === "reap" &&
          row.pid === direct.pid &&
          runningAtCut.some((start) => start.origin_id === row.origin_id)
      )
      .map((row) => row.local_at - cutAt)
    expect(takenOverAfter.length).toBeGreaterThan(0)
    expect(Math.min(...takenOverAfter)).toBeGreaterThanOrEqual(Math.max(...stoppedAfter))
    // while cut off, it started nothing once a lease of its could have expired
    expect(
      own.filter((row) => row.kind === "start" && row.local_at >= cutAt + leaseMs && row.local_at < restoredAt)
    ).toEqual([])

    // back on the network, it heart-beats again
    yield* awaitSeenAfter(store, proxied.instanceId, restoredAt)
    expect(yield* cluster.unexpectedExits).toEqual([])
    const stopped = stats(stoppedAfter)
    const takenOver = stats(takenOverAfter)
    yield* report("partition", backend, {
      runs: ids.length,
      runningAtCut: runningAtCut.length,
      stoppedMaxMs: stopped.max,
      leaseMs,
      takeoverMedianMs: takenOver.median,
      takeoverMaxMs: takenOver.max,
      rerunMedianMs: stats(rerunAfter).median,
      rerunByCutOff
    })
  })

const termWhileHeld = (backend: "postgres" | "mariadb") =>
  Effect.gen(function* () {
    const { db, scheduler, proxy, cluster, proxied } = yield* proxiedCluster(backend, "term-on-wire")
    const sql = Context.get(yield* Layer.build(parentClientLayer(backend, db.url)), SqlClient.SqlClient)
    // a steady stream of short runs: both children claim and settle all the time
    const ids = yield* scheduler.createRuns(
      Work,
      Array.from({ length: 600 }, (_, n) => ({ n, ms: between(20, 60) })),
      unlimitedRetries
    )
    yield* ledgerUntil(
      cluster,
      (ledger) => ledger.filter((row) => row.kind === "start" && row.pid === proxied.pid).length >= 20
    )
    yield* proxy.hold
    yield* Effect.sleep("250 millis")
    const terminating = yield* Effect.fork(cluster.terminate(0, "20 seconds"))
    yield* Effect.sleep("400 millis")
    // requests were on their way (a claim among them: the child claims as often as it can) when it was told to stop
    const sentWhileHeld = proxy.sentWhileHeld()
    expect(sentWhileHeld).toBeGreaterThan(0)
    yield* proxy.release
    const { exit, millis } = yield* Fiber.join(terminating)
    expect(exit.code).toBe(0)
    // at its exit it holds no run: nothing waits for a lease to expire
    const [held] = yield* sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM jobss_runs
      WHERE status = 'running' AND started_by = ${proxied.instanceId}`
    expect(Number(held?.n)).toBe(0)

    const states = yield* awaitAll(scheduler, ids, 90_000)
    expect(yield* historyBreaches(scheduler, states)).toEqual([])
    expect(states.filter((state) => state.status !== "succeeded")).toEqual([])
    // nothing taken over, no attempt used up
    const ledger = yield* cluster.ledger
    expect(ledger.filter((row) => row.kind === "reap")).toEqual([])
    expect(
      states
        .filter((state) => state.runTotalCount !== 1 || state.retriesOnTimeoutCount !== 0)
        .map((state) => state.originId)
    ).toEqual([])
    expect(yield* cluster.unexpectedExits).toEqual([])
    yield* report("term-on-wire", backend, { runs: ids.length, sentWhileHeld, exitMs: millis })
  })

describe("cluster: one instance's network fails", () => {
  for (const backend of ["postgres", "mariadb"] as const) {
    it.scopedLive(
      `cut off on ${backend}: its attempts stop before their lease expires, the other instance runs them after`,
      () => cutOff(backend),
      120_000
    )
    it.scopedLive(
      `SIGTERM with its answers held on ${backend}: it exits holding no run, nothing is taken over`,
      () => termWhileHeld(backend),
      120_000
    )
  }
})
