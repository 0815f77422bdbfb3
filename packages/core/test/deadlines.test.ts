/** Attempt deadlines, driven by TestClock: they expire on the monotonic clock, whatever the system clock does. */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, TestClock } from "effect"
import * as Deadlines from "../src/internal/deadlines.js"
import * as LocalClock from "../src/internal/localClock.js"

/** Lets forked fibers run. */
const settle = Effect.forEach(Array.from({ length: 10 }), () => Effect.yieldNow(), { discard: true })

describe("Deadlines", () => {
  it.scoped("a deadline expires at its time, not before", () =>
    Effect.gen(function* () {
      const expired: Array<string> = []
      const deadlines = yield* Deadlines.make((key: string) => Effect.sync(() => expired.push(key)))
      deadlines.add("a", (yield* LocalClock.millis) + 1_000)
      yield* settle
      yield* TestClock.adjust(999)
      yield* settle
      expect(expired).toEqual([])
      yield* TestClock.adjust(1)
      yield* settle
      expect(expired).toEqual(["a"])
    })
  )

  it.scoped("a system clock set back an hour after a deadline was added does not postpone it", () =>
    Effect.gen(function* () {
      // the wall clock (currentTimeMillis) moves back by `setBackMs`; the monotonic one (currentTimeNanos) does not
      const test = yield* Effect.clock
      let setBackMs = 0
      const setBack: Clock.Clock = {
        [Clock.ClockTypeId]: Clock.ClockTypeId,
        unsafeCurrentTimeMillis: () => test.unsafeCurrentTimeMillis() - setBackMs,
        unsafeCurrentTimeNanos: () => test.unsafeCurrentTimeNanos(),
        currentTimeMillis: Effect.sync(() => test.unsafeCurrentTimeMillis() - setBackMs),
        currentTimeNanos: test.currentTimeNanos,
        sleep: (duration) => test.sleep(duration)
      }
      const expired: Array<string> = []
      const deadlines = yield* Effect.withClock(
        Deadlines.make((key: string) => Effect.sync(() => expired.push(key))),
        setBack
      )
      deadlines.add("a", LocalClock.unsafeMillis(setBack) + 1_000)
      yield* settle
      setBackMs = 3_600_000
      yield* TestClock.adjust(1_000)
      yield* settle
      expect(expired).toEqual(["a"])
    })
  )
})
