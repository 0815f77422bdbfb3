/**
 * The runs page: the filters of `listRuns` read from the query string (bounded: each text at most
 * `maxFilterLength` characters, at most `maxPageSize` runs a page), the page of runs, and a bulk form
 * whose buttons retry, cancel or delete the selected runs.
 */
import { Admin, Scheduler } from "@jobss/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { type Html, html, when } from "./html.js"
import { type PageContext, csrfInput, page, status, table } from "./layout.js"

/** The most runs one page of the dashboard shows. */
export const maxPageSize = 200

/** The longest text of one filter. */
export const maxFilterLength = 255

const statuses = ["pending", "running", "succeeded", "failed", "cancelled"] as const

/** A filter the dashboard refuses (the page answers 400 with the message). */
export interface BadFilter {
  /** What is wrong: the field, the value and the rule. */
  readonly message: string
}

type Status = (typeof statuses)[number]

const isStatus = (value: string): value is Status => (statuses as ReadonlyArray<string>).includes(value)

const dateOf = (field: string, value: string): Either.Either<Date, BadFilter> => {
  const date = new Date(/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(value) ? `${value}Z` : value)
  return Number.isNaN(date.getTime())
    ? Either.left({ message: `${field} must be a date (ISO 8601, UTC), got ${JSON.stringify(value)}` })
    : Either.right(date)
}

/** The `listRuns` options a query string asks for, or why they are refused. */
export const filtersOf = (query: URLSearchParams, hideArgs: boolean): Either.Either<Admin.ListRunsOptions, BadFilter> =>
  Either.gen(function* () {
    const options: { -readonly [K in keyof Admin.ListRunsOptions]: Admin.ListRunsOptions[K] } = {}
    const wanted = query.getAll("status").filter((s) => s !== "")
    const bad = wanted.find((s) => !isStatus(s))
    if (bad !== undefined) {
      return yield* Either.left({ message: `status must be one of ${statuses.join(", ")}, got ${JSON.stringify(bad)}` })
    }
    if (wanted.length > 0) options.status = wanted as ReadonlyArray<Status>
    for (const [key, value] of query) {
      if (key !== "status" && value.length > maxFilterLength) {
        return yield* Either.left({ message: `${key} must be at most ${maxFilterLength} characters` })
      }
    }
    const text = (key: string) => {
      const value = query.get(key)
      return value === null || value === "" ? undefined : value
    }
    const job = text("job")
    const queue = text("queue")
    const name = text("name")
    const argsContains = text("argsContains")
    const cursor = text("cursor")
    if (job !== undefined) options.job = job
    if (queue !== undefined) options.queue = queue
    if (name !== undefined) options.name = name
    if (cursor !== undefined) options.cursor = cursor
    if (argsContains !== undefined) {
      if (hideArgs) return yield* Either.left({ message: "argsContains is not available: arguments are hidden" })
      options.argsContains = argsContains
    }
    const after = text("createdAfter")
    const before = text("createdBefore")
    if (after !== undefined) options.createdAfter = yield* dateOf("createdAfter", after)
    if (before !== undefined) options.createdBefore = yield* dateOf("createdBefore", before)
    const limit = text("limit")
    if (limit !== undefined) {
      const n = Number(limit)
      if (!Number.isInteger(n) || n < 1 || n > maxPageSize) {
        return yield* Either.left({
          message: `limit must be an integer from 1 to ${maxPageSize}, got ${JSON.stringify(limit)}`
        })
      }
      options.limit = n
    }
    return options
  })

/** The query string of filters, without the cursor (the form's values and the next page's base). */
const queryOf = (query: URLSearchParams): URLSearchParams => {
  const kept = new URLSearchParams()
  for (const [key, value] of query)
    if (!["cursor", "notice", "changed", "of"].includes(key) && value !== "") kept.append(key, value)
  return kept
}

const field = (label: string, key: string, query: URLSearchParams, type = "text"): Html =>
  html`<label>${label} <input type="${type}" name="${key}" value="${query.get(key) ?? ""}" maxlength="${maxFilterLength}"></label>`

/** The filter form. */
const filterForm = (ctx: PageContext, query: URLSearchParams): Html => {
  const chosen = new Set(query.getAll("status"))
  return html`<form class="filters" method="get" action="${ctx.base}/runs" role="search" aria-label="Filter runs">
<fieldset><legend>Status</legend>${statuses.map(
    (s) =>
      html`<label><input type="checkbox" name="status" value="${s}"${chosen.has(s) ? html` checked` : ""}> ${s}</label>`
  )}</fieldset>
${field("Job", "job", query)}${field("Queue", "queue", query)}${field("Unique name", "name", query)}
${ctx.hideArgs ? "" : field("Arguments contain", "argsContains", query)}
${field("Created after", "createdAfter", query)}${field("Created before", "createdBefore", query)}
${field("Page size", "limit", query, "number")}
<button type="submit">Filter</button> <a href="${ctx.base}/runs">Clear filters</a></form>`
}

/** The runs page for a query string. */
export const runsPage = (ctx: PageContext, query: URLSearchParams, options: Admin.ListRunsOptions, notice?: string) =>
  Effect.gen(function* () {
    const result = yield* Scheduler.listRuns({ limit: Admin.defaultPageSize, ...options })
    const filters = queryOf(query)
    const select = ctx.readOnly
      ? []
      : [html`<input type="checkbox" data-select-all aria-label="Select every run on this page">`]
    const rows = result.runs.map((run) => [
      ...(ctx.readOnly
        ? []
        : [html`<input type="checkbox" name="id" value="${run.originId}" aria-label="Select run ${run.originId}">`]),
      html`<a href="${ctx.base}/runs/${encodeURIComponent(run.originId)}">${run.originId}</a>`,
      run.job,
      status(run.status),
      when(run.runAt),
      run.runTotalCount,
      when(run.createdAt),
      run.runCompletedError ?? ""
    ])
    const list = table(
      "Runs, newest first",
      [...select, "Run", "Job", "Status", "Run at", "Attempts", "Created", "Error"],
      rows,
      "No runs match these filters"
    )
    const next =
      result.cursor === undefined
        ? ""
        : html`<p><a href="${ctx.base}/runs?${new URLSearchParams([...filters, ["cursor", result.cursor]]).toString()}">Next page</a></p>`
    const body = ctx.readOnly
      ? html`${filterForm(ctx, query)}${list}${next}`
      : html`${filterForm(ctx, query)}<form method="post" action="${ctx.base}/runs/retry" aria-label="Selected runs">
${csrfInput(ctx)}<input type="hidden" name="filters" value="${filters.toString()}">
<p><button type="submit" formaction="${ctx.base}/runs/retry">Retry selected</button>
<button type="submit" formaction="${ctx.base}/runs/cancel">Cancel selected</button>
<button type="submit" formaction="${ctx.base}/runs/delete">Delete selected</button></p>
${list}</form>${next}`
    return page(ctx, "/runs", "Runs", body, notice)
  })
