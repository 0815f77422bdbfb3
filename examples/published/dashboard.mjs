// The published @jobss/dashboard with plain node: the router mounted under /jobs of a server on a
// free port, over a client-only Scheduler on the memory store; its overview is fetched and checked,
// then the server closes with the program's scope and the process exits by itself.
import { createServer } from "node:http"
import { HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { JobStore, JobsS } from "@jobss/core"
import { JobsSDashboard } from "@jobss/dashboard"
import { Effect, Layer } from "effect"

const app = HttpRouter.empty.pipe(HttpRouter.mount("/jobs", JobsSDashboard.router({ readOnly: true })))

const ServerLive = HttpServer.serve(app).pipe(
  Layer.provide(JobsS.layerClient().pipe(Layer.provide(JobStore.layerMemory))),
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
)

const program = Effect.gen(function* () {
  const { address } = yield* HttpServer.HttpServer
  const response = yield* Effect.promise(() => fetch(`http://127.0.0.1:${address.port}/jobs/runs`))
  const text = yield* Effect.promise(() => response.text())
  console.log(`runs page: ${response.status} ${text.includes("<h1>Runs</h1>") ? "rendered" : "missing"}`)
})

await Effect.runPromise(Effect.scoped(Effect.provide(program, ServerLive)))
console.log(`stopped at ${new Date().toISOString()}`)
