/**
 * Samples the pending runs of every job into the `jobss_runs_pending` gauge,
 * and the running and pending runs of every queue into `jobss_queue_running`
 * and `jobss_queue_pending` (one GROUP BY each per sample); a job or queue
 * whose runs are all gone drops back to 0.
 * Only the maintenance leader (`leader.ts`) samples; an instance that is not
 * the leader reports 0, so the sum over instances is the cluster's count.
 */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Schedule from "effect/Schedule"
import type { JobStoreShape } from "../JobStore.js"
import type { JobStoreError } from "./errors.js"
import * as JobsSMetrics from "./metrics.js"

/** The sampling loop and its single sample. */
export interface PendingGauge {
  /** One sample: sets the gauge of every job seen so far. */
  readonly runOnce: Effect.Effect<void, JobStoreError>
  /** The loop, every `intervalMs`: a sample while `leading`, else the gauges at 0; never fails. */
  readonly run: Effect.Effect<never>
}

/** Builds the sampler. */
export const make = (store: JobStoreShape, intervalMs: number, leading: () => boolean): PendingGauge => {
  const seen = new Set<string>()
  const seenQueues = new Set<string>()

  const setQueue = (queue: string, running: number, pending: number) =>
    Effect.zipRight(
      Metric.set(Metric.tagged(JobsSMetrics.queueRunning, "queue", queue), running),
      Metric.set(Metric.tagged(JobsSMetrics.queuePending, "queue", queue), pending)
    )

  const runOnce = Effect.gen(function* () {
    const counts = new Map((yield* store.pendingCounts).map(({ count, job }) => [job, count]))
    for (const job of counts.keys()) seen.add(job)
    yield* Effect.forEach(
      seen,
      (job) => Metric.set(Metric.tagged(JobsSMetrics.runsPending, "job", job), counts.get(job) ?? 0),
      { discard: true }
    )
    const queues = new Map((yield* store.queueCounts).map((count) => [count.queue, count]))
    for (const queue of queues.keys()) seenQueues.add(queue)
    yield* Effect.forEach(
      seenQueues,
      (queue) => setQueue(queue, queues.get(queue)?.running ?? 0, queues.get(queue)?.pending ?? 0),
      { discard: true }
    )
  })

  const zero = Effect.suspend(() => {
    const jobs = [...seen]
    const queues = [...seenQueues]
    seen.clear()
    seenQueues.clear()
    return Effect.zipRight(
      Effect.forEach(jobs, (job) => Metric.set(Metric.tagged(JobsSMetrics.runsPending, "job", job), 0), {
        discard: true
      }),
      Effect.forEach(queues, (queue) => setQueue(queue, 0, 0), { discard: true })
    )
  })

  const run = Effect.suspend(() => (leading() ? runOnce : zero)).pipe(
    Effect.tapError((error) => Effect.logWarning("Sampling pending runs failed", error)),
    Effect.catchAll(() => Effect.void),
    Effect.repeat(Schedule.spaced(intervalMs)),
    Effect.zipRight(Effect.never),
    Effect.annotateLogs({ fiber: "pendingGauge" })
  )

  return { runOnce, run }
}
