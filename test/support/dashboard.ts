/**
 * Serving the dashboard in tests: `JobsSDashboard.router` mounted under `/admin/jobs` of a real
 * HTTP server on a free loopback port, over a given `Scheduler`, for the scope's life; and a
 * `fetch` of its pages that keeps redirects visible and reads the CSRF token of a page's forms.
 */
import { createServer } from "node:http"
import { HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Scheduler } from "@jobss/core"
import { JobsSDashboard } from "@jobss/dashboard"
import { Effect, Layer } from "effect"
import type { Scope } from "effect"

/** Where the dashboard is mounted in tests. */
export const mountPath = "/admin/jobs"

/** Serves the dashboard over `scheduler`; returns its base URL (`http://127.0.0.1:<port>/admin/jobs`). */
export const serveDashboard = (
  scheduler: Scheduler.SchedulerShape,
  options: JobsSDashboard.DashboardOptions = {}
): Effect.Effect<string, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const app = HttpRouter.empty.pipe(HttpRouter.mount(mountPath, JobsSDashboard.router(options)))
    const context = yield* Layer.build(
      HttpServer.serve(app).pipe(
        Layer.provide(Layer.succeed(Scheduler.Scheduler, scheduler)),
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
      )
    )
    const server = yield* Effect.provide(HttpServer.HttpServer, context)
    const address = server.address
    if (address._tag !== "TcpAddress") return yield* Effect.fail(new Error("not a TCP address"))
    return `http://127.0.0.1:${address.port}${mountPath}`
  })

/** A response's status, headers and text. */
export interface Page {
  readonly status: number
  readonly headers: Headers
  readonly text: string
}

/** Fetches `url` without following redirects. */
export const get = (url: string, headers: Record<string, string> = {}): Effect.Effect<Page> =>
  Effect.promise(async () => {
    const response = await fetch(url, { headers, redirect: "manual" })
    return { status: response.status, headers: response.headers, text: await response.text() }
  })

/** POSTs a form to `url` without following redirects. */
export const post = (
  url: string,
  form: ReadonlyArray<readonly [string, string]>,
  headers: Record<string, string> = {}
): Effect.Effect<Page> =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(form.map(([k, v]): [string, string] => [k, v])).toString(),
      redirect: "manual"
    })
    return { status: response.status, headers: response.headers, text: await response.text() }
  })

/** The CSRF token in a page's forms. */
export const csrfOf = (page: Page): string => {
  const match = /name="_csrf" value="([^"]+)"/.exec(page.text)
  if (match === null) throw new Error("no CSRF token on the page")
  return match[1]!
}
