/**
 * How many claimed runs an instance keeps waiting for a worker: about `aheadMs`
 * of work at the recent completion rate, at most `max`. Fast jobs get a deep
 * buffer (claims of hundreds of runs per round trip); slow jobs get none, so a
 * claimed run never waits long and other instances get their share.
 */

/** The buffer size to aim for, from the rate at which attempts end. */
export interface ClaimAhead {
  /** Counts an attempt that ended. */
  readonly completed: () => void
  /** The buffer size to aim for at `now` (milliseconds on any steady clock). */
  readonly target: (now: number) => number
}

/** Shortest interval over which a rate is measured (shorter ones are too noisy). */
const minSampleMs = 5

/** A target that follows the completion rate, smoothed over about `aheadMs`; 0 disables claiming ahead. */
export const make = (aheadMs: number, max: number): ClaimAhead => {
  let count = 0
  let since: number | undefined
  let rate = 0
  let target = 0
  return {
    completed: () => {
      count += 1
    },
    target: (now) => {
      if (aheadMs <= 0) return 0
      if (since === undefined) since = now
      const elapsed = now - since
      if (elapsed >= minSampleMs) {
        // the longer the interval, the more it outweighs history: after an idle spell the rate is about 0
        const weight = 1 - Math.exp(-elapsed / aheadMs)
        rate += (count / elapsed - rate) * weight
        count = 0
        since = now
        target = Math.min(max, Math.ceil(rate * aheadMs))
      }
      return target
    }
  }
}
