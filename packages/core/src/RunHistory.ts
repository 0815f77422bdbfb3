/**
 * The history of a run as `Scheduler.getRunHistory` reports it: one entry per
 * attempt, across retries and occurrences, kept until the run is pruned by the
 * instance's `retention` policy.
 *
 * @since 0.1.0
 */
import { Duration } from "effect"
import type { AttemptOutcome, StoredAttempt } from "./JobStore.js"
import * as RunId from "./RunId.js"

export type { AttemptOutcome } from "./JobStore.js"

/** One attempt of a run. */
export interface RunAttempt {
  /** The id `createRun` returned. */
  readonly id: RunId.RunId
  /** The id of the occurrence the attempt ran. */
  readonly occurrenceId: string
  /** 0 for the first occurrence of a scheduled run, then 1, 2, ... */
  readonly occurrence: number
  /** The run's attempt count during this attempt (`RunInfo.runTotalCount`); a released attempt's number is used again. */
  readonly attempt: number
  /** The job's name. */
  readonly job: string
  /** The id of the instance that started the attempt. */
  readonly startedBy: string
  /** When the attempt started, on the store's clock. */
  readonly startedAt: Date
  /** When the attempt's end was recorded, on the store's clock (for a takeover: when another instance took it over). */
  readonly finishedAt: Date
  /** From the start to the recorded end (for a takeover: until the other instance took the run over). */
  readonly duration: Duration.Duration
  /** How the attempt ended (`succeeded`, `failed`, `retried`, `timedOut`, `cancelled`, `released`, `lost`). */
  readonly outcome: AttemptOutcome
  /** The failure, timeout or takeover reason, if any. */
  readonly error: string | undefined
}

/** Builds the public attempt from a stored one. */
export const fromStored = (stored: StoredAttempt): RunAttempt => ({
  id: RunId.make(stored.originId),
  occurrenceId: stored.id,
  occurrence: stored.occurrence,
  attempt: stored.attempt,
  job: stored.job,
  startedBy: stored.startedBy,
  startedAt: new Date(stored.startedAt),
  finishedAt: new Date(stored.finishedAt),
  duration: Duration.millis(Math.max(0, stored.finishedAt - stored.startedAt)),
  outcome: stored.outcome,
  error: stored.error ?? undefined
})
