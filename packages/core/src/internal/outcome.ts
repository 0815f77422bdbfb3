/**
 * What to write after an attempt ends: the pure decision from a claimed run and
 * how its attempt ended to the fenced `Settlement` the store applies.
 */
import { Either } from "effect"
import type { AttemptOutcome, ClaimedRun, NewRun, Settlement } from "../JobStore.js"
import * as ErrorText from "./errorText.js"
import * as JobSchedule from "./jobSchedule.js"
import * as RetryBackoff from "./retryBackoff.js"
import * as RunId from "./runId.js"

/** How an attempt ended. */
export type Outcome =
  | { readonly _tag: "Success" }
  | { readonly _tag: "Error"; readonly error: string }
  /** Interrupted by its timeout; `lost` when the reaper took it over from an instance that stopped heart-beating. */
  | { readonly _tag: "Timeout"; readonly error: string; readonly lost?: boolean }
  | { readonly _tag: "Cancelled" }
  | { readonly _tag: "Released" }
  | { readonly _tag: "Invalid"; readonly error: string }
  /** A missed occurrence that its schedule's policy skips. */
  | { readonly _tag: "Skipped"; readonly error: string }

/** What the decision needs besides the run. */
export interface DecisionContext {
  readonly now: number
  /** The run's schedule as this instance knows it (claims guarantee it is known). */
  readonly schedule: JobSchedule.JobSchedule | undefined
  readonly backoff: RetryBackoff.RetryBackoff
  /** A number in [0, 1) for jitter. */
  readonly random: number
}

/** Which instance counter a decision moves. */
export type Tally = "succeeded" | "rescheduled" | "retried" | "failed" | "cancelled" | "released"

/** The settlement and its effect on the counters. */
export interface Decision {
  readonly settlement: Settlement
  readonly tally: Tally
}

const isWithin = (count: number, limit: number): boolean => limit === -1 || count < limit

/** The next occurrence of a scheduled run: a fresh row with the same origin and reset retry counters. */
const nextOccurrence = (run: ClaimedRun, runAt: number, now: number, successes: number): NewRun => ({
  id: RunId.generate(now),
  originId: run.originId,
  occurrence: run.occurrence + 1,
  job: run.job,
  args: run.args,
  uniqueName: run.uniqueName,
  schedule: run.schedule,
  runAt,
  runTotalCount: run.runTotalCount,
  runSuccessCount: successes,
  runSuccessLimit: run.runSuccessLimit,
  runTimeoutMs: run.runTimeoutMs,
  retriesErrorCount: 0,
  retriesErrorLimit: run.retriesErrorLimit,
  retriesTimeoutCount: 0,
  retriesTimeoutLimit: run.retriesTimeoutLimit,
  createdBy: run.createdBy,
  createdAt: run.createdAt,
  traceContext: run.traceContext
})

/** Ends this occurrence: a one-off run ends; a scheduled run moves on to its next occurrence unless its limit is met. */
const endOccurrence = (
  run: ClaimedRun,
  context: DecisionContext,
  outcome: "succeeded" | "failed" | "cancelled",
  error: string | null
): Decision => {
  const { claim, id } = run
  const successes = run.runSuccessCount + (outcome === "succeeded" ? 1 : 0)
  const final: Decision =
    outcome === "succeeded"
      ? { settlement: { _tag: "Succeeded", id, claim }, tally: "succeeded" }
      : outcome === "cancelled"
        ? { settlement: { _tag: "Cancelled", id, claim }, tally: "cancelled" }
        : { settlement: { _tag: "Failed", id, claim, error: error ?? "failed" }, tally: "failed" }
  if (run.schedule === null) return final
  if (run.runSuccessLimit !== null && successes >= run.runSuccessLimit) return final
  if (context.schedule === undefined) {
    return {
      settlement: { _tag: "Failed", id, claim, error: `Unknown schedule ${run.schedule}` },
      tally: "failed"
    }
  }
  return Either.match(JobSchedule.followingRunAt(context.schedule, run.runAt, context.now), {
    onLeft: (invalid) => ({
      settlement: { _tag: "Failed", id, claim, error: invalid.message },
      tally: "failed" as const
    }),
    onRight: (runAt) => ({
      settlement: {
        _tag: "Next",
        id,
        claim,
        outcome,
        error,
        next: nextOccurrence(run, runAt, context.now, successes)
      },
      tally: "rescheduled" as const
    })
  })
}

/** The decision with the attempt's history label set (where it differs from the one its settlement implies). */
const labelled = (decision: Decision, attempt: AttemptOutcome): Decision => ({
  ...decision,
  settlement: { ...decision.settlement, attempt }
})

/** Retries within the limit (with the backoff's delay), or ends the occurrence failed. */
const retryOrEnd = (run: ClaimedRun, context: DecisionContext, kind: "error" | "timeout", error: string): Decision => {
  const count = kind === "error" ? run.retriesErrorCount : run.retriesTimeoutCount
  const limit = kind === "error" ? run.retriesErrorLimit : run.retriesTimeoutLimit
  if (!isWithin(count, limit)) return endOccurrence(run, context, "failed", error)
  const attempt = count + 1
  return {
    settlement: {
      _tag: "Retry",
      id: run.id,
      claim: run.claim,
      runAt: context.now + RetryBackoff.delayMillis(context.backoff, attempt, context.random),
      retriesErrorCount: kind === "error" ? attempt : run.retriesErrorCount,
      retriesTimeoutCount: kind === "timeout" ? attempt : run.retriesTimeoutCount,
      error
    },
    tally: "retried"
  }
}

/**
 * Decides the settlement of an attempt, as every store can write it: one whose due time is not a
 * time ends the run failed instead, and its error text is storable everywhere.
 */
export const decide = (run: ClaimedRun, outcome: Outcome, context: DecisionContext): Decision =>
  withStorableError(dueTimeChecked(run, decision(run, outcome, context)))

/** The error text made storable on every database (`ErrorText.storable`): bounded, no NUL, no lone surrogate. */
const withStorableError = (decided: Decision): Decision => {
  const { settlement } = decided
  if (!("error" in settlement) || settlement.error === null) return decided
  const error = ErrorText.storable(settlement.error)
  return error === settlement.error ? decided : { ...decided, settlement: { ...settlement, error } }
}

/** The latest due time stored: the end of JavaScript's dates (year 275760), well within a 64-bit integer. */
const maxDueTime = 8.64e15

/**
 * A settlement that would store a due time that is not a time (not a number, infinite, or beyond the
 * last JavaScript date: a misbehaving schedule or backoff) becomes a failure saying so. Written, it
 * would fail the whole batch of settlements it is part of, on the databases that refuse it.
 */
const dueTimeChecked = (run: ClaimedRun, decided: Decision): Decision => {
  const { settlement } = decided
  const runAt: unknown =
    settlement._tag === "Retry" ? settlement.runAt : settlement._tag === "Next" ? settlement.next.runAt : 0
  if (typeof runAt === "number" && Math.abs(runAt) <= maxDueTime) return decided
  const which = settlement._tag === "Retry" ? "retry" : "next occurrence"
  return {
    settlement: {
      _tag: "Failed",
      id: run.id,
      claim: run.claim,
      error: `The ${which} of this run has no valid due time (${String(runAt)}); the run ends here`
    },
    tally: "failed"
  }
}

const decision = (run: ClaimedRun, outcome: Outcome, context: DecisionContext): Decision => {
  switch (outcome._tag) {
    case "Success":
      return endOccurrence(run, context, "succeeded", null)
    case "Error":
      return retryOrEnd(run, context, "error", outcome.error)
    case "Timeout":
      return labelled(retryOrEnd(run, context, "timeout", outcome.error), outcome.lost === true ? "lost" : "timedOut")
    case "Invalid":
      return { settlement: { _tag: "Failed", id: run.id, claim: run.claim, error: outcome.error }, tally: "failed" }
    case "Cancelled":
      return { settlement: { _tag: "Cancelled", id: run.id, claim: run.claim }, tally: "cancelled" }
    case "Skipped":
      return endOccurrence(run, context, "cancelled", outcome.error)
    case "Released":
      return { settlement: { _tag: "Released", id: run.id, claim: run.claim }, tally: "released" }
  }
}
