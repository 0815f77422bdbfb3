import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Ref, Schema } from "effect"
import { Job, JobStore, JobsS, RunInfo, Scheduler } from "../src/index.js"

describe("runtime smoke (memory)", () => {
  it.live("runs a job once", () =>
    Effect.gen(function* () {
      const seen = yield* Ref.make<Array<string>>([])
      const Announce = Job.make({ name: "Announce", args: Schema.Struct({ name: Schema.String }) })
      const AnnounceLive = Announce.toLayer(({ name }) =>
        Effect.gen(function* () {
          const info = yield* RunInfo
          yield* Ref.update(seen, (s) => [...s, `${name}:${info.originId}`])
        })
      )
      const program = Effect.gen(function* () {
        const id = yield* Scheduler.createRun(Announce, { name: "A" })
        const state = yield* Scheduler.awaitRun(id, { timeout: "5 seconds" })
        expect(state.status).toBe("succeeded")
        expect(yield* Ref.get(seen)).toEqual([`A:${id}`])
      })
      yield* program.pipe(
        Effect.provide(
          AnnounceLive.pipe(
            Layer.provideMerge(JobsS.layer({ pollInterval: "1 second" })),
            Layer.provide(JobStore.layerMemory)
          )
        )
      )
    })
  )
})
