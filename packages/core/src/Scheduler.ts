/**
 * The client API: create runs, read their state, wait for them, cancel them.
 * Provided by `JobsS.layer` (a full instance) and `JobsS.layerClient` (no workers).
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Job from "./Job.js"
import type { JobQueue } from "./JobQueue.js"
import type { JobSchedule } from "./JobSchedule.js"
import type { CancelResult, WaitingRun } from "./JobStore.js"
import type {
  AwaitRunTimeout,
  InvalidJob,
  InvalidQueue,
  InvalidRunArgs,
  InvalidRunOptions,
  InvalidRunResult,
  JobStoreError,
  RunNotFound,
  RunNotSucceeded
} from "./JobsSError.js"
import type { RunAttempt } from "./RunHistory.js"
import type { RunId } from "./RunId.js"
import type { RunState } from "./RunState.js"
import type { SchedulerAdmin } from "./internal/adminApi.js"
import { Scheduler } from "./internal/schedulerTag.js"

/** Options of `createRun`; run options override the job's, which override the instance defaults. */
export interface CreateRunOptions {
  /**
   * Due this long after now (or, with a schedule, the first occurrence is the schedule's next time after
   * now + delay); at least 0, finite.
   */
  readonly delay?: Duration.DurationInput
  /** Due at this time (plus `delay` when both are given) instead of now. */
  readonly runAt?: Date
  /** Run recurrently on this schedule; instances claim it only when they know the schedule by name. */
  readonly schedule?: JobSchedule
  /** With a schedule: stop after this many successful occurrences (an integer from 1; unlimited when absent). */
  readonly limit?: number
  /** At most one active run with this name across the cluster; creating another returns the active one's id. */
  readonly unique?: string
  /** One attempt's timeout (at least 0, finite; 0 disables); default the job's, else the instance's (30 minutes). */
  readonly runTimeout?: Duration.DurationInput
  /** Retries after errors (an integer from 0; -1 unlimited); default the job's, else the instance's (3). */
  readonly retriesErrorLimit?: number
  /** Retries after timeouts (an integer from 0; -1 unlimited); default the job's, else the instance's (3). */
  readonly retriesTimeoutLimit?: number
  /** Lower starts first among due runs (an integer); default the job's `priority`, else 0. */
  readonly priority?: number
  /**
   * The partition of the job's partitioned queue this run counts in (the name rule); runs without one
   * share a partition. Refused for a job whose queue is not partitioned.
   */
  readonly partitionKey?: string
}

/** Options of `awaitRun`. */
export interface AwaitRunOptions {
  /**
   * Give up with `AwaitRunTimeout` after this long (at least 0). Default, or an infinite duration: no
   * limit, but 1 minute of transient store failures in a row ends the wait.
   */
  readonly timeout?: Duration.DurationInput
  /** How often the run's state is read (default 50 ms; at least 1 ms, finite). */
  readonly pollInterval?: Duration.DurationInput
}

/**
 * Everything `awaitResult` can fail with: those of `awaitRun`, `RunNotSucceeded` (the run ended failed
 * or cancelled, with its stored error), `InvalidRunResult` (the stored result no longer decodes).
 */
export type AwaitResultError =
  | RunNotFound
  | AwaitRunTimeout
  | InvalidRunOptions
  | JobStoreError
  | RunNotSucceeded
  | InvalidRunResult

/** Everything `createRun` can fail with (`InvalidJob`: the job's name breaks the name rule; `InvalidQueue`: its queue breaks one). */
export type CreateRunError = InvalidRunArgs | InvalidRunOptions | InvalidJob | InvalidQueue | JobStoreError

/** The client API of a JobsS instance, and its admin API (`SchedulerAdmin`, see `Admin`). */
export interface SchedulerShape extends SchedulerAdmin {
  /** Creates a run of `job` with `args`; returns the id that addresses it for its whole life. */
  readonly createRun: <A, I, S, SI>(
    job: Job.Job<A, I, S, SI>,
    args: A,
    options?: CreateRunOptions
  ) => Effect.Effect<RunId, CreateRunError>
  /** Creates many runs of one job in one round trip per batch, with the same options; ids in order. */
  readonly createRuns: <A, I, S, SI>(
    job: Job.Job<A, I, S, SI>,
    args: ReadonlyArray<A>,
    options?: CreateRunOptions
  ) => Effect.Effect<ReadonlyArray<RunId>, CreateRunError>
  /** The latest state of the run `id` started. */
  readonly getRunState: (id: RunId) => Effect.Effect<RunState, RunNotFound | JobStoreError>
  /** The recorded attempts of the run, all retries and occurrences, in the order they ended (empty before the first ends). */
  readonly getRunHistory: (id: RunId) => Effect.Effect<ReadonlyArray<RunAttempt>, RunNotFound | JobStoreError>
  /**
   * Waits until the run (all its retries and occurrences) has ended, and returns its final state.
   *
   * The run's state is read every `pollInterval`. A read that fails transiently (a `JobStoreError`
   * with `transient: true`: the database is unreachable, restarting or busy) is tried again, from
   * 100 ms apart up to 1 s apart, so a wait rides out a database outage as the instances do. With a
   * `timeout`, it does so until the timeout (then `AwaitRunTimeout`); without one, until the reads
   * have failed for 1 minute in a row (then the last `JobStoreError`). Any other failure ends the
   * wait at once: `RunNotFound`, or a `JobStoreError` that is not transient (a malformed row).
   */
  readonly awaitRun: (
    id: RunId,
    options?: AwaitRunOptions
  ) => Effect.Effect<RunState, RunNotFound | AwaitRunTimeout | InvalidRunOptions | JobStoreError>
  /**
   * Waits like `awaitRun` until the run has ended, then returns its result decoded with the job's
   * `success` Schema (`RunState.result`: the last successful attempt's; for a scheduled run, its
   * latest successful occurrence's). Fails with `RunNotSucceeded` when the run ended failed or
   * cancelled, and with `InvalidRunResult` when the stored result no longer decodes (or `id` is a run of
   * another job).
   */
  readonly awaitResult: <A, I, S, SI>(
    job: Job.Job<A, I, S, SI>,
    id: RunId,
    options?: AwaitRunOptions
  ) => Effect.Effect<S, AwaitResultError>
  /** Cancels a pending run, or interrupts it where it runs (on any instance). */
  readonly cancelRun: (id: RunId) => Effect.Effect<Exclude<CancelResult, "notFound">, RunNotFound | JobStoreError>
  /**
   * Pending runs that no live instance (seen within the last minute, not shut down) can execute: their
   * job or schedule is implemented nowhere.
   */
  readonly waitingRuns: Effect.Effect<ReadonlyArray<WaitingRun>, JobStoreError>
  /**
   * Pauses a queue (a `JobQueue` or its name) across the cluster: stored, so no instance starts its
   * runs until `resumeQueue` (attempts already running finish). Runs of other queues go on.
   */
  readonly pauseQueue: (queue: JobQueue | string) => Effect.Effect<void, InvalidQueue | JobStoreError>
  /** Resumes a paused queue and wakes the instances (at once on PostgreSQL and in memory; elsewhere at their next poll). */
  readonly resumeQueue: (queue: JobQueue | string) => Effect.Effect<void, InvalidQueue | JobStoreError>
}

export { Scheduler }

export * from "./internal/adminAccessors.js"

/** Creates a run of `job`: `Scheduler.createRun(Announce, { name: "A" }, { delay: "1 second" })`. */
export const createRun = <A, I, S, SI>(
  job: Job.Job<A, I, S, SI>,
  args: A,
  options?: CreateRunOptions
): Effect.Effect<RunId, CreateRunError, Scheduler> =>
  Effect.flatMap(Scheduler, (scheduler) => scheduler.createRun(job, args, options))

/** Creates many runs of one job at once; returns their ids in order. */
export const createRuns = <A, I, S, SI>(
  job: Job.Job<A, I, S, SI>,
  args: ReadonlyArray<A>,
  options?: CreateRunOptions
): Effect.Effect<ReadonlyArray<RunId>, CreateRunError, Scheduler> =>
  Effect.flatMap(Scheduler, (scheduler) => scheduler.createRuns(job, args, options))

/** The latest state of a run. */
export const getRunState = (id: RunId): Effect.Effect<RunState, RunNotFound | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (scheduler) => scheduler.getRunState(id))

/** The attempts of a run in the order they ended: outcome, instance, start, end, duration and error of each. */
export const getRunHistory = (
  id: RunId
): Effect.Effect<ReadonlyArray<RunAttempt>, RunNotFound | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (scheduler) => scheduler.getRunHistory(id))

/**
 * Waits until a run has ended and returns its final state. Transient store failures are read
 * through, up to the `timeout` if one is given, else for 1 minute in a row (see `SchedulerShape.awaitRun`).
 */
export const awaitRun = (
  id: RunId,
  options?: AwaitRunOptions
): Effect.Effect<RunState, RunNotFound | AwaitRunTimeout | InvalidRunOptions | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (scheduler) => scheduler.awaitRun(id, options))

/**
 * Waits until a run has ended and returns its decoded result:
 * `Scheduler.awaitResult(Resize, id, { timeout: "1 minute" })` (see `SchedulerShape.awaitResult`).
 */
export const awaitResult = <A, I, S, SI>(
  job: Job.Job<A, I, S, SI>,
  id: RunId,
  options?: AwaitRunOptions
): Effect.Effect<S, AwaitResultError, Scheduler> =>
  Effect.flatMap(Scheduler, (scheduler) => scheduler.awaitResult(job, id, options))

/** Cancels a run: a pending run never starts; a running one is interrupted on whichever instance runs it. */
export const cancelRun = (
  id: RunId
): Effect.Effect<Exclude<CancelResult, "notFound">, RunNotFound | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (scheduler) => scheduler.cancelRun(id))

/** Pending runs that no live instance can execute (their job or schedule is deployed nowhere). */
export const waitingRuns: Effect.Effect<ReadonlyArray<WaitingRun>, JobStoreError, Scheduler> = Effect.flatMap(
  Scheduler,
  (scheduler) => scheduler.waitingRuns
)

/** Pauses a queue cluster-wide: `Scheduler.pauseQueue(Emails)` or `Scheduler.pauseQueue("emails")`. */
export const pauseQueue = (queue: JobQueue | string): Effect.Effect<void, InvalidQueue | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (scheduler) => scheduler.pauseQueue(queue))

/** Resumes a paused queue cluster-wide and wakes the instances. */
export const resumeQueue = (queue: JobQueue | string): Effect.Effect<void, InvalidQueue | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (scheduler) => scheduler.resumeQueue(queue))
