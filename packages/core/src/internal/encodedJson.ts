/**
 * Encoding a value with a Schema to JSON text that a later decode gets back: run arguments
 * (`createRun`) and results (an attempt's success value), under the same rules. The encoded value
 * must survive JSON (`jsonValue.ts`: come back from the text deep-equal), be nested at most 64 levels
 * and fit in `maxBytes` of UTF-8. Failures are readable messages, worded for what is encoded.
 */
import * as Effect from "effect/Effect"
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

/**
 * Encodes `value` with `schema` to JSON text within the rules above, or fails with a message saying
 * which rule it broke. Never fails with a defect: a Schema that throws is a failure too.
 */
export const encode = <A, I>(
  schema: Schema.Schema<A, I>,
  subject: Subject,
  value: A,
  maxBytes: number
): Effect.Effect<string, string> =>
  Schema.encode(schema)(value).pipe(
    Effect.mapError((error) => ParseResult.TreeFormatter.formatErrorSync(error)),
    Effect.flatMap((encoded) => {
      const { problem, dropsUndefined } = JsonValue.check(encoded, subject.root, maxDepth)
      if (problem !== undefined) {
        return Effect.fail(`${subject.encoded} ${subject.plural ? "do" : "does"} not survive JSON: ${problem}`)
      }
      const json = Effect.try({
        try: () => JSON.stringify(encoded),
        catch: (error) =>
          `${subject.value} ${subject.plural ? "do" : "does"} not encode to JSON: ${ErrorText.fromValue(error)}`
      })
      // JSON leaves out a property set to undefined: the decode gets the value without it, so it must still decode
      return dropsUndefined ? Effect.tap(json, (text) => decodesBack(schema, subject, text)) : json
    }),
    Effect.catchAllDefect((defect) =>
      Effect.fail(`${subject.value} could not be encoded: ${ErrorText.fromValue(defect)}`)
    ),
    Effect.filterOrFail(
      (json) => Buffer.byteLength(json, "utf8") <= maxBytes,
      (json) =>
        `${subject.encoded} ${subject.plural ? "are" : "is"} ${Buffer.byteLength(json, "utf8")} bytes, above the limit of ${maxBytes}`
    )
  )
