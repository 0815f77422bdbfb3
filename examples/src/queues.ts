/**
 * Flow control: a queue with a cluster-wide concurrency, a per-instance cap and a rate limit; a
 * partitioned queue (one run at a time per customer); priorities; pause and resume.
 */
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Job, JobQueue, JobsS, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Effect, Layer, Schema } from "effect"

export const Emails = JobQueue.make({
  name: "emails",
  concurrency: 5, // at most 5 runs of this queue running at once, cluster-wide
  workerConcurrency: 2, // at most 2 of them on any one instance
  rateLimit: { limit: 100, period: "1 minute" }, // at most 100 attempts start in any 1 minute window
  partitioned: false // true: concurrency and rateLimit apply per partition key
})

export const PerCustomer = JobQueue.make({ name: "per-customer", concurrency: 1, partitioned: true })

export const SendEmail = Job.make({ name: "SendEmail", args: Schema.Struct({ to: Schema.String }), queue: Emails })

export const Invoice = Job.make({
  name: "Invoice",
  args: Schema.Struct({ customer: Schema.String, n: Schema.Number }),
  queue: PerCustomer,
  priority: 10 // lower starts first; a createRun option overrides it
})

/** What the jobs did, in the order they started: `to` or `customer/n`. */
export const started: Array<string> = []

const SendEmailLive = SendEmail.toLayer(({ to }) => Effect.sync(() => started.push(to)))
const InvoiceLive = Invoice.toLayer(({ customer, n }) =>
  Effect.zipRight(
    Effect.sync(() => started.push(`${customer}/${n}`)),
    Effect.sleep("20 millis")
  )
)

/** An instance with both jobs, on an SQLite file. */
export const QueuesLive = (filename: string) =>
  Layer.mergeAll(SendEmailLive, InvoiceLive).pipe(
    Layer.provideMerge(JobsS.layer({ workers: 4, pollInterval: "100 millis" })),
    Layer.provide(SqlStore.layer()),
    Layer.provide(SqliteClient.layer({ filename }))
  )

export const program = Effect.gen(function* () {
  yield* Scheduler.pauseQueue(Emails) // or its name; cluster-wide and stored: no instance starts its runs
  const later = yield* Scheduler.createRun(SendEmail, { to: "later@example.com" })
  const urgent = yield* Scheduler.createRun(SendEmail, { to: "urgent@example.com" }, { priority: -1 })
  yield* Scheduler.resumeQueue(Emails) // the urgent one starts first
  const invoices = yield* Effect.forEach(["acme", "acme", "globex"], (customer, n) =>
    Scheduler.createRun(Invoice, { customer, n }, { partitionKey: `customer:${customer}` })
  )
  return yield* Effect.forEach([later, urgent, ...invoices], (id) => Scheduler.awaitRun(id, { timeout: "1 minute" }))
})
