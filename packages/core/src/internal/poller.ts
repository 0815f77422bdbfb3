/**
 * The poller: claims due runs, as many as the worker pool wants (free workers plus
 * its claim-ahead buffer), and hands them over. It sleeps until the earliest
 * known due time (so delayed runs start when due, not at the next poll), at most
 * `pollInterval`, and wakes early on a local `createRun`, the worker pool's demand
 * after a full claim, or the store's wake-up stream.
 *
 * An idle poller asks before it claims: after a round that found nothing due within its sleep, a
 * poll that the timer (not a wake-up) starts only reads the next due time, and claims only when a
 * run is due (a claim is a transaction of several statements on MySQL). Instances that claim runs of
 * queues always claim: a due run of a queue may wait on its limits, so the next due time leaves them
 * out.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { JobStoreShape } from "../JobStore.js"
import type { JobStoreError } from "./errors.js"
import type { Registry } from "./registry.js"
import type { StoreClock } from "./storeClock.js"
import type { WakeSignal } from "./wakeSignal.js"
import type { WorkerPool } from "./workerPool.js"

/** The poller loop and its single step. */
export interface Poller {
  /**
   * One claim round; returns how many milliseconds to wait before the next. `woken`: a wake-up (not
   * the timer) ended the wait before it (default `true`: claim whatever the previous round found).
   */
  readonly runOnce: (woken?: boolean) => Effect.Effect<number, JobStoreError>
  /** The loop: never fails (store errors are logged and retried with backoff). */
  readonly run: Effect.Effect<never>
}

/** Whether the poller waits for room in the worker pool, so that the next demand must wake it. */
export interface Demand {
  readonly waiting: (value: boolean) => void
  /** Called when the worker pool wants more runs: wakes the poller if it waits for room. */
  readonly onDemand: () => void
}

/** Demand tracking that wakes `signal` (once per wait) when the worker pool wants runs, until `stopped`. */
export const makeDemand = (signal: WakeSignal, stopped: () => boolean): Demand => {
  let waiting = false
  return {
    waiting: (value) => {
      waiting = value
    },
    onDemand: () => {
      if (!waiting || stopped()) return
      waiting = false
      signal.unsafeWake()
    }
  }
}

/** What the poller needs. */
export interface PollerOptions {
  readonly store: JobStoreShape
  readonly pool: Pick<WorkerPool, "wanted" | "offer">
  readonly registry: Pick<Registry, "jobs" | "schedules">
  readonly signal: WakeSignal
  readonly demand: Demand
  /** The store's clock: the sleep until a due time ends when it reaches that time. */
  readonly clock: Pick<StoreClock, "unsafeNow">
  readonly instanceId: string
  /** The queues whose runs this instance claims (within their stored limits). */
  readonly queues: () => ReadonlyArray<string>
  readonly pollIntervalMs: number
  readonly pollLimit: number
  readonly leaseMs: number
}

/** Builds a poller. */
export const make = (options: PollerOptions): Poller => {
  const { clock, demand, pool, registry, signal, store } = options

  /** The previous round found nothing due within the sleep that followed it. */
  let idle = false

  /**
   * The wait until the next due run, at most `pollInterval`; notes whether one is due within it. The
   * wait is measured on the store clock when the answer arrived, not from the read's `now`: that
   * was taken on the database before the answer's way back, and a sleep counted from it would end
   * that much after the due time.
   */
  const untilDue = (jobs: ReadonlyArray<string>, queues: ReadonlyArray<string>) =>
    Effect.map(store.nextDue(jobs, registry.schedules, queues), ({ nextRunAt }) => {
      const untilNext = nextRunAt === null ? Number.POSITIVE_INFINITY : nextRunAt - clock.unsafeNow()
      idle = untilNext > options.pollIntervalMs
      return Math.max(0, Math.min(untilNext, options.pollIntervalMs))
    })

  const runOnce = (woken = true): Effect.Effect<number, JobStoreError> =>
    Effect.gen(function* () {
      const jobs = registry.jobs()
      if (jobs.length === 0) return options.pollIntervalMs
      // waiting first: a demand arriving while we look must wake the sleep that may follow
      demand.waiting(true)
      const wanted = yield* pool.wanted
      if (wanted <= 0) return options.pollIntervalMs
      demand.waiting(false)
      const limit = Math.min(wanted, options.pollLimit)
      const queues = options.queues()
      if (idle && !woken && queues.length === 0) {
        const wait = yield* untilDue(jobs, queues)
        if (wait > 0) return wait
      }
      // the claim sees whatever the wakes until now signalled (a settle's freed slots wake once per run)
      signal.clear()
      // claimed runs are offered before an interruption (shutdown) can strike: only the round trip is
      // interruptible, and a claim committed while its answer was lost is handed back by `store.release`
      const runs = yield* Effect.uninterruptibleMask((restore) =>
        Effect.tap(
          restore(
            store.claim({
              instanceId: options.instanceId,
              jobs,
              schedules: registry.schedules,
              limit,
              leaseMs: options.leaseMs,
              queues
            })
          ),
          pool.offer
        )
      )
      // a full claim: more may be due, claim again as soon as the worker pool wants more
      if (runs.length === limit) {
        idle = false
        return 0
      }
      // woken while it claimed (a new run, a freed slot of a queue): claim again at once, without reading
      // the next due time, which the sleep that follows would not wait for
      if (signal.pending()) return 0
      return yield* untilDue(jobs, queues)
    })

  /** Whether a wake-up ended the last wait. */
  let woken = true
  const run = Effect.suspend(() => runOnce(woken)).pipe(
    Effect.tapError((error) => Effect.logWarning("Polling for due runs failed; retrying", error)),
    Effect.retry(Schedule.exponential("100 millis", 2).pipe(Schedule.union(Schedule.spaced(options.pollIntervalMs)))),
    Effect.orElseSucceed(() => options.pollIntervalMs),
    Effect.flatMap(signal.sleep),
    Effect.map((wakeUp) => {
      woken = wakeUp
    }),
    Effect.forever,
    Effect.annotateLogs({ fiber: "poller" })
  )

  return { runOnce, run }
}
