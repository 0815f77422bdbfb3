/**
 * The trace context stored with a run: the span that created it, as a W3C
 * `traceparent` (`00-<trace id>-<span id>-<flags>`), so the execution can name
 * it as its parent or link, on any instance and after any restart.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"

const traceparent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** Effect's built-in tracer, which exports nowhere. */
const builtIn = Effect.runSync(Effect.tracer)

/**
 * Whether spans made with `tracer` go anywhere: JobsS makes its own spans (`JobsS.createRun`,
 * `JobsS.run`, the store's) only then, since Effect's built-in tracer exports nowhere, and a span
 * costs more than a no-op job (and about 4% of a `createRun`, each).
 */
export const exportsSpans = (tracer: Tracer.Tracer): boolean => tracer !== builtIn

/**
 * `Effect.withSpan` without a stack trace (capturing one costs more than the rest of the span), made
 * only while the fiber's tracer `exportsSpans` (Effect's built-in one does not).
 */
export const withExportedSpan =
  (name: string, options: Omit<Tracer.SpanOptions, "captureStackTrace"> = {}) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Effect.tracer, (tracer) =>
      exportsSpans(tracer) ? Effect.withSpan(effect, name, { ...options, captureStackTrace: false }) : effect
    )

/** The current span (or external parent span) as a `traceparent`, or `null` outside any span. */
export const current: Effect.Effect<string | null> = Effect.map(Effect.serviceOption(Tracer.ParentSpan), (span) =>
  Option.match(span, { onNone: () => null, onSome: encode })
)

/** A span's `traceparent`; `null` when its ids are not W3C ids (32 and 16 hex digits). */
export const encode = (span: Tracer.AnySpan): string | null => {
  const text = `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`
  return traceparent.test(text) ? text : null
}

/** The span a stored `traceparent` names, to use as a parent or a link; `None` when it is absent or malformed. */
export const decode = (stored: string | null): Option.Option<Tracer.ExternalSpan> => {
  const match = stored === null ? null : traceparent.exec(stored)
  if (match === null) return Option.none()
  const [, traceId, spanId, flags] = match
  return Option.some(
    Tracer.externalSpan({ traceId: traceId!, spanId: spanId!, sampled: (Number.parseInt(flags!, 16) & 1) === 1 })
  )
}
