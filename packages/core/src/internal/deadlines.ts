/**
 * Attempt timeouts with one fiber for the whole instance: it sleeps (on
 * Effect's `Clock`, so `TestClock` drives it) until the earliest deadline and
 * calls `onExpired` for each key past its deadline, instead of a timer fiber
 * per attempt.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as LocalClock from "./localClock.js"
import * as WakeSignal from "./wakeSignal.js"

/** Deadlines of keys, each expiring at most once. */
export interface Deadlines<K> {
  /** Watches `key`: `onExpired(key)` runs once `Clock` passes `at` (epoch ms), unless removed first. */
  readonly add: (key: K, at: number) => void
  /** Stops watching `key`. */
  readonly remove: (key: K) => void
}

/** Deadlines whose watcher fiber lives in the current scope. */
export const make = <K>(onExpired: (key: K) => Effect.Effect<void>): Effect.Effect<Deadlines<K>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const deadlines = new Map<K, number>()
    const signal = yield* WakeSignal.make
    /** The deadline the watcher sleeps until (Infinity: until woken). */
    let sleepingUntil = Number.POSITIVE_INFINITY

    const earliest = (): number => {
      let min = Number.POSITIVE_INFINITY
      for (const at of deadlines.values()) if (at < min) min = at
      return min
    }

    const loop = Effect.gen(function* () {
      for (;;) {
        const now = yield* LocalClock.millis
        const expired: Array<K> = []
        for (const [key, at] of deadlines) if (at <= now) expired.push(key)
        for (const key of expired) {
          deadlines.delete(key)
          yield* onExpired(key)
        }
        sleepingUntil = earliest()
        yield* signal.sleep(sleepingUntil - now)
      }
    })
    yield* Effect.forkScoped(loop)

    return {
      add: (key, at) => {
        deadlines.set(key, at)
        if (at < sleepingUntil) {
          sleepingUntil = at
          signal.unsafeWake()
        }
      },
      remove: (key) => {
        deadlines.delete(key)
      }
    }
  })
