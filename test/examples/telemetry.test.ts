/** Runs the README's OpenTelemetry example: one trace from the request to the job, and JobsS's metrics exported. */
import { describe, expect, it } from "@effect/vitest"
import { Scheduler } from "@jobss/core"
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader
} from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, LogLevel, Logger } from "effect"
import * as Telemetry from "../../examples/src/telemetry.js"
import { makeDatabase, sqlBackends } from "../support/databases.js"

const quiet = Logger.minimumLogLevel(LogLevel.Warning)

describe.each(sqlBackends)("README example: OpenTelemetry on %s", (backend) => {
  it.scopedLive(`the job's execution is in the trace of the request that created it (${backend})`, () =>
    Effect.gen(function* () {
      const database = yield* makeDatabase(backend)
      const spans = new InMemorySpanExporter()
      const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
      const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 60_000 })
      const telemetry = Telemetry.makeTelemetryLayer(spans, reader)
      const traced = Telemetry.makeTracedLayer(database.layer, telemetry).pipe(Layer.provide(quiet))

      // read the exporters before the layer closes: shutting the SDK down empties in-memory exporters
      const { finished, state } = yield* Effect.gen(function* () {
        const id = yield* Telemetry.handleSignup("Ada")
        const state = yield* Scheduler.awaitRun(id)
        yield* Effect.promise(() => reader.forceFlush())
        return { state, finished: [...spans.getFinishedSpans()] }
      }).pipe(Effect.provide(traced))
      expect(state.status).toBe("succeeded")

      const request = finished.find((span) => span.name === "POST /signup")!
      const create = finished.find((span) => span.name === "JobsS.createRun")!
      const execution = finished.find((span) => span.name === "JobsS.run" && span.attributes["job"] === "Announce")!
      expect(request).toBeDefined()
      expect(create.spanContext().traceId).toBe(request.spanContext().traceId)
      expect(execution).toBeDefined()
      expect(execution.spanContext().traceId).toBe(request.spanContext().traceId)
      expect([create.spanContext().spanId, request.spanContext().spanId]).toContain(execution.parentSpanContext?.spanId)
      // with a tracer that exports, the store's operations are spans too, inside createRun's
      const insert = finished.find((span) => span.name === "SqlStore.insert")!
      expect(insert.parentSpanContext?.spanId).toBe(create.spanContext().spanId)

      const names = metrics
        .getMetrics()
        .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
        .map((metric) => metric.descriptor.name)
      expect(names).toEqual(
        expect.arrayContaining([
          "jobss_runs_started",
          "jobss_runs_succeeded",
          "jobss_run_duration_ms",
          "jobss_run_lag_ms"
        ])
      )
    })
  )
})
