/**
 * The `JobsSMetrics` of each job, tagged once: `Metric.tagged` per update
 * builds a new metric key and looks it up in the registry every time, which
 * showed up in profiles as a real share of the per-run cost.
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import type * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as JobsSMetrics from "./metrics.js"

/** The metrics of one job; each call records one observation. */
export interface RunMetrics {
  readonly started: () => void
  readonly succeeded: () => void
  readonly failed: () => void
  readonly retried: () => void
  readonly timedOut: () => void
  readonly takenOver: () => void
  readonly duration: (ms: number) => void
  readonly lag: (ms: number) => void
  /** The lag of a run of `queue` (`jobss_queue_wait_ms`). */
  readonly queueWait: (queue: string, ms: number) => void
}

/** Per-job metrics tagged with `job` and the labels of the calling fiber (`Effect.tagMetrics`). */
export const make: Effect.Effect<(job: string) => RunMetrics> = Effect.map(
  FiberRef.get(FiberRef.currentMetricLabels),
  (base) => {
    const byJob = new Map<string, RunMetrics>()
    const forJob = (job: string): RunMetrics => {
      // one array per job: the metric's hook cache is keyed by the labels array
      const labels: ReadonlyArray<MetricLabel.MetricLabel> = [...base, MetricLabel.make("job", job)]
      const add = (metric: Metric.Metric.Counter<number>) => () => metric.unsafeUpdate(1, labels)
      const observe = (metric: Metric.Metric.Histogram<number>) => (ms: number) => metric.unsafeUpdate(ms, labels)
      const byQueue = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()
      const queueLabels = (queue: string) => {
        let found = byQueue.get(queue)
        if (found === undefined) {
          found = [...labels, MetricLabel.make("queue", queue)]
          byQueue.set(queue, found)
        }
        return found
      }
      return {
        started: add(JobsSMetrics.runsStarted),
        succeeded: add(JobsSMetrics.runsSucceeded),
        failed: add(JobsSMetrics.runsFailed),
        retried: add(JobsSMetrics.runsRetried),
        timedOut: add(JobsSMetrics.runsTimedOut),
        takenOver: add(JobsSMetrics.runsTakenOver),
        duration: observe(JobsSMetrics.runDuration),
        lag: observe(JobsSMetrics.runLag),
        queueWait: (queue, ms) => JobsSMetrics.queueWait.unsafeUpdate(ms, queueLabels(queue))
      }
    }
    return (job) => {
      let metrics = byJob.get(job)
      if (metrics === undefined) {
        metrics = forJob(job)
        byJob.set(job, metrics)
      }
      return metrics
    }
  }
)
