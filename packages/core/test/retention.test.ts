/** Retention options and the retention sweep, on the memory store with `TestClock`. */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, TestClock } from "effect"
import { JobStore, JobsSConfig } from "../src/index.js"
import * as Retention from "../src/internal/retention.js"
import { newRun } from "./fixtures.js"

/** `count` runs of `job` that succeeded now. */
const succeeded = (store: JobStore.JobStoreShape, job: string, count: number) =>
  Effect.gen(function* () {
    const now = yield* store.now
    yield* store.insert(Array.from({ length: count }, () => newRun({ job, runAt: now })))
    const claimed = yield* store.claim({ instanceId: "i", jobs: [job], schedules: [], limit: count, leaseMs: 1_000 })
    yield* store.settle(claimed.map((run) => ({ _tag: "Succeeded", id: run.id, claim: run.claim })))
  })

describe("retention", () => {
  it("options: defaults, forever, and clear errors", () => {
    const config = Either.getOrThrow(JobsSConfig.resolveInstance({}))
    expect(config.retention).toEqual({ succeeded: 86_400_000, failed: 1_209_600_000, cancelled: 1_209_600_000 })
    expect(config.retentionCheckMs).toBe(60_000)
    const custom = JobsSConfig.resolveInstance({
      retention: { succeeded: "1 hour", failed: "forever", cancelled: Duration.infinity }
    })
    expect(Either.getOrThrow(custom).retention).toEqual({ succeeded: 3_600_000, failed: null, cancelled: null })
    const message = (options: JobsSConfig.InstanceOptions) =>
      Either.match(JobsSConfig.resolveInstance(options), { onLeft: (error) => error.message, onRight: () => "" })
    expect(message({ retention: { succeeded: "soon" as never } })).toBe(
      'retention.succeeded must be "forever" or a duration (milliseconds, a string such as "5 seconds", or a Duration), got "soon"'
    )
    expect(message({ retention: { failed: 0 } })).toBe("retention.failed must be a duration of at least 1 ms, got 0")
    expect(message({ retention: { failed: "-1 day" } })).toBe(
      'retention.failed must be a duration of at least 1 ms, got "-1 day"'
    )
    expect(message({ retention: { succeded: "1 day" } as never })).toBe(
      'retention.succeded is unexpected, expected: "succeeded" | "failed" | "cancelled"'
    )
    expect(message({ retentionCheck: 0 })).toBe("retentionCheck must be a duration of at least 1 ms, got 0")
  })

  it.effect("a sweep deletes in batches of 1,000 up to 10 per sweep, and says when it left runs behind", () =>
    Effect.gen(function* () {
      const store = yield* JobStore.makeMemory
      yield* TestClock.setTime(1_000_000)
      yield* succeeded(store, "Job", 10_500)
      yield* TestClock.adjust("2 seconds")
      const retention = Retention.make({
        store,
        retention: { succeeded: 1_000, failed: null, cancelled: null },
        intervalMs: 60_000,
        leading: () => true
      })
      expect(yield* retention.runOnce).toEqual({ deleted: 10_000, more: true })
      expect(yield* retention.runOnce).toEqual({ deleted: 500, more: false })
      expect(yield* retention.runOnce).toEqual({ deleted: 0, more: false })
      const keepAll = Retention.make({
        store,
        retention: { succeeded: null, failed: null, cancelled: null },
        intervalMs: 60_000,
        leading: () => true
      })
      yield* succeeded(store, "Job", 1)
      expect(yield* keepAll.runOnce).toEqual({ deleted: 0, more: false })
    })
  )
})
