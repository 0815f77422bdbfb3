/**
 * The named leases of the store (`acquireLease`, `releaseLease`, `lease`): the maintenance leader's
 * lease row (`leader.ts`).
 *
 * @internal
 */

/** What `acquireLease` asks for: the lease `name` for `holder`, for `leaseMs` from the store's clock. */
export interface LeaseRequest {
  /** The lease's name (the runtime's maintenance lease is `maintenance`). */
  readonly name: string
  /** The instance asking for it (its id). */
  readonly holder: string
  /** How long the lease lasts without a renewal, in milliseconds. */
  readonly leaseMs: number
}

/** A named lease as stored, with the jobs and schedules of its holder's instance row. */
export interface Lease {
  /** The lease's name. */
  readonly name: string
  /** The instance that holds it, or held it last. */
  readonly holder: string
  /** Until when it is held, epoch milliseconds on the store's clock; free from then on. */
  readonly leaseUntil: number
  /** Whether it is still held at the store's clock. */
  readonly live: boolean
  /** The jobs the holder's instance row lists (none without a row). */
  readonly jobs: ReadonlyArray<string>
  /** The schedules the holder's instance row lists (none without a row). */
  readonly schedules: ReadonlyArray<string>
}
