/**
 * Effect `Metric`s recorded by every instance, each tagged with the job's name.
 * Export them with any Effect metrics exporter (for example `@effect/opentelemetry`).
 *
 * @since 0.1.0
 */
export * from "./internal/metrics.js"
