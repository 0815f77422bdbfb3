/**
 * How an attempt ended, and what to write after it: the pure decision from a
 * claimed run and its `Ending` to the fenced `Settlement` the store applies.
 * Endings are named by the `AttemptOutcome` (the run history's label) they
 * lead to; `decide` only turns `failed` into `retried` when a retry follows.
 */
import * as Either from "effect/Either"
import type { AttemptOutcome, ClaimedRun, NewRun, Settlement } from "../JobStore.js"
import * as ErrorText from "./errorText.js"
import * as JobSchedule from "./jobSchedule.js"
import * as RetryBackoff from "./retryBackoff.js"
import * as RunId from "./runId.js"

/** How an attempt ended, named by the `AttemptOutcome` it leads to, with the error its settlement stores. */
export type Ending =
  /** The job's effect succeeded; `result` is its value encoded with the job's `success` Schema (absent or `null`: none). */
  | { readonly outcome: "succeeded"; readonly result?: string | null }
  /**
   * The job failed or died (`retry`: retried within `retriesErrorLimit`, else the occurrence ends failed), or its
   * arguments do not decode (no `retry`: the run ends failed, whatever its schedule).
   */
  | { readonly outcome: "failed"; readonly error: string; readonly retry: boolean }
  /** Interrupted by its timeout, or (`lost`) taken over from an instance that stopped heart-beating: retried within `retriesTimeoutLimit`. */
  | { readonly outcome: "timedOut" | "lost"; readonly error: string }
  /** Cancelled: the run ends; or, with `skipped` (the error stored), a missed occurrence its schedule skips: the run moves on. */
  | { readonly outcome: "cancelled"; readonly skipped?: string }
  /** Handed back (shutdown, a job not implemented here, a timeout that passed before the start): no attempt used up. */
  | { readonly outcome: "released" }
  /** The job snoozed (`Job.snooze`): due again `delayMs` after now, no retry used (or failed past `maxSnoozes`). */
  | { readonly outcome: "snoozed"; readonly delayMs: number }

/**
 * The outcome an attempt stopped by the runtime leads to: `cancelled` (cancelRun), `released` (shutdown, a
 * buffered run handed back), `timedOut` (its timeout), `lost` (this instance no longer holds its claim).
 */
export type Stop = Extract<AttemptOutcome, "cancelled" | "released" | "timedOut" | "lost">

/** The ending of an attempt the runtime stopped; `undefined` for `lost`: the claim is gone, there is nothing to write. */
export const stopped = (run: ClaimedRun, stop: Stop): Ending | undefined => {
  switch (stop) {
    case "cancelled":
      return { outcome: "cancelled" }
    case "released":
      return { outcome: "released" }
    case "timedOut":
      return { outcome: "timedOut", error: `Timed out after ${run.runTimeoutMs} ms` }
    case "lost":
      return undefined
  }
}

/** What the decision needs besides the run. */
export interface DecisionContext {
  readonly now: number
  /** The run's schedule as this instance knows it (claims guarantee it is known). */
  readonly schedule: JobSchedule.JobSchedule | undefined
  readonly backoff: RetryBackoff.RetryBackoff
  /** The job's `maxSnoozes` per occurrence; absent is unlimited. */
  readonly maxSnoozes?: number | undefined
  /** A number in [0, 1) for jitter. */
  readonly random: number
}

const isWithin = (count: number, limit: number): boolean => limit === -1 || count < limit

/**
 * The next occurrence of a scheduled run: a fresh row with the same origin and reset retry counters,
 * carrying the result of the latest successful attempt.
 */
const nextOccurrence = (
  run: ClaimedRun,
  runAt: number,
  now: number,
  successes: number,
  result: string | null
): NewRun => ({
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
  traceContext: run.traceContext,
  queue: run.queue,
  priority: run.priority,
  partitionKey: run.partitionKey,
  result
})

/** The final status an occurrence ends with, as the `Next` settlement records it. */
type Final = Extract<Settlement, { readonly _tag: "Next" }>["outcome"]

/** Ends this occurrence: a one-off run ends; a scheduled run moves on to its next occurrence unless its limit is met. */
const endOccurrence = (
  run: ClaimedRun,
  context: DecisionContext,
  outcome: Final,
  error: string | null,
  result: string | null = null
): Settlement => {
  const { claim, id } = run
  const successes = run.runSuccessCount + (outcome === "succeeded" ? 1 : 0)
  const final: Settlement =
    outcome === "succeeded"
      ? { _tag: "Succeeded", id, claim, result }
      : outcome === "cancelled"
        ? { _tag: "Cancelled", id, claim }
        : { _tag: "Failed", id, claim, error: error ?? "failed" }
  if (run.schedule === null) return final
  if (run.runSuccessLimit !== null && successes >= run.runSuccessLimit) return final
  if (context.schedule === undefined) return { _tag: "Failed", id, claim, error: `Unknown schedule ${run.schedule}` }
  return Either.match(JobSchedule.followingRunAt(context.schedule, run.runAt, context.now), {
    onLeft: (invalid): Settlement => ({ _tag: "Failed", id, claim, error: invalid.message }),
    onRight: (runAt): Settlement => ({
      _tag: "Next",
      id,
      claim,
      outcome,
      error,
      next: nextOccurrence(run, runAt, context.now, successes, outcome === "succeeded" ? result : run.result)
    })
  })
}

/** The settlement with the attempt's history label set (where it differs from the one its tag implies). */
const labelled = (settlement: Settlement, attempt: AttemptOutcome): Settlement => ({ ...settlement, attempt })

/** Retries within the limit (with the backoff's delay), or ends the occurrence failed. */
const retryOrEnd = (
  run: ClaimedRun,
  context: DecisionContext,
  kind: "error" | "timeout",
  error: string
): Settlement => {
  const count = kind === "error" ? run.retriesErrorCount : run.retriesTimeoutCount
  const limit = kind === "error" ? run.retriesErrorLimit : run.retriesTimeoutLimit
  if (!isWithin(count, limit)) return endOccurrence(run, context, "failed", error)
  const attempt = count + 1
  return {
    _tag: "Retry",
    id: run.id,
    claim: run.claim,
    runAt: context.now + RetryBackoff.delayMillis(context.backoff, attempt, context.random),
    retriesErrorCount: kind === "error" ? attempt : run.retriesErrorCount,
    retriesTimeoutCount: kind === "timeout" ? attempt : run.retriesTimeoutCount,
    error
  }
}

/**
 * Decides the settlement of an attempt, as every store can write it: one whose due time is not a
 * time ends the run failed instead, and its error text is storable everywhere.
 */
export const decide = (run: ClaimedRun, ending: Ending, context: DecisionContext): Settlement =>
  withStorableError(dueTimeChecked(run, decision(run, ending, context)))

/** The error text made storable on every database (`ErrorText.storable`): bounded, no NUL, no lone surrogate. */
const withStorableError = (settlement: Settlement): Settlement => {
  if (!("error" in settlement) || settlement.error === null) return settlement
  const error = ErrorText.storable(settlement.error)
  return error === settlement.error ? settlement : { ...settlement, error }
}

/** The latest due time stored: the end of JavaScript's dates (year 275760), well within a 64-bit integer. */
const maxDueTime = 8.64e15

/**
 * A settlement that would store a due time that is not a time (not a number, infinite, or beyond the
 * last JavaScript date: a misbehaving schedule or backoff) becomes a failure saying so. Written, it
 * would fail the whole batch of settlements it is part of, on the databases that refuse it.
 */
const dueTimeChecked = (run: ClaimedRun, settlement: Settlement): Settlement => {
  const runAt: unknown =
    settlement._tag === "Retry" || settlement._tag === "Snoozed"
      ? settlement.runAt
      : settlement._tag === "Next"
        ? settlement.next.runAt
        : 0
  if (typeof runAt === "number" && Math.abs(runAt) <= maxDueTime) return settlement
  const which = settlement._tag === "Retry" ? "retry" : settlement._tag === "Snoozed" ? "snooze" : "next occurrence"
  return {
    _tag: "Failed",
    id: run.id,
    claim: run.claim,
    error: `The ${which} of this run has no valid due time (${String(runAt)}); the run ends here`
  }
}

const decision = (run: ClaimedRun, ending: Ending, context: DecisionContext): Settlement => {
  const { claim, id } = run
  switch (ending.outcome) {
    case "succeeded":
      return endOccurrence(run, context, "succeeded", null, ending.result ?? null)
    case "failed":
      return ending.retry
        ? retryOrEnd(run, context, "error", ending.error)
        : { _tag: "Failed", id, claim, error: ending.error }
    case "timedOut":
    case "lost":
      return labelled(retryOrEnd(run, context, "timeout", ending.error), ending.outcome)
    case "cancelled":
      return ending.skipped === undefined
        ? { _tag: "Cancelled", id, claim }
        : endOccurrence(run, context, "cancelled", ending.skipped)
    case "released":
      return { _tag: "Released", id, claim }
    case "snoozed":
      return context.maxSnoozes !== undefined && run.snoozeCount >= context.maxSnoozes
        ? endOccurrence(
            run,
            context,
            "failed",
            `Snoozed more than maxSnoozes (${context.maxSnoozes}) times in this occurrence`
          )
        : { _tag: "Snoozed", id, claim, runAt: context.now + ending.delayMs }
  }
}
