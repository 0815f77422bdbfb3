/** Schedules: cron with time zones (daylight saving), spacing, user functions that misbehave, and option validation. */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { JobSchedule, JobsSConfig, RetryBackoff } from "../src/index.js"

const next = (schedule: JobSchedule.JobSchedule, iso: string) =>
  Either.getOrThrow(JobSchedule.nextRunAt(schedule, Date.parse(iso)))

describe("schedules", () => {
  it("cron in a time zone keeps local time across daylight-saving changes", () => {
    const nightly = JobSchedule.cron({ name: "Nightly", expression: "0 3 * * *", tz: "Europe/Paris" })
    // Paris is UTC+1 in winter and UTC+2 in summer; 3:00 local stays 3:00 local
    expect(new Date(next(nightly, "2026-03-28T12:00:00Z")).toISOString()).toBe("2026-03-29T01:00:00.000Z")
    expect(new Date(next(nightly, "2026-03-27T12:00:00Z")).toISOString()).toBe("2026-03-28T02:00:00.000Z")
    expect(new Date(next(nightly, "2026-10-24T12:00:00Z")).toISOString()).toBe("2026-10-25T02:00:00.000Z")
    expect(new Date(next(nightly, "2026-10-25T12:00:00Z")).toISOString()).toBe("2026-10-26T02:00:00.000Z")
  })

  it("cron in UTC fires at the start of the next matching minute", () => {
    const everyMinute = JobSchedule.cron({ name: "M", expression: "* * * * *", tz: "UTC" })
    expect(new Date(next(everyMinute, "2026-01-01T00:00:30Z")).toISOString()).toBe("2026-01-01T00:01:00.000Z")
  })

  it("spaced adds its spacing", () => {
    expect(next(JobSchedule.spaced({ name: "S", every: "90 seconds" }), "2026-01-01T00:00:00Z")).toBe(
      Date.parse("2026-01-01T00:01:30Z")
    )
  })

  it("a user function that throws, returns garbage or a past date is an error, not a crash", () => {
    const now = Date.parse("2026-01-01T00:00:00Z")
    const throws = JobSchedule.make({
      name: "Throws",
      next: () => {
        throw new Error("nope")
      }
    })
    const garbage = JobSchedule.make({ name: "Garbage", next: () => new Date(Number.NaN) })
    const past = JobSchedule.make({ name: "Past", next: (at) => new Date(at.getTime() - 1) })
    for (const schedule of [throws, garbage, past]) {
      const result = JobSchedule.nextRunAt(schedule, now)
      expect(Either.isLeft(result)).toBe(true)
    }
    expect(Either.flip(JobSchedule.nextRunAt(throws, now)).pipe(Either.getOrThrow).message).toContain("nope")
  })

  it("refuses invalid cron expressions and zones", () => {
    expect(Either.isLeft(JobSchedule.validate(JobSchedule.cron({ name: "Bad", expression: "61 * * * *" })))).toBe(true)
    expect(
      Either.isLeft(JobSchedule.validate(JobSchedule.cron({ name: "Bad", expression: "* * * * *", tz: "Mars/Base" })))
    ).toBe(true)
    expect(Either.isRight(JobSchedule.validate(JobSchedule.cron({ name: "Ok", expression: "*/5 * * * *" })))).toBe(true)
  })
})

describe("instance options", () => {
  it("applies the documented defaults", () => {
    const config = Either.getOrThrow(JobsSConfig.resolveInstance({}))
    expect(config).toMatchObject({
      workers: 10,
      pollIntervalMs: 5_000,
      pollLimit: 1_000,
      runTimeoutMs: 30 * 60_000,
      retriesErrorLimit: 3,
      retriesTimeoutLimit: 3,
      timeoutCheckMs: 30_000,
      shutdownTimeoutMs: 30_000,
      maxArgsBytes: 1024 * 1024
    })
  })

  it("refuses nonsense with a message naming the option", () => {
    const message = (options: JobsSConfig.InstanceOptions) =>
      Either.flip(JobsSConfig.resolveInstance(options)).pipe(Either.getOrThrow).message
    expect(message({ workers: 0 })).toContain("workers")
    expect(message({ retriesErrorLimit: -2 })).toContain("retriesErrorLimit")
    expect(message({ heartbeatInterval: "1 minute", leaseDuration: "30 seconds" })).toContain("heartbeatInterval")
    const dup = JobSchedule.spaced({ name: "Dup", every: "1 second" })
    expect(message({ schedules: [dup, dup] })).toContain("Dup")
  })

  it("jitters exponential backoff between half and all of the delay", () => {
    const backoff = RetryBackoff.exponential({ base: "1 second" })
    expect(RetryBackoff.delayMillis(backoff, 3, 0)).toBe(2_000)
    expect(RetryBackoff.delayMillis(backoff, 3, 0.999)).toBeLessThanOrEqual(4_000)
    expect(RetryBackoff.delayMillis(RetryBackoff.fixed("3 seconds"), 7, 0.5)).toBe(3_000)
  })
})
