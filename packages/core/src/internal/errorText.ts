/**
 * Error texts: the readable, bounded string stored (and logged) when an attempt
 * fails. Whatever a job fails or dies with (a BigInt, a cyclic object, a
 * throwing `toJSON`, getter or Proxy trap, a symbol, a huge string), rendering it
 * never throws: what cannot be rendered is described instead.
 */
import { inspect } from "node:util"
import * as Cause from "effect/Cause"
import * as Option from "effect/Option"

/** The most characters an error text has: a longer one is cut to this length, ending with a note that says so. */
export const maxLength = 8_000

/** How a value is shown when it is not an Error or cannot be rendered as one: bounded, and never calling its code. */
const inspectOptions = {
  depth: 4,
  maxArrayLength: 20,
  maxStringLength: 1_000,
  breakLength: Number.POSITIVE_INFINITY,
  customInspect: false,
  getters: false,
  showProxy: false
} as const

/** An Error's name and message, if it is one and they can be read. */
const nameAndMessage = (value: unknown): string | undefined => {
  try {
    return value instanceof Error ? `${String(value.name)}: ${String(value.message)}` : undefined
  } catch {
    return undefined
  }
}

/** A value shown without running any of its code (getters, `toJSON`, Proxy traps); a kind of value if even that fails. */
const inspectValue = (value: unknown): string => {
  try {
    return inspect(value, inspectOptions)
  } catch {
    return nameAndMessage(value) ?? `a value of type ${typeof value} that could not be inspected`
  }
}

/** What rendering threw, in a few words (the thrown value may be as hostile as the one rendered). */
const thrownText = (thrown: unknown): string => nameAndMessage(thrown) ?? inspectValue(thrown)

/** One failure or defect: Effect's rendering (message and stack), or a description of the value when that throws. */
const renderReason = (kind: "failure" | "defect", value: unknown): string => {
  if (typeof value === "string") return `Error: ${value}`
  // numbers, BigInts, symbols, booleans, null, undefined, functions: Effect would show some as "An error has occurred"
  if (value === null || typeof value !== "object") return `Error: ${inspectValue(value)}`
  try {
    const text: unknown = Cause.pretty(kind === "failure" ? Cause.fail(value) : Cause.die(value))
    if (typeof text === "string" && text !== "") return text
    return `A ${kind} that could not be rendered: ${inspectValue(value)}`
  } catch (thrown) {
    return `A ${kind} that could not be rendered (${thrownText(thrown)}): ${inspectValue(value)}`
  }
}

/** A lone UTF-16 surrogate (half of a pair): not text, and encoded differently by each database driver. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/**
 * Cuts a text to `maxLength` and makes it storable alike on every database: NUL written as the escape
 * `\u0000` (PostgreSQL refuses NUL in text, which would fail a whole batch of settlements), lone
 * surrogates replaced. Every stored error goes through it.
 */
export const storable = (text: string): string => {
  const note = `... (cut to ${maxLength} characters)`
  const cut = text.length > maxLength ? `${text.slice(0, maxLength - note.length)}${note}` : text
  return cut.replaceAll("\u0000", "\\u0000").replace(loneSurrogate, "\uFFFD")
}

/**
 * The stored error of an attempt that ended with `cause`: each failure and defect rendered (an Error
 * with its message and stack), at most `maxLength` characters. Never throws.
 */
export const fromCause = (cause: Cause.Cause<unknown>): string => {
  const parts: Array<string> = []
  let length = 0
  const add = (kind: "failure" | "defect", value: unknown) => {
    // enough to fill the text: the rest would be cut anyway
    if (length > maxLength) return
    const text = renderReason(kind, value)
    parts.push(text)
    length += text.length + 1
  }
  Cause.reduce(cause, undefined, (_, reason) => {
    if (reason._tag === "Fail") add("failure", reason.error)
    if (reason._tag === "Die") add("defect", reason.defect)
    return Option.none()
  })
  return storable(parts.length === 0 ? "Interrupted" : parts.join("\n"))
}

/** A value in an error text (what a job returned or a function threw), bounded and storable. Never throws. */
export const fromValue = (value: unknown): string => storable(inspectValue(value))
