/** The README's configuration and errors example: an instance from a ConfigProvider, a bad value refused, an unusable SQLite file explained, typed errors answered. */
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Scheduler } from "@jobss/core"
import { ConfigProvider, Effect, Layer, LogLevel, Logger } from "effect"
import { ConfiguredLive, announceLater } from "../../examples/src/configured.js"
import { Announce } from "../../examples/src/features.js"
import { scratchFolder } from "../support/scratch.js"

const quiet = Logger.minimumLogLevel(LogLevel.Warning)

const scratch = scratchFolder("configured")

/** `ConfiguredLive` with the given environment. */
const configured = (env: Record<string, string>) =>
  ConfiguredLive.pipe(
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))),
    Layer.provide(quiet)
  )

describe("README example: configuration from the environment and typed errors", () => {
  it.scopedLive("an instance configured from the environment runs jobs and answers bad input with typed errors", () =>
    Effect.gen(function* () {
      const folder = yield* scratch
      const answers = yield* Effect.gen(function* () {
        const id = yield* Scheduler.createRun(Announce, { name: "configured" })
        const state = yield* Scheduler.awaitRun(id, { timeout: "20 seconds" })
        return [state.status, yield* announceLater("B", "-5 seconds"), yield* announceLater("C", "1 hour")]
      }).pipe(Effect.provide(configured({ JOBSS_SQLITE_FILE: join(folder, "app.db"), JOBSS_WORKERS: "4" })))
      expect(answers[0]).toBe("succeeded")
      expect(answers[1]).toMatch(/^refused: .*delay/)
      expect(answers[2]).toMatch(/^created run /)
    })
  )

  it.scopedLive("a bad value from the environment fails the layer with InvalidConfig naming it", () =>
    Effect.gen(function* () {
      const folder = yield* scratch
      const error = yield* Layer.build(
        configured({ JOBSS_SQLITE_FILE: join(folder, "app.db"), JOBSS_RUN_TIMEOUT: "-3 minutes" })
      ).pipe(Effect.flip)
      expect(error._tag).toBe("InvalidConfig")
      expect(error.message).toContain("runTimeout")
      expect(error.message).toContain("-3 minutes")
    })
  )

  it.scopedLive("an SQLite file that cannot be opened is a JobStoreError saying why", () =>
    Effect.gen(function* () {
      const folder = yield* scratch
      const error = yield* Layer.build(configured({ JOBSS_SQLITE_FILE: join(folder, "missing", "app.db") })).pipe(
        Effect.flip
      )
      expect(error._tag).toBe("JobStoreError")
      expect(error.message).toMatch(/directory does not exist/)
    })
  )
})
