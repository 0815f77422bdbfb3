/** A wake-up signal for a background loop: wakes never get lost, repeated wakes coalesce. */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"

/** Lets other fibers wake a sleeping loop early. */
export interface WakeSignal {
  /** Wakes the loop (or makes its next wait return at once). */
  readonly wake: Effect.Effect<void>
  /** `wake`, at once, from code outside an effect. */
  readonly unsafeWake: () => void
  /** Waits until woken or until `millis` have passed (`Infinity`: until woken); `true` when woken. */
  readonly sleep: (millis: number) => Effect.Effect<boolean>
  /** Whether a wake is waiting for the next sleep (which will then return at once). */
  readonly pending: () => boolean
  /**
   * Forgets a wake that no sleep has taken yet: the loop is about to look at what woke it (a wake
   * that comes after this call is kept). A burst of wakes, of which the first ended the sleep, then
   * does not also end the next one.
   */
  readonly clear: () => void
}

/**
 * A new signal. A wake completes the sleeper's `Deferred` directly; the timer is a fiber of its own
 * that the sleep interrupts without waiting for it. (Racing the wait against `Effect.sleep` made each
 * wake-up wait for the losing timer's interruption: about 0.3 ms instead of 0.05 ms.)
 */
export const make: Effect.Effect<WakeSignal> = Effect.sync(() => {
  /** A wake that no sleep has taken yet. */
  let woken = false
  let sleeper: Deferred.Deferred<boolean> | undefined

  const unsafeWake = (): void => {
    if (sleeper === undefined) {
      woken = true
      return
    }
    Deferred.unsafeDone(sleeper, Exit.succeed(true))
    sleeper = undefined
  }

  const sleep = (millis: number): Effect.Effect<boolean> =>
    Effect.suspend(() => {
      if (woken || millis <= 0) {
        const wasWoken = woken
        woken = false
        return Effect.succeed(wasWoken)
      }
      // uninterruptible until the wait: an interrupted sleep always forgets its Deferred (or a later wake would go to it)
      return Effect.uninterruptibleMask((restore) => {
        const deferred = Deferred.unsafeMake<boolean>(FiberId.none)
        sleeper = deferred
        const forget = Effect.sync(() => {
          if (sleeper === deferred) sleeper = undefined
        })
        if (!Number.isFinite(millis)) return restore(Deferred.await(deferred)).pipe(Effect.ensuring(forget))
        return Effect.flatMap(
          // the timer is interruptible itself: forked inside the mask it would inherit uninterruptibility,
          // and a sleep that ended early would leave it holding the process open until it fires
          Effect.forkDaemon(
            Effect.interruptible(
              Effect.zipRight(Effect.sleep(Math.ceil(millis)), Deferred.done(deferred, Exit.succeed(false)))
            )
          ),
          (timer) =>
            restore(Deferred.await(deferred)).pipe(Effect.ensuring(Effect.zipRight(forget, Fiber.interruptFork(timer))))
        )
      })
    })

  return {
    wake: Effect.sync(unsafeWake),
    unsafeWake,
    sleep,
    pending: () => woken,
    clear: () => {
      woken = false
    }
  }
})
