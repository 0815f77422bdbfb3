/**
 * What the runtime asks of a store's `claim` (re-exported by `JobStore.ts`).
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
