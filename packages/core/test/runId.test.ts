/** `RunId.generate`: the UUID version 7 layout, ordered by creation time. */
import { describe, expect, it } from "@effect/vitest"
import { RunId } from "../src/index.js"

const layout = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe("RunId.generate", () => {
  it("has the version 7 layout with the milliseconds in its first 48 bits", () => {
    const at = Date.UTC(2026, 10, 27, 12, 0, 0, 123)
    const id = RunId.generate(at)
    expect(id).toMatch(layout)
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at)
    expect(RunId.generate(0).slice(0, 13)).toBe("00000000-0000")
  })

  it("sorts by creation time, and ids of one millisecond differ", () => {
    const ids = [5, 1_000, 1_001, 2 ** 40].map((at) => RunId.generate(at))
    expect([...ids].sort()).toEqual(ids)
    const same = Array.from({ length: 1_000 }, () => RunId.generate(1_700_000_000_000))
    expect(new Set(same).size).toBe(1_000)
    for (const id of same) expect(id).toMatch(layout)
  })
})
