/** The store conformance suite on the in-memory store, driven by `TestClock`. */
import { JobStore } from "@jobss/core"
import { Effect, TestClock } from "effect"
import { adminQueuesSuite } from "./adminQueuesSuite.js"
import { adminSuite } from "./adminSuite.js"
import { settlementSuite } from "./settlementSuite.js"
import { type StoreBackend, storeSuite } from "./storeSuite.js"

/** A realistic start time (TestClock starts at the epoch). */
const start = Date.parse("2025-01-01T00:00:00.000Z")

const memory: StoreBackend = {
  clock: "test",
  capabilities: { wakeups: true, blocking: true },
  make: Effect.gen(function* () {
    yield* TestClock.setTime(start)
    const store = yield* JobStore.makeMemory
    return {
      store,
      // one in-memory database: "another connection" is the same store
      connect: Effect.succeed(store),
      waitPast: (ms: number) => TestClock.adjust(ms + 1)
    }
  })
}

storeSuite("memory", memory)
settlementSuite("memory", memory)
adminSuite("memory", memory)
adminQueuesSuite("memory", memory)
