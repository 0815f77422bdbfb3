import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
/**
 * Instance options of `JobsS.layer` and `JobsS.layerClient`, their defaults, and their validation.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import type * as JobSchedule from "./JobSchedule.js"
import type { InvalidConfig } from "./JobsSError.js"
import * as options from "./internal/options.js"

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

/** The defaults of the instance options. */
export const defaults = options.defaults

/** Applies defaults to client options and validates them (`InvalidConfig` names the option, the value and the rule). */
export const resolveClient = (clientOptions: ClientOptions = {}): Either.Either<ClientConfig, InvalidConfig> =>
  options.resolveClient(clientOptions)

/** Applies defaults to instance options and validates them (`InvalidConfig` names the option, the value and the rule). */
export const resolveInstance = (instanceOptions: InstanceOptions = {}): Either.Either<InstanceConfig, InvalidConfig> =>
  options.resolveInstance(instanceOptions)

/**
 * A duration read from configuration as the text it is (e.g. `"30 seconds"`), for `JobsS.layerConfig`:
 * JobsS then checks it like any other value. Prefer it to `Config.duration`, which reads a negative
 * duration as 0 (for `runTimeout`: disabled) before JobsS can refuse it.
 */
export const duration = (name: string): Config.Config<Duration.DurationInput> =>
  Config.mapOrFail(Config.string(name), (text) =>
    options.isDurationText(text)
      ? Either.right(text)
      : Either.left(
          ConfigError.InvalidData([], `Expected a duration such as "30 seconds", got ${JSON.stringify(text)}`)
        )
  )
