/**
 * The errors of the admin API (`Scheduler.listRuns`, `retryRun`, ...). `JobsSError.ts` re-exports
 * this module beside `errors.ts`.
 */
import * as Schema from "effect/Schema"

/**
 * An argument of an admin query or change breaks a rule: a page size out of range, a cursor that
 * this API did not make, an unknown status, too many ids at once. The message names the field, the
 * value and the rule.
 */
export class InvalidAdminQuery extends Schema.TaggedError<InvalidAdminQuery>()("InvalidAdminQuery", {
  /** The field at fault, its value and the rule it breaks. */
  message: Schema.String
}) {}

/**
 * An admin change does not apply to the run in its current state: a retry of a run that has not
 * failed or been cancelled (or whose unique name another active run holds), a `runNow` of a run that
 * is not pending, a delete of a run that is still active.
 */
export class RunActionRefused extends Schema.TaggedError<RunActionRefused>()("RunActionRefused", {
  /** The `RunId` the change was asked for. */
  id: Schema.String,
  /** The change: `retry`, `runNow` or `delete`. */
  action: Schema.Literal("retry", "runNow", "delete"),
  /** The status of the run's latest occurrence. */
  status: Schema.String,
  /** Why the change does not apply, naming the rule. */
  message: Schema.String
}) {}
