/** What the run history records of a settlement: its outcome label and its error. */
import type { AttemptOutcome, Settlement } from "../JobStore.js"

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
    case "Next":
      return settlement.outcome
  }
}

/** The error a settlement records with its attempt (failures, retries, ended occurrences), or `null`. */
export const attemptError = (settlement: Settlement): string | null =>
  settlement._tag === "Failed" || settlement._tag === "Retry" || settlement._tag === "Next" ? settlement.error : null
