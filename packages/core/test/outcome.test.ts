/** The pure settlement decision: retries, limits, occurrences, backoff. */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { ClaimedRun } from "../src/JobStore.js"
import { JobSchedule, JobStore, RetryBackoff } from "../src/index.js"
import { count, needsRandom } from "../src/internal/completion.js"
import * as Counters from "../src/internal/counters.js"
import { type DecisionContext, type Ending, type Stop, decide, stopped } from "../src/internal/outcome.js"
import type { RunMetrics } from "../src/internal/runMetrics.js"

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
  result: null,
  snoozeCount: 0,
  dispatchedAt: null,
  queue: "q",
  priority: 3,
  partitionKey: "p",
  ...overrides
})

const Spaced = JobSchedule.spaced({ name: "S", every: "1 minute" })
const context = { now: 1_000, schedule: Spaced, backoff: RetryBackoff.immediate, random: 0 }

describe("outcome decisions", () => {
  it("retries an error within the limit, then fails a one-off run", () => {
    expect(decide(run(), { outcome: "failed", error: "e", retry: true }, context)).toMatchObject({
      _tag: "Retry",
      runAt: 1_000,
      retriesErrorCount: 1,
      retriesTimeoutCount: 0,
      error: "e"
    })
    expect(decide(run({ retriesErrorCount: 2 }), { outcome: "failed", error: "e", retry: true }, context)).toEqual({
      _tag: "Failed",
      id: "r1",
      claim: "c",
      error: "e"
    })
  })

  it("-1 retries forever; 0 never retries", () => {
    expect(
      decide(
        run({ retriesErrorCount: 1_000, retriesErrorLimit: -1 }),
        { outcome: "failed", error: "e", retry: true },
        context
      )._tag
    ).toBe("Retry")
    expect(decide(run({ retriesErrorLimit: 0 }), { outcome: "failed", error: "e", retry: true }, context)._tag).toBe(
      "Failed"
    )
  })

  it("counts timeouts separately", () => {
    const first = decide(run(), { outcome: "timedOut", error: "t" }, context)
    expect(first).toMatchObject({ _tag: "Retry", retriesTimeoutCount: 1, retriesErrorCount: 0 })
    expect(decide(run({ retriesTimeoutCount: 1 }), { outcome: "timedOut", error: "t" }, context)._tag).toBe("Failed")
  })

  it("labels each attempt for the run history: timeouts and takeovers, retried or not", () => {
    const label = (overrides: Partial<ClaimedRun>, outcome: Parameters<typeof decide>[1]) =>
      JobStore.attemptOutcome(decide(run(overrides), outcome, context))
    expect(label({}, { outcome: "succeeded" })).toBe("succeeded")
    expect(label({}, { outcome: "failed", error: "e", retry: true })).toBe("retried")
    expect(label({ retriesErrorCount: 2 }, { outcome: "failed", error: "e", retry: true })).toBe("failed")
    expect(label({}, { outcome: "timedOut", error: "t" })).toBe("timedOut")
    expect(label({ retriesTimeoutCount: 1 }, { outcome: "timedOut", error: "t" })).toBe("timedOut")
    expect(label({}, { outcome: "lost", error: "t" })).toBe("lost")
    expect(label({ schedule: "S", retriesTimeoutCount: 1 }, { outcome: "lost", error: "t" })).toBe("lost")
    expect(label({}, { outcome: "cancelled" })).toBe("cancelled")
    expect(label({}, { outcome: "released" })).toBe("released")
    expect(label({}, { outcome: "failed", error: "bad", retry: false })).toBe("failed")
    expect(label({ schedule: "S" }, { outcome: "cancelled", skipped: "missed" })).toBe("cancelled")
  })

  it("carries the trace context to the next occurrence", () => {
    const settlement = decide(run({ schedule: "S" }), { outcome: "succeeded" }, context)
    expect(settlement).toMatchObject({ next: { traceContext: run().traceContext } })
    // the next occurrence stays in its queue and partition, with its priority
    expect(settlement).toMatchObject({ next: { queue: "q", priority: 3, partitionKey: "p" } })
  })

  it("moves a scheduled run to its next occurrence with counters reset, until the limit", () => {
    const settlement = decide(run({ schedule: "S", retriesErrorCount: 1 }), { outcome: "succeeded" }, context)
    expect(settlement).toMatchObject({
      _tag: "Next",
      outcome: "succeeded",
      next: { originId: "r0", occurrence: 3, runAt: 61_000, runSuccessCount: 3, retriesErrorCount: 0, uniqueName: "u" }
    })
    expect(decide(run({ schedule: "S", runSuccessLimit: 3 }), { outcome: "succeeded" }, context)._tag).toBe("Succeeded")
    const failed = decide(
      run({ schedule: "S", retriesErrorCount: 2 }),
      { outcome: "failed", error: "e", retry: true },
      context
    )
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
    const settlement = decide(run({ schedule: "S" }), { outcome: "succeeded" }, { ...context, schedule: Broken })
    expect(settlement).toMatchObject({ _tag: "Failed" })
    expect(settlement._tag === "Failed" && settlement.error).toContain("no next")
  })

  it("applies the backoff to the retry's due time", () => {
    const backoff = RetryBackoff.exponential({ base: "1 second", factor: 3, max: "5 seconds", jitter: false })
    const at = (count: number) =>
      decide(
        run({ retriesErrorCount: count, retriesErrorLimit: -1 }),
        { outcome: "failed", error: "e", retry: true },
        { ...context, backoff }
      )
    expect([0, 1, 2].map((count) => (at(count) as { runAt: number }).runAt)).toEqual([2_000, 4_000, 6_000])
  })

  it("fails a run whose retry or next occurrence would have no valid due time, instead of storing it", () => {
    // backoffs are checked when a job is registered, so only a due time past the last Date gets here
    const lastDate = 8.64e15
    for (const [backoff, now] of [
      [RetryBackoff.fixed("1 hour"), lastDate - 1_000],
      [RetryBackoff.exponential({ base: "1 day", factor: 10, max: "40000000 days", jitter: false }), lastDate - 1e15]
    ] as const) {
      const settlement = decide(
        run({ retriesErrorCount: 9, retriesErrorLimit: -1 }),
        { outcome: "failed", error: "e", retry: true },
        { ...context, now, backoff }
      )
      expect(settlement).toMatchObject({ _tag: "Failed", id: "r1", claim: "c" })
      expect(settlement._tag === "Failed" && settlement.error).toContain("The retry of this run has no valid due time")
    }
    // a schedule changed after it was checked: catchUp 0 used to give the next occurrence no due time at all
    const broken = { ...Spaced, missed: { catchUp: 0 } }
    const next = decide(
      run({ schedule: "S", runAt: 0 }),
      { outcome: "succeeded" },
      { ...context, now: 600_000, schedule: broken }
    )
    expect(next).toMatchObject({ _tag: "Failed" })
    expect(next._tag === "Failed" && next.error).toContain("missed.catchUp must be a positive integer")
  })

  it("cancels, releases and fails invalid input without retrying", () => {
    expect(decide(run(), { outcome: "cancelled" }, context)._tag).toBe("Cancelled")
    expect(decide(run(), { outcome: "released" }, context)._tag).toBe("Released")
    expect(decide(run({ schedule: "S" }), { outcome: "failed", error: "bad", retry: false }, context)._tag).toBe(
      "Failed"
    )
  })

  it("a run the runtime stopped ends with the outcome it was stopped for; a lost claim writes nothing", () => {
    const stops: ReadonlyArray<Stop> = ["cancelled", "released", "timedOut", "lost"]
    expect(stops.map((stop) => stopped(run({ runTimeoutMs: 300 }), stop))).toEqual([
      { outcome: "cancelled" },
      { outcome: "released" },
      { outcome: "timedOut", error: "Timed out after 300 ms" },
      undefined
    ])
    expect(
      stops.flatMap((stop) => {
        const ending = stopped(run(), stop)
        return ending === undefined ? [] : [JobStore.attemptOutcome(decide(run(), ending, context))]
      })
    ).toEqual(["cancelled", "released", "timedOut"])
  })

  it("reads Random only for endings that may retry", () => {
    const endings: ReadonlyArray<Ending> = [
      { outcome: "succeeded" },
      { outcome: "failed", error: "e", retry: true },
      { outcome: "failed", error: "bad", retry: false },
      { outcome: "timedOut", error: "t" },
      { outcome: "lost", error: "t" },
      { outcome: "cancelled" },
      { outcome: "cancelled", skipped: "missed" },
      { outcome: "released" }
    ]
    expect(endings.map(needsRandom)).toEqual([false, true, false, true, true, false, false, false])
  })
})

describe("counting a written settlement", () => {
  /** The counters and metrics that counting `ending` moves, once decided for `overrides`. */
  const counted = (overrides: Partial<ClaimedRun>, ending: Ending, decision: DecisionContext = context) => {
    const counters = Counters.make()
    const observed: Array<string> = []
    const observe = (name: string) => () => {
      observed.push(name)
    }
    const metrics: RunMetrics = {
      started: observe("started"),
      succeeded: observe("succeeded"),
      failed: observe("failed"),
      retried: observe("retried"),
      timedOut: observe("timedOut"),
      takenOver: observe("takenOver"),
      duration: observe("duration"),
      lag: observe("lag"),
      queueWait: observe("queueWait")
    }
    count(counters, metrics, ending, decide(run(overrides), ending, decision))
    const moved = Object.entries(Effect.runSync(counters.snapshot)).flatMap(([name, n]) => (n === 0 ? [] : [[name, n]]))
    return { counters: Object.fromEntries(moved), metrics: observed }
  }
  const failed: Ending = { outcome: "failed", error: "e", retry: true }

  it("moves the counters and metrics of how the attempt ended and of what follows it", () => {
    expect(counted({}, { outcome: "succeeded" })).toEqual({ counters: { runsSucceeded: 1 }, metrics: ["succeeded"] })
    expect(counted({ schedule: "S" }, { outcome: "succeeded" })).toEqual({
      counters: { runsSucceeded: 1, runsRescheduled: 1 },
      metrics: ["succeeded"]
    })
    expect(counted({}, failed)).toEqual({ counters: { runsErrors: 1 }, metrics: ["failed", "retried"] })
    expect(counted({ retriesErrorCount: 2 }, failed)).toEqual({ counters: { runsErrors: 1 }, metrics: ["failed"] })
    expect(counted({ schedule: "S", retriesErrorCount: 2 }, failed)).toEqual({
      counters: { runsErrors: 1, runsRescheduled: 1 },
      metrics: ["failed"]
    })
    expect(counted({}, { outcome: "failed", error: "bad", retry: false })).toEqual({
      counters: { runsErrors: 1 },
      metrics: ["failed"]
    })
    for (const outcome of ["timedOut", "lost"] as const) {
      expect(counted({}, { outcome, error: "t" })).toEqual({
        counters: { runsTimedOut: 1 },
        metrics: ["timedOut", "retried"]
      })
    }
    expect(counted({ schedule: "S" }, { outcome: "cancelled", skipped: "missed" })).toEqual({
      counters: { runsRescheduled: 1 },
      metrics: []
    })
    expect(counted({}, { outcome: "cancelled" })).toEqual({ counters: {}, metrics: [] })
    expect(counted({}, { outcome: "released" })).toEqual({ counters: {}, metrics: [] })
    expect(counted({}, { outcome: "snoozed", delayMs: 5 })).toEqual({ counters: {}, metrics: [] })
  })

  it("a success whose next occurrence cannot follow is not counted as a success", () => {
    const Broken = JobSchedule.make({
      name: "S",
      next: () => {
        throw new Error("no next")
      }
    })
    expect(counted({ schedule: "S" }, { outcome: "succeeded" }, { ...context, schedule: Broken })).toEqual({
      counters: {},
      metrics: ["succeeded"]
    })
  })
})

describe("snoozes and results", () => {
  it("a snooze is due again after its delay on the store clock, its retry counters untouched", () => {
    expect(decide(run({ retriesErrorCount: 1 }), { outcome: "snoozed", delayMs: 500 }, context)).toEqual({
      _tag: "Snoozed",
      id: "r1",
      claim: "c",
      runAt: 1_500
    })
    expect(needsRandom({ outcome: "snoozed", delayMs: 500 })).toBe(false)
  })

  it("past maxSnoozes the occurrence ends failed; a scheduled run moves on to its next occurrence", () => {
    const limited = { ...context, maxSnoozes: 2 }
    expect(decide(run({ snoozeCount: 1 }), { outcome: "snoozed", delayMs: 5 }, limited)._tag).toBe("Snoozed")
    expect(decide(run({ snoozeCount: 2 }), { outcome: "snoozed", delayMs: 5 }, limited)).toEqual({
      _tag: "Failed",
      id: "r1",
      claim: "c",
      error: "Snoozed more than maxSnoozes (2) times in this occurrence"
    })
    const next = decide(run({ schedule: "S", snoozeCount: 2 }), { outcome: "snoozed", delayMs: 5 }, limited)
    expect(next).toMatchObject({ _tag: "Next", outcome: "failed", next: { occurrence: 3 } })
  })

  it("a success stores its result, and the next occurrence carries the latest successful one", () => {
    expect(decide(run(), { outcome: "succeeded", result: '{"a":1}' }, context)).toMatchObject({
      _tag: "Succeeded",
      result: '{"a":1}'
    })
    const scheduled = run({ schedule: "S", result: '{"a":0}' })
    expect(decide(scheduled, { outcome: "succeeded", result: '{"a":1}' }, context)).toMatchObject({
      _tag: "Next",
      next: { result: '{"a":1}' }
    })
    expect(
      decide({ ...scheduled, retriesErrorCount: 2 }, { outcome: "failed", error: "e", retry: true }, context)
    ).toMatchObject({ _tag: "Next", outcome: "failed", next: { result: '{"a":0}' } })
  })
})
