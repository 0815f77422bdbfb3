/**
 * Clock skew: four children whose Effect `Clock` is off by -2 min, -45 s, +45 s and +2 min create
 * runs (now, and delayed by up to 3 s) and execute them, some longer than the lease. No run is
 * executed twice or taken over (leases are compared on the database's clock), none starts before
 * it is due, and none starves: every run is due `delay` after it was created (on the database's
 * clock) and starts within seconds of it.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { RunId } from "@jobss/core"
import { Effect } from "effect"
import { type Backend, makeDatabase, sqlBackends } from "../support/databases.js"
import { acquireScenarioLock, makeProcessCluster, releaseScenarioLock, soakScale } from "../support/processes.js"
import type { RunRequest } from "./protocol.js"
import {
  awaitAll,
  between,
  groupByRun,
  historyBreaches,
  parentScheduler,
  report,
  shortLeases,
  stats
} from "./scenario.js"

beforeAll(acquireScenarioLock, 30 * 60_000)
afterAll(releaseScenarioLock)

const offsets = [-120_000, -45_000, 45_000, 120_000]

/**
 * What each child creates: short runs now, runs delayed 0.5-3 s, and two runs longer than the lease
 * (8 workers per child: capacity to spare, so a late start would be starvation, not queueing).
 */
const requests = (slot: number): ReadonlyArray<RunRequest> => [
  ...Array.from({ length: 40 * soakScale }, (_, i) => ({ n: slot * 1000 + i, ms: between(20, 100), delayMs: 0 })),
  ...Array.from({ length: 12 * soakScale }, (_, i) => ({
    n: slot * 1000 + 100 + i,
    ms: 50,
    delayMs: between(500, 3_000)
  })),
  ...Array.from({ length: 2 }, (_, i) => ({ n: slot * 1000 + 200 + i, ms: 3_500, delayMs: 0 }))
]

const skew = (backend: Backend) =>
  Effect.gen(function* () {
    const db = yield* makeDatabase(backend)
    const scheduler = yield* parentScheduler(backend, db.url)
    const cluster = yield* makeProcessCluster({
      backend,
      url: db.url,
      label: `skew-${backend}`,
      size: offsets.length,
      instance: { ...shortLeases, workers: 8 },
      clockOffsets: offsets
    })
    yield* cluster.startAll
    const delays = new Map<string, number>()
    const creator = new Map<string, number>()
    yield* Effect.forEach(
      offsets,
      (_, slot) =>
        Effect.gen(function* () {
          const runs = requests(slot)
          // in batches of 8, like an application creating runs as it goes
          for (let i = 0; i < runs.length; i += 8) {
            const batch = runs.slice(i, i + 8)
            const created = yield* cluster.create(slot, batch)
            created.ids.forEach((id, j) => {
              delays.set(id, batch[j]!.delayMs)
              creator.set(id, slot)
            })
          }
        }),
      { concurrency: "unbounded" }
    )
    const ids = [...delays.keys()].map(RunId.make)
    const states = yield* awaitAll(scheduler, ids, 60_000)
    // the run history, written with each accepted settlement, shows no attempt accepted twice
    expect(yield* historyBreaches(scheduler, states)).toEqual([])
    const ledger = yield* cluster.ledger
    const starts = groupByRun(ledger, "start")

    // Never twice, never taken over.
    expect(states.filter((state) => state.status !== "succeeded")).toEqual([])
    expect([...starts.entries()].filter(([, executions]) => executions.length !== 1).map(([id]) => id)).toEqual([])
    expect(ledger.filter((row) => row.kind === "reap")).toEqual([])

    // Due `delay` after creation on the database's clock, whatever the creator's clock says.
    const dueErrors = states.map(
      (state) => state.runAt.getTime() - state.createdAt.getTime() - delays.get(state.originId)!
    )
    // Started when due: never before, and not long after.
    const lags = states.map((state) => starts.get(state.originId)![0]!.db_at - state.runAt.getTime())
    const due = stats(dueErrors.map(Math.abs))
    const lag = stats(lags)
    const delayedLag = stats(lags.filter((_, i) => delays.get(states[i]!.id)! > 0))
    const bySkew = offsets.map((offset, slot) => ({
      offset,
      created: states.filter((state) => creator.get(state.originId) === slot).length,
      executed: ledger.filter((row) => row.kind === "start" && row.slot === slot).length
    }))
    yield* report("clock-skew", backend, {
      offsets: offsets.map((offset) => offset / 1000).join("/"),
      runs: ids.length,
      duplicates: [...starts.values()].reduce((sum, executions) => sum + executions.length - 1, 0),
      takeovers: ledger.filter((row) => row.kind === "reap").length,
      dueErrorMaxMs: due.max,
      earliestStartMs: Math.min(...lags),
      lagMedianMs: lag.median,
      lagMaxMs: lag.max,
      delayedLagMedianMs: delayedLag.median,
      delayedLagMaxMs: delayedLag.max,
      executedPerInstance: bySkew.map((entry) => entry.executed).join("/")
    })
    expect(due.max).toBeLessThan(1_000)
    expect(Math.min(...lags)).toBeGreaterThanOrEqual(-50)
    expect(lag.max).toBeLessThan(5_000)
    // every instance, whatever its skew, took part
    expect(bySkew.filter((entry) => entry.executed === 0)).toEqual([])
    expect(yield* cluster.unexpectedExits).toEqual([])
  })

describe("cluster: clock skew (children's clocks off by up to 2 minutes)", () => {
  for (const backend of sqlBackends) {
    it.scopedLive(
      `clock skew on ${backend}: instances at -2 min to +2 min neither double-run nor starve runs`,
      () => skew(backend),
      120_000 * soakScale
    )
  }
})
