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
}

/** Whether the last claim filled every free worker, so due runs may be waiting for one. */
export interface Demand {
  readonly saturated: (value: boolean) => void
  /** Called when a worker frees up: wakes the poller if due runs may be waiting. */
  readonly onFree: Effect.Effect<void>
}

/** Demand tracking that wakes `signal` when a worker frees up after a full claim, until `stopped`. */
export const makeDemand = (signal: WakeSignal, stopped: () => boolean): Demand => {
  let saturated = false
  return {
    saturated: (value) => {
      saturated = value
    },
    onFree: Effect.suspend(() => (saturated && !stopped() ? signal.wake : Effect.void))
  }
}

/** What the poller needs. */
export interface PollerOptions {
  readonly store: JobStoreShape
  readonly executor: Executor
  readonly registry: Registry
  readonly signal: WakeSignal
  readonly demand: Demand
  readonly instanceId: string
  readonly pollIntervalMs: number
  readonly pollLimit: number
  readonly leaseMs: number
}

/** Builds a poller. */
export const make = (options: PollerOptions): Poller => {
  const { demand, executor, registry, signal, store } = options

  const runOnce: Effect.Effect<number, JobStoreError> = Effect.gen(function* () {
    const jobs = registry.jobs()
    if (jobs.length === 0) return options.pollIntervalMs
    const free = yield* executor.free
    if (free <= 0) {
      demand.saturated(true)
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
      demand.saturated(true)
      return 0
    }
    demand.saturated(false)
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

  return { runOnce, run }
}
