/** The pure settlement decision: retries, limits, occurrences, backoff. */
import { describe, expect, it } from "@effect/vitest"
import type { ClaimedRun } from "../src/JobStore.js"
import { JobSchedule, JobStore, RetryBackoff } from "../src/index.js"
import { decide } from "../src/internal/outcome.js"

const run = (overrides: Partial<ClaimedRun> = {}): ClaimedRun => ({
  id: "r1",
  originId: "r0",
  occurrence: 2,
  job: "J",
  args: "{}",
  uniqueName: "u",
  schedule: null,
  runAt: 0,
  runTotalCount: 5,
  runSuccessCount: 2,
  runSuccessLimit: null,
  runTimeoutMs: 0,
  retriesErrorCount: 0,
  retriesErrorLimit: 2,
  retriesTimeoutCount: 0,
  retriesTimeoutLimit: 1,
  createdBy: "i",
  createdAt: 0,
  status: "running",
  startedAt: 0,
  startedBy: "i",
  timeoutAt: null,
  leaseUntil: 0,
  cancelRequested: false,
  error: null,
  finishedAt: null,
  claim: "c",
  traceContext: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  ...overrides
})

const Spaced = JobSchedule.spaced({ name: "S", every: "1 minute" })
const context = { now: 1_000, schedule: Spaced, backoff: RetryBackoff.immediate, random: 0 }

describe("outcome decisions", () => {
  it("retries an error within the limit, then fails a one-off run", () => {
    expect(decide(run(), { _tag: "Error", error: "e" }, context).settlement).toMatchObject({
      _tag: "Retry",
      runAt: 1_000,
      retriesErrorCount: 1,
      retriesTimeoutCount: 0,
      error: "e"
    })
    expect(decide(run({ retriesErrorCount: 2 }), { _tag: "Error", error: "e" }, context).settlement).toEqual({
      _tag: "Failed",
      id: "r1",
      claim: "c",
      error: "e"
    })
  })

  it("-1 retries forever; 0 never retries", () => {
    expect(
      decide(run({ retriesErrorCount: 1_000, retriesErrorLimit: -1 }), { _tag: "Error", error: "e" }, context)
        .settlement._tag
    ).toBe("Retry")
    expect(decide(run({ retriesErrorLimit: 0 }), { _tag: "Error", error: "e" }, context).settlement._tag).toBe("Failed")
  })

  it("counts timeouts separately", () => {
    const first = decide(run(), { _tag: "Timeout", error: "t" }, context).settlement
    expect(first).toMatchObject({ _tag: "Retry", retriesTimeoutCount: 1, retriesErrorCount: 0 })
    expect(decide(run({ retriesTimeoutCount: 1 }), { _tag: "Timeout", error: "t" }, context).settlement._tag).toBe(
      "Failed"
    )
  })

  it("labels each attempt for the run history: timeouts and takeovers, retried or not", () => {
    const label = (overrides: Partial<ClaimedRun>, outcome: Parameters<typeof decide>[1]) =>
      JobStore.attemptOutcome(decide(run(overrides), outcome, context).settlement)
    expect(label({}, { _tag: "Success" })).toBe("succeeded")
    expect(label({}, { _tag: "Error", error: "e" })).toBe("retried")
    expect(label({ retriesErrorCount: 2 }, { _tag: "Error", error: "e" })).toBe("failed")
    expect(label({}, { _tag: "Timeout", error: "t" })).toBe("timedOut")
    expect(label({ retriesTimeoutCount: 1 }, { _tag: "Timeout", error: "t" })).toBe("timedOut")
    expect(label({}, { _tag: "Timeout", error: "t", lost: true })).toBe("lost")
    expect(label({ schedule: "S", retriesTimeoutCount: 1 }, { _tag: "Timeout", error: "t", lost: true })).toBe("lost")
    expect(label({}, { _tag: "Cancelled" })).toBe("cancelled")
    expect(label({}, { _tag: "Released" })).toBe("released")
    expect(label({}, { _tag: "Invalid", error: "bad" })).toBe("failed")
    expect(label({ schedule: "S" }, { _tag: "Skipped", error: "missed" })).toBe("cancelled")
  })

  it("carries the trace context to the next occurrence", () => {
    const decision = decide(run({ schedule: "S" }), { _tag: "Success" }, context)
    expect(decision.settlement).toMatchObject({ next: { traceContext: run().traceContext } })
  })

  it("moves a scheduled run to its next occurrence with counters reset, until the limit", () => {
    const decision = decide(run({ schedule: "S", retriesErrorCount: 1 }), { _tag: "Success" }, context)
    expect(decision.tally).toBe("rescheduled")
    expect(decision.settlement).toMatchObject({
      _tag: "Next",
      outcome: "succeeded",
      next: { originId: "r0", occurrence: 3, runAt: 61_000, runSuccessCount: 3, retriesErrorCount: 0, uniqueName: "u" }
    })
    expect(decide(run({ schedule: "S", runSuccessLimit: 3 }), { _tag: "Success" }, context).settlement._tag).toBe(
      "Succeeded"
    )
    const failed = decide(
      run({ schedule: "S", retriesErrorCount: 2 }),
      { _tag: "Error", error: "e" },
      context
    ).settlement
    expect(failed).toMatchObject({
      _tag: "Next",
      outcome: "failed",
      error: "e",
      next: { runSuccessCount: 2, retriesErrorCount: 0 }
    })
  })

  it("fails a scheduled run whose schedule throws, instead of crashing", () => {
    const Broken = JobSchedule.make({
      name: "S",
      next: () => {
        throw new Error("no next")
      }
    })
    const settlement = decide(run({ schedule: "S" }), { _tag: "Success" }, { ...context, schedule: Broken }).settlement
    expect(settlement).toMatchObject({ _tag: "Failed" })
    expect(settlement._tag === "Failed" && settlement.error).toContain("no next")
  })

  it("applies the backoff to the retry's due time", () => {
    const backoff = RetryBackoff.exponential({ base: "1 second", factor: 3, max: "5 seconds", jitter: false })
    const at = (count: number) =>
      decide(
        run({ retriesErrorCount: count, retriesErrorLimit: -1 }),
        { _tag: "Error", error: "e" },
        { ...context, backoff }
      ).settlement
    expect([0, 1, 2].map((count) => (at(count) as { runAt: number }).runAt)).toEqual([2_000, 4_000, 6_000])
  })

  it("fails a run whose retry or next occurrence would have no valid due time, instead of storing it", () => {
    // backoffs are checked when a job is registered, so only a due time past the last Date gets here
    const lastDate = 8.64e15
    for (const [backoff, now] of [
      [RetryBackoff.fixed("1 hour"), lastDate - 1_000],
      [RetryBackoff.exponential({ base: "1 day", factor: 10, max: "40000000 days", jitter: false }), lastDate - 1e15]
    ] as const) {
      const decision = decide(
        run({ retriesErrorCount: 9, retriesErrorLimit: -1 }),
        { _tag: "Error", error: "e" },
        { ...context, now, backoff }
      )
      expect(decision.tally).toBe("failed")
      expect(decision.settlement).toMatchObject({ _tag: "Failed", id: "r1", claim: "c" })
      expect(decision.settlement._tag === "Failed" && decision.settlement.error).toContain(
        "The retry of this run has no valid due time"
      )
    }
    // a schedule changed after it was checked: catchUp 0 used to give the next occurrence no due time at all
    const broken = { ...Spaced, missed: { catchUp: 0 } }
    const next = decide(
      run({ schedule: "S", runAt: 0 }),
      { _tag: "Success" },
      { ...context, now: 600_000, schedule: broken }
    )
    expect(next.settlement).toMatchObject({ _tag: "Failed" })
    expect(next.settlement._tag === "Failed" && next.settlement.error).toContain(
      "missed.catchUp must be a positive integer"
    )
  })

  it("cancels, releases and fails invalid input without retrying", () => {
    expect(decide(run(), { _tag: "Cancelled" }, context).settlement._tag).toBe("Cancelled")
    expect(decide(run(), { _tag: "Released" }, context).settlement._tag).toBe("Released")
    expect(decide(run({ schedule: "S" }), { _tag: "Invalid", error: "bad" }, context).settlement._tag).toBe("Failed")
  })
})
