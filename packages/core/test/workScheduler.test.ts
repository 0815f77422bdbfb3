/** The run fibers' scheduler: a task that throws is reported, and neither its batch nor later tasks are lost. */
import { describe, expect, it } from "@effect/vitest"
import * as WorkScheduler from "../src/internal/workScheduler.js"

/** Resolves once the microtasks and immediates queued so far have run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe("WorkScheduler", () => {
  it("a task that throws goes to onError; the others of its batch and every later task still run", async () => {
    const errors: Array<unknown> = []
    const ran: Array<string> = []
    const scheduler = WorkScheduler.make((error) => errors.push(error))
    scheduler.scheduleTask(() => ran.push("before"), 0)
    scheduler.scheduleTask(() => {
      throw new Error("task exploded")
    }, 0)
    scheduler.scheduleTask(() => ran.push("after"), 0)
    await turn()
    scheduler.scheduleTask(() => ran.push("later"), 0)
    await turn()
    expect(ran).toEqual(["before", "after", "later"])
    expect(errors).toEqual([new Error("task exploded")])
  })
})
