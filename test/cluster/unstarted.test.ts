/**
 * Runs that never started are charged nothing (#13 defect 5): an instance whose claim-ahead buffer
 * holds claimed runs waiting for a worker is SIGKILLed; another instance takes its claims over. The
 * runs that were only buffered end with their whole retry budget: one attempt in their history,
 * no timeout retry used, nothing recorded for the takeover. Default retry limits (3 and 3).
 */
import { SqlClient } from "@effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { type Backend, makeDatabase } from "../support/databases.js"
import {
  acquireScenarioLock,
  makeProcessCluster,
  parentClientLayer,
  releaseScenarioLock
} from "../support/processes.js"
import type { LedgerRow, WorkerInstance } from "./protocol.js"
import { Work } from "./protocol.js"
import { awaitAll, historyBreaches, parentScheduler, report } from "./scenario.js"

beforeAll(acquireScenarioLock, 30 * 60_000)
afterAll(releaseScenarioLock)

/**
 * Two workers fed by a claim-ahead buffer (short runs make a high completion rate), a heartbeat slow
 * enough that buffered runs are still held when the instance dies, and the default retry limits.
 */
const instance: WorkerInstance = {
  workers: 2,
  pollIntervalMs: 500,
  heartbeatIntervalMs: 2_000,
  leaseMs: 4_000,
  timeoutCheckMs: 500,
  shutdownTimeoutMs: 2_000
}

const runs = 1_500

/** The runs whose job body started in the process `pid`. */
const startedOn = (ledger: ReadonlyArray<LedgerRow>, pid: number): ReadonlySet<string> =>
  new Set(ledger.filter((row) => row.kind === "start" && row.pid === pid).map((row) => row.origin_id))

const killWithBuffer = (backend: Backend) =>
  Effect.gen(function* () {
    const db = yield* makeDatabase(backend)
    const scheduler = yield* parentScheduler(backend, db.url)
    const cluster = yield* makeProcessCluster({
      backend,
      url: db.url,
      label: `unstarted-${backend}`,
      size: 2,
      instance
    })
    const sqlContext = yield* Layer.build(parentClientLayer(backend, db.url))
    const victim = yield* cluster.start(0)
    const ids = yield* scheduler.createRuns(
      Work,
      Array.from({ length: runs }, (_, n) => ({ n, ms: 2 }))
    )
    // the runs the victim holds now: at most `workers` of them are executing, the rest are buffered
    const held = Effect.provide(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) =>
          sql<{ readonly origin_id: string }>`SELECT origin_id FROM jobss_runs
            WHERE status = 'running' AND started_by = ${victim.instanceId}`
      ),
      sqlContext
    )
    // Killed while it holds more runs than its workers, some it never started (its claim-ahead buffer).
    // What it holds also counts runs started and not settled yet, so the buffer is read with the victim
    // stopped (SIGSTOP: its workers cannot start a buffered run between the read and the kill), once
    // the ledger rows it sent before have landed; with none buffered, the victim goes on and is
    // stopped again later.
    const deadline = Date.now() + 30_000
    let heldAtKill: ReadonlyArray<string> = []
    for (;;) {
      expect(Date.now(), "the victim never held a claim-ahead buffer").toBeLessThan(deadline)
      if ((yield* held).length <= instance.workers + 4) {
        yield* Effect.sleep("5 millis")
        continue
      }
      yield* cluster.freeze(0)
      yield* Effect.sleep("100 millis")
      heldAtKill = (yield* held).map((row) => row.origin_id)
      const started = startedOn(yield* cluster.ledger, victim.pid)
      if (heldAtKill.some((id) => !started.has(id))) break
      yield* cluster.thaw(0)
      yield* Effect.sleep("20 millis")
    }
    yield* cluster.kill(0)
    // the survivor starts after the kill: it takes the victim's claims over once their lease expires
    yield* cluster.start(1)
    const states = yield* awaitAll(scheduler, ids, 120_000)
    expect(yield* historyBreaches(scheduler, states)).toEqual([])
    expect(states.filter((state) => state.status !== "succeeded")).toEqual([])

    // buffered at the kill: held by the victim, and its job body never started there
    const startedOnVictim = startedOn(yield* cluster.ledger, victim.pid)
    const buffered = heldAtKill.filter((id) => !startedOnVictim.has(id))
    expect(buffered.length).toBeGreaterThan(0)
    const byId = new Map(states.map((state) => [state.originId as string, state]))
    const charged: Array<string> = []
    for (const id of buffered) {
      const history = yield* scheduler.getRunHistory(byId.get(id)!.originId)
      const state = byId.get(id)!
      if (
        history.map((attempt) => attempt.outcome).join(",") !== "succeeded" ||
        state.runTotalCount !== 1 ||
        state.retriesOnTimeoutCount !== 0
      ) {
        charged.push(
          `${id}: ${history.map((attempt) => `${attempt.outcome}#${attempt.attempt}`).join(",")} ` +
            `total=${state.runTotalCount} timeoutRetries=${state.retriesOnTimeoutCount}`
        )
      }
    }
    expect(charged).toEqual([])
    // executing at the kill: its start was not reported yet either (the heartbeat is 2 s), so it counts
    // as never started too (docs/STORE.md)
    const executing = heldAtKill.filter((id) => startedOnVictim.has(id))
    const executingCharged = yield* Effect.forEach(executing, (id) =>
      Effect.map(scheduler.getRunHistory(byId.get(id)!.originId), (history) =>
        history.some((attempt) => attempt.outcome === "lost" || attempt.outcome === "timedOut")
      )
    )
    yield* report("unstarted", backend, {
      runs,
      heldAtKill: heldAtKill.length,
      buffered: buffered.length,
      executing: executing.length,
      executingCharged: executingCharged.filter(Boolean).length,
      lostAttempts: (yield* Effect.forEach(states, (state) => scheduler.getRunHistory(state.originId)))
        .flat()
        .filter((attempt) => attempt.outcome === "lost" || attempt.outcome === "timedOut").length
    })
    expect(yield* cluster.unexpectedExits).toEqual([])
  })

describe("cluster: a killed instance's buffered runs are given back uncharged", () => {
  for (const backend of ["sqlite", "postgres", "mariadb"] as const) {
    it.scopedLive(
      `${backend}: a SIGKILLed instance's claim-ahead buffer ends with every retry left and one attempt recorded`,
      () => killWithBuffer(backend),
      180_000
    )
  }
})
