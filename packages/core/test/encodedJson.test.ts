/** Encoding values to JSON text: synchronously when the Schema allows, in a fiber otherwise, with the same answers. */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, ParseResult, Schema } from "effect"
import * as EncodedJson from "../src/internal/encodedJson.js"

/** A number that encodes after a real delay: no synchronous encoding can finish it. */
const Delayed = Schema.transformOrFail(Schema.Number, Schema.Number, {
  decode: (n) => ParseResult.succeed(n),
  encode: (n) => Effect.as(Effect.sleep("1 millis"), n)
})

/** A number whose encoding throws for negative values. */
const Throwing = Schema.transform(Schema.Number, Schema.Number, {
  decode: (n) => n,
  encode: (n) => {
    if (n < 0) throw new Error("negative")
    return n
  }
})

const Args = Schema.Struct({ i: Schema.Number })

describe("EncodedJson.encodeAll", () => {
  it.effect("values of a synchronous Schema are answered without a fiber", () =>
    Effect.sync(() => {
      const answer = EncodedJson.encodeAll(Args, EncodedJson.args, [{ i: 1 }, { i: 2 }], 1_000)
      expect(Either.isEither(answer)).toBe(true)
      expect(answer).toEqual(Either.right(['{"i":1}', '{"i":2}']))
    })
  )

  it.live("a Schema that needs effects is encoded in a fiber, in order, after the synchronous values", () =>
    Effect.gen(function* () {
      const schema = Schema.Struct({ i: Schema.Number, later: Schema.optional(Delayed) })
      const values = [{ i: 1 }, { i: 2, later: 3 }, { i: 4 }]
      const answer = EncodedJson.encodeAll(schema, EncodedJson.args, values, 1_000)
      expect(Either.isEither(answer)).toBe(false)
      expect(yield* answer).toEqual(['{"i":1}', '{"i":2,"later":3}', '{"i":4}'])
    })
  )

  it.effect("the first failure is the answer: a rule broken, or a Schema that throws", () =>
    Effect.gen(function* () {
      const tooLong = yield* Effect.flip(EncodedJson.encodeAll(Args, EncodedJson.args, [{ i: 1 }, { i: 12345 }], 9))
      expect(tooLong).toBe("Encoded arguments are 11 bytes, above the limit of 9")
      const thrown = yield* Effect.flip(EncodedJson.encode(Throwing, EncodedJson.result, -1, 1_000))
      expect(thrown).toMatch(/^The result could not be encoded: .*negative/)
      const invalid = yield* Effect.flip(EncodedJson.encode(Args, EncodedJson.args, { i: "x" } as never, 1_000))
      expect(invalid).toContain("Expected number")
    })
  )
})
