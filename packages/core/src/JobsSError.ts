/**
 * The errors JobsS returns. Every error that crosses the public API is a
 * `Schema.TaggedError`, so it can be matched with `Effect.catchTag`.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

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

/**
 * An option of `createRun`, `createRuns` or `awaitRun`, or a job definition's policy (`Job.make`,
 * `RetryBackoff`), breaks a rule: a negative delay, a duration that does not decode, an invalid
 * schedule, ... The message names the field, the value and the rule.
 */
export class InvalidRunOptions extends Schema.TaggedError<InvalidRunOptions>()("InvalidRunOptions", {
  message: Schema.String
}) {}

/** No run exists for the given id. */
export class RunNotFound extends Schema.TaggedError<RunNotFound>()("RunNotFound", {
  id: Schema.String
}) {}

/** `awaitRun` gave up before the run reached a final state. */
export class AwaitRunTimeout extends Schema.TaggedError<AwaitRunTimeout>()("AwaitRunTimeout", {
  id: Schema.String
}) {}

/**
 * A configuration value (an option of `JobsS.layer`, `JobsS.layerClient`, `SqlStore.layer` or their
 * `layerConfig`) is invalid. The message names the option, the value and the rule.
 */
export class InvalidConfig extends Schema.TaggedError<InvalidConfig>()("InvalidConfig", {
  message: Schema.String
}) {}
