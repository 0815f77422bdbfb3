/**
 * `npm run example` ends by itself once its last line is printed: an instance whose scope has closed
 * leaves nothing behind that keeps Node alive (no `process.exit` anywhere in the example).
 */
import { spawn } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

/** Runs `npm run example` on a fresh SQLite file; resolves its output, exit code and the time from its last output to its exit. */
const runExample = (filename: string) =>
  new Promise<{ output: string; code: number | null; lingeredMs: number }>((resolve, reject) => {
    const child = spawn("npm", ["run", "--silent", "example"], {
      cwd: repo,
      env: { ...process.env, DATABASE_URL: filename },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    let lastOutputAt = Date.now()
    const collect = (chunk: Buffer) => {
      output += chunk.toString()
      lastOutputAt = Date.now()
    }
    child.stdout.on("data", collect)
    child.stderr.on("data", collect)
    child.on("error", reject)
    child.on("exit", (code) => resolve({ output, code, lingeredMs: Date.now() - lastOutputAt }))
  })

it("npm run example exits within a few seconds of its last line", { timeout: 90_000 }, async () => {
  const folder = await mkdtemp(join(tmpdir(), "jobss-example-"))
  try {
    const { output, code, lingeredMs } = await runExample(join(folder, "example.db"))
    expect(output).toContain("Sleepy: failed")
    expect(code).toBe(0)
    expect(lingeredMs).toBeLessThan(3_000)
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
})
