/**
 * The queue parts of the admin API through `Scheduler`, on every backend: `listQueues` shows a
 * queue's stored limits, its running and pending runs and its paused flag, and a queue that only
 * runs name (no instance defines it) with no limits; `listRuns` filters by queue (a bad queue name
 * is a typed error naming the field); `countRuns` counts by queue.
 */
import { describe, expect, it } from "@effect/vitest"
import { Job, JobQueue } from "@jobss/core"
import { Deferred, Duration, Effect, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"
import { eventually } from "../support/eventually.js"

const Limited = JobQueue.make({
  name: "admin-limited",
  concurrency: 1,
  rateLimit: { limit: 10, period: "1 minute" }
})
const Unserved = JobQueue.make({ name: "admin-unserved" })
const Slow = Job.make({ name: "AdminQueuedSlow", args: Schema.Struct({ n: Schema.Number }), queue: Limited })
const Orphan = Job.make({ name: "AdminQueuedOrphan", args: Schema.Struct({}), queue: Unserved })

describe.each(runtimeBackends)("admin API by queue on %s", (backend) => {
  it.scopedLive(`listQueues, listRuns by queue and countRuns by queue (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const release = yield* Deferred.make<void>()
      const { scheduler } = yield* cluster.start(
        fastOptions,
        Slow.toLayer(() => Deferred.await(release))
      )
      const ids = yield* Effect.forEach([1, 2, 3], (n) => scheduler.createRun(Slow, { n }))
      const orphan = yield* scheduler.createRun(Orphan, {})

      const queues = yield* eventually(scheduler.listQueues, (found) =>
        found.some((queue) => queue.name === Limited.name && queue.running === 1)
      )
      expect(queues.map((queue) => queue.name)).toEqual([Limited.name, Unserved.name])
      const [limited, unserved] = queues
      expect(limited).toMatchObject({
        defined: true,
        concurrency: 1,
        workerConcurrency: undefined,
        partitioned: false,
        paused: false,
        running: 1,
        pending: 2
      })
      expect(Duration.toMillis(limited!.rateLimit!.period)).toBe(60_000)
      expect(limited!.rateLimit!.limit).toBe(10)
      expect(limited!.updatedAt).toBeInstanceOf(Date)
      expect(unserved).toEqual({
        name: Unserved.name,
        defined: false,
        concurrency: undefined,
        workerConcurrency: undefined,
        rateLimit: undefined,
        partitioned: false,
        paused: false,
        running: 0,
        pending: 1,
        updatedAt: undefined
      })

      yield* scheduler.pauseQueue(Limited)
      const paused = (yield* scheduler.listQueues).find((queue) => queue.name === Limited.name)
      expect(paused).toMatchObject({ paused: true, defined: true, concurrency: 1 })
      yield* scheduler.resumeQueue(Limited)

      const listed = yield* scheduler.listRuns({ queue: Limited.name })
      expect(listed.runs.map((run) => run.originId).sort()).toEqual([...ids].sort())
      const pending = yield* scheduler.listRuns({ queue: Limited.name, status: "pending" })
      expect(pending.runs).toHaveLength(2)
      expect((yield* scheduler.listRuns({ queue: Unserved.name })).runs.map((run) => run.originId)).toEqual([orphan])
      const bad = yield* Effect.flip(scheduler.listRuns({ queue: "" }))
      expect(bad._tag).toBe("InvalidAdminQuery")
      expect(bad.message).toContain("queue")

      const counts = yield* scheduler.countRuns
      expect(counts.byQueue).toEqual([
        {
          queue: Limited.name,
          total: 3,
          byStatus: { pending: 2, running: 1, succeeded: 0, failed: 0, cancelled: 0 },
          capped: []
        },
        {
          queue: Unserved.name,
          total: 1,
          byStatus: { pending: 1, running: 0, succeeded: 0, failed: 0, cancelled: 0 },
          capped: []
        }
      ])
      yield* Deferred.succeed(release, undefined)
    })
  )
})
