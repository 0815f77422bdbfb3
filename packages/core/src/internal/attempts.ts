/** What the run history records of a settlement: its outcome label and its error. */
import type { Settlement } from "../JobStore.js"

/**
 * How one attempt ended, as its run history records it: `succeeded`; `failed` (an error, with no
 * retry left, or input that does not decode); `retried` (an error, retried); `timedOut` (interrupted
 * by its timeout, retried or not); `cancelled` (also an attempt whose settlement found a cancel
 * request: no retry or next occurrence follows); `released` (handed back at shutdown, no attempt used
 * up); `lost` (its instance stopped heart-beating and another one took the run over); `snoozed`
 * (`Job.snooze`: due again later, no retry used).
 */
export type AttemptOutcome =
  | "succeeded"
  | "failed"
  | "retried"
  | "timedOut"
  | "cancelled"
  | "released"
  | "lost"
  | "snoozed"

/** Every `AttemptOutcome`, the vocabulary of the run history. */
export const attemptOutcomes: ReadonlyArray<AttemptOutcome> = [
  "succeeded",
  "failed",
  "retried",
  "timedOut",
  "cancelled",
  "released",
  "lost",
  "snoozed"
]

/** The history label of a settlement: its `attempt`, or the one its tag implies. */
export const attemptOutcome = (settlement: Settlement): AttemptOutcome => {
  if (settlement.attempt !== undefined) return settlement.attempt
  switch (settlement._tag) {
    case "Succeeded":
      return "succeeded"
    case "Failed":
      return "failed"
    case "Cancelled":
      return "cancelled"
    case "Retry":
      return "retried"
    case "Released":
      return "released"
    case "Snoozed":
      return "snoozed"
    case "Next":
      return settlement.outcome
  }
}

/** The error a settlement records with its attempt (failures, retries, ended occurrences), or `null`. */
export const attemptError = (settlement: Settlement): string | null =>
  settlement._tag === "Failed" || settlement._tag === "Retry" || settlement._tag === "Next" ? settlement.error : null

/** The result a settlement records with its attempt (a success's), or `null`. */
export const attemptResult = (settlement: Settlement): string | null =>
  settlement._tag === "Succeeded"
    ? (settlement.result ?? null)
    : settlement._tag === "Next" && settlement.outcome === "succeeded"
      ? settlement.next.result
      : null

/** Whether a settlement makes the run pending again or starts its next occurrence: a cancel request ends it instead. */
export const continuesRun = (settlement: Settlement): boolean =>
  settlement._tag === "Retry" ||
  settlement._tag === "Released" ||
  settlement._tag === "Snoozed" ||
  settlement._tag === "Next"
