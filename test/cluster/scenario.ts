/**
 * Shared pieces of the cluster scenarios: instance settings, the parent's own JobsS client,
 * waiting for many runs, reading the ledger, small statistics and the one-line report each
 * scenario prints.
 */
import { appendFileSync } from "node:fs"
import {
  JobStore,
  JobsS,
  type JobsSConfig,
  type JobsSError,
  type RunHistory,
  type RunId,
  RunState,
  Scheduler
} from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { type Cause, Context, Effect, Fiber, Layer, type Scope } from "effect"
import { startRecorded } from "../support/cluster.js"
import { HarnessError, type ProcessCluster, parentClientLayer } from "../support/processes.js"
import type { LedgerRow, WorkerBackend, WorkerInstance } from "./protocol.js"

/** Short leases so takeovers happen within seconds; unlimited retries so takeovers never fail a run. */
export const shortLeases: WorkerInstance = {
  workers: 8,
  pollIntervalMs: 500,
  heartbeatIntervalMs: 500,
  leaseMs: 2_000,
  timeoutCheckMs: 500,
  shutdownTimeoutMs: 2_000,
  retriesErrorLimit: -1,
  retriesTimeoutLimit: -1
}

/** Run options of every run a scenario creates: takeovers and errors never end a run. */
export const unlimitedRetries = { retriesErrorLimit: -1, retriesTimeoutLimit: -1 } as const

/**
 * The test process's own client instance (no workers) on the cluster's database. Building it
 * also applies the migrations, before any child starts.
 */
export const parentScheduler = (
  backend: WorkerBackend,
  url: string,
  options: JobsSConfig.ClientOptions = {}
): Effect.Effect<Scheduler.SchedulerShape, HarnessError, Scope.Scope> =>
  Layer.build(
    JobsS.layerClient({ instanceName: "test-parent", ...options }).pipe(
      Layer.provide(SqlStore.layer()),
      Layer.provide(parentClientLayer(backend, url))
    )
  ).pipe(
    Effect.map(Context.get(Scheduler.Scheduler)),
    Effect.mapError((cause) => new HarnessError({ message: "cannot start the parent's JobsS client", cause }))
  )

/** The store itself (for the instance registry), on a connection of its own. */
export const parentStore = (
  backend: WorkerBackend,
  url: string
): Effect.Effect<JobStore.JobStoreShape, HarnessError, Scope.Scope> =>
  Layer.build(SqlStore.layer().pipe(Layer.provide(parentClientLayer(backend, url)))).pipe(
    Effect.map(Context.get(JobStore.JobStore)),
    Effect.mapError((cause) => new HarnessError({ message: "cannot open the store", cause }))
  )

/**
 * Waits until every run is final (checking 100 at a time, oldest first) and returns the final
 * states in the order of `ids`. Past `timeoutMs` it fails, describing the runs still active.
 */
export const awaitAll = (
  scheduler: Scheduler.SchedulerShape,
  ids: ReadonlyArray<RunId.RunId>,
  timeoutMs: number
): Effect.Effect<ReadonlyArray<RunState.RunState>, HarnessError> =>
  Effect.gen(function* () {
    const deadline = Date.now() + timeoutMs
    const final = new Map<string, RunState.RunState>()
    let remaining = [...ids]
    while (remaining.length > 0) {
      const batch = remaining.slice(0, 100)
      const states = yield* Effect.forEach(batch, (id) => scheduler.getRunState(id), { concurrency: 4 }).pipe(
        Effect.either
      )
      if (states._tag === "Right") {
        for (const state of states.right) if (RunState.isFinal(state)) final.set(state.originId, state)
        remaining = remaining.filter((id) => !final.has(id))
      }
      if (remaining.length === 0) break
      if (Date.now() > deadline) {
        const sample = yield* Effect.forEach(remaining.slice(0, 5), (id) => Effect.either(scheduler.getRunState(id)))
        return yield* Effect.fail(
          new HarnessError({
            message: `${remaining.length} of ${ids.length} runs still not final after ${timeoutMs} ms; for example:\n${sample
              .map((state) =>
                state._tag === "Right"
                  ? `${state.right.id} ${state.right.status} total=${state.right.runTotalCount} startedBy=${state.right.runStartedBy} error=${state.right.runCompletedError}`
                  : String(state.left)
              )
              .join("\n")}`
          })
        )
      }
      // nothing new in this batch (or the database is away): wait a little
      if (states._tag === "Left" || batch.every((id) => !final.has(id))) yield* Effect.sleep("250 millis")
    }
    return ids.map((id) => final.get(id)!)
  })

/** How an attempt ends a run's occurrence, in its history. */
const endsOccurrence: ReadonlySet<RunHistory.AttemptOutcome> = new Set(["succeeded", "failed", "cancelled"])

/**
 * What the run history (written in the transaction of each accepted settlement or takeover, so no kill can
 * separate the two) says against the protocol, one line per breach: an attempt accepted twice
 * (the same occurrence and attempt number recorded twice, except attempts handed back, whose
 * number is used again), an occurrence ended more than once, a final run whose last occurrence
 * did not end exactly once, an attempt recorded before the previous one of its occurrence.
 */
export const historyBreaches = (
  scheduler: Scheduler.SchedulerShape,
  states: ReadonlyArray<RunState.RunState>
): Effect.Effect<ReadonlyArray<string>, HarnessError> =>
  Effect.forEach(
    states,
    (state) => Effect.map(scheduler.getRunHistory(state.originId), (attempts) => runBreaches(state, attempts)),
    { concurrency: 4 }
  ).pipe(
    Effect.map((breaches) => breaches.flat()),
    Effect.mapError((cause) => new HarnessError({ message: "cannot read the run history", cause }))
  )

/** The breaches of one run's history (see `historyBreaches`). */
export const runBreaches = (
  state: RunState.RunState,
  attempts: ReadonlyArray<RunHistory.RunAttempt>
): Array<string> => {
  const breaches: Array<string> = []
  const seen = new Set<string>()
  const ended = new Map<string, number>()
  const lastAttempt = new Map<string, number>()
  for (const attempt of attempts) {
    const key = `${attempt.id}#${attempt.attempt}`
    if (attempt.outcome !== "released") {
      if (seen.has(key)) breaches.push(`${state.originId}: attempt ${attempt.attempt} of ${attempt.id} accepted twice`)
      seen.add(key)
    }
    if ((lastAttempt.get(attempt.id) ?? -1) > attempt.attempt) {
      breaches.push(`${state.originId}: attempt ${attempt.attempt} of ${attempt.id} recorded after a later one`)
    }
    lastAttempt.set(attempt.id, attempt.attempt)
    if (endsOccurrence.has(attempt.outcome)) ended.set(attempt.id, (ended.get(attempt.id) ?? 0) + 1)
  }
  for (const [id, count] of ended)
    if (count > 1) breaches.push(`${state.originId}: occurrence ${id} ended ${count} times`)
  // a run cancelled before it started has no attempt
  const endings = ended.get(state.id) ?? 0
  if (RunState.isFinal(state) && (endings > 1 || (endings === 0 && state.status !== "cancelled"))) {
    breaches.push(`${state.originId}: final (${state.status}) but its occurrence ${state.id} ended ${endings} times`)
  }
  return breaches
}

/** Ledger rows of one kind, grouped by `origin_id`, in write order. */
export const groupByRun = (rows: ReadonlyArray<LedgerRow>, kind: LedgerRow["kind"]): Map<string, Array<LedgerRow>> => {
  const groups = new Map<string, Array<LedgerRow>>()
  for (const row of rows) {
    if (row.kind !== kind) continue
    const group = groups.get(row.origin_id)
    if (group === undefined) groups.set(row.origin_id, [row])
    else group.push(row)
  }
  return groups
}

/** Count, median, 95th percentile and maximum of some measurements (0 when empty). */
export const stats = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) =>
    sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  return { count: sorted.length, median: at(0.5), p95: at(0.95), max: sorted.length === 0 ? 0 : sorted.at(-1)! }
}

/**
 * Prints the scenario's measurements as one line (`[cluster] crash postgres: runs=5000 ...`),
 * and appends them as JSON to the file named by `JOBSS_CLUSTER_REPORT`, if set.
 */
export const report = (
  scenario: string,
  backend: string,
  fields: Record<string, number | string>
): Effect.Effect<void> =>
  Effect.sync(() => {
    const line = Object.entries(fields)
      .map(
        ([key, value]) => `${key}=${typeof value === "number" && !Number.isInteger(value) ? value.toFixed(1) : value}`
      )
      .join(" ")
    console.log(`[cluster] ${scenario} ${backend}: ${line}`)
    const file = process.env.JOBSS_CLUSTER_REPORT
    if (file !== undefined && file !== "") {
      appendFileSync(file, `${JSON.stringify({ scenario, backend, at: new Date().toISOString(), ...fields })}\n`)
    }
  })

/** A random integer in [min, max]. */
export const between = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1))

/** A random slot of the cluster. */
const randomSlot = (cluster: ProcessCluster): Effect.Effect<number, HarnessError> =>
  Effect.sync(() => between(0, cluster.spec.size - 1))

/**
 * The slot of a random execution in progress (a ledger `start` of a live process with no `end` or
 * `interrupted` yet), or a random slot when there is none: a kill there cuts an execution off.
 */
export const busySlot = (cluster: ProcessCluster): Effect.Effect<number, HarnessError> =>
  Effect.gen(function* () {
    const ledger = yield* cluster.ledger
    const killed = new Set((yield* cluster.events).filter((event) => event.action === "kill").map((event) => event.pid))
    const execution = (row: LedgerRow) => `${row.pid}:${row.run_id}:${row.attempt}`
    const finished = new Set(ledger.filter((row) => row.kind === "end" || row.kind === "interrupted").map(execution))
    const open = ledger.filter((row) => row.kind === "start" && !killed.has(row.pid) && !finished.has(execution(row)))
    return open.length === 0 ? yield* randomSlot(cluster) : open[between(0, open.length - 1)]!.slot
  })

/**
 * The killer of the crash scenarios, forked: every `minMs`-`maxMs`, SIGKILL the child of the slot
 * `pick` chooses (a random one by default) and start a new one in it, until interrupted.
 */
export const killAndRestart = (
  cluster: ProcessCluster,
  minMs: number,
  maxMs: number,
  pick: (cluster: ProcessCluster) => Effect.Effect<number, HarnessError> = randomSlot
): Effect.Effect<Fiber.RuntimeFiber<never, HarnessError>> =>
  Effect.fork(
    Effect.forever(
      Effect.gen(function* () {
        yield* Effect.sleep(between(minMs, maxMs))
        const slot = yield* pick(cluster)
        yield* cluster.kill(slot)
        yield* cluster.start(slot)
      })
    )
  )

/**
 * Reads `read` every 20 ms in a fiber of the scope (a failed reading is skipped) until `stop`; `samples`
 * holds the readings so far.
 */
export const sampleEvery = <A>(
  read: Effect.Effect<A, unknown>
): Effect.Effect<{ readonly samples: ReadonlyArray<A>; readonly stop: Effect.Effect<void> }, never, Scope.Scope> =>
  Effect.gen(function* () {
    const samples: Array<A> = []
    const fiber = yield* Effect.forkScoped(
      Effect.forever(
        Effect.zipRight(
          read.pipe(
            Effect.tap((sample) => samples.push(sample)),
            Effect.ignore
          ),
          Effect.sleep("20 millis")
        )
      )
    )
    return { samples, stop: Fiber.interrupt(fiber) }
  })

/** Waits (up to 20 s) until the instance's row says it was seen after `after`: it heart-beats again. */
export const awaitSeenAfter = (
  store: JobStore.JobStoreShape,
  instanceId: string,
  after: number
): Effect.Effect<void, JobsSError.JobStoreError | Cause.TimeoutException> =>
  Effect.gen(function* () {
    for (;;) {
      const row = (yield* store.instances).find((instance) => instance.id === instanceId)
      if (row !== undefined && row.lastSeenAt > after) return
      yield* Effect.sleep("200 millis")
    }
  }).pipe(Effect.timeout("20 seconds"))

/**
 * Waits (up to 30 s) until at least `count` of the ledger's `start` rows that `select` keeps are of runs
 * whose start the heartbeat has reported (a start not reported yet counts as never started: its run is
 * given back, not taken over), and with `running` that are still running; returns the ledger then and
 * those start rows.
 */
export const awaitReportedStarts = (
  cluster: ProcessCluster,
  store: JobStore.JobStoreShape,
  options: { readonly count: number; readonly select?: (start: LedgerRow) => boolean; readonly running?: boolean }
): Effect.Effect<
  { readonly ledger: ReadonlyArray<LedgerRow>; readonly reported: ReadonlyArray<LedgerRow> },
  HarnessError | JobsSError.JobStoreError | Cause.TimeoutException
> =>
  Effect.gen(function* () {
    for (;;) {
      const ledger = yield* cluster.ledger
      const starts = ledger.filter((row) => row.kind === "start" && (options.select?.(row) ?? true))
      const runs = yield* Effect.forEach(starts, (row) => store.get(row.origin_id))
      const reported = starts.filter((_, i) => {
        const run = runs[i]
        return startRecorded(run) && (options.running !== true || run?.status === "running")
      })
      if (reported.length >= options.count) return { ledger, reported }
      yield* Effect.sleep("50 millis")
    }
  }).pipe(Effect.timeout("30 seconds"))
