/**
 * The errors JobsS returns. Every error that crosses the public API is a
 * `Schema.TaggedError`, so it can be matched with `Effect.catchTag`.
 *
 * `JobsSError.ts` re-exports this module: the runtime's internals import it from here.
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import * as RunId from "./runId.js"

/** The job store failed (a database error, a lost connection, a malformed row, a database that cannot be used at start). */
export class JobStoreError extends Schema.TaggedError<JobStoreError>()("JobStoreError", {
  /** What failed, naming the store operation (e.g. `SqlStore.claim failed: ...`). */
  message: Schema.String,
  /** The underlying error (the driver's `SqlError`, for example), when there is one. */
  cause: Schema.optional(Schema.Defect),
  /**
   * `true` when the failure may pass by itself: the database could not be reached, was restarting,
   * busy or deadlocked, and the same operation may succeed later (`awaitRun` waits through such
   * failures). Absent or `false` when retrying cannot help: a malformed row, a refused login, a missing database.
   */
  transient: Schema.optional(Schema.Boolean)
}) {}

/** The arguments given to `createRun` do not satisfy the job's Schema, or do not encode to JSON. */
export class InvalidRunArgs extends Schema.TaggedError<InvalidRunArgs>()("InvalidRunArgs", {
  /** The name of the job whose arguments were rejected. */
  job: Schema.String,
  /** Why: the Schema's parse error, or the size, nesting or JSON rule the encoded arguments broke. */
  message: Schema.String
}) {}

/**
 * An option of `createRun`, `createRuns` or `awaitRun`, or a job definition's policy (`Job.make`,
 * `RetryBackoff`), breaks a rule: a negative delay, a duration that does not decode, an invalid
 * schedule, ... The message names the field, the value and the rule.
 */
export class InvalidRunOptions extends Schema.TaggedError<InvalidRunOptions>()("InvalidRunOptions", {
  /** The option or schedule at fault, its value and the rule it breaks. */
  message: Schema.String
}) {}

/** No run exists for the given id (also when the id is not a run id at all: not a string, or not in the format ids have). */
export class RunNotFound extends Schema.TaggedError<RunNotFound>()("RunNotFound", {
  /** The `RunId` that was looked up. */
  id: Schema.String
}) {
  /** Says which id was looked for, and why it cannot name a run when it is malformed. */
  override get message(): string {
    const rule = RunId.problem(this.id)
    return `No run with id ${JSON.stringify(this.id)} exists${rule === undefined ? "" : `: ${rule}`}`
  }
}

/** `awaitRun` gave up before the run reached a final state. */
export class AwaitRunTimeout extends Schema.TaggedError<AwaitRunTimeout>()("AwaitRunTimeout", {
  /** The `RunId` that was awaited. */
  id: Schema.String,
  /** How long `awaitRun` waited. */
  timeout: Schema.optional(Schema.DurationFromSelf),
  /** The run's status when `awaitRun` gave up, if it was read. */
  status: Schema.optional(Schema.String)
}) {
  /** Says which run, after how long, and in what status it still was. */
  override get message(): string {
    const after = this.timeout === undefined ? "" : ` after ${Duration.format(this.timeout)}`
    const still = this.status === undefined ? "" : `; it is still ${this.status}`
    return `awaitRun gave up on run ${JSON.stringify(this.id)}${after}${still}`
  }
}

/**
 * A job cannot be registered or used: its name breaks the name rule, or the instance already
 * implements a job of that name (`job.toLayer` fails with it, and so does `createRun` for a bad name).
 */
export class InvalidJob extends Schema.TaggedError<InvalidJob>()("InvalidJob", {
  /** The job's name, as given. */
  job: Schema.String,
  /** What is wrong, naming the rule. */
  message: Schema.String
}) {}

/**
 * A configuration value (an option of `JobsS.layer`, `JobsS.layerClient`, `SqlStore.layer` or their
 * `layerConfig`) is invalid. The message names the option, the value and the rule.
 */
export class InvalidConfig extends Schema.TaggedError<InvalidConfig>()("InvalidConfig", {
  /** The option at fault, its value and the rule it breaks. */
  message: Schema.String
}) {}

/**
 * `awaitResult` found the run ended without a result: its final status (`failed` or `cancelled`)
 * and the error stored with it.
 */
export class RunNotSucceeded extends Schema.TaggedError<RunNotSucceeded>()("RunNotSucceeded", {
  /** The `RunId` that was awaited. */
  id: Schema.String,
  /** The run's final status. */
  status: Schema.Literal("failed", "cancelled"),
  /** The error stored with the run (`RunState.runCompletedError`), if any. */
  error: Schema.optional(Schema.String)
}) {
  /** Says which run, how it ended and with what error. */
  override get message(): string {
    const error = this.error === undefined ? "" : `: ${this.error}`
    return `Run ${JSON.stringify(this.id)} ended ${this.status}${error}`
  }
}

/**
 * A result does not fit the job's `success` Schema: an attempt's value that does not encode (or
 * break the JSON or size rules; the attempt then fails and is retried), or a stored result that no
 * longer decodes (`awaitResult`), or a run of another job than the one awaited.
 */
export class InvalidRunResult extends Schema.TaggedError<InvalidRunResult>()("InvalidRunResult", {
  /** The name of the job whose result was rejected. */
  job: Schema.String,
  /** The `RunId`, when a stored result was read. */
  id: Schema.optional(Schema.String),
  /** Why: the Schema's parse error, or the JSON or size rule the encoded result broke. */
  message: Schema.String
}) {}

/**
 * What `Job.snooze` fails with: the attempt ends without an error and its run is due again after
 * `delay`. Only the instance running the job reads it; a job that catches it does not snooze.
 */
export class JobSnooze extends Schema.TaggedError<JobSnooze>()("JobSnooze", {
  /** How long after now (the store's clock) the run is due again. */
  delay: Schema.DurationFromSelf
}) {}

/**
 * A queue definition (`JobQueue.make`) breaks a rule: a name that breaks the name rule, a limit that
 * is not an integer from 1, a rate limit's period under 1 ms, two definitions of one name on one
 * instance. `job.toLayer`, `createRun`, `pauseQueue` and `resumeQueue` fail with it.
 */
export class InvalidQueue extends Schema.TaggedError<InvalidQueue>()("InvalidQueue", {
  /** The queue's name, as given. */
  queue: Schema.String,
  /** The field at fault, its value and the rule it breaks. */
  message: Schema.String
}) {}
