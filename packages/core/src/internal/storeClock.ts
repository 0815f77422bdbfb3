/**
 * The store's clock as seen from this process: its monotonic clock (`localClock.ts`) plus an offset
 * measured against the store (the database's clock), so due times computed
 * here (`now + delay`, retries, next occurrences) agree with the clock every
 * comparison in the store uses, whatever the skew of this machine's clock.
 */
import * as Effect from "effect/Effect"
import type { JobStoreShape } from "../JobStore.js"
import type { JobStoreError } from "./errors.js"
import * as LocalClock from "./localClock.js"

/** The store's current time, estimated locally. */
export interface StoreClock {
  /** Epoch milliseconds on the store's clock. */
  readonly now: Effect.Effect<number>
  /** `now`, read at once on the `Clock` of the fiber that made this store clock (per-run bookkeeping reads it without an effect). */
  readonly unsafeNow: () => number
  /** Measures the offset again (one store round trip). */
  readonly sync: Effect.Effect<void, JobStoreError>
}

/** A store clock, synchronised once before it is returned. */
export const make = (store: JobStoreShape): Effect.Effect<StoreClock, JobStoreError> =>
  Effect.gen(function* () {
    const clock = yield* Effect.clock
    let offset = 0
    const sync = Effect.gen(function* () {
      const before = yield* LocalClock.millis
      const storeNow = yield* store.now
      const after = yield* LocalClock.millis
      // assume the store read its clock half-way through the round trip
      offset = storeNow - Math.round((before + after) / 2)
    })
    yield* sync
    return {
      now: Effect.map(LocalClock.millis, (local) => local + offset),
      unsafeNow: () => LocalClock.unsafeMillis(clock) + offset,
      sync
    }
  })
