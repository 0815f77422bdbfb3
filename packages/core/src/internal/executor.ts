/**
 * The worker pool: each claimed run executes in its own fiber (kept in a
 * `FiberMap` keyed by run id, so timeout, cancel, lost lease and shutdown are
 * all fiber interruption), then its outcome is settled in the store, fenced by
 * the claim.
 */
import {
  Cause,
  Clock,
  Data,
  Duration,
  Effect,
  Exit,
  Fiber,
  FiberMap,
  FiberSet,
  Metric,
  Option,
  ParseResult,
  Random,
  Schedule,
  Schema
} from "effect"
import type { Scope } from "effect"
import * as JobSchedule from "../JobSchedule.js"
import type { ClaimedRun, JobStoreShape } from "../JobStore.js"
import type { JobStoreError } from "../JobsSError.js"
import * as JobsSMetrics from "../JobsSMetrics.js"
import * as RetryBackoff from "../RetryBackoff.js"
import * as RunId from "../RunId.js"
import { RunInfo, type RunInfoShape } from "../RunInfo.js"
import type { Counters } from "./counters.js"
import * as outcomes from "./outcome.js"
import type { Registration, Registry } from "./registry.js"
import * as Settler from "./settler.js"
import type { StoreClock } from "./storeClock.js"

/** Why the runtime interrupted a run. */
export type StopReason = "cancel" | "lost" | "shutdown"

/** A claim this instance holds, for the heartbeat. */
export interface Held {
  readonly id: string
  readonly claim: string
}

/** The worker pool of an instance. */
export interface Executor {
  /** Worker permits not in use. */
  readonly free: Effect.Effect<number>
  /** Starts a claimed run in its own fiber (the caller made sure a permit is free). */
  readonly start: (run: ClaimedRun) => Effect.Effect<void>
  /** The claims of runs executing or being settled. */
  readonly held: Effect.Effect<ReadonlyArray<Held>>
  /** Interrupts a run if it still executes here under `claim` (any claim when omitted). */
  readonly stop: (id: string, reason: StopReason, claim?: string) => Effect.Effect<void>
  /** Interrupts the executing occurrence of a run by its `RunId`. */
  readonly stopOrigin: (originId: string, reason: StopReason) => Effect.Effect<void>
  /** Settles an attempt decided outside a worker (the reaper); retries store errors. */
  readonly settle: (run: ClaimedRun, outcome: outcomes.Outcome) => Effect.Effect<boolean>
  /** Shutdown: waits up to `timeoutMs` for running runs, interrupts and hands back the rest. */
  readonly drain: (timeoutMs: number) => Effect.Effect<void>
}

/** What an executor needs. */
export interface ExecutorOptions {
  readonly store: JobStoreShape
  readonly registry: Registry
  readonly counters: Counters
  readonly instanceId: string
  readonly clock: StoreClock
  readonly workers: number
  /** How long a settlement is retried through store errors before the lease is left to expire. */
  readonly settleRetryMs: number
  /** Called whenever a worker permit frees up. */
  readonly onFree: Effect.Effect<void>
}

class TimedOut extends Data.TaggedError("TimedOut")<{ readonly millis: number }> {}

const maxErrorLength = 8_000

const describe = (cause: Cause.Cause<unknown>): string => {
  const text = Cause.pretty(cause)
  return text.length > maxErrorLength ? `${text.slice(0, maxErrorLength)}...` : text
}

const runInfo = (run: ClaimedRun, args: unknown): RunInfoShape => ({
  id: run.id,
  originId: RunId.make(run.originId),
  name: run.uniqueName ?? undefined,
  job: run.job,
  args,
  runAt: new Date(run.runAt),
  runTotalCount: run.runTotalCount,
  runSuccessCount: run.runSuccessCount,
  runSuccessLimit: run.runSuccessLimit ?? undefined,
  runStartedAt: new Date(run.startedAt ?? run.runAt),
  runStartedBy: run.startedBy ?? "",
  runTimeout: run.runTimeoutMs,
  runTimeoutAt: run.timeoutAt === null ? undefined : new Date(run.timeoutAt),
  retriesErrorCount: run.retriesErrorCount,
  retriesErrorLimit: run.retriesErrorLimit,
  retriesTimeoutCount: run.retriesTimeoutCount,
  retriesTimeoutLimit: run.retriesTimeoutLimit,
  schedule: run.schedule ?? undefined,
  createdAt: new Date(run.createdAt),
  createdBy: run.createdBy
})

/** Decodes the stored JSON with the job's Schema; a failure is a readable message. */
const decodeArgs = (registration: Registration, text: string): Effect.Effect<unknown, string> =>
  Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (error) => `Stored arguments are not valid JSON: ${String(error)}`
  }).pipe(
    Effect.flatMap((json) =>
      Schema.decodeUnknown(registration.job.args)(json).pipe(
        Effect.mapError(
          (error) =>
            `Stored arguments do not match the job's Schema: ${ParseResult.TreeFormatter.formatErrorSync(error)}`
        )
      )
    )
  )

/** One attempt: decode, provide `RunInfo`, apply the timeout. Fails with a string for invalid input. */
const attempt = (run: ClaimedRun, registration: Registration): Effect.Effect<void, unknown> =>
  Effect.gen(function* () {
    const args = yield* decodeArgs(registration, run.args).pipe(
      Effect.mapError((message) => new InvalidInput({ message }))
    )
    const job = registration.run(args).pipe(Effect.provideService(RunInfo, runInfo(run, args)))
    return yield* run.runTimeoutMs > 0
      ? Effect.timeoutFail(job, {
          duration: Duration.millis(run.runTimeoutMs),
          onTimeout: () => new TimedOut({ millis: run.runTimeoutMs })
        })
      : job
  }).pipe(
    Effect.withSpan("JobsS.run", {
      attributes: { job: run.job, runId: run.originId, occurrence: run.occurrence, attempt: run.runTotalCount },
      kind: "consumer"
    })
  )

class InvalidInput extends Data.TaggedError("InvalidInput")<{ readonly message: string }> {}

/** Maps how the attempt's fiber ended (and why we stopped it, if we did) to an outcome; `undefined` writes nothing. */
const toOutcome = (exit: Exit.Exit<void, unknown>, reason: StopReason | undefined): outcomes.Outcome | undefined => {
  if (Exit.isSuccess(exit)) return { _tag: "Success" }
  const cause = exit.cause
  if (reason !== undefined && Cause.isInterruptedOnly(cause)) {
    return reason === "cancel" ? { _tag: "Cancelled" } : reason === "shutdown" ? { _tag: "Released" } : undefined
  }
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    if (error instanceof TimedOut) return { _tag: "Timeout", error: `Timed out after ${error.millis} ms` }
    if (error instanceof InvalidInput) return { _tag: "Invalid", error: error.message }
  }
  return { _tag: "Error", error: describe(cause) }
}

interface Entry {
  readonly run: ClaimedRun
  reason: StopReason | undefined
}

/** Builds the worker pool in the current scope. */
export const make = (options: ExecutorOptions): Effect.Effect<Executor, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { counters, registry, store } = options
    const attempts = yield* FiberMap.make<string, void, unknown>()
    const workers = yield* FiberSet.make<void, never>()
    const entries = new Map<string, Entry>()
    const settler = yield* Settler.make(store, 100)
    let active = 0

    const settle = (run: ClaimedRun, outcome: outcomes.Outcome): Effect.Effect<boolean> =>
      Effect.gen(function* () {
        const now = yield* options.clock.now
        const random = yield* Random.next
        const registration = registry.get(run.job)
        const decision = outcomes.decide(run, outcome, {
          now,
          random,
          schedule: run.schedule === null ? undefined : registry.schedule(run.schedule),
          backoff: registration?.job.retryBackoff ?? RetryBackoff.immediate
        })
        const held = yield* settler.settle(decision.settlement).pipe(
          Effect.tapError((error: JobStoreError) => Effect.logWarning("Settling a run failed; retrying", error)),
          Effect.retry(
            Schedule.exponential("50 millis", 2).pipe(
              Schedule.either(Schedule.spaced("2 seconds")),
              Schedule.upTo(Duration.millis(options.settleRetryMs))
            )
          ),
          Effect.catchAll((error) =>
            Effect.as(
              Effect.logError(
                "Could not record the outcome of a run; its lease will expire and another instance will take it over",
                error
              ),
              false
            )
          )
        )
        if (!held) {
          yield* Effect.logWarning(
            "The claim on a run was lost before its outcome was recorded; the outcome was discarded"
          )
          return false
        }
        switch (decision.tally) {
          case "succeeded":
            yield* counters.add("runsSucceeded")
            break
          case "rescheduled":
            yield* counters.add("runsRescheduled")
            if (outcome._tag === "Success") yield* counters.add("runsSucceeded")
            break
          default:
            break
        }
        const count = (metric: Metric.Metric.Counter<number>) => Metric.increment(Metric.tagged(metric, "job", run.job))
        if (outcome._tag === "Error" || outcome._tag === "Invalid") {
          yield* counters.add("runsErrors")
          yield* count(JobsSMetrics.runsFailed)
        }
        if (outcome._tag === "Timeout") {
          yield* counters.add("runsTimedOut")
          yield* count(JobsSMetrics.runsTimedOut)
        }
        if (outcome._tag === "Success") yield* count(JobsSMetrics.runsSucceeded)
        if (decision.tally === "retried") yield* count(JobsSMetrics.runsRetried)
        return true
      }).pipe(Effect.annotateLogs({ runId: run.originId, job: run.job, outcome: outcome._tag }))

    const execute = (run: ClaimedRun): Effect.Effect<void> =>
      Effect.gen(function* () {
        const registration = registry.get(run.job)
        if (registration === undefined) {
          yield* settle(run, { _tag: "Released" })
          return
        }
        const schedule = run.schedule === null ? undefined : registry.schedule(run.schedule)
        const now = yield* options.clock.now
        if (schedule?.missed === "skip" && JobSchedule.isMissed(schedule, run.runAt, now)) {
          yield* settle(run, {
            _tag: "Skipped",
            error: `Skipped: this occurrence was due at ${new Date(run.runAt).toISOString()} and missed`
          })
          return
        }
        const entry: Entry = { run, reason: undefined }
        entries.set(run.id, entry)
        yield* counters.add("runsStarted")
        yield* Metric.increment(Metric.tagged(JobsSMetrics.runsStarted, "job", run.job))
        const startedAt = yield* Clock.currentTimeMillis
        yield* Metric.update(Metric.tagged(JobsSMetrics.runLag, "job", run.job), Math.max(0, now - run.runAt))
        const fiber = yield* FiberMap.run(attempts, run.id, attempt(run, registration))
        if (entry.reason !== undefined) yield* Fiber.interrupt(fiber)
        const exit = yield* Fiber.await(fiber)
        const duration = (yield* Clock.currentTimeMillis) - startedAt
        yield* Metric.update(Metric.tagged(JobsSMetrics.runDuration, "job", run.job), duration)
        const outcome = toOutcome(exit, entry.reason)
        if (outcome === undefined) {
          yield* Effect.logWarning("Run interrupted: this instance lost its claim (another instance took it over)")
        } else {
          if (outcome._tag === "Error") yield* Effect.logWarning("Run failed", outcome.error)
          yield* settle(run, outcome)
        }
      }).pipe(
        Effect.ensuring(
          Effect.suspend(() => {
            entries.delete(run.id)
            active -= 1
            return options.onFree
          })
        ),
        Effect.annotateLogs({ runId: run.originId, job: run.job })
      )

    const stop: Executor["stop"] = (id, reason, claim) =>
      Effect.suspend(() => {
        const entry = entries.get(id)
        if (entry === undefined || (claim !== undefined && entry.run.claim !== claim)) return Effect.void
        entry.reason ??= reason
        return FiberMap.get(attempts, id).pipe(
          Effect.flatMap(Fiber.interrupt),
          Effect.asVoid,
          Effect.catchAll(() => Effect.void)
        )
      })

    return {
      free: Effect.sync(() => options.workers - active),
      start: (run) =>
        Effect.suspend(() => {
          active += 1
          return Effect.asVoid(FiberSet.run(workers, execute(run)))
        }),
      held: Effect.sync(() => [...entries.values()].map(({ run }) => ({ id: run.id, claim: run.claim }))),
      stop,
      stopOrigin: (originId, reason) =>
        Effect.forEach(
          [...entries.values()].filter(({ run }) => run.originId === originId),
          ({ run }) => stop(run.id, reason),
          { discard: true }
        ),
      settle,
      drain: (timeoutMs) =>
        Effect.gen(function* () {
          // shutdown runs in a finalizer (uninterruptible): the wait must be interruptible for the timeout to win
          const finished = yield* FiberSet.awaitEmpty(workers).pipe(
            Effect.interruptible,
            Effect.timeout(Duration.millis(timeoutMs)),
            Effect.option
          )
          if (Option.isNone(finished)) {
            const remaining = [...entries.keys()]
            yield* Effect.logInfo(`Shutdown: interrupting ${remaining.length} runs and handing them back`)
            yield* Effect.forEach(remaining, (id) => stop(id, "shutdown"), { discard: true })
            yield* FiberSet.awaitEmpty(workers)
          }
        })
    }
  })
