import { describe, expect, it } from "@effect/vitest"
/** Hostile input is answered by a clear error or a failed run, never a crash or a lost run. On every backend. */
import { Job, JobSchedule, JobsSError } from "@jobss/core"
import { Effect, Schema } from "effect"
import { makeCluster, runtimeBackends } from "../support/cluster.js"
import { makeLedger } from "../support/ledger.js"

const Blob = Job.make({ name: "Blob", args: Schema.Struct({ data: Schema.Unknown }) })
const fast = { pollInterval: "200 millis", heartbeatInterval: "100 millis", leaseDuration: "2 seconds" } as const

const nested = (depth: number): unknown => {
  let value: unknown = "leaf"
  for (let i = 0; i < depth; i++) value = { inner: value }
  return value
}

describe.each(runtimeBackends)("hostile input on %s", (backend) => {
  it.scopedLive(`oversized and deeply nested arguments are refused with a clear error (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const instance = yield* cluster.start(
        { ...fast, maxArgsBytes: 10_000 },
        Blob.toLayer(() => Effect.void)
      )
      const tooLarge = yield* Effect.flip(instance.scheduler.createRun(Blob, { data: "x".repeat(20_000) }))
      expect(tooLarge).toBeInstanceOf(JobsSError.InvalidRunArgs)
      expect(tooLarge.message).toContain("above the limit of 10000")
      const tooDeep = yield* Effect.flip(instance.scheduler.createRun(Blob, { data: nested(100_000) }))
      expect(tooDeep).toBeInstanceOf(JobsSError.InvalidRunArgs)
      const deep = yield* Effect.flip(instance.scheduler.createRun(Blob, { data: nested(100) }))
      expect(deep.message).toContain("nested deeper than 64 levels")
      const fine = yield* instance.scheduler.createRun(Blob, { data: nested(10) })
      expect((yield* instance.scheduler.awaitRun(fine, { timeout: "10 seconds" })).status).toBe("succeeded")
    })
  )

  it.scopedLive(
    `a schedule that throws or goes back in time fails createRun, or ends its run failed (${backend})`,
    () =>
      Effect.gen(function* () {
        const ledger = makeLedger()
        const cluster = yield* makeCluster(backend)
        let calls = 0
        const BreaksLater = JobSchedule.make({
          name: "BreaksLater",
          next: (now) => {
            calls++
            if (calls > 1) throw new Error("schedule exploded")
            return new Date(now.getTime() + 100)
          }
        })
        const Past = JobSchedule.make({ name: "Past", next: (now) => new Date(now.getTime() - 60_000) })
        const instance = yield* cluster.start(
          { ...fast, schedules: [BreaksLater, Past] },
          Blob.toLayer(() => ledger.record)
        )
        const refused = yield* Effect.flip(instance.scheduler.createRun(Blob, { data: 1 }, { schedule: Past }))
        expect(refused).toBeInstanceOf(JobsSError.InvalidRunOptions)
        expect(refused.message).toContain("not after")
        const id = yield* instance.scheduler.createRun(Blob, { data: 2 }, { schedule: BreaksLater })
        const state = yield* instance.scheduler.awaitRun(id, { timeout: "10 seconds" })
        expect(state.status).toBe("failed")
        expect(state.runCompletedError).toContain("schedule exploded")
        expect(ledger.of(id)).toHaveLength(1)
        const after = yield* instance.scheduler.createRun(Blob, { data: 3 })
        expect((yield* instance.scheduler.awaitRun(after, { timeout: "10 seconds" })).status).toBe("succeeded")
      })
  )
})
