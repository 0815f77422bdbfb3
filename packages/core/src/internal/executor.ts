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
  Deferred,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  Option,
  ParseResult,
  Random,
  Runtime,
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
import * as outcomes from "./outcome.js"
import type { Registration, Registry } from "./registry.js"
import * as RunMetrics from "./runMetrics.js"
import * as Settler from "./settler.js"
import type { StoreClock } from "./storeClock.js"

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
  /** Hands back buffered runs that waited longer than `ms` (the claim-ahead guess was wrong). */
  readonly releaseStale: (ms: number) => Effect.Effect<void>
  /** Settles an attempt decided outside a worker (the reaper) and waits; retries store errors. */
  readonly settle: (run: ClaimedRun, outcome: outcomes.Outcome) => Effect.Effect<boolean>
  /** Shutdown: hands back buffered runs, waits up to `timeoutMs` for running ones, interrupts and hands back the rest. */
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
  readonly onDemand: Effect.Effect<void>
}

/** Settlements per `store.settle` call. */
const settleBatch = 300

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
const decodeArgs = (registration: Registration, text: string): Effect.Effect<unknown, string> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return Effect.fail(`Stored arguments are not valid JSON: ${String(error)}`)
  }
  return Schema.decodeUnknown(registration.job.args)(json).pipe(
    Effect.mapError(
      (error) => `Stored arguments do not match the job's Schema: ${ParseResult.TreeFormatter.formatErrorSync(error)}`
    )
  )
}

/** The span of one attempt (no stack trace: capturing one per run costs more than the rest of the span). */
const runSpan = (run: ClaimedRun) =>
  Effect.withSpan("JobsS.run", {
    attributes: { job: run.job, runId: run.originId, occurrence: run.occurrence, attempt: run.runTotalCount },
    kind: "consumer",
    captureStackTrace: false
  })

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
  return { _tag: "Error", error: describe(cause) }
}

/** A claim held by this instance, from the claim to the end of its settlement. */
interface Entry {
  readonly run: ClaimedRun
  state: "buffered" | "running" | "settling"
  /** When it entered the buffer (`Clock` ms). */
  readonly bufferedAt: number
  reason: StopReason | undefined
  fiber: Fiber.RuntimeFiber<void> | undefined
}

/** Builds the worker pool in the current scope. */
export const make = (options: ExecutorOptions): Effect.Effect<Executor, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { ahead, counters, registry, store, workers } = options
    // attempts are forked from plain callbacks too: with the instance's context, not the caller's fiber's
    const fork = Runtime.runFork(yield* Effect.runtime<never>())
    const metricsOf = yield* RunMetrics.make
    const settler = yield* Settler.make({ store, maxBatch: settleBatch, retryMs: options.settleRetryMs })
    /** Every claim held here, by claim token (a run id may come back under a new claim before we forget the old). */
    const entries = new Map<string, Entry>()
    const buffer: Array<Entry> = []
    let running = 0
    let lowWater = 0
    let stopping = false
    let idle: Deferred.Deferred<void> | undefined

    const deadlines = yield* Deadlines.make<Entry>((entry) => interrupt(entry, "timeout"))

    const interrupt = (entry: Entry, reason: StopReason): Effect.Effect<void> =>
      Effect.suspend(() => {
        entry.reason ??= reason
        return entry.fiber === undefined ? Effect.void : Effect.asVoid(Fiber.interruptFork(entry.fiber))
      })

    /** What to do once the store answered for a settlement: counters, metrics, a warning if the claim was lost. */
    const recorded = (
      entry: Entry,
      outcome: outcomes.Outcome,
      tally: outcomes.Tally,
      written: Settler.Written
    ): Effect.Effect<void> =>
      Effect.gen(function* () {
        entries.delete(entry.run.claim)
        if (written === "unwritten") return
        if (written === "lost") {
          return yield* Effect.logWarning(
            "The claim on a run was lost before its outcome was recorded; the outcome was discarded"
          ).pipe(Effect.annotateLogs({ runId: entry.run.originId, job: entry.run.job, outcome: outcome._tag }))
        }
        const metrics = metricsOf(entry.run.job)
        if (tally === "succeeded") yield* counters.add("runsSucceeded")
        if (tally === "rescheduled") {
          yield* counters.add("runsRescheduled")
          if (outcome._tag === "Success") yield* counters.add("runsSucceeded")
        }
        if (tally === "retried") metrics.retried()
        switch (outcome._tag) {
          case "Error":
          case "Invalid":
            yield* counters.add("runsErrors")
            metrics.failed()
            break
          case "Timeout":
            yield* counters.add("runsTimedOut")
            metrics.timedOut()
            break
          case "Success":
            metrics.succeeded()
            break
        }
      })

    /** Decides the settlement of an attempt and hands it to the settler. */
    const submit = (entry: Entry, outcome: outcomes.Outcome, waiter?: Deferred.Deferred<boolean>) =>
      Effect.gen(function* () {
        const { run } = entry
        entry.state = "settling"
        const now = yield* options.clock.now
        const random = yield* Random.next
        const decision = outcomes.decide(run, outcome, {
          now,
          random,
          schedule: run.schedule === null ? undefined : registry.schedule(run.schedule),
          backoff: registry.get(run.job)?.job.retryBackoff ?? RetryBackoff.immediate
        })
        settler.submit(decision.settlement, (written) =>
          recorded(entry, outcome, decision.tally, written).pipe(
            Effect.zipRight(waiter === undefined ? Effect.void : Deferred.succeed(waiter, written === "held"))
          )
        )
      })

    /** Starts buffered runs on free workers. */
    const dispatch = (): void => {
      while (running < workers && buffer.length > 0 && !stopping) {
        const entry = buffer.shift()!
        entry.state = "running"
        running += 1
        entry.fiber = fork(attempt(entry))
      }
    }

    /** A worker is free again: start the next run, ask for more when the buffer runs low. */
    const finished = (entry: Entry): Effect.Effect<void> =>
      Effect.suspend(() => {
        running -= 1
        ahead.completed()
        entry.fiber = undefined
        dispatch()
        if (running === 0 && idle !== undefined) Deferred.unsafeDone(idle, Effect.void)
        return buffer.length <= lowWater && !stopping ? options.onDemand : Effect.void
      })

    /** One attempt in its own fiber: decode, run with `RunInfo` until done or interrupted, then submit the outcome. */
    const attempt = (entry: Entry): Effect.Effect<void> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const { run } = entry
          const outcome = yield* execute(entry, restore)
          if (outcome === undefined) {
            entries.delete(run.claim)
            yield* Effect.logWarning("Run interrupted: this instance lost its claim (another instance took it over)")
          } else {
            if (outcome._tag === "Error") yield* Effect.logWarning("Run failed", outcome.error)
            yield* submit(entry, outcome)
          }
          yield* finished(entry)
        }).pipe(Effect.annotateLogs({ runId: entry.run.originId, job: entry.run.job }))
      )

    const execute = (
      entry: Entry,
      restore: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
    ): Effect.Effect<outcomes.Outcome | undefined> =>
      Effect.gen(function* () {
        const { run } = entry
        const registration = registry.get(run.job)
        if (registration === undefined) return { _tag: "Released" } as const
        const now = yield* options.clock.now
        const schedule = run.schedule === null ? undefined : registry.schedule(run.schedule)
        if (schedule?.missed === "skip" && JobSchedule.isMissed(schedule, run.runAt, now)) {
          return {
            _tag: "Skipped",
            error: `Skipped: this occurrence was due at ${new Date(run.runAt).toISOString()} and missed`
          } as const
        }
        // the timeout counts from the claim (the store's timeout_at), so a buffered wait never outlives it
        const timeoutMs = run.timeoutAt === null ? undefined : Math.min(run.runTimeoutMs, run.timeoutAt - now)
        if (timeoutMs !== undefined && timeoutMs <= 0) return { _tag: "Released" } as const
        const args = yield* Effect.either(decodeArgs(registration, run.args))
        if (Either.isLeft(args)) return { _tag: "Invalid", error: args.left } as const
        const metrics = metricsOf(run.job)
        yield* counters.add("runsStarted")
        metrics.started()
        metrics.lag(Math.max(0, now - run.runAt))
        const startedAt = yield* Clock.currentTimeMillis
        if (timeoutMs !== undefined) deadlines.add(entry, startedAt + timeoutMs)
        const exit = yield* Effect.exit(
          restore(registration.run(args.right).pipe(Effect.provideService(RunInfo, runInfo(run, args.right)))).pipe(
            runSpan(run)
          )
        )
        deadlines.remove(entry)
        metrics.duration((yield* Clock.currentTimeMillis) - startedAt)
        return toOutcome(run, exit, entry.reason)
      })

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

    return {
      wanted: Effect.map(Clock.currentTimeMillis, (now) => {
        const target = ahead.target(now)
        lowWater = Math.floor(target / 2)
        if (stopping || buffer.length > lowWater) return 0
        return Math.max(0, workers + target - running - buffer.length)
      }),
      offer: (runs) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.sync(() => {
            for (const run of runs) {
              const entry: Entry = { run, state: "buffered", bufferedAt: now, reason: undefined, fiber: undefined }
              entries.set(run.claim, entry)
              buffer.push(entry)
            }
            dispatch()
          })
        ),
      held: Effect.sync(() => [...entries.values()].map(({ run }) => ({ id: run.id, claim: run.claim }))),
      stop,
      stopOrigin: (originId, reason) =>
        Effect.forEach(
          [...entries.values()].filter(({ run }) => run.originId === originId),
          (entry) => stopEntry(entry, reason),
          { discard: true }
        ),
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
          const entry: Entry = { run, state: "settling", bufferedAt: 0, reason: undefined, fiber: undefined }
          return Effect.zipRight(submit(entry, outcome, waiter), Deferred.await(waiter))
        }),
      drain: (timeoutMs) =>
        Effect.gen(function* () {
          stopping = true
          yield* Effect.forEach([...buffer], (entry) => stopEntry(entry, "shutdown"), { discard: true })
          // shutdown runs in a finalizer (uninterruptible): the wait must be interruptible for the timeout to win
          const finished = yield* awaitIdle.pipe(
            Effect.interruptible,
            Effect.timeout(Duration.millis(timeoutMs)),
            Effect.option
          )
          if (Option.isNone(finished)) {
            const remaining = [...entries.values()].filter((entry) => entry.state === "running")
            yield* Effect.logInfo(`Shutdown: interrupting ${remaining.length} runs and handing them back`)
            yield* Effect.forEach(remaining, (entry) => interrupt(entry, "shutdown"), { discard: true })
            yield* awaitIdle
          }
          yield* settler.flush
        })
    }
  })
