/** The maintenance leader's election (`internal/leader.ts`) on the memory store, driven by `TestClock`. */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Option, TestClock } from "effect"
import { JobStore } from "../src/index.js"
import * as Leader from "../src/internal/leader.js"
import * as StoreClock from "../src/internal/storeClock.js"

const intervalMs = 1_000
const leaseMs = Leader.leaseIntervals * intervalMs

const electionOn = (store: JobStore.JobStoreShape, instanceId: string) =>
  Effect.flatMap(StoreClock.make(store), (clock) => Leader.make({ store, clock, instanceId, intervalMs }))

const register = (store: JobStore.JobStoreShape, id: string, jobs: ReadonlyArray<string>) =>
  store.registerInstance({ id, name: id, workers: 1, jobs, schedules: ["S"], pollIntervalMs: 1_000, pollLimit: 10 })

describe("maintenance leader", () => {
  it.effect("one of two instances leads; it renews; the other takes over once the lease ran out", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(1_000_000)
      const store = yield* JobStore.makeMemory
      const a = yield* electionOn(store, "a")
      const b = yield* electionOn(store, "b")
      expect(a.isLeader()).toBe(false)
      expect(yield* a.runOnce).toBe(true)
      expect(a.isLeader()).toBe(true)
      expect(yield* b.runOnce).toBe(false)
      expect(b.isLeader()).toBe(false)

      // a renews every interval: b never gets the lease
      for (let i = 0; i < 5; i++) {
        yield* TestClock.adjust(intervalMs)
        expect(yield* a.runOnce).toBe(true)
        expect(yield* b.runOnce).toBe(false)
      }
      expect((yield* store.lease(Leader.leaseName))?.holder).toBe("a")

      // a stops renewing (frozen): it stops counting itself leader when its lease runs out, on its own
      yield* TestClock.adjust(leaseMs - 1)
      expect(a.isLeader()).toBe(true)
      expect(yield* b.runOnce).toBe(false)
      yield* TestClock.adjust(1)
      expect(a.isLeader()).toBe(false)
      expect(yield* b.runOnce).toBe(true)
      expect(b.isLeader()).toBe(true)
      // a comes back: refused, while b renews
      expect(yield* a.runOnce).toBe(false)
      expect(a.isLeader()).toBe(false)
      expect(yield* b.runOnce).toBe(true)
    })
  )

  it.effect("a leader that resigns (shutdown) frees the lease: another takes it at its next attempt", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(1_000_000)
      const store = yield* JobStore.makeMemory
      const a = yield* electionOn(store, "a")
      const b = yield* electionOn(store, "b")
      expect(yield* a.runOnce).toBe(true)
      const elected = yield* Effect.fork(b.elected)
      expect(yield* b.runOnce).toBe(false)
      expect(Option.isNone(yield* Fiber.poll(elected))).toBe(true)
      yield* a.resign
      expect(a.isLeader()).toBe(false)
      // no time passes: the lease is free at once
      expect(yield* b.runOnce).toBe(true)
      yield* Fiber.join(elected)
      // resigning without the lease changes nothing
      yield* a.resign
      expect((yield* store.lease(Leader.leaseName))?.holder).toBe("b")
    })
  )

  it.effect(
    "the loop renews every interval while leading, tries every two otherwise, and resigns when interrupted",
    () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(1_000_000)
        const counted = yield* JobStore.makeMemory
        let attempts = 0
        const store: JobStore.JobStoreShape = {
          ...counted,
          acquireLease: (request) =>
            Effect.zipRight(
              Effect.sync(() => attempts++),
              counted.acquireLease(request)
            )
        }
        const a = yield* electionOn(store, "a")
        const b = yield* electionOn(store, "b")
        const leading = yield* Effect.fork(a.run)
        yield* TestClock.adjust(0)
        expect(a.isLeader()).toBe(true)
        const following = yield* Effect.fork(b.run)
        yield* TestClock.adjust(0)
        attempts = 0
        yield* TestClock.adjust(4 * intervalMs)
        // a: 4 renewals; b: 2 attempts
        expect(attempts).toBe(6)
        const elected = yield* Deferred.make<void>()
        yield* Effect.fork(Effect.zipRight(b.elected, Deferred.succeed(elected, undefined)))
        yield* Fiber.interrupt(leading)
        expect((yield* store.lease(Leader.leaseName))?.live).toBe(false)
        yield* TestClock.adjust(2 * intervalMs)
        yield* Deferred.await(elected)
        expect(b.isLeader()).toBe(true)
        yield* Fiber.interrupt(following)
      })
  )

  it.effect("reaps: the leader does; another does only for jobs or schedules the live leader lacks", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(1_000_000)
      const store = yield* JobStore.makeMemory
      const a = yield* electionOn(store, "a")
      const b = yield* electionOn(store, "b")
      // no leader yet: everyone reaps
      expect(yield* b.reaps(["Work"], [])).toBe(true)
      yield* register(store, "a", ["Work"])
      expect(yield* a.runOnce).toBe(true)
      expect(yield* a.reaps(["Work", "Other"], [])).toBe(true)
      expect(yield* b.reaps(["Work"], [])).toBe(false)
      expect(yield* b.reaps(["Work"], ["S"])).toBe(false)
      expect(yield* b.reaps(["Work", "Other"], [])).toBe(true)
      expect(yield* b.reaps(["Work"], ["T"])).toBe(true)
      // the leader's lease ran out: everyone reaps again
      yield* TestClock.adjust(leaseMs)
      expect(yield* b.reaps(["Work"], [])).toBe(true)
    })
  )
})
