/**
 * The memory store's `settle`: fenced writes that end or hand back attempts, each recorded in the
 * run history.
 *
 * @internal
 */
import * as Either from "effect/Either"
import type { Settlement, StoredAttempt } from "../JobStore.js"
import { attemptError, attemptOutcome, attemptResult, continuesRun } from "./attempts.js"
import { JobStoreError } from "./errors.js"
import { type Row, type State, addRow, finish } from "./memoryRows.js"

/** The row a settlement may write, when its fence holds. */
const fenced = (state: State, settlement: Settlement): Row | undefined => {
  const row = state.rows.get(settlement.id)
  return row !== undefined && row.status === "running" && row.claim === settlement.claim ? row : undefined
}

/** Why a `Next` settlement whose fence holds cannot insert its next occurrence, if it cannot. */
const nextConflict = (state: State, settlement: Settlement): string | undefined => {
  if (settlement._tag !== "Next") return undefined
  const row = fenced(state, settlement)
  if (row === undefined) return undefined
  const next = settlement.next
  if (state.rows.has(next.id)) return `settle: duplicate run id ${next.id}`
  const holder = next.uniqueName === null ? undefined : state.uniqueKeys.get(next.uniqueName)
  if (holder !== undefined && holder !== row) return `settle: unique name ${next.uniqueName} is held by ${holder.id}`
  return undefined
}

/** Records the attempt a settlement ends (before the row changes: a released attempt's number is given back). */
const record = (state: State, row: Row, settlement: Settlement, now: number, cancelled: boolean): void => {
  const attempt: StoredAttempt = {
    originId: row.originId,
    id: row.id,
    occurrence: row.occurrence,
    job: row.job,
    attempt: row.runTotalCount,
    startedBy: row.startedBy ?? "",
    startedAt: row.startedAt ?? now,
    finishedAt: now,
    outcome: cancelled ? "cancelled" : attemptOutcome(settlement),
    error: attemptError(settlement),
    result: attemptResult(settlement)
  }
  const chain = state.history.get(row.originId)
  if (chain === undefined) state.history.set(row.originId, [attempt])
  else chain.push(attempt)
}

/** Makes the row pending again (a retry, a snooze, a release), its claim and lease given up. */
const requeue = (row: Row, runAt: number): void => {
  row.status = "pending"
  row.runAt = runAt
  row.claim = null
  row.leaseUntil = null
  row.timeoutAt = null
  row.dispatchedAt = null
}

/** Hands a running row back: pending again, due as before, its attempt given back (cancelled instead when requested). */
export const giveBack = (state: State, row: Row, now: number): void => {
  row.runTotalCount -= 1
  if (row.cancelRequested) finish(state, row, "cancelled", now)
  else requeue(row, row.runAt)
}

const settleOne = (state: State, settlement: Settlement, now: number): boolean => {
  const row = fenced(state, settlement)
  if (row === undefined) return false
  // a cancel request ends the run instead of what would continue it (a retry, a snooze, a release, a next occurrence)
  const cancelled = row.cancelRequested && continuesRun(settlement)
  record(state, row, settlement, now, cancelled)
  switch (settlement._tag) {
    case "Succeeded": {
      finish(state, row, "succeeded", now)
      row.runSuccessCount += 1
      row.error = null
      // the latest success's result: none when it returned none
      row.result = settlement.result ?? null
      return true
    }
    case "Failed": {
      finish(state, row, "failed", now)
      row.error = settlement.error
      return true
    }
    case "Cancelled": {
      finish(state, row, "cancelled", now)
      return true
    }
    case "Retry": {
      row.error = settlement.error
      if (cancelled) {
        finish(state, row, "cancelled", now)
        return true
      }
      requeue(row, settlement.runAt)
      row.retriesErrorCount = settlement.retriesErrorCount
      row.retriesTimeoutCount = settlement.retriesTimeoutCount
      return true
    }
    case "Released": {
      giveBack(state, row, now)
      return true
    }
    case "Snoozed": {
      if (cancelled) {
        finish(state, row, "cancelled", now)
        return true
      }
      requeue(row, settlement.runAt)
      row.snoozeCount += 1
      return true
    }
    case "Next": {
      finish(state, row, cancelled ? "cancelled" : settlement.outcome, now)
      if (settlement.outcome === "succeeded") {
        row.runSuccessCount += 1
        row.error = null
        row.result = settlement.next.result
      } else {
        row.error = settlement.error
      }
      if (!cancelled) addRow(state, settlement.next, now)
      return true
    }
  }
}

/** Applies settlements at `now`; a `Next` whose insert would conflict fails the call before anything is written. */
export const settle = (
  state: State,
  settlements: ReadonlyArray<Settlement>,
  now: number
): Either.Either<ReadonlyArray<boolean>, JobStoreError> => {
  for (const settlement of settlements) {
    const conflict = nextConflict(state, settlement)
    if (conflict !== undefined) return Either.left(new JobStoreError({ message: conflict }))
  }
  return Either.right(settlements.map((settlement) => settleOne(state, settlement, now)))
}

/** Whether a settlement may make a run due, or free a slot of a queue (a wake-up for pollers). */
export const wakes = (state: State, settlement: Settlement): boolean =>
  continuesRun(settlement) || (state.rows.get(settlement.id)?.queue ?? null) !== null
