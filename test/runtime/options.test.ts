import { describe, expect, it } from "@effect/vitest"
/** Bad options and job policies are refused with a typed error before anything is written. On every backend. */
import { Job, JobSchedule, JobsSError, RetryBackoff } from "@jobss/core"
import { Effect, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"

const Task = Job.make({ name: "Task", args: Schema.Struct({ n: Schema.Number }) })
const Spaced = JobSchedule.spaced({ name: "Every10s", every: "10 seconds" })

describe.each(runtimeBackends)("options on %s", (backend) => {
  it.scopedLive(`bad run options are InvalidRunOptions naming the field; nothing is stored (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const instance = yield* cluster.start(
        { ...fastOptions, schedules: [Spaced] },
        Task.toLayer(() => Effect.void)
      )
      const store = yield* cluster.store
      const cases = [
        [{ delay: "-5 seconds" }, 'delay must be a duration of at least 0 ms, got "-5 seconds"'],
        [{ runTimeout: -1 }, "runTimeout must be a duration of at least 0 ms, got -1"],
        [{ runTimeout: Number.NaN }, "runTimeout must be a duration of at least 0 ms, got NaN"],
        [{ runTimeout: "-3 minutes" }, 'runTimeout must be a duration of at least 0 ms, got "-3 minutes"'],
        [
          { retriesErrorLimit: 2 ** 31 },
          "retriesErrorLimit must be an integer from -1 (unlimited) to 2147483647, got 2147483648"
        ],
        [{ schedule: Spaced, limit: 2 ** 31 }, "limit must be an integer from 1 to 2147483647, got 2147483648"]
      ] as const
      for (const [options, message] of cases) {
        const error = yield* Effect.flip(instance.scheduler.createRuns(Task, [{ n: 1 }, { n: 2 }], options))
        expect(error, message).toBeInstanceOf(JobsSError.InvalidRunOptions)
        expect(error.message).toBe(message)
      }
      expect(yield* store.pendingCounts).toEqual([])
      // the largest values in range are stored as given
      const id = yield* instance.scheduler.createRun(
        Task,
        { n: 3 },
        { delay: "1 hour", schedule: Spaced, limit: 2 ** 31 - 1, retriesErrorLimit: 2 ** 31 - 1 }
      )
      expect(yield* instance.scheduler.getRunState(id)).toMatchObject({
        runSuccessLimit: 2 ** 31 - 1,
        retriesErrorLimit: 2 ** 31 - 1
      })
    })
  )

  it.scopedLive(`a job with a bad policy is refused by toLayer and by createRun; nothing is stored (${backend})`, () =>
    Effect.gen(function* () {
      const Negative = Job.make({ name: "Negative", args: Schema.Struct({}), runTimeout: "-3 minutes" })
      const Backwards = Job.make({
        name: "Backwards",
        args: Schema.Struct({}),
        retryBackoff: RetryBackoff.exponential({ base: "-1 seconds", factor: -2 })
      })
      const cluster = yield* makeCluster(backend)
      const refused = yield* Effect.flip(
        cluster.start(
          fastOptions,
          Negative.toLayer(() => Effect.void)
        )
      )
      expect(refused).toBeInstanceOf(JobsSError.InvalidRunOptions)
      expect((refused as JobsSError.InvalidRunOptions).message).toBe(
        'job Negative: runTimeout must be a duration of at least 0 ms, got "-3 minutes"'
      )
      const client = yield* cluster.client
      const negative = yield* Effect.flip(client.createRun(Negative, {}))
      expect(negative.message).toBe('job Negative: runTimeout must be a duration of at least 0 ms, got "-3 minutes"')
      const backwards = yield* Effect.flip(client.createRun(Backwards, {}))
      expect(backwards).toBeInstanceOf(JobsSError.InvalidRunOptions)
      expect(backwards.message).toBe(
        'job Backwards: retryBackoff.base must be a duration of at least 0 ms, got "-1 seconds"; ' +
          "retryBackoff.factor must be a finite number of at least 1, got -2"
      )
      const store = yield* cluster.store
      expect(yield* store.pendingCounts).toEqual([])
    })
  )
})
