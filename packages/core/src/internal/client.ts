/**
 * The `Scheduler` implementation shared by full instances and clients:
 * validation and encoding of new runs, state reads, awaiting, cancelling.
 */
import { Effect, Either, ParseResult, Schema } from "effect"
import type * as Job from "../Job.js"
import * as JobSchedule from "../JobSchedule.js"
import type { JobStoreShape, NewRun } from "../JobStore.js"
import type { ClientConfig } from "../JobsSConfig.js"
import { AwaitRunTimeout, InvalidRunArgs, InvalidRunOptions, type JobStoreError, RunNotFound } from "../JobsSError.js"
import * as RunHistory from "../RunHistory.js"
import * as RunId from "../RunId.js"
import * as RunState from "../RunState.js"
import type { CreateRunOptions, SchedulerShape } from "../Scheduler.js"
import * as Options from "./options.js"
import type { StoreClock } from "./storeClock.js"
import * as TraceContext from "./traceContext.js"

/** What a scheduler needs from the instance it belongs to. */
export interface ClientContext {
  readonly store: JobStoreShape
  readonly instanceId: string
  readonly config: ClientConfig
  /** The store's clock: due times are computed on it. */
  readonly clock: StoreClock
  /** Told about every run this client inserted, with its due time (a full instance wakes its poller). */
  readonly onCreated: (runAt: number) => Effect.Effect<void>
  /** Told when a running run's cancellation was requested (a full instance interrupts it at once if it runs here). */
  readonly onCancelRequested: (originId: string) => Effect.Effect<void>
}

/** The shared, validated parts of a run's row, computed once per `createRun(s)` call. */
interface Template {
  readonly baseAt: number
  readonly runAt: number
  readonly schedule: string | null
  readonly runSuccessLimit: number | null
  readonly runTimeoutMs: number
  readonly retriesErrorLimit: number
  readonly retriesTimeoutLimit: number
  readonly uniqueName: string | null
}

const invalid = (message: string) => Either.left(new InvalidRunOptions({ message }))

const nameOf = (what: string, value: string | undefined): Either.Either<string | null, InvalidRunOptions> =>
  value === undefined
    ? Either.right(null)
    : value.length > 0 && value.length <= 255
      ? Either.right(value)
      : invalid(`${what} must have 1 to 255 characters`)

/** Validates run options against the job and the client defaults (run > job > instance). */
const template = (
  job: Job.Any,
  options: CreateRunOptions,
  config: ClientConfig,
  now: number
): Either.Either<Template, InvalidRunOptions> =>
  Either.gen(function* () {
    const run = yield* Options.runOptions(options)
    const policies = yield* Options.jobPolicies(job)
    if (options.runAt !== undefined && Number.isNaN(options.runAt.getTime())) {
      return yield* invalid("runAt is not a valid date")
    }
    const baseAt = yield* Options.dueAt(options.runAt?.getTime() ?? now, run.delay)
    if (run.limit !== undefined && options.schedule === undefined) {
      return yield* invalid(`limit needs a schedule, got limit ${run.limit} without one`)
    }
    const schedule = options.schedule === undefined ? undefined : yield* JobSchedule.validate(options.schedule)
    const runAt = schedule === undefined ? baseAt : yield* JobSchedule.nextRunAt(schedule, baseAt)
    return {
      baseAt,
      runAt,
      schedule: schedule?.name ?? null,
      runSuccessLimit: run.limit ?? null,
      runTimeoutMs: run.runTimeout ?? policies.runTimeoutMs ?? config.runTimeoutMs,
      retriesErrorLimit: run.retriesErrorLimit ?? policies.retriesErrorLimit ?? config.retriesErrorLimit,
      retriesTimeoutLimit: run.retriesTimeoutLimit ?? policies.retriesTimeoutLimit ?? config.retriesTimeoutLimit,
      uniqueName: yield* nameOf("unique", options.unique)
    }
  })

/** The deepest nesting of arrays and objects accepted in encoded arguments. */
const maxArgsDepth = 64

/** How deeply arrays and objects nest in a JSON text (strings are skipped). */
const nestingDepth = (json: string): number => {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < json.length; i++) {
    const char = json[i]
    if (inString) {
      if (char === "\\") i++
      else if (char === '"') inString = false
    } else if (char === '"') inString = true
    else if (char === "{" || char === "[") deepest = Math.max(deepest, ++depth)
    else if (char === "}" || char === "]") depth--
  }
  return deepest
}

/** Encodes arguments with the job's Schema to JSON text, within the size and nesting limits. */
const encodeArgs = <A, I>(job: Job.Job<A, I>, args: A, maxBytes: number): Effect.Effect<string, InvalidRunArgs> =>
  Schema.encode(job.args)(args).pipe(
    Effect.mapError(
      (error) => new InvalidRunArgs({ job: job.name, message: ParseResult.TreeFormatter.formatErrorSync(error) })
    ),
    Effect.flatMap((encoded) =>
      Effect.try({
        try: () => JSON.stringify(encoded) ?? "null",
        catch: (error) =>
          new InvalidRunArgs({ job: job.name, message: `Arguments do not encode to JSON: ${String(error)}` })
      })
    ),
    Effect.catchAllDefect((defect) =>
      Effect.fail(new InvalidRunArgs({ job: job.name, message: `Arguments could not be encoded: ${String(defect)}` }))
    ),
    Effect.filterOrFail(
      (json) => nestingDepth(json) <= maxArgsDepth,
      () =>
        new InvalidRunArgs({
          job: job.name,
          message: `Encoded arguments are nested deeper than ${maxArgsDepth} levels`
        })
    ),
    Effect.filterOrFail(
      (json) => Buffer.byteLength(json, "utf8") <= maxBytes,
      (json) =>
        new InvalidRunArgs({
          job: job.name,
          message: `Encoded arguments are ${Buffer.byteLength(json, "utf8")} bytes, above the limit of ${maxBytes}`
        })
    )
  )

const newRun = (
  job: Job.Any,
  args: string,
  shape: Template,
  instanceId: string,
  now: number,
  traceContext: string | null
): NewRun => {
  const id = RunId.generate(now)
  return {
    id,
    originId: id,
    occurrence: 0,
    job: job.name,
    args,
    uniqueName: shape.uniqueName,
    schedule: shape.schedule,
    runAt: shape.runAt,
    runTotalCount: 0,
    runSuccessCount: 0,
    runSuccessLimit: shape.runSuccessLimit,
    runTimeoutMs: shape.runTimeoutMs,
    retriesErrorCount: 0,
    retriesErrorLimit: shape.retriesErrorLimit,
    retriesTimeoutCount: 0,
    retriesTimeoutLimit: shape.retriesTimeoutLimit,
    createdBy: instanceId,
    createdAt: null,
    traceContext
  }
}

/** Builds the `Scheduler` service over a store. */
export const makeScheduler = (context: ClientContext): SchedulerShape => {
  const { config, instanceId, store } = context

  const createRuns: SchedulerShape["createRuns"] = (job, argsList, options = {}) =>
    Effect.gen(function* () {
      const now = yield* context.clock.now
      const shape = yield* template(job, options, config, now)
      const encoded = yield* Effect.forEach(argsList, (args) => encodeArgs(job, args, config.maxArgsBytes))
      if (encoded.length === 0) return []
      const traceContext = yield* TraceContext.current
      const results = yield* store.insert(
        encoded.map((args) => newRun(job, args, shape, instanceId, now, traceContext))
      )
      if (results.some((result) => result.inserted)) yield* context.onCreated(shape.runAt)
      return results.map((result) => RunId.make(result.originId))
    }).pipe(Effect.withSpan("JobsS.createRun", { attributes: { job: job.name, count: argsList.length } }))

  const getRunState: SchedulerShape["getRunState"] = (id) =>
    store
      .get(id)
      .pipe(
        Effect.flatMap((row) =>
          row === undefined ? Effect.fail(new RunNotFound({ id })) : Effect.succeed(RunState.fromStored(row))
        )
      )

  const getRunHistory: SchedulerShape["getRunHistory"] = (id) =>
    store
      .history(id)
      .pipe(
        Effect.flatMap((attempts) =>
          attempts.length > 0
            ? Effect.succeed(attempts.map(RunHistory.fromStored))
            : Effect.flatMap(getRunState(id), () => Effect.succeed([]))
        )
      )

  const awaitRun: SchedulerShape["awaitRun"] = (id, options = {}) =>
    Either.match(Options.awaitOptions(options), {
      onLeft: Effect.fail,
      onRight: ({ pollInterval, timeout }) => {
        const poll: Effect.Effect<RunState.RunState, RunNotFound | JobStoreError> = getRunState(id).pipe(
          Effect.flatMap((state) =>
            RunState.isFinal(state) ? Effect.succeed(state) : Effect.zipRight(Effect.sleep(pollInterval), poll)
          )
        )
        return timeout === Number.POSITIVE_INFINITY
          ? poll
          : poll.pipe(Effect.timeoutFail({ duration: timeout, onTimeout: () => new AwaitRunTimeout({ id }) }))
      }
    })

  const cancelRun: SchedulerShape["cancelRun"] = (id) =>
    store.cancel(id).pipe(
      Effect.flatMap((result) =>
        result === "notFound" ? Effect.fail(new RunNotFound({ id })) : Effect.succeed(result)
      ),
      Effect.tap((result) => (result === "requested" ? context.onCancelRequested(id) : Effect.void))
    )

  return {
    createRun: (job, args, options) => Effect.map(createRuns(job, [args], options), (ids) => ids[0]!),
    createRuns,
    getRunState,
    getRunHistory,
    awaitRun,
    cancelRun,
    waitingRuns: store.waiting(60_000)
  }
}
