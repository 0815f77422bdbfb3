/**
 * What only the memory store shows: `TestClock` drives its clock, and its wake-up stream emits on
 * inserts, retries, releases and next occurrences. (The common contract is in test/store/.)
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream, TestClock } from "effect"
import { JobStore, JobsSError } from "../src/index.js"
import { newRun } from "./fixtures.js"

const claimAll = (store: JobStore.JobStoreShape, job: string, leaseMs = 1_000) =>
  store.claim({ instanceId: "i", jobs: [job], schedules: [], limit: 100, leaseMs })

describe("memory store", () => {
  it.effect("its clock is Effect's Clock: TestClock makes runs due, leases and timeouts expire", () =>
    Effect.gen(function* () {
      const store = yield* JobStore.makeMemory
      yield* TestClock.setTime(1_000_000)
      expect(yield* store.now).toBe(1_000_000)
      const run = newRun({ job: "J", runAt: 1_001_000, runTimeoutMs: 5_000 })
      yield* store.insert([run])
      expect(yield* store.get(run.id)).toMatchObject({ createdAt: 1_000_000 })
      expect(yield* claimAll(store, "J")).toEqual([])
      expect(yield* store.nextDue(["J"], [])).toEqual({ now: 1_000_000, nextRunAt: 1_001_000 })

      yield* TestClock.adjust(1_000)
      const [claimed] = yield* claimAll(store, "J", 2_000)
      expect(claimed).toMatchObject({ startedAt: 1_001_000, leaseUntil: 1_003_000, timeoutAt: 1_006_000 })
      // its attempt starts at once: the timeout counts from the report
      yield* TestClock.adjust(500)
      yield* store.extend("i", [claimed!.claim], 1_500, [claimed!.claim])
      expect(yield* store.get(run.id)).toMatchObject({ dispatchedAt: 1_001_500, timeoutAt: 1_006_500 })

      const reap = (graceMs: number) =>
        Effect.map(
          store.reap({ instanceId: "reaper", jobs: ["J"], schedules: [], limit: 10, leaseMs: 10_000, graceMs }),
          (reaped) => reaped.taken.map((r) => r.reason)
        )
      yield* TestClock.adjust(1_500) // lease_until == now: not yet expired
      expect(yield* reap(0)).toEqual([])
      yield* TestClock.adjust(1)
      expect(yield* reap(0)).toEqual(["lease"])
      yield* TestClock.adjust(3_500) // timeout_at + 0 < now, lease (now + 10 s) still valid
      expect(yield* reap(1_000)).toEqual([])
      yield* TestClock.adjust(1_000)
      expect(yield* reap(1_000)).toEqual(["timeout"])
    })
  )

  it.effect("a run whose lease and timeout both expired is reaped for its timeout", () =>
    Effect.gen(function* () {
      const store = yield* JobStore.makeMemory
      yield* store.insert([newRun({ job: "J", runAt: 0, runTimeoutMs: 10 })])
      const claims = (yield* claimAll(store, "J", 10)).map((run) => run.claim)
      yield* store.extend("i", claims, 10, claims)
      yield* TestClock.adjust(100)
      const reaped = yield* store.reap({
        instanceId: "reaper",
        jobs: ["J"],
        schedules: [],
        limit: 10,
        leaseMs: 10,
        graceMs: 0
      })
      expect(reaped.taken.map((r) => r.reason)).toEqual(["timeout"])
    })
  )

  it.scoped("wakeups emit on insert, retry, release and next occurrence; not on claim or final settlements", () =>
    Effect.gen(function* () {
      const store = yield* JobStore.makeMemory
      let count = 0
      yield* Effect.forkScoped(Stream.runForEach(store.wakeups, () => Effect.sync(() => count++)))
      const flush = Effect.repeatN(Effect.yieldNow(), 5)
      yield* flush
      const expectCount = (n: number) => Effect.map(flush, () => expect(count).toBe(n))
      const claimOne = Effect.map(claimAll(store, "J"), (claimed) => {
        expect(claimed).toHaveLength(1)
        return claimed[0]!
      })

      yield* store.insert([newRun({ job: "J", runAt: 0 })])
      yield* expectCount(1)
      const a = yield* claimOne
      yield* store.settle([{ _tag: "Succeeded", id: a.id, claim: a.claim }])
      yield* expectCount(1)

      yield* store.insert([newRun({ job: "J", runAt: 0, uniqueName: "u" })])
      yield* expectCount(2)
      yield* store.insert([newRun({ job: "J", runAt: 0, uniqueName: "u" })]) // not inserted
      yield* expectCount(2)
      const b = yield* claimOne
      yield* store.settle([
        { _tag: "Retry", id: b.id, claim: b.claim, runAt: 0, retriesErrorCount: 1, retriesTimeoutCount: 0, error: "x" }
      ])
      yield* expectCount(3)
      const b2 = yield* claimOne
      yield* store.settle([{ _tag: "Released", id: b2.id, claim: b2.claim }])
      yield* expectCount(4)
      const b3 = yield* claimOne
      yield* store.settle([{ _tag: "Released", id: b3.id, claim: b2.claim }]) // stale claim: nothing happens
      yield* expectCount(4)
      const next = newRun({ job: "J", runAt: 0, originId: b3.originId, occurrence: 1 })
      yield* store.settle([{ _tag: "Next", id: b3.id, claim: b3.claim, outcome: "failed", error: "x", next }])
      yield* expectCount(5)
      const c = yield* claimOne
      yield* store.settle([{ _tag: "Cancelled", id: c.id, claim: c.claim }])
      yield* store.cancel(c.originId)
      yield* expectCount(5)
    })
  )

  it.effect("an id that already exists fails the whole insert with JobStoreError and changes nothing", () =>
    Effect.gen(function* () {
      const store = yield* JobStore.makeMemory
      const first = newRun({ job: "J", runAt: 0 })
      yield* store.insert([first])
      const fresh = newRun({ job: "J", runAt: 0, uniqueName: "u" })
      const error = yield* Effect.flip(store.insert([fresh, first]))
      expect(error).toBeInstanceOf(JobsSError.JobStoreError)
      expect(yield* store.get(fresh.id)).toBeUndefined()
      expect(yield* store.insert([newRun({ job: "J", runAt: 0, uniqueName: "u" })])).toMatchObject([{ inserted: true }])
    })
  )

  it.effect("layerMemory provides an empty store", () =>
    Effect.gen(function* () {
      const store = yield* JobStore.JobStore
      expect(yield* store.instances).toEqual([])
      expect(yield* store.waiting(1_000)).toEqual([])
    }).pipe(Effect.provide(JobStore.layerMemory))
  )
})
