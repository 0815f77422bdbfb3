/**
 * Named schedules: each says when the next occurrence of a recurring run is due.
 * An instance claims scheduled runs only for the schedules it was given
 * (`JobsS.layer({ schedules })`), because the next time is computed in code.
 *
 * `JobSchedule.ts` re-exports this module: the runtime's internals import it from here.
 */
import * as Cron from "effect/Cron"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as ErrorText from "./errorText.js"
import { InvalidRunOptions } from "./errors.js"
import * as Names from "./names.js"

/** A named rule giving the next due time from the current time. */
export type JobSchedule = CustomSchedule | CronSchedule | SpacedSchedule

/**
 * What happens to occurrences that were due while no instance could run them (an occurrence is
 * missed when the schedule's following occurrence is already due when it starts):
 * - `"runOnce"` (default): run the missed occurrence once, then continue from now;
 * - `"skip"`: do not run it (it ends `cancelled`), continue with the next future occurrence;
 * - `{ catchUp: n }`: run every missed occurrence, one after the other, but at most the last `n`.
 */
export type MissedPolicy =
  | "runOnce"
  | "skip"
  | {
      /** Run at most this many of the missed occurrences, the most recent ones (a positive integer). */
      readonly catchUp: number
    }

interface Common {
  /**
   * The schedule's name (1 to 255 characters). Runs store it, and an instance claims a scheduled run
   * only when it was given a schedule of that name, so every process must use the same name.
   */
  readonly name: string
  /** What to do with occurrences missed while no instance ran them. */
  readonly missed: MissedPolicy
}

/** A schedule computed by a user function. */
export interface CustomSchedule extends Common {
  /** Marks a schedule computed by `next`. */
  readonly _tag: "Custom"
  /**
   * The next due time after `now`; it must return a valid `Date` later than `now`. When it throws or
   * returns anything else, `createRun` fails with `InvalidRunOptions`, or the occurrence being ended
   * fails with that message and the run stops.
   */
  readonly next: (now: Date) => Date
}

/** A schedule following a cron expression (5 or 6 fields), optionally in a time zone. */
export interface CronSchedule extends Common {
  /** Marks a cron schedule. */
  readonly _tag: "Cron"
  /** The cron expression: 5 fields (minute, hour, day of month, month, day of week) or 6 (seconds first). */
  readonly expression: string
  /**
   * The time zone the expression is read in (an IANA name such as `"Europe/Paris"`); `undefined` reads
   * it at the UTC offset of the process computing the next time.
   */
  readonly tz: string | undefined
}

/** A schedule with a fixed spacing between occurrences. */
export interface SpacedSchedule extends Common {
  /** Marks a schedule with a fixed spacing. */
  readonly _tag: "Spaced"
  /**
   * The spacing, a positive `DurationInput`: the first occurrence is due `every` after the time the
   * run is created for (`now + delay`), each later one `every` after the previous one ended.
   */
  readonly every: Duration.DurationInput
}

/** Options every schedule takes. */
export interface CommonOptions {
  /** The schedule's name (1 to 255 characters), the same in every process that uses the schedule. */
  readonly name: string
  /** What to do with occurrences missed while no instance ran (default `"runOnce"`). */
  readonly missed?: MissedPolicy
}

/** A schedule computed by `next(now)`, which must return a valid date after `now`. */
export const make = (options: CommonOptions & { readonly next: (now: Date) => Date }): CustomSchedule => ({
  _tag: "Custom",
  name: options.name,
  missed: options.missed ?? "runOnce",
  next: options.next
})

/** A cron schedule, e.g. `cron({ name: "Nightly", expression: "0 3 * * *", tz: "Europe/Paris" })`. */
export const cron = (options: CommonOptions & { readonly expression: string; readonly tz?: string }): CronSchedule => ({
  _tag: "Cron",
  name: options.name,
  missed: options.missed ?? "runOnce",
  expression: options.expression,
  tz: options.tz
})

/** A schedule due every `every` after the current time, e.g. `spaced({ name: "EverySecond", every: "1 second" })`. */
export const spaced = (options: CommonOptions & { readonly every: Duration.DurationInput }): SpacedSchedule => ({
  _tag: "Spaced",
  name: options.name,
  missed: options.missed ?? "runOnce",
  every: options.every
})

/** Why a missed policy is invalid, or `undefined` when it is one of the three kinds. */
const missedProblem = (missed: unknown): string | undefined => {
  if (missed === "runOnce" || missed === "skip") return undefined
  if (typeof missed === "object" && missed !== null && "catchUp" in missed) {
    const catchUp: unknown = missed.catchUp
    return typeof catchUp === "number" && Number.isSafeInteger(catchUp) && catchUp >= 1
      ? undefined
      : `missed.catchUp must be a positive integer, got ${Names.quote(catchUp)}`
  }
  return `missed must be "runOnce", "skip" or { catchUp: n }, got ${Names.quote(missed)}`
}

/** Why a schedule's own rule is unusable (cron expression and zone, spacing, function), or `undefined`. */
const ruleProblem = (schedule: JobSchedule): string | undefined => {
  switch (schedule._tag) {
    case "Cron":
      if (typeof schedule.expression !== "string") {
        return `expression must be a cron expression, got ${Names.quote(schedule.expression)}`
      }
      if (schedule.tz !== undefined && typeof schedule.tz !== "string") {
        return `tz must be a time zone name, got ${Names.quote(schedule.tz)}`
      }
      return Either.match(Cron.parse(schedule.expression, schedule.tz), {
        onLeft: (error) => `invalid cron expression "${schedule.expression}": ${error.message}`,
        onRight: () => undefined
      })
    case "Spaced": {
      const every = Duration.decodeUnknown(schedule.every)
      return every._tag === "Some" && Duration.isFinite(every.value) && Duration.toMillis(every.value) >= 1
        ? undefined
        : `"every" must be a finite duration of at least 1 millisecond, got ${Names.quote(schedule.every)}`
    }
    case "Custom":
      return typeof schedule.next === "function" ? undefined : "next must be a function"
    default:
      return "it is not a schedule made by JobSchedule.make, cron or spaced"
  }
}

/**
 * Checks that a schedule is usable: a valid name, a parsable cron expression and time zone, a
 * finite spacing of at least 1 ms, a valid missed policy. Every kind of schedule is checked alike.
 */
export const validate = (schedule: JobSchedule): Either.Either<JobSchedule, InvalidRunOptions> => {
  if (typeof schedule !== "object" || schedule === null) {
    return Either.left(
      new InvalidRunOptions({ message: `A schedule must be a JobSchedule, got ${Names.quote(schedule)}` })
    )
  }
  const nameProblem = Names.check("schedule name", schedule.name)
  if (nameProblem !== undefined) return Either.left(new InvalidRunOptions({ message: nameProblem }))
  const problem = ruleProblem(schedule) ?? missedProblem(schedule.missed)
  return problem === undefined
    ? Either.right(schedule)
    : Either.left(new InvalidRunOptions({ message: `Schedule ${schedule.name}: ${problem}` }))
}

/**
 * The next due time after `now`, in epoch milliseconds. A custom `next` that throws, or returns
 * something that is not a valid date, yields an `InvalidRunOptions` error instead of a crash.
 */
export const nextRunAt = (schedule: JobSchedule, now: number): Either.Either<number, InvalidRunOptions> => {
  const invalid = (why: string) => Either.left(new InvalidRunOptions({ message: `Schedule ${schedule.name}: ${why}` }))
  switch (schedule._tag) {
    case "Spaced": {
      const problem = ruleProblem(schedule)
      return problem === undefined
        ? Either.right(now + Duration.toMillis(Duration.decode(schedule.every)))
        : invalid(problem)
    }
    case "Cron":
      return Either.flatMap(
        Either.mapLeft(
          Cron.parse(schedule.expression, schedule.tz),
          (error) => new InvalidRunOptions({ message: `Schedule ${schedule.name}: ${error.message}` })
        ),
        (parsed) => {
          try {
            return Either.right(Cron.next(parsed, new Date(now)).getTime())
          } catch {
            // an expression no date matches (`0 0 30 2 *`): Cron.next throws
            return invalid(
              `the cron expression "${schedule.expression}" has no occurrence after ${new Date(now).toISOString()}`
            )
          }
        }
      )
    case "Custom": {
      let next: unknown
      try {
        next = schedule.next(new Date(now))
      } catch (error) {
        return invalid(`next() threw: ${ErrorText.fromValue(error)}`)
      }
      if (!(next instanceof Date) || Number.isNaN(next.getTime())) {
        return invalid("next() returned an invalid date")
      }
      if (next.getTime() <= now) {
        return invalid(`next() returned ${next.toISOString()}, which is not after ${new Date(now).toISOString()}`)
      }
      return Either.right(next.getTime())
    }
  }
}

/** True when the occurrence due at `dueAt` was missed: the schedule's following occurrence is already due at `now`. */
export const isMissed = (schedule: JobSchedule, dueAt: number, now: number): boolean =>
  Either.match(nextRunAt(schedule, dueAt), { onLeft: () => false, onRight: (following) => following <= now })

/** The most missed occurrences looked at when catching up; beyond it the schedule continues from now. */
const catchUpScanLimit = 10_000

/**
 * The due time of the occurrence after one that was due at `dueAt` and ended at `now`, following the
 * schedule's missed policy: from `now` by default; when catching up, the schedule's own cadence from
 * `dueAt` (the oldest of the last `n` missed occurrences, or the next future one).
 */
export const followingRunAt = (
  schedule: JobSchedule,
  dueAt: number,
  now: number
): Either.Either<number, InvalidRunOptions> => {
  const missed = schedule.missed
  if (typeof missed !== "object") return nextRunAt(schedule, now)
  const due: Array<number> = []
  let at = dueAt
  while (due.length < catchUpScanLimit) {
    const next = nextRunAt(schedule, at)
    if (Either.isLeft(next)) return next
    if (next.right > now) break
    due.push(next.right)
    at = next.right
  }
  if (due.length === 0) return nextRunAt(schedule, dueAt)
  if (due.length >= catchUpScanLimit) return nextRunAt(schedule, now)
  const oldest = due[Math.max(0, due.length - missed.catchUp)]
  return oldest === undefined
    ? Either.left(new InvalidRunOptions({ message: `Schedule ${schedule.name}: ${missedProblem(missed)}` }))
    : Either.right(oldest)
}
