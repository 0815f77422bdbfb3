/**
 * The in-memory `JobStore`: every operation of docs/STORE.md on plain maps.
 *
 * Each operation reads Effect's `Clock` once (so `TestClock` drives it) and then
 * mutates the state inside one `Effect.sync`, which makes it atomic: no other
 * fiber runs in between.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import type {
  CancelResult,
  ClaimRequest,
  ClaimedRun,
  GivenBackRun,
  HeldRun,
  InsertResult,
  JobStoreShape,
  NewRun,
  PendingCount,
  PruneRequest,
  ReapReason,
  ReapRequest,
  ReapResult,
  ReapedRun,
  Settlement,
  WaitingRun
} from "../JobStore.js"
import * as ClaimToken from "./claimToken.js"
import { JobStoreError } from "./errors.js"
import * as MemoryAdmin from "./memoryAdmin.js"
import { registerInstance, toInstance, updateInstance } from "./memoryInstances.js"
import * as Leases from "./memoryLeases.js"
import * as Queues from "./memoryQueues.js"
import {
  type Row,
  type State,
  addRow,
  byPriority,
  byRunAt,
  empty,
  finish,
  isActive,
  latest,
  matcher,
  rowsWhere,
  toClaimed,
  toStored
} from "./memoryRows.js"
import { giveBack, settle, wakes } from "./memorySettle.js"
import { chargedOnTakeover, givenBackUnstarted } from "./runRow.js"

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

/** The rows a claim may consider: listed job and schedule, and no queue or one of `queues`. */
const queueMatcher = (
  jobs: ReadonlyArray<string>,
  schedules: ReadonlyArray<string>,
  queues: ReadonlyArray<string> = []
): ((row: Row) => boolean) => {
  const matches = matcher(jobs, schedules)
  const queueSet = new Set(queues)
  return (row) => matches(row) && (row.queue === null || queueSet.has(row.queue))
}

const claim = (state: State, request: ClaimRequest, now: number): ReadonlyArray<ClaimedRun> => {
  const matches = queueMatcher(request.jobs, request.schedules, request.queues)
  const prefix = ClaimToken.prefix(request.instanceId)
  const queues = Queues.budget(state, request.instanceId, now)
  const taken: Array<Row> = []
  for (const row of rowsWhere(state, (row) => row.status === "pending" && row.runAt <= now && matches(row)).sort(
    byPriority
  )) {
    if (taken.length >= request.limit) break
    if (row.queue === null || queues.take(row)) taken.push(row)
  }
  return taken.map((row) => {
    const token = ClaimToken.make(prefix, row.id)
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
  queues: ReadonlyArray<string> | undefined,
  now: number
): { readonly now: number; readonly nextRunAt: number | null } => {
  const matches = queueMatcher(jobs, schedules, queues)
  let nextRunAt: number | null = null
  const waiting = new Set<string>()
  for (const row of state.rows.values()) {
    if (row.status !== "pending" || !matches(row)) continue
    // a due run of a queue that the last claim left waits on a limit: a slot, the window or a resume wakes it
    if (row.queue !== null && row.runAt <= now) waiting.add(row.queue)
    else if (nextRunAt === null || row.runAt < nextRunAt) nextRunAt = row.runAt
  }
  // the window of a rate-limited queue with due runs frees a slot when its oldest start leaves it
  const frees = Queues.windowFrees(state, waiting, now)
  return { now, nextRunAt: frees === null || (nextRunAt !== null && nextRunAt <= frees) ? nextRunAt : frees }
}

const extend = (
  state: State,
  instanceId: string,
  claims: ReadonlyArray<string>,
  leaseMs: number,
  dispatched: ReadonlyArray<string>,
  now: number
): ReadonlyArray<HeldRun> => {
  const held = new Set(claims)
  const started = new Set(dispatched)
  return rowsWhere(
    state,
    (row) => row.status === "running" && row.claim !== null && held.has(row.claim) && row.startedBy === instanceId
  ).map((row) => {
    row.leaseUntil = now + leaseMs
    if (started.has(row.claim!)) {
      // the report's time, not the dispatch's: never earlier than the deadline its instance enforces
      row.dispatchedAt = now
      if (row.runTimeoutMs !== 0) row.timeoutAt = now + row.runTimeoutMs
    }
    return { id: row.id, claim: row.claim!, cancelRequested: row.cancelRequested }
  })
}

/** Why a started run is taken over, if it is. */
const reapReason = (row: Row, graceMs: number, now: number): ReapReason | undefined => {
  if (row.timeoutAt !== null && row.timeoutAt + graceMs < now) return "timeout"
  if (row.leaseUntil !== null && row.leaseUntil < now) return "lease"
  return undefined
}

const reap = (state: State, request: ReapRequest, now: number): ReapResult => {
  const matches = matcher(request.jobs, request.schedules)
  const prefix = ClaimToken.prefix(request.instanceId)
  const limit = Math.max(0, request.limit)
  const givenBack = rowsWhere(
    state,
    (row) =>
      row.status === "running" &&
      matches(row) &&
      !chargedOnTakeover(row) &&
      row.leaseUntil !== null &&
      row.leaseUntil < now
  )
    .sort(byRunAt)
    .slice(0, limit)
    .map((row): GivenBackRun => {
      const back = { id: row.id, originId: row.originId, job: row.job, startedBy: row.startedBy }
      giveBack(state, row, now)
      // given back free once: the next takeover of this attempt without a reported start is charged
      if (row.status === "pending") row.dispatchedAt = givenBackUnstarted
      return back
    })
  const taken = rowsWhere(
    state,
    (row) =>
      row.status === "running" &&
      matches(row) &&
      chargedOnTakeover(row) &&
      reapReason(row, request.graceMs, now) !== undefined
  )
    .sort(byRunAt)
    .slice(0, limit)
    .map((row): ReapedRun => {
      const reason = reapReason(row, request.graceMs, now)!
      const token = ClaimToken.make(prefix, row.id)
      row.claim = token
      row.leaseUntil = now + request.leaseMs
      return { ...toClaimed(row, token), reason }
    })
  return { taken, givenBack }
}

/** The release of `instanceId`'s claims but `keep`: a `Released` settlement of each, fenced like any. */
const release = (state: State, instanceId: string, keep: ReadonlyArray<string>, now: number): number => {
  const owned = ClaimToken.owned(instanceId)
  const kept = new Set(keep)
  const held = rowsWhere(
    state,
    (row) => row.status === "running" && row.claim !== null && row.claim.startsWith(owned) && !kept.has(row.claim)
  )
  const released = settle(
    state,
    held.map((row): Settlement => ({ _tag: "Released", id: row.id, claim: row.claim! })),
    now
  )
  return Either.getOrElse(released, () => []).filter(Boolean).length
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

/** Reads the clock, then runs `f` synchronously: one atomic step. */
const atNow = <A>(f: (now: number) => A): Effect.Effect<A> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => f(now)))

/** Like `atNow` for steps that may fail without changing anything. */
const atNowEither = <A>(f: (now: number) => Either.Either<A, JobStoreError>): Effect.Effect<A, JobStoreError> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.suspend(() => f(now)))

/** Builds an empty in-memory store. */
export const make: Effect.Effect<JobStoreShape> = Effect.map(PubSub.sliding<void>(16), (hub): JobStoreShape => {
  const state: State = empty()
  const wake = (when: boolean): Effect.Effect<void> =>
    when ? Effect.asVoid(PubSub.publish(hub, undefined)) : Effect.void

  return {
    now: Clock.currentTimeMillis,
    insert: (runs) =>
      atNowEither((now) => insert(state, runs, now)).pipe(
        Effect.tap((results) => wake(results.some((result) => result.inserted)))
      ),
    claim: (request) => atNow((now) => claim(state, request, now)),
    nextDue: (jobs, schedules, queues) => atNow((now) => nextDue(state, jobs, schedules, queues, now)),
    settle: (settlements) =>
      atNowEither((now) => settle(state, settlements, now)).pipe(
        Effect.tap((results) =>
          wake(settlements.some((settlement, i) => results[i] === true && wakes(state, settlement)))
        )
      ),
    extend: (instanceId, claims, leaseMs, dispatched) =>
      atNow((now) => extend(state, instanceId, claims, leaseMs, dispatched, now)),
    reap: (request) =>
      atNow((now) => reap(state, request, now)).pipe(Effect.tap((reaped) => wake(reaped.givenBack.length > 0))),
    release: (instanceId, keep) =>
      atNow((now) => release(state, instanceId, keep, now)).pipe(Effect.tap((released) => wake(released > 0))),
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
    acquireLease: (request) => atNow((now) => Leases.acquireLease(state, request, now)),
    releaseLease: (name, holder) => atNow((now) => Leases.releaseLease(state, name, holder, now)),
    lease: (name) => atNow((now) => Leases.lease(state, name, now)),
    admin: MemoryAdmin.make(state, wake),
    registerQueue: (definition, instanceId) => atNow((now) => Queues.registerQueue(state, definition, instanceId, now)),
    pauseQueue: (name, paused) =>
      atNow((now) => Queues.pauseQueue(state, name, paused, now)).pipe(Effect.zipRight(wake(!paused))),
    queues: Effect.sync(() => [...state.queues.values()].sort((a, b) => (a.name < b.name ? -1 : 1))),
    queueCounts: Effect.sync(() => Queues.queueCounts(state)),
    wakeups: Stream.fromPubSub(hub),
    blocking: true
  }
})
