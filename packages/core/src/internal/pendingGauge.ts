/**
 * Samples the pending runs of every job into the `jobss_runs_pending` gauge
 * (one GROUP BY per sample); a job whose runs are all gone drops back to 0.
 */
import { Effect, Metric, Schedule } from "effect"
import type { JobStoreShape } from "../JobStore.js"
import type { JobStoreError } from "./errors.js"
import * as JobsSMetrics from "./metrics.js"

/** The sampling loop and its single sample. */
export interface PendingGauge {
  /** One sample: sets the gauge of every job seen so far. */
  readonly runOnce: Effect.Effect<void, JobStoreError>
  /** The loop, every `intervalMs`; never fails. */
  readonly run: Effect.Effect<never>
}

/** Builds the sampler. */
export const make = (store: JobStoreShape, intervalMs: number): PendingGauge => {
  const seen = new Set<string>()

  const runOnce = Effect.gen(function* () {
    const counts = new Map((yield* store.pendingCounts).map(({ count, job }) => [job, count]))
    for (const job of counts.keys()) seen.add(job)
    yield* Effect.forEach(
      seen,
      (job) => Metric.set(Metric.tagged(JobsSMetrics.runsPending, "job", job), counts.get(job) ?? 0),
      { discard: true }
    )
  })

  const run = runOnce.pipe(
    Effect.tapError((error) => Effect.logWarning("Sampling pending runs failed", error)),
    Effect.catchAll(() => Effect.void),
    Effect.repeat(Schedule.spaced(intervalMs)),
    Effect.zipRight(Effect.never),
    Effect.annotateLogs({ fiber: "pendingGauge" })
  )

  return { runOnce, run }
}
