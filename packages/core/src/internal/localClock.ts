/**
 * This process's clock for local deadlines and durations: Effect's `currentTimeNanos`, which reads
 * `process.hrtime` from a fixed origin, in milliseconds. Unlike `Date.now()` it does not jump when
 * the system clock is set (NTP steps, a user changing the time), so an attempt's timeout and a
 * buffered run's age stay right; `TestClock` drives it like every other clock.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

/** Milliseconds on the monotonic clock of `clock`, read at once (close to epoch milliseconds). */
export const unsafeMillis = (clock: Clock.Clock): number => Number(clock.unsafeCurrentTimeNanos()) / 1_000_000

/** Milliseconds on the monotonic clock of the current fiber. */
export const millis: Effect.Effect<number> = Effect.map(Clock.currentTimeNanos, (nanos) => Number(nanos) / 1_000_000)
