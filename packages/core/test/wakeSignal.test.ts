/** The poller's wake-up signal, driven by TestClock: sleeps end at their time or at a wake, and no wake is lost. */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, TestClock } from "effect"
import * as WakeSignal from "../src/internal/wakeSignal.js"

/** Lets forked fibers run. */
const settle = Effect.forEach(Array.from({ length: 10 }), () => Effect.yieldNow(), { discard: true })

describe("WakeSignal", () => {
  it.effect("a sleep ends when its time has passed, not before", () =>
    Effect.gen(function* () {
      const signal = yield* WakeSignal.make
      const sleeping = yield* Effect.fork(signal.sleep(1_000))
      yield* TestClock.adjust(999)
      yield* settle
      expect(sleeping.unsafePoll()).toBeNull()
      yield* TestClock.adjust(1)
      yield* Fiber.join(sleeping)
    })
  )

  it.effect("a sleep ended by a wake leaves no timer behind (a pending timer would keep the process alive)", () =>
    Effect.gen(function* () {
      // a clock whose sleeps never end by themselves and count how many are still pending
      let pending = 0
      const live = yield* Effect.clock
      const counting: Clock.Clock = {
        [Clock.ClockTypeId]: Clock.ClockTypeId,
        unsafeCurrentTimeMillis: () => live.unsafeCurrentTimeMillis(),
        unsafeCurrentTimeNanos: () => live.unsafeCurrentTimeNanos(),
        currentTimeMillis: live.currentTimeMillis,
        currentTimeNanos: live.currentTimeNanos,
        sleep: () =>
          Effect.sync(() => pending++).pipe(
            Effect.zipRight(Effect.never),
            Effect.ensuring(Effect.sync(() => pending--))
          )
      }
      const signal = yield* WakeSignal.make
      const sleeping = yield* Effect.fork(Effect.withClock(signal.sleep(30 * 60_000), counting))
      yield* settle
      expect(pending).toBe(1)
      yield* signal.wake
      yield* Fiber.join(sleeping)
      yield* settle
      expect(pending).toBe(0)
    })
  )

  it.effect("a sleep of Infinity lasts until a wake", () =>
    Effect.gen(function* () {
      const signal = yield* WakeSignal.make
      const sleeping = yield* Effect.fork(signal.sleep(Number.POSITIVE_INFINITY))
      yield* TestClock.adjust("3650 days")
      yield* settle
      expect(sleeping.unsafePoll()).toBeNull()
      yield* signal.wake
      yield* Fiber.join(sleeping)
    })
  )

  it.effect(
    "a wake ends a sleep early; a wake with nobody asleep ends the next sleep at once, and wakes coalesce",
    () =>
      Effect.gen(function* () {
        const signal = yield* WakeSignal.make
        const sleeping = yield* Effect.fork(signal.sleep(60_000))
        yield* settle
        expect(sleeping.unsafePoll()).toBeNull()
        signal.unsafeWake()
        yield* Fiber.join(sleeping)

        yield* signal.wake
        yield* signal.wake
        yield* signal.sleep(60_000) // the stored wake: returns without any time passing
        const next = yield* Effect.fork(signal.sleep(60_000))
        yield* settle
        expect(next.unsafePoll()).toBeNull() // the two wakes were one
        yield* TestClock.adjust(60_000)
        yield* Fiber.join(next)
      })
  )

  it.effect("a sleep of 0 takes a stored wake and returns; an interrupted sleep does not swallow the next wake", () =>
    Effect.gen(function* () {
      const signal = yield* WakeSignal.make
      signal.unsafeWake()
      yield* signal.sleep(0)
      const next = yield* Effect.fork(signal.sleep(60_000))
      yield* settle
      expect(next.unsafePoll()).toBeNull() // the sleep of 0 took the wake

      yield* Fiber.interrupt(next)
      signal.unsafeWake()
      yield* signal.sleep(60_000) // returns at once: the wake was kept for the next sleep
    })
  )
})
