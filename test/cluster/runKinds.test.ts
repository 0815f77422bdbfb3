/**
 * Run kinds under crashes, with the default retry limits (3 and 3; the other scenarios use unlimited
 * ones): one-off runs, recurring runs, recurring unique runs, and cancels racing completion, while a
 * random child is SIGKILLed every 1.5-3 s and restarted (so some takeovers land on occurrences whose
 * next-occurrence settlement was under way). One-off runs keep coming until the second kill, so that
 * kills always land on work in flight. The run history oracle (`historyBreaches`) must find
 * nothing, and every kind must end as its contract says.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { RunHistory, RunId, RunState } from "@jobss/core"
import { Effect, Fiber } from "effect"
import { type Backend, makeDatabase } from "../support/databases.js"
import { acquireScenarioLock, makeProcessCluster, releaseScenarioLock } from "../support/processes.js"
import { Every, Work, type WorkerInstance } from "./protocol.js"
import { awaitAll, between, historyBreaches, killAndRestart, parentScheduler, report, shortLeases } from "./scenario.js"

beforeAll(acquireScenarioLock, 30 * 60_000)
afterAll(releaseScenarioLock)

/** The short leases of the other scenarios, with the instance's default retry limits. */
const { retriesErrorLimit: _e, retriesTimeoutLimit: _t, ...defaultLimits } = shortLeases
const instance: WorkerInstance = { ...defaultLimits, workers: 4 }

const oneOffs = 300
const recurring = 20
const recurringLimit = 4
const uniques = 10
const uniqueLimit = 3
const cancels = 60
/** One-off runs created every 200 ms after the others, until the second kill. */
const fedBatch = 20

/** The occurrences of a run's history that ended succeeded, by occurrence number. */
const succeededOccurrences = (history: ReadonlyArray<RunHistory.RunAttempt>): Array<number> =>
  history.filter((attempt) => attempt.outcome === "succeeded").map((attempt) => attempt.occurrence)

const runKinds = (backend: Backend) =>
  Effect.gen(function* () {
    const db = yield* makeDatabase(backend)
    const scheduler = yield* parentScheduler(backend, db.url)
    const cluster = yield* makeProcessCluster({ backend, url: db.url, label: `kinds-${backend}`, size: 3, instance })
    yield* cluster.startAll
    const killer = yield* killAndRestart(cluster, 1_500, 3_000)

    // created first, so their attempts run (and end) while the cancels come
    const cancelIds = yield* scheduler.createRuns(
      Work,
      Array.from({ length: cancels }, (_, n) => ({ n, ms: between(100, 300) }))
    )
    // each cancel at a random moment: before its start, during its attempt, or racing its settlement
    const cancelling = yield* Effect.forEach(
      cancelIds,
      (id) => Effect.zipRight(Effect.sleep(between(0, 1_200)), Effect.either(scheduler.cancelRun(id))),
      { concurrency: "unbounded" }
    ).pipe(Effect.fork)

    const oneOffIds = yield* scheduler.createRuns(
      Work,
      Array.from({ length: oneOffs }, (_, n) => ({ n, ms: between(5, 50) }))
    )
    const recurringIds = yield* Effect.forEach(Array.from({ length: recurring }), (_, n) =>
      scheduler.createRun(Work, { n, ms: between(20, 60) }, { schedule: Every, limit: recurringLimit })
    )
    const uniqueNames = Array.from({ length: uniques }, (_, n) => `kinds-unique-${n}`)
    const uniqueIds = yield* Effect.forEach(uniqueNames, (unique, n) =>
      scheduler.createRun(Work, { n, ms: between(20, 60) }, { schedule: Every, limit: uniqueLimit, unique })
    )
    // while active, the name is held: a second create returns the holder's id
    const again = yield* Effect.forEach(uniqueNames, (unique, n) =>
      scheduler.createRun(Work, { n, ms: 1 }, { schedule: Every, limit: uniqueLimit, unique })
    )
    // more one-offs until the killer has struck twice: the kills land on runs in flight however quickly
    // the machine gets through the rest (on a fast one it could all end before the first kill)
    const killsSoFar = Effect.map(cluster.events, (events) => events.filter((event) => event.action === "kill").length)
    const fedIds: Array<RunId.RunId> = []
    yield* Effect.gen(function* () {
      while ((yield* killsSoFar) < 2) {
        const n = oneOffs + fedIds.length
        const batch = Array.from({ length: fedBatch }, (_, k) => ({ n: n + k, ms: between(5, 50) }))
        fedIds.push(...(yield* scheduler.createRuns(Work, batch)))
        yield* Effect.sleep("200 millis")
      }
    }).pipe(
      Effect.timeoutFail({
        duration: "60 seconds",
        onTimeout: () => new Error("the killer struck fewer than 2 times in 60 s")
      })
    )
    const cancelResults = yield* Fiber.join(cancelling)
    const all: ReadonlyArray<RunId.RunId> = [...oneOffIds, ...fedIds, ...recurringIds, ...uniqueIds, ...cancelIds]
    const states = yield* awaitAll(scheduler, all, 120_000)
    yield* Fiber.interrupt(killer)
    expect(yield* historyBreaches(scheduler, states)).toEqual([])
    const byId = new Map<string, RunState.RunState>(states.map((state) => [state.originId, state]))
    const historyOf = (id: RunId.RunId) => scheduler.getRunHistory(id)

    expect(again).toEqual(uniqueIds)
    expect(cancelResults.filter((result) => result._tag === "Left")).toEqual([])
    // one-off runs: succeeded, within their retry budget
    expect(
      [...oneOffIds, ...fedIds].map((id) => byId.get(id)!).filter((state) => state.status !== "succeeded")
    ).toEqual([])
    // recurring runs: every occurrence succeeded exactly once, up to the limit
    const wrongRecurring: Array<string> = []
    for (const [ids, limit] of [
      [recurringIds, recurringLimit],
      [uniqueIds, uniqueLimit]
    ] as const) {
      for (const id of ids) {
        const state = byId.get(id)!
        const occurrences = succeededOccurrences(yield* historyOf(id))
        const expected = Array.from({ length: limit }, (_, n) => n)
        if (state.status !== "succeeded" || state.runSuccessCount !== limit || `${occurrences}` !== `${expected}`) {
          wrongRecurring.push(`${id}: ${state.status} successes=${state.runSuccessCount} occurrences=${occurrences}`)
        }
      }
    }
    expect(wrongRecurring).toEqual([])
    // the unique names are free once their runs ended
    const fresh = yield* Effect.forEach(uniqueNames, (unique, n) => scheduler.createRun(Work, { n, ms: 1 }, { unique }))
    expect(fresh.filter((id) => uniqueIds.includes(id))).toEqual([])
    // cancels: the run ended cancelled (nothing recorded after the cancelled attempt) or had already succeeded
    const cancelBreaches: Array<string> = []
    let cancelled = 0
    for (const id of cancelIds) {
      const state = byId.get(id)!
      const outcomes = (yield* historyOf(id)).map((attempt) => attempt.outcome)
      if (state.status === "cancelled") {
        cancelled += 1
        const at = outcomes.indexOf("cancelled")
        if (at >= 0 && at !== outcomes.length - 1) cancelBreaches.push(`${id}: ${outcomes} (attempts after the cancel)`)
      } else if (state.status !== "succeeded") {
        cancelBreaches.push(`${id}: ${state.status} ${outcomes}`)
      }
    }
    expect(cancelBreaches).toEqual([])

    const ledger = yield* cluster.ledger
    const recurringSet = new Set<string>([...recurringIds, ...uniqueIds])
    const events = yield* cluster.events
    const kills = events.filter((event) => event.action === "kill").length
    yield* report("kinds", backend, {
      runs: all.length,
      kills,
      takeovers: ledger.filter((row) => row.kind === "reap").length,
      recurringTakeovers: ledger.filter((row) => row.kind === "reap" && recurringSet.has(row.origin_id)).length,
      cancelled,
      cancelsTooLate: cancels - cancelled
    })
    expect(kills).toBeGreaterThan(0)
    expect(cancelled).toBeGreaterThan(0)
    expect(yield* cluster.unexpectedExits).toEqual([])
  })

describe("cluster: run kinds under crashes, default retry limits", () => {
  for (const backend of ["sqlite", "postgres", "mariadb"] as const) {
    it.scopedLive(
      `${backend}: one-off, recurring, recurring unique and cancelled runs while a process is SIGKILLed every 1.5-3 s`,
      () => runKinds(backend),
      180_000
    )
  }
})
