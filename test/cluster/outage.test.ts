/**
 * Database outage: the test starts its own PostgreSQL / MariaDB server, runs a cluster on it, and
 * restarts the server (stop, a few seconds down, start on the same port and data folder) while
 * runs are in flight. The instances log the failures, keep running, reconnect, and every run
 * completes; a run executes twice only if it was in flight while the database was away.
 */
import { readFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  acquireScenarioLock,
  makeProcessCluster,
  releaseScenarioLock,
  soakScale,
  startServer
} from "../support/processes.js"
import { Work } from "./protocol.js"
import {
  awaitAll,
  between,
  groupByRun,
  historyBreaches,
  parentScheduler,
  report,
  shortLeases,
  unlimitedRetries
} from "./scenario.js"

beforeAll(acquireScenarioLock, 30 * 60_000)
afterAll(releaseScenarioLock)

const processes = 3
const runs = 2_000 * soakScale
const downMs = 3_000 * soakScale

const outage = (backend: "postgres" | "mariadb") =>
  Effect.gen(function* () {
    const server = yield* startServer(backend)
    const scheduler = yield* parentScheduler(backend, server.url)
    const cluster = yield* makeProcessCluster({
      backend,
      url: server.url,
      label: `outage-${backend}`,
      size: processes,
      instance: { ...shortLeases, workers: 8 }
    })
    const children = yield* cluster.startAll
    const ids = (yield* Effect.forEach([0, 1, 2, 3], (part) =>
      scheduler.createRuns(
        Work,
        Array.from({ length: runs / 4 }, (_, n) => ({ n: part * runs + n, ms: between(20, 80) })),
        unlimitedRetries
      )
    )).flat()

    // Restart the server once work is well under way.
    yield* Effect.gen(function* () {
      while ((yield* cluster.ledger).filter((row) => row.kind === "start").length < runs / 5) {
        yield* Effect.sleep("100 millis")
      }
    }).pipe(Effect.timeout("60 seconds"))
    const downAt = Date.now()
    yield* server.stop
    const stoppedMs = Date.now() - downAt
    yield* Effect.sleep(downMs)
    yield* server.start
    const upAt = Date.now()

    const states = yield* awaitAll(scheduler, ids, 90_000 * soakScale)

    // the run history, written with each accepted settlement, shows no attempt accepted twice

    expect(yield* historyBreaches(scheduler, states)).toEqual([])
    const finishedAfterUpMs = Date.now() - upAt
    const ledger = yield* cluster.ledger
    const starts = groupByRun(ledger, "start")

    // Nothing lost or stuck; the children survived the outage.
    expect(states.filter((state) => state.status !== "succeeded")).toEqual([])
    expect(ids.filter((id) => !starts.has(id))).toEqual([])
    expect(yield* cluster.unexpectedExits).toEqual([])

    // A run executed twice only when an execution overlapped the outage. (`local_at`: when the
    // execution started; its ledger row may only have been written once the database was back.)
    let duplicates = 0
    const unexplained: Array<string> = []
    for (const [id, executions] of starts) {
      duplicates += executions.length - 1
      for (const execution of executions.slice(0, -1)) {
        if (execution.local_at > upAt) {
          unexplained.push(`${id}: attempt ${execution.attempt} started after the outage, and was repeated`)
        }
      }
    }
    expect(unexplained).toEqual([])
    // At most one outcome recorded per run.
    const successes = groupByRun(
      ledger.filter((row) => row.detail === "Succeeded" && row.accepted === 1),
      "settle"
    )
    expect([...successes.values()].filter((rows) => rows.length > 1)).toEqual([])

    // The instances said what happened.
    const warnings = children
      .flatMap((child) => readFileSync(child.logFile, "utf8").split("\n"))
      .filter((line) => /level=(WARN|ERROR)/.test(line))
    const reaps = ledger.filter((row) => row.kind === "reap")
    const resumed = ledger.find((row) => row.kind === "start" && row.local_at > upAt)
    yield* report("outage", backend, {
      runs,
      downMs: stoppedMs + downMs,
      duplicates,
      takeovers: reaps.length,
      // taken over by the very instance still executing them (its heartbeat had not renewed the lease yet)
      selfTakeovers: reaps.filter(
        (reap) =>
          (starts.get(reap.origin_id) ?? []).filter((row) => row.seq < reap.seq).at(-1)?.instance === reap.instance
      ).length,
      resumedAfterMs: resumed === undefined ? -1 : resumed.local_at - upAt,
      completedDuringOutageDiscarded: ledger.filter(
        (row) => row.kind === "settle" && row.accepted === 0 && row.detail === "Succeeded"
      ).length,
      finishedAfterUpMs,
      warningsLogged: warnings.length
    })
    expect(warnings.length).toBeGreaterThan(0)
  })

describe("cluster: database outage (server restarted during work)", () => {
  for (const backend of ["postgres", "mariadb"] as const) {
    it.scopedLive(
      `outage on ${backend}: the server restarts while runs are in flight; nothing lost or stuck`,
      () => outage(backend),
      180_000 * soakScale
    )
  }
})
