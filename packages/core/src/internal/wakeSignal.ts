/** A wake-up signal for a background loop: wakes never get lost, repeated wakes coalesce. */
import { Effect, Queue } from "effect"

/** Lets other fibers wake a sleeping loop early. */
export interface WakeSignal {
  /** Wakes the loop (or makes its next wait return at once). */
  readonly wake: Effect.Effect<void>
  /** `wake`, at once, from code outside an effect. */
  readonly unsafeWake: () => void
  /** Waits until woken or until `millis` have passed. */
  readonly sleep: (millis: number) => Effect.Effect<void>
}

/** A new signal. */
export const make: Effect.Effect<WakeSignal> = Effect.map(Queue.sliding<void>(1), (queue) => ({
  wake: Effect.asVoid(Queue.offer(queue, undefined)),
  unsafeWake: () => {
    queue.unsafeOffer(undefined)
  },
  sleep: (millis) =>
    millis <= 0
      ? Effect.asVoid(Queue.poll(queue))
      : Effect.raceFirst(Queue.take(queue), Effect.sleep(Math.ceil(millis)))
}))
