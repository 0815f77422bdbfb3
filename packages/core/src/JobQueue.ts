/**
 * Queues: cluster-wide, per-instance and per-partition concurrency limits and
 * rate limits for the runs of the jobs in them, enforced by the store.
 *
 * ```ts
 * const Emails = JobQueue.make({ name: "emails", concurrency: 5, rateLimit: { limit: 100, period: "1 minute" } })
 * const SendEmail = Job.make({ name: "SendEmail", args: Schema.Struct({ to: Schema.String }), queue: Emails })
 * ```
 *
 * @since 0.1.0
 */
export * from "./internal/jobQueue.js"
