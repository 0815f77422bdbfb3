/**
 * The admin API's accessors on the `Scheduler` in context (`Scheduler.listRuns(...)`, ...).
 * `Scheduler.ts` re-exports this module.
 */
import * as Effect from "effect/Effect"
import type * as Api from "./adminApi.js"
import type { InvalidAdminQuery, RunActionRefused } from "./adminErrors.js"
import type { JobStoreError, RunNotFound } from "./errors.js"
import type { RunId } from "./runId.js"
import { Scheduler } from "./schedulerTag.js"

/** A page of runs matching the filters: `Scheduler.listRuns({ status: "failed", job: "SendEmail" })`. */
export const listRuns = (
  options?: Api.ListRunsOptions
): Effect.Effect<Api.RunPage, InvalidAdminQuery | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.listRuns(options))

/** The stored occurrences by status, by job and by queue. */
export const countRuns: Effect.Effect<Api.RunCounts, JobStoreError, Scheduler> = Effect.flatMap(
  Scheduler,
  (s) => s.countRuns
)

/** Every queue stored or named by an active run: limits, paused flag, running and pending counts. */
export const listQueues: Effect.Effect<ReadonlyArray<Api.QueueState>, JobStoreError, Scheduler> = Effect.flatMap(
  Scheduler,
  (s) => s.listQueues
)

/** Makes a failed or cancelled run pending again with fresh retry counters (its history kept). */
export const retryRun = (id: RunId): Effect.Effect<void, RunNotFound | RunActionRefused | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.retryRun(id))

/** `retryRun` for many runs: one report per id. */
export const retryRuns = (
  ids: ReadonlyArray<RunId>
): Effect.Effect<ReadonlyArray<Api.RunChangeReport>, InvalidAdminQuery | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.retryRuns(ids))

/** Makes a pending run due now. */
export const runNow = (id: RunId): Effect.Effect<void, RunNotFound | RunActionRefused | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.runNow(id))

/** `runNow` for many runs: one report per id. */
export const runRunsNow = (
  ids: ReadonlyArray<RunId>
): Effect.Effect<ReadonlyArray<Api.RunChangeReport>, InvalidAdminQuery | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.runRunsNow(ids))

/** Deletes a finished run with its history. */
export const deleteRun = (id: RunId): Effect.Effect<void, RunNotFound | RunActionRefused | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.deleteRun(id))

/** `deleteRun` for many runs: one report per id. */
export const deleteRuns = (
  ids: ReadonlyArray<RunId>
): Effect.Effect<ReadonlyArray<Api.RunChangeReport>, InvalidAdminQuery | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.deleteRuns(ids))

/** The instances seen last, alive or gone. */
export const listInstances = (
  options?: Api.ListInstancesOptions
): Effect.Effect<ReadonlyArray<Api.InstanceState>, InvalidAdminQuery | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.listInstances(options))

/** Recurring runs: next due time and the previous occurrence's outcome. */
export const listSchedules = (
  options?: Api.ListSchedulesOptions
): Effect.Effect<Api.SchedulePage, InvalidAdminQuery | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.listSchedules(options))

/** Attempts per minute over the last minutes (succeeded, failed, retried, timed out). */
export const runThroughput = (
  options?: Api.ThroughputOptions
): Effect.Effect<ReadonlyArray<Api.ThroughputMinute>, InvalidAdminQuery | JobStoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.runThroughput(options))
