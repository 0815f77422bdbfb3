/**
 * How an attempt ends in the store: decides what follows it (`outcome.ts`),
 * hands the settlement to the settler (a shared batch, fenced by the claim),
 * and, once written, counts it in the counters and metrics. Used by the worker
 * pool for attempts run here, and directly by the reaper for runs taken over.
 */
import { Cause, Deferred, Effect, Exit, Random, Runtime } from "effect"
import type { Scope } from "effect"
import type { ClaimedRun, JobStoreShape } from "../JobStore.js"
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
 * Outcomes waiting for the settler beyond which no more runs are claimed: when jobs end faster than
 * their outcomes are written, claiming pauses until the settler catches up (memory and the leases
 * the heartbeat extends stay bounded).
 */
export const settleBacklog = 2 * settleBatch

/** Settles attempts. */
export interface Completion {
  /** Decides the settlement of `outcome` and queues it (`random` only matters for retries); `done` is called once written. */
  readonly submit: (
    run: ClaimedRun,
    outcome: outcomes.Outcome,
    random: number,
    done: (written: Settler.Written) => void
  ) => void
  /** Settles an attempt decided outside a worker (the reaper) and waits: whether its fence held. */
  readonly settle: (run: ClaimedRun, outcome: outcomes.Outcome) => Effect.Effect<boolean>
  /** Outcomes submitted and not yet written. */
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

/** Outcomes whose settlement may retry: deciding it reads `Random` (the backoff's jitter). */
export const needsRandom = (outcome: outcomes.Outcome): boolean =>
  outcome._tag === "Error" || outcome._tag === "Timeout"

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
      outcome: outcomes.Outcome,
      tally: outcomes.Tally,
      written: Settler.Written
    ): void => {
      if (written === "unwritten") return
      if (written === "lost") {
        Runtime.runFork(runtime)(
          Effect.logWarning(
            "The claim on a run was lost before its outcome was recorded; the outcome was discarded"
          ).pipe(Effect.annotateLogs({ runId: run.originId, job: run.job, outcome: outcome._tag }))
        )
        return
      }
      const metrics = metricsOf(run.job)
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
    }

    const submit: Completion["submit"] = (run, outcome, random, done) => {
      backlog += 1
      const decision = decide(run, outcome, {
        now: storeNow(),
        random,
        schedule: run.schedule === null ? undefined : registry.schedule(run.schedule),
        backoff: registry.definition(run.job)?.retryBackoff ?? RetryBackoff.immediate
      })
      settler.submit(decision.settlement, (written) => {
        backlog -= 1
        if (backlog === settleBacklog) options.caughtUp()
        recorded(run, outcome, decision.tally, written)
        done(written)
      })
    }

    const settle: Completion["settle"] = (run, outcome) =>
      Effect.flatMap(Deferred.make<boolean>(), (waiter) => {
        const wake = (written: Settler.Written) => Deferred.unsafeDone(waiter, Exit.succeed(written === "held"))
        const queued = needsRandom(outcome)
          ? Effect.flatMap(Random.next, (random) => Effect.sync(() => submit(run, outcome, random, wake)))
          : Effect.sync(() => submit(run, outcome, 0, wake))
        return Effect.zipRight(queued, Deferred.await(waiter))
      })

    return { submit, settle, backlog: () => backlog, flush: settler.flush }
  })
