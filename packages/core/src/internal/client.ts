/**
 * The `Scheduler` implementation shared by full instances and clients:
 * validation and encoding of new runs, state reads, awaiting, cancelling.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Job from "../Job.js"
import type { JobStoreShape, NewRun } from "../JobStore.js"
import type { ClientConfig } from "../JobsSConfig.js"
import type { CreateRunOptions, SchedulerShape } from "../Scheduler.js"
import { aliveWithinMs } from "./adminApi.js"
import * as AdminClient from "./adminClient.js"
import * as EncodedJson from "./encodedJson.js"
import * as ErrorText from "./errorText.js"
import {
  AwaitRunTimeout,
  type InvalidQueue,
  InvalidRunArgs,
  InvalidRunOptions,
  InvalidRunResult,
  type JobStoreError,
  RunNotFound,
  RunNotSucceeded
} from "./errors.js"
import * as JobQueue from "./jobQueue.js"
import type { JobQueue as Queue } from "./jobQueue.js"
import * as JobSchedule from "./jobSchedule.js"
import * as Names from "./names.js"
import * as Options from "./options.js"
import * as QueueRow from "./queueRow.js"
import * as RunHistory from "./runHistory.js"
import * as RunId from "./runId.js"
import * as RunState from "./runState.js"
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
  /** Told when this client resumed a queue (a full instance claims at once). */
  readonly onResumed: Effect.Effect<void>
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
  readonly queue: string | null
  readonly priority: number
  readonly partitionKey: string | null
}

const invalid = (message: string) => Either.left(new InvalidRunOptions({ message }))

/** An optional name option: absent, or valid by the name rule. */
const nameOf = (field: string, value: string | undefined): Either.Either<string | null, InvalidRunOptions> => {
  if (value === undefined) return Either.right(null)
  const problem = Names.check(field, value)
  return problem === undefined ? Either.right(value) : invalid(problem)
}

/** Validates run options against the job and the client defaults (run > job > instance). */
const template = (
  job: Job.Any,
  options: CreateRunOptions,
  config: ClientConfig,
  now: number
): Either.Either<Template, InvalidRunOptions | InvalidQueue> =>
  Either.gen(function* () {
    const run = yield* Options.runOptions(options)
    const policies = yield* Options.jobPolicies(job)
    if (options.runAt !== undefined && !(options.runAt instanceof Date && !Number.isNaN(options.runAt.getTime()))) {
      return yield* invalid(`runAt must be a valid Date, got ${Names.quote(options.runAt)}`)
    }
    const baseAt = yield* Options.dueAt(options.runAt?.getTime() ?? now, run.delay)
    if (run.limit !== undefined && options.schedule === undefined) {
      return yield* invalid(`limit needs a schedule, got limit ${run.limit} without one`)
    }
    const schedule = options.schedule === undefined ? undefined : yield* JobSchedule.validate(options.schedule)
    const runAt = schedule === undefined ? baseAt : yield* JobSchedule.nextRunAt(schedule, baseAt)
    const queue = job.queue === undefined ? undefined : yield* QueueRow.definitionOf(job.queue)
    const partitionKey = yield* nameOf("partition key", options.partitionKey)
    if (partitionKey !== null && queue?.partitioned !== true) {
      return yield* invalid(
        `partitionKey ${Names.quote(partitionKey)} needs a partitioned queue, but job ${job.name} ` +
          (queue === undefined ? "is in no queue" : `is in queue ${queue.name}, which is not partitioned`)
      )
    }
    return {
      baseAt,
      runAt,
      schedule: schedule?.name ?? null,
      runSuccessLimit: run.limit ?? null,
      runTimeoutMs: run.runTimeout ?? policies.runTimeoutMs ?? config.runTimeoutMs,
      retriesErrorLimit: run.retriesErrorLimit ?? policies.retriesErrorLimit ?? config.retriesErrorLimit,
      retriesTimeoutLimit: run.retriesTimeoutLimit ?? policies.retriesTimeoutLimit ?? config.retriesTimeoutLimit,
      uniqueName: yield* nameOf("unique name", options.unique),
      queue: queue?.name ?? null,
      priority: run.priority ?? policies.priority ?? 0,
      partitionKey
    }
  })

/** Encodes each run's arguments with the job's Schema to JSON text (`encodedJson.ts`: the JSON, nesting and size rules). */
const encodeArgs = <A, I, S, SI>(
  job: Job.Job<A, I, S, SI>,
  argsList: ReadonlyArray<A>,
  maxBytes: number
): Effect.Effect<Array<string>, InvalidRunArgs> =>
  Effect.mapError(
    EncodedJson.encodeAll(job.args, EncodedJson.args, argsList, maxBytes),
    (message) => new InvalidRunArgs({ job: job.name, message })
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
    traceContext,
    result: null,
    queue: shape.queue,
    priority: shape.priority,
    partitionKey: shape.partitionKey
  }
}

/** How long `awaitRun` without a timeout reads through transient store failures in a row before it fails. */
const awaitOutageTolerance: Duration.Duration = Duration.minutes(1)

/** Between reads of a run's state that failed transiently: from 100 ms, doubling, at most 1 s apart, jittered. */
const awaitRetry = Schedule.exponential("100 millis", 2).pipe(
  Schedule.union(Schedule.spaced("1 second")),
  Schedule.jittered
)

/** Fails with `RunNotFound` for an id that cannot name a run (not a string, or not in the format), without asking the store. */
const knownFormat = (id: RunId.RunId): Effect.Effect<void, RunNotFound> =>
  RunId.problem(id) === undefined
    ? Effect.void
    : Effect.fail(new RunNotFound({ id: typeof id === "string" ? id : Names.quote(id) }))

/**
 * The result of a run in its final state, decoded with the job's `success` Schema (`undefined` is
 * decoded for a run without a stored result: a `void` job); a run that did not succeed, a run of
 * another job, or a stored result that no longer decodes is a typed error.
 */
const resultOf = <A, I, S, SI>(
  job: Job.Job<A, I, S, SI>,
  state: RunState.RunState
): Effect.Effect<S, RunNotSucceeded | InvalidRunResult> => {
  const id = state.originId
  if (state.status === "failed" || state.status === "cancelled") {
    const error = state.runCompletedError
    return Effect.fail(new RunNotSucceeded({ id, status: state.status, ...(error === undefined ? {} : { error }) }))
  }
  if (state.job !== job.name) {
    return Effect.fail(
      new InvalidRunResult({ job: job.name, id, message: `Run ${id} is a run of job ${state.job}, not ${job.name}` })
    )
  }
  const success = (job.success ?? Schema.Void) as Schema.Schema<S, SI>
  return Schema.decodeUnknown(success)(state.result).pipe(
    Effect.mapError(
      (error) =>
        new InvalidRunResult({
          job: job.name,
          id,
          message: `The stored result does not decode with the job's success Schema: ${ParseResult.TreeFormatter.formatErrorSync(error)}`
        })
    ),
    Effect.catchAllDefect((defect) =>
      Effect.fail(
        new InvalidRunResult({
          job: job.name,
          id,
          message: `Decoding the stored result failed: ${ErrorText.fromValue(defect)}`
        })
      )
    )
  )
}

/** Builds the `Scheduler` service over a store. */
export const makeScheduler = (context: ClientContext): SchedulerShape => {
  const { config, instanceId, store } = context

  const createRuns: SchedulerShape["createRuns"] = (job, argsList, options = {}) =>
    Effect.gen(function* () {
      const badName = Names.invalidJob(job.name)
      if (badName !== undefined) return yield* badName
      const now = yield* context.clock.now
      const shape = yield* template(job, options, config, now)
      const encoded = yield* encodeArgs(job, argsList, config.maxArgsBytes)
      if (encoded.length === 0) return []
      const traceContext = yield* TraceContext.current
      const results = yield* store.insert(
        encoded.map((args) => newRun(job, args, shape, instanceId, now, traceContext))
      )
      if (results.some((result) => result.inserted)) yield* context.onCreated(shape.runAt)
      return results.map((result) => RunId.make(result.originId))
    }).pipe(TraceContext.withExportedSpan("JobsS.createRun", { attributes: { job: job.name, count: argsList.length } }))

  const getRunState: SchedulerShape["getRunState"] = (id) =>
    knownFormat(id).pipe(
      Effect.flatMap(() => store.get(id)),
      Effect.flatMap((row) =>
        row === undefined ? Effect.fail(new RunNotFound({ id })) : Effect.succeed(RunState.fromStored(row))
      )
    )

  const getRunHistory: SchedulerShape["getRunHistory"] = (id) =>
    knownFormat(id).pipe(
      Effect.flatMap(() => store.history(id)),
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
        // each read retries its own streak of failures: the tolerance applies to one outage, not to the whole wait
        const read = Effect.retry(getRunState(id), {
          schedule: timeout === Number.POSITIVE_INFINITY ? Schedule.upTo(awaitRetry, awaitOutageTolerance) : awaitRetry,
          while: (error) => error._tag === "JobStoreError" && error.transient === true
        })
        let status: string | undefined
        const poll: Effect.Effect<RunState.RunState, RunNotFound | JobStoreError> = read.pipe(
          Effect.flatMap((state) => {
            status = state.status
            return RunState.isFinal(state) ? Effect.succeed(state) : Effect.zipRight(Effect.sleep(pollInterval), poll)
          })
        )
        return timeout === Number.POSITIVE_INFINITY
          ? poll
          : poll.pipe(
              Effect.timeoutFail({
                duration: timeout,
                onTimeout: () =>
                  new AwaitRunTimeout({
                    id,
                    timeout: Duration.millis(timeout),
                    ...(status === undefined ? {} : { status })
                  })
              })
            )
      }
    })

  const awaitResult: SchedulerShape["awaitResult"] = (job, id, options) =>
    Effect.flatMap(awaitRun(id, options), (state) => resultOf(job, state))

  const cancelRun: SchedulerShape["cancelRun"] = (id) =>
    knownFormat(id).pipe(
      Effect.flatMap(() => store.cancel(id)),
      Effect.flatMap((result) =>
        result === "notFound" ? Effect.fail(new RunNotFound({ id })) : Effect.succeed(result)
      ),
      Effect.tap((result) => (result === "requested" ? context.onCancelRequested(id) : Effect.void))
    )

  /** A queue's name, checked by the name rule (a `JobQueue` is checked whole). */
  const queueName = (queue: Queue | string): Effect.Effect<string, InvalidQueue> =>
    typeof queue === "string"
      ? Effect.as(QueueRow.definitionOf(JobQueue.make({ name: queue })), queue)
      : Effect.map(QueueRow.definitionOf(queue), (definition) => definition.name)

  return {
    createRun: (job, args, options) => Effect.map(createRuns(job, [args], options), (ids) => ids[0]!),
    createRuns,
    getRunState,
    getRunHistory,
    awaitRun,
    awaitResult,
    cancelRun,
    waitingRuns: store.waiting(aliveWithinMs),
    pauseQueue: (queue) => Effect.flatMap(queueName(queue), (name) => store.pauseQueue(name, true)),
    resumeQueue: (queue) =>
      Effect.flatMap(queueName(queue), (name) => Effect.zipRight(store.pauseQueue(name, false), context.onResumed)),
    ...AdminClient.make({ store, clock: context.clock, onDue: context.onCreated })
  }
}
