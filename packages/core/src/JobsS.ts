import * as Config from "effect/Config"
/**
 * A JobsS instance: the runtime that claims and executes runs (`layer`), or a
 * client that only creates them (`layerClient`). Closing the layer's scope shuts
 * the instance down gracefully.
 *
 * @since 0.1.0
 */
import type * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Job from "./Job.js"
import type { InstanceCounters, JobStore } from "./JobStore.js"
import type { ClientOptions, InstanceOptions } from "./JobsSConfig.js"
import type { InvalidConfig, InvalidJob, InvalidQueue, InvalidRunOptions, JobStoreError } from "./JobsSError.js"
import type { RunInfo } from "./RunInfo.js"
import type { Scheduler } from "./Scheduler.js"
import * as instance from "./internal/instance.js"
import { JobsS } from "./internal/jobsSTag.js"

/** The running instance: where job implementations register. */
export interface JobsSShape {
  /** This instance's id (its row in the instance table, and `runStartedBy` of its runs). */
  readonly instanceId: string
  /** The readable name given by `instanceName`. */
  readonly instanceName: string
  /**
   * Registers a job implementation for the lifetime of the current scope. `run` executes with the
   * services of `context` (the instance's when omitted) plus the run's `RunInfo`. Fails with
   * `InvalidJob` when the job's name breaks the name rule or the job is already implemented here,
   * with `InvalidRunOptions` when the job's policies break a rule, and with `InvalidQueue` when its
   * queue breaks one (or differs from another definition of that queue on this instance). The job's
   * queue definition is stored (the last written is the one the store enforces).
   */
  readonly register: (
    job: Job.Any,
    run: (args: unknown) => Effect.Effect<unknown, unknown, RunInfo>,
    context?: Context.Context<never>
  ) => Effect.Effect<void, InvalidJob | InvalidRunOptions | InvalidQueue, Scope.Scope>
  /** What this instance has done so far. */
  readonly counters: Effect.Effect<InstanceCounters>
}

/** The running JobsS instance service. */
export { JobsS }

/** A running instance: claims and executes runs of the jobs registered on it, and provides `Scheduler`. */
export const layer = (
  options?: InstanceOptions
): Layer.Layer<JobsS | Scheduler, InvalidConfig | JobStoreError, JobStore> =>
  Layer.scopedContext(instance.make(options ?? {}))

/** `Scheduler` only, with no workers: for processes that create runs but never execute them. */
export const layerClient = (options?: ClientOptions): Layer.Layer<Scheduler, InvalidConfig | JobStoreError, JobStore> =>
  Layer.scopedContext(instance.makeClient(options ?? {}))

/**
 * `JobsS.layer` configured from effect `Config` values, e.g. from the environment:
 * `JobsS.layerConfig({ workers: Config.integer("JOBSS_WORKERS"), runTimeout: JobsSConfig.duration("JOBSS_RUN_TIMEOUT") })`.
 * The values read are checked like `layer`'s options.
 */
export const layerConfig = (
  config: Config.Config.Wrap<InstanceOptions>
): Layer.Layer<JobsS | Scheduler, ConfigError.ConfigError | InvalidConfig | JobStoreError, JobStore> =>
  Layer.scopedContext(Effect.flatMap(Config.unwrap(config), instance.make))
