/**
 * A job that blocks its process's event loop (synchronous CPU work) for longer than the lease, before
 * its instance could report the attempt's start: the other instance takes the run over once the
 * lease expired, first free (as a run that never started), then, when it blocked there too, charged;
 * so it cannot loop for ever. When a loop comes back, the blocked instance's late result is refused
 * by the fence, it lives on, and the run ends once, with the default retry limits.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type Backend, makeDatabase, sqlBackends } from "../support/databases.js"
import { acquireScenarioLock, makeProcessCluster, releaseScenarioLock } from "../support/processes.js"
import { Block, type WorkerInstance } from "./protocol.js"
import {
  awaitAll,
  awaitSeenAfter,
  historyBreaches,
  parentScheduler,
  parentStore,
  report,
  shortLeases
} from "./scenario.js"

beforeAll(acquireScenarioLock, 30 * 60_000)
afterAll(releaseScenarioLock)

const { retriesErrorLimit: _errors, retriesTimeoutLimit: _timeouts, ...withDefaultRetries } = shortLeases
const instance: WorkerInstance = { ...withDefaultRetries, workers: 2 }
const blockMs = 3 * shortLeases.leaseMs

const blockedLoop = (backend: Backend) =>
  Effect.gen(function* () {
    const db = yield* makeDatabase(backend)
    const scheduler = yield* parentScheduler(backend, db.url)
    const cluster = yield* makeProcessCluster({ backend, url: db.url, label: `blocked-${backend}`, size: 2, instance })
    const children = yield* cluster.startAll
    const id = yield* scheduler.createRun(Block, { blockMs })
    const [state] = yield* awaitAll(scheduler, [id], 90_000)
    expect(state!.status).toBe("succeeded")
    expect(yield* historyBreaches(scheduler, [state!])).toEqual([])
    // The first takeover finds no reported start (the loop was blocked before the next heartbeat): the
    // run is given back free, as a buffered one. The next instance's attempt blocks as well; its
    // takeover is charged (one timeout retry, a `lost` attempt), and the next attempt runs through.
    expect(state!.retriesOnTimeoutCount).toBe(1)
    expect((yield* scheduler.getRunHistory(id)).map((attempt) => attempt.outcome)).toEqual(["lost", "succeeded"])
    const ledger = yield* cluster.ledger
    const starts = ledger.filter((row) => row.kind === "start" && row.run_id === id)
    expect(starts.map((row) => row.attempt)).toEqual([1, 1, 2])
    expect(starts[1]!.pid).not.toBe(starts[0]!.pid)
    // accepted: the charged takeover's retry and the last attempt's success; the blocked instances' late results were refused
    expect(
      ledger.filter((row) => row.kind === "settle" && row.run_id === id && row.accepted === 1).map((row) => row.detail)
    ).toEqual(["Retry", "Succeeded"])
    const reap = ledger.find((row) => row.kind === "reap" && row.run_id === id)
    expect(reap).toBeDefined()

    // both blocked instances came back and heart-beat again
    const store = yield* parentStore(backend, db.url)
    for (const blocked of starts.slice(0, 2)) {
      const child = children.find((candidate) => candidate.pid === blocked.pid)!
      yield* awaitSeenAfter(store, child.instanceId, blocked.local_at + blockMs)
    }
    expect(yield* cluster.unexpectedExits).toEqual([])
    yield* report("blocked loop", backend, {
      blockMs,
      leaseMs: shortLeases.leaseMs,
      givenBackAfterMs: starts[1]!.local_at - starts[0]!.local_at,
      chargedAfterMs: reap!.local_at - starts[1]!.local_at,
      lateSettlements: ledger.filter((row) => row.kind === "settle" && row.run_id === id && row.accepted === 0).length
    })
  })

describe("cluster: a job blocks its event loop past the lease", () => {
  for (const backend of sqlBackends) {
    it.scopedLive(
      `blocked loop on ${backend}: taken over after the lease, the late result refused, the instance lives on`,
      () => blockedLoop(backend),
      90_000
    )
  }
})
