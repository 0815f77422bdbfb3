import { randomUUID } from "node:crypto"
/**
 * The in-memory `JobStore`: every operation of docs/STORE.md on plain maps.
 *
 * Each operation reads Effect's `Clock` once (so `TestClock` drives it) and then
 * mutates the state inside one `Effect.sync`, which makes it atomic: no other
 * fiber runs in between.
 *
 * @internal
 */
import { Clock, Effect, Either, PubSub, Stream } from "effect"
import type { Mutable } from "effect/Types"
import type {
  CancelResult,
  ClaimRequest,
  ClaimedRun,
  HeldRun,
  InsertResult,
  InstanceCounters,
  InstanceInfo,
  JobStoreShape,
  NewRun,
  PendingCount,
  PruneRequest,
  ReapReason,
  ReapRequest,
  ReapedRun,
  Settlement,
  StoredAttempt,
  StoredInstance,
  StoredRun,
  WaitingRun
} from "../JobStore.js"
import { attemptError, attemptOutcome } from "./attempts.js"
import { JobStoreError } from "./errors.js"

/** A stored occurrence with the two columns the interface does not expose. */
interface Row extends Mutable<StoredRun> {
  /** The fencing token; `null` unless running. */
  claim: string | null
  /** Equal to `uniqueName` while the row is active, `null` otherwise. */
  uniqueKey: string | null
}

interface State {
  /** Occurrences by id, in insertion order. */
  readonly rows: Map<string, Row>
  /** Occurrences by `originId`. */
  readonly chains: Map<string, Array<Row>>
  /** The active holder of each unique name (the unique index). */
  readonly uniqueKeys: Map<string, Row>
  readonly instances: Map<string, Mutable<StoredInstance>>
  /** Recorded attempts by `originId`, in the order they ended. */
  readonly history: Map<string, Array<StoredAttempt>>
}

const isActive = (row: Row): boolean => row.status === "pending" || row.status === "running"

const toStored = (row: Row): StoredRun => ({
  id: row.id,
  originId: row.originId,
  occurrence: row.occurrence,
  job: row.job,
  args: row.args,
  uniqueName: row.uniqueName,
  schedule: row.schedule,
  status: row.status,
  runAt: row.runAt,
  runTotalCount: row.runTotalCount,
  runSuccessCount: row.runSuccessCount,
  runSuccessLimit: row.runSuccessLimit,
  runTimeoutMs: row.runTimeoutMs,
  retriesErrorCount: row.retriesErrorCount,
  retriesErrorLimit: row.retriesErrorLimit,
  retriesTimeoutCount: row.retriesTimeoutCount,
  retriesTimeoutLimit: row.retriesTimeoutLimit,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
  startedAt: row.startedAt,
  startedBy: row.startedBy,
  timeoutAt: row.timeoutAt,
  leaseUntil: row.leaseUntil,
  cancelRequested: row.cancelRequested,
  error: row.error,
  finishedAt: row.finishedAt,
  traceContext: row.traceContext
})

const toClaimed = (row: Row, claim: string): ClaimedRun => ({ ...toStored(row), claim })

const toInstance = (instance: StoredInstance): StoredInstance => ({
  ...instance,
  jobs: [...instance.jobs],
  schedules: [...instance.schedules]
})

/** The filter `claim`, `nextDue` and `reap` share: a listed job, and no schedule or a listed one. */
const matcher = (jobs: ReadonlyArray<string>, schedules: ReadonlyArray<string>): ((row: Row) => boolean) => {
  const jobSet = new Set(jobs)
  const scheduleSet = new Set(schedules)
  return (row) => jobSet.has(row.job) && (row.schedule === null || scheduleSet.has(row.schedule))
}

const byRunAt = (a: Row, b: Row): number => a.runAt - b.runAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

const rowsWhere = (state: State, predicate: (row: Row) => boolean): Array<Row> => {
  const found: Array<Row> = []
  for (const row of state.rows.values()) {
    if (predicate(row)) found.push(row)
  }
  return found
}

/** Ends a row's hold on its claim, lease and unique name. */
const release = (state: State, row: Row): void => {
  if (row.uniqueKey !== null && state.uniqueKeys.get(row.uniqueKey) === row) {
    state.uniqueKeys.delete(row.uniqueKey)
  }
  row.uniqueKey = null
  row.claim = null
  row.leaseUntil = null
}

/** Adds a new pending row; the caller has checked that its id is free and its unique name is not held. */
const addRow = (state: State, run: NewRun, now: number): void => {
  const row: Row = {
    ...run,
    createdAt: run.createdAt ?? now,
    status: "pending",
    startedAt: null,
    startedBy: null,
    timeoutAt: null,
    leaseUntil: null,
    cancelRequested: false,
    error: null,
    finishedAt: null,
    claim: null,
    uniqueKey: run.uniqueName
  }
  state.rows.set(row.id, row)
  const chain = state.chains.get(row.originId)
  if (chain === undefined) state.chains.set(row.originId, [row])
  else chain.push(row)
  if (row.uniqueKey !== null) state.uniqueKeys.set(row.uniqueKey, row)
}

const duplicateIds = (state: State, runs: ReadonlyArray<NewRun>): ReadonlyArray<string> => {
  const seen = new Set<string>()
  const duplicates: Array<string> = []
  for (const run of runs) {
    if (state.rows.has(run.id) || seen.has(run.id)) duplicates.push(run.id)
    seen.add(run.id)
  }
  return duplicates
}

const insert = (
  state: State,
  runs: ReadonlyArray<NewRun>,
  now: number
): Either.Either<ReadonlyArray<InsertResult>, JobStoreError> => {
  const duplicates = duplicateIds(state, runs)
  if (duplicates.length > 0) {
    return Either.left(new JobStoreError({ message: `insert: duplicate run id ${duplicates.join(", ")}` }))
  }
  return Either.right(
    runs.map((run): InsertResult => {
      const holder = run.uniqueName === null ? undefined : state.uniqueKeys.get(run.uniqueName)
      if (holder !== undefined) return { originId: holder.originId, inserted: false }
      addRow(state, run, now)
      return { originId: run.originId, inserted: true }
    })
  )
}

const claim = (state: State, request: ClaimRequest, now: number): ReadonlyArray<ClaimedRun> => {
  const matches = matcher(request.jobs, request.schedules)
  return rowsWhere(state, (row) => row.status === "pending" && row.runAt <= now && matches(row))
    .sort(byRunAt)
    .slice(0, Math.max(0, request.limit))
    .map((row) => {
      const token = randomUUID()
      row.status = "running"
      row.claim = token
      row.startedAt = now
      row.startedBy = request.instanceId
      row.leaseUntil = now + request.leaseMs
      row.timeoutAt = row.runTimeoutMs === 0 ? null : now + row.runTimeoutMs
      row.runTotalCount += 1
      return toClaimed(row, token)
    })
}

const nextDue = (
  state: State,
  jobs: ReadonlyArray<string>,
  schedules: ReadonlyArray<string>,
  now: number
): { readonly now: number; readonly nextRunAt: number | null } => {
  const matches = matcher(jobs, schedules)
  let nextRunAt: number | null = null
  for (const row of state.rows.values()) {
    if (row.status === "pending" && matches(row) && (nextRunAt === null || row.runAt < nextRunAt)) {
      nextRunAt = row.runAt
    }
  }
  return { now, nextRunAt }
}

/** The row a settlement may write, when its fence holds. */
const fenced = (state: State, settlement: Settlement): Row | undefined => {
  const row = state.rows.get(settlement.id)
  return row !== undefined && row.status === "running" && row.claim === settlement.claim ? row : undefined
}

/** Why a `Next` settlement whose fence holds cannot insert its next occurrence, if it cannot. */
const nextConflict = (state: State, settlement: Settlement): string | undefined => {
  if (settlement._tag !== "Next") return undefined
  const row = fenced(state, settlement)
  if (row === undefined) return undefined
  const next = settlement.next
  if (state.rows.has(next.id)) return `settle: duplicate run id ${next.id}`
  const holder = next.uniqueName === null ? undefined : state.uniqueKeys.get(next.uniqueName)
  if (holder !== undefined && holder !== row) return `settle: unique name ${next.uniqueName} is held by ${holder.id}`
  return undefined
}

const finish = (state: State, row: Row, status: "succeeded" | "failed" | "cancelled", now: number): void => {
  release(state, row)
  row.status = status
  row.finishedAt = now
}

/** Records the attempt a settlement ends (before the row changes: a released attempt's number is given back). */
const record = (state: State, row: Row, settlement: Settlement, now: number): void => {
  const attempt: StoredAttempt = {
    originId: row.originId,
    id: row.id,
    occurrence: row.occurrence,
    job: row.job,
    attempt: row.runTotalCount,
    startedBy: row.startedBy ?? "",
    startedAt: row.startedAt ?? now,
    finishedAt: now,
    outcome: attemptOutcome(settlement),
    error: attemptError(settlement)
  }
  const chain = state.history.get(row.originId)
  if (chain === undefined) state.history.set(row.originId, [attempt])
  else chain.push(attempt)
}

const settleOne = (state: State, settlement: Settlement, now: number): boolean => {
  const row = fenced(state, settlement)
  if (row === undefined) return false
  record(state, row, settlement, now)
  switch (settlement._tag) {
    case "Succeeded": {
      finish(state, row, "succeeded", now)
      row.runSuccessCount += 1
      row.error = null
      return true
    }
    case "Failed": {
      finish(state, row, "failed", now)
      row.error = settlement.error
      return true
    }
    case "Cancelled": {
      finish(state, row, "cancelled", now)
      return true
    }
    case "Retry": {
      row.status = "pending"
      row.runAt = settlement.runAt
      row.retriesErrorCount = settlement.retriesErrorCount
      row.retriesTimeoutCount = settlement.retriesTimeoutCount
      row.error = settlement.error
      row.claim = null
      row.leaseUntil = null
      row.timeoutAt = null
      return true
    }
    case "Released": {
      row.status = "pending"
      row.runTotalCount -= 1
      row.claim = null
      row.leaseUntil = null
      row.timeoutAt = null
      return true
    }
    case "Next": {
      finish(state, row, settlement.outcome, now)
      if (settlement.outcome === "succeeded") {
        row.runSuccessCount += 1
        row.error = null
      } else {
        row.error = settlement.error
      }
      addRow(state, settlement.next, now)
      return true
    }
  }
}

const settle = (
  state: State,
  settlements: ReadonlyArray<Settlement>,
  now: number
): Either.Either<ReadonlyArray<boolean>, JobStoreError> => {
  for (const settlement of settlements) {
    const conflict = nextConflict(state, settlement)
    if (conflict !== undefined) return Either.left(new JobStoreError({ message: conflict }))
  }
  return Either.right(settlements.map((settlement) => settleOne(state, settlement, now)))
}

/** Whether a settlement may make a run due (a wake-up for pollers). */
const wakes = (settlement: Settlement): boolean =>
  settlement._tag === "Retry" || settlement._tag === "Released" || settlement._tag === "Next"

const extend = (
  state: State,
  instanceId: string,
  claims: ReadonlyArray<string>,
  leaseMs: number,
  now: number
): ReadonlyArray<HeldRun> => {
  const held = new Set(claims)
  return rowsWhere(
    state,
    (row) => row.status === "running" && row.claim !== null && held.has(row.claim) && row.startedBy === instanceId
  ).map((row) => {
    row.leaseUntil = now + leaseMs
    return { id: row.id, claim: row.claim!, cancelRequested: row.cancelRequested }
  })
}

const reapReason = (row: Row, graceMs: number, now: number): ReapReason | undefined => {
  if (row.timeoutAt !== null && row.timeoutAt + graceMs < now) return "timeout"
  if (row.leaseUntil !== null && row.leaseUntil < now) return "lease"
  return undefined
}

const reap = (state: State, request: ReapRequest, now: number): ReadonlyArray<ReapedRun> => {
  const matches = matcher(request.jobs, request.schedules)
  return rowsWhere(
    state,
    (row) => row.status === "running" && matches(row) && reapReason(row, request.graceMs, now) !== undefined
  )
    .sort(byRunAt)
    .slice(0, Math.max(0, request.limit))
    .map((row) => {
      const reason = reapReason(row, request.graceMs, now)!
      const token = randomUUID()
      row.claim = token
      row.leaseUntil = now + request.leaseMs
      return { ...toClaimed(row, token), reason }
    })
}

const latest = (state: State, originId: string): Row | undefined => {
  let found: Row | undefined
  for (const row of state.chains.get(originId) ?? []) {
    if (found === undefined || row.occurrence > found.occurrence) found = row
  }
  return found
}

const cancel = (state: State, originId: string, now: number): CancelResult => {
  const chain = state.chains.get(originId)
  if (chain === undefined) return "notFound"
  const active = chain.find(isActive)
  if (active === undefined) return "finished"
  if (active.status === "running") {
    active.cancelRequested = true
    return "requested"
  }
  finish(state, active, "cancelled", now)
  return "cancelled"
}

const waiting = (state: State, liveWithinMs: number, now: number): ReadonlyArray<WaitingRun> => {
  const jobs = new Set<string>()
  const schedules = new Set<string>()
  for (const instance of state.instances.values()) {
    if (instance.shutdownAt === null && now - instance.lastSeenAt <= liveWithinMs) {
      for (const job of instance.jobs) jobs.add(job)
      for (const schedule of instance.schedules) schedules.add(schedule)
    }
  }
  return rowsWhere(
    state,
    (row) => row.status === "pending" && (!jobs.has(row.job) || (row.schedule !== null && !schedules.has(row.schedule)))
  )
    .sort(byRunAt)
    .map((row) => ({ id: row.id, originId: row.originId, job: row.job, schedule: row.schedule, runAt: row.runAt }))
}

const isFinal = (status: Row["status"]): status is keyof PruneRequest["keepMs"] =>
  status === "succeeded" || status === "failed" || status === "cancelled"

/** Whether a finished row ended longer ago than its status's retention. */
const expired = (row: Row, keepMs: PruneRequest["keepMs"], now: number): boolean => {
  if (!isFinal(row.status) || row.finishedAt === null) return false
  const keep = keepMs[row.status]
  return keep !== null && row.finishedAt < now - keep
}

const prune = (state: State, request: PruneRequest, now: number): number => {
  const doomed = rowsWhere(state, (row) => expired(row, request.keepMs, now))
    .sort((a, b) => a.finishedAt! - b.finishedAt!)
    .slice(0, Math.max(0, request.limit))
  for (const row of doomed) {
    state.rows.delete(row.id)
    const chain = state.chains.get(row.originId)?.filter((other) => other !== row) ?? []
    const attempts = state.history.get(row.originId)?.filter((attempt) => attempt.id !== row.id) ?? []
    if (chain.length === 0) state.chains.delete(row.originId)
    else state.chains.set(row.originId, chain)
    if (attempts.length === 0) state.history.delete(row.originId)
    else state.history.set(row.originId, attempts)
  }
  return doomed.length
}

const pendingCounts = (state: State): ReadonlyArray<PendingCount> => {
  const counts = new Map<string, number>()
  for (const row of state.rows.values()) {
    if (row.status === "pending") counts.set(row.job, (counts.get(row.job) ?? 0) + 1)
  }
  return Array.from(counts, ([job, count]) => ({ job, count }))
}

const zeroCounters: InstanceCounters = {
  runsStarted: 0,
  runsSucceeded: 0,
  runsRescheduled: 0,
  runsTimedOut: 0,
  runsResurrected: 0,
  runsErrors: 0
}

const registerInstance = (state: State, instance: InstanceInfo, now: number): void => {
  state.instances.set(instance.id, {
    id: instance.id,
    name: instance.name,
    workers: instance.workers,
    jobs: [...instance.jobs],
    schedules: [...instance.schedules],
    pollIntervalMs: instance.pollIntervalMs,
    pollLimit: instance.pollLimit,
    ...zeroCounters,
    startedAt: now,
    lastSeenAt: now,
    shutdownAt: null
  })
}

const updateInstance = (state: State, id: string, counters: InstanceCounters, now: number, shutdown: boolean): void => {
  const instance = state.instances.get(id)
  if (instance === undefined) return
  instance.runsStarted = counters.runsStarted
  instance.runsSucceeded = counters.runsSucceeded
  instance.runsRescheduled = counters.runsRescheduled
  instance.runsTimedOut = counters.runsTimedOut
  instance.runsResurrected = counters.runsResurrected
  instance.runsErrors = counters.runsErrors
  instance.lastSeenAt = now
  if (shutdown) instance.shutdownAt = now
}

/** Reads the clock, then runs `f` synchronously: one atomic step. */
const atNow = <A>(f: (now: number) => A): Effect.Effect<A> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => f(now)))

/** Like `atNow` for steps that may fail without changing anything. */
const atNowEither = <A>(f: (now: number) => Either.Either<A, JobStoreError>): Effect.Effect<A, JobStoreError> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.suspend(() => f(now)))

/** Builds an empty in-memory store. */
export const make: Effect.Effect<JobStoreShape> = Effect.map(PubSub.sliding<void>(16), (hub): JobStoreShape => {
  const state: State = {
    rows: new Map(),
    chains: new Map(),
    uniqueKeys: new Map(),
    instances: new Map(),
    history: new Map()
  }
  const wake = (when: boolean): Effect.Effect<void> =>
    when ? Effect.asVoid(PubSub.publish(hub, undefined)) : Effect.void

  return {
    now: Clock.currentTimeMillis,
    insert: (runs) =>
      atNowEither((now) => insert(state, runs, now)).pipe(
        Effect.tap((results) => wake(results.some((result) => result.inserted)))
      ),
    claim: (request) => atNow((now) => claim(state, request, now)),
    nextDue: (jobs, schedules) => atNow((now) => nextDue(state, jobs, schedules, now)),
    settle: (settlements) =>
      atNowEither((now) => settle(state, settlements, now)).pipe(
        Effect.tap((results) => wake(settlements.some((settlement, i) => results[i] === true && wakes(settlement))))
      ),
    extend: (instanceId, claims, leaseMs) => atNow((now) => extend(state, instanceId, claims, leaseMs, now)),
    reap: (request) => atNow((now) => reap(state, request, now)),
    cancel: (originId) => atNow((now) => cancel(state, originId, now)),
    get: (originId) =>
      Effect.sync(() => {
        const row = latest(state, originId)
        return row === undefined ? undefined : toStored(row)
      }),
    history: (originId) => Effect.sync(() => [...(state.history.get(originId) ?? [])]),
    prune: (request) => atNow((now) => prune(state, request, now)),
    pendingCounts: Effect.sync(() => pendingCounts(state)),
    waiting: (liveWithinMs) => atNow((now) => waiting(state, liveWithinMs, now)),
    registerInstance: (instance) => atNow((now) => registerInstance(state, instance, now)),
    touchInstance: (id, counters) => atNow((now) => updateInstance(state, id, counters, now, false)),
    shutdownInstance: (id, counters) => atNow((now) => updateInstance(state, id, counters, now, true)),
    instances: Effect.sync(() => Array.from(state.instances.values(), toInstance)),
    wakeups: Stream.fromPubSub(hub)
  }
})
