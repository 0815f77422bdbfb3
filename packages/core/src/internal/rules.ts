/**
 * The rules for one option value, and how a refusal is worded: the building blocks of the option
 * Schemas in `options.ts` (see there for the rules as a whole).
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/** The longest finite duration accepted: 50,000,000 days, half the span of JavaScript dates. */
const maxDurationMs = 50_000_000 * 86_400_000

/** The largest count accepted (limits, workers, sizes): the range of the database's `int` columns. */
const maxCount = 2_147_483_647

/** The latest time JavaScript dates represent, in epoch milliseconds. */
export const maxTimeMs = 8_640_000_000_000_000

// ---------------------------------------------------------------------------------------------
// Messages

/** A value as a message shows it: strings quoted, numbers as written, objects as JSON, at most 80 characters. */
export const show = (value: unknown): string => {
  let text: string
  if (typeof value === "string") text = JSON.stringify(value)
  else if (typeof value === "bigint") text = `${value}n`
  else if (Duration.isDuration(value)) text = `Duration(${Duration.format(value)})`
  else if (Array.isArray(value) && value.every((item) => typeof item !== "object" || item === null)) {
    text = `[${value.map(show).join(", ")}]`
  } else if (typeof value === "object" && value !== null) {
    try {
      text = Inspectable.stringifyCircular(value)
    } catch {
      text = Object.prototype.toString.call(value)
    }
  } else text = String(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/** The message of a failed decoding: each issue as `<path> <rule>, got <value>`, joined by "; ". */
const messageOf = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => (issue.path.length === 0 ? issue.message : `${issue.path.join(".")} ${issue.message}`))
    .join("; ")

// ---------------------------------------------------------------------------------------------
// Values

/** A rule for one value: the value decoded, or the message tail of a refusal (`refuse`). */
export type Check<A> = (input: unknown) => Either.Either<A, string>

/** The message tail of a refused value: `<rule>, got <value>`. */
export const refuse = (why: string, input: unknown): Either.Either<never, string> =>
  Either.left(`${why}, got ${show(input)}`)

/** The type a rule decodes to: what its `Check` returned, so it is not checked again. */
const checked = <A>() => Schema.declare((_: unknown): _ is A => true)

/** The Schema of a value checked by `check`. */
export const rule = <A>(check: Check<A>) =>
  Schema.transformOrFail(Schema.Unknown, checked<A>(), {
    strict: true,
    decode: (input, _, ast) =>
      Either.match(check(input), {
        onLeft: (message) => ParseResult.fail(new ParseResult.Type(ast, input, message)),
        onRight: ParseResult.succeed
      }),
    encode: ParseResult.succeed
  })

/** An option checked by `check`; when it is absent (or undefined), `fallback` is checked instead. */
export const option = <A>(check: Check<A>, fallback: () => unknown) =>
  rule((input) => check(input === undefined ? fallback() : input))

/** An option checked by `check`, `undefined` when absent: the next level (job, instance) decides. */
export const optional = <A>(check: Check<A>) =>
  rule<A | undefined>((input) => (input === undefined ? Either.right(undefined) : check(input)))

/** An option decoded by a whole Schema (an object of options); `fallback()` when absent. */
export const nested = <A>(schema: Schema.Schema<A, unknown>, fallback: () => unknown) =>
  Schema.transformOrFail(Schema.Unknown, Schema.typeSchema(schema), {
    strict: true,
    decode: (input, options) => ParseResult.decodeUnknown(schema)(input === undefined ? fallback() : input, options),
    encode: ParseResult.succeed
  })

/** An option decoded by a whole Schema, `undefined` when absent. */
export const optionalNested = <A>(schema: Schema.Schema<A, unknown>) =>
  Schema.transformOrFail(Schema.Unknown, Schema.UndefinedOr(Schema.typeSchema(schema)), {
    strict: true,
    decode: (input, options) =>
      input === undefined ? ParseResult.succeed(undefined) : ParseResult.decodeUnknown(schema)(input, options),
    encode: ParseResult.succeed
  })

const durationPattern = /^(-?\d+(?:\.\d+)?)\s+(nanos?|micros?|millis?|seconds?|minutes?|hours?|days?|weeks?)$/

/** Whether `text` is a duration as text: a number and a unit, such as `"30 seconds"` (possibly negative). */
export const isDurationText = (text: string): text is Duration.DurationInput & string => durationPattern.test(text)

/** Whether a duration input is negative or NaN (which `Duration.decode` would silently read as 0). */
const negative = (input: unknown): boolean => {
  if (typeof input === "number") return !(input >= 0)
  if (typeof input === "bigint") return input < 0n
  if (typeof input === "string") return durationPattern.exec(input)?.[1]?.startsWith("-") ?? false
  if (Array.isArray(input)) return !input.every((part) => typeof part === "number" && part >= 0)
  return false
}

/** Whether `input` has one of the shapes of `Duration.DurationInput`. */
const durationShaped = (input: unknown): boolean =>
  typeof input === "number" ||
  typeof input === "bigint" ||
  Duration.isDuration(input) ||
  (typeof input === "string" && durationPattern.test(input)) ||
  (Array.isArray(input) && input.length === 2 && input.every((part) => typeof part === "number"))

const durationShapes = 'milliseconds, a string such as "5 seconds", or a Duration'

/**
 * A duration in milliseconds, at least `min`. With `endless: "infinity"` an infinite duration is
 * accepted, with `"forever"` also the string `"forever"`; both decode to Infinity.
 */
export const duration =
  (min: 0 | 1, endless?: "infinity" | "forever"): Check<number> =>
  (input) => {
    if (endless === "forever" && input === "forever") return Either.right(Number.POSITIVE_INFINITY)
    const decoded = durationShaped(input) ? Duration.decodeUnknown(input) : Option.none()
    if (Option.isNone(decoded)) {
      return refuse(
        endless === "forever"
          ? `must be "forever" or a duration (${durationShapes})`
          : `must be a duration (${durationShapes})`,
        input
      )
    }
    const ms = Duration.toMillis(decoded.value)
    if (negative(input) || ms < min) return refuse(`must be a duration of at least ${min} ms`, input)
    if (ms === Number.POSITIVE_INFINITY) {
      return endless === undefined ? refuse("must be a finite duration", input) : Either.right(ms)
    }
    if (ms > maxDurationMs) return refuse("must be a duration of at most 50000000 days", input)
    return Either.right(ms)
  }

/** A whole number from `min` to `maxCount`; `unlimited` notes that -1 means unlimited. */
export const count =
  (min: number, unlimited = false): Check<number> =>
  (input) =>
    typeof input === "number" && Number.isSafeInteger(input) && input >= min && input <= maxCount
      ? Either.right(input)
      : refuse(`must be an integer from ${min}${unlimited ? " (unlimited)" : ""} to ${maxCount}`, input)

/** A retries limit: -1 (unlimited) or a whole number of retries. */
export const retriesLimit = count(-1, true)

/** Checks with `schema` (every issue reported); a failure becomes `error(message)`. */
export const decodeWith = <A, I, E>(
  schema: Schema.Schema<A, I>,
  error: (message: string) => E
): ((input: unknown) => Either.Either<A, E>) => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "all" })
  return (input) => Either.mapLeft(decode(input), (parse) => error(messageOf(parse)))
}

/**
 * `f` computed once per object: job definitions and backoff policies are immutable data, checked at
 * every `createRun` and retry.
 */
export const oncePerObject = <K extends object, A>(f: (key: K) => A): ((key: K) => A) => {
  const results = new WeakMap<K, A>()
  return (key) => {
    if (results.has(key)) return results.get(key)!
    const result = f(key)
    if (typeof key === "object" && key !== null) results.set(key, result)
    return result
  }
}

export const isObject = (input: unknown): input is object =>
  typeof input === "object" && input !== null && !Array.isArray(input)

/** Checks an option object: an object (else `options must be an object, got ...`), then `schema`. */
export const optionObject = <A, I, E>(
  schema: Schema.Schema<A, I>,
  error: (message: string) => E
): ((input: unknown) => Either.Either<A, E>) => {
  const decode = decodeWith(schema, error)
  return (input) =>
    isObject(input) ? decode(input) : Either.mapLeft(refuse("options must be an object", input), error)
}
