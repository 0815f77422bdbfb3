/**
 * The overview: runs by status (each a link to the filtered list), by job and by queue; attempts
 * per minute over the last hour (succeeded, and failures: failed, retried, timed out) as charts;
 * the instances alive.
 */
import { Scheduler } from "@jobss/core"
import * as Effect from "effect/Effect"
import { barChart } from "./charts.js"
import { type Html, html, when } from "./html.js"
import { type PageContext, page, table } from "./layout.js"

const statuses = ["pending", "running", "succeeded", "failed", "cancelled"] as const

/** A count with thousands separators, `+` after it when it is a lower bound (`10,000+`). */
export const figure = (count: number, capped: boolean): string => `${count.toLocaleString("en-US")}${capped ? "+" : ""}`

/** The overview page. */
export const overview = (ctx: PageContext) =>
  Effect.gen(function* () {
    const counts = yield* Scheduler.countRuns
    const minutes = yield* Scheduler.runThroughput({ minutes: 60 })
    const instances = (yield* Scheduler.listInstances({ limit: 100 })).filter((i) => i.alive)
    const link = (query: string, text: string | number): Html => html`<a href="${ctx.base}/runs?${query}">${text}</a>`
    const byStatus = (
      filter: string,
      counted: {
        readonly byStatus: { readonly [S in (typeof statuses)[number]]: number }
        readonly capped: ReadonlyArray<string>
      }
    ): ReadonlyArray<Html> =>
      statuses.map((s) => link(`${filter}status=${s}`, figure(counted.byStatus[s], counted.capped.includes(s))))
    const body = html`<section aria-labelledby="by-status"><h2 id="by-status">Runs by status</h2>
<div class="cards">${statuses.map(
      (s) =>
        html`<div class="card">${s}<b>${link(`status=${s}`, figure(counts.byStatus[s], counts.capped.includes(s)))}</b></div>`
    )}<div class="card">total<b>${figure(counts.total, counts.capped.length > 0)}</b></div></div></section>
<section aria-labelledby="throughput"><h2 id="throughput">Last hour</h2>
${barChart(
  "Succeeded",
  "throughput",
  minutes.map((m) => ({ label: m.minute.toISOString(), value: m.succeeded }))
)}
${barChart(
  "Failures",
  "failures",
  minutes.map((m) => ({ label: m.minute.toISOString(), value: m.failed + m.retried + m.timedOut }))
)}</section>
<section aria-labelledby="by-job"><h2 id="by-job">By job</h2>${table(
      "Runs by job and status",
      ["Job", "Total", ...statuses],
      counts.byJob.map((j) => [
        link(`job=${encodeURIComponent(j.job)}`, j.job),
        figure(j.total, j.capped.length > 0),
        ...byStatus(`job=${encodeURIComponent(j.job)}&`, j)
      ]),
      "No runs"
    )}</section>
<section aria-labelledby="by-queue"><h2 id="by-queue">By queue</h2>${table(
      "Runs by queue and status",
      ["Queue", "Total", ...statuses],
      counts.byQueue.map((q) => [
        link(`queue=${encodeURIComponent(q.queue)}`, q.queue),
        figure(q.total, q.capped.length > 0),
        ...byStatus(`queue=${encodeURIComponent(q.queue)}&`, q)
      ]),
      "No runs in queues"
    )}</section>
<section aria-labelledby="alive"><h2 id="alive">Instances alive (${instances.length})</h2>${table(
      "Instances alive",
      ["Name", "Id", "Workers", "Last seen", "Jobs"],
      instances.map((i) => [i.name, i.id, i.workers, when(i.lastSeenAt), i.jobs.join(", ")]),
      "No instance is alive"
    )}</section>`
    return page(ctx, "", "Overview", body)
  })
