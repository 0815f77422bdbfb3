/**
 * The state of a run as `Scheduler.getRunState` and `Scheduler.awaitRun` report it.
 *
 * `RunState.ts` re-exports this module: the runtime's internals import it from here.
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import type { RunStatus, StoredRun } from "../JobStore.js"
import * as RunId from "./runId.js"
import * as TraceContext from "./traceContext.js"

/** The latest state of a run: its active or last occurrence. */
export interface RunState {
  /** The id `createRun` returned: the same for every retry and occurrence. */
  readonly originId: RunId.RunId
  /** The id of the latest occurrence (equal to `originId` for a run without a schedule). */
  readonly id: string
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
  /** The timeout of each attempt; `Duration.zero` when disabled. */
  readonly runTimeout: Duration.Duration
  /** Retries after errors used by the latest occurrence (each occurrence starts at 0). */
  readonly retriesOnErrorCount: number
  /** The most retries after errors for each occurrence; -1 is unlimited. */
  readonly retriesErrorLimit: number
  /** Retries after timeouts used by the latest occurrence (each occurrence starts at 0). */
  readonly retriesOnTimeoutCount: number
  /** The most retries after timeouts for each occurrence; -1 is unlimited. */
  readonly retriesTimeoutLimit: number
  /** Times the latest occurrence snoozed (`Job.snooze`); each occurrence starts at 0. */
  readonly snoozeCount: number
  /**
   * The result of the run's last successful attempt in its encoded (JSON) form (for a scheduled run,
   * its latest successful occurrence's); `undefined` before any, for a job without a `success` Schema,
   * and when the stored text is not JSON. `Scheduler.awaitResult` decodes it.
   */
  readonly result: unknown
  /** When the run (its first occurrence) was created, on the store's clock. */
  readonly createdAt: Date
  /** The id of the instance, or client, whose `Scheduler` created the run. */
  readonly createdBy: string
  /** When the latest occurrence's latest attempt started, on the store's clock; `undefined` before its first. */
  readonly runStartedAt: Date | undefined
  /** The instance that started the latest attempt. */
  readonly runStartedBy: string | undefined
  /**
   * The deadline of the latest attempt (its start plus `runTimeout`); `undefined` before the first
   * attempt, while a retry waits, and when the timeout is disabled.
   */
  readonly runTimeoutAt: Date | undefined
  /**
   * True once `cancelRun` found the occurrence running and asked for it to stop: the instance running
   * it interrupts it at its next heartbeat (at once when that instance is the one that called `cancelRun`).
   */
  readonly cancelRequested: boolean
  /**
   * The last error recorded for the latest occurrence (a failure, a defect, a timeout, arguments that
   * no longer decode): set by each retry and by a failed end, cleared when the occurrence succeeds.
   */
  readonly runCompletedError: string | undefined
  /** When the latest occurrence reached its final status, on the store's clock; `undefined` while it is active. */
  readonly runCompletedAt: Date | undefined
  /**
   * The trace id of the span that created the run (32 hex digits; its attempts' spans name that
   * span as their parent or link); `undefined` when it was created outside any span.
   */
  readonly traceId: string | undefined
  /** The name of the run's queue (`JobQueue`), whose limits hold for its attempts; `undefined`: in no queue. */
  readonly queue: string | undefined
  /** Its claim order among due runs: lower numbers start first. */
  readonly priority: number
  /** The partition of a partitioned queue it counts in; `undefined`: the partition of runs without a key. */
  readonly partitionKey: string | undefined
}

/** True when no further attempt or occurrence will happen. */
export const isFinal = (state: { readonly status: RunStatus }): boolean =>
  state.status === "succeeded" || state.status === "failed" || state.status === "cancelled"

const date = (millis: number | null): Date | undefined => (millis === null ? undefined : new Date(millis))

/** The value of JSON text; `undefined` when it is not JSON. */
export const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Builds the public state from a stored occurrence. */
export const fromStored = (row: StoredRun): RunState => ({
  originId: RunId.make(row.originId),
  id: row.id,
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
  runTimeout: Duration.millis(row.runTimeoutMs),
  retriesOnErrorCount: row.retriesErrorCount,
  retriesErrorLimit: row.retriesErrorLimit,
  retriesOnTimeoutCount: row.retriesTimeoutCount,
  retriesTimeoutLimit: row.retriesTimeoutLimit,
  snoozeCount: row.snoozeCount,
  result: row.result === null ? undefined : parseJson(row.result),
  createdAt: new Date(row.createdAt),
  createdBy: row.createdBy,
  runStartedAt: date(row.startedAt),
  runStartedBy: row.startedBy ?? undefined,
  runTimeoutAt: date(row.timeoutAt),
  cancelRequested: row.cancelRequested,
  runCompletedError: row.error ?? undefined,
  runCompletedAt: date(row.finishedAt),
  traceId: Option.getOrUndefined(Option.map(TraceContext.decode(row.traceContext), (span) => span.traceId)),
  queue: row.queue ?? undefined,
  priority: row.priority,
  partitionKey: row.partitionKey ?? undefined
})
