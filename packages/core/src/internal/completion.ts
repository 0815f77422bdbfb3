/**
 * How an attempt ends in the store: decides what follows its ending (`outcome.ts`),
 * hands the settlement to the settler (a shared batch, fenced by the claim),
 * and, once written, counts it in the counters and metrics. Used by the worker
 * pool for attempts run here, and directly by the reaper for runs taken over.
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Random from "effect/Random"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import type { ClaimedRun, JobStoreShape, Settlement } from "../JobStore.js"
import type { Counters } from "./counters.js"
import * as ErrorText from "./errorText.js"
import * as outcomes from "./outcome.js"
import type { Registry } from "./registry.js"
import * as RetryBackoff from "./retryBackoff.js"
import type { RunMetrics } from "./runMetrics.js"
import * as Settler from "./settler.js"

/** Settlements per `store.settle` call. */
const settleBatch = 300

/**
 * Settlements waiting for the settler beyond which no more runs are claimed: when jobs end faster than
 * their settlements are written, claiming pauses until the settler catches up (memory and the leases
 * the heartbeat extends stay bounded).
 */
export const settleBacklog = 2 * settleBatch

/** Settles attempts. */
export interface Completion {
  /** Decides the settlement of `ending` and queues it (`random` only matters for retries); `done` is called once written. */
  readonly submit: (
    run: ClaimedRun,
    ending: outcomes.Ending,
    random: number,
    done: (fence: Settler.FenceResult) => void
  ) => void
  /** Settles an attempt decided outside a worker (the reaper) and waits: whether its fence held. */
  readonly settle: (run: ClaimedRun, ending: outcomes.Ending) => Effect.Effect<boolean>
  /** Endings submitted and not yet written. */
  readonly backlog: () => number
  /** Waits until every settlement submitted so far is written or given up. */
  readonly flush: Effect.Effect<void>
}

/** What completion needs. */
export interface CompletionOptions {
  readonly store: JobStoreShape
  readonly registry: Registry
  readonly counters: Counters
  readonly metricsOf: (job: string) => RunMetrics
  /** The store clock, in ms. */
  readonly storeNow: () => number
  /** How long a settlement is retried through store errors before the lease is left to expire. */
  readonly settleRetryMs: number
  /** Called when settled runs are pending again (retries, next occurrences): their due times may be the nearest. */
  readonly onRequeued: Effect.Effect<void>
  /** Called when the backlog falls back to `settleBacklog` (claiming may resume). */
  readonly caughtUp: () => void
}

/** Endings whose settlement may retry: deciding it reads `Random` (the backoff's jitter). */
export const needsRandom = (ending: outcomes.Ending): boolean =>
  ending.outcome === "failed" ? ending.retry : ending.outcome === "timedOut" || ending.outcome === "lost"

/**
 * Counts a written settlement in the instance counters and the job's metrics: what the attempt did from
 * its ending, what follows it from the settlement (a retry, the next occurrence).
 */
export const count = (
  counters: Counters,
  metrics: RunMetrics,
  ending: outcomes.Ending,
  settlement: Settlement
): void => {
  switch (ending.outcome) {
    case "succeeded":
      metrics.succeeded()
      // a success whose next occurrence cannot follow (its schedule is unknown or broken) ends the run failed
      if (settlement._tag === "Succeeded" || settlement._tag === "Next") counters.add("runsSucceeded")
      break
    case "failed":
      counters.add("runsErrors")
      metrics.failed()
      break
    case "timedOut":
    case "lost":
      counters.add("runsTimedOut")
      metrics.timedOut()
      break
  }
  if (settlement._tag === "Next") counters.add("runsRescheduled")
  if (settlement._tag === "Retry") metrics.retried()
}

/**
 * `outcomes.decide`, where a throw (a schedule's `next` is user code, and what it throws may break even
 * the text that reports it) ends the run failed, saying why, instead of leaving it unsettled.
 */
const decide = (run: ClaimedRun, ending: outcomes.Ending, context: outcomes.DecisionContext): Settlement => {
  try {
    return outcomes.decide(run, ending, context)
  } catch (error) {
    return {
      _tag: "Failed",
      id: run.id,
      claim: run.claim,
      error: `Deciding what follows this attempt failed: ${ErrorText.fromCause(Cause.die(error))}`
    }
  }
}

/** Builds completion in the current scope (its settler's writer fiber lives there). */
export const make = (options: CompletionOptions): Effect.Effect<Completion, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { counters, metricsOf, registry, storeNow } = options
    const runtime = yield* Effect.runtime<never>()
    const settler = yield* Settler.make({
      store: options.store,
      maxBatch: settleBatch,
      retryMs: options.settleRetryMs,
      onRequeued: options.onRequeued
    })
    let backlog = 0

    /** Once the store answered for a settlement: counters and metrics, or a warning if the claim was lost. */
    const recorded = (
      run: ClaimedRun,
      ending: outcomes.Ending,
      settlement: Settlement,
      fence: Settler.FenceResult
    ): void => {
      if (fence === "unwritten") return
      if (fence === "lost") {
        Runtime.runFork(runtime)(
          Effect.logWarning(
            "The claim on a run was lost before its outcome was recorded; the outcome was discarded"
          ).pipe(Effect.annotateLogs({ runId: run.originId, job: run.job, outcome: ending.outcome }))
        )
        return
      }
      count(counters, metricsOf(run.job), ending, settlement)
    }

    const submit: Completion["submit"] = (run, ending, random, done) => {
      backlog += 1
      const definition = registry.definition(run.job)
      const settlement = decide(run, ending, {
        now: storeNow(),
        random,
        schedule: run.schedule === null ? undefined : registry.schedule(run.schedule),
        backoff: definition?.retryBackoff ?? RetryBackoff.immediate,
        maxSnoozes: definition?.maxSnoozes
      })
      settler.submit(settlement, (fence) => {
        backlog -= 1
        if (backlog === settleBacklog) options.caughtUp()
        recorded(run, ending, settlement, fence)
        done(fence)
      })
    }

    const settle: Completion["settle"] = (run, ending) =>
      Effect.flatMap(Deferred.make<boolean>(), (waiter) => {
        const wake = (fence: Settler.FenceResult) => Deferred.unsafeDone(waiter, Exit.succeed(fence === "held"))
        const queued = needsRandom(ending)
          ? Effect.flatMap(Random.next, (random) => Effect.sync(() => submit(run, ending, random, wake)))
          : Effect.sync(() => submit(run, ending, 0, wake))
        // queued at once; only the wait is interruptible (a reaper stopping still leaves its takeovers queued)
        return Effect.zipRight(queued, Effect.interruptible(Deferred.await(waiter)))
      })

    return { submit, settle, backlog: () => backlog, flush: settler.flush }
  })
