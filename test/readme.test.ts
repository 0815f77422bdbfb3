import { readFileSync } from "node:fs"
import { join } from "node:path"
/**
 * The README's code blocks are excerpts of the example programs, which the other tests run:
 * every block marked `<!-- from <file> -->` must appear verbatim in that file.
 */
import { describe, expect, it } from "@effect/vitest"

const root = join(import.meta.dirname, "..")
const readme = readFileSync(join(root, "README.md"), "utf8")
const blocks = [...readme.matchAll(/<!-- from (\S+) -->\n```(?:ts|js)\n([\s\S]*?)```/g)].map(([, file, code]) => ({
  file: file!,
  code: code!
}))

describe("README", () => {
  it("has excerpts of the examples", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(10)
  })

  it.each(blocks.map((block, index) => [index, block.file, block.code] as const))(
    "block %i is an excerpt of %s",
    (_, file, code) => {
      expect(readFileSync(join(root, file), "utf8")).toContain(code)
    }
  )
})
