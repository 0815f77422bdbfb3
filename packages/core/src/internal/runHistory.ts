/**
 * The history of a run as `Scheduler.getRunHistory` reports it: one entry per
 * attempt, across retries and occurrences, kept until the run is pruned by the
 * instance's `retention` policy.
 *
 * `RunHistory.ts` re-exports this module: the runtime's internals import it from here.
 */
import * as Duration from "effect/Duration"
import type { AttemptOutcome, StoredAttempt } from "../JobStore.js"
import * as RunId from "./runId.js"
import { parseJson } from "./runState.js"

export type { AttemptOutcome } from "../JobStore.js"

/** One attempt of a run. */
export interface RunAttempt {
  /** The id `createRun` returned. */
  readonly originId: RunId.RunId
  /** The id of the occurrence the attempt ran (equal to `originId` for a run without a schedule). */
  readonly id: string
  /** 0 for the first occurrence of a scheduled run, then 1, 2, ... */
  readonly occurrence: number
  /** The run's attempt count during this attempt (`RunInfo.runTotalCount`); a released attempt's number is used again. */
  readonly attempt: number
  /** The job's name. */
  readonly job: string
  /** The id of the instance that started the attempt. */
  readonly runStartedBy: string
  /** When the attempt started, on the store's clock. */
  readonly runStartedAt: Date
  /** When the attempt's end was recorded, on the store's clock (for a takeover: when another instance took it over). */
  readonly runCompletedAt: Date
  /** From the start to the recorded end (for a takeover: until the other instance took the run over). */
  readonly duration: Duration.Duration
  /** How the attempt ended (`succeeded`, `failed`, `retried`, `timedOut`, `cancelled`, `released`, `lost`, `snoozed`). */
  readonly outcome: AttemptOutcome
  /** The failure, timeout or takeover reason, if any. */
  readonly runCompletedError: string | undefined
  /** A succeeded attempt's result in its encoded (JSON) form; `undefined` for others and jobs without a `success` Schema. */
  readonly result: unknown
}

/** Builds the public attempt from a stored one. */
export const fromStored = (stored: StoredAttempt): RunAttempt => ({
  originId: RunId.make(stored.originId),
  id: stored.id,
  occurrence: stored.occurrence,
  attempt: stored.attempt,
  job: stored.job,
  runStartedBy: stored.startedBy,
  runStartedAt: new Date(stored.startedAt),
  runCompletedAt: new Date(stored.finishedAt),
  duration: Duration.millis(Math.max(0, stored.finishedAt - stored.startedAt)),
  outcome: stored.outcome,
  runCompletedError: stored.error ?? undefined,
  result: stored.result === null ? undefined : parseJson(stored.result)
})
