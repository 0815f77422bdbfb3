/**
 * Dashboard: the time to answer a page of `@jobss/dashboard` on the scale case's largest table
 * (5,000,000 finished runs and 1,000,000 pending ones, plus, added here, 1,000 failed runs and an
 * hour of run history at 1,000 attempts a minute for the overview's charts). The router is served
 * in-process through a web handler, so a figure is the page's queries and rendering, not a network.
 * Pages, interleaved: the overview, the failed runs of a job (the issue's filtered list) and the
 * second page of all succeeded runs (a cursor over the largest status).
 */
import { HttpApp, HttpRouter } from "@effect/platform"
import { Scheduler } from "@jobss/core"
import { JobsSDashboard } from "@jobss/dashboard"
import { median, now, percentile, round } from "../common.js"
import { type BenchContext, rowFor, updateMedians } from "../context.js"
import { pgExec } from "../db.js"
import { BenchNoop, jobssProducer, runsTable } from "../jobss.js"

/** Where the router is mounted (its links start with it). */
const base = "http://bench.local/jobs"

/**
 * Marks `count` of the finished runs failed, and makes an hour of attempts ending now, one every 60 ms:
 * 3,000 failed and retried ones in the run history, and 57,000 successes, which are their runs' rows
 * (succeeded runs whose `finished_at` falls in the hour; the history holds no success).
 */
const addFailuresAndHistory = (url: string, count: number, nowMs: number) =>
  pgExec(
    url,
    `UPDATE ${runsTable} SET status = 'failed', error = 'bench: a failure', finished_at = ${nowMs} - 60000
      WHERE id IN (SELECT id FROM ${runsTable} WHERE status = 'succeeded' ORDER BY id DESC LIMIT ${count})`,
    `UPDATE ${runsTable} SET finished_at = ${nowMs} - recent.n * 3600000 / 57000 FROM (SELECT id, row_number()
        OVER (ORDER BY id DESC) AS n FROM ${runsTable} WHERE status = 'succeeded' ORDER BY id DESC LIMIT 57000) recent
      WHERE ${runsTable}.id = recent.id`,
    `INSERT INTO jobss_run_history (origin_id, run_id, occurrence, job, attempt, started_by, started_at,
        finished_at, outcome, error)
      SELECT md5(g::text), md5(g::text), 0, '${BenchNoop.name}', 1, 'bench-seed', ${nowMs} - g * 60 - 5,
        ${nowMs} - g * 60, CASE WHEN g % 50 = 0 THEN 'failed' ELSE 'retried' END, NULL
      FROM generate_series(1, 60000) AS g WHERE g % 20 = 0`,
    "VACUUM ANALYZE jobss_run_history",
    `VACUUM ANALYZE ${runsTable}`
  )

/** The second page of a list: the first page's "Next page" link. */
const nextPageOf = (html: string): string => {
  const link = /href="([^"]*cursor=[^"]*)">Next page</.exec(html)?.[1]
  if (link === undefined) throw new Error("the runs page has no next page")
  return new URL(link.replaceAll("&amp;", "&"), base).href
}

/** Measures each page's answer time on the store at `url` (PostgreSQL), `requests` times per repetition. */
export const dashboardRequests = async (context: BenchContext, url: string, finished: number): Promise<void> => {
  await addFailuresAndHistory(url, 1_000, Date.now())
  const producer = await jobssProducer("postgres", url)
  try {
    const router = HttpRouter.empty.pipe(
      HttpRouter.mount("/jobs", JobsSDashboard.router()),
      HttpRouter.provideService(Scheduler.Scheduler, producer.scheduler)
    )
    const handler = HttpApp.toWebHandler(router)
    const fetchPage = async (target: string): Promise<{ readonly ms: number; readonly html: string }> => {
      const started = now()
      const response = await handler(new Request(target))
      const html = await response.text()
      if (response.status !== 200) throw new Error(`${target} answered ${response.status}: ${html.slice(0, 200)}`)
      return { ms: now() - started, html }
    }
    const succeededFirst = await fetchPage(`${base}/runs?status=succeeded`)
    const pages = [
      { variant: "overview", label: "overview", target: `${base}/` },
      {
        variant: "failedOfJob",
        label: `runs, status failed and job ${BenchNoop.name}`,
        target: `${base}/runs?status=failed&job=${BenchNoop.name}`
      },
      {
        variant: "succeededPage2",
        label: "runs, status succeeded, second page",
        target: nextPageOf(succeededFirst.html)
      }
    ].map((page) => ({
      ...page,
      row: rowFor(context, {
        case: "dashboard",
        backend: "postgres",
        system: "jobss",
        variant: page.variant,
        label: page.label,
        params: { finished, path: page.target.slice(base.length).replace(/cursor=[^&]*/, "cursor=(of page 1)") }
      })
    }))
    const requests = context.quick ? 5 : 50
    for (let rep = 1; rep <= context.reps; rep++) {
      const times = new Map(pages.map((page) => [page.variant, [] as Array<number>]))
      for (let n = 0; n < requests; n++) {
        for (const page of pages) {
          if (context.interrupted()) return
          times.get(page.variant)!.push((await fetchPage(page.target)).ms)
        }
      }
      for (const page of pages) {
        const ms = times.get(page.variant)!
        page.row.reps.push({ requests, p50Ms: round(percentile(ms, 50), 2), p95Ms: round(percentile(ms, 95), 2) })
        updateMedians(page.row, median)
      }
      context.log(
        `dashboard #${rep}: ${pages.map((page) => `${page.variant} p50 ${page.row.median["p50Ms"]} ms`).join(", ")}`
      )
      await context.save()
    }
  } finally {
    await producer.close()
  }
}
