/**
 * The timeout reaper: takes over runs whose timeout passed or whose instance
 * stopped heart-beating (lease expired), and settles them as timed out: retried
 * within the limit, else ended (or moved to the next occurrence). A run whose
 * lease expired before its attempt started (it waited in its instance's buffer)
 * is given back by the store instead: pending again, nothing used up or recorded.
 * Only started runs time out: a buffered run's timeout counts from its start.
 *
 * Only the maintenance leader (`leader.ts`) sweeps, and it sweeps at once when it is elected. A
 * run taken over is settled by the instance that reaps it, which needs the job (its backoff) and
 * the schedule (its next occurrence): in a partial cluster, an instance whose jobs or schedules the
 * leader does not all implement sweeps for itself too (concurrent sweeps are safe: every takeover
 * and settlement is fenced by its claim).
 */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type { JobStoreShape } from "../JobStore.js"
import type { Counters } from "./counters.js"
import type { JobStoreError } from "./errors.js"
import * as JobsSMetrics from "./metrics.js"
import type { Registry } from "./registry.js"
import type { WorkerPool } from "./workerPool.js"

/** The reaper loop and its single step. */
export interface Reaper {
  /** One sweep; returns how many runs were taken over or given back. */
  readonly runOnce: Effect.Effect<number, JobStoreError>
  /** The loop: a sweep every `timeoutCheck` when it is this instance's turn, and one on each election; never fails. */
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
  /** Whether this instance sweeps for runs of these jobs and schedules now (`Leader.reaps`). */
  readonly turn: (
    jobs: ReadonlyArray<string>,
    schedules: ReadonlyArray<string>
  ) => Effect.Effect<boolean, JobStoreError>
  /** Completes when this instance becomes the leader: it then sweeps without waiting for `timeoutCheck`. */
  readonly elected: Effect.Effect<void>
  /** Called when a sweep made runs pending again (given back): they are due now. */
  readonly onGivenBack: Effect.Effect<void>
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
        const { givenBack, taken } = reaped
        yield* Effect.forEach(
          givenBack,
          (run) =>
            Effect.logWarning(
              `Handing back a run that instance ${run.startedBy} claimed but never started (its lease expired): ` +
                "pending again, no attempt used up"
            ).pipe(Effect.annotateLogs({ runId: run.originId, job: run.job })),
          { discard: true }
        )
        if (givenBack.length > 0) yield* options.onGivenBack
        yield* Effect.forEach(
          taken,
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
          // all at once: the settler writes them in one batch, and the next sweep is not held up
          { concurrency: "unbounded", discard: true }
        )
        return taken.length + givenBack.length
      })
    )
  })

  const sweepIfOurs: Effect.Effect<void> = Effect.suspend((): Effect.Effect<void, JobStoreError> => {
    const jobs = registry.jobs()
    return jobs.length === 0
      ? Effect.void
      : Effect.flatMap(options.turn(jobs, registry.schedules), (ours) => (ours ? Effect.asVoid(runOnce) : Effect.void))
  }).pipe(
    Effect.tapError((error) => Effect.logWarning("Reaping expired runs failed", error)),
    Effect.catchAll(() => Effect.void)
  )

  const run: Effect.Effect<never> = Effect.forever(
    Effect.zipRight(sweepIfOurs, Effect.race(Effect.sleep(options.timeoutCheckMs), options.elected))
  ).pipe(Effect.annotateLogs({ fiber: "reaper" }))

  return { runOnce, run }
}
