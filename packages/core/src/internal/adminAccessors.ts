/**
 * The admin API's accessors on the `Scheduler` in context (`Scheduler.listRuns(...)`, ...).
 * `Scheduler.ts` re-exports this module.
 */
import { Effect } from "effect"
import type * as Api from "./adminApi.js"
import type { JobStoreError } from "./errors.js"
import { Scheduler } from "./schedulerTag.js"

type Admin = Api.SchedulerAdmin

/** Effect type helpers: the success and error of an admin operation, with `Scheduler` required. */
type Op<K extends keyof Admin> = Admin[K] extends (...args: infer P) => Effect.Effect<infer A, infer E>
  ? (...args: P) => Effect.Effect<A, E, Scheduler>
  : never

/** A page of runs matching the filters: `Scheduler.listRuns({ status: "failed", job: "SendEmail" })`. */
export const listRuns: Op<"listRuns"> = (options) => Effect.flatMap(Scheduler, (s) => s.listRuns(options))

/** The stored occurrences by status, by job and by queue. */
export const countRuns: Effect.Effect<
  Api.RunCounts,
  Effect.Effect.Error<Admin["countRuns"]>,
  Scheduler
> = Effect.flatMap(Scheduler, (s) => s.countRuns)

/** Every queue stored or named by an active run: limits, paused flag, running and pending counts. */
export const listQueues: Effect.Effect<ReadonlyArray<Api.QueueState>, JobStoreError, Scheduler> = Effect.flatMap(
  Scheduler,
  (s) => s.listQueues
)

/** Makes a failed or cancelled run pending again with fresh retry counters (its history kept). */
export const retryRun: Op<"retryRun"> = (id) => Effect.flatMap(Scheduler, (s) => s.retryRun(id))

/** `retryRun` for many runs: one report per id. */
export const retryRuns: Op<"retryRuns"> = (ids) => Effect.flatMap(Scheduler, (s) => s.retryRuns(ids))

/** Makes a pending run due now. */
export const runNow: Op<"runNow"> = (id) => Effect.flatMap(Scheduler, (s) => s.runNow(id))

/** `runNow` for many runs: one report per id. */
export const runRunsNow: Op<"runRunsNow"> = (ids) => Effect.flatMap(Scheduler, (s) => s.runRunsNow(ids))

/** Deletes a finished run with its history. */
export const deleteRun: Op<"deleteRun"> = (id) => Effect.flatMap(Scheduler, (s) => s.deleteRun(id))

/** `deleteRun` for many runs: one report per id. */
export const deleteRuns: Op<"deleteRuns"> = (ids) => Effect.flatMap(Scheduler, (s) => s.deleteRuns(ids))

/** The instances seen last, alive or gone. */
export const listInstances: Op<"listInstances"> = (options) =>
  Effect.flatMap(Scheduler, (s) => s.listInstances(options))

/** Recurring runs: next due time and the previous occurrence's outcome. */
export const listSchedules: Op<"listSchedules"> = (options) =>
  Effect.flatMap(Scheduler, (s) => s.listSchedules(options))

/** Attempts per minute over the last minutes (succeeded, failed, retried, timed out). */
export const runThroughput: Op<"runThroughput"> = (options) =>
  Effect.flatMap(Scheduler, (s) => s.runThroughput(options))
