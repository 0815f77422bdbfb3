/**
 * Retry delays: how long a failed or timed-out attempt waits before the next one.
 * The due time of the next attempt is stored with the run, so any instance honours
 * it, also after a restart. The default is immediate: a retry is due as soon as its attempt ended.
 *
 * @since 0.1.0
 */
import { Duration } from "effect"

/** A policy giving the delay before retry number `attempt` (1 for the first retry). */
export type RetryBackoff =
  | {
      /** No delay: each retry is due at once. */
      readonly _tag: "Immediate"
    }
  | {
      /** The same delay before every retry. */
      readonly _tag: "Fixed"
      /** The delay before each retry, in milliseconds. */
      readonly delayMs: number
    }
  | {
      /** A delay that grows with each retry. */
      readonly _tag: "Exponential"
      /** The delay before the first retry, in milliseconds. */
      readonly baseMs: number
      /** What each further retry multiplies the delay by (default 2). */
      readonly factor: number
      /** The longest delay, in milliseconds (default 1 hour). */
      readonly maxMs: number
      /** Whether each delay is drawn uniformly between half of it and all of it (default true). */
      readonly jitter: boolean
    }

/** Retry at once (the default). */
export const immediate: RetryBackoff = { _tag: "Immediate" }

/** Wait the same delay before every retry. */
export const fixed = (delay: Duration.DurationInput): RetryBackoff => ({
  _tag: "Fixed",
  delayMs: Duration.toMillis(Duration.decode(delay))
})

/**
 * Wait `base * factor^(attempt - 1)`, capped at `max` (default 1 hour); with `jitter` (default true)
 * the delay is drawn uniformly between half of it and all of it, so retries of many runs spread out.
 */
export const exponential = (options: {
  readonly base: Duration.DurationInput
  readonly factor?: number
  readonly max?: Duration.DurationInput
  readonly jitter?: boolean
}): RetryBackoff => ({
  _tag: "Exponential",
  baseMs: Duration.toMillis(Duration.decode(options.base)),
  factor: options.factor ?? 2,
  maxMs: Duration.toMillis(Duration.decode(options.max ?? "1 hour")),
  jitter: options.jitter ?? true
})

/** The delay in milliseconds before retry `attempt` (1-based); `random` is a number in [0, 1). */
export const delayMillis = (backoff: RetryBackoff, attempt: number, random: number): number => {
  switch (backoff._tag) {
    case "Immediate":
      return 0
    case "Fixed":
      return Math.max(0, backoff.delayMs)
    case "Exponential": {
      const full = Math.min(backoff.maxMs, backoff.baseMs * backoff.factor ** Math.max(0, attempt - 1))
      return Math.max(0, Math.round(backoff.jitter ? full * (0.5 + random / 2) : full))
    }
  }
}
