/**
 * The README's dashboard example: the app's server with the dashboard under /jobs behind basic
 * authentication; a run of the instance in the same process shows on the runs page (arguments
 * hidden), a request without credentials is refused, and the app's own route still answers.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { HttpServer } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Scheduler } from "@jobss/core"
import { Effect, Layer, LogLevel, Logger, Redacted } from "effect"
import { Report, ServerLive } from "../../examples/src/dashboard.js"

const scratch = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "jobss-dashboard-"))),
  (folder) => Effect.promise(() => rm(folder, { recursive: true, force: true }))
)

const fetchText = (url: string, headers: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, { headers, redirect: "manual" })
    return { status: response.status, text: await response.text() }
  })

describe("README example: the dashboard", () => {
  it.scopedLive("mounted under /jobs with basic auth, beside the app's routes", () =>
    Effect.gen(function* () {
      const folder = yield* scratch
      const context = yield* Layer.build(ServerLive(join(folder, "app.db"), 0, Redacted.make("pw"))).pipe(
        Logger.withMinimumLogLevel(LogLevel.Error)
      )
      const server = yield* Effect.provide(HttpServer.HttpServer, context)
      const address = server.address
      const origin = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
      const id = yield* Effect.provide(Scheduler.createRun(Report, { month: "2026-11-private" }), context)
      yield* Effect.provide(Scheduler.awaitRun(id, { timeout: "20 seconds" }), context)

      expect((yield* fetchText(`${origin}/health`)).text).toBe("ok")
      expect((yield* fetchText(`${origin}/jobs/runs`)).status).toBe(401)
      const auth = { authorization: `Basic ${Buffer.from("ops:pw").toString("base64")}` }
      const runs = yield* fetchText(`${origin}/jobs/runs?job=Report`, auth)
      expect(runs.status).toBe(200)
      expect(runs.text).toContain(`href="/jobs/runs/${id}"`)
      const run = yield* fetchText(`${origin}/jobs/runs/${id}`, auth)
      expect(run.text).toContain("succeeded")
      expect(run.text).not.toContain("2026-11-private")
    })
  )
})
