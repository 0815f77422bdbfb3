/** The instance counters kept in memory and written to the instance row by the heartbeat. */
import * as Effect from "effect/Effect"
import type { InstanceCounters } from "../JobStore.js"
import { zeroCounters } from "./instanceRow.js"

/** A mutable tally of what this instance did. */
export interface Counters {
  /** Adds `n` (default 1) to a counter, at once. */
  readonly add: (counter: keyof InstanceCounters, n?: number) => void
  readonly snapshot: Effect.Effect<InstanceCounters>
}

/** Fresh counters at zero. */
export const make = (): Counters => {
  const values: { -readonly [K in keyof InstanceCounters]: number } = { ...zeroCounters }
  return {
    add: (counter, n = 1) => {
      values[counter] += n
    },
    snapshot: Effect.sync(() => ({ ...values }))
  }
}
