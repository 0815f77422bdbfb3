/** Error texts: any cause renders to a readable, bounded, storable string, and rendering never throws. */
import { describe, expect, it } from "@effect/vitest"
import { Cause } from "effect"
import fc from "fast-check"
import * as ErrorText from "../src/internal/errorText.js"
import { failureValues } from "./arbitraries.js"

const trap = () => {
  throw new Error("trapped")
}

const hostileProxy = new Proxy({}, { get: trap, has: trap, ownKeys: trap, getPrototypeOf: trap })

const cyclic = (): unknown => {
  const value: Record<string, unknown> = { name: "loop" }
  value.self = value
  return value
}

describe("ErrorText.fromCause", () => {
  it("renders an Error with its message and stack, and a string failure as it is", () => {
    const text = ErrorText.fromCause(Cause.die(new Error("neg")))
    expect(text.startsWith("Error: neg\n    at ")).toBe(true)
    expect(ErrorText.fromCause(Cause.fail("planned failure"))).toBe("Error: planned failure")
    expect(ErrorText.fromCause(Cause.fail({ code: 7 }))).toBe('Error: {"code":7}')
  })

  it("says what a value that cannot be rendered was, and why", () => {
    expect(ErrorText.fromCause(Cause.fail({ id: 1n }))).toBe(
      "A failure that could not be rendered (TypeError: Do not know how to serialize a BigInt): { id: 1n }"
    )
    expect(ErrorText.fromCause(Cause.die({ id: 1n }))).toContain("A defect that could not be rendered")
    expect(
      ErrorText.fromCause(
        Cause.fail({
          toJSON: () => {
            throw new Error("no JSON")
          }
        })
      )
    ).toBe("A failure that could not be rendered (Error: no JSON): { toJSON: [Function: toJSON] }")
    expect(
      ErrorText.fromCause(
        Cause.die({
          get detail(): string {
            throw new Error("getter")
          }
        })
      )
    ).toBe("A defect that could not be rendered (Error: getter): { detail: [Getter] }")
    expect(ErrorText.fromCause(Cause.fail(hostileProxy))).toBe(
      "A failure that could not be rendered (Error: trapped): {}"
    )
  })

  it("shows primitives Effect would render as 'An error has occurred'", () => {
    expect(ErrorText.fromCause(Cause.fail(Symbol("odd")))).toBe("Error: Symbol(odd)")
    expect(ErrorText.fromCause(Cause.fail(undefined))).toBe("Error: undefined")
    expect(ErrorText.fromCause(Cause.die(12n))).toBe("Error: 12n")
  })

  it("renders every failure and defect of a composed cause; an interruption alone says so", () => {
    expect(ErrorText.fromCause(Cause.sequential(Cause.fail("first"), Cause.die("second")))).toBe(
      "Error: first\nError: second"
    )
    expect(ErrorText.fromCause(Cause.interrupt(0 as never))).toBe("Interrupted")
  })

  it("cuts long texts to maxLength and says so; NUL and lone surrogates become storable", () => {
    const text = ErrorText.fromCause(Cause.fail("x".repeat(1_000_000)))
    expect(text).toHaveLength(ErrorText.maxLength)
    expect(text.endsWith(`xxx... (cut to ${ErrorText.maxLength} characters)`)).toBe(true)
    expect(ErrorText.fromCause(Cause.fail("a\u0000b\uD800c\uDC00"))).toBe("Error: a\\u0000b\uFFFDc\uFFFD")
    // a pair cut in half at the limit is not left half
    const cut = ErrorText.fromCause(Cause.fail("😀".repeat(10_000)))
    expect(cut).toHaveLength(ErrorText.maxLength)
    expect(cut).toBe(cut.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/g, "?"))
  })

  it("property: any failure or defect value renders to a non-empty, bounded, well-formed string", () => {
    // thunks: fast-check itself would look into a generated Proxy (for a clone method), and trip its traps
    const values = failureValues([() => hostileProxy, () => Symbol("s"), () => 1n, cyclic, () => "z".repeat(20_000)])
    fc.assert(
      fc.property(values, fc.boolean(), (make, failure) => {
        const value = make()
        const text = ErrorText.fromCause(failure ? Cause.fail(value) : Cause.die(value))
        expect(text.length).toBeGreaterThan(0)
        expect(text.length).toBeLessThanOrEqual(ErrorText.maxLength)
        expect(text).not.toContain("\u0000")
        expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/)
      }),
      { numRuns: 500 }
    )
  })
})
