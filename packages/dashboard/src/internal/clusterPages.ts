/**
 * The queues page (limits, paused flag, running and pending runs, Pause and Resume), the schedules
 * page (recurring runs: next due time, previous outcome; paged) and the instances page.
 */
import { Admin, Scheduler } from "@jobss/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { html, when } from "./html.js"
import { type PageContext, actionButton, page, status, table } from "./layout.js"

const limit = (value: number | undefined): string => (value === undefined ? "unlimited" : String(value))

/** The queues page. */
export const queuesPage = (ctx: PageContext, notice?: string) =>
  Effect.gen(function* () {
    const queues = yield* Scheduler.listQueues
    const rows = queues.map((q) => [
      html`<a href="${ctx.base}/runs?queue=${encodeURIComponent(q.name)}">${q.name}</a>`,
      q.paused ? "paused" : "active",
      q.running,
      q.pending,
      q.defined ? limit(q.concurrency) : "not defined by any instance",
      limit(q.workerConcurrency),
      q.rateLimit === undefined ? "unlimited" : `${q.rateLimit.limit} per ${Duration.format(q.rateLimit.period)}`,
      q.partitioned ? "yes" : "no",
      ...(ctx.readOnly
        ? []
        : [
            q.paused
              ? actionButton(ctx, `/queues/${encodeURIComponent(q.name)}/resume`, "Resume", `Resume queue ${q.name}`)
              : actionButton(ctx, `/queues/${encodeURIComponent(q.name)}/pause`, "Pause", `Pause queue ${q.name}`)
          ])
    ])
    const body = table(
      "Queues",
      [
        "Queue",
        "State",
        "Running",
        "Pending",
        "Concurrency",
        "Per instance",
        "Rate limit",
        "Partitioned",
        ...(ctx.readOnly ? [] : ["Action"])
      ],
      rows,
      "No queues"
    )
    return page(ctx, "/queues", "Queues", body, notice)
  })

/** The schedules page, from `cursor` on. */
export const schedulesPage = (ctx: PageContext, cursor: string | undefined) =>
  Effect.gen(function* () {
    const result = yield* Scheduler.listSchedules({
      limit: Admin.defaultPageSize,
      ...(cursor === undefined ? {} : { cursor })
    })
    const body = html`${table(
      "Recurring runs",
      ["Run", "Schedule", "Job", "Status", "Next run", "Succeeded", "Previous"],
      result.schedules.map((s) => [
        html`<a href="${ctx.base}/runs/${encodeURIComponent(s.originId)}">${s.originId}</a>`,
        s.schedule,
        s.job,
        status(s.status),
        when(s.nextRunAt),
        s.runSuccessCount,
        s.previous === undefined
          ? "-"
          : `${s.previous.status}${s.previous.error === undefined ? "" : `: ${s.previous.error}`}`
      ]),
      "No recurring runs"
    )}${
      result.cursor === undefined
        ? ""
        : html`<p><a href="${ctx.base}/schedules?cursor=${encodeURIComponent(result.cursor)}">Next page</a></p>`
    }`
    return page(ctx, "/schedules", "Schedules", body)
  })

/** The instances page: the last seen first, alive or gone. */
export const instancesPage = (ctx: PageContext) =>
  Effect.gen(function* () {
    const instances = yield* Scheduler.listInstances({ limit: 100 })
    const body = table(
      "Instances, last seen first",
      ["Name", "Id", "Alive", "Workers", "Last seen", "Started", "Runs started", "Succeeded", "Errors", "Jobs"],
      instances.map((i) => [
        i.name,
        i.id,
        i.alive ? "yes" : "no",
        i.workers,
        when(i.lastSeenAt),
        when(i.startedAt),
        i.counters.runsStarted,
        i.counters.runsSucceeded,
        i.counters.runsErrors,
        i.jobs.join(", ")
      ]),
      "No instances"
    )
    return page(ctx, "/instances", "Instances", body)
  })
