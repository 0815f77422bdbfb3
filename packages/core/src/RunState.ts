/**
 * The state of a run as `Scheduler.getRunState` and `Scheduler.awaitRun` report it.
 *
 * @since 0.1.0
 */
import type { RunStatus, StoredRun } from "./JobStore.js"
import * as RunId from "./RunId.js"

/** The latest state of a run: its active or last occurrence. */
export interface RunState {
  /** The id `createRun` returned. */
  readonly id: RunId.RunId
  /** The id of the latest occurrence. */
  readonly occurrenceId: string
  /** 0 for the first occurrence of a scheduled run, then 1, 2, ... */
  readonly occurrence: number
  /**
   * The latest occurrence's status: `pending` (due at `runAt`), `running`, or final (`succeeded`,
   * `failed`, `cancelled`). A scheduled run that ended an occurrence already has its next one pending.
   */
  readonly status: RunStatus
  /** The job's name. */
  readonly job: string
  /** The arguments in their encoded (JSON) form; `undefined` when the stored text is not JSON. */
  readonly args: unknown
  /** The unique name given with `createRun`'s `unique` option, if any. */
  readonly name: string | undefined
  /** The name of the schedule, for a scheduled run. */
  readonly schedule: string | undefined
  /** When the latest occurrence is (or was) due; a retry moves it to the retry's due time. */
  readonly runAt: Date
  /** Attempts started so far, across retries and occurrences (an attempt handed back at shutdown does not count). */
  readonly runTotalCount: number
  /** Occurrences that succeeded so far (1 for a one-off run that succeeded). */
  readonly runSuccessCount: number
  /** With a schedule: the run ends after this many successful occurrences (`limit`); `undefined` is unlimited. */
  readonly runSuccessLimit: number | undefined
  /** The timeout of each attempt, in milliseconds; 0 when disabled. */
  readonly runTimeout: number
  /** Retries after errors used by the latest occurrence (each occurrence starts at 0). */
  readonly retriesErrorCount: number
  /** The most retries after errors for each occurrence; -1 is unlimited. */
  readonly retriesErrorLimit: number
  /** Retries after timeouts used by the latest occurrence (each occurrence starts at 0). */
  readonly retriesTimeoutCount: number
  /** The most retries after timeouts for each occurrence; -1 is unlimited. */
  readonly retriesTimeoutLimit: number
  /** When the run (its first occurrence) was created, on the store's clock. */
  readonly createdAt: Date
  /** The id of the instance, or client, whose `Scheduler` created the run. */
  readonly createdBy: string
  /** When the latest occurrence's latest attempt started, on the store's clock; `undefined` before its first. */
  readonly startedAt: Date | undefined
  /** The instance that started the latest attempt. */
  readonly startedBy: string | undefined
  /**
   * The deadline of the latest attempt (its start plus `runTimeout`); `undefined` before the first
   * attempt, while a retry waits, and when the timeout is disabled.
   */
  readonly timeoutAt: Date | undefined
  /**
   * True once `cancelRun` found the occurrence running and asked for it to stop: the instance running
   * it interrupts it at its next heartbeat (at once when that instance is the one that called `cancelRun`).
   */
  readonly cancelRequested: boolean
  /**
   * The last error recorded for the latest occurrence (a failure, a defect, a timeout, arguments that
   * no longer decode): set by each retry and by a failed end, cleared when the occurrence succeeds.
   */
  readonly error: string | undefined
  /** When the latest occurrence reached its final status, on the store's clock; `undefined` while it is active. */
  readonly finishedAt: Date | undefined
}

/** True when no further attempt or occurrence will happen. */
export const isFinal = (state: { readonly status: RunStatus }): boolean =>
  state.status === "succeeded" || state.status === "failed" || state.status === "cancelled"

const date = (millis: number | null): Date | undefined => (millis === null ? undefined : new Date(millis))

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Builds the public state from a stored occurrence. */
export const fromStored = (row: StoredRun): RunState => ({
  id: RunId.make(row.originId),
  occurrenceId: row.id,
  occurrence: row.occurrence,
  status: row.status,
  job: row.job,
  args: parseJson(row.args),
  name: row.uniqueName ?? undefined,
  schedule: row.schedule ?? undefined,
  runAt: new Date(row.runAt),
  runTotalCount: row.runTotalCount,
  runSuccessCount: row.runSuccessCount,
  runSuccessLimit: row.runSuccessLimit ?? undefined,
  runTimeout: row.runTimeoutMs,
  retriesErrorCount: row.retriesErrorCount,
  retriesErrorLimit: row.retriesErrorLimit,
  retriesTimeoutCount: row.retriesTimeoutCount,
  retriesTimeoutLimit: row.retriesTimeoutLimit,
  createdAt: new Date(row.createdAt),
  createdBy: row.createdBy,
  startedAt: date(row.startedAt),
  startedBy: row.startedBy ?? undefined,
  timeoutAt: date(row.timeoutAt),
  cancelRequested: row.cancelRequested,
  error: row.error ?? undefined,
  finishedAt: date(row.finishedAt)
})
