/** The claim token format: `<uuid>:<id>`, made per row from a batch's prefix and read back. */
import { describe, expect, it } from "@effect/vitest"
import { JobStore } from "@jobss/core"

const { ClaimToken } = JobStore

describe("ClaimToken", () => {
  it("a token is the batch's prefix (a UUID and a colon) then the row id, and gives the id back", () => {
    const prefix = ClaimToken.prefix()
    expect(prefix).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:$/)
    const id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    const token = ClaimToken.make(prefix, id)
    expect(token).toBe(`${prefix}${id}`)
    expect(ClaimToken.idOf(token)).toBe(id)
    expect(ClaimToken.isFor(token, id)).toBe(true)
  })

  it("a token is for its own row only; text without the form is for none", () => {
    const prefix = ClaimToken.prefix()
    expect(ClaimToken.isFor(ClaimToken.make(prefix, "a"), "b")).toBe(false)
    expect(ClaimToken.isFor(ClaimToken.make(prefix, "ab"), "b")).toBe(false)
    expect(ClaimToken.isFor("not-a-claim", "not-a-claim")).toBe(false)
    // ids may hold colons: the id is everything after the prefix's colon
    expect(ClaimToken.idOf(ClaimToken.make(prefix, "x:y"))).toBe("x:y")
    expect(ClaimToken.isFor(ClaimToken.make(prefix, "x:y"), "x:y")).toBe(true)
  })

  it("each prefix is fresh", () => {
    expect(ClaimToken.prefix()).not.toBe(ClaimToken.prefix())
  })
})
