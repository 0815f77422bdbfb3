/**
 * The admin API of `Scheduler` over a store (`JobStoreShape.admin`): validation of its callers'
 * input (typed errors naming the field, the value and the rule), the opaque cursors, and the
 * public shapes built from the store's rows.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { JobStoreShape } from "../JobStore.js"
import * as Api from "./adminApi.js"
import { countRuns, listQueues } from "./adminCounts.js"
import { InvalidAdminQuery, RunActionRefused } from "./adminErrors.js"
import type { RunChange, RunKey, ScheduleKey } from "./adminTypes.js"
import { type JobStoreError, RunNotFound } from "./errors.js"
import * as Names from "./names.js"
import * as RunId from "./runId.js"
import { type RunStatus, runStatuses } from "./runRow.js"
import * as RunState from "./runState.js"
import type { StoreClock } from "./storeClock.js"

/** What the admin API needs from the scheduler it belongs to. */
export interface AdminContext {
  readonly store: JobStoreShape
  /** The store's clock (instance liveness and throughput windows are measured on it). */
  readonly clock: StoreClock
  /** Told when runs became due now (a full instance wakes its poller). */
  readonly onDue: (runAt: number) => Effect.Effect<void>
}

type Checked<A> = Either.Either<A, InvalidAdminQuery>

const refuse = (message: string): Checked<never> => Either.left(new InvalidAdminQuery({ message }))

/** An optional integer option from 1 to `max`. */
export const limitOf = (field: string, value: unknown, fallback: number, max: number): Checked<number> =>
  value === undefined
    ? Either.right(fallback)
    : typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= max
      ? Either.right(value)
      : refuse(`${field} must be an integer from 1 to ${max}, got ${Names.quote(value)}`)

const nameOf = (field: string, value: string | undefined): Checked<string | null> => {
  if (value === undefined) return Either.right(null)
  const problem = Names.check(field, value)
  return problem === undefined ? Either.right(value) : refuse(problem)
}

const dateOf = (field: string, value: Date | undefined): Checked<number | null> =>
  value === undefined
    ? Either.right(null)
    : value instanceof Date && !Number.isNaN(value.getTime())
      ? Either.right(value.getTime())
      : refuse(`${field} must be a valid Date, got ${Names.quote(value)}`)

const isStatus = (value: unknown): value is RunStatus =>
  typeof value === "string" && (runStatuses as ReadonlyArray<string>).includes(value)

const statusesOf = (value: ListStatus): Checked<ReadonlyArray<RunStatus>> => {
  if (value === undefined) return Either.right([])
  const list: ReadonlyArray<unknown> = Array.isArray(value) ? value : [value]
  const bad = list.find((status) => !isStatus(status))
  if (list.length === 0 || bad !== undefined) {
    return refuse(
      `status must be one of ${runStatuses.join(", ")} (or a non-empty list of them), got ${Names.quote(bad ?? "an empty list")}`
    )
  }
  return Either.right([...new Set(list as ReadonlyArray<RunStatus>)])
}

type ListStatus = Api.ListRunsOptions["status"]

/** The longest `argsContains` text. */
const maxArgsText = 1000

const argsTextOf = (value: string | undefined): Checked<string | null> =>
  value === undefined
    ? Either.right(null)
    : typeof value === "string" && value.length >= 1 && value.length <= maxArgsText
      ? Either.right(value)
      : refuse(`argsContains must be text of 1 to ${maxArgsText} characters, got ${Names.quote(value)}`)

/** Cursors are opaque to callers: base64url JSON of a tag and the key where the next page starts. */
const encodeCursor = (parts: ReadonlyArray<string | number>): string =>
  Buffer.from(JSON.stringify(parts), "utf8").toString("base64url")

const decodeCursor = <A>(
  value: unknown,
  read: (parts: ReadonlyArray<unknown>) => A | undefined,
  of: string
): Checked<A | null> => {
  if (value === undefined) return Either.right(null)
  const bad = refuse(`cursor must be the cursor of a previous page of ${of}, got ${Names.quote(value)}`)
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]{1,2000}$/.test(value)) return bad
  let parts: unknown
  try {
    parts = JSON.parse(Buffer.from(value, "base64url").toString("utf8"))
  } catch {
    return bad
  }
  const key = Array.isArray(parts) ? read(parts) : undefined
  return key === undefined ? bad : Either.right(key)
}

const runCursor = (key: RunKey): string => encodeCursor(["runs", key.createdAt, key.id])

const readRunKey = (parts: ReadonlyArray<unknown>): RunKey | undefined => {
  const [tag, createdAt, id] = parts
  return parts.length === 3 &&
    tag === "runs" &&
    typeof createdAt === "number" &&
    Number.isSafeInteger(createdAt) &&
    RunId.problem(id) === undefined
    ? { createdAt, id: id as string }
    : undefined
}

const scheduleCursor = (key: ScheduleKey): string => encodeCursor(["schedules", key.schedule, key.originId])

const readScheduleKey = (parts: ReadonlyArray<unknown>): ScheduleKey | undefined => {
  const [tag, schedule, originId] = parts
  return parts.length === 3 &&
    tag === "schedules" &&
    Names.check("schedule", schedule) === undefined &&
    RunId.problem(originId) === undefined
    ? { schedule: schedule as string, originId: originId as string }
    : undefined
}

/** The ids of a bulk change: a list of at most `maxBulkIds`. */
const idsOf = (ids: unknown): Checked<ReadonlyArray<string>> =>
  Array.isArray(ids) && ids.length <= Api.maxBulkIds
    ? Either.right(ids as ReadonlyArray<string>)
    : refuse(
        `ids must be a list of at most ${Api.maxBulkIds} run ids, got ${Array.isArray(ids) ? `${ids.length} ids` : Names.quote(ids)}`
      )

type Action = RunActionRefused["action"]

/** A store change of runs by `RunId`. */
type Change = (originIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<RunChange>, JobStoreError>

/** Why `action` does not apply to a run in `status`. */
const refusal = (action: Action, id: string, change: RunChange): RunActionRefused => {
  const status = change.status ?? "unknown"
  const rule =
    change.outcome === "nameTaken"
      ? "its unique name is held by another active run"
      : action === "retry"
        ? "only a failed or cancelled run can be retried"
        : action === "runNow"
          ? "only a pending run can be made due now"
          : "only a finished run (succeeded, failed or cancelled) can be deleted; cancel it first"
  return new RunActionRefused({
    id,
    action,
    status,
    message: `Cannot ${action === "runNow" ? "run now" : action} run ${JSON.stringify(id)}: it is ${status}, and ${rule}`
  })
}

/** Builds the admin part of a `Scheduler` over a store. */
export const make = (context: AdminContext): Api.SchedulerAdmin => {
  const { clock, store } = context
  const admin = store.admin

  /** Runs a store change for well-formed ids (malformed ones are not found), reports per id in order. */
  const bulk = (ids: unknown, change: Change, due: boolean) =>
    Effect.gen(function* () {
      const list = yield* idsOf(ids)
      const wellFormed = [...new Set(list.filter((id) => RunId.problem(id) === undefined))]
      const changes = wellFormed.length === 0 ? [] : yield* change(wellFormed)
      const byId = new Map(changes.map((c) => [c.originId, c]))
      if (due && changes.some((c) => c.outcome === "changed")) yield* context.onDue(yield* clock.now)
      return list.map((id): Api.RunChangeReport => {
        const found = typeof id === "string" ? byId.get(id) : undefined
        return found === undefined
          ? { id: typeof id === "string" ? id : Names.quote(id), result: "notFound", status: undefined }
          : { id, result: found.outcome, status: found.status ?? undefined }
      })
    })

  /** One run's change: `RunNotFound`, `RunActionRefused`, or done. */
  const single = (action: Action, change: Change, due: boolean) => (id: RunId.RunId) =>
    Effect.gen(function* () {
      if (RunId.problem(id) !== undefined)
        return yield* new RunNotFound({ id: typeof id === "string" ? id : Names.quote(id) })
      const [found] = yield* change([id])
      if (found === undefined || found.outcome === "notFound") return yield* new RunNotFound({ id })
      if (found.outcome !== "changed") return yield* refusal(action, id, found)
      if (due) yield* context.onDue(yield* clock.now)
    })

  const listRuns: Api.SchedulerAdmin["listRuns"] = (options = {}) =>
    Effect.gen(function* () {
      const query = {
        statuses: yield* statusesOf(options.status),
        job: yield* nameOf("job", options.job),
        queue: yield* nameOf("queue", options.queue),
        name: yield* nameOf("name", options.name),
        createdAfter: yield* dateOf("createdAfter", options.createdAfter),
        createdBefore: yield* dateOf("createdBefore", options.createdBefore),
        argsContains: yield* argsTextOf(options.argsContains),
        after: yield* decodeCursor(options.cursor, readRunKey, "listRuns"),
        limit: yield* limitOf("limit", options.limit, Api.defaultPageSize, Api.maxPageSize),
        scanLimit: Api.argsScanLimit
      }
      const listing = yield* admin.listRuns(query)
      return {
        runs: listing.runs.map(RunState.fromStored),
        cursor: listing.next === null ? undefined : runCursor(listing.next)
      }
    })

  const listInstances: Api.SchedulerAdmin["listInstances"] = (options = {}) =>
    Effect.gen(function* () {
      const limit = yield* limitOf("limit", options.limit, 100, Api.maxPageSize)
      const instances = yield* admin.instances(limit)
      const now = yield* clock.now
      return instances.map(
        (instance): Api.InstanceState => ({
          id: instance.id,
          name: instance.name,
          alive: instance.shutdownAt === null && now - instance.lastSeenAt <= Api.aliveWithinMs,
          workers: instance.workers,
          jobs: instance.jobs,
          schedules: instance.schedules,
          pollInterval: Duration.millis(instance.pollIntervalMs),
          pollLimit: instance.pollLimit,
          startedAt: new Date(instance.startedAt),
          lastSeenAt: new Date(instance.lastSeenAt),
          shutdownAt: instance.shutdownAt === null ? undefined : new Date(instance.shutdownAt),
          counters: {
            runsStarted: instance.runsStarted,
            runsSucceeded: instance.runsSucceeded,
            runsRescheduled: instance.runsRescheduled,
            runsTimedOut: instance.runsTimedOut,
            runsResurrected: instance.runsResurrected,
            runsErrors: instance.runsErrors
          }
        })
      )
    })

  const listSchedules: Api.SchedulerAdmin["listSchedules"] = (options = {}) =>
    Effect.gen(function* () {
      const limit = yield* limitOf("limit", options.limit, Api.defaultPageSize, Api.maxPageSize)
      const after = yield* decodeCursor(options.cursor, readScheduleKey, "listSchedules")
      const found = yield* admin.schedules(after, limit + 1)
      const page = found.slice(0, limit)
      const last = page.at(-1)
      return {
        schedules: page.map(
          ({ previous, run }): Api.ScheduleState => ({
            originId: RunId.make(run.originId),
            schedule: run.schedule ?? "",
            job: run.job,
            name: run.uniqueName ?? undefined,
            occurrence: run.occurrence,
            status: run.status,
            nextRunAt: new Date(run.runAt),
            runSuccessCount: run.runSuccessCount,
            runSuccessLimit: run.runSuccessLimit ?? undefined,
            previous:
              previous === null
                ? undefined
                : {
                    status: previous.status,
                    completedAt: previous.finishedAt === null ? undefined : new Date(previous.finishedAt),
                    error: previous.error ?? undefined
                  }
          })
        ),
        cursor:
          found.length > limit && last !== undefined
            ? scheduleCursor({ schedule: last.run.schedule ?? "", originId: last.run.originId })
            : undefined
      }
    })

  const runThroughput: Api.SchedulerAdmin["runThroughput"] = (options = {}) =>
    Effect.gen(function* () {
      const minutes = yield* limitOf("minutes", options.minutes, 60, Api.maxThroughputMinutes)
      const now = yield* clock.now
      const first = (Math.floor(now / 60_000) - minutes + 1) * 60_000
      const counts = yield* admin.throughput(first)
      const byMinute = Array.from({ length: minutes }, (_, i) => ({
        minute: new Date(first + i * 60_000),
        succeeded: 0,
        failed: 0,
        retried: 0,
        timedOut: 0
      }))
      for (const { count, minute, outcome } of counts) {
        const entry = byMinute[Math.floor((minute - first) / 60_000)]
        if (
          entry !== undefined &&
          (outcome === "succeeded" || outcome === "failed" || outcome === "retried" || outcome === "timedOut")
        ) {
          entry[outcome] += count
        }
      }
      return byMinute
    })

  return {
    listRuns,
    countRuns: countRuns(store),
    listQueues: listQueues(store),
    retryRun: single("retry", admin.retry, true),
    retryRuns: (ids) => bulk(ids, admin.retry, true),
    runNow: single("runNow", admin.runNow, true),
    runRunsNow: (ids) => bulk(ids, admin.runNow, true),
    deleteRun: single("delete", admin.remove, false),
    deleteRuns: (ids) => bulk(ids, admin.remove, false),
    listInstances,
    listSchedules,
    runThroughput
  }
}
