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
  readonly status: RunStatus
  readonly job: string
  /** The arguments in their encoded (JSON) form; `undefined` when the stored text is not JSON. */
  readonly args: unknown
  readonly name: string | undefined
  readonly schedule: string | undefined
  readonly runAt: Date
  readonly runTotalCount: number
  readonly runSuccessCount: number
  readonly runSuccessLimit: number | undefined
  readonly runTimeout: number
  readonly retriesErrorCount: number
  readonly retriesErrorLimit: number
  readonly retriesTimeoutCount: number
  readonly retriesTimeoutLimit: number
  readonly createdAt: Date
  readonly createdBy: string
  readonly startedAt: Date | undefined
  /** The instance that started the latest attempt. */
  readonly startedBy: string | undefined
  readonly timeoutAt: Date | undefined
  readonly cancelRequested: boolean
  /** The last error recorded, if any (kept after a successful retry, cleared on success). */
  readonly error: string | undefined
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
