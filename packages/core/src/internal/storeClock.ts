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
  /** Measures the offset again (one store round trip); the shortest of the recent trips sets it. */
  readonly sync: Effect.Effect<void, JobStoreError>
}

/**
 * How many recent measurements of the offset the clock keeps. Each is off by up to half its round
 * trip (the store's clock is read somewhere within it), so the one of the shortest trip is used: a
 * trip slowed by load, a pool wait or a new connection does not move the clock, and a change of the
 * store's clock is followed within this many measurements.
 */
const keptMeasurements = 5

/** One measurement: the offset, assuming the store read its clock half-way through a trip this long. */
interface Measurement {
  readonly offset: number
  readonly roundTripMs: number
}

/** A store clock, measured twice before it is returned (the first trip may include connecting). */
export const make = (store: Pick<JobStoreShape, "now">): Effect.Effect<StoreClock, JobStoreError> =>
  Effect.gen(function* () {
    const clock = yield* Effect.clock
    let measurements: ReadonlyArray<Measurement> = []
    let offset = 0
    const sync = Effect.gen(function* () {
      const before = yield* LocalClock.millis
      const storeNow = yield* store.now
      const after = yield* LocalClock.millis
      measurements = [
        ...measurements.slice(1 - keptMeasurements),
        { offset: storeNow - (before + after) / 2, roundTripMs: after - before }
      ]
      offset = measurements.reduce((best, next) => (next.roundTripMs < best.roundTripMs ? next : best)).offset
    })
    yield* sync
    yield* sync
    return {
      now: Effect.map(LocalClock.millis, (local) => local + offset),
      unsafeNow: () => LocalClock.unsafeMillis(clock) + offset,
      sync
    }
  })
