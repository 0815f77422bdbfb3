/**
 * The validation of every option JobsS takes, in one place: instance and client options
 * (`JobsS.layer`, `JobsS.layerClient`, `JobsS.layerConfig`), the options of `createRun` and
 * `createRuns`, the policies of `Job.make`, `RetryBackoff` policies and the options of `awaitRun`.
 * Each option set is a Schema that decodes what the user gave (typed or not: JavaScript callers and
 * `Config` sources give anything) into milliseconds and counts with the defaults applied.
 *
 * Rules, the same at every level:
 * - a duration is a `Duration.DurationInput` (milliseconds as a number, a bigint of nanoseconds, a
 *   `[seconds, nanos]` pair, a string such as `"5 seconds"`, or a `Duration`); anything else is
 *   refused. Negative values and NaN are refused, never read as 0 (Effect's `Duration.decode` clamps
 *   them to 0, which for `runTimeout` would mean "disabled"). Infinity is refused except where it
 *   means "forever" (retention, `awaitRun`'s `timeout`). Finite durations are at most
 *   50,000,000 days, so that a time computed from now stays a date;
 * - a count is an integer (`Number.isSafeInteger`) within its range; retries limits also take -1
 *   (unlimited); the upper bound of every count is 2,147,483,647, the range of the database's `int`
 *   columns.
 *
 * Where a bad value surfaces (nothing throws, and nothing is written):
 * - instance and client options fail the layer with `InvalidConfig`;
 * - `createRun`/`createRuns` and `awaitRun` options fail that call with `InvalidRunOptions`;
 * - `Job.make` and the `RetryBackoff` constructors are plain data constructors: they keep what they
 *   were given and check nothing, like the `JobSchedule` constructors. A job whose policies (or
 *   `retryBackoff`) break a rule is refused where it is used, with `InvalidRunOptions` naming the job
 *   and the field: `job.toLayer(...)` fails the layer that registers it, and `createRun`/`createRuns`
 *   of that job fail before writing anything.
 *
 * Every message names the field, the value and the rule:
 * `runTimeout must be a duration of at least 0 ms, got "-3 minutes"`.
 */
import { hostname } from "node:os"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type * as Job from "../Job.js"
import type { ClientConfig, InstanceConfig } from "../JobsSConfig.js"
import { InvalidConfig, InvalidRunOptions } from "./errors.js"
import * as JobSchedule from "./jobSchedule.js"
import { priority } from "./queueRow.js"
import type { RetryBackoff } from "./retryBackoff.js"
import {
  type Check,
  count,
  decodeWith,
  duration,
  isObject,
  maxTimeMs,
  nested,
  oncePerObject,
  option,
  optionObject,
  optional,
  optionalNested,
  refuse,
  retriesLimit,
  rule,
  show
} from "./rules.js"

export { isDurationText } from "./rules.js"

/** The default of each instance and client option; durations are `DurationInput`s. */
export const defaults = {
  /** Attempts one instance executes at the same time. */
  workers: 10,
  /** The longest the poller sleeps between claims when nothing wakes it. */
  pollInterval: "5 seconds",
  /** The most runs one claim takes. */
  pollLimit: 1000,
  /** The work, at the recent completion rate, claimed beyond the free workers. */
  claimAhead: "100 millis",
  /** The timeout of one attempt. */
  runTimeout: "30 minutes",
  /** Retries after errors. */
  retriesErrorLimit: 3,
  /** Retries after timeouts. */
  retriesTimeoutLimit: 3,
  /** The interval of the timeout reaper. */
  timeoutCheck: "30 seconds",
  /** The interval of the heartbeat. */
  heartbeatInterval: "5 seconds",
  /** How long a claim lasts without a heartbeat. */
  leaseDuration: "30 seconds",
  /** How long shutdown waits for running attempts. */
  shutdownTimeout: "30 seconds",
  /** The largest encoded arguments accepted, in bytes (1 MiB). */
  maxArgsBytes: 1024 * 1024,
  /** How long finished occurrences are kept, per final status. */
  retention: {
    /** Succeeded occurrences. */
    succeeded: "1 day",
    /** Failed occurrences. */
    failed: "14 days",
    /** Cancelled occurrences. */
    cancelled: "14 days"
  },
  /** The interval of the retention sweep. */
  retentionCheck: "1 minute"
} as const

// ---------------------------------------------------------------------------------------------
// Instance and client options

const instanceName: Check<string> = (input) =>
  typeof input === "string" && input.length >= 1 && input.length <= 255
    ? Either.right(input)
    : refuse("must be a string of 1 to 255 characters", input)

/** Valid schedules (`JobSchedule.validate`) with distinct names. */
const schedules: Check<ReadonlyArray<JobSchedule.JobSchedule>> = (input) => {
  if (!Array.isArray(input)) return refuse("must be an array of schedules", input)
  const names = new Set<string>()
  for (const schedule of input) {
    if (!isObject(schedule) || typeof (schedule as { readonly name?: unknown }).name !== "string") {
      return refuse("must hold schedules made by JobSchedule.make, cron or spaced", schedule)
    }
    const valid = JobSchedule.validate(schedule as JobSchedule.JobSchedule)
    if (Either.isLeft(valid)) return Either.left(`must be valid: ${valid.left.message}`)
    if (names.has(valid.right.name))
      return Either.left(`must have distinct names, got two named ${show(valid.right.name)}`)
    names.add(valid.right.name)
  }
  return Either.right(input)
}

/** One status's retention: `null` for `"forever"` or an infinite duration, else at least 1 ms. */
const keep = (status: keyof typeof defaults.retention) =>
  option(
    (input) => Either.map(duration(1, "forever")(input), (ms) => (ms === Number.POSITIVE_INFINITY ? null : ms)),
    () => defaults.retention[status]
  )

const retention = rule((input) => (isObject(input) ? Either.right(input) : refuse("must be an object", input))).pipe(
  Schema.compose(
    Schema.Struct({ succeeded: keep("succeeded"), failed: keep("failed"), cancelled: keep("cancelled") }).annotations({
      parseOptions: { onExcessProperty: "error" }
    }),
    { strict: false }
  )
)

const clientFields = {
  runTimeout: option(duration(0), () => defaults.runTimeout),
  retriesErrorLimit: option(retriesLimit, () => defaults.retriesErrorLimit),
  retriesTimeoutLimit: option(retriesLimit, () => defaults.retriesTimeoutLimit),
  instanceName: option(instanceName, () => `${hostname()}-${process.pid}`),
  maxArgsBytes: option(count(2), () => defaults.maxArgsBytes)
}

/** The names of the resolved durations: `runTimeout` becomes `runTimeoutMs`, ... */
const clientNames = { runTimeout: "runTimeoutMs" } as const

const clientSchema = Schema.Struct(clientFields).pipe(Schema.rename(clientNames))

const instanceSchema = Schema.Struct({
  ...clientFields,
  workers: option(count(1), () => defaults.workers),
  pollInterval: option(duration(1), () => defaults.pollInterval),
  pollLimit: option(count(1), () => defaults.pollLimit),
  claimAhead: option(duration(0), () => defaults.claimAhead),
  timeoutCheck: option(duration(1), () => defaults.timeoutCheck),
  heartbeatInterval: option(duration(1), () => defaults.heartbeatInterval),
  leaseDuration: option(duration(1), () => defaults.leaseDuration),
  shutdownTimeout: option(duration(0), () => defaults.shutdownTimeout),
  schedules: option(schedules, () => []),
  retention: nested(retention, () => ({})),
  retentionCheck: option(duration(1), () => defaults.retentionCheck)
}).pipe(
  Schema.rename({
    ...clientNames,
    pollInterval: "pollIntervalMs",
    claimAhead: "claimAheadMs",
    timeoutCheck: "timeoutCheckMs",
    heartbeatInterval: "heartbeatIntervalMs",
    leaseDuration: "leaseMs",
    shutdownTimeout: "shutdownTimeoutMs",
    retentionCheck: "retentionCheckMs"
  }),
  Schema.filter((config) =>
    config.heartbeatIntervalMs < config.leaseMs
      ? undefined
      : `heartbeatInterval (${config.heartbeatIntervalMs} ms) must be shorter than leaseDuration (${config.leaseMs} ms)`
  )
)

const invalidConfig = (message: string) => new InvalidConfig({ message })

/** Applies defaults to client options (`JobsS.layerClient`) and validates them. */
export const resolveClient: (options: unknown) => Either.Either<ClientConfig, InvalidConfig> = optionObject(
  clientSchema,
  invalidConfig
)

/** Applies defaults to instance options (`JobsS.layer`) and validates them. */
export const resolveInstance: (options: unknown) => Either.Either<InstanceConfig, InvalidConfig> = optionObject(
  instanceSchema,
  invalidConfig
)

// ---------------------------------------------------------------------------------------------
// Retry backoff

const factor: Check<number> = (input) =>
  typeof input === "number" && Number.isFinite(input) && input >= 1
    ? Either.right(input)
    : refuse("must be a finite number of at least 1", input)

const jitter: Check<boolean> = (input) =>
  typeof input === "boolean" ? Either.right(input) : refuse("must be true or false", input)

const policyTags: ReadonlyArray<unknown> = ["Immediate", "Fixed", "Exponential"]

/** An object with the `_tag` of a policy; the policy's fields are checked next. */
const backoffShape = rule((input) =>
  isObject(input) && policyTags.includes((input as { readonly _tag?: unknown })._tag)
    ? Either.right(input)
    : refuse("must be a policy made by RetryBackoff.immediate, fixed or exponential", input)
)

const backoffPolicies = Schema.Union(
  Schema.Struct({ _tag: Schema.Literal("Immediate") }),
  Schema.Struct({ _tag: Schema.Literal("Fixed"), delay: rule(duration(0)) }).pipe(Schema.rename({ delay: "delayMs" })),
  Schema.Struct({
    _tag: Schema.Literal("Exponential"),
    base: rule(duration(0)),
    factor: rule(factor),
    max: rule(duration(0)),
    jitter: rule(jitter)
  }).pipe(
    Schema.rename({ base: "baseMs", max: "maxMs" }),
    Schema.filter((policy) =>
      policy.maxMs >= policy.baseMs
        ? undefined
        : { path: ["max"], message: `must be at least base (${policy.baseMs} ms), got ${policy.maxMs} ms` }
    )
  )
)

/** A `RetryBackoff` with its durations in milliseconds. */
export type BackoffMillis = typeof backoffPolicies.Type

/** A backoff policy: an object with a policy's `_tag`, then the fields of that policy. */
const backoffSchema = backoffShape.pipe(Schema.compose(backoffPolicies, { strict: false }))

/** A backoff policy in milliseconds, or the rules it breaks (`delay must be ..., got ...`). */
export const backoffMillis: (backoff: RetryBackoff) => Either.Either<BackoffMillis, string> = oncePerObject(
  decodeWith(backoffSchema, (message) => message)
)

// ---------------------------------------------------------------------------------------------
// Job policies

const jobSchema = Schema.Struct({
  runTimeout: optional(duration(0)),
  retriesErrorLimit: optional(retriesLimit),
  retriesTimeoutLimit: optional(retriesLimit),
  retryBackoff: optionalNested(backoffSchema),
  maxSnoozes: optional(count(0)),
  priority: optional(priority)
}).pipe(Schema.rename({ runTimeout: "runTimeoutMs" }))

/** The policies of a job definition, in milliseconds; `undefined` falls back to the instance's. */
export type JobPolicies = typeof jobSchema.Type

const decodeJob = decodeWith(jobSchema, (message) => message)

/** Checks a job definition's policies; refused with `InvalidRunOptions` naming the job (`job Announce: ...`). */
export const jobPolicies: (job: Job.Any) => Either.Either<JobPolicies, InvalidRunOptions> = oncePerObject((job) =>
  Either.mapLeft(decodeJob(job), (message) => new InvalidRunOptions({ message: `job ${job.name}: ${message}` }))
)

// ---------------------------------------------------------------------------------------------
// Run options

const invalidRunOptions = (message: string) => new InvalidRunOptions({ message })

const runSchema = Schema.Struct({
  delay: option(duration(0), () => 0),
  runTimeout: optional(duration(0)),
  limit: optional(count(1)),
  retriesErrorLimit: optional(retriesLimit),
  retriesTimeoutLimit: optional(retriesLimit),
  priority: optional(priority)
})

/**
 * The duration and count options of `createRun`, durations in milliseconds (no renaming to `...Ms`
 * here: it would double the cost of every `createRun`); `undefined` falls back to the job's.
 */
export type RunOptions = typeof runSchema.Type

const decodeRunOptions = optionObject(runSchema, invalidRunOptions)
const runOptionKeys = Object.keys(runSchema.fields)
/** What options that set none of these decode to (most calls set none): decoded once. */
const noRunOptions = decodeRunOptions({})

/** Checks the duration and count options of `createRun`/`createRuns`. */
export const runOptions = (options: unknown): Either.Either<RunOptions, InvalidRunOptions> =>
  isObject(options) && runOptionKeys.every((key) => !(key in options)) ? noRunOptions : decodeRunOptions(options)

/** The due time `delayMs` after `base` (`runAt` or now), refused when it is past the latest date. */
export const dueAt = (base: number, delayMs: number): Either.Either<number, InvalidRunOptions> =>
  base + delayMs <= maxTimeMs
    ? Either.right(base + delayMs)
    : Either.left(
        invalidRunOptions(
          `runAt + delay must be at most ${new Date(maxTimeMs).toISOString()}, got ${base} ms + ${delayMs} ms`
        )
      )

// ---------------------------------------------------------------------------------------------
// awaitRun options

const awaitSchema = Schema.Struct({
  timeout: option(duration(0, "infinity"), () => Number.POSITIVE_INFINITY),
  pollInterval: option(duration(1), () => 50)
})

/** The options of `awaitRun` in milliseconds; a `timeout` of Infinity waits forever. */
export type AwaitOptions = typeof awaitSchema.Type

/** Checks the options of `awaitRun`. */
export const awaitOptions: (options: unknown) => Either.Either<AwaitOptions, InvalidRunOptions> = optionObject(
  awaitSchema,
  invalidRunOptions
)
