/**
 * The timeout reaper: takes over runs whose timeout passed or whose instance
 * stopped heart-beating (lease expired), and settles them as timed out: retried
 * within the limit, else ended (or moved to the next occurrence).
 */
import { Effect, Metric, Schedule } from "effect"
import type { JobStoreShape } from "../JobStore.js"
import type { Counters } from "./counters.js"
import type { JobStoreError } from "./errors.js"
import * as JobsSMetrics from "./metrics.js"
import type { Registry } from "./registry.js"
import type { WorkerPool } from "./workerPool.js"

/** The reaper loop and its single step. */
export interface Reaper {
  /** One sweep; returns how many runs were taken over. */
  readonly runOnce: Effect.Effect<number, JobStoreError>
  /** The loop, every `timeoutCheck`; never fails. */
  readonly run: Effect.Effect<never>
}

/** What the reaper needs. */
export interface ReaperOptions {
  readonly store: JobStoreShape
  readonly instanceId: string
  readonly pool: WorkerPool
  readonly registry: Registry
  readonly counters: Counters
  /**
   * Extends this instance's own leases before each sweep, so that after a pause (a lost
   * connection, a frozen process) it never reaps the runs it is still running.
   */
  readonly extendLeases: Effect.Effect<void, JobStoreError>
  readonly timeoutCheckMs: number
  readonly leaseMs: number
  /** A run is reaped for its timeout only this long after it, leaving its own instance time to act first. */
  readonly graceMs: number
  readonly batch: number
}

/** Builds a reaper. */
export const make = (options: ReaperOptions): Reaper => {
  const { counters, pool, registry, store } = options

  const runOnce: Effect.Effect<number, JobStoreError> = Effect.gen(function* () {
    const jobs = registry.jobs()
    if (jobs.length === 0) return 0
    yield* options.extendLeases
    // taken over and handed to completion before an interruption (shutdown) can strike: only the round
    // trip and the waits for the writes are interruptible (`store.release` hands back what is left)
    return yield* Effect.uninterruptibleMask((restore) =>
      Effect.gen(function* () {
        const reaped = yield* restore(
          store.reap({
            instanceId: options.instanceId,
            jobs,
            schedules: registry.schedules,
            limit: options.batch,
            leaseMs: options.leaseMs,
            graceMs: options.graceMs
          })
        )
        yield* Effect.forEach(
          reaped,
          (run) =>
            Effect.gen(function* () {
              // the timeout is counted with the settlement (its ending is timedOut or lost), the takeover here
              if (run.reason === "lease") counters.add("runsResurrected")
              yield* Metric.increment(Metric.tagged(JobsSMetrics.runsTakenOver, "job", run.job))
              yield* Effect.logWarning(
                run.reason === "lease"
                  ? `Taking over a run from instance ${run.startedBy}, which stopped heart-beating`
                  : "Taking over a run whose timeout passed"
              )
              const error =
                run.reason === "lease"
                  ? `Instance ${run.startedBy} stopped heart-beating while running this attempt`
                  : `Timed out after ${run.runTimeoutMs} ms (taken over by the timeout reaper)`
              yield* pool.settle(
                run,
                run.cancelRequested
                  ? { outcome: "cancelled" }
                  : { outcome: run.reason === "lease" ? "lost" : "timedOut", error }
              )
            }).pipe(Effect.annotateLogs({ runId: run.originId, job: run.job })),
          { concurrency: "unbounded", discard: true }
        )
        return reaped.length
      })
    )
  })

  const run = runOnce.pipe(
    Effect.tapError((error) => Effect.logWarning("Reaping expired runs failed", error)),
    Effect.catchAll(() => Effect.succeed(0)),
    Effect.repeat(Schedule.spaced(options.timeoutCheckMs)),
    Effect.zipRight(Effect.never),
    Effect.annotateLogs({ fiber: "reaper" })
  )

  return { runOnce, run }
}
