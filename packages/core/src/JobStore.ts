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
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Stream from "effect/Stream"
import type { JobStoreError } from "./JobsSError.js"
import type { JobStoreAdmin } from "./internal/adminTypes.js"
import type { AttemptOutcome } from "./internal/attempts.js"
import type { ClaimRequest } from "./internal/claimRequest.js"
import type { InstanceCounters, InstanceInfo, StoredInstance } from "./internal/instanceRow.js"
import { JobStore } from "./internal/jobStoreTag.js"
import type { Lease, LeaseRequest } from "./internal/lease.js"
import * as memory from "./internal/memoryStore.js"
import type { QueueOperations } from "./internal/queueRow.js"
import type { ReapRequest, ReapResult } from "./internal/reaping.js"
import type * as RunRow from "./internal/runRow.js"
import { withExportedSpan } from "./internal/traceContext.js"

export type {
  RunField,
  RunFieldInitial,
  RunFieldInsert,
  RunFieldKind,
  RunFieldKinds,
  RunFields,
  RunStatus,
  StoredRunFields
} from "./internal/runRow.js"

export { givenBackUnstarted, runFields, runStatuses } from "./internal/runRow.js"

export type { Lease, LeaseRequest } from "./internal/lease.js"
export type { QueueCount, QueueDefinition, QueueOperations, StoredQueue } from "./internal/queueRow.js"
export type { ClaimRequest } from "./internal/claimRequest.js"

export type * from "./internal/adminTypes.js"

/** The claim token format (`<uuid>:<id>`): how stores make claim tokens and read them back. */
export * as ClaimToken from "./internal/claimToken.js"

/** A run occurrence as the runtime writes it (all values encoded): the fields an insert takes from it. */
export interface NewRun extends RunRow.NewRunFields {}

/** A stored occurrence, as the store returns it. */
export interface StoredRun extends RunRow.StoredRunFields {}

/** A run this instance now holds: `claim` is the fencing token every later write must present. */
export interface ClaimedRun extends StoredRun {
  /** The fencing token, fresh for each claim and each takeover. */
  readonly claim: string
}

/** The outcome of inserting one run. */
export interface InsertResult {
  /** The `RunId` of the new run or, for a unique name already active, of the run that holds it. */
  readonly originId: string
  /** `false` when the unique name was already held by an active run and nothing was inserted. */
  readonly inserted: boolean
}

export type { GivenBackRun, ReapReason, ReapRequest, ReapResult, ReapedRun } from "./internal/reaping.js"

export type { AttemptOutcome }
export { attemptOutcomes } from "./internal/attempts.js"

/**
 * Fields every settlement has: the fenced row and claim, and how the attempt ended for its history
 * (`attempt`, by default `succeeded`, `failed`, `cancelled`, `retried`, `released`, `snoozed`, or the
 * `Next` settlement's `outcome`). A settlement that would make the run pending again or start its next
 * occurrence (`Retry`, `Released`, `Snoozed`, `Next`) of a row whose cancel was requested ends it
 * `cancelled` instead, recorded `cancelled`.
 *
 * @inline
 */
interface Fenced {
  /** The occurrence to write (`StoredRun.id`). */
  readonly id: string
  /** The claim token the runtime holds: the write happens only while the row is running under it. */
  readonly claim: string
  /** The label of the attempt in the run history, when it differs from the one the settlement's tag implies. */
  readonly attempt?: AttemptOutcome
}

/** A fenced write that ends or hands back a claimed attempt; the store records the attempt when the fence holds. */
export type Settlement =
  | (Fenced & {
      /** The attempt succeeded and the run is over. */
      readonly _tag: "Succeeded"
      /** The attempt's result encoded as JSON text, stored with the run and its attempt; absent or `null`: none. */
      readonly result?: string | null
    })
  | (Fenced & {
      /** The run is over, failed. */
      readonly _tag: "Failed"
      /** The error stored with the run. */
      readonly error: string
    })
  | (Fenced & {
      /** The run was cancelled while running. */
      readonly _tag: "Cancelled"
    })
  | (Fenced & {
      /** The attempt failed or timed out; try again at `runAt` with the given counters. */
      readonly _tag: "Retry"
      /** When the retry is due, epoch milliseconds (now plus the backoff's delay). */
      readonly runAt: number
      /** The occurrence's retries after errors, this retry included when it follows an error. */
      readonly retriesErrorCount: number
      /** The occurrence's retries after timeouts, this retry included when it follows a timeout. */
      readonly retriesTimeoutCount: number
      /** The error of the attempt that is retried, stored with the run. */
      readonly error: string
    })
  | (Fenced & {
      /** Hand the run back (instance shutting down): pending again, no attempt used up. */
      readonly _tag: "Released"
    })
  | (Fenced & {
      /** The attempt snoozed (`Job.snooze`): pending again at `runAt`, `snoozeCount + 1`, no retry counter moves. */
      readonly _tag: "Snoozed"
      /** When the run is due again, epoch milliseconds (the store clock plus the snooze's delay). */
      readonly runAt: number
    })
  | (Fenced & {
      /**
       * This occurrence ended (`succeeded`, `failed`, or `cancelled` when a missed occurrence is skipped);
       * `next` is inserted and takes over the unique name.
       */
      readonly _tag: "Next"
      /** The final status of the occurrence that ended. */
      readonly outcome: "succeeded" | "failed" | "cancelled"
      /** The error stored with the occurrence that ended (`null` when it succeeded). */
      readonly error: string | null
      /**
       * The next occurrence: same `originId`, `occurrence + 1`, retry counters at 0; its `result` is the
       * ended attempt's when it succeeded (stored with the ended occurrence and its attempt too).
       */
      readonly next: NewRun
    })

export { attemptError, attemptOutcome, attemptResult, continuesRun } from "./internal/attempts.js"

/**
 * A store operation's span (`Effect.withSpan` without a stack trace), made only while a tracer that
 * exports is installed: Effect's built-in tracer exports nowhere, and each span costs a `createRun`
 * about 4% of its time.
 */
export const withOperationSpan = (
  name: string
): (<A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>) => withExportedSpan(name)

/** One recorded attempt of a run (a row of the run history). */
export interface StoredAttempt {
  /** The `RunId`. */
  readonly originId: string
  /** The occurrence the attempt ran. */
  readonly id: string
  /** The occurrence's number (0 for the first). */
  readonly occurrence: number
  /** The job's name. */
  readonly job: string
  /** The run's `runTotalCount` during the attempt (a released attempt's number is used again). */
  readonly attempt: number
  /** The instance that started the attempt. */
  readonly startedBy: string
  /** When the attempt was claimed, epoch milliseconds. */
  readonly startedAt: number
  /** When its settlement was written, epoch milliseconds. */
  readonly finishedAt: number
  /** How the attempt ended. */
  readonly outcome: AttemptOutcome
  /** The settlement's error (failures, retries, ended occurrences), or `null`. */
  readonly error: string | null
  /** The attempt's result encoded as JSON text (a succeeded attempt of a job with a `success` Schema), or `null`. */
  readonly result: string | null
}

/** What `prune` deletes: finished runs (with their history) that ended longer ago than their outcome's retention. */
export interface PruneRequest {
  /** Milliseconds to keep finished runs per final status; `null` keeps them forever. */
  readonly keepMs: {
    /** Milliseconds succeeded runs are kept after they finished; `null` keeps them. */
    readonly succeeded: number | null
    /** Milliseconds failed runs are kept after they finished; `null` keeps them. */
    readonly failed: number | null
    /** Milliseconds cancelled runs are kept after they finished; `null` keeps them. */
    readonly cancelled: number | null
  }
  /** The most runs deleted by this call. */
  readonly limit: number
}

/** How many pending runs a job has. */
export interface PendingCount {
  /** The job's name. */
  readonly job: string
  /** Its pending runs (due or not). */
  readonly count: number
}

/** One run the heartbeat found still held by its instance. */
export interface HeldRun {
  /** The occurrence's id. */
  readonly id: string
  /** The claim, whose lease was extended. */
  readonly claim: string
  /** Whether `cancel` asked for the run to stop. */
  readonly cancelRequested: boolean
}

export type { InstanceCounters, InstanceInfo, StoredInstance }

/**
 * What `cancel` found: `cancelled` (the run was pending and will never start), `requested` (it is
 * running; the instance running it is asked to interrupt it), `finished` (it had already ended),
 * `notFound` (no such run).
 */
export type CancelResult = "cancelled" | "requested" | "finished" | "notFound"

/** Runs that no instance can claim: their job or schedule is implemented nowhere. */
export interface WaitingRun {
  /** The occurrence's id. */
  readonly id: string
  /** The `RunId`. */
  readonly originId: string
  /** The job's name. */
  readonly job: string
  /** The schedule's name, for a scheduled run. */
  readonly schedule: string | null
  /** When it is (or was) due, epoch milliseconds. */
  readonly runAt: number
}

/** The durable store behind a JobsS cluster (`QueueOperations`: the stored queues). */
export interface JobStoreShape extends QueueOperations {
  /** The store's clock, epoch milliseconds. */
  readonly now: Effect.Effect<number, JobStoreError>
  /** Inserts runs; a unique name that is already active yields the holder's id and inserts nothing. */
  readonly insert: (runs: ReadonlyArray<NewRun>) => Effect.Effect<ReadonlyArray<InsertResult>, JobStoreError>
  /** Claims up to `limit` due pending runs (lowest priority, then oldest due first) within the queues' limits. */
  readonly claim: (request: ClaimRequest) => Effect.Effect<ReadonlyArray<ClaimedRun>, JobStoreError>
  /**
   * The earliest time a pending run this instance could claim may be taken: its due time (a due run of a
   * queue waits on a limit: not counted), or when a slot of the rate window of a named queue with due
   * runs frees (its first start a period old).
   */
  readonly nextDue: (
    jobs: ReadonlyArray<string>,
    schedules: ReadonlyArray<string>,
    queues?: ReadonlyArray<string>
  ) => Effect.Effect<
    {
      /** The store's clock, epoch milliseconds. */
      readonly now: number
      /** The earliest `runAt` of such a run, epoch milliseconds; `null` when there is none. */
      readonly nextRunAt: number | null
    },
    JobStoreError
  >
  /** Applies fenced settlements; each result says whether the claim was still held. */
  readonly settle: (settlements: ReadonlyArray<Settlement>) => Effect.Effect<ReadonlyArray<boolean>, JobStoreError>
  /**
   * Extends the leases of the given claims and reports which are still held, with cancel requests;
   * of those in `dispatched` (attempts started since the last report) it records the start, from
   * which their timeout then counts.
   */
  readonly extend: (
    instanceId: string,
    claims: ReadonlyArray<string>,
    leaseMs: number,
    dispatched: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<HeldRun>, JobStoreError>
  /**
   * Takes over started runs whose lease or timeout expired, with fresh claims (`startedBy` stays the
   * attempt's instance), and gives back those whose lease expired before they started, charging nothing.
   */
  readonly reap: (request: ReapRequest) => Effect.Effect<ReapResult, JobStoreError>
  /**
   * Hands back every run still running under a claim of `instanceId` (`ClaimToken.owned`, claims and
   * takeovers alike) except those in `keep`: pending again, no attempt used up, recorded `released`.
   * Shutdown's last step, for claims whose answer never reached the instance. Returns how many.
   */
  readonly release: (instanceId: string, keep: ReadonlyArray<string>) => Effect.Effect<number, JobStoreError>
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
  /** Takes a free or expired lease, or renews it for its holder (one fenced write); whether `holder` holds it now. */
  readonly acquireLease: (request: LeaseRequest) => Effect.Effect<boolean, JobStoreError>
  /** Frees the lease at once if `holder` holds it, so that another holder's next `acquireLease` succeeds. */
  readonly releaseLease: (name: string, holder: string) => Effect.Effect<void, JobStoreError>
  /** The lease named `name`, or `undefined` when it was never taken. */
  readonly lease: (name: string) => Effect.Effect<Lease | undefined, JobStoreError>
  /** What operators query and change (`Scheduler.listRuns`, `retryRuns`, ...). */
  readonly admin: JobStoreAdmin
  /** Signals that new runs may be due (e.g. PostgreSQL `LISTEN`); never ends. */
  readonly wakeups: Stream.Stream<void>
  /**
   * Whether each call runs to its end on the JavaScript thread (an embedded database behind a
   * synchronous driver, such as SQLite, or memory): nothing else runs while it writes, so the runtime
   * lets ready runs take more turns before it writes a batch of their settlements. Absent means `false`.
   */
  readonly blocking?: boolean
}

export { JobStore }

/** An in-memory store with the same semantics as `SqlStore`, driven by Effect's `Clock` (works with `TestClock`). */
export const makeMemory: Effect.Effect<JobStoreShape> = memory.make

/** An in-memory `JobStore` for unit tests of programs that use JobsS. */
export const layerMemory: Layer.Layer<JobStore> = Layer.effect(JobStore, makeMemory)
