/**
 * `Job.snooze`: an attempt ends by failing with `JobSnooze`, which the attempt's exit observer
 * (`attempt.ts`) turns into a `snoozed` ending instead of an error.
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { InvalidRunOptions, JobSnooze } from "./errors.js"
import { duration } from "./rules.js"

/** Ends the attempt: the run is due again `delay` after now on the store's clock, no retry used. */
export const snooze = (delay: unknown): Effect.Effect<never, JobSnooze | InvalidRunOptions> =>
  Either.match(duration(0)(delay), {
    onLeft: (rule) => Effect.fail(new InvalidRunOptions({ message: `Job.snooze: delay ${rule}` })),
    onRight: (ms) => Effect.fail(new JobSnooze({ delay: Duration.millis(ms) }))
  })

/** The snooze's delay in milliseconds when the attempt ended with `Job.snooze` (and nothing else), else `undefined`. */
export const delayOf = (cause: Cause.Cause<unknown>): number | undefined =>
  Cause.isFailType(cause) && cause.error instanceof JobSnooze ? Duration.toMillis(cause.error.delay) : undefined
