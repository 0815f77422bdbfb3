/**
 * The admin API's public types and bounds: what `Scheduler.listRuns`, `countRuns`, `retryRun(s)`,
 * `runNow` / `runRunsNow`, `deleteRun(s)`, `listQueues`, `listInstances`, `listSchedules` and `runThroughput`
 * take and return. `SchedulerShape` extends `SchedulerAdmin`.
 *
 * `Admin.ts` re-exports this module.
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type { InvalidAdminQuery, RunActionRefused } from "./adminErrors.js"
import type { JobStoreError, RunNotFound } from "./errors.js"
import type { InstanceCounters } from "./instanceRow.js"
import type { RunId } from "./runId.js"
import type { RunStatus } from "./runRow.js"
import type { RunState } from "./runState.js"

/** The most runs one page of `listRuns` (and schedules one page of `listSchedules`) holds. */
export const maxPageSize = 500

/** The page size when none is given. */
export const defaultPageSize = 50

/** The most ids one bulk change (`retryRuns`, `runRunsNow`, `deleteRuns`) takes. */
export const maxBulkIds = 1000

/**
 * With `argsContains`, the most runs one page reads (those matching the other filters, newest
 * first): the text is searched in these only, and the page's cursor goes on after them.
 */
export const argsScanLimit = 10_000

/**
 * The most occurrences `countRuns` counts per job and status (and per queue and status): a group
 * with more is reported as this many, and its status is named in `capped`.
 */
export const maxCount = 10_000

/** The longest window of `runThroughput`, in minutes (one day). */
export const maxThroughputMinutes = 1440

/** An instance is alive when it has not shut down and was seen within this many milliseconds. */
export const aliveWithinMs = 60_000

/** Filters and paging of `listRuns`; every filter given must hold. */
export interface ListRunsOptions {
  /** Only runs in this status (or one of these). */
  readonly status?: RunStatus | ReadonlyArray<RunStatus>
  /** Only runs of this job. */
  readonly job?: string
  /** Only runs in this queue (`JobQueue.make`'s `name`). */
  readonly queue?: string
  /** Only runs with this unique name (`createRun`'s `unique`). */
  readonly name?: string
  /** Only runs created at or after this time. */
  readonly createdAfter?: Date
  /** Only runs created before this time. */
  readonly createdBefore?: Date
  /**
   * Only runs whose encoded arguments (JSON text) contain this text, case-sensitive. It is not
   * indexed: a page searches the next `argsScanLimit` runs that match the other filters, so a page
   * may hold fewer runs than `limit` (even none) and still have a `cursor` to go on with.
   */
  readonly argsContains?: string
  /** The most runs in the page: an integer from 1 to `maxPageSize` (default `defaultPageSize`). */
  readonly limit?: number
  /** Where to go on: the `cursor` of the previous page (with the same filters). */
  readonly cursor?: string
}

/** A page of runs, newest first. */
export interface RunPage {
  /**
   * The runs: one entry per occurrence (a scheduled run has one per occurrence still stored), newest
   * created first (occurrences of one run share its `createdAt`; `id` then orders them, latest first).
   */
  readonly runs: ReadonlyArray<RunState>
  /** Pass it as `cursor` for the next page; `undefined` when there is none. */
  readonly cursor: string | undefined
}

/** A number of occurrences for each status. */
export type StatusCounts = { readonly [S in RunStatus]: number }

/** The occurrences of one job, by status. */
export interface JobCounts {
  /** The job's name. */
  readonly job: string
  /** All its stored occurrences (a lower bound when `capped` names a status). */
  readonly total: number
  /** Its occurrences in each status. */
  readonly byStatus: StatusCounts
  /** The statuses whose figure is a lower bound: `maxCount` counted and more not. */
  readonly capped: ReadonlyArray<RunStatus>
}

/** The occurrences of one queue, by status. */
export interface QueueCounts {
  /** The queue's name. */
  readonly queue: string
  /** All its stored occurrences (a lower bound when `capped` names a status). */
  readonly total: number
  /** Its occurrences in each status. */
  readonly byStatus: StatusCounts
  /** The statuses whose figure is a lower bound: `maxCount` counted and more not. */
  readonly capped: ReadonlyArray<RunStatus>
}

/**
 * What `countRuns` reports: every stored occurrence, by status, by job and by queue, each job's (and
 * queue's) count in a status exact up to `maxCount`.
 */
export interface RunCounts {
  /** All stored occurrences (a lower bound when `capped` names a status). */
  readonly total: number
  /** Occurrences in each status. */
  readonly byStatus: StatusCounts
  /** The statuses whose figure is a lower bound: some job's count in it reached `maxCount`. */
  readonly capped: ReadonlyArray<RunStatus>
  /** Each job that has occurrences, by name. */
  readonly byJob: ReadonlyArray<JobCounts>
  /** Each queue that has occurrences, by name (runs in no queue are in no entry). */
  readonly byQueue: ReadonlyArray<QueueCounts>
}

/** A queue as the store knows it: its stored limits, its paused flag, its running and pending runs. */
export interface QueueState {
  /** The queue's name. */
  readonly name: string
  /**
   * Whether an instance stored the queue's limits (`JobQueue.make`'s options). A queue only paused,
   * or only named by runs, has none: its runs wait until an instance that defines it starts.
   */
  readonly defined: boolean
  /** The most running runs of the queue cluster-wide (per partition when `partitioned`); `undefined`: unlimited. */
  readonly concurrency: number | undefined
  /** The most running runs of the queue on one instance; `undefined`: unlimited. */
  readonly workerConcurrency: number | undefined
  /** The most starts in any window of `period` (per partition when `partitioned`); `undefined`: unlimited. */
  readonly rateLimit:
    | {
        /** The most starts in one window. */
        readonly limit: number
        /** The window. */
        readonly period: Duration.Duration
      }
    | undefined
  /** Whether `concurrency` and `rateLimit` hold per partition key. */
  readonly partitioned: boolean
  /** Whether the queue is paused: no instance starts its runs. */
  readonly paused: boolean
  /** Its running runs, on every instance. */
  readonly running: number
  /** Its pending runs, due or not. */
  readonly pending: number
  /** When its stored row was written last; `undefined` when nothing is stored (only its runs name it). */
  readonly updatedAt: Date | undefined
}

/**
 * What a bulk change did to one run: `changed`; `notFound` (no such run, or not a run id);
 * `wrongState` (the change does not apply in the run's status); `nameTaken` (a retry whose unique
 * name another active run holds now).
 */
export type RunChangeResult = "changed" | "notFound" | "wrongState" | "nameTaken"

/** One run's line of a bulk change's report. */
export interface RunChangeReport {
  /** The id as given. */
  readonly id: string
  /** What happened. */
  readonly result: RunChangeResult
  /** The status of the run's latest occurrence after the change (unchanged when refused); `undefined` when not found or deleted. */
  readonly status: RunStatus | undefined
}

/** Options of `listInstances`. */
export interface ListInstancesOptions {
  /** The most instances listed, last seen first: an integer from 1 to `maxPageSize` (default 100). */
  readonly limit?: number
}

/** An instance, as its row says. */
export interface InstanceState {
  /** Its id (`runStartedBy` of the runs it started). */
  readonly id: string
  /** Its `instanceName`. */
  readonly name: string
  /** Not shut down, and seen within `aliveWithinMs` on the store's clock. */
  readonly alive: boolean
  /** Its `workers` option. */
  readonly workers: number
  /** The jobs it implements. */
  readonly jobs: ReadonlyArray<string>
  /** The schedules it knows. */
  readonly schedules: ReadonlyArray<string>
  /** Its `pollInterval`. */
  readonly pollInterval: Duration.Duration
  /** Its `pollLimit`. */
  readonly pollLimit: number
  /** When it (last) registered. */
  readonly startedAt: Date
  /** Its last heartbeat. */
  readonly lastSeenAt: Date
  /** When it shut down; `undefined` while it runs or when it stopped without shutting down. */
  readonly shutdownAt: Date | undefined
  /** Its counters as of its last heartbeat. */
  readonly counters: InstanceCounters
}

/** Options of `listSchedules`. */
export interface ListSchedulesOptions {
  /** The most recurring runs in the page: an integer from 1 to `maxPageSize` (default `defaultPageSize`). */
  readonly limit?: number
  /** The `cursor` of the previous page. */
  readonly cursor?: string
}

/** How the occurrence before a recurring run's active one ended. */
export interface PreviousOccurrence {
  /** Its final status. */
  readonly status: RunStatus
  /** When it ended. */
  readonly completedAt: Date | undefined
  /** Its stored error. */
  readonly error: string | undefined
}

/** A recurring run: its schedule, its active occurrence and the last outcome. */
export interface ScheduleState {
  /** The run's id. */
  readonly originId: RunId
  /** The schedule's name. */
  readonly schedule: string
  /** The job's name. */
  readonly job: string
  /** The run's unique name, if any. */
  readonly name: string | undefined
  /** The active occurrence's number (0 for the first). */
  readonly occurrence: number
  /** The active occurrence's status: `pending` (due at `nextRunAt`) or `running`. */
  readonly status: RunStatus
  /** When the active occurrence is (or was) due. */
  readonly nextRunAt: Date
  /** Successful occurrences so far. */
  readonly runSuccessCount: number
  /** The run ends after this many successful occurrences; `undefined` is unlimited. */
  readonly runSuccessLimit: number | undefined
  /** How the previous occurrence ended; `undefined` for the first one, or when it was deleted by retention. */
  readonly previous: PreviousOccurrence | undefined
}

/** A page of recurring runs, by schedule name then `RunId`. */
export interface SchedulePage {
  /** The recurring runs. */
  readonly schedules: ReadonlyArray<ScheduleState>
  /** Pass it as `cursor` for the next page; `undefined` when there is none. */
  readonly cursor: string | undefined
}

/** Options of `runThroughput`. */
export interface ThroughputOptions {
  /** The window, in minutes up to the current one: an integer from 1 to `maxThroughputMinutes` (default 60). */
  readonly minutes?: number
}

/** The attempts that ended within one minute, by outcome (from the run history). */
export interface ThroughputMinute {
  /** The start of the minute, on the store's clock. */
  readonly minute: Date
  /** Attempts that succeeded. */
  readonly succeeded: number
  /** Attempts that failed with no retry left (or whose input did not decode). */
  readonly failed: number
  /** Attempts that failed and were retried. */
  readonly retried: number
  /** Attempts interrupted by their timeout. */
  readonly timedOut: number
}

/** The admin API of `Scheduler`, on which the `jobss` command and the dashboard are built. */
export interface SchedulerAdmin {
  /** A page of runs (occurrences) matching the filters, newest first, and the cursor of the next page. */
  readonly listRuns: (options?: ListRunsOptions) => Effect.Effect<RunPage, InvalidAdminQuery | JobStoreError>
  /** The stored occurrences by status, by job and by queue. */
  readonly countRuns: Effect.Effect<RunCounts, JobStoreError>
  /** Every queue stored or named by an active run, by name: limits, paused flag, running and pending counts. */
  readonly listQueues: Effect.Effect<ReadonlyArray<QueueState>, JobStoreError>
  /**
   * Makes a failed or cancelled run pending again, due now, with fresh retry and snooze counters and
   * its history kept (a dead-letter redrive). For a scheduled run, its latest occurrence is retried.
   */
  readonly retryRun: (id: RunId) => Effect.Effect<void, RunNotFound | RunActionRefused | JobStoreError>
  /** `retryRun` for many runs at once: one report per id, in order. */
  readonly retryRuns: (
    ids: ReadonlyArray<RunId>
  ) => Effect.Effect<ReadonlyArray<RunChangeReport>, InvalidAdminQuery | JobStoreError>
  /** Makes a pending run due now (a run due earlier keeps its time). */
  readonly runNow: (id: RunId) => Effect.Effect<void, RunNotFound | RunActionRefused | JobStoreError>
  /** `runNow` for many runs at once: one report per id, in order. */
  readonly runRunsNow: (
    ids: ReadonlyArray<RunId>
  ) => Effect.Effect<ReadonlyArray<RunChangeReport>, InvalidAdminQuery | JobStoreError>
  /** Deletes a finished run: every occurrence and its history. An active run is refused (cancel it first). */
  readonly deleteRun: (id: RunId) => Effect.Effect<void, RunNotFound | RunActionRefused | JobStoreError>
  /** `deleteRun` for many runs at once: one report per id, in order. */
  readonly deleteRuns: (
    ids: ReadonlyArray<RunId>
  ) => Effect.Effect<ReadonlyArray<RunChangeReport>, InvalidAdminQuery | JobStoreError>
  /** The instances seen last, alive or gone, with their counters, jobs and schedules. */
  readonly listInstances: (
    options?: ListInstancesOptions
  ) => Effect.Effect<ReadonlyArray<InstanceState>, InvalidAdminQuery | JobStoreError>
  /** Recurring runs with an active occurrence: next due time and how the previous occurrence ended. */
  readonly listSchedules: (
    options?: ListSchedulesOptions
  ) => Effect.Effect<SchedulePage, InvalidAdminQuery | JobStoreError>
  /** Attempts per minute (succeeded, failed, retried, timed out) over the last minutes, oldest first, every minute listed. */
  readonly runThroughput: (
    options?: ThroughputOptions
  ) => Effect.Effect<ReadonlyArray<ThroughputMinute>, InvalidAdminQuery | JobStoreError>
}
