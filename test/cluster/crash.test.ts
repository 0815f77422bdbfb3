/**
 * Crash: a random child is SIGKILLed every 2-5 s and restarted while thousands of short runs go
 * through the cluster. Every run completes; a run executes twice only where the process executing
 * it was killed; fencing lets at most one execution record the outcome. SQLite: the same at a
 * smaller scale on one WAL file, then `PRAGMA integrity_check`.
 */
import { SqlClient } from "@effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { type Backend, makeDatabase } from "../support/databases.js"
import {
  acquireScenarioLock,
  makeProcessCluster,
  parentClientLayer,
  releaseScenarioLock,
  soakScale
} from "../support/processes.js"
import { Work } from "./protocol.js"
import {
  awaitAll,
  between,
  groupByRun,
  historyBreaches,
  killAndRestart,
  parentScheduler,
  parentStore,
  report,
  shortLeases,
  stats,
  unlimitedRetries
} from "./scenario.js"

beforeAll(acquireScenarioLock, 30 * 60_000)
afterAll(releaseScenarioLock)

interface CrashOptions {
  readonly processes: number
  readonly workers: number
  readonly runs: number
  readonly timeoutMs: number
}

const crash = (backend: Backend, url: string, options: CrashOptions) =>
  Effect.gen(function* () {
    const db = { url }
    const scheduler = yield* parentScheduler(backend, db.url)
    const cluster = yield* makeProcessCluster({
      backend,
      url: db.url,
      label: `crash-${backend}`,
      size: options.processes,
      instance: { ...shortLeases, workers: options.workers }
    })
    yield* cluster.startAll
    const started = Date.now()
    const args = Array.from({ length: options.runs }, (_, n) => ({ n, ms: between(5, 50) }))
    const ids = (yield* Effect.forEach(
      Array.from({ length: Math.ceil(args.length / 500) }, (_, i) => args.slice(i * 500, i * 500 + 500)),
      (batch) => scheduler.createRuns(Work, batch, unlimitedRetries)
    )).flat()

    // The killer: every 2-5 s, SIGKILL a random child and start a new one in its slot.
    const killer = yield* killAndRestart(cluster, 2_000, 5_000)
    const states = yield* awaitAll(scheduler, ids, options.timeoutMs)
    // the run history, written with each accepted settlement, shows no attempt accepted twice
    expect(yield* historyBreaches(scheduler, states)).toEqual([])
    yield* Fiber.interrupt(killer)
    const elapsed = Date.now() - started

    const ledger = yield* cluster.ledger
    const events = yield* cluster.events
    const kills = events.filter((event) => event.action === "kill")
    const killedAt = new Map(kills.map((event) => [event.pid, event.at]))
    // When each killed process was seen dead: the SIGKILL lands a little after it is sent, so an
    // execution that process started up to then may have been cut off by it.
    const deadAt = new Map(
      events.filter((event) => event.action === "exit" && killedAt.has(event.pid)).map((event) => [event.pid, event.at])
    )

    // Every run completed, and executed at least once.
    expect(states.filter((state) => state.status !== "succeeded")).toEqual([])
    const starts = groupByRun(ledger, "start")
    expect(ids.filter((id) => !starts.has(id))).toEqual([])

    // A run executed twice only where the process executing it was killed (during that execution), or
    // where that process stopped the execution itself before the repeat started: its lease guard, when
    // a starved process could not renew the lease in time (a hang past the lease, never two at once).
    const stops = groupByRun(ledger, "interrupted")
    const unexplained: Array<string> = []
    let duplicates = 0
    let stoppedByOwner = 0
    for (const [id, executions] of starts) {
      duplicates += executions.length - 1
      for (const [i, execution] of executions.slice(0, -1).entries()) {
        const dead = deadAt.get(execution.pid)
        const repeat = executions[i + 1]!
        const stopped = (stops.get(id) ?? []).some(
          (stop) => stop.pid === execution.pid && stop.seq > execution.seq && stop.seq < repeat.seq
        )
        if (stopped && (dead === undefined || dead < execution.local_at)) stoppedByOwner++
        else if (dead === undefined || dead < execution.local_at) {
          unexplained.push(
            `run ${id}: attempt ${execution.attempt} on pid ${execution.pid} at ${execution.local_at} was repeated, ` +
              `but that process was ${dead === undefined ? "never killed" : `killed earlier (dead at ${dead})`}`
          )
        }
      }
    }
    expect(unexplained).toEqual([])

    // Fencing: at most one accepted outcome per run, and the final state names the last executor.
    const accepted = groupByRun(
      ledger.filter((row) => row.accepted === 1 && row.detail === "Succeeded"),
      "settle"
    )
    expect([...accepted.entries()].filter(([, rows]) => rows.length > 1).map(([id]) => id)).toEqual([])
    const wrongOwner = states.filter((state) => starts.get(state.originId)?.at(-1)?.instance !== state.runStartedBy)
    expect(wrongOwner.map((state) => state.originId)).toEqual([])

    // How long until another instance took a killed process's runs over (lease expiry + reaper
    // period), and until they ran again (a retried run is due at once, but queues behind older ones).
    // The reaped row names its new owner only, so the killed owner is the run's previous executor.
    const reaps = ledger.filter((row) => row.kind === "reap")
    const takeover = stats(
      reaps.flatMap((reap) => {
        const previous = (starts.get(reap.origin_id) ?? []).filter((row) => row.seq < reap.seq).at(-1)
        const killed = previous === undefined ? undefined : killedAt.get(previous.pid)
        return killed === undefined || killed > reap.db_at ? [] : [reap.db_at - killed]
      })
    )
    const rerunAfter: Array<number> = []
    for (const executions of starts.values()) {
      for (let i = 0; i + 1 < executions.length; i++) {
        const killed = killedAt.get(executions[i]!.pid)
        if (killed !== undefined) rerunAfter.push(executions[i + 1]!.db_at - killed)
      }
    }
    const rerun = stats(rerunAfter)
    yield* report("crash", backend, {
      processes: options.processes,
      workers: options.workers,
      runs: options.runs,
      seconds: elapsed / 1000,
      runsPerSecond: Math.round(options.runs / (elapsed / 1000)),
      kills: kills.length,
      duplicates,
      stoppedByOwner,
      duplicatedRuns: [...starts.values()].filter((executions) => executions.length > 1).length,
      takeovers: reaps.length,
      takeoverMedianMs: takeover.median,
      takeoverMaxMs: takeover.max,
      rerunMedianMs: rerun.median,
      rerunMaxMs: rerun.max
    })
    expect(kills.length).toBeGreaterThan(0)
    // The registry shows the killed instances as gone: never shut down, not seen since the kill.
    const store = yield* parentStore(backend, url)
    const instances = yield* store.instances
    const killedRows = kills.map((kill) => instances.find((instance) => instance.id === kill.instanceId))
    expect(killedRows.filter((row) => row === undefined || row.shutdownAt !== null)).toEqual([])
    // Not seen after the kill (a beat already on its way at the kill may land just after it).
    expect(kills.filter((kill, i) => killedRows[i]!.lastSeenAt > kill.at + shortLeases.heartbeatIntervalMs)).toEqual([])
    expect(yield* cluster.unexpectedExits).toEqual([])
  })

const serverRuns = 5_000 * soakScale
const timeoutMs = 150_000 * soakScale

describe("cluster: crash (SIGKILL and restart)", () => {
  for (const backend of ["postgres", "mariadb"] as const) {
    it.scopedLive(
      `crash on ${backend}: 4 processes x 8 workers, ${serverRuns} runs of 5-50 ms, a process SIGKILLed every 2-5 s`,
      () =>
        Effect.flatMap(makeDatabase(backend), (db) =>
          crash(backend, db.url, { processes: 4, workers: 8, runs: serverRuns, timeoutMs })
        ),
      timeoutMs + 60_000
    )
  }

  it.scopedLive(
    `crash on sqlite: 4 processes x 4 workers on one WAL file, ${3_000 * soakScale} runs, then integrity_check is ok`,
    () =>
      Effect.gen(function* () {
        const db = yield* makeDatabase("sqlite")
        yield* Effect.scoped(crash("sqlite", db.url, { processes: 4, workers: 4, runs: 3_000 * soakScale, timeoutMs }))
        // every child is dead now: check the file
        const result = yield* Effect.scoped(
          Effect.flatMap(Layer.build(parentClientLayer("sqlite", db.url)), (context) =>
            Effect.provide(
              Effect.flatMap(
                SqlClient.SqlClient,
                (sql) => sql<{ readonly integrity_check: string }>`PRAGMA integrity_check`
              ),
              context
            )
          )
        )
        yield* report("crash-integrity", "sqlite", { integrity: result.map((row) => row.integrity_check).join(",") })
        expect(result.map((row) => row.integrity_check)).toEqual(["ok"])
      }),
    timeoutMs + 60_000
  )
})
