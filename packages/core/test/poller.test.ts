/** The poller's claim round: when it reads the next due time, and when it claims again at once. */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import * as MemoryStore from "../src/internal/memoryStore.js"
import * as Poller from "../src/internal/poller.js"
import * as StoreClock from "../src/internal/storeClock.js"
import * as WakeSignal from "../src/internal/wakeSignal.js"
import { newRun } from "./fixtures.js"

const pollIntervalMs = 1_000

/**
 * A poller on the memory store (no runs) whose claims may wake it; counts the reads of the next due
 * time, whose answers take `answerMs` (of the test clock) to come back.
 */
const setup = (wakeDuringClaim: boolean, answerMs = 0) =>
  Effect.gen(function* () {
    const store = yield* MemoryStore.make
    const signal = yield* WakeSignal.make
    let nextDueReads = 0
    const poller = Poller.make({
      store: {
        ...store,
        claim: (request) => Effect.tap(store.claim(request), () => (wakeDuringClaim ? signal.wake : Effect.void)),
        nextDue: (jobs, schedules, queues) =>
          Effect.zipLeft(
            store.nextDue(jobs, schedules, queues),
            Effect.zipRight(
              Effect.sync(() => nextDueReads++),
              TestClock.adjust(answerMs)
            )
          )
      },
      pool: { wanted: Effect.succeed(10), offer: () => Effect.void },
      registry: { jobs: () => ["Noop"], schedules: [] },
      signal,
      demand: Poller.makeDemand(signal, () => false),
      clock: yield* StoreClock.make(store),
      instanceId: "instance-1",
      queues: () => [],
      pollIntervalMs,
      pollLimit: 100,
      leaseMs: 30_000
    })
    return { poller, reads: () => nextDueReads, signal, store }
  })

describe("Poller.runOnce", () => {
  it.effect("after a claim that found fewer runs than it asked for, it waits until the next due run", () =>
    Effect.gen(function* () {
      const { poller, reads } = yield* setup(false)
      expect(yield* poller.runOnce()).toBe(pollIntervalMs)
      expect(reads()).toBe(1)
    })
  )

  it.effect("the wait ends at the due time on the store clock, however long the read's answer took to arrive", () =>
    Effect.gen(function* () {
      const { poller, store } = yield* setup(false, 30)
      const now = yield* store.now
      yield* store.insert([newRun({ job: "Noop", runAt: now + 500 })])
      // read at now, answered 30 ms later: 470 ms are left
      expect(yield* poller.runOnce()).toBe(470)
    })
  )

  it.effect("wakes that came before the claim are answered by it: it does not claim again for them", () =>
    Effect.gen(function* () {
      const { poller, reads, signal } = yield* setup(false)
      // a settled batch frees one slot per run, each a wake: the first ended the sleep, the others came after
      for (let i = 0; i < 50; i++) signal.unsafeWake()
      expect(yield* poller.runOnce()).toBe(pollIntervalMs)
      expect(reads()).toBe(1)
    })
  )

  it.effect("woken while it claimed, it claims again at once without reading the next due time", () =>
    Effect.gen(function* () {
      const { poller, reads } = yield* setup(true)
      expect(yield* poller.runOnce()).toBe(0)
      expect(reads()).toBe(0)
    })
  )
})
