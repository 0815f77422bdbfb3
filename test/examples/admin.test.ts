/** The README's admin example: failed runs listed by status and job, redriven, then succeeded with their history kept. */
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Scheduler } from "@jobss/core"
import { Effect, LogLevel, Logger, Ref } from "effect"
import { AdminLive, Charge, redriveFailedCharges, runCounts } from "../../examples/src/admin.js"
import { scratchFolder } from "../support/scratch.js"

const scratch = scratchFolder("admin")

describe("README example: the admin API", () => {
  it.scopedLive("failed runs are found, redriven and succeed, their history kept", () =>
    Effect.gen(function* () {
      const folder = yield* scratch
      const up = yield* Ref.make(false)
      yield* Effect.gen(function* () {
        const ids = yield* Scheduler.createRuns(Charge, [{ order: 1 }, { order: 2 }, { order: 3 }], {
          retriesErrorLimit: 0
        })
        for (const id of ids) expect((yield* Scheduler.awaitRun(id, { timeout: "20 seconds" })).status).toBe("failed")
        expect((yield* runCounts).byStatus.failed).toBe(3)
        yield* Ref.set(up, true)
        expect([...(yield* redriveFailedCharges)].sort()).toEqual([...ids].sort())
        for (const id of ids) {
          expect((yield* Scheduler.awaitRun(id, { timeout: "20 seconds" })).status).toBe("succeeded")
          expect((yield* Scheduler.getRunHistory(id)).map((attempt) => attempt.outcome)).toEqual([
            "failed",
            "succeeded"
          ])
        }
        expect((yield* runCounts).byStatus).toMatchObject({ failed: 0, succeeded: 3 })
      }).pipe(Effect.provide(AdminLive(join(folder, "admin.db"), up)), Logger.withMinimumLogLevel(LogLevel.Error))
    })
  )
})
