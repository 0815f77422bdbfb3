/**
 * Graceful stop: SIGTERM during work. The child closes its JobsS scope: it stops claiming, lets
 * its runs finish for up to `shutdownTimeout`, interrupts the rest and hands them back (pending,
 * no attempt used up), then exits 0. Another instance runs what was handed back; no run is taken
 * over by the reaper, and no run has used up an attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type Backend, makeDatabase, sqlBackends } from "../support/databases.js"
import {
  type ChildInfo,
  type ProcessCluster,
  acquireScenarioLock,
  makeProcessCluster,
  releaseScenarioLock
} from "../support/processes.js"
import type { LedgerRow } from "./protocol.js"
import { Work } from "./protocol.js"
import {
  awaitAll,
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
const shutdownTimeoutMs = 1_000

/** Waits until the child has at least `count` runs in flight (started, not ended). */
const inFlight = (cluster: ProcessCluster, child: ChildInfo, count: number) =>
  Effect.gen(function* () {
    for (;;) {
      const rows = (yield* cluster.ledger).filter((row) => row.pid === child.pid)
      const ended = new Set(rows.filter((row) => row.kind !== "start").map((row) => row.origin_id))
      const running = rows.filter((row) => row.kind === "start" && !ended.has(row.origin_id))
      if (running.length >= count) return running
      yield* Effect.sleep("50 millis")
    }
  }).pipe(Effect.timeout("30 seconds"))

const graceful = (backend: Backend) =>
  Effect.gen(function* () {
    const db = yield* makeDatabase(backend)
    const scheduler = yield* parentScheduler(backend, db.url)
    const cluster = yield* makeProcessCluster({
      backend,
      url: db.url,
      label: `graceful-${backend}`,
      size: processes,
      instance: { ...shortLeases, workers, shutdownTimeoutMs }
    })
    yield* cluster.startAll
    // 0.3 to 3 s each: some finish within the shutdown timeout, some are handed back.
    const ids = yield* scheduler.createRuns(
      Work,
      Array.from({ length: 72 }, (_, n) => ({ n, ms: 300 + ((n * 397) % 2_700) })),
      unlimitedRetries
    )

    const stops: Array<{
      readonly child: ChildInfo
      readonly at: number
      readonly running: ReadonlyArray<LedgerRow>
      readonly exitMs: number
      readonly code: number | null
    }> = []
    for (const slot of [0, 1]) {
      const child = (yield* cluster.child(slot))!
      const running = yield* inFlight(cluster, child, 3)
      const at = Date.now()
      const { exit, millis } = yield* cluster.terminate(slot, "20 seconds")
      stops.push({ child, at, running, exitMs: millis, code: exit.code })
      yield* cluster.start(slot)
    }

    const states = yield* awaitAll(scheduler, ids, 60_000)

    // the run history, written with each accepted settlement, shows no attempt accepted twice

    expect(yield* historyBreaches(scheduler, states)).toEqual([])
    const ledger = yield* cluster.ledger
    const starts = groupByRun(ledger, "start")

    // Nothing lost, nothing taken over by the reaper, no attempt used up.
    expect(states.map((state) => state.status)).toEqual(ids.map(() => "succeeded"))
    expect(ledger.filter((row) => row.kind === "reap")).toEqual([])
    const usedUp = states.filter(
      (state) => state.runTotalCount !== 1 || state.retriesOnTimeoutCount !== 0 || state.retriesOnErrorCount !== 0
    )
    expect(
      usedUp.map((state) => ({
        originId: state.originId,
        total: state.runTotalCount,
        timeouts: state.retriesOnTimeoutCount,
        errors: state.retriesOnErrorCount
      }))
    ).toEqual([])

    const stoppedPids = new Set(stops.map((stop) => stop.child.pid))
    let finishedInDrain = 0
    let handedBack = 0
    const rerunAfter: Array<number> = []
    for (const stop of stops) {
      // The child exited cleanly, within the shutdown timeout (plus process overhead).
      expect(stop.code).toBe(0)
      expect(stop.exitMs).toBeLessThan(shutdownTimeoutMs + 5_000)
      for (const row of stop.running) {
        const state = states.find((candidate) => candidate.originId === row.origin_id)!
        const ended = ledger.some(
          (other) => other.kind === "end" && other.pid === stop.child.pid && other.origin_id === row.origin_id
        )
        if (ended) {
          // finished during the drain: completed there, executed there once (after, maybe, being handed
          // back by the child stopped before, as the same attempt)
          finishedInDrain++
          expect(state.runStartedBy).toBe(stop.child.instanceId)
          const executions = starts.get(row.origin_id)!
          expect(executions.filter((other) => other.pid === stop.child.pid)).toHaveLength(1)
          expect(executions.map((other) => other.attempt)).toEqual(executions.map(() => 1))
          expect(executions.slice(0, -1).filter((other) => !stoppedPids.has(other.pid))).toEqual([])
        } else {
          // handed back: run again elsewhere, as the same attempt
          handedBack++
          expect(state.runStartedBy).not.toBe(stop.child.instanceId)
          // (it may be handed back again, by the other child stopped later: each time as attempt 1)
          const executions = starts.get(row.origin_id)!
          expect(executions.map((other) => other.attempt)).toEqual(executions.map(() => 1))
          expect(executions.slice(0, -1).filter((other) => !stoppedPids.has(other.pid))).toEqual([])
          rerunAfter.push(executions.find((other) => other.pid !== stop.child.pid)!.db_at - stop.at)
        }
      }
    }
    const rerun = stats(rerunAfter)

    // The instance rows of the stopped children record their shutdown and final counters.
    const instances = yield* (yield* parentStore(backend, db.url)).instances
    for (const stop of stops) {
      const row = instances.find((instance) => instance.id === stop.child.instanceId)
      expect(row?.shutdownAt).toBeTypeOf("number")
      expect(row?.runsStarted).toBeGreaterThanOrEqual(stop.running.length)
    }
    yield* report("graceful", backend, {
      stops: stops.length,
      inFlight: stops.reduce((sum, stop) => sum + stop.running.length, 0),
      finishedInDrain,
      handedBack,
      exitMaxMs: Math.max(...stops.map((stop) => stop.exitMs)),
      shutdownTimeoutMs,
      rerunMedianMs: rerun.median,
      rerunMaxMs: rerun.max,
      attemptsUsedUp: usedUp.length
    })
    expect(handedBack + finishedInDrain).toBeGreaterThan(0)
    expect(yield* cluster.unexpectedExits).toEqual([])
  })

describe("cluster: graceful stop (SIGTERM during work)", () => {
  for (const backend of sqlBackends) {
    it.scopedLive(
      `graceful stop on ${backend}: in-flight runs finish or are handed back, no attempt used up`,
      () => graceful(backend),
      120_000
    )
  }
})
