/** The claim token format: `<owner>.<nonce>:<id>`, made per row from a batch's prefix and read back. */
import { describe, expect, it } from "@effect/vitest"
import { JobStore } from "@jobss/core"

const { ClaimToken } = JobStore

describe("ClaimToken", () => {
  it("a token is the batch's prefix (owner, nonce and a colon) then the row id, and gives the id back", () => {
    const prefix = ClaimToken.prefix("instance-a")
    expect(prefix).toMatch(/^[0-9a-f]{16}\.[0-9a-f]{16}:$/)
    const id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    const token = ClaimToken.make(prefix, id)
    expect(token).toBe(`${prefix}${id}`)
    // fits the claim columns (varchar(100)) with a run id
    expect(token.length).toBeLessThanOrEqual(100)
    expect(ClaimToken.idOf(token)).toBe(id)
    expect(ClaimToken.isFor(token, id)).toBe(true)
  })

  it("a token is for its own row only; text without the form is for none", () => {
    const prefix = ClaimToken.prefix("instance-a")
    expect(ClaimToken.isFor(ClaimToken.make(prefix, "a"), "b")).toBe(false)
    expect(ClaimToken.isFor(ClaimToken.make(prefix, "ab"), "b")).toBe(false)
    expect(ClaimToken.isFor("not-a-claim", "not-a-claim")).toBe(false)
    // ids may hold colons: the id is everything after the prefix's colon
    expect(ClaimToken.idOf(ClaimToken.make(prefix, "x:y"))).toBe("x:y")
    expect(ClaimToken.isFor(ClaimToken.make(prefix, "x:y"), "x:y")).toBe(true)
  })

  it("each prefix is fresh, and every prefix of one instance starts with its owned text, another's does not", () => {
    const first = ClaimToken.prefix("instance-a")
    expect(first).not.toBe(ClaimToken.prefix("instance-a"))
    expect(first.startsWith(ClaimToken.owned("instance-a"))).toBe(true)
    expect(ClaimToken.prefix("instance-a").startsWith(ClaimToken.owned("instance-a"))).toBe(true)
    expect(ClaimToken.prefix("instance-b").startsWith(ClaimToken.owned("instance-a"))).toBe(false)
  })
})
