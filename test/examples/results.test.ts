/** The README's results and snooze example: a typed result decoded by awaitResult, after two snoozes that use no retry. */
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, LogLevel, Logger } from "effect"
import { ResultsLive, resize } from "../../examples/src/results.js"
import { scratchFolder } from "../support/scratch.js"

const scratch = scratchFolder("results")

describe("README example: typed results and snooze", () => {
  it.scopedLive("awaitResult decodes the stored result; the snoozes are in the history, no retry used", () =>
    Effect.gen(function* () {
      const folder = yield* scratch
      const { outcomes, result, state } = yield* resize("https://example.com/cat.png").pipe(
        Effect.provide(ResultsLive(join(folder, "results.db"))),
        Logger.withMinimumLogLevel(LogLevel.Warning)
      )
      expect(result.width).toBe(270)
      expect(result.at).toBeInstanceOf(Date)
      expect(state.result).toEqual({ width: 270, at: result.at.toISOString() })
      expect(state).toMatchObject({ status: "succeeded", snoozeCount: 2, retriesOnErrorCount: 0, runTotalCount: 3 })
      expect(outcomes).toEqual(["snoozed", "snoozed", "succeeded"])
    })
  )
})
