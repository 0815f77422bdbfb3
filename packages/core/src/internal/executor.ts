/**
 * The worker pool. Claimed runs wait in a small local buffer (held under lease
 * like any claim: the heartbeat extends them, shutdown hands them back, cancel
 * and lost claims drop them) until a worker permit is free. Each attempt runs in
 * its own fiber, so timeout, cancel, lost lease and shutdown are all fiber
 * interruption. A permit is free again as soon as the attempt ends: its outcome
 * goes to the settler, which writes it in a shared batch, fenced by the claim.
 */
import {
  Cause,
  Clock,
  Context,
  Deferred,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  FiberId,
  FiberRef,
  FiberRefs,
  HashMap,
  Option,
  ParseResult,
  Random,
  Runtime,
  RuntimeFlags,
  Schema
} from "effect"
import type { Scope } from "effect"
import * as JobSchedule from "../JobSchedule.js"
import type { ClaimedRun, JobStoreShape } from "../JobStore.js"
import * as RetryBackoff from "../RetryBackoff.js"
import * as RunId from "../RunId.js"
import { RunInfo, type RunInfoShape } from "../RunInfo.js"
import type { ClaimAhead } from "./claimAhead.js"
import type { Counters } from "./counters.js"
import * as Deadlines from "./deadlines.js"
import * as ErrorText from "./errorText.js"
import * as outcomes from "./outcome.js"
import type { Registration, Registry } from "./registry.js"
import * as RunMetrics from "./runMetrics.js"
import * as Settler from "./settler.js"
import type { StoreClock } from "./storeClock.js"
import * as TraceContext from "./traceContext.js"
import * as WorkScheduler from "./workScheduler.js"

/** Why the runtime interrupted a run. */
export type StopReason = "cancel" | "lost" | "shutdown" | "timeout"

/** A claim this instance holds, for the heartbeat. */
export interface Held {
  readonly id: string
  readonly claim: string
}

/** The worker pool of an instance. */
export interface Executor {
  /** How many runs to claim now: 0 while enough runs are running and buffered. */
  readonly wanted: Effect.Effect<number>
  /** Takes claimed runs: they start on free workers, the rest wait in the buffer. */
  readonly offer: (runs: ReadonlyArray<ClaimedRun>) => Effect.Effect<void>
  /** The claims of runs buffered, executing or being settled. */
  readonly held: Effect.Effect<ReadonlyArray<Held>>
  /** Stops a run if this instance holds it under `claim` (any claim when omitted). */
  readonly stop: (id: string, reason: StopReason, claim?: string) => Effect.Effect<void>
  /** Stops the occurrence of a run held here, by its `RunId`. */
  readonly stopOrigin: (originId: string, reason: StopReason) => Effect.Effect<void>
  /** Records that the store extended these claims until `until` (store clock ms). */
  readonly renewed: (claims: ReadonlyArray<string>, until: number) => Effect.Effect<void>
  /** Hands back buffered runs that waited longer than `ms` (the claim-ahead guess was wrong). */
  readonly releaseStale: (ms: number) => Effect.Effect<void>
  /** Settles an attempt decided outside a worker (the reaper) and waits; retries store errors. */
  readonly settle: (run: ClaimedRun, outcome: outcomes.Outcome) => Effect.Effect<boolean>
  /**
   * Shutdown: hands back buffered runs, waits up to `timeoutMs` for running ones, interrupts and hands back the
   * rest; runs that do not end when interrupted are waited for as long again (at least a second), then left.
   */
  readonly drain: (timeoutMs: number) => Effect.Effect<void>
}

/** What an executor needs. */
export interface ExecutorOptions {
  readonly store: JobStoreShape
  readonly registry: Registry
  readonly counters: Counters
  readonly clock: StoreClock
  readonly workers: number
  /** Sizes the buffer of claimed runs waiting for a worker. */
  readonly ahead: ClaimAhead
  /** How long a settlement is retried through store errors before the lease is left to expire. */
  readonly settleRetryMs: number
  /** Called when the poller should claim again (the buffer ran low). */
  readonly onDemand: () => void
  /** Called when settled runs are pending again (retries, next occurrences): their due times may be the nearest. */
  readonly onRequeued: Effect.Effect<void>
}

/** Settlements per `store.settle` call. */
const settleBatch = 300

/**
 * Outcomes waiting for the settler beyond which no more runs are claimed: when jobs end faster than
 * their outcomes are written, claiming pauses until the settler catches up (memory and the leases
 * the heartbeat extends stay bounded).
 */
const settleBacklog = 2 * settleBatch

/** The shortest wait at shutdown for interrupted runs to end. */
const minInterruptWaitMs = 1_000

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
  runTimeout: Duration.millis(run.runTimeoutMs),
  runTimeoutAt: run.timeoutAt === null ? undefined : new Date(run.timeoutAt),
  retriesOnErrorCount: run.retriesErrorCount,
  retriesErrorLimit: run.retriesErrorLimit,
  retriesOnTimeoutCount: run.retriesTimeoutCount,
  retriesTimeoutLimit: run.retriesTimeoutLimit,
  schedule: run.schedule ?? undefined,
  createdAt: new Date(run.createdAt),
  createdBy: run.createdBy
})

const parseJson = (text: string): Either.Either<unknown, string> => {
  try {
    return Either.right(JSON.parse(text))
  } catch (error) {
    return Either.left(`Stored arguments are not valid JSON: ${String(error)}`)
  }
}

const schemaMismatch = (error: ParseResult.ParseError): string =>
  `Stored arguments do not match the job's Schema: ${ParseResult.TreeFormatter.formatErrorSync(error)}`

/** Whether a synchronous decode could not complete: part of the Schema is asynchronous (or died), at any depth. */
const isForbidden = (issue: ParseResult.ParseIssue): boolean => {
  switch (issue._tag) {
    case "Forbidden":
      return true
    case "Pointer":
    case "Refinement":
    case "Transformation":
      return isForbidden(issue.issue)
    case "Composite":
      return Array.isArray(issue.issues)
        ? issue.issues.some(isForbidden)
        : isForbidden(issue.issues as ParseResult.ParseIssue)
    default:
      return false
  }
}

/**
 * Decodes the stored JSON with the job's Schema (a failure is a readable message); `undefined` when the
 * synchronous decode cannot complete (an asynchronous Schema) or throws: `decodeArgsAsync` answers then.
 */
const decodeArgs = (registration: Registration, text: string): Either.Either<unknown, string> | undefined => {
  const json = parseJson(text)
  if (Either.isLeft(json)) return json
  try {
    const decoded = Schema.decodeUnknownEither(registration.job.args)(json.right)
    if (Either.isRight(decoded)) return Either.right(decoded.right)
    return isForbidden(decoded.left.issue) ? undefined : Either.left(schemaMismatch(decoded.left))
  } catch {
    return undefined
  }
}

/** `decodeArgs` with the Schema's effects: asynchronous ones, and defects of the Schema's code, which end the run like a mismatch. */
const decodeArgsAsync = (registration: Registration, text: string): Effect.Effect<unknown, string> =>
  Effect.flatMap(parseJson(text), (json) =>
    Effect.suspend(() => Schema.decodeUnknown(registration.job.args)(json)).pipe(
      Effect.mapError(schemaMismatch),
      Effect.catchAllDefect((defect) =>
        Effect.fail(
          `Decoding the stored arguments with the job's Schema failed: ${ErrorText.fromCause(Cause.die(defect))}`
        )
      )
    )
  )

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
const attempt = (registration: Registration, args: unknown): Effect.Effect<void, unknown, RunInfo> =>
  Effect.suspend(() => {
    // caught here rather than by Effect's run loop, whose handler itself throws on some values (a Proxy whose traps throw)
    try {
      const effect: unknown = registration.run(args)
      return Effect.isEffect(effect)
        ? (effect as Effect.Effect<void, unknown, RunInfo>)
        : notAnEffect(registration, effect)
    } catch (thrown) {
      return Effect.die(thrown)
    }
  })

/** Effect's built-in tracer: it exports nowhere, so runs get no span while it is the tracer (a span costs more than a no-op job). */
const builtInTracer = Effect.runSync(Effect.tracer)

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

/** Maps how the attempt's fiber ended (and why we stopped it, if we did) to an outcome; `undefined` writes nothing. */
const toOutcome = (
  run: ClaimedRun,
  exit: Exit.Exit<void, unknown>,
  reason: StopReason | undefined
): outcomes.Outcome | undefined => {
  if (Exit.isSuccess(exit)) return { _tag: "Success" }
  const cause = exit.cause
  if (reason !== undefined && Cause.isInterruptedOnly(cause)) {
    switch (reason) {
      case "cancel":
        return { _tag: "Cancelled" }
      case "shutdown":
        return { _tag: "Released" }
      case "timeout":
        return { _tag: "Timeout", error: `Timed out after ${run.runTimeoutMs} ms` }
      case "lost":
        return undefined
    }
  }
  return { _tag: "Error", error: ErrorText.fromCause(cause) }
}

/** A claim held by this instance, from the claim to the end of its settlement. */
interface Entry {
  readonly run: ClaimedRun
  state: "buffered" | "running" | "settling"
  /** When it entered the buffer (`Clock` ms). */
  readonly bufferedAt: number
  /** Until when the store holds the claim for us, as far as we know (store clock ms). */
  leaseUntil: number
  reason: StopReason | undefined
  fiber: Fiber.RuntimeFiber<unknown, unknown> | undefined
}

/**
 * `outcomes.decide`, where a throw (a schedule's `next` is user code, and what it throws may break even
 * the text that reports it) ends the run failed, saying why, instead of leaving it unsettled.
 */
const decide = (run: ClaimedRun, outcome: outcomes.Outcome, context: outcomes.DecisionContext): outcomes.Decision => {
  try {
    return outcomes.decide(run, outcome, context)
  } catch (error) {
    return {
      settlement: {
        _tag: "Failed",
        id: run.id,
        claim: run.claim,
        error: `Deciding what follows this attempt failed: ${ErrorText.fromCause(Cause.die(error))}`
      },
      tally: "failed"
    }
  }
}

/** `JobSchedule.isMissed`; not missed when the schedule throws (the run goes ahead, and its settlement says what failed). */
const isMissed = (schedule: JobSchedule.JobSchedule, dueAt: number, now: number): boolean => {
  try {
    return JobSchedule.isMissed(schedule, dueAt, now)
  } catch {
    return false
  }
}

/** Outcomes whose settlement may retry: deciding it reads `Random` (the backoff's jitter). */
const needsRandom = (outcome: outcomes.Outcome): boolean => outcome._tag === "Error" || outcome._tag === "Timeout"

/** Builds the worker pool in the current scope. */
export const make = (options: ExecutorOptions): Effect.Effect<Executor, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { ahead, counters, registry, store, workers } = options
    // attempts are forked with the instance's context, not the caller's fiber's; not started in place,
    // or a run ending would start the next inside its own stack, and so on through the whole buffer
    const runtime = yield* Effect.runtime<never>()
    // the per-run bookkeeping is plain code around each attempt's fiber (an observer of its exit), so it
    // reads the clocks without effects: Effect's `Clock` (`TestClock` in tests) and the store clock
    const clock = yield* Effect.clock
    const localNow = () => clock.unsafeCurrentTimeMillis()
    const storeNow = options.clock.unsafeNow
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
    const annotations = FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentLogAnnotations)
    // an attempt's failure is rendered (safely) and logged by `ended`: its fiber does not report it too, or a
    // logger rendering a cause that cannot be rendered would throw before `ended` is called
    const attemptFiberRefs = FiberRefs.updateAs(runtime.fiberRefs, {
      fiberId: FiberId.none,
      fiberRef: FiberRef.unhandledErrorLogLevel,
      value: Option.none()
    })
    /** The runtime of one attempt: its context, the run's log annotations in its fiber refs (cheaper than providing them in the fiber). */
    const runFor = (run: ClaimedRun, context: Context.Context<RunInfo>): Runtime.Runtime<RunInfo> =>
      Runtime.make({
        context,
        runtimeFlags: runtime.runtimeFlags,
        fiberRefs: FiberRefs.updateAs(attemptFiberRefs, {
          fiberId: FiberId.none,
          fiberRef: FiberRef.currentLogAnnotations,
          value: HashMap.set(HashMap.set(annotations, "runId", run.originId), "job", run.job)
        })
      })
    const annotateRun = (run: ClaimedRun) => Effect.annotateLogs({ runId: run.originId, job: run.job })
    const metricsOf = yield* RunMetrics.make
    const traced = (yield* Effect.tracer) !== builtInTracer
    const settler = yield* Settler.make({
      store,
      maxBatch: settleBatch,
      retryMs: options.settleRetryMs,
      onRequeued: options.onRequeued
    })
    /** Every claim held here, by claim token (a run id may come back under a new claim before we forget the old). */
    const entries = new Map<string, Entry>()
    const buffer: Array<Entry> = []
    let running = 0
    /** Outcomes handed to the settler and not yet written. */
    let settling = 0
    let lowWater = 0
    let stopping = false
    let idle: Deferred.Deferred<void> | undefined

    const deadlines = yield* Deadlines.make<Entry>((entry) => interrupt(entry, "timeout"))

    const interrupt = (entry: Entry, reason: StopReason): Effect.Effect<void> =>
      Effect.suspend(() => {
        entry.reason ??= reason
        return entry.fiber === undefined ? Effect.void : Effect.asVoid(Fiber.interruptFork(entry.fiber))
      })

    /** Once the store answered for a settlement: counters and metrics, or a warning (returned) if the claim was lost. */
    const recorded = (
      entry: Entry,
      outcome: outcomes.Outcome,
      tally: outcomes.Tally,
      written: Settler.Written
    ): Effect.Effect<void> | undefined => {
      entries.delete(entry.run.claim)
      if (written === "unwritten") return undefined
      if (written === "lost") {
        return Effect.logWarning(
          "The claim on a run was lost before its outcome was recorded; the outcome was discarded"
        ).pipe(annotateRun(entry.run), Effect.annotateLogs("outcome", outcome._tag))
      }
      const metrics = metricsOf(entry.run.job)
      if (tally === "succeeded") counters.add("runsSucceeded")
      if (tally === "rescheduled") {
        counters.add("runsRescheduled")
        if (outcome._tag === "Success") counters.add("runsSucceeded")
      }
      if (tally === "retried") metrics.retried()
      switch (outcome._tag) {
        case "Error":
        case "Invalid":
          counters.add("runsErrors")
          metrics.failed()
          break
        case "Timeout":
          counters.add("runsTimedOut")
          metrics.timedOut()
          break
        case "Success":
          metrics.succeeded()
          break
      }
      return undefined
    }

    /** Decides the settlement of an attempt and hands it to the settler (`random` only matters for retries). */
    const submitWith = (
      entry: Entry,
      outcome: outcomes.Outcome,
      random: number,
      waiter?: Deferred.Deferred<boolean>
    ): void => {
      const { run } = entry
      entry.state = "settling"
      settling += 1
      const decision = decide(run, outcome, {
        now: storeNow(),
        random,
        schedule: run.schedule === null ? undefined : registry.schedule(run.schedule),
        backoff: registry.get(run.job)?.job.retryBackoff ?? RetryBackoff.immediate
      })
      settler.submit(decision.settlement, (written) => {
        settling -= 1
        if (settling === settleBacklog && buffer.length <= lowWater && !stopping) options.onDemand()
        const warning = recorded(entry, outcome, decision.tally, written)
        if (waiter === undefined) return warning
        const wake = Effect.asVoid(Deferred.succeed(waiter, written === "held"))
        return warning === undefined ? wake : Effect.zipRight(warning, wake)
      })
    }

    /** `submitWith`, reading `Random` first for outcomes that may retry. */
    const submit = (
      entry: Entry,
      outcome: outcomes.Outcome,
      waiter?: Deferred.Deferred<boolean>
    ): Effect.Effect<void> =>
      needsRandom(outcome)
        ? Effect.flatMap(Random.next, (random) => Effect.sync(() => submitWith(entry, outcome, random, waiter)))
        : Effect.sync(() => submitWith(entry, outcome, 0, waiter))

    /** Starts buffered runs on free workers. */
    const dispatch = (): void => {
      if (running >= workers || buffer.length === 0 || stopping) return
      const now = storeNow()
      const local = localNow()
      while (running < workers && buffer.length > 0 && !stopping) {
        const entry = buffer.shift()!
        if (entry.leaseUntil <= now) {
          // the claim expired while it waited (a frozen process, a lost database): never start it,
          // another instance may have taken it over
          entries.delete(entry.run.claim)
          continue
        }
        entry.state = "running"
        running += 1
        launch(entry, now, local)
      }
    }

    /** A worker is free again: start the next run, ask for more when the buffer runs low. */
    const finished = (entry: Entry): void => {
      running -= 1
      ahead.completed()
      entry.fiber = undefined
      if (running === 0 && idle !== undefined) Deferred.unsafeDone(idle, Effect.void)
      dispatch()
      if (buffer.length <= lowWater && !stopping) options.onDemand()
    }

    /** Settles an outcome in a fiber of its own (it reads `Random`, or logs), then frees the worker. */
    const settleInFiber = (entry: Entry, outcome: outcomes.Outcome, before: Effect.Effect<void> = Effect.void) => {
      entry.fiber = fork(
        uninterruptible,
        before.pipe(
          Effect.zipRight(submit(entry, outcome)),
          Effect.ensuring(Effect.sync(() => finished(entry))),
          annotateRun(entry.run)
        )
      )
    }

    /** Why a run ends before it starts: a skipped occurrence, or its timeout passed while it waited. */
    const blocked = (run: ClaimedRun, now: number): outcomes.Outcome | undefined => {
      const schedule = run.schedule === null ? undefined : registry.schedule(run.schedule)
      if (schedule?.missed === "skip" && isMissed(schedule, run.runAt, now)) {
        return {
          _tag: "Skipped",
          error: `Skipped: this occurrence was due at ${new Date(run.runAt).toISOString()} and missed`
        }
      }
      return run.timeoutAt !== null && run.timeoutAt <= now ? { _tag: "Released" } : undefined
    }

    /** Takes a run from the buffer to its own fiber, unless it ends before it starts (unknown job, skipped, timed out, bad arguments). */
    const launch = (entry: Entry, now: number, local: number): void => {
      const { run } = entry
      const registration = registry.get(run.job)
      const early = registration === undefined ? ({ _tag: "Released" } as const) : blocked(run, now)
      if (early !== undefined || registration === undefined) {
        settleInFiber(entry, early ?? { _tag: "Released" })
        return
      }
      // the timeout counts from the claim (the store's timeout_at), so a buffered wait never outlives it
      const timeoutMs = run.timeoutAt === null ? undefined : Math.min(run.runTimeoutMs, run.timeoutAt - now)
      const decoded = decodeArgs(registration, run.args)
      if (decoded === undefined) {
        // an asynchronous Schema: decode in a fiber of its own, then start
        entry.fiber = fork(
          uninterruptible,
          Effect.flatMap(Effect.either(decodeArgsAsync(registration, run.args)), (args) =>
            Effect.sync(() => start(entry, registration, args, storeNow(), localNow(), timeoutMs))
          )
        )
        return
      }
      start(entry, registration, decoded, now, local, timeoutMs)
    }

    /** Forks the attempt with `RunInfo` and the run's log annotations in its initial context; its exit settles it. */
    const start = (
      entry: Entry,
      registration: Registration,
      decoded: Either.Either<unknown, string>,
      now: number,
      local: number,
      timeoutMs: number | undefined
    ): void => {
      const { run } = entry
      if (Either.isLeft(decoded)) {
        const warning = Effect.logWarning("Run failed: its stored arguments do not decode", decoded.left)
        settleInFiber(entry, { _tag: "Invalid", error: decoded.left }, warning)
        return
      }
      const args = decoded.right
      const metrics = metricsOf(run.job)
      metrics.started()
      metrics.lag(Math.max(0, now - run.runAt))
      counters.add("runsStarted")
      if (timeoutMs !== undefined) deadlines.add(entry, local + timeoutMs)
      const context = Context.add(registration.context ?? runtime.context, RunInfo, runInfo(run, args))
      const job = attempt(registration, args)
      const fiber = fork(runFor(run, context), traced ? runSpan(run)(job) : job)
      entry.fiber = fiber
      fiber.addObserver((exit) => ended(entry, exit, local))
      // stopped while its arguments were decoded asynchronously
      if (entry.reason !== undefined) fiber.unsafeInterruptAsFork(FiberId.none)
    }

    /** The attempt's fiber ended: its outcome goes to the settler and the worker is free. */
    const ended = (entry: Entry, exit: Exit.Exit<void, unknown>, startedAt: number): void => {
      const { run } = entry
      deadlines.remove(entry)
      metricsOf(run.job).duration(localNow() - startedAt)
      const outcome = toOutcome(run, exit, entry.reason)
      if (outcome === undefined) {
        lost(entry)
        return
      }
      if (outcome._tag === "Error") {
        settleInFiber(entry, outcome, Effect.logWarning("Run failed", outcome.error))
        return
      }
      if (needsRandom(outcome)) {
        settleInFiber(entry, outcome)
        return
      }
      submitWith(entry, outcome, 0)
      finished(entry)
    }

    /** A run whose claim was lost: nothing to write; the warning is logged while the worker is freed. */
    const lost = (entry: Entry): void => {
      entries.delete(entry.run.claim)
      fork(
        uninterruptible,
        Effect.logWarning("Run interrupted: this instance lost its claim (another instance took it over)").pipe(
          annotateRun(entry.run)
        )
      )
      finished(entry)
    }

    /** Stops a held run: a running one is interrupted, a buffered one is settled (or dropped) at once. */
    const stopEntry = (entry: Entry, reason: StopReason): Effect.Effect<void> => {
      switch (entry.state) {
        case "running":
          return interrupt(entry, reason)
        case "settling":
          return Effect.void
        case "buffered": {
          buffer.splice(buffer.indexOf(entry), 1)
          if (reason === "lost") {
            entries.delete(entry.run.claim)
            return Effect.void
          }
          return submit(entry, reason === "cancel" ? { _tag: "Cancelled" } : { _tag: "Released" })
        }
      }
    }

    const stop: Executor["stop"] = (id, reason, claim) =>
      Effect.suspend(() => {
        const entry =
          claim === undefined ? [...entries.values()].find((held) => held.run.id === id) : entries.get(claim)
        return entry === undefined || entry.run.id !== id ? Effect.void : stopEntry(entry, reason)
      })

    const awaitIdle: Effect.Effect<void> = Effect.suspend(() => {
      if (running === 0) return Effect.void
      if (idle !== undefined) return Deferred.await(idle)
      return Effect.flatMap(Deferred.make<void>(), (created) => {
        idle = created
        return Deferred.await(created)
      })
    })

    /** Waits up to `ms` for no run to be running; `None` when some still are. */
    const idleWithin = (ms: number): Effect.Effect<Option.Option<void>> =>
      // shutdown runs in a finalizer (uninterruptible): the wait must be interruptible for the timeout to win
      awaitIdle.pipe(Effect.interruptible, Effect.timeout(Duration.millis(ms)), Effect.option)

    return {
      wanted: Effect.map(Clock.currentTimeMillis, (now) => {
        const target = ahead.target(now)
        lowWater = Math.floor(target / 2)
        if (stopping || buffer.length > lowWater || settling > settleBacklog) return 0
        return Math.max(0, workers + target - running - buffer.length)
      }),
      offer: (runs) =>
        Effect.sync(() => {
          const now = localNow()
          for (const run of runs) {
            const entry: Entry = {
              run,
              state: "buffered",
              bufferedAt: now,
              leaseUntil: run.leaseUntil ?? Number.POSITIVE_INFINITY,
              reason: undefined,
              fiber: undefined
            }
            entries.set(run.claim, entry)
            buffer.push(entry)
          }
          dispatch()
        }),
      held: Effect.sync(() => [...entries.values()].map(({ run }) => ({ id: run.id, claim: run.claim }))),
      stop,
      stopOrigin: (originId, reason) =>
        Effect.forEach(
          [...entries.values()].filter(({ run }) => run.originId === originId),
          (entry) => stopEntry(entry, reason),
          { discard: true }
        ),
      renewed: (claims, until) =>
        Effect.sync(() => {
          for (const claim of claims) {
            const entry = entries.get(claim)
            if (entry !== undefined) entry.leaseUntil = until
          }
        }),
      releaseStale: (ms) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.forEach(
            buffer.filter((entry) => now - entry.bufferedAt > ms),
            (entry) => stopEntry(entry, "shutdown"),
            { discard: true }
          )
        ),
      settle: (run, outcome) =>
        Effect.flatMap(Deferred.make<boolean>(), (waiter) => {
          const entry: Entry = {
            run,
            state: "settling",
            bufferedAt: 0,
            leaseUntil: Number.POSITIVE_INFINITY,
            reason: undefined,
            fiber: undefined
          }
          return Effect.zipRight(submit(entry, outcome, waiter), Deferred.await(waiter))
        }),
      drain: (timeoutMs) =>
        Effect.gen(function* () {
          stopping = true
          yield* Effect.forEach([...buffer], (entry) => stopEntry(entry, "shutdown"), { discard: true })
          if (Option.isNone(yield* idleWithin(timeoutMs))) {
            const remaining = [...entries.values()].filter((entry) => entry.state === "running")
            yield* Effect.logInfo(`Shutdown: interrupting ${remaining.length} runs and handing them back`)
            yield* Effect.forEach(remaining, (entry) => interrupt(entry, "shutdown"), { discard: true })
            // a run that cannot end (its fiber broke inside Effect's runtime) must not hold the shutdown forever
            if (Option.isNone(yield* idleWithin(Math.max(timeoutMs, minInterruptWaitMs)))) {
              yield* Effect.logError(
                `Shutdown: ${running} runs did not end when interrupted; their claims are left to expire, ` +
                  "and another instance takes them over"
              )
            }
          }
          yield* settler.flush
        })
    }
  })
