/**
 * OpenTelemetry: JobsS's spans and metrics exported with `@effect/opentelemetry`. A run created
 * inside a request's span is executed in the same trace, on whichever instance runs it.
 * `npm run telemetry -w examples` prints them to the console.
 */
import { NodeSdk } from "@effect/opentelemetry"
import type { SqlClient } from "@effect/sql"
import { Scheduler } from "@jobss/core"
import { ConsoleMetricExporter, type MetricReader, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer } from "effect"
import { databaseLayer } from "./database.js"
import { Announce, makeLayer } from "./features.js"

/** Exports every span to `spans` and every Effect metric (JobsS's included) through `metrics`. */
export const makeTelemetryLayer = (spans: SpanExporter, metrics: MetricReader) =>
  NodeSdk.layer(() => ({
    resource: { serviceName: "jobss-example" },
    spanProcessor: new SimpleSpanProcessor(spans),
    metricReader: metrics
  }))

/** An instance whose fibers (poller, workers), and the program it is provided to, trace through `telemetry`. */
export const makeTracedLayer = <E>(database: Layer.Layer<SqlClient.SqlClient, E>, telemetry: Layer.Layer<never>) =>
  makeLayer(database).pipe(Layer.provide(telemetry))

/** A request handler: the run it creates is executed as a child of the request's trace. */
export const handleSignup = (name: string) =>
  Scheduler.createRun(Announce, { name }).pipe(Effect.withSpan("POST /signup", { attributes: { name } }))

if (import.meta.url === `file://${process.argv[1]}`) {
  const telemetry = makeTelemetryLayer(
    new ConsoleSpanExporter(),
    new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: 1_000 })
  )
  const program = Effect.flatMap(handleSignup("Ada"), (id) => Scheduler.awaitRun(id))
  Effect.runPromise(program.pipe(Effect.provide(makeTracedLayer(databaseLayer(), telemetry)))).catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}
