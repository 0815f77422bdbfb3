/**
 * What a job logs carries the instance's annotations and its run's: `runId` and `job` (README,
 * Observability). The instance builds each job's annotations once and adds only the run id per run,
 * so two jobs with interleaved runs must each see their own.
 */
import { describe, expect, it } from "@effect/vitest"
import { Job, JobStore, JobsS, type RunId, Scheduler } from "@jobss/core"
import { Context, Effect, HashMap, Layer, Logger, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"

const Args = Schema.Struct({ n: Schema.Number })
const Left = Job.make({ name: "LogLeft", args: Args })
const Right = Job.make({ name: "LogRight", args: Args })

describe.each(runtimeBackends)("log annotations on %s", (backend) => {
  it.scopedLive(`a job's logs carry its run id and job name, per run (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const store = yield* cluster.store
      const logged: Array<{ readonly message: string; readonly annotations: Record<string, unknown> }> = []
      const logger = Logger.make(({ annotations, message }) => {
        const text = String(Array.isArray(message) ? message[0] : message)
        if (text.startsWith("in "))
          logged.push({ message: text, annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
      })
      const context = yield* Layer.build(
        Layer.mergeAll(
          Left.toLayer(({ n }) => Effect.logInfo(`in LogLeft ${n}`)),
          Right.toLayer(({ n }) => Effect.logInfo(`in LogRight ${n}`))
        ).pipe(
          Layer.provideMerge(JobsS.layer({ ...fastOptions, workers: 4 })),
          Layer.provide(Layer.succeed(JobStore.JobStore, store)),
          Layer.provide(Logger.replace(Logger.defaultLogger, logger))
        )
      )
      const scheduler = Context.get(context, Scheduler.Scheduler)
      const ids = new Map<string, RunId.RunId>()
      for (const n of [1, 2, 3]) {
        ids.set(`in LogLeft ${n}`, yield* scheduler.createRun(Left, { n }))
        ids.set(`in LogRight ${n}`, yield* scheduler.createRun(Right, { n }))
      }
      for (const id of ids.values()) yield* scheduler.awaitRun(id, { timeout: "15 seconds" })
      expect(logged.map(({ message }) => message).sort()).toEqual([...ids.keys()].sort())
      for (const { annotations, message } of logged) {
        expect(annotations).toMatchObject({ runId: ids.get(message), job: message.split(" ")[1] })
        expect(annotations["instance"]).toEqual(expect.any(String))
      }
    })
  )
})
