/**
 * What the timeout reaper asks of the store and gets back (`JobStoreShape.reap`): runs taken over
 * with fresh claims, to be settled, and runs given back that never started.
 *
 * @internal
 */
import type { ClaimedRun } from "../JobStore.js"

/** What a timeout reaper asks for. */
export interface ReapRequest {
  /** The instance taking the runs over: its claims (`ClaimToken.prefix`), not `startedBy`, which stays. */
  readonly instanceId: string
  /** Only runs of these jobs are taken over. */
  readonly jobs: ReadonlyArray<string>
  /** Runs with a schedule are taken over only when it is one of these. */
  readonly schedules: ReadonlyArray<string>
  /** The most runs taken over by this call, and the most given back. */
  readonly limit: number
  /** The lease of each fresh claim, in milliseconds. */
  readonly leaseMs: number
  /** A run is reaped only once its timeout has passed by this many milliseconds. */
  readonly graceMs: number
}

/** Why the reaper took a run over. */
export type ReapReason = "timeout" | "lease"

/** A run the reaper took over, fenced by a fresh claim: its attempt had started. */
export interface ReapedRun extends ClaimedRun {
  /** `timeout`: its timeout passed by more than `graceMs`; `lease`: its instance stopped extending the lease. */
  readonly reason: ReapReason
}

/**
 * A run whose lease expired before its attempt started (no heartbeat reported its dispatch since
 * the claim: it waited in a buffer, or its start was not reported yet): the store made it pending
 * again, due as before, with its attempt given back and nothing recorded (ended `cancelled` instead
 * when its cancel was requested).
 */
export interface GivenBackRun {
  /** The occurrence's id. */
  readonly id: string
  /** The `RunId`. */
  readonly originId: string
  /** The job's name. */
  readonly job: string
  /** The instance whose claim expired. */
  readonly startedBy: string | null
}

/** What `reap` did. */
export interface ReapResult {
  /** The runs taken over, to be settled under their new claims (timed out, lost or cancelled). */
  readonly taken: ReadonlyArray<ReapedRun>
  /** The runs that never started, already pending again: nothing to settle. */
  readonly givenBack: ReadonlyArray<GivenBackRun>
}
