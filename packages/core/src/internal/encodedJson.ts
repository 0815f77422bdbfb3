/**
 * Encoding a value with a Schema to JSON text that a later decode gets back: run arguments
 * (`createRun`) and results (an attempt's success value), under the same rules. The encoded value
 * must survive JSON (`jsonValue.ts`: come back from the text deep-equal), be nested at most 64 levels
 * and fit in `maxBytes` of UTF-8. Failures are readable messages, worded for what is encoded.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as ErrorText from "./errorText.js"
import * as JsonValue from "./jsonValue.js"

/** What is encoded, as messages name it. */
export interface Subject {
  /** The root of paths in messages (`args.when is a Date ...`). */
  readonly root: string
  /** The encoded value, as a sentence starts: `Encoded arguments`, `The encoded result`. */
  readonly encoded: string
  /** The value before encoding, as a sentence starts: `Arguments`, `The result`. */
  readonly value: string
  /** Whether the nouns are plural (`are`, `do not`) or singular (`is`, `does not`). */
  readonly plural: boolean
}

/** Arguments of a run. */
export const args: Subject = { root: "args", encoded: "Encoded arguments", value: "Arguments", plural: true }

/** The result of an attempt. */
export const result: Subject = { root: "result", encoded: "The encoded result", value: "The result", plural: false }

/** The deepest nesting of arrays and objects accepted in an encoded value. */
const maxDepth = 64

/** Fails when the stored JSON text would not decode with the Schema (a required property set to `undefined`). */
const decodesBack = <A, I>(schema: Schema.Schema<A, I>, subject: Subject, text: string): Effect.Effect<void, string> =>
  Schema.decodeUnknown(schema)(JSON.parse(text)).pipe(
    Effect.asVoid,
    Effect.mapError(
      (error) =>
        `${subject.encoded} ${subject.plural ? "do" : "does"} not survive JSON: a property set to undefined is left out, ` +
        `and without it ${subject.plural ? "they do" : "it does"} not decode: ${ParseResult.TreeFormatter.formatErrorSync(error)}`
    )
  )

/** The size rule on the JSON text. */
const withinLimit = (subject: Subject, json: string, maxBytes: number): Either.Either<string, string> => {
  const bytes = Buffer.byteLength(json, "utf8")
  return bytes <= maxBytes
    ? Either.right(json)
    : Either.left(`${subject.encoded} ${subject.plural ? "are" : "is"} ${bytes} bytes, above the limit of ${maxBytes}`)
}

/** The rules above, on the value the Schema encoded to: its JSON text, or why it breaks one. */
const toJson = <A, I>(
  schema: Schema.Schema<A, I>,
  subject: Subject,
  encoded: I,
  maxBytes: number
): Effect.Effect<string, string> => {
  const { problem, dropsUndefined } = JsonValue.check(encoded, subject.root, maxDepth)
  if (problem !== undefined) {
    return Either.left(`${subject.encoded} ${subject.plural ? "do" : "does"} not survive JSON: ${problem}`)
  }
  let json: string
  try {
    json = JSON.stringify(encoded)
  } catch (error) {
    return Either.left(
      `${subject.value} ${subject.plural ? "do" : "does"} not encode to JSON: ${ErrorText.fromValue(error)}`
    )
  }
  // JSON leaves out a property set to undefined: the decode gets the value without it, so it must still decode
  return dropsUndefined
    ? Effect.flatMap(decodesBack(schema, subject, json), () => withinLimit(subject, json, maxBytes))
    : withinLimit(subject, json, maxBytes)
}

/**
 * Encodes `value` with `schema` to JSON text within the rules above, or fails with a message saying
 * which rule it broke. Never fails with a defect: a Schema that throws is a failure too.
 *
 * Most values of most Schemas encode synchronously, and then nothing runs in a fiber: the answer is
 * an `Either` (`createRuns` encodes thousands of values). A value whose synchronous encoding does not
 * succeed (it is invalid, its Schema throws or needs effects that do not complete at once) is encoded
 * in a fiber, which also words the failure; so is the decode back of a value that JSON changed.
 */
export const encode = <A, I>(
  schema: Schema.Schema<A, I>,
  subject: Subject,
  value: A,
  maxBytes: number
): Effect.Effect<string, string> => {
  const couldNotEncode = (defect: unknown) =>
    Effect.fail(`${subject.value} could not be encoded: ${ErrorText.fromValue(defect)}`)
  try {
    const encoded = ParseResult.encodeEither(schema)(value)
    if (Either.isRight(encoded)) {
      const json = toJson(schema, subject, encoded.right, maxBytes)
      // not an Either: the JSON dropped an undefined property, and decoding it back takes a fiber
      return Either.isEither(json) ? json : Effect.catchAllDefect(json, couldNotEncode)
    }
  } catch {
    // encoded again below, where the throw is a defect that the failure describes
  }
  // suspended: a Schema's parser runs (and may throw) as soon as it is called
  return Effect.suspend(() => Schema.encode(schema)(value)).pipe(
    Effect.mapError((error) => ParseResult.TreeFormatter.formatErrorSync(error)),
    Effect.flatMap((encoded) => toJson(schema, subject, encoded, maxBytes)),
    Effect.catchAllDefect(couldNotEncode)
  )
}

/**
 * `encode` of each value, failing with the first failure: the `Either` answers are read in a loop,
 * and from the first answer that needs a fiber on, the rest run in one.
 */
export const encodeAll = <A, I>(
  schema: Schema.Schema<A, I>,
  subject: Subject,
  values: ReadonlyArray<A>,
  maxBytes: number
): Effect.Effect<Array<string>, string> => {
  const texts: Array<string> = []
  for (let i = 0; i < values.length; i++) {
    const answer = encode(schema, subject, values[i]!, maxBytes)
    if (!Either.isEither(answer)) {
      return Effect.flatMap(answer, (text) =>
        Effect.map(
          Effect.forEach(values.slice(i + 1), (value) => encode(schema, subject, value, maxBytes)),
          (rest) => [...texts, text, ...rest]
        )
      )
    }
    const settled = answer as Either.Either<string, string>
    if (Either.isLeft(settled)) return Either.left(settled.left)
    texts.push(settled.right)
  }
  return Either.right(texts)
}
