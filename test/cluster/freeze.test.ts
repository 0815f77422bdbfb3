/**
 * Freeze: a child holding runs is SIGSTOPped past its lease; the others take its runs over and
 * complete them; once SIGCONT resumes it, its late results are rejected by the fence (or its job
 * fibers are interrupted when its heartbeat learns the claims are lost), and the ledger shows each
 * run completed exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type Backend, makeDatabase, sqlBackends } from "../support/databases.js"
import { acquireScenarioLock, makeProcessCluster, releaseScenarioLock } from "../support/processes.js"
import { Work } from "./protocol.js"
import {
  awaitAll,
  awaitReportedStarts,
  groupByRun,
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

const processes = 3
const workers = 4
const frozenForMs = 6_000

const freeze = (backend: Backend) =>
  Effect.gen(function* () {
    const db = yield* makeDatabase(backend)
    const scheduler = yield* parentScheduler(backend, db.url)
    const cluster = yield* makeProcessCluster({
      backend,
      url: db.url,
      label: `freeze-${backend}`,
      size: processes,
      instance: { ...shortLeases, workers }
    })
    const children = yield* cluster.startAll
    // As many runs as workers: half end 2.5 s after they start (their timers expire during the
    // freeze: a late result), half after 9 s (still running at SIGCONT: interrupted).
    const ids = yield* scheduler.createRuns(
      Work,
      Array.from({ length: processes * workers }, (_, n) => ({ n, ms: n % 2 === 0 ? 2_500 : 9_000 })),
      unlimitedRetries
    )

    // Freeze the child that holds the most runs once every run has started, and its heartbeat has
    // reported the start (a start not reported yet counts as never started: given back, not taken over).
    const store = yield* parentStore(backend, db.url)
    const holding = (yield* awaitReportedStarts(cluster, store, { count: ids.length })).reported
    const counts = children.map((child) => holding.filter((row) => row.pid === child.pid).length)
    const slot = counts.indexOf(Math.max(...counts))
    const frozen = children[slot]!
    const frozenAt = (yield* cluster.freeze(slot)).at
    // What it holds: runs it started and had not finished when it froze.
    const atFreeze = (yield* cluster.ledger).filter((row) => row.pid === frozen.pid)
    const finished = new Set(atFreeze.filter((row) => row.kind === "end").map((row) => row.origin_id))
    // the attempt of each run it held (once thawed it may claim a run again: a later attempt, not a late one)
    const heldAttempt = new Map(
      atFreeze
        .filter((row) => row.kind === "start" && !finished.has(row.origin_id))
        .map((row) => [row.origin_id, row.attempt] as const)
    )
    const held = [...heldAttempt.keys()]
    yield* Effect.sleep(frozenForMs)
    yield* cluster.thaw(slot)

    const states = yield* awaitAll(scheduler, ids, 60_000)

    // the run history, written with each accepted settlement, shows no attempt accepted twice
    expect(yield* historyBreaches(scheduler, states)).toEqual([])
    yield* Effect.sleep("2 seconds") // let the thawed child act on its stale runs
    const ledger = yield* cluster.ledger

    // Every run completed exactly once (one accepted success).
    expect(states.map((state) => state.status)).toEqual(ids.map(() => "succeeded"))
    const successes = groupByRun(
      ledger.filter((row) => row.detail === "Succeeded" && row.accepted === 1),
      "settle"
    )
    expect(ids.filter((id) => successes.get(id)?.length !== 1)).toEqual([])
    expect(held.length).toBeGreaterThan(0)
    // each run it held succeeded in a later attempt than the frozen one: its late result was not the one kept
    expect(
      states
        .filter((state) => held.includes(state.originId) && state.runTotalCount <= heldAttempt.get(state.originId)!)
        .map((state) => state.originId)
    ).toEqual([])

    // After SIGCONT: whatever the frozen child tried to record of its stale attempts was refused; the rest
    // was interrupted. A run it claimed again after the thaw is a later attempt, settled as any other.
    const fromFrozen = ledger.filter((row) => row.pid === frozen.pid && held.includes(row.origin_id))
    const claimedAgain = new Set(
      fromFrozen
        .filter((row) => row.kind === "start" && row.attempt > heldAttempt.get(row.origin_id)!)
        .map((row) => row.origin_id)
    )
    const acceptedLate = fromFrozen.filter(
      (row) => row.kind === "settle" && row.accepted === 1 && !claimedAgain.has(row.origin_id)
    )
    expect(acceptedLate).toEqual([])
    const stale = fromFrozen.filter((row) => row.attempt === 0 || row.attempt === heldAttempt.get(row.origin_id))
    const rejected = new Set(
      stale.filter((row) => row.kind === "settle" && row.accepted === 0).map((row) => row.origin_id)
    )
    const interrupted = new Set(stale.filter((row) => row.kind === "interrupted").map((row) => row.origin_id))
    const lateResults = new Set(stale.filter((row) => row.kind === "end").map((row) => row.origin_id))
    expect(held.filter((id) => !rejected.has(id) && !interrupted.has(id))).toEqual([])

    const reaps = ledger.filter((row) => row.kind === "reap" && held.includes(row.origin_id))
    const takeover = stats(reaps.map((row) => row.db_at - frozenAt))
    const restarted = stats(
      held.flatMap((id) => {
        const again = ledger.find(
          (row) => row.kind === "start" && row.origin_id === id && row.attempt > heldAttempt.get(id)!
        )
        return again === undefined ? [] : [again.db_at - frozenAt]
      })
    )
    yield* report("freeze", backend, {
      held: held.length,
      frozenMs: frozenForMs,
      takeoverMedianMs: takeover.median,
      takeoverMaxMs: takeover.max,
      rerunMaxMs: restarted.max,
      lateResults: lateResults.size,
      lateRejected: rejected.size,
      interrupted: interrupted.size,
      claimedAgainByFrozen: claimedAgain.size,
      completedTwice: ids.filter((id) => (successes.get(id)?.length ?? 0) > 1).length
    })
    expect(reaps.length).toBe(held.length)
    expect(yield* cluster.unexpectedExits).toEqual([])
  })

describe("cluster: freeze (SIGSTOP past the lease, then SIGCONT)", () => {
  for (const backend of sqlBackends) {
    it.scopedLive(
      `freeze on ${backend}: a frozen process's runs are taken over and its late results rejected`,
      () => freeze(backend),
      120_000
    )
  }
})
