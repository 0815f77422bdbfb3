/** The one name rule (jobs, schedules, unique names) and the check that encoded arguments survive JSON. */
import { describe, expect, it } from "@effect/vitest"
import * as JsonValue from "../src/internal/jsonValue.js"
import * as Names from "../src/internal/names.js"

describe("the name rule", () => {
  it("accepts names of 1 to 255 characters, any script, inner spaces", () => {
    for (const name of ["a", "x".repeat(255), "Nightly report", "été", "日本", "🙂 ok", "a.b-c_d/e:f"]) {
      expect(Names.check("job name", name)).toBeUndefined()
    }
  })

  it("refuses, naming the field, the escaped value and the rule", () => {
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      ["", "it is empty"],
      ["x".repeat(256), "it has 256 characters"],
      ["a\u0000b", "the control character U+0000 at index 1"],
      ["tab\there", "the control character U+0009 at index 3"],
      ["del\u007f", "the control character U+007F at index 3"],
      ["c1\u0085", "the control character U+0085 at index 2"],
      ["lone\ud800", "a lone surrogate U+D800 at index 4"],
      ["\udc00tail", "a lone surrogate U+DC00 at index 0"],
      ["swapped\udc00\ud800", "a lone surrogate U+DC00 at index 7"],
      [" lead", "white space at either end"],
      ["trail ", "white space at either end"],
      ["nbsp\u00a0", "white space at either end"],
      [42, "it is a number, not a string"],
      [undefined, "it is a undefined, not a string"],
      [null, "it is a null, not a string"]
    ]
    for (const [value, why] of cases) {
      const message = Names.check("unique name", value)
      expect(message).toContain("unique name ")
      expect(message).toContain(why)
      expect(message).toContain(Names.rule)
    }
    expect(Names.check("unique name", "a\u0000b")).toContain('"a\\u0000b"')
    expect(Names.check("unique name", "lone\ud800")).toContain('"lone\\ud800"')
    expect(Names.check("job name", "x".repeat(5_000))!.length).toBeLessThan(400)
  })

  it("gives a job with a bad name an InvalidJob error", () => {
    expect(Names.invalidJob("Fine")).toBeUndefined()
    expect(Names.invalidJob("")).toMatchObject({ _tag: "InvalidJob", job: "" })
    expect(Names.invalidJob(7)).toMatchObject({ _tag: "InvalidJob", job: "7" })
  })
})

class Point {
  constructor(
    readonly x: number,
    readonly y: number
  ) {}
}

describe("encoded arguments that survive JSON", () => {
  const problem = (value: unknown) => JsonValue.check(value, "args", 64).problem

  it("accepts JSON values, null-prototype objects, undefined properties, -0 and lone surrogates", () => {
    const nullProto = Object.assign(Object.create(null), { a: 1 })
    for (const value of [
      null,
      true,
      0,
      -0,
      1.5e300,
      "",
      "lone \ud800",
      [],
      [1, "a", null, [{}]],
      { a: { b: [1, 2, { c: "d" }] } },
      { gone: undefined, kept: 1 },
      nullProto
    ]) {
      expect(problem(value)).toBeUndefined()
    }
  })

  it("refuses what JSON changes, saying where", () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic["self"] = { back: cyclic }
    const throwing = {
      get boom(): number {
        throw new Error("getter exploded")
      }
    }
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [Number.NaN, "args is NaN, which JSON stores as null"],
      [{ n: Number.POSITIVE_INFINITY }, "args.n is Infinity"],
      [{ list: [1, Number.NEGATIVE_INFINITY] }, "args.list[1] is -Infinity"],
      [undefined, "args is undefined"],
      [[1, undefined], "args[1] is undefined"],
      // biome-ignore lint/suspicious/noSparseArray: a hole is the point
      [[1, , 3], "args[1] is undefined"],
      [{ f: () => 1 }, "args.f is a function"],
      [{ s: Symbol("x") }, "args.s is a symbol"],
      [{ "a key": 10n }, 'args["a key"] is the BigInt 10n'],
      [{ when: new Date(0) }, "args.when is a Date, which JSON stores as a string"],
      [{ m: new Map([[1, 2]]) }, "args.m is a Map"],
      [new Set([1]), "args is a Set"],
      [{ p: new Point(1, 2) }, "args.p is an instance of Point"],
      [{ bytes: new Uint8Array(2) }, "args.bytes is an instance of Uint8Array"],
      [{ boxed: new Number(1) }, "args.boxed is an instance of Number"],
      [{ x: { toJSON: () => 1 } }, "args.x has a toJSON method"],
      [{ [Symbol("k")]: 1 }, "args has symbol keys"],
      [cyclic, "args.self.back contains itself (a cycle)"],
      [{ t: throwing }, "args.t.boom could not be read: getter exploded"]
    ]
    for (const [value, expected] of cases) expect(problem(value)).toContain(expected)
  })

  it("refuses nesting deeper than the limit, without a path", () => {
    let value: unknown = "leaf"
    for (let i = 0; i < 64; i++) value = { inner: value }
    expect(problem(value)).toBeUndefined()
    expect(problem([value])).toBe("args are nested deeper than 64 levels")
  })
})
