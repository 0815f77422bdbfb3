/**
 * Job definitions: a name and a Schema for the arguments, shared by every
 * process of a cluster. `job.toLayer(run)` registers the implementation on the
 * instances that provide that layer.
 *
 * @since 0.1.0
 */
import type { Duration, Schema } from "effect"
import { type Context, Effect, Layer } from "effect"
import { JobsS } from "./JobsS.js"
import type { InvalidRunOptions } from "./JobsSError.js"
import type { RetryBackoff } from "./RetryBackoff.js"
import type { RunInfo } from "./RunInfo.js"

/** A job definition. `A` is the decoded argument type, `I` its JSON-encodable form. */
export interface Job<A, I = A> {
  readonly _tag: "Job"
  /** The name runs are stored under; it must be the same in every process. */
  readonly name: string
  /** The Schema of the arguments; its encoded form is stored as JSON. */
  readonly args: Schema.Schema<A, I>
  /** Retries after errors for runs of this job (overrides the instance default; -1 unlimited). */
  readonly retriesErrorLimit: number | undefined
  /** Retries after timeouts for runs of this job (overrides the instance default; -1 unlimited). */
  readonly retriesTimeoutLimit: number | undefined
  /** The timeout of one attempt for runs of this job (overrides the instance default; 0 disables). */
  readonly runTimeout: Duration.DurationInput | undefined
  /** The delay before each retry (overrides the default, immediate). */
  readonly retryBackoff: RetryBackoff | undefined
  /**
   * A layer that registers `run` as this job's implementation on the instance (`JobsS`) in context;
   * it fails with `InvalidRunOptions` when the job's policies break a rule.
   */
  readonly toLayer: <E, R>(
    run: (args: A) => Effect.Effect<void, E, R>
  ) => Layer.Layer<never, InvalidRunOptions, JobsS | Exclude<R, RunInfo>>
}

/** Any job definition, whatever its argument types. */
// biome-ignore lint/suspicious/noExplicitAny: the variance of a Schema's types needs `any` here
export type Any = Job<any, any>

/**
 * The options of `Job.make`. `Job.make` keeps them as given; a policy that breaks a rule (a
 * negative, undecodable or infinite `runTimeout`, a retries limit that is not an integer from -1, an
 * invalid `retryBackoff`) makes `toLayer` and `createRun` of the job fail with `InvalidRunOptions`.
 */
export interface Options<A, I> {
  readonly name: string
  readonly args: Schema.Schema<A, I>
  readonly retriesErrorLimit?: number
  readonly retriesTimeoutLimit?: number
  readonly runTimeout?: Duration.DurationInput
  readonly retryBackoff?: RetryBackoff
}

/** Defines a job: `Job.make({ name: "Announce", args: Schema.Struct({ name: Schema.String }) })`. */
export const make = <A, I>(options: Options<A, I>): Job<A, I> => {
  const job: Job<A, I> = {
    _tag: "Job",
    name: options.name,
    args: options.args,
    retriesErrorLimit: options.retriesErrorLimit,
    retriesTimeoutLimit: options.retriesTimeoutLimit,
    runTimeout: options.runTimeout,
    retryBackoff: options.retryBackoff,
    toLayer: <E, R>(run: (args: A) => Effect.Effect<void, E, R>) =>
      Layer.scopedDiscard(
        Effect.gen(function* () {
          const instance = yield* JobsS
          // the layer's services become the context of every run (with its RunInfo): nothing to provide per run
          const context = yield* Effect.context<Exclude<R, RunInfo>>()
          yield* instance.register(
            job,
            (args) => run(args as A) as Effect.Effect<void, unknown, RunInfo>,
            context as Context.Context<never>
          )
        })
      )
  }
  return job
}
