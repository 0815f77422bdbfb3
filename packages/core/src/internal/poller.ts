/**
 * The poller: claims due runs, at most the free worker permits, and starts
 * them. It sleeps until the earliest known due time (so delayed runs start when
 * due, not at the next poll), at most `pollInterval`, and wakes early on a local
 * `createRun`, a freed worker after a full claim, or the store's wake-up stream.
 */
import { Effect, Schedule } from "effect"
import type { JobStoreShape } from "../JobStore.js"
import type { JobStoreError } from "../JobsSError.js"
import type { Executor } from "./executor.js"
import type { Registry } from "./registry.js"
import type { WakeSignal } from "./wakeSignal.js"

/** The poller loop and its single step. */
export interface Poller {
  /** One claim round; returns how many milliseconds to wait before the next. */
  readonly runOnce: Effect.Effect<number, JobStoreError>
  /** The loop: never fails (store errors are logged and retried with backoff). */
  readonly run: Effect.Effect<never>
  /** Called when a worker frees up: wakes the loop if the last claim may have left due runs behind. */
  readonly onFree: Effect.Effect<void>
}

/** What the poller needs. */
export interface PollerOptions {
  readonly store: JobStoreShape
  readonly executor: Executor
  readonly registry: Registry
  readonly signal: WakeSignal
  readonly instanceId: string
  readonly pollIntervalMs: number
  readonly pollLimit: number
  readonly leaseMs: number
}

/** Builds a poller. */
export const make = (options: PollerOptions): Poller => {
  const { executor, registry, signal, store } = options
  let saturated = false

  const runOnce: Effect.Effect<number, JobStoreError> = Effect.gen(function* () {
    const jobs = registry.jobs()
    if (jobs.length === 0) return options.pollIntervalMs
    const free = yield* executor.free
    if (free <= 0) {
      saturated = true
      return options.pollIntervalMs
    }
    const limit = Math.min(free, options.pollLimit)
    const runs = yield* store.claim({
      instanceId: options.instanceId,
      jobs,
      schedules: registry.schedules,
      limit,
      leaseMs: options.leaseMs
    })
    yield* Effect.forEach(runs, executor.start, { discard: true })
    if (runs.length === limit) {
      saturated = true
      return 0
    }
    saturated = false
    const { nextRunAt, now } = yield* store.nextDue(jobs, registry.schedules)
    return nextRunAt === null ? options.pollIntervalMs : Math.max(0, Math.min(nextRunAt - now, options.pollIntervalMs))
  })

  const run = runOnce.pipe(
    Effect.tapError((error) => Effect.logWarning("Polling for due runs failed; retrying", error)),
    Effect.retry(Schedule.exponential("100 millis", 2).pipe(Schedule.union(Schedule.spaced(options.pollIntervalMs)))),
    Effect.orElseSucceed(() => options.pollIntervalMs),
    Effect.flatMap(signal.sleep),
    Effect.forever,
    Effect.annotateLogs({ fiber: "poller" })
  )

  return {
    runOnce,
    run,
    onFree: Effect.suspend(() => (saturated ? signal.wake : Effect.void))
  }
}
