import { hostname } from "node:os"
/**
 * Instance options of `JobsS.layer` and `JobsS.layerClient`, their defaults, and their validation.
 *
 * @since 0.1.0
 */
import { Duration, Either } from "effect"
import * as JobSchedule from "./JobSchedule.js"
import { InvalidConfig } from "./JobsSError.js"

/** Options shared by a full instance and a client-only instance. */
export interface ClientOptions {
  /** Default timeout of an attempt (default 30 minutes; 0 disables). */
  readonly runTimeout?: Duration.DurationInput
  /** Default number of retries after errors (default 3; -1 is unlimited). */
  readonly retriesErrorLimit?: number
  /** Default number of retries after timeouts (default 3; -1 is unlimited). */
  readonly retriesTimeoutLimit?: number
  /** A readable name for this instance in the instance table and logs (default `host-pid`). */
  readonly instanceName?: string
  /** The largest encoded arguments accepted by `createRun`, in bytes (default 1 MiB). */
  readonly maxArgsBytes?: number
}

/** Options of a running instance (`JobsS.layer`). */
export interface InstanceOptions extends ClientOptions {
  /** Runs executed at the same time (default 10). */
  readonly workers?: number
  /** How often the poller looks for due runs when nothing wakes it (default 5 seconds). */
  readonly pollInterval?: Duration.DurationInput
  /** The most runs claimed in one round trip (default 1000). */
  readonly pollLimit?: number
  /**
   * How much work, in time at the recent completion rate, this instance claims ahead of its free
   * workers (default 100 ms; 0 claims only for free workers). Fast jobs then come hundreds per round
   * trip; slow jobs are not claimed ahead at all.
   */
  readonly claimAhead?: Duration.DurationInput
  /** How often the timeout reaper looks for expired runs (default 30 seconds). */
  readonly timeoutCheck?: Duration.DurationInput
  /** How often the heartbeat extends leases and records `last seen` (default 5 seconds). */
  readonly heartbeatInterval?: Duration.DurationInput
  /** How long a claim survives without a heartbeat before another instance takes it over (default 30 seconds). */
  readonly leaseDuration?: Duration.DurationInput
  /** How long shutdown waits for running runs before interrupting and handing them back (default 30 seconds). */
  readonly shutdownTimeout?: Duration.DurationInput
  /** The schedules this instance knows: it claims scheduled runs only for these. */
  readonly schedules?: ReadonlyArray<JobSchedule.JobSchedule>
  /**
   * How long finished runs and their history are kept, per final status (defaults: succeeded
   * 1 day, failed and cancelled 14 days); `"forever"` or `Duration.infinity` keeps them.
   */
  readonly retention?: RetentionOptions
  /** How often the instance deletes finished runs past their retention (default 1 minute). */
  readonly retentionCheck?: Duration.DurationInput
}

/** How long to keep finished runs, per final status. */
export interface RetentionOptions {
  /**
   * How long a succeeded occurrence is kept after it ended: a `DurationInput` of at least 1 ms, or
   * `"forever"` (or `Duration.infinity`) to keep it. Default 1 day.
   */
  readonly succeeded?: Duration.DurationInput | "forever"
  /**
   * How long a failed occurrence is kept after it ended: a `DurationInput` of at least 1 ms, or
   * `"forever"` (or `Duration.infinity`) to keep it. Default 14 days.
   */
  readonly failed?: Duration.DurationInput | "forever"
  /**
   * How long a cancelled occurrence is kept after it ended: a `DurationInput` of at least 1 ms, or
   * `"forever"` (or `Duration.infinity`) to keep it. Default 14 days.
   */
  readonly cancelled?: Duration.DurationInput | "forever"
}

/** Retention in milliseconds per final status; `null` keeps forever. */
export interface RetentionConfig {
  /** Milliseconds a succeeded occurrence is kept after it ended; `null` keeps it forever. */
  readonly succeeded: number | null
  /** Milliseconds a failed occurrence is kept after it ended; `null` keeps it forever. */
  readonly failed: number | null
  /** Milliseconds a cancelled occurrence is kept after it ended; `null` keeps it forever. */
  readonly cancelled: number | null
}

/** Client options with defaults applied, durations in milliseconds. */
export interface ClientConfig {
  /** `runTimeout` in milliseconds, stored with runs created without a job or run timeout; 0 disables. */
  readonly runTimeoutMs: number
  /** `retriesErrorLimit`, stored with runs created without a job or run limit; -1 is unlimited. */
  readonly retriesErrorLimit: number
  /** `retriesTimeoutLimit`, stored with runs created without a job or run limit; -1 is unlimited. */
  readonly retriesTimeoutLimit: number
  /** `instanceName`, or `<host name>-<process id>` when none was given. */
  readonly instanceName: string
  /** `maxArgsBytes`: the largest encoded arguments, in bytes (UTF-8), that `createRun` accepts. */
  readonly maxArgsBytes: number
}

/** Instance options with defaults applied, durations in milliseconds. */
export interface InstanceConfig extends ClientConfig {
  /** `workers`: attempts this instance executes at the same time. */
  readonly workers: number
  /** `pollInterval` in milliseconds: the longest the poller sleeps when nothing wakes it. */
  readonly pollIntervalMs: number
  /** `pollLimit`: the most runs one claim takes. */
  readonly pollLimit: number
  /** `claimAhead` in milliseconds: work claimed beyond the free workers, at the recent completion rate; 0 disables. */
  readonly claimAheadMs: number
  /** `timeoutCheck` in milliseconds: the interval of the timeout reaper. */
  readonly timeoutCheckMs: number
  /** `heartbeatInterval` in milliseconds: the interval of the heartbeat (leases, cancel requests, `last seen`). */
  readonly heartbeatIntervalMs: number
  /** `leaseDuration` in milliseconds: how long a claim lasts unless the heartbeat extends it. */
  readonly leaseMs: number
  /** `shutdownTimeout` in milliseconds: how long shutdown waits for running attempts before interrupting them. */
  readonly shutdownTimeoutMs: number
  /** `schedules`: the schedules whose runs this instance claims (names checked and unique). */
  readonly schedules: ReadonlyArray<JobSchedule.JobSchedule>
  /** `retention`, per final status, in milliseconds. */
  readonly retention: RetentionConfig
  /** `retentionCheck` in milliseconds: the interval of the sweep that deletes runs past their retention. */
  readonly retentionCheckMs: number
}

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

/**
 * A validated value, or the `InvalidConfig` error that names the option, its value and the rule.
 *
 * @inline
 */
type Check<A> = Either.Either<A, InvalidConfig>

const fail = (message: string): Check<never> => Either.left(new InvalidConfig({ message }))

const millis = (name: string, input: Duration.DurationInput, min: number): Check<number> => {
  const decoded = Duration.decodeUnknown(input)
  if (decoded._tag === "None") return fail(`${name} is not a duration: ${String(input)}`)
  const ms = Duration.toMillis(decoded.value)
  return Number.isFinite(ms) && ms >= min ? Either.right(ms) : fail(`${name} must be at least ${min} ms, got ${ms}`)
}

const integer = (name: string, value: number, min: number): Check<number> =>
  Number.isInteger(value) && value >= min
    ? Either.right(value)
    : fail(`${name} must be an integer >= ${min}, got ${value}`)

/** Checks a retries limit: a whole number, -1 meaning unlimited. */
export const retriesLimit = (name: string, value: number): Check<number> => integer(name, value, -1)

/** Applies defaults to client options and validates them. */
export const resolveClient = (options: ClientOptions = {}): Check<ClientConfig> =>
  Either.all({
    runTimeoutMs: millis("runTimeout", options.runTimeout ?? defaults.runTimeout, 0),
    retriesErrorLimit: retriesLimit("retriesErrorLimit", options.retriesErrorLimit ?? defaults.retriesErrorLimit),
    retriesTimeoutLimit: retriesLimit(
      "retriesTimeoutLimit",
      options.retriesTimeoutLimit ?? defaults.retriesTimeoutLimit
    ),
    instanceName: Either.right(options.instanceName ?? `${hostname()}-${process.pid}`),
    maxArgsBytes: integer("maxArgsBytes", options.maxArgsBytes ?? defaults.maxArgsBytes, 2)
  })

const uniqueSchedules = (
  schedules: ReadonlyArray<JobSchedule.JobSchedule>
): Check<ReadonlyArray<JobSchedule.JobSchedule>> => {
  const names = new Set<string>()
  for (const schedule of schedules) {
    const valid = JobSchedule.validate(schedule)
    if (valid._tag === "Left") return fail(valid.left.message)
    if (names.has(schedule.name)) return fail(`Two schedules are named ${schedule.name}`)
    names.add(schedule.name)
  }
  return Either.right(schedules)
}

const retentionKeys: ReadonlyArray<keyof RetentionOptions> = ["succeeded", "failed", "cancelled"]

/** One status's retention: at least 1 ms, or `null` for "forever" and `Duration.infinity`. */
const keep = (status: keyof RetentionOptions, input: Duration.DurationInput | "forever"): Check<number | null> => {
  if (input === "forever") return Either.right(null)
  const decoded = Duration.decodeUnknown(input)
  if (decoded._tag === "Some" && !Duration.isFinite(decoded.value)) return Either.right(null)
  return millis(`retention.${status}`, input, 1)
}

const resolveRetention = (options: RetentionOptions = {}): Check<RetentionConfig> => {
  const unknown = Object.keys(options).filter((key) => !retentionKeys.includes(key as keyof RetentionOptions))
  if (unknown.length > 0) {
    return fail(`retention has unknown keys ${unknown.join(", ")} (expected ${retentionKeys.join(", ")})`)
  }
  return Either.all({
    succeeded: keep("succeeded", options.succeeded ?? defaults.retention.succeeded),
    failed: keep("failed", options.failed ?? defaults.retention.failed),
    cancelled: keep("cancelled", options.cancelled ?? defaults.retention.cancelled)
  })
}

/** Applies defaults to instance options and validates them. */
export const resolveInstance = (options: InstanceOptions = {}): Check<InstanceConfig> =>
  Either.all({
    client: resolveClient(options),
    workers: integer("workers", options.workers ?? defaults.workers, 1),
    pollIntervalMs: millis("pollInterval", options.pollInterval ?? defaults.pollInterval, 1),
    pollLimit: integer("pollLimit", options.pollLimit ?? defaults.pollLimit, 1),
    claimAheadMs: millis("claimAhead", options.claimAhead ?? defaults.claimAhead, 0),
    timeoutCheckMs: millis("timeoutCheck", options.timeoutCheck ?? defaults.timeoutCheck, 1),
    heartbeatIntervalMs: millis("heartbeatInterval", options.heartbeatInterval ?? defaults.heartbeatInterval, 1),
    leaseMs: millis("leaseDuration", options.leaseDuration ?? defaults.leaseDuration, 1),
    shutdownTimeoutMs: millis("shutdownTimeout", options.shutdownTimeout ?? defaults.shutdownTimeout, 0),
    schedules: uniqueSchedules(options.schedules ?? []),
    retention: resolveRetention(options.retention),
    retentionCheckMs: millis("retentionCheck", options.retentionCheck ?? defaults.retentionCheck, 1)
  }).pipe(
    Either.flatMap(({ client, ...instance }) =>
      instance.heartbeatIntervalMs >= instance.leaseMs
        ? fail(
            `heartbeatInterval (${instance.heartbeatIntervalMs} ms) must be shorter than leaseDuration (${instance.leaseMs} ms)`
          )
        : Either.right({ ...client, ...instance })
    )
  )
