/**
 * The JobsS web dashboard: an `@effect/platform` HTTP router to mount in a server of your own
 * (`HttpRouter.mount("/jobs", JobsSDashboard.router(options))`) or to serve alone (`jobss dashboard`).
 * Its pages are rendered on the server, with a few lines of inline script and nothing loaded from
 * elsewhere: overview, runs (filters, bulk retry, cancel and delete), a run's page, queues
 * (pause, resume), schedules and instances. It works on the `Scheduler` in context.
 *
 * Safe to expose: `auth` accepts or refuses every request (`basicAuth`, `bearerToken`); `readOnly`
 * shows no action and refuses every POST with 403; `hideArgs` shows no arguments or results. Every
 * POST carries a CSRF token (an HMAC of `secret`) and is refused from another site; every value is
 * escaped, and a Content-Security-Policy lets only the dashboard's own inline script run.
 *
 * @since 0.2.0
 */
import type { HttpRouter } from "@effect/platform"
import { HttpServerRequest } from "@effect/platform"
import type { Scheduler } from "@jobss/core"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { DashboardUnauthorized } from "./internal/errors.js"
import * as Routes from "./internal/routes.js"
import * as Security from "./internal/security.js"

export {
  /** A request `auth` refuses: answered with 401 (and `challenge` as `WWW-Authenticate`). */
  DashboardUnauthorized
} from "./internal/errors.js"

/** The dashboard's options. */
export interface DashboardOptions {
  /** Accepts (succeeds) or refuses (fails) each request before anything else; default: every request is accepted. */
  readonly auth?: Effect.Effect<void, DashboardUnauthorized, HttpServerRequest.HttpServerRequest>
  /** Shows no action and refuses every state-changing request with 403 (default `false`). */
  readonly readOnly?: boolean
  /** Shows no run arguments or results, and refuses the `argsContains` filter (default `false`). */
  readonly hideArgs?: boolean
  /**
   * The secret the CSRF token is derived from. Default: a random one per process, so a form is valid
   * in the process that rendered it; give every process behind one address the same secret.
   */
  readonly secret?: string | Redacted.Redacted<string>
  /** The title of every page (default `JobsS`). */
  readonly title?: string
}

/** The dashboard's routes, to mount under any path; they need the `Scheduler` of a JobsS store. */
export const router = (options: DashboardOptions = {}): HttpRouter.HttpRouter<never, Scheduler.Scheduler> =>
  Routes.make({
    auth: options.auth,
    readOnly: options.readOnly ?? false,
    hideArgs: options.hideArgs ?? false,
    secret:
      options.secret === undefined
        ? Security.randomSecret()
        : Redacted.isRedacted(options.secret)
          ? Redacted.value(options.secret)
          : options.secret,
    title: options.title ?? "JobsS"
  })

/** The value of the request's `Authorization` header after `scheme` (case-insensitive), if any. */
const credentials = (scheme: string) =>
  Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
    const header = request.headers["authorization"] ?? ""
    return header.toLowerCase().startsWith(`${scheme.toLowerCase()} `)
      ? header.slice(scheme.length + 1).trim()
      : undefined
  })

/** An `auth` accepting HTTP basic authentication with this user name and password (compared in constant time). */
export const basicAuth = (options: {
  /** The user name. */
  readonly username: string
  /** The password. */
  readonly password: string | Redacted.Redacted<string>
  /** The realm the browser shows (default `JobsS`). */
  readonly realm?: string
}): Effect.Effect<void, DashboardUnauthorized, HttpServerRequest.HttpServerRequest> => {
  const password = Redacted.isRedacted(options.password) ? Redacted.value(options.password) : options.password
  const expected = `${options.username}:${password}`
  const challenge = `Basic realm="${(options.realm ?? "JobsS").replace(/["\\]/g, "")}", charset="UTF-8"`
  return Effect.flatMap(credentials("Basic"), (given) => {
    const decoded = given === undefined ? undefined : Buffer.from(given, "base64").toString("utf8")
    return decoded !== undefined && Security.sameText(decoded, expected)
      ? Effect.void
      : Effect.fail(new DashboardUnauthorized({ message: "A user name and password are required", challenge }))
  })
}

/** An `auth` accepting `Authorization: Bearer <token>` with this token (compared in constant time). */
export const bearerToken = (
  token: string | Redacted.Redacted<string>
): Effect.Effect<void, DashboardUnauthorized, HttpServerRequest.HttpServerRequest> => {
  const expected = Redacted.isRedacted(token) ? Redacted.value(token) : token
  return Effect.flatMap(credentials("Bearer"), (given) =>
    given !== undefined && Security.sameText(given, expected)
      ? Effect.void
      : Effect.fail(new DashboardUnauthorized({ message: "A bearer token is required", challenge: "Bearer" }))
  )
}
