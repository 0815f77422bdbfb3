/** The instance counters kept in memory and written to the instance row by the heartbeat. */
import { Effect } from "effect"
import type { InstanceCounters } from "../JobStore.js"

/** A mutable tally of what this instance did. */
export interface Counters {
  /** Adds `n` (default 1) to a counter, at once. */
  readonly add: (counter: keyof InstanceCounters, n?: number) => void
  readonly snapshot: Effect.Effect<InstanceCounters>
}

/** Fresh counters at zero. */
export const make = (): Counters => {
  const values: { -readonly [K in keyof InstanceCounters]: number } = {
    runsStarted: 0,
    runsSucceeded: 0,
    runsRescheduled: 0,
    runsTimedOut: 0,
    runsResurrected: 0,
    runsErrors: 0
  }
  return {
    add: (counter, n = 1) => {
      values[counter] += n
    },
    snapshot: Effect.sync(() => ({ ...values }))
  }
}
