/** The instance counters kept in memory and written to the instance row by the heartbeat. */
import { Effect } from "effect"
import type { InstanceCounters } from "../JobStore.js"

/** A mutable tally of what this instance did. */
export interface Counters {
  readonly add: (counter: keyof InstanceCounters, n?: number) => Effect.Effect<void>
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
    add: (counter, n = 1) =>
      Effect.sync(() => {
        values[counter] += n
      }),
    snapshot: Effect.sync(() => ({ ...values }))
  }
}
