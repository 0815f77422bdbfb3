/** The store clock: its offset from the store's clock follows the measurement of the shortest round trip. */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import * as LocalClock from "../src/internal/localClock.js"
import * as StoreClock from "../src/internal/storeClock.js"

/** The store's clock runs this far ahead of the local one. */
const skewMs = 10_000

/**
 * A store that reads its clock at once and answers after the next of `tripsMs` (test clock
 * milliseconds): a trip that long puts the local half-way point that much after the read.
 */
const storeWithTrips = (tripsMs: ReadonlyArray<number>) => {
  let trip = 0
  return {
    now: Effect.gen(function* () {
      const read = (yield* LocalClock.millis) + skewMs
      yield* TestClock.adjust(tripsMs[Math.min(trip++, tripsMs.length - 1)]!)
      return read
    })
  }
}

/** How far the store clock is from the store's clock now (`stepMs`: the store's clock was moved on by that much). */
const error = (clock: StoreClock.StoreClock, stepMs = 0) =>
  Effect.map(LocalClock.millis, (local) => clock.unsafeNow() - (local + skewMs + stepMs))

describe("StoreClock", () => {
  it.effect("a slow first trip (a new connection) does not set the offset: the second measurement does", () =>
    Effect.gen(function* () {
      const clock = yield* StoreClock.make(storeWithTrips([40, 2]))
      // half the 2 ms trip: the store's reading is taken for the half-way point
      expect(yield* error(clock)).toBe(-1)
    })
  )

  it.effect("a later slow trip leaves the offset of the shortest recent trip", () =>
    Effect.gen(function* () {
      const clock = yield* StoreClock.make(storeWithTrips([2, 2, 60, 30]))
      yield* clock.sync
      yield* clock.sync
      expect(yield* error(clock)).toBe(-1)
    })
  )

  it.effect("a change of the store's clock is followed once the measurements before it are gone", () =>
    Effect.gen(function* () {
      let stepMs = 0
      const store = storeWithTrips([2, 2, 4])
      const clock = yield* StoreClock.make({ now: Effect.map(store.now, (now) => now + stepMs) })
      stepMs = 500
      // the two measurements before the step have the shortest trips: they stand until they drop out
      yield* clock.sync
      expect(yield* error(clock, stepMs)).toBe(-1 - 500)
      // five measurements are kept: four more and the step's are all there is
      for (let i = 0; i < 3; i++) yield* clock.sync
      expect(yield* error(clock, stepMs)).toBe(-1 - 500)
      yield* clock.sync
      expect(yield* error(clock, stepMs)).toBe(-2)
    })
  )
})
