/**
 * Retry delays: how long a failed or timed-out attempt waits before the next one.
 * The due time of the next attempt is stored with the run, so any instance honours
 * it, also after a restart. The default is immediate: a retry is due as soon as its attempt ended.
 *
 * A policy is plain data: the constructors keep what they are given and check nothing. A job whose
 * policy breaks a rule (a duration that does not decode, is negative or is infinite, a `factor`
 * below 1, a `max` below `base`) is refused with `InvalidRunOptions` by `job.toLayer` and by
 * `createRun`, before anything runs or is written.
 *
 * `RetryBackoff.ts` re-exports this module: the runtime's internals import it from here.
 */
import type * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as options from "./options.js"

/** A policy giving the delay before retry number `attempt` (1 for the first retry). */
export type RetryBackoff =
  | {
      /** No delay: each retry is due at once. */
      readonly _tag: "Immediate"
    }
  | {
      /** The same delay before every retry. */
      readonly _tag: "Fixed"
      /** The delay before each retry (at least 0, finite). */
      readonly delay: Duration.DurationInput
    }
  | {
      /** A delay growing by `factor` with each retry, up to `max`. */
      readonly _tag: "Exponential"
      /** The delay before the first retry (at least 0, finite). */
      readonly base: Duration.DurationInput
      /** How much the delay grows per retry (a finite number, at least 1; default 2). */
      readonly factor: number
      /** The longest delay (finite, at least `base`; default 1 hour). */
      readonly max: Duration.DurationInput
      /** Whether the delay is drawn between half of it and all of it (default true). */
      readonly jitter: boolean
    }

/** Retry at once (the default). */
export const immediate: RetryBackoff = { _tag: "Immediate" }

/** Wait the same delay before every retry. */
export const fixed = (delay: Duration.DurationInput): RetryBackoff => ({ _tag: "Fixed", delay })

/**
 * Wait `base * factor^(attempt - 1)` (`factor` default 2), capped at `max` (default 1 hour); with
 * `jitter` (default true) the delay is drawn uniformly between half of it and all of it, so retries
 * of many runs spread out.
 */
export const exponential = (options: {
  readonly base: Duration.DurationInput
  readonly factor?: number
  readonly max?: Duration.DurationInput
  readonly jitter?: boolean
}): RetryBackoff => ({
  _tag: "Exponential",
  base: options.base,
  factor: options.factor ?? 2,
  max: options.max ?? "1 hour",
  jitter: options.jitter ?? true
})

/**
 * The delay in milliseconds before retry `attempt` (1-based); `random` is a number in [0, 1).
 * A policy that breaks the rules above has no delay (0): JobsS never uses one, it refuses the job.
 */
export const delayMillis = (backoff: RetryBackoff, attempt: number, random: number): number =>
  Either.match(options.backoffMillis(backoff), {
    onLeft: () => 0,
    onRight: (policy) => {
      switch (policy._tag) {
        case "Immediate":
          return 0
        case "Fixed":
          return policy.delayMs
        case "Exponential": {
          const growth = policy.factor ** Math.max(0, attempt - 1)
          const full = policy.baseMs === 0 ? 0 : Math.min(policy.maxMs, policy.baseMs * growth)
          return Math.round(policy.jitter ? full * (0.5 + random / 2) : full)
        }
      }
    }
  })
