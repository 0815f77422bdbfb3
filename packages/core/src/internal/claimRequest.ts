/**
 * What the runtime asks of a store's `claim` and `reap` (re-exported by `JobStore.ts`).
 *
 * @internal
 */

/** What a claimer asks for. */
export interface ClaimRequest {
  /** The claiming instance's id, stored as `startedBy`. */
  readonly instanceId: string
  /** Only runs of these jobs are claimed. */
  readonly jobs: ReadonlyArray<string>
  /** Runs with a schedule are claimed only when it is one of these. */
  readonly schedules: ReadonlyArray<string>
  /** The most runs claimed by this call. */
  readonly limit: number
  /** The claim expires unless the heartbeat extends it within this many milliseconds. */
  readonly leaseMs: number
  /** Runs in a queue are claimed only for these queues, within their stored limits and unless paused (absent: none). */
  readonly queues?: ReadonlyArray<string>
}

/** What a timeout reaper asks for. */
export interface ReapRequest {
  /** The instance taking the runs over: its claims (`ClaimToken.prefix`), not `startedBy`, which stays. */
  readonly instanceId: string
  /** Only runs of these jobs are taken over. */
  readonly jobs: ReadonlyArray<string>
  /** Runs with a schedule are taken over only when it is one of these. */
  readonly schedules: ReadonlyArray<string>
  /** The most runs taken over by this call. */
  readonly limit: number
  /** The lease of each fresh claim, in milliseconds. */
  readonly leaseMs: number
  /** A run is reaped only once its timeout has passed by this many milliseconds. */
  readonly graceMs: number
}
