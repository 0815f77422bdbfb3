/**
 * A job that blocks its process's event loop (synchronous CPU work) for longer than the lease: its
 * instance cannot heart-beat, so the other instance takes the run over once the lease expired and
 * runs it again; when the loop comes back, the blocked instance's late result is refused by the
 * fence, it lives on, and the run ends once, with the default retry limits (the takeover uses up
 * one timeout retry).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type Backend, makeDatabase, sqlBackends } from "../support/databases.js"
import { acquireScenarioLock, makeProcessCluster, releaseScenarioLock } from "../support/processes.js"
import { Block, type WorkerInstance } from "./protocol.js"
import { awaitAll, historyBreaches, parentScheduler, parentStore, report, shortLeases } from "./scenario.js"

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
    const first = yield* Effect.gen(function* () {
      for (;;) {
        const start = (yield* cluster.ledger).find((row) => row.kind === "start" && row.origin_id === id)
        if (start !== undefined) return start
        yield* Effect.sleep("50 millis")
      }
    }).pipe(Effect.timeout("30 seconds"))
    const blocked = children.find((child) => child.pid === first.pid)!
    const other = children.find((child) => child.pid !== first.pid)!

    const [state] = yield* awaitAll(scheduler, [id], 60_000)
    expect(state!.status).toBe("succeeded")
    expect(yield* historyBreaches(scheduler, [state!])).toEqual([])
    // taken over from the blocked instance (one timeout retry used), then run by the other one
    expect(state!.runStartedBy).toBe(other.instanceId)
    expect(state!.retriesOnTimeoutCount).toBe(1)
    expect((yield* scheduler.getRunHistory(id)).map((attempt) => attempt.outcome)).toEqual(["lost", "succeeded"])

    // the blocked instance comes back: its attempt ended, its late result refused, and it heart-beats again
    const unblockedAt = first.local_at + blockMs
    const store = yield* parentStore(backend, db.url)
    yield* Effect.gen(function* () {
      for (;;) {
        const row = (yield* store.instances).find((candidate) => candidate.id === blocked.instanceId)
        if (row !== undefined && row.lastSeenAt > unblockedAt) return
        yield* Effect.sleep("200 millis")
      }
    }).pipe(Effect.timeout("20 seconds"))
    const ledger = yield* cluster.ledger
    const own = ledger.filter((row) => row.pid === blocked.pid && row.run_id === id)
    expect(own.filter((row) => row.kind === "end").map((row) => row.attempt)).toEqual([1])
    expect(own.filter((row) => row.kind === "settle" && row.accepted === 1)).toEqual([])
    const reap = ledger.find((row) => row.kind === "reap" && row.pid === other.pid && row.run_id === id)
    expect(reap).toBeDefined()
    expect(yield* cluster.unexpectedExits).toEqual([])
    yield* report("blocked loop", backend, {
      blockMs,
      leaseMs: shortLeases.leaseMs,
      takenOverAfterMs: reap!.local_at - first.local_at,
      lateSettlements: own.filter((row) => row.kind === "settle").length
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
