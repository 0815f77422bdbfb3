/**
 * The durable side of JobsS: a small, batch-shaped interface over encoded rows
 * and times in epoch milliseconds. The runtime (`JobsS`) drives it and knows
 * nothing of SQL; stores (`SqlStore`, `JobStore.layerMemory`) know nothing of
 * fibers.
 *
 * Every time comparison (due, lease, timeout) happens on the store's own clock
 * (the database's, or Effect's `Clock` for the memory store), so clock skew
 * between instances cannot make two of them run one claim.
 *
 * @since 0.1.0
 */
import type { Effect, Stream } from "effect"
import { Context, Layer } from "effect"
import type { JobStoreError } from "./JobsSError.js"
import * as memory from "./internal/memoryStore.js"

/** The life cycle of one occurrence of a run. `pending` and `running` are active; the rest are final. */
export type RunStatus = "pending" | "running" | "succeeded" | "failed" | "cancelled"

/** A run occurrence as the runtime writes it (all values encoded). */
export interface NewRun {
  /** The id of this occurrence (unique in the table). */
  readonly id: string
  /** The `RunId` the user holds: the id of the first occurrence. */
  readonly originId: string
  /** 0 for the first occurrence, then 1, 2, ... */
  readonly occurrence: number
  readonly job: string
  /** The job's arguments, encoded with its Schema, as JSON text. */
  readonly args: string
  /** At most one active run holds a unique name across the cluster. */
  readonly uniqueName: string | null
  /** The name of the schedule for recurring runs. */
  readonly schedule: string | null
  /** Due time, epoch milliseconds. */
  readonly runAt: number
  /** Attempts started so far across all occurrences. */
  readonly runTotalCount: number
  /** Successful occurrences so far. */
  readonly runSuccessCount: number
  /** Stop after this many successful occurrences; `null` is unlimited. */
  readonly runSuccessLimit: number | null
  /** Milliseconds a started attempt may run; 0 disables the timeout. */
  readonly runTimeoutMs: number
  readonly retriesErrorCount: number
  /** -1 is unlimited. */
  readonly retriesErrorLimit: number
  readonly retriesTimeoutCount: number
  /** -1 is unlimited. */
  readonly retriesTimeoutLimit: number
  /** The instance that created the run (for later occurrences: the first one's creator). */
  readonly createdBy: string
  /** Creation time of the first occurrence; `null` lets the store stamp its own clock. */
  readonly createdAt: number | null
  /** The W3C `traceparent` of the span that created the run (kept by later occurrences), or `null`. */
  readonly traceContext: string | null
}

/** A stored occurrence, as the store returns it. */
export interface StoredRun extends NewRun {
  readonly status: RunStatus
  readonly createdAt: number
  readonly startedAt: number | null
  /** Instance id of the last claimer. */
  readonly startedBy: string | null
  readonly timeoutAt: number | null
  readonly leaseUntil: number | null
  readonly cancelRequested: boolean
  /** The last error recorded (a failure, a defect, a timeout, a decoding problem). */
  readonly error: string | null
  readonly finishedAt: number | null
}

/** A run this instance now holds: `claim` is the fencing token every later write must present. */
export interface ClaimedRun extends StoredRun {
  readonly claim: string
}

/** The outcome of inserting one run. */
export interface InsertResult {
  /** The `RunId` of the new run or, for a unique name already active, of the run that holds it. */
  readonly originId: string
  readonly inserted: boolean
}

/** What a claimer asks for. */
export interface ClaimRequest {
  readonly instanceId: string
  /** Only runs of these jobs are claimed. */
  readonly jobs: ReadonlyArray<string>
  /** Runs with a schedule are claimed only when it is one of these. */
  readonly schedules: ReadonlyArray<string>
  readonly limit: number
  /** The claim expires unless the heartbeat extends it within this many milliseconds. */
  readonly leaseMs: number
}

/** What a timeout reaper asks for. */
export interface ReapRequest {
  readonly jobs: ReadonlyArray<string>
  readonly schedules: ReadonlyArray<string>
  readonly limit: number
  readonly leaseMs: number
  /** A run is reaped only once its timeout has passed by this many milliseconds. */
  readonly graceMs: number
}

/** Why the reaper took a run over. */
export type ReapReason = "timeout" | "lease"

/** A run the reaper took over, fenced by a fresh claim. */
export interface ReapedRun extends ClaimedRun {
  readonly reason: ReapReason
}

/**
 * How one attempt ended, as its run history records it: `succeeded`; `failed` (an error, with no
 * retry left, or input that does not decode); `retried` (an error, retried); `timedOut` (interrupted
 * by its timeout, retried or not); `cancelled`; `released` (handed back at shutdown, no attempt used
 * up); `lost` (its instance stopped heart-beating and another one took the run over).
 */
export type AttemptOutcome = "succeeded" | "failed" | "retried" | "timedOut" | "cancelled" | "released" | "lost"

/**
 * Fields every settlement has: the fenced row and claim, and how the attempt ended for its history
 * (`attempt`, by default `succeeded`, `failed`, `cancelled`, `retried`, `released`, or the `Next`
 * settlement's `outcome`).
 */
interface Fenced {
  readonly id: string
  readonly claim: string
  readonly attempt?: AttemptOutcome
}

/** A fenced write that ends or hands back a claimed attempt; the store records the attempt when the fence holds. */
export type Settlement =
  /** The attempt succeeded and the run is over. */
  | (Fenced & { readonly _tag: "Succeeded" })
  /** The run is over, failed. */
  | (Fenced & { readonly _tag: "Failed"; readonly error: string })
  /** The run was cancelled while running. */
  | (Fenced & { readonly _tag: "Cancelled" })
  /** The attempt failed or timed out; try again at `runAt` with the given counters. */
  | (Fenced & {
      readonly _tag: "Retry"
      readonly runAt: number
      readonly retriesErrorCount: number
      readonly retriesTimeoutCount: number
      readonly error: string
    })
  /** Hand the run back (instance shutting down): pending again, no attempt used up. */
  | (Fenced & { readonly _tag: "Released" })
  /**
   * This occurrence ended (`succeeded`, `failed`, or `cancelled` when a missed occurrence is skipped);
   * `next` is inserted and takes over the unique name.
   */
  | (Fenced & {
      readonly _tag: "Next"
      readonly outcome: "succeeded" | "failed" | "cancelled"
      readonly error: string | null
      readonly next: NewRun
    })

/** The history label of a settlement: its `attempt`, or the one its tag implies. */
export const attemptOutcome = (settlement: Settlement): AttemptOutcome => {
  if (settlement.attempt !== undefined) return settlement.attempt
  switch (settlement._tag) {
    case "Succeeded":
      return "succeeded"
    case "Failed":
      return "failed"
    case "Cancelled":
      return "cancelled"
    case "Retry":
      return "retried"
    case "Released":
      return "released"
    case "Next":
      return settlement.outcome
  }
}

/** The error a settlement records with its attempt (failures, retries, ended occurrences), or `null`. */
export const attemptError = (settlement: Settlement): string | null =>
  settlement._tag === "Failed" || settlement._tag === "Retry" || settlement._tag === "Next" ? settlement.error : null

/** One recorded attempt of a run (a row of the run history). */
export interface StoredAttempt {
  /** The `RunId`. */
  readonly originId: string
  /** The occurrence the attempt ran. */
  readonly id: string
  readonly occurrence: number
  readonly job: string
  /** The run's `runTotalCount` during the attempt (a released attempt's number is used again). */
  readonly attempt: number
  /** The instance that started the attempt. */
  readonly startedBy: string
  readonly startedAt: number
  readonly finishedAt: number
  readonly outcome: AttemptOutcome
  readonly error: string | null
}

/** What `prune` deletes: finished runs (with their history) that ended longer ago than their outcome's retention. */
export interface PruneRequest {
  /** Milliseconds to keep finished runs per final status; `null` keeps them forever. */
  readonly keepMs: {
    readonly succeeded: number | null
    readonly failed: number | null
    readonly cancelled: number | null
  }
  /** The most runs deleted by this call. */
  readonly limit: number
}

/** How many pending runs a job has. */
export interface PendingCount {
  readonly job: string
  readonly count: number
}

/** One run the heartbeat found still held by its instance. */
export interface HeldRun {
  readonly id: string
  readonly claim: string
  readonly cancelRequested: boolean
}

/** The instance counters, as stored on its row. */
export interface InstanceCounters {
  readonly runsStarted: number
  readonly runsSucceeded: number
  readonly runsRescheduled: number
  readonly runsTimedOut: number
  readonly runsResurrected: number
  readonly runsErrors: number
}

/** An instance's registration row. */
export interface InstanceInfo {
  readonly id: string
  readonly name: string
  readonly workers: number
  readonly jobs: ReadonlyArray<string>
  readonly schedules: ReadonlyArray<string>
  readonly pollIntervalMs: number
  readonly pollLimit: number
}

/** An instance row as stored. */
export interface StoredInstance extends InstanceInfo, InstanceCounters {
  readonly startedAt: number
  readonly lastSeenAt: number
  readonly shutdownAt: number | null
}

/** What `cancel` found. */
export type CancelResult = "cancelled" | "requested" | "finished" | "notFound"

/** Runs that no instance can claim: their job or schedule is implemented nowhere. */
export interface WaitingRun {
  readonly id: string
  readonly originId: string
  readonly job: string
  readonly schedule: string | null
  readonly runAt: number
}

/** The durable store behind a JobsS cluster. */
export interface JobStoreShape {
  /** The store's clock, epoch milliseconds. */
  readonly now: Effect.Effect<number, JobStoreError>
  /** Inserts runs; a unique name that is already active yields the holder's id and inserts nothing. */
  readonly insert: (runs: ReadonlyArray<NewRun>) => Effect.Effect<ReadonlyArray<InsertResult>, JobStoreError>
  /** Claims up to `limit` due pending runs, oldest due first, and marks them running. */
  readonly claim: (request: ClaimRequest) => Effect.Effect<ReadonlyArray<ClaimedRun>, JobStoreError>
  /** The earliest due time of a pending run this instance could claim, and the store's clock. */
  readonly nextDue: (
    jobs: ReadonlyArray<string>,
    schedules: ReadonlyArray<string>
  ) => Effect.Effect<{ readonly now: number; readonly nextRunAt: number | null }, JobStoreError>
  /** Applies fenced settlements; each result says whether the claim was still held. */
  readonly settle: (settlements: ReadonlyArray<Settlement>) => Effect.Effect<ReadonlyArray<boolean>, JobStoreError>
  /** Extends the leases of the given claims and reports which are still held, with cancel requests. */
  readonly extend: (
    instanceId: string,
    claims: ReadonlyArray<string>,
    leaseMs: number
  ) => Effect.Effect<ReadonlyArray<HeldRun>, JobStoreError>
  /** Takes over running runs whose lease or timeout expired, with fresh claims (`startedBy` stays the attempt's instance). */
  readonly reap: (request: ReapRequest) => Effect.Effect<ReadonlyArray<ReapedRun>, JobStoreError>
  /** Cancels a pending run, or asks the instance running it to stop. */
  readonly cancel: (originId: string) => Effect.Effect<CancelResult, JobStoreError>
  /** The latest occurrence of a run. */
  readonly get: (originId: string) => Effect.Effect<StoredRun | undefined, JobStoreError>
  /** The recorded attempts of a run, all occurrences, in the order they ended. */
  readonly history: (originId: string) => Effect.Effect<ReadonlyArray<StoredAttempt>, JobStoreError>
  /** Deletes up to `limit` finished runs past their retention, with their history; returns how many runs it deleted. */
  readonly prune: (request: PruneRequest) => Effect.Effect<number, JobStoreError>
  /** The number of pending runs of each job that has any. */
  readonly pendingCounts: Effect.Effect<ReadonlyArray<PendingCount>, JobStoreError>
  /** Pending runs whose job or schedule no instance seen within `liveWithinMs` implements. */
  readonly waiting: (liveWithinMs: number) => Effect.Effect<ReadonlyArray<WaitingRun>, JobStoreError>
  /** Registers (or re-registers) an instance. */
  readonly registerInstance: (instance: InstanceInfo) => Effect.Effect<void, JobStoreError>
  /** Records that the instance is alive, with its counters. */
  readonly touchInstance: (id: string, counters: InstanceCounters) => Effect.Effect<void, JobStoreError>
  /** Records the instance's final counters and its shutdown time. */
  readonly shutdownInstance: (id: string, counters: InstanceCounters) => Effect.Effect<void, JobStoreError>
  /** The registered instances. */
  readonly instances: Effect.Effect<ReadonlyArray<StoredInstance>, JobStoreError>
  /** Signals that new runs may be due (e.g. PostgreSQL `LISTEN`); never ends. */
  readonly wakeups: Stream.Stream<void>
}

/** The job store service used by `JobsS`. */
export class JobStore extends Context.Tag("@jobss/core/JobStore")<JobStore, JobStoreShape>() {}

/** An in-memory store with the same semantics as `SqlStore`, driven by Effect's `Clock` (works with `TestClock`). */
export const makeMemory: Effect.Effect<JobStoreShape> = memory.make

/** An in-memory `JobStore` for unit tests of programs that use JobsS. */
export const layerMemory: Layer.Layer<JobStore> = Layer.effect(JobStore, makeMemory)
