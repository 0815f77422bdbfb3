/**
 * The web dashboard mounted in a server of your own: under `/jobs`, beside the app's routes, behind
 * basic authentication, over the `Scheduler` of the instance in the same process.
 */
import { createServer } from "node:http"
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Job, JobsS } from "@jobss/core"
import { JobsSDashboard } from "@jobss/dashboard"
import { SqlStore } from "@jobss/sql"
import { Effect, Layer, type Redacted, Schema } from "effect"

export const Report = Job.make({ name: "Report", args: Schema.Struct({ month: Schema.String }) })

const ReportLive = Report.toLayer(({ month }) => Effect.log(`report for ${month}`))

/** The app's routes, with the dashboard under /jobs (its links and forms follow the mount path). */
export const app = (password: Redacted.Redacted<string>) =>
  HttpRouter.empty.pipe(
    HttpRouter.get("/health", HttpServerResponse.text("ok")),
    HttpRouter.mount(
      "/jobs",
      JobsSDashboard.router({
        auth: JobsSDashboard.basicAuth({ username: "ops", password }), // or bearerToken(token), or your own Effect
        hideArgs: true, // no arguments or results on the pages (personal data)
        readOnly: false // true: no action shown, every POST refused with 403
      })
    )
  )

/** The instance and the HTTP server on `port`: the dashboard at http://localhost:<port>/jobs/. */
export const ServerLive = (filename: string, port: number, password: Redacted.Redacted<string>) =>
  Layer.mergeAll(HttpServer.serve(app(password)), ReportLive).pipe(
    Layer.provideMerge(JobsS.layer({ pollInterval: "100 millis" })),
    Layer.provide(SqlStore.layer()),
    Layer.provide(SqliteClient.layer({ filename })),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port }))
  )
