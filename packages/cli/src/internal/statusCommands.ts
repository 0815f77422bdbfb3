/**
 * The commands that show what a cluster does: `jobss instances`, `jobss schedules` and `jobss stats`
 * (counts by status, job and queue; attempts per minute).
 */
import { Command } from "@effect/cli"
import { Admin, Scheduler } from "@jobss/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { cell, printJson, printTable } from "./output.js"
import { connection, given, json, optionalInteger, optionalText, withScheduler } from "./shared.js"

/** `jobss instances`. */
export const instances = Command.make(
  "instances",
  {
    ...connection,
    json,
    limit: optionalInteger("limit", `The most instances shown, 1 to ${Admin.maxPageSize} (default 100)`)
  },
  (c) =>
    withScheduler(
      c,
      Effect.gen(function* () {
        const limit = given(c.limit)
        const found = yield* Scheduler.listInstances(limit === undefined ? {} : { limit })
        if (c.json) return yield* printJson(found)
        yield* printTable(
          ["ID", "NAME", "ALIVE", "WORKERS", "LAST SEEN", "STARTED", "SUCCEEDED", "ERRORS", "JOBS"],
          found.map((i) => [
            i.id,
            cell(i.name, 30),
            i.alive ? "yes" : "no",
            String(i.workers),
            cell(i.lastSeenAt),
            String(i.counters.runsStarted),
            String(i.counters.runsSucceeded),
            String(i.counters.runsErrors),
            cell(i.jobs)
          ]),
          "No instances"
        )
      })
    )
).pipe(Command.withDescription("Lists the instances seen last, alive or gone, with their counters"))

/** `jobss schedules`. */
export const schedules = Command.make(
  "schedules",
  {
    ...connection,
    json,
    limit: optionalInteger(
      "limit",
      `The most recurring runs shown, 1 to ${Admin.maxPageSize} (default ${Admin.defaultPageSize})`
    ),
    cursor: optionalText("cursor", "Go on from the cursor a previous page printed")
  },
  (c) =>
    withScheduler(
      c,
      Effect.gen(function* () {
        const limit = given(c.limit)
        const cursor = given(c.cursor)
        const page = yield* Scheduler.listSchedules({
          ...(limit === undefined ? {} : { limit }),
          ...(cursor === undefined ? {} : { cursor })
        })
        if (c.json) return yield* printJson(page)
        yield* printTable(
          ["ID", "SCHEDULE", "JOB", "STATUS", "NEXT RUN", "SUCCEEDED", "PREVIOUS"],
          page.schedules.map((s) => [
            s.originId,
            cell(s.schedule, 30),
            cell(s.job, 30),
            s.status,
            cell(s.nextRunAt),
            String(s.runSuccessCount),
            cell(
              s.previous === undefined
                ? undefined
                : `${s.previous.status}${s.previous.error === undefined ? "" : `: ${s.previous.error}`}`
            )
          ]),
          "No recurring runs"
        )
        if (page.cursor !== undefined) yield* Console.log(`More: --cursor ${page.cursor}`)
      })
    )
).pipe(Command.withDescription("Lists recurring runs: next due time and how the previous occurrence ended"))

/** `jobss stats`. */
export const stats = Command.make(
  "stats",
  {
    ...connection,
    json,
    minutes: optionalInteger(
      "minutes",
      `The throughput window in minutes, 1 to ${Admin.maxThroughputMinutes} (default 60)`
    )
  },
  (c) =>
    withScheduler(
      c,
      Effect.gen(function* () {
        const minutes = given(c.minutes)
        const counts = yield* Scheduler.countRuns
        const throughput = yield* Scheduler.runThroughput(minutes === undefined ? {} : { minutes })
        if (c.json) return yield* printJson({ counts, throughput })
        const columns = ["pending", "running", "succeeded", "failed", "cancelled"] as const
        // the total, then each status; a lower bound (a count that reached `Admin.maxCount`) ends in "+"
        const figures = (group: Admin.JobCounts | Admin.QueueCounts | Admin.RunCounts): Array<string> => [
          `${group.total}${group.capped.length > 0 ? "+" : ""}`,
          ...columns.map((s) => `${group.byStatus[s]}${group.capped.includes(s) ? "+" : ""}`)
        ]
        yield* printTable(
          ["JOB", "TOTAL", ...columns.map((s) => s.toUpperCase())],
          [...counts.byJob.map((j) => [cell(j.job, 40), ...figures(j)]), ["(all)", ...figures(counts)]],
          "No runs"
        )
        if (counts.byQueue.length > 0) {
          yield* Console.log("")
          yield* printTable(
            ["QUEUE", "TOTAL", ...columns.map((s) => s.toUpperCase())],
            counts.byQueue.map((q) => [cell(q.queue, 40), ...figures(q)]),
            "No runs in queues"
          )
        }
        yield* Console.log("")
        const active = throughput.filter((m) => m.succeeded + m.failed + m.retried + m.timedOut > 0)
        yield* printTable(
          ["MINUTE", "SUCCEEDED", "FAILED", "RETRIED", "TIMED OUT"],
          active.map((m) => [
            cell(m.minute),
            String(m.succeeded),
            String(m.failed),
            String(m.retried),
            String(m.timedOut)
          ]),
          `No attempt ended in the last ${throughput.length} minutes`
        )
      })
    )
).pipe(Command.withDescription("Counts runs by job, queue and status, and attempts per minute"))
