/**
 * The dashboard's routes: GET pages and POST actions under the thing they act on. Every request
 * passes `auth` first (401); every POST is refused (403) in read-only mode, without the CSRF token,
 * or when a browser says it comes from another site; then it acts and redirects (303) to the page
 * it came from with a notice. Errors are pages with their status: 400 bad input, 404 not found,
 * 409 refused by the run's status, 500 a store failure.
 */
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { type RunId, Scheduler } from "@jobss/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { instancesPage, queuesPage, schedulesPage } from "./clusterPages.js"
import type { DashboardUnauthorized } from "./errors.js"
import type { Html } from "./html.js"
import { type PageContext, page, problem } from "./layout.js"
import { overview } from "./overviewPage.js"
import { runPage } from "./runPage.js"
import { filtersOf, maxPageSize, runsPage } from "./runsPage.js"
import * as Security from "./security.js"

/** The settings the routes run with. */
export interface RouteSettings {
  /** Accepts or refuses each request; `undefined`: every request is accepted. */
  readonly auth: Effect.Effect<void, DashboardUnauthorized, HttpServerRequest.HttpServerRequest> | undefined
  /** No action shown, every POST refused. */
  readonly readOnly: boolean
  /** No arguments or results shown. */
  readonly hideArgs: boolean
  /** The secret of the CSRF token. */
  readonly secret: string
  /** The pages' title. */
  readonly title: string
}

/** A failure shown as a page with its status. */
interface Failure {
  /** What failed: the status it is shown with (`statusOf`). */
  readonly _tag: string
  /** What the page says. */
  readonly message: string
}

const statusOf: Record<string, number> = {
  BadFilter: 400,
  InvalidAdminQuery: 400,
  InvalidQueue: 400,
  RunNotFound: 404,
  RunActionRefused: 409,
  Forbidden: 403
}

/** The notices an action's redirect may ask for (a code, never text from the request). */
const notices: Record<string, string> = {
  retried: "Retried: the run is pending again",
  cancelled: "Cancel requested",
  deleted: "Deleted",
  due: "The run is due now",
  paused: "Queue paused: no instance starts its runs",
  resumed: "Queue resumed",
  bulk: "Done for the selected runs"
}

/** Where the dashboard is mounted: the original path without the path the router sees. */
const baseOf = (request: HttpServerRequest.HttpServerRequest): string => {
  const path = (url: string) => url.split("?")[0]!.split("#")[0]!
  const original = path(request.originalUrl)
  const seen = path(request.url)
  if (seen === "/" || seen === "") return original.replace(/\/+$/, "")
  return original.endsWith(seen) ? original.slice(0, original.length - seen.length).replace(/\/+$/, "") : ""
}

const respond = (body: Html | string, status: number, nonce: string) =>
  HttpServerResponse.text(typeof body === "string" ? body : body.value, {
    status,
    contentType: "text/html; charset=utf-8",
    headers: Security.pageHeaders(nonce)
  })

/** The routes over `settings`. */
export const make = (settings: RouteSettings): HttpRouter.HttpRouter<never, Scheduler.Scheduler> => {
  const csrf = Security.csrfToken(settings.secret)

  const failurePage = (ctx: PageContext, failure: Failure) => {
    const status = statusOf[failure._tag] ?? 500
    const heading = status === 404 ? "Not found" : status === 500 ? "Error" : "Refused"
    return respond(page(ctx, "", heading, problem(failure.message)), status, ctx.nonce)
  }

  /** Authenticates, builds the page context, runs `handle`; failures become pages. */
  const guarded = <E extends Failure>(
    handle: (
      ctx: PageContext,
      request: HttpServerRequest.HttpServerRequest
    ) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, Scheduler.Scheduler | HttpRouter.RouteContext>
  ) =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const ctx: PageContext = {
        base: baseOf(request),
        csrf,
        readOnly: settings.readOnly,
        hideArgs: settings.hideArgs,
        nonce: Security.nonce(),
        title: settings.title
      }
      if (settings.auth !== undefined) {
        const refused = yield* Effect.flip(settings.auth).pipe(Effect.option)
        if (refused._tag === "Some" && refused.value !== undefined) {
          const response = respond(page(ctx, "", "Unauthorized", problem(refused.value.message)), 401, ctx.nonce)
          const challenge = refused.value.challenge
          return challenge === undefined
            ? response
            : HttpServerResponse.setHeader(response, "www-authenticate", challenge)
        }
      }
      return yield* handle(ctx, request).pipe(Effect.catchAll((failure) => Effect.succeed(failurePage(ctx, failure))))
    })

  const query = (request: HttpServerRequest.HttpServerRequest) => new URLSearchParams(request.url.split("?")[1] ?? "")
  /** The notice a redirect asked for: a fixed text, or for a bulk change its counts (integers only). */
  const noticeOf = (request: HttpServerRequest.HttpServerRequest): string | undefined => {
    const params = query(request)
    const code = params.get("notice") ?? ""
    if (code !== "bulk") return notices[code]
    const [changed, of] = [Number(params.get("changed")), Number(params.get("of"))]
    return Number.isSafeInteger(changed) && Number.isSafeInteger(of)
      ? `${changed} of ${of} selected runs changed`
      : notices[code]
  }
  const pageOf = (ctx: PageContext, html: Html) => Effect.succeed(respond(html, 200, ctx.nonce))
  const forbidden = (message: string): Failure => ({ _tag: "Forbidden", message })

  /** A POST: refused in read-only mode, without the CSRF token or from another site; redirects to `to`. */
  const action = <E extends Failure>(
    act: (
      body: URLSearchParams,
      params: Readonly<Record<string, string | undefined>>
    ) => Effect.Effect<{ readonly to: string; readonly notice: string }, E, Scheduler.Scheduler>
  ) =>
    guarded((ctx, request) =>
      Effect.gen(function* () {
        if (settings.readOnly) return yield* Effect.fail(forbidden("The dashboard is read-only: no action is allowed"))
        const site = Security.crossSite(request)
        if (site !== undefined) return yield* Effect.fail(forbidden(`Cross-site request refused: ${site}`))
        const body = yield* request.urlParamsBody.pipe(
          Effect.map((params) => new URLSearchParams(params.map(([k, v]) => [k, v] as [string, string]))),
          Effect.mapError(() => ({ _tag: "BadFilter", message: "The form could not be read" }))
        )
        const token = body.get(Security.csrfField)
        if (token === null || !Security.sameText(token, csrf)) {
          return yield* Effect.fail(forbidden("Missing or invalid CSRF token: reload the page and try again"))
        }
        const { notice, to } = yield* act(body, yield* HttpRouter.params)
        const target = `${ctx.base}${to}${to.includes("?") ? "&" : "?"}notice=${notice}`
        return HttpServerResponse.redirect(target, { status: 303, headers: Security.pageHeaders(ctx.nonce) })
      })
    )

  const runId = (params: Readonly<Record<string, string | undefined>>) => (params["id"] ?? "") as RunId.RunId

  const runAction = <E extends Failure>(
    notice: string,
    change: (id: RunId.RunId) => Effect.Effect<unknown, E, Scheduler.Scheduler>
  ) =>
    action((_, params) =>
      Effect.as(change(runId(params)), { to: `/runs/${encodeURIComponent(runId(params))}`, notice })
    )

  /** The ids of a bulk form: at most a page of them. */
  const idsOf = (body: URLSearchParams) => {
    const ids = body.getAll("id")
    return ids.length <= maxPageSize
      ? Effect.succeed(ids.map((id) => id as RunId.RunId))
      : Effect.fail({ _tag: "BadFilter", message: `At most ${maxPageSize} runs at once, got ${ids.length}` })
  }

  /** A change of the selected runs; reports how many changed. */
  const bulk = <E extends Failure>(
    change: (ids: ReadonlyArray<RunId.RunId>) => Effect.Effect<number, E, Scheduler.Scheduler>
  ) =>
    action((body) =>
      Effect.gen(function* () {
        const ids = yield* idsOf(body)
        const changed = yield* change(ids)
        const filters = new URLSearchParams(body.get("filters") ?? "")
        for (const key of ["notice", "changed", "of"]) filters.delete(key)
        filters.set("changed", String(changed))
        filters.set("of", String(ids.length))
        return { to: `/runs?${filters.toString()}`, notice: "bulk" }
      })
    )

  /** How many reports of a bulk change say `changed`. */
  const changedOf =
    <E>(
      change: (
        ids: ReadonlyArray<RunId.RunId>
      ) => Effect.Effect<ReadonlyArray<{ readonly result: string }>, E, Scheduler.Scheduler>
    ) =>
    (ids: ReadonlyArray<RunId.RunId>) =>
      Effect.map(change(ids), (reports) => reports.filter((report) => report.result === "changed").length)

  /** Cancels each run (a run not found is not counted; a store failure fails the request). */
  const cancelEach = (ids: ReadonlyArray<RunId.RunId>) =>
    Effect.map(
      Effect.forEach(ids, (id) =>
        Scheduler.cancelRun(id).pipe(
          Effect.map((result) => result !== "finished"),
          Effect.catchTag("RunNotFound", () => Effect.succeed(false))
        )
      ),
      (done) => done.filter(Boolean).length
    )

  const queueAction = (paused: boolean) =>
    action((_, params) => {
      const name = params["name"] ?? ""
      return Effect.as(paused ? Scheduler.pauseQueue(name) : Scheduler.resumeQueue(name), {
        to: "/queues",
        notice: paused ? "paused" : "resumed"
      })
    })

  return HttpRouter.empty.pipe(
    HttpRouter.get(
      "/",
      guarded((ctx) => Effect.flatMap(overview(ctx), (html) => pageOf(ctx, html)))
    ),
    HttpRouter.get(
      "/runs",
      guarded((ctx, request) =>
        Effect.gen(function* () {
          const options = filtersOf(query(request), settings.hideArgs)
          if (Either.isLeft(options)) return yield* Effect.fail({ _tag: "BadFilter", message: options.left.message })
          return yield* pageOf(ctx, yield* runsPage(ctx, query(request), options.right, noticeOf(request)))
        })
      )
    ),
    HttpRouter.get(
      "/runs/:id",
      guarded((ctx, request) =>
        Effect.flatMap(HttpRouter.params, (params) =>
          Effect.flatMap(runPage(ctx, runId(params), noticeOf(request)), (html) => pageOf(ctx, html))
        )
      )
    ),
    HttpRouter.post("/runs/retry", bulk(changedOf(Scheduler.retryRuns))),
    HttpRouter.post("/runs/cancel", bulk(cancelEach)),
    HttpRouter.post("/runs/delete", bulk(changedOf(Scheduler.deleteRuns))),
    HttpRouter.post("/runs/:id/retry", runAction("retried", Scheduler.retryRun)),
    HttpRouter.post("/runs/:id/run-now", runAction("due", Scheduler.runNow)),
    HttpRouter.post("/runs/:id/cancel", runAction("cancelled", Scheduler.cancelRun)),
    HttpRouter.post(
      "/runs/:id/delete",
      action((_, params) => Effect.as(Scheduler.deleteRun(runId(params)), { to: "/runs", notice: "deleted" }))
    ),
    HttpRouter.get(
      "/queues",
      guarded((ctx, request) => Effect.flatMap(queuesPage(ctx, noticeOf(request)), (html) => pageOf(ctx, html)))
    ),
    HttpRouter.post("/queues/:name/pause", queueAction(true)),
    HttpRouter.post("/queues/:name/resume", queueAction(false)),
    HttpRouter.get(
      "/schedules",
      guarded((ctx, request) =>
        Effect.flatMap(schedulesPage(ctx, query(request).get("cursor") ?? undefined), (html) => pageOf(ctx, html))
      )
    ),
    HttpRouter.get(
      "/instances",
      guarded((ctx) => Effect.flatMap(instancesPage(ctx), (html) => pageOf(ctx, html)))
    )
  )
}
