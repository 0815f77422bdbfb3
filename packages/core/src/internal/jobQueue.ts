/**
 * Queue definitions: a name and the limits that hold for the runs of every job
 * in the queue, across the cluster. Like a job, a queue is plain data shared by
 * every process; its limits are checked where it is used (`job.toLayer`,
 * `createRun`, `pauseQueue`), and each instance stores the definitions it knows
 * when it registers their jobs: the database enforces the stored one.
 */
import type * as Duration from "effect/Duration"

/** A rate limit: at most `limit` attempts start in any window of length `period`. */
export interface RateLimit {
  /** The most attempts that start in one window: an integer from 1. */
  readonly limit: number
  /** The window's length, a `DurationInput` of at least 1 ms. */
  readonly period: Duration.DurationInput
}

/** A queue definition. Absent limits are unlimited. */
export interface JobQueue {
  /** Marks a queue definition. */
  readonly _tag: "JobQueue"
  /** The name the queue's runs and its stored definition are kept under (the name rule of jobs). */
  readonly name: string
  /** The most runs of the queue running at once across the cluster (per partition when `partitioned`). */
  readonly concurrency: number | undefined
  /** The most runs of the queue running at once on one instance. */
  readonly workerConcurrency: number | undefined
  /** The most attempts of the queue that start in any window of `period`, cluster-wide (per partition when `partitioned`). */
  readonly rateLimit: RateLimit | undefined
  /** `true`: `concurrency` and `rateLimit` hold per `partitionKey` (runs without one share a partition). */
  readonly partitioned: boolean
}

/** The options of `JobQueue.make`: every field but `name` is optional (absent: unlimited, not partitioned). */
export interface Options {
  /** The queue's name: 1 to 255 characters, no control characters, no white space at either end. */
  readonly name: string
  /** At most this many runs of the queue running at once across the cluster: an integer from 1. */
  readonly concurrency?: number
  /** At most this many of them on any one instance: an integer from 1. */
  readonly workerConcurrency?: number
  /** At most `limit` attempts start in any window of length `period` (retries count as attempts). */
  readonly rateLimit?: RateLimit
  /** `true`: `concurrency` and `rateLimit` apply to each partition key on its own (default `false`). */
  readonly partitioned?: boolean
}

/** Defines a queue: `JobQueue.make({ name: "emails", concurrency: 5 })`; use it as a job's `queue`. */
export const make = (options: Options): JobQueue => ({
  _tag: "JobQueue",
  name: options.name,
  concurrency: options.concurrency,
  workerConcurrency: options.workerConcurrency,
  rateLimit: options.rateLimit,
  partitioned: options.partitioned ?? false
})
