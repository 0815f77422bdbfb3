/** The README's flow-control example: pause, priority on resume, a partitioned queue, on an SQLite file. */
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, LogLevel, Logger } from "effect"
import { QueuesLive, program, started } from "../../examples/src/queues.js"
import { scratchFolder } from "../support/scratch.js"

const scratch = scratchFolder("queues")

describe("README example: queues", () => {
  it.scopedLive("runs created while the queue is paused start on resume, urgent first; every run succeeds", () =>
    Effect.gen(function* () {
      const folder = yield* scratch
      const states = yield* program.pipe(
        Effect.provide(QueuesLive(join(folder, "queues.db"))),
        Logger.withMinimumLogLevel(LogLevel.Warning)
      )
      expect(states.map((state) => state.status)).toEqual(Array(5).fill("succeeded"))
      const emails = started.filter((entry) => entry.includes("@"))
      expect(emails).toEqual(["urgent@example.com", "later@example.com"])
      // one invoice at a time per customer: acme's two ran one after the other
      expect(started.filter((entry) => entry.startsWith("acme/"))).toEqual(["acme/0", "acme/1"])
    })
  )
})
