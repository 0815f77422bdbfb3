/** Schedules and a job with a retry backoff, as shown in the README. */
import { Job, JobSchedule, RetryBackoff } from "@jobss/core"
import { Schema } from "effect"

/** The start of the next minute after `now`. */
export const nextMinute = (now: Date): Date => new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 60_000)

export const OnTheMin = JobSchedule.make({ name: "OnTheMin", next: (now) => nextMinute(now) })
export const Nightly = JobSchedule.cron({ name: "Nightly", expression: "0 3 * * *", tz: "Europe/Paris" })
export const EverySecond = JobSchedule.spaced({ name: "EverySecond", every: "1 second" })

// Occurrences missed while no instance ran: skip them, or run (at most the last 24 of) them.
export const Hourly = JobSchedule.cron({ name: "Hourly", expression: "0 * * * *", missed: "skip" })
export const HourlyReport = JobSchedule.cron({ name: "HourlyReport", expression: "0 * * * *", missed: { catchUp: 24 } })

export const Email = Job.make({
  name: "Email",
  args: Schema.Struct({ to: Schema.String }),
  retriesErrorLimit: 8,
  retryBackoff: RetryBackoff.exponential({ base: "1 second", factor: 2, max: "10 minutes" }) // jittered
})
