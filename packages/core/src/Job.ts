import type * as Context from "effect/Context"
/**
 * Job definitions: a name, a Schema for the arguments and, optionally, one for
 * the result, shared by every process of a cluster. `job.toLayer(run)`
 * registers the implementation on the instances that provide that layer;
 * `Job.snooze(delay)` ends an attempt so that its run is due again later.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Schema from "effect/Schema"
import type { JobQueue } from "./JobQueue.js"
import type { InvalidJob, InvalidQueue, InvalidRunOptions, JobSnooze } from "./JobsSError.js"
import type { RetryBackoff } from "./RetryBackoff.js"
import type { RunInfo } from "./RunInfo.js"
import { JobsS } from "./internal/jobsSTag.js"
import * as Snooze from "./internal/snooze.js"

/**
 * A job definition. `A` is the decoded argument type, `I` its JSON-encodable form; `S` is the type
 * of the result an implementation returns (`void` without a `success` Schema), `SI` its encoded form.
 */
export interface Job<A, I = A, S = void, SI = S> {
  /** Marks a job definition. */
  readonly _tag: "Job"
  /** The name runs are stored under; it must be the same in every process. */
  readonly name: string
  /** The Schema of the arguments; its encoded form is stored as JSON. */
  readonly args: Schema.Schema<A, I>
  /** The Schema of the result; its encoded form is stored as JSON with the run. `undefined`: no result (`void`). */
  readonly success: Schema.Schema<S, SI> | undefined
  /** Retries after errors for runs of this job (overrides the instance default; -1 unlimited). */
  readonly retriesErrorLimit: number | undefined
  /** Retries after timeouts for runs of this job (overrides the instance default; -1 unlimited). */
  readonly retriesTimeoutLimit: number | undefined
  /** The timeout of one attempt for runs of this job, a `DurationInput` (overrides the instance's; 0 disables). */
  readonly runTimeout: Duration.DurationInput | undefined
  /** The delay before each retry (`undefined`: immediate, `RetryBackoff.immediate`). */
  readonly retryBackoff: RetryBackoff | undefined
  /** The most snoozes (`Job.snooze`) per occurrence; past it the occurrence ends failed. `undefined`: unlimited. */
  readonly maxSnoozes: number | undefined
  /** The queue whose limits hold for this job's runs; `undefined`: in no queue. */
  readonly queue: JobQueue | undefined
  /** The default priority of this job's runs (lower starts first; `undefined`: 0). */
  readonly priority: number | undefined
  /**
   * A layer that registers `run` as this job's implementation on the instance (`JobsS`) in context;
   * it fails with `InvalidJob` when the name breaks the name rule or the instance already implements the job,
   * with `InvalidRunOptions` when the job's policies break a rule, and with `InvalidQueue` when its queue does. The implementation's success
   * value must be the `success` Schema's type; it is encoded with it and stored with the run.
   */
  readonly toLayer: <E, R>(
    run: (args: A) => Effect.Effect<S, E, R>
  ) => Layer.Layer<never, InvalidJob | InvalidRunOptions | InvalidQueue, JobsS | Exclude<R, RunInfo>>
}

/** Any job definition, whatever its argument and result types. */
// biome-ignore lint/suspicious/noExplicitAny: the variance of a Schema's types needs `any` here
export type Any = Job<any, any, any, any>

/**
 * The options of `Job.make`. `Job.make` keeps them as given; a policy that breaks a rule (a
 * negative, undecodable or infinite `runTimeout`, a retries limit that is not an integer from -1, an
 * invalid `retryBackoff`) makes `toLayer` and `createRun` of the job fail with `InvalidRunOptions`.
 */
export interface Options<A, I, S = void, SI = S> {
  /**
   * The job's name. Runs are stored under it and an instance claims only runs of the job names it
   * implements, so every process must use the same name for the same job.
   */
  readonly name: string
  /**
   * The Schema of the arguments. `createRun` encodes them with it and stores the encoded form as
   * JSON (failing with `InvalidRunArgs` when they do not encode); the instance that executes the run
   * decodes them with it, and a run whose stored arguments no longer decode ends failed.
   */
  readonly args: Schema.Schema<A, I>
  /**
   * The Schema of the result (absent: the job returns `void`). The implementation's success value is
   * encoded with it and stored with the run, under the rules of arguments (JSON, nesting, the
   * `maxArgsBytes` limit of the instance running it); a value that does not encode fails the attempt,
   * which is retried like any error. `Scheduler.awaitResult` decodes it.
   */
  readonly success?: Schema.Schema<S, SI>
  /**
   * How many times one occurrence of a run of this job may snooze (`Job.snooze`): an integer from 0;
   * the snooze past it ends the occurrence failed. Absent: unlimited.
   */
  readonly maxSnoozes?: number
  /**
   * How many times a run of this job is retried after its attempt fails (an error or a defect);
   * -1 is unlimited. A `createRun` option overrides it; when absent, the `retriesErrorLimit` of the
   * instance or client that creates the run applies (default 3).
   */
  readonly retriesErrorLimit?: number
  /**
   * How many times a run of this job is retried after its attempt times out; -1 is unlimited. A
   * `createRun` option overrides it; when absent, the `retriesTimeoutLimit` of the instance or client
   * that creates the run applies (default 3).
   */
  readonly retriesTimeoutLimit?: number
  /**
   * The longest an attempt of this job may run, a `DurationInput` (0 disables the timeout); an
   * attempt still running then is interrupted. A `createRun` option overrides it; when absent, the
   * `runTimeout` of the instance or client that creates the run applies (default 30 minutes).
   */
  readonly runTimeout?: Duration.DurationInput
  /**
   * The delay before each retry of this job's runs (default `RetryBackoff.immediate`: no delay).
   * The instance that ends the attempt computes it from its own definition of the job and stores the
   * retry's due time with the run.
   */
  readonly retryBackoff?: RetryBackoff
  /**
   * The queue this job's runs belong to (`JobQueue.make`): its concurrency, rate limit and pause hold
   * for them across the cluster. Absent: in no queue, limited only by the instances' workers.
   */
  readonly queue?: JobQueue
  /**
   * The default priority of this job's runs: an integer, lower starts first (default 0). Among the due
   * runs an instance can take, lower priorities start first, then earlier due times. A `createRun`
   * option overrides it.
   */
  readonly priority?: number
}

/** Defines a job: `Job.make({ name: "Announce", args: Schema.Struct({ name: Schema.String }) })`. */
export const make = <A, I, S = void, SI = S>(options: Options<A, I, S, SI>): Job<A, I, S, SI> => {
  const job: Job<A, I, S, SI> = {
    _tag: "Job",
    name: options.name,
    args: options.args,
    success: options.success,
    maxSnoozes: options.maxSnoozes,
    retriesErrorLimit: options.retriesErrorLimit,
    retriesTimeoutLimit: options.retriesTimeoutLimit,
    runTimeout: options.runTimeout,
    retryBackoff: options.retryBackoff,
    queue: options.queue,
    priority: options.priority,
    toLayer: <E, R>(run: (args: A) => Effect.Effect<S, E, R>) =>
      Layer.scopedDiscard(
        Effect.gen(function* () {
          const instance = yield* JobsS
          // the layer's services become the context of every run (with its RunInfo): nothing to provide per run
          const context = yield* Effect.context<Exclude<R, RunInfo>>()
          yield* instance.register(
            job,
            (args) => run(args as A) as Effect.Effect<unknown, unknown, RunInfo>,
            context as Context.Context<never>
          )
        })
      )
  }
  return job
}

/**
 * Ends the current attempt without an error: its run is pending again, due `delay` after now on the
 * store's clock, and no retry is used (the run history records the attempt `snoozed`). Use it as
 * `return yield* Job.snooze("30 seconds")`; an invalid `delay` fails the attempt with
 * `InvalidRunOptions`. A job option `maxSnoozes` bounds the snoozes of one occurrence.
 */
export const snooze: (delay: Duration.DurationInput) => Effect.Effect<never, JobSnooze | InvalidRunOptions> =
  Snooze.snooze
