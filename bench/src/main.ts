/**
 * `npm run bench`: JobsS against graphile-worker, pg-boss, SqlPersistedQueue and raw SQL
 * ceilings (issue "throughput and latency"). Starts its own PostgreSQL (fsync on, default
 * settings) and MariaDB servers, runs every case interleaved (A B A B, each configuration at
 * least 3 times), prints medians and ratios, writes `bench/RESULTS.md` and
 * `bench/results/latest.json`, and stops the servers at the end, also on failure or Ctrl-C.
 *
 * Environment:
 *   BENCH_QUICK=1          tiny sizes (seconds): the smoke test's mode
 *   BENCH_CASES=a,b        only these cases (throughput, enqueue, latency, precision, scale, backends)
 *   BENCH_SYSTEMS=jobss    only these systems (jobss, graphile, pgboss, persisted, plainjob, raw)
 *   BENCH_REPS=n           repetitions (default 3)
 *   BENCH_OUT=dir          write latest.json (and RESULTS.md unless BENCH_NO_REPORT=1) there
 *                          instead of bench/results and bench/RESULTS.md
 *   BENCH_PG_URL, BENCH_MYSQL_URL   existing servers (admin URLs) instead of throwaway ones
 *   BENCH_NO_MARIADB=1     skip MariaDB
 */
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { loadavg } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { backends, throughput } from "./cases/throughput.js"
import type { SystemId } from "./common.js"
import { killConsumers } from "./consumerProcess.js"
import type { BenchContext, Results } from "./context.js"
import { dropCreated, sqliteFolder } from "./db.js"
import { environment } from "./environment.js"
import { type VersionComparisons, writeReport } from "./report.js"
import { type Server, startMariadb, startPostgres } from "./servers.js"

const benchDir = join(dirname(fileURLToPath(import.meta.url)), "..")

/** `results/versions.json`, the comparisons of versions of JobsS (kept beside every run's report), if any. */
const versionComparisons = (): Promise<VersionComparisons | undefined> =>
  readFile(join(benchDir, "results", "versions.json"), "utf8").then(
    (text) => JSON.parse(text) as VersionComparisons,
    () => undefined
  )
const log = (message: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`)

type CaseName = "throughput" | "enqueue" | "latency" | "precision" | "scale" | "backends"

const caseOrder: ReadonlyArray<CaseName> = ["throughput", "enqueue", "latency", "precision", "scale", "backends"]

const cases: Record<CaseName, (context: BenchContext) => Promise<void>> = {
  throughput,
  enqueue: async (context) => (await import("./cases/enqueue.js")).enqueue(context),
  latency: async (context) => (await import("./cases/latency.js")).latency(context),
  precision: async (context) => (await import("./cases/latency.js")).precision(context),
  scale: async (context) => (await import("./cases/scale.js")).scale(context),
  backends
}

const list = (value: string | undefined): Array<string> | undefined =>
  value === undefined || value.trim() === ""
    ? undefined
    : value
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "")

const main = async (): Promise<number> => {
  const started = Date.now()
  const quick = process.env.BENCH_QUICK === "1"
  const reps = Number(process.env.BENCH_REPS ?? (quick ? 1 : 3))
  const selected = (list(process.env.BENCH_CASES) ?? caseOrder) as ReadonlyArray<CaseName>
  for (const name of selected) if (!caseOrder.includes(name)) throw new Error(`unknown case ${name}`)
  const systems = list(process.env.BENCH_SYSTEMS) as ReadonlyArray<SystemId> | undefined
  const outDir = process.env.BENCH_OUT ?? join(benchDir, "results")
  const reportFile = process.env.BENCH_OUT ? join(process.env.BENCH_OUT, "RESULTS.md") : join(benchDir, "RESULTS.md")
  const writeMarkdown = process.env.BENCH_NO_REPORT !== "1"

  let interrupted = false
  const servers: Array<Server> = []
  const sqlite = await sqliteFolder()
  const cleanup = async () => {
    killConsumers()
    await dropCreated() // matters on existing servers; throwaway ones are deleted whole
    await Promise.allSettled(servers.map((server) => server.stop()))
    await sqlite.remove()
  }
  let cleaning: Promise<void> | undefined
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (interrupted) return
      interrupted = true
      log(`${signal}: stopping the consumers and the database servers`)
      cleaning ??= cleanup()
      cleaning.finally(() => process.exit(130))
    })
  }
  // an error thrown outside the cases' promises (a driver's unhandled 'error' event) would otherwise end
  // the process with its database servers and consumers still running
  process.on("uncaughtException", (error) => {
    log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    interrupted = true
    cleaning ??= cleanup()
    cleaning.finally(() => process.exit(1))
  })

  const results: Results = {
    startedAt: new Date(started).toISOString(),
    quick,
    environment: {},
    rows: [],
    extra: {},
    errors: []
  }
  const save = async () => {
    await mkdir(outDir, { recursive: true })
    await writeFile(join(outDir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`)
  }

  try {
    const needsMariadb = selected.includes("backends") && process.env.BENCH_NO_MARIADB !== "1"
    log(`cases: ${selected.join(", ")}${systems ? `; systems: ${systems.join(", ")}` : ""}; ${reps} repetitions`)
    const [pg, mysql] = await Promise.all([startPostgres(log), needsMariadb ? startMariadb(log) : undefined])
    servers.push(pg)
    if (mysql) servers.push(mysql)
    Object.assign(results.environment, await environment(pg, mysql))
    const context: BenchContext = {
      quick,
      reps,
      systems: systems ? new Set(systems) : undefined,
      pg,
      mysql,
      sqliteFile: sqlite.file,
      log,
      results,
      save,
      interrupted: () => interrupted
    }
    for (const name of selected) {
      if (interrupted) break
      const caseStarted = Date.now()
      const loadBefore = loadavg()[0] ?? 0
      log(`case ${name} (machine load average ${loadBefore.toFixed(1)})`)
      try {
        await cases[name](context)
      } catch (error) {
        const message = `case ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`
        log(message)
        results.errors.push(message)
      }
      results.extra[`${name}DurationS`] = Math.round((Date.now() - caseStarted) / 1000)
      // Other work on the machine skews every figure: the 1-minute load average says how much there was.
      const load = (results.extra["loadAverage"] ?? {}) as Record<string, { start: number; end: number }>
      load[name] = { start: Number(loadBefore.toFixed(1)), end: Number((loadavg()[0] ?? 0).toFixed(1)) }
      results.extra["loadAverage"] = load
      await save()
    }
    results.finishedAt = new Date().toISOString()
    results.durationS = Math.round((Date.now() - started) / 1000)
    await save()
    const report = writeReport(results, await versionComparisons())
    if (writeMarkdown) await writeFile(reportFile, report)
    console.log(report)
    log(
      `done in ${results.durationS} s; results in ${join(outDir, "latest.json")}${writeMarkdown ? ` and ${reportFile}` : ""}`
    )
    return results.errors.length > 0 ? 1 : 0
  } finally {
    cleaning ??= cleanup()
    await cleaning
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    process.exit(1)
  }
)
