/**
 * The trace context stored with a run: the span that created it, as a W3C
 * `traceparent` (`00-<trace id>-<span id>-<flags>`), so the execution can name
 * it as its parent or link, on any instance and after any restart.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"

const traceparent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The current span as a `traceparent`, or `null` outside any span. */
export const current: Effect.Effect<string | null> = Effect.map(Effect.option(Effect.currentSpan), (span) =>
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
