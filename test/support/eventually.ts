/** Polling for a condition in real-time tests. */
import { Effect } from "effect"

/** Runs `self` every 50 ms until `until` holds, failing after 15 s. */
export const eventually = <A, E, R>(self: Effect.Effect<A, E, R>, until: (a: A) => boolean) =>
  Effect.zipLeft(self, Effect.sleep("50 millis")).pipe(
    Effect.repeat({ until }),
    Effect.timeoutFail({ duration: "15 seconds", onTimeout: () => new Error("condition not reached within 15 s") })
  )
