/**
 * One attempt of a claimed run: decodes its arguments, builds its `RunInfo`,
 * opens its span and forks the job's effect in a fiber of its own, then turns
 * how that fiber ended (and the outcome the runtime stopped it for, if it did)
 * into an ending for completion. Timeout, cancel, lost lease and shutdown are all
 * interruption of that fiber. The per-run work is plain code around the fiber
 * (an observer of its exit): no effect is added per run.
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as RuntimeFlags from "effect/RuntimeFlags"
import type * as Scope from "effect/Scope"
import type { ClaimedRun } from "../JobStore.js"
import type { Counters } from "./counters.js"
import * as Deadlines from "./deadlines.js"
import * as EncodedJson from "./encodedJson.js"
import * as ErrorText from "./errorText.js"
import { InvalidRunResult } from "./errors.js"
import * as JobSchedule from "./jobSchedule.js"
import * as LocalClock from "./localClock.js"
import * as outcomes from "./outcome.js"
import type { Registration, Registry } from "./registry.js"
import { RunInfo } from "./runInfo.js"
import { decodeArgs, decodeArgsAsync, runInfo } from "./runInput.js"
import type { RunMetrics } from "./runMetrics.js"
import * as Snooze from "./snooze.js"
import * as TraceContext from "./traceContext.js"
import * as WorkScheduler from "./workScheduler.js"

/** What an attempt sees of the claim it runs under: set by the attempt and by whoever stops it. */
export interface Slot {
  readonly run: ClaimedRun
  /** The outcome the runtime stopped the attempt for, once it did. */
  stop: outcomes.Stop | undefined
  /** The fiber working for this claim now (the attempt's, or one decoding or settling for it). */
  fiber: Fiber.RuntimeFiber<unknown, unknown> | undefined
  /** Set when the job's fiber is forked: the attempt started, and its timeout counts from now. */
  dispatched: boolean
}

/**
 * Called exactly once per started attempt, when it ended: `ending` is what to settle (`undefined`: the
 * claim was lost, nothing to write); `first`, when present, must run in a fiber of its own before the
 * settlement (a warning to log; `Effect.void` for an attempt that ended before it started, settled in a
 * fiber or the next run would start inside the stack of this one).
 */
export type Ended<S extends Slot> = (
  slot: S,
  ending: outcomes.Ending | undefined,
  first: Effect.Effect<void> | undefined
) => void

/** Starts attempts. */
export interface Attempts<S extends Slot> {
  /** Starts an attempt of `slot.run` (store clock `now`, `Clock` `local`); `ended` is called once it ends. */
  readonly start: (slot: S, now: number, local: number) => void
  /** Stops an attempt: records the outcome it is stopped for and interrupts its fiber (the first stop wins). */
  readonly interrupt: (slot: S, stop: outcomes.Stop) => Effect.Effect<void>
  /** Forks bookkeeping (settling, logging) in the instance's context, uninterruptible from its first step. */
  readonly background: (effect: Effect.Effect<void>) => Fiber.RuntimeFiber<void, unknown>
}

/** What attempts need. */
export interface AttemptsOptions<S extends Slot> {
  readonly registry: Registry
  readonly counters: Counters
  readonly metricsOf: (job: string) => RunMetrics
  /** The store clock, in ms. */
  readonly storeNow: () => number
  /** The largest encoded result accepted, in bytes (the instance's `maxArgsBytes`). */
  readonly maxResultBytes: number
  /** Called once per started attempt, when it ended. */
  readonly ended: Ended<S>
}

/** `JobSchedule.isMissed`; not missed when the schedule throws (the run goes ahead, and its settlement says what failed). */
const isMissed = (schedule: JobSchedule.JobSchedule, dueAt: number, now: number): boolean => {
  try {
    return JobSchedule.isMissed(schedule, dueAt, now)
  } catch {
    return false
  }
}

/** The defect of an attempt whose implementation returned `value`, not an Effect. */
const notAnEffect = (registration: Registration, value: unknown): Effect.Effect<never> => {
  const promise = value instanceof Promise
  // a rejected Promise nobody awaits would end the process (Node's default for unhandled rejections)
  if (promise) value.catch(() => undefined)
  const returned = promise ? "a Promise" : ErrorText.fromValue(value)
  return Effect.die(
    `The implementation of job ${registration.job.name} returned ${returned}, not an Effect` +
      (promise ? " (wrap a Promise in Effect.tryPromise)" : "")
  )
}

/**
 * The effect of one attempt: what the implementation returns for `args`. Called in the attempt's fiber,
 * so an implementation that throws, or returns something that is not an Effect (JavaScript callers can),
 * is a defect of this attempt, recorded and retried like any other.
 */
const attempt = (registration: Registration, args: unknown): Effect.Effect<unknown, unknown, RunInfo> =>
  Effect.suspend(() => {
    // caught here rather than by Effect's run loop, whose handler itself throws on some values (a Proxy whose traps throw)
    try {
      const effect: unknown = registration.run(args)
      return Effect.isEffect(effect)
        ? (effect as Effect.Effect<unknown, unknown, RunInfo>)
        : notAnEffect(registration, effect)
    } catch (thrown) {
      return Effect.die(thrown)
    }
  })

/**
 * The attempt of a job with a `success` Schema: its value encoded as JSON text (the rules of arguments),
 * or a failure saying why it does not encode (the attempt fails, and is retried like any error).
 */
const withResult = (
  registration: Registration,
  job: Effect.Effect<unknown, unknown, RunInfo>,
  maxBytes: number
): Effect.Effect<unknown, unknown, RunInfo> => {
  const success = registration.job.success
  if (success === undefined) return job
  return Effect.flatMap(job, (value) =>
    Effect.mapError(
      EncodedJson.encode(success, EncodedJson.result, value, maxBytes),
      (message) => new InvalidRunResult({ job: registration.job.name, message })
    )
  )
}

/**
 * The span of one attempt, a child of the span that created the run (its stored trace context), on
 * whichever instance it runs. No stack trace: capturing one per run costs more than the rest of the span.
 */
const runSpan = (run: ClaimedRun) => {
  const parent = TraceContext.decode(run.traceContext)
  return Effect.withSpan("JobsS.run", {
    attributes: { job: run.job, runId: run.originId, occurrence: run.occurrence, attempt: run.runTotalCount },
    kind: "consumer",
    captureStackTrace: false,
    ...(Option.isSome(parent) ? { parent: parent.value } : {})
  })
}

/**
 * Maps how the attempt's fiber ended (and the outcome we stopped it for, if we did) to its ending;
 * `undefined` writes nothing. A job with a `success` Schema ended with its encoded result (`withResult`).
 */
const endingOf = (
  registration: Registration,
  run: ClaimedRun,
  exit: Exit.Exit<unknown, unknown>,
  stop: outcomes.Stop | undefined
): outcomes.Ending | undefined => {
  if (Exit.isSuccess(exit)) {
    return { outcome: "succeeded", result: registration.job.success === undefined ? null : (exit.value as string) }
  }
  if (stop !== undefined && Cause.isInterruptedOnly(exit.cause)) return outcomes.stopped(run, stop)
  const snoozed = Snooze.delayOf(exit.cause)
  if (snoozed !== undefined) return { outcome: "snoozed", delayMs: snoozed }
  return { outcome: "failed", error: ErrorText.fromCause(exit.cause), retry: true }
}

/** Why a run ends before it starts: its cancel was requested, or a skipped occurrence. */
const blocked = (registry: Registry, run: ClaimedRun, now: number): outcomes.Ending | undefined => {
  if (run.cancelRequested) return { outcome: "cancelled" }
  const schedule = run.schedule === null ? undefined : registry.schedule(run.schedule)
  if (schedule?.missed === "skip" && isMissed(schedule, run.runAt, now)) {
    return {
      outcome: "cancelled",
      skipped: `Skipped: this occurrence was due at ${new Date(run.runAt).toISOString()} and missed`
    }
  }
  return undefined
}

/** Builds the attempts of an instance in the current scope (its context is the attempts' context). */
export const make = <S extends Slot>(options: AttemptsOptions<S>): Effect.Effect<Attempts<S>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { counters, ended, maxResultBytes, metricsOf, registry, storeNow } = options
    // attempts are forked with the instance's context, not the caller's fiber's; not started in place,
    // or a run ending would start the next inside its own stack, and so on through the whole buffer
    const runtime = yield* Effect.runtime<never>()
    // the per-run bookkeeping is plain code around each attempt's fiber (an observer of its exit), so it
    // reads the clock without effects: Effect's `Clock` (`TestClock` in tests)
    const clock = yield* Effect.clock
    const localNow = () => LocalClock.unsafeMillis(clock)
    // fibers that settle outside an attempt start uninterruptible: interrupted before their first step,
    // they would end without their bookkeeping (the worker permit, the settlement)
    const uninterruptible = Runtime.make({
      context: runtime.context,
      fiberRefs: runtime.fiberRefs,
      runtimeFlags: RuntimeFlags.disable(runtime.runtimeFlags, RuntimeFlags.Interruption)
    })
    // run fibers let I/O in between them (see workScheduler.ts), so claims and settlements are answered while runs last
    const scheduler = WorkScheduler.make((error) => {
      fork(
        uninterruptible,
        Effect.logError(
          "A run's fiber broke inside Effect's runtime and cannot end: its worker stays taken until this instance " +
            "restarts, and its run is taken over once its timeout passes",
          ErrorText.fromValue(error)
        )
      )
    })
    const fork = <A, R>(on: Runtime.Runtime<R>, effect: Effect.Effect<A, unknown, R>) =>
      Runtime.runFork(on)(effect, { immediate: false, scheduler })
    const background = (effect: Effect.Effect<void>) => fork(uninterruptible, effect)
    const annotations = FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentLogAnnotations)
    // an attempt's failure is rendered (safely) and logged by its settlement: its fiber does not report it too,
    // or a logger rendering a cause that cannot be rendered would throw before the attempt's end is observed
    const attemptFiberRefs = FiberRefs.updateAs(runtime.fiberRefs, {
      fiberId: FiberId.none,
      fiberRef: FiberRef.unhandledErrorLogLevel,
      value: Option.none()
    })
    /** The instance's log annotations with `job`, per job (a run adds only its `runId`). */
    const jobAnnotations = new Map<string, HashMap.HashMap<string, unknown>>()
    const annotationsOf = (job: string): HashMap.HashMap<string, unknown> => {
      let found = jobAnnotations.get(job)
      if (found === undefined) {
        found = HashMap.set(annotations, "job", job)
        jobAnnotations.set(job, found)
      }
      return found
    }
    /** The runtime of one attempt: its context, the run's log annotations in its fiber refs (cheaper than providing them in the fiber). */
    const runFor = (run: ClaimedRun, context: Context.Context<RunInfo>): Runtime.Runtime<RunInfo> =>
      Runtime.make({
        context,
        runtimeFlags: runtime.runtimeFlags,
        fiberRefs: FiberRefs.updateAs(attemptFiberRefs, {
          fiberId: FiberId.none,
          fiberRef: FiberRef.currentLogAnnotations,
          value: HashMap.set(annotationsOf(run.job), "runId", run.originId)
        })
      })
    const traced = TraceContext.exportsSpans(yield* Effect.tracer)

    const interrupt = (slot: S, stop: outcomes.Stop): Effect.Effect<void> =>
      Effect.suspend(() => {
        slot.stop ??= stop
        return slot.fiber === undefined ? Effect.void : Effect.asVoid(Fiber.interruptFork(slot.fiber))
      })

    const deadlines = yield* Deadlines.make<S>((slot) => interrupt(slot, "timedOut"))

    /** Starts the attempt, unless it ends before it starts (unknown job, skipped, timed out, bad arguments). */
    const start = (slot: S, now: number, local: number): void => {
      const { run } = slot
      const registration = registry.get(run.job)
      const early = registration === undefined ? ({ outcome: "released" } as const) : blocked(registry, run, now)
      if (early !== undefined || registration === undefined) {
        ended(slot, early ?? { outcome: "released" }, Effect.void)
        return
      }
      // the timeout counts from the start (the store's timeout_at from the heartbeat's report of it, which
      // comes later): a wait in the buffer uses none of it
      const timeoutMs = run.runTimeoutMs > 0 ? run.runTimeoutMs : undefined
      const decoded = decodeArgs(registration, run.args)
      if (decoded === undefined) {
        // an asynchronous Schema: decode in a fiber of its own, then start
        slot.fiber = background(
          Effect.flatMap(Effect.either(decodeArgsAsync(registration, run.args)), (args) =>
            Effect.sync(() => forkJob(slot, registration, args, storeNow(), localNow(), timeoutMs))
          )
        )
        return
      }
      forkJob(slot, registration, decoded, now, local, timeoutMs)
    }

    /** Forks the job with `RunInfo` and the run's log annotations in its initial context; its exit ends the attempt. */
    const forkJob = (
      slot: S,
      registration: Registration,
      decoded: Either.Either<unknown, string>,
      now: number,
      local: number,
      timeoutMs: number | undefined
    ): void => {
      const { run } = slot
      if (Either.isLeft(decoded)) {
        const warning = Effect.logWarning("Run failed: its stored arguments do not decode", decoded.left)
        ended(slot, { outcome: "failed", error: decoded.left, retry: false }, warning)
        return
      }
      const args = decoded.right
      const metrics = metricsOf(run.job)
      metrics.started()
      metrics.lag(Math.max(0, now - run.runAt))
      if (run.queue !== null) metrics.queueWait(run.queue, Math.max(0, now - run.runAt))
      counters.add("runsStarted")
      slot.dispatched = true
      if (timeoutMs !== undefined) deadlines.add(slot, local + timeoutMs)
      const context = Context.add(registration.context ?? runtime.context, RunInfo, runInfo(run, args))
      const job = withResult(registration, attempt(registration, args), maxResultBytes)
      const fiber = fork(runFor(run, context), traced ? runSpan(run)(job) : job)
      slot.fiber = fiber
      fiber.addObserver((exit) => exited(slot, registration, exit, local))
      // stopped while its arguments were decoded asynchronously
      if (slot.stop !== undefined) fiber.unsafeInterruptAsFork(FiberId.none)
    }

    /** The job's fiber ended: its ending, with a warning first when it failed. */
    const exited = (
      slot: S,
      registration: Registration,
      exit: Exit.Exit<unknown, unknown>,
      startedAt: number
    ): void => {
      const { run } = slot
      deadlines.remove(slot)
      metricsOf(run.job).duration(localNow() - startedAt)
      const ending = endingOf(registration, run, exit, slot.stop)
      ended(slot, ending, ending?.outcome === "failed" ? Effect.logWarning("Run failed", ending.error) : undefined)
    }

    return { start, interrupt, background }
  })
