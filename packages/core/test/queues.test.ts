/**
 * Queue definitions and the run options of flow control, on the memory store: a bad queue, priority
 * or partition key is a typed error naming the field, the value and the rule, at `toLayer` or
 * `createRun` time, with nothing written; a job's queue, priority and partition key are stored with
 * its runs (run option over job option); two definitions of one queue on one instance are refused.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, LogLevel, Logger, Schema } from "effect"
import { Job, JobQueue, JobStore, JobsS, Scheduler } from "../src/index.js"

const quiet = Logger.minimumLogLevel(LogLevel.None)

const instance = (jobs: ReadonlyArray<Job.Any>) =>
  Effect.gen(function* () {
    const store = yield* JobStore.makeMemory
    const context = yield* Layer.build(
      jobs
        .map((job) => job.toLayer(() => Effect.never))
        .reduce((all, layer) => Layer.merge(all, layer), Layer.empty)
        .pipe(
          Layer.provideMerge(JobsS.layer({ pollInterval: "1 hour" })),
          Layer.provide(Layer.succeed(JobStore.JobStore, store)),
          Layer.provide(quiet)
        )
    )
    return { scheduler: Context.get(context, Scheduler.Scheduler), store }
  })

const args = Schema.Struct({})
const jobIn = (queue: JobQueue.JobQueue, name = "Queued") => Job.make({ name, args, queue })

/** Bad queue definitions, with the message each must give. */
const badQueues: ReadonlyArray<readonly [JobQueue.Options, string]> = [
  [{ name: "" }, 'queue name "" is invalid: it is empty'],
  [{ name: " q" }, 'queue name " q" is invalid: it starts or ends with white space'],
  [{ name: "q", concurrency: 0 }, "queue q: concurrency must be an integer from 1 to 2147483647, got 0"],
  [{ name: "q", concurrency: -1 }, "queue q: concurrency must be an integer from 1 to 2147483647, got -1"],
  [
    { name: "q", workerConcurrency: 1.5 },
    "queue q: workerConcurrency must be an integer from 1 to 2147483647, got 1.5"
  ],
  [
    { name: "q", rateLimit: { limit: 10, period: 0 } },
    "queue q: rateLimit.period must be a duration of at least 1 ms, got 0"
  ],
  [
    { name: "q", rateLimit: { limit: 10, period: "0 seconds" } },
    'queue q: rateLimit.period must be a duration of at least 1 ms, got "0 seconds"'
  ],
  [
    { name: "q", rateLimit: { limit: -5, period: "1 minute" } },
    "queue q: rateLimit.limit must be an integer from 1 to 2147483647, got -5"
  ],
  [{ name: "q", partitioned: "yes" as never }, 'queue q: partitioned must be true or false, got "yes"']
]

describe("queues on the memory store", () => {
  it.scoped("a bad queue definition fails toLayer and createRun with InvalidQueue, nothing written", () =>
    Effect.gen(function* () {
      const { scheduler, store } = yield* instance([])
      for (const [options, message] of badQueues) {
        const job = jobIn(JobQueue.make(options))
        const refused = yield* Effect.flip(scheduler.createRun(job, {}))
        expect(refused).toMatchObject({ _tag: "InvalidQueue" })
        expect(refused.message).toContain(message)
        const layerError = yield* Effect.flip(
          Layer.build(
            job
              .toLayer(() => Effect.void)
              .pipe(Layer.provide(JobsS.layer()), Layer.provide(JobStore.layerMemory), Layer.provide(quiet))
          )
        )
        expect(layerError).toMatchObject({ _tag: "InvalidQueue" })
        expect(layerError.message).toContain(message)
        const pauseError = yield* Effect.flip(scheduler.pauseQueue(JobQueue.make(options)))
        expect(pauseError.message).toContain(message)
      }
      expect(yield* store.pendingCounts).toEqual([])
      expect(yield* store.queues).toEqual([])
      expect((yield* Effect.flip(scheduler.pauseQueue("bad\u0000name"))).message).toContain(
        'queue name "bad\\u0000name" is invalid'
      )
    })
  )

  it.scoped("a bad priority or partition key fails createRun with InvalidRunOptions, nothing written", () =>
    Effect.gen(function* () {
      const Plain = Job.make({ name: "Plain", args })
      const Shared = jobIn(JobQueue.make({ name: "shared", concurrency: 2 }))
      const BadPriority = Job.make({ name: "BadPriority", args, priority: 0.5 })
      const { scheduler, store } = yield* instance([])
      const rule = "must be an integer from -2147483648 to 2147483647 (lower starts first)"
      const cases: ReadonlyArray<readonly [Effect.Effect<unknown, { readonly message: string }>, string]> = [
        [scheduler.createRun(Plain, {}, { priority: 1.5 }), `priority ${rule}, got 1.5`],
        [scheduler.createRun(Plain, {}, { priority: 2 ** 31 }), `priority ${rule}, got 2147483648`],
        [scheduler.createRun(Plain, {}, { priority: Number.NaN }), `priority ${rule}, got NaN`],
        [scheduler.createRun(BadPriority, {}), `job BadPriority: priority ${rule}, got 0.5`],
        [
          scheduler.createRun(Plain, {}, { partitionKey: "customer:1" }),
          'partitionKey "customer:1" needs a partitioned queue, but job Plain is in no queue'
        ],
        [
          scheduler.createRun(Shared, {}, { partitionKey: "customer:1" }),
          'partitionKey "customer:1" needs a partitioned queue, but job Queued is in queue shared, which is not partitioned'
        ],
        [scheduler.createRun(Shared, {}, { partitionKey: "" }), 'partition key "" is invalid: it is empty']
      ]
      for (const [refused, message] of cases) {
        const error = yield* Effect.flip(refused)
        expect(error).toMatchObject({ _tag: "InvalidRunOptions" })
        expect(error.message).toContain(message)
      }
      expect(yield* store.pendingCounts).toEqual([])
    })
  )

  it.scoped("a run stores its job's queue and priority (a run option wins) and its partition key", () =>
    Effect.gen(function* () {
      const Tenants = JobQueue.make({ name: "tenants", concurrency: 1, partitioned: true })
      const PerTenant = Job.make({ name: "PerTenant", args, queue: Tenants, priority: 7 })
      const Plain = Job.make({ name: "Plain", args })
      const { scheduler, store } = yield* instance([])
      const a = yield* scheduler.createRun(PerTenant, {}, { partitionKey: "tenant:a" })
      const b = yield* scheduler.createRun(PerTenant, {}, { priority: -1 })
      const c = yield* scheduler.createRun(Plain, {})
      expect(yield* store.get(a)).toMatchObject({ queue: "tenants", priority: 7, partitionKey: "tenant:a" })
      expect(yield* store.get(b)).toMatchObject({ queue: "tenants", priority: -1, partitionKey: null })
      expect(yield* store.get(c)).toMatchObject({ queue: null, priority: 0, partitionKey: null })
    })
  )

  it.scoped("an instance stores the definitions of its jobs' queues; two definitions of one queue are refused", () =>
    Effect.gen(function* () {
      const Emails = JobQueue.make({ name: "emails", concurrency: 5, rateLimit: { limit: 100, period: "1 minute" } })
      const { store } = yield* instance([jobIn(Emails, "A"), jobIn(Emails, "B")])
      expect(yield* store.queues).toMatchObject([
        { name: "emails", concurrency: 5, workerConcurrency: null, rateLimit: 100, ratePeriodMs: 60_000, paused: false }
      ])
      const error = yield* Effect.flip(instance([jobIn(Emails, "A"), jobIn(JobQueue.make({ name: "emails" }), "B")]))
      expect(error).toMatchObject({ _tag: "InvalidQueue", queue: "emails" })
      expect(error.message).toContain("has two definitions on this instance")
    })
  )
})

describe("stored queue definitions", () => {
  it.scoped("the definition written last is stored; a different one stored before is named in a warning", () =>
    Effect.gen(function* () {
      const store = yield* JobStore.makeMemory
      const warnings: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ logLevel, message }) => {
          if (logLevel._tag === "Warning") warnings.push(String(Array.isArray(message) ? message[0] : message))
        })
      )
      const start = (queue: JobQueue.JobQueue) =>
        Layer.build(
          jobIn(queue)
            .toLayer(() => Effect.void)
            .pipe(
              Layer.provideMerge(JobsS.layer({ pollInterval: "1 hour" })),
              Layer.provide(Layer.succeed(JobStore.JobStore, store)),
              Layer.provide(capture)
            )
        )
      yield* start(JobQueue.make({ name: "emails", concurrency: 5 }))
      yield* start(JobQueue.make({ name: "emails", concurrency: 5 }))
      expect(warnings).toEqual([])
      yield* start(JobQueue.make({ name: "emails", concurrency: 3, workerConcurrency: 1 }))
      expect(warnings.filter((warning) => warning.includes("emails"))).toEqual([
        expect.stringMatching(
          /^Queue "emails": the stored definition \(concurrency 5, written by instance .+\) differs from this instance's \(concurrency 3, workerConcurrency 1\); this instance's is now stored and enforced$/
        )
      ])
      expect(yield* store.queues).toMatchObject([{ name: "emails", concurrency: 3, workerConcurrency: 1 }])
    })
  )
})
