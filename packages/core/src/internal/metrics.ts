/**
 * Effect `Metric`s recorded by every instance, each tagged with the job's name.
 * Export them with any Effect metrics exporter (for example `@effect/opentelemetry`).
 *
 * `JobsSMetrics.ts` re-exports this module: the runtime's internals import it from here.
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"

/** Attempts started: claimed runs whose arguments decoded and whose job began executing on this instance. */
export const runsStarted = Metric.counter("jobss_runs_started", { description: "Attempts started", incremental: true })

/** Attempts that succeeded (one per run, or scheduled occurrence, that succeeded). */
export const runsSucceeded = Metric.counter("jobss_runs_succeeded", {
  description: "Attempts that succeeded",
  incremental: true
})

/** Attempts that failed, retried or not (an error or a defect of the job, or arguments that do not decode). */
export const runsFailed = Metric.counter("jobss_runs_failed", {
  description: "Attempts that failed",
  incremental: true
})

/** Attempts that ended with a retry scheduled (after an error or a timeout). */
export const runsRetried = Metric.counter("jobss_runs_retried", {
  description: "Attempts scheduled for a retry",
  incremental: true
})

/**
 * Attempts that ended timed out: interrupted by their own instance at their timeout, or taken over by
 * the timeout reaper (their timeout or their instance's lease passed).
 */
export const runsTimedOut = Metric.counter("jobss_runs_timed_out", {
  description: "Attempts that timed out",
  incremental: true
})

/** Runs taken over from an instance whose lease or timeout expired. */
export const runsTakenOver = Metric.counter("jobss_runs_taken_over", {
  description: "Runs taken over by the timeout reaper",
  incremental: true
})

/** How long attempts ran, in milliseconds. */
export const runDuration = Metric.histogram(
  "jobss_run_duration_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 24 }),
  "Duration of attempts in milliseconds"
)

/** The lag between a run's due time and its start, in milliseconds. */
export const runLag = Metric.histogram(
  "jobss_run_lag_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 24 }),
  "Delay between the due time and the start of attempts, in milliseconds"
)

/**
 * Pending runs per job, sampled by every instance about once per `heartbeatInterval`. It counts the
 * whole cluster's runs, so every instance reports the same value: aggregate with max, not sum.
 */
export const runsPending = Metric.gauge("jobss_runs_pending", { description: "Pending runs (sampled)" })

/**
 * Running runs per queue (claimed and not yet settled, on every instance), sampled like
 * `jobss_runs_pending` by the maintenance leader (other instances report 0), tagged with `queue`.
 */
export const queueRunning = Metric.gauge("jobss_queue_running", { description: "Running runs per queue (sampled)" })

/** Pending runs per queue (due or not), sampled like `jobss_queue_running`, tagged with `queue`. */
export const queuePending = Metric.gauge("jobss_queue_pending", { description: "Pending runs per queue (sampled)" })

/**
 * How long runs of a queue waited after they were due before their attempt started, in milliseconds,
 * tagged with `job` and `queue`: the time spent on the queue's limits (concurrency, rate, pause) plus
 * the claim's own lag (`jobss_run_lag_ms` for every run).
 */
export const queueWait = Metric.histogram(
  "jobss_queue_wait_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 24 }),
  "Delay between the due time and the start of attempts of runs in a queue, in milliseconds"
)
