/**
 * Smoke test of the benchmark (`npm run bench`): a tiny run of every JobsS case (no peers) on
 * the test servers, through the real entry point, checking that it completes with sane numbers:
 * every run done, none lost, none executed twice.
 */
import { spawn } from "node:child_process"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

interface Row {
  readonly case: string
  readonly backend: string
  readonly system: string
  readonly variant: string
  readonly params: Record<string, number | string | boolean>
  readonly reps: ReadonlyArray<Record<string, number | boolean | string>>
  readonly median: Record<string, number>
}

interface Results {
  readonly quick: boolean
  readonly rows: ReadonlyArray<Row>
  readonly errors: ReadonlyArray<string>
}

const serverUrl = (variable: string): string => {
  const url = process.env[variable]
  if (!url) throw new Error(`${variable} is not set: run the smoke test through \`npm test\``)
  return url
}

/** Runs `bench/src/main.ts` in quick mode, JobsS only, and resolves its exit code and output. */
const runBench = (outDir: string) =>
  new Promise<{ code: number; output: string }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--conditions=@jobss/source", "--import", "tsx", join(repo, "bench", "src", "main.ts")],
      {
        cwd: repo,
        env: {
          ...process.env,
          BENCH_QUICK: "1",
          BENCH_REPS: "1",
          BENCH_SYSTEMS: "jobss",
          BENCH_OUT: outDir,
          BENCH_PG_URL: serverUrl("JOBSS_TEST_PG_URL"),
          BENCH_MYSQL_URL: serverUrl("JOBSS_TEST_MYSQL_URL")
        },
        stdio: ["ignore", "pipe", "pipe"]
      }
    )
    let output = ""
    child.stdout.on("data", (chunk) => {
      output += chunk
    })
    child.stderr.on("data", (chunk) => {
      output += chunk
    })
    child.on("error", reject)
    child.on("exit", (code) => resolve({ code: code ?? 1, output }))
  })

describe("npm run bench (quick, JobsS only)", () => {
  let outDir: string
  let results: Results
  let run: { code: number; output: string }

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), "jobss-bench-smoke-"))
    run = await runBench(outDir)
    results = JSON.parse(await readFile(join(outDir, "latest.json"), "utf8")) as Results
  }, 180_000)

  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true })
  })

  const rows = (name: string) => results.rows.filter((row) => row.case === name && row.system === "jobss")

  it("finishes without errors", () => {
    expect(results.errors, run.output.slice(-4_000)).toEqual([])
    expect(run.code, run.output.slice(-4_000)).toBe(0)
    expect(results.quick).toBe(true)
    expect(results.rows.every((row) => row.system === "jobss")).toBe(true)
  })

  it("throughput on PostgreSQL, MariaDB and SQLite: every run completed once", () => {
    const drained = [...rows("throughput"), ...rows("backends")]
    expect(new Set(drained.map((row) => row.backend))).toEqual(new Set(["postgres", "mariadb", "sqlite"]))
    // beside the unlimited case (every size), the queued ones (the smallest size only): a queue limited
    // to 50, 100 partitions of concurrency 1
    const ran = drained.filter((row) => row.reps.length > 0)
    expect(drained.filter((row) => row.reps.length === 0 && row.variant === "default")).toEqual([])
    expect(new Set(ran.filter((row) => row.case === "throughput").map((row) => row.variant))).toEqual(
      new Set(["default", "queue50", "partitions100"])
    )
    for (const row of ran) {
      for (const rep of row.reps) {
        expect(rep["executed"]).toBe(row.params["size"])
        expect(rep["duplicates"]).toBe(0)
        expect(rep["missing"]).toBe(0)
        expect(rep["remaining"]).toBe(0)
        expect(rep["capped"]).toBe(false)
        expect(rep["perSecond"]).toBeGreaterThan(0)
        expect(rep["peakRssMiB"]).toBeGreaterThan(10)
      }
    }
  })

  it("enqueue: createRun and createRuns", () => {
    const enqueue = rows("enqueue")
    expect(enqueue.map((row) => row.variant).sort()).toEqual(["batch", "one"])
    for (const row of enqueue) expect(row.median["perSecond"]).toBeGreaterThan(0)
  })

  it("latency and precision: plausible percentiles", () => {
    const [latency] = rows("latency")
    expect(latency?.reps.length).toBe(1)
    expect(latency?.median["p50Ms"]).toBeGreaterThan(0)
    expect(latency?.median["p99Ms"]).toBeGreaterThanOrEqual(latency?.median["p50Ms"] ?? 0)
    expect(latency?.median["p99Ms"]).toBeLessThan(5_000)
    const [precision] = rows("precision")
    expect(precision?.median["p50Ms"]).toBeGreaterThan(-50) // not started before it was due
    expect(precision?.median["p95Ms"]).toBeLessThan(5_000)
  })

  it("scale: claim and complete cost at both table sizes", () => {
    const scale = rows("scale")
    expect(scale.length).toBe(2)
    for (const row of scale) expect(row.median["usPerRun"]).toBeGreaterThan(0)
  })

  it("dashboard: the overview and two runs pages answered on the scale table", () => {
    const pages = rows("dashboard")
    expect(pages.map((row) => row.variant).sort()).toEqual(["failedOfJob", "overview", "succeededPage2"])
    for (const row of pages) expect(row.median["p50Ms"]).toBeGreaterThan(0)
  })
})
