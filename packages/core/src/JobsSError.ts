/**
 * The errors JobsS returns. Every error that crosses the public API is a
 * `Schema.TaggedError`, so it can be matched with `Effect.catchTag`.
 *
 * @since 0.1.0
 */
import { Duration, Schema } from "effect"
import * as RunId from "./RunId.js"

/** The job store failed (a database error, a lost connection, a malformed row). */
export class JobStoreError extends Schema.TaggedError<JobStoreError>()("JobStoreError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {}

/** The arguments given to `createRun` do not satisfy the job's Schema, or do not encode to JSON. */
export class InvalidRunArgs extends Schema.TaggedError<InvalidRunArgs>()("InvalidRunArgs", {
  job: Schema.String,
  message: Schema.String
}) {}

/** A run option or an instance option is out of range (a negative delay, an unknown schedule, ...). */
export class InvalidRunOptions extends Schema.TaggedError<InvalidRunOptions>()("InvalidRunOptions", {
  message: Schema.String
}) {}

/** No run exists for the given id (also when the id is not a run id at all: not a string, or not in the format ids have). */
export class RunNotFound extends Schema.TaggedError<RunNotFound>()("RunNotFound", {
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
  job: Schema.String,
  message: Schema.String
}) {}

/** A configuration value (an option of `JobsS.layer` or `SqlStore.layer`) is invalid. */
export class InvalidConfig extends Schema.TaggedError<InvalidConfig>()("InvalidConfig", {
  message: Schema.String
}) {}
