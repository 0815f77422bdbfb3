/**
 * `jobss dashboard`: serves the web dashboard (`JobsSDashboard.router`) at the root of an HTTP
 * server on `--host` and `--port` until interrupted, over a client-only `Scheduler` on the
 * database. `--read-only`, `--hide-args`, and `--user` with `--password` (or
 * `JOBSS_DASHBOARD_PASSWORD`) for basic authentication.
 */
import { createServer } from "node:http"
import { Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { JobsSDashboard } from "@jobss/dashboard"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { scheduler } from "./connection.js"
import { connection } from "./shared.js"

const options = {
  ...connection,
  port: Options.integer("port").pipe(
    Options.withDefault(8080),
    Options.withDescription("The port to listen on (0: any free port)")
  ),
  host: Options.text("host").pipe(
    Options.withDefault("127.0.0.1"),
    Options.withDescription("The address to listen on (0.0.0.0: every interface)")
  ),
  readOnly: Options.boolean("read-only").pipe(Options.withDescription("Show no action; refuse every change")),
  hideArgs: Options.boolean("hide-args").pipe(Options.withDescription("Show no run arguments or results")),
  user: Options.text("user").pipe(
    Options.optional,
    Options.withDescription("Require basic authentication with this user name (and --password)")
  ),
  password: Options.redacted("password").pipe(
    Options.withFallbackConfig(Config.redacted("JOBSS_DASHBOARD_PASSWORD")),
    Options.optional,
    Options.withDescription("The password of --user; default: $JOBSS_DASHBOARD_PASSWORD")
  )
}

/** `jobss dashboard`. */
export const dashboard = Command.make("dashboard", options, (c) =>
  Effect.gen(function* () {
    const user = Option.getOrUndefined(c.user)
    const password = Option.getOrUndefined(c.password)
    if ((user === undefined) !== (password === undefined)) {
      yield* Console.error("jobss dashboard: --user and --password go together")
      return yield* Effect.fail(ValidationError.invalidValue(HelpDoc.p("--user and --password go together")))
    }
    const router = JobsSDashboard.router({
      readOnly: c.readOnly,
      hideArgs: c.hideArgs,
      ...(user !== undefined && password !== undefined
        ? { auth: JobsSDashboard.basicAuth({ username: user, password }) }
        : {})
    })
    const server = HttpServer.serve(router).pipe(
      Layer.provide(scheduler(c)),
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port: c.port, host: c.host }))
    )
    yield* Effect.scoped(
      Effect.gen(function* () {
        const context = yield* Layer.build(server)
        const address = (yield* Effect.provide(HttpServer.HttpServer, context)).address
        yield* Console.log(
          `JobsS dashboard on ${address._tag === "TcpAddress" ? `http://${c.host}:${address.port}/` : HttpServer.formatAddress(address)}${c.readOnly ? " (read-only)" : ""}`
        )
        return yield* Effect.never
      })
    )
  })
).pipe(Command.withDescription("Serves the web dashboard until interrupted: jobss dashboard --port 8080"))
