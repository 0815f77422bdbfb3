/**
 * `bench/RESULTS.md`: the machine, versions and settings, a table per case with medians and the
 * JobsS / peer ratios, the issue's targets marked met or not with what limits them, and where
 * JobsS's time went (from the store timings of its consumer process).
 */
import type { Results, Row } from "./context.js"

const fmt = (value: number | undefined, digits = 0): string =>
  value === undefined || !Number.isFinite(value)
    ? "-"
    : value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })

const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? undefined : a / b

const fmtRatio = (value: number | undefined): string => (value === undefined ? "-" : `${value.toFixed(2)}x`)

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): Array<string> => [
  `| ${header.join(" | ")} |`,
  `| ${header.map((_, index) => (index === 0 ? "---" : "---:")).join(" | ")} |`,
  ...rows.map((row) => `| ${row.join(" | ")} |`)
]

const ran = (row: Row | undefined): row is Row => row !== undefined && row.reps.length > 0

const cappedReps = (row: Row): number => row.reps.filter((rep) => rep["capped"] === true).length

const find = (results: Results, predicate: (row: Row) => boolean): Row | undefined => results.rows.find(predicate)

const rowsOf = (results: Results, name: string): ReadonlyArray<Row> => results.rows.filter((row) => row.case === name)

const sizesOf = (rows: ReadonlyArray<Row>): ReadonlyArray<number> =>
  [...new Set(rows.map((row) => Number(row.params["size"])))].sort((a, b) => a - b)

/** JobsS's unlimited row (variant `default`) of a throughput case at a size. */
const jobssAt = (results: Results, name: string, backend: string, size: number) =>
  find(
    results,
    (row) =>
      row.case === name &&
      row.backend === backend &&
      row.system === "jobss" &&
      row.variant === "default" &&
      row.params["size"] === size
  )

const peerAt = (results: Results, system: string, variant: string, size: number) =>
  find(
    results,
    (row) =>
      row.case === "throughput" && row.system === system && row.variant === variant && row.params["size"] === size
  )

interface Target {
  readonly target: string
  readonly measured: string
  readonly met: boolean | undefined
  readonly limit: string
}

/** Where JobsS's time went in a throughput row (from its store timings, medians over repetitions). */
const storeStory = (row: Row): string | undefined => {
  const m = row.median
  const claims = m["store.claim.calls"]
  const settles = m["store.settle.calls"]
  const elapsed = m["elapsedMs"]
  if (claims === undefined || settles === undefined || elapsed === undefined) return undefined
  const claimRows = (m["store.claim.rows"] ?? 0) / claims
  const settleRows = (m["store.settle.rows"] ?? 0) / settles
  const claimMs = (m["store.claim.ms"] ?? 0) / claims
  const settleMs = (m["store.settle.ms"] ?? 0) / settles
  const pollerBusy = (100 * (m["store.claim.ms"] ?? 0)) / elapsed
  const settlerBusy = (100 * (m["store.settle.ms"] ?? 0)) / elapsed
  // CPU ms per 1,000 runs x runs per second / 1,000 = CPU ms per second: the share of one core in use
  const coreShare =
    m["cpuMsPer1000"] === undefined || m["perSecond"] === undefined
      ? undefined
      : (m["cpuMsPer1000"] * m["perSecond"]) / 10_000
  return (
    `${fmt(claims)} claims of ${claimRows.toFixed(1)} runs each (${claimMs.toFixed(2)} ms per claim round trip; ` +
    `the poller spent ${pollerBusy.toFixed(0)}% of the run waiting on claims), ${fmt(settles)} settle batches of ` +
    `${settleRows.toFixed(1)} runs (${settleMs.toFixed(2)} ms each; settling ${settlerBusy.toFixed(0)}% of the run); ` +
    "JobsS process CPU " +
    `${fmt(m["cpuMsPer1000"], 0)} ms per 1,000 runs${coreShare === undefined ? "" : ` (${(coreShare / 100).toFixed(2)} s of CPU per second of the run; JavaScript runs on one thread, garbage collection partly on others)`}; ` +
    `machine CPU ${fmt(m["machineCpuPercent"])}%`
  )
}

const throughputSection = (results: Results, name: string, backends: ReadonlyArray<string>): Array<string> => {
  const lines: Array<string> = []
  for (const backend of backends) {
    const rows = rowsOf(results, name).filter((row) => row.backend === backend)
    for (const size of sizesOf(rows)) {
      const atSize = rows.filter((row) => row.params["size"] === size)
      if (!atSize.some(ran)) continue
      const jobss = atSize.find((row) => row.system === "jobss")
      lines.push(`### ${backend}, ${fmt(size)} no-op jobs inserted up front, 10 workers`, "")
      lines.push(
        ...table(
          ["system", "jobs/s (median)", "reps", "JobsS / this", "peak RSS MiB", "CPU ms / 1,000 jobs", "notes"],
          atSize.map((row) => [
            row.label,
            ran(row) ? fmt(row.median["perSecond"]) : "not run",
            `${row.reps.length}${ran(row) && cappedReps(row) > 0 ? ` (${cappedReps(row)} capped)` : ""}`,
            row === jobss || !ran(row) ? "" : fmtRatio(ratio(jobss?.median["perSecond"], row.median["perSecond"])),
            fmt(row.median["peakRssMiB"], 0),
            fmt(row.median["cpuMsPer1000"], 0),
            row.notes.join("; ")
          ])
        ),
        ""
      )
      const story = jobss && ran(jobss) ? storeStory(jobss) : undefined
      if (story) lines.push(`JobsS: ${story}.`, "")
    }
  }
  return lines
}

/** A target this run has no figures for (its case, size or systems were not run). */
const unmeasured = (target: string): Target => ({
  target,
  measured: "not measured in this run",
  met: undefined,
  limit: ""
})

/** A target from its figures: the limit text only when it is not met. */
const check = (target: string, measured: string, met: boolean | undefined, limit: () => string): Target => ({
  target,
  measured,
  met,
  limit: met === false ? limit() : ""
})

const pct = (value: number | undefined): string => (value === undefined ? "-" : `${(100 * value).toFixed(0)}%`)

/** `value >= bound` (undefined when the value is). */
const atLeast = (value: number | undefined, bound: number): boolean | undefined =>
  value === undefined ? undefined : value >= bound

/** `value < bound` (undefined when the value is missing). */
const under = (value: number | undefined, bound: number): boolean | undefined =>
  value === undefined || !Number.isFinite(value) ? undefined : value < bound

/** The fastest configuration of `system` that ran at `size` in the PostgreSQL throughput case. */
const bestAt = (results: Results, system: string, size: number): Row | undefined =>
  rowsOf(results, "throughput")
    .filter((row) => row.backend === "postgres" && row.system === system && row.params["size"] === size && ran(row))
    .sort((a, b) => (b.median["perSecond"] ?? 0) - (a.median["perSecond"] ?? 0))[0]

/** The PostgreSQL throughput targets: at each size, against the peers, CPU, queued runs; memory at the largest. */
const postgresTargets = (results: Results): Array<Target> => {
  const targets: Array<Target> = []
  const sizes = sizesOf(rowsOf(results, "throughput").filter((row) => row.backend === "postgres"))
  const measuredSizes = sizes.filter((size) => ran(jobssAt(results, "throughput", "postgres", size)))
  if (measuredSizes.length === 0) {
    return [
      "PostgreSQL throughput at each size: >= graphile-worker's best configuration",
      "PostgreSQL throughput at each size: >= 1.5x pg-boss (batchSize 100)",
      "JobsS process CPU at each size: <= 20 ms per 1,000 runs",
      "Peak RSS in the largest PostgreSQL case: <= 1.2x graphile-worker's (its best configuration)",
      "Runs in a queue with limits: >= 0.8x the unlimited JobsS row"
    ].map(unmeasured)
  }
  for (const size of measuredSizes) {
    const jobss = jobssAt(results, "throughput", "postgres", size) as Row
    const rate = jobss.median["perSecond"]
    const tell = storyOnce(jobss)
    const graphile = bestAt(results, "graphile", size)
    const graphileTarget = `PostgreSQL throughput, ${fmt(size)} jobs: >= graphile-worker's best configuration`
    if (graphile) {
      const r = ratio(rate, graphile.median["perSecond"])
      targets.push(
        check(
          graphileTarget,
          `${fmt(rate)} vs ${fmt(graphile.median["perSecond"])} jobs/s of ${graphile.label} = ${fmtRatio(r)}`,
          atLeast(r, 1),
          tell
        )
      )
    } else targets.push(unmeasured(graphileTarget))
    const pgboss = peerAt(results, "pgboss", "batch100", size)
    const pgbossTarget = `PostgreSQL throughput, ${fmt(size)} jobs: >= 1.5x pg-boss (batchSize 100)`
    if (ran(pgboss)) {
      const r = ratio(rate, pgboss.median["perSecond"])
      targets.push(
        check(
          pgbossTarget,
          `${fmt(rate)} vs ${fmt(pgboss.median["perSecond"])} jobs/s = ${fmtRatio(r)}`,
          atLeast(r, 1.5),
          tell
        )
      )
    } else targets.push(unmeasured(pgbossTarget))
    const cpu = jobss.median["cpuMsPer1000"]
    const peersCpu = [graphile, ran(pgboss) ? pgboss : undefined]
      .filter((row): row is Row => row !== undefined)
      .map((row) => `${row.label}: ${fmt(row.median["cpuMsPer1000"])} ms`)
    targets.push(
      check(
        `JobsS process CPU, ${fmt(size)} jobs: <= 20 ms per 1,000 runs`,
        `${fmt(cpu)} ms${peersCpu.length > 0 ? ` (${peersCpu.join(", ")})` : ""}`,
        cpu === undefined ? undefined : cpu <= 20,
        tell
      )
    )
    for (const variant of ["queue50", "partitions100"]) {
      const queued = find(
        results,
        (row) =>
          row.case === "throughput" &&
          row.backend === "postgres" &&
          row.system === "jobss" &&
          row.variant === variant &&
          row.params["size"] === size
      )
      if (!ran(queued)) continue
      const r = ratio(queued.median["perSecond"], rate)
      targets.push(
        check(
          `Runs in a queue with limits, ${fmt(size)} jobs: ${queued.label} >= 0.8x the unlimited JobsS row`,
          `${fmt(queued.median["perSecond"])} vs ${fmt(rate)} jobs/s = ${fmtRatio(r)}`,
          atLeast(r, 0.8),
          () => storeStory(queued) ?? ""
        )
      )
    }
  }
  const queuedRan = rowsOf(results, "throughput").some(
    (row) => row.system === "jobss" && row.variant !== "default" && ran(row)
  )
  if (!queuedRan) targets.push(unmeasured("Runs in a queue with limits: >= 0.8x the unlimited JobsS row"))
  const largest = Math.max(...measuredSizes)
  const jobss = jobssAt(results, "throughput", "postgres", largest) as Row
  const graphile = bestAt(results, "graphile", largest)
  const memoryTarget = `Peak RSS, ${fmt(largest)} jobs: <= 1.2x graphile-worker's (its best configuration)`
  if (graphile) {
    const r = ratio(jobss.median["peakRssMiB"], graphile.median["peakRssMiB"])
    // How JobsS's and graphile-worker's peak RSS grow with the size: measured at every size of the run.
    const growth = () =>
      measuredSizes
        .map((size) => {
          const peer = bestAt(results, "graphile", size)
          return (
            `${fmt(size)} jobs: JobsS ${fmt(jobssAt(results, "throughput", "postgres", size)?.median["peakRssMiB"])} MiB` +
            (peer ? `, graphile-worker ${fmt(peer.median["peakRssMiB"])} MiB` : "")
          )
        })
        .join("; ")
    targets.push(
      check(
        memoryTarget,
        `${fmt(jobss.median["peakRssMiB"])} vs ${fmt(graphile.median["peakRssMiB"])} MiB of ${graphile.label} = ${fmtRatio(r)}`,
        r === undefined ? undefined : r <= 1.2,
        () =>
          `peak RSS by size (medians): ${growth()}; of it, loading the modules (plain node, measured apart): ` +
          "JobsS's with @effect/sql-pg 90-94 MiB (493 of Effect's modules), graphile-worker's 58 MiB, Node alone 39 MiB"
      )
    )
  } else targets.push(unmeasured(memoryTarget))
  return targets
}

/** Latency and delayed-run precision on PostgreSQL. */
const latencyTargets = (results: Results): Array<Target> => {
  const targets: Array<Target> = []
  const latency = rowsOf(results, "latency")
  const jl = latency.find((row) => row.system === "jobss")
  const gl = latency.find((row) => row.system === "graphile")
  // difference of medians: an estimate of the time from the create call's return to the job's start
  const afterCreate = (row: Row) => (row.median["p50Ms"] ?? 0) - (row.median["createP50Ms"] ?? 0)
  const limit = (row: Row) => () =>
    `the create call takes ${fmt(row.median["createP50Ms"], 2)} ms (p50), then about ${fmt(afterCreate(row), 2)} ms ` +
    "pass until the job starts (a LISTEN wake-up, one claim statement and its commit)" +
    (ran(gl)
      ? `; graphile-worker: ${fmt(gl.median["createP50Ms"], 2)} ms, then about ${fmt(afterCreate(gl), 2)} ms`
      : "")
  const p50Target = "Latency p50 no worse than graphile-worker's"
  const p99Target = "Latency p99 under 10 ms"
  if (ran(jl) && ran(gl)) {
    targets.push(
      check(
        p50Target,
        `${fmt(jl.median["p50Ms"], 2)} ms vs ${fmt(gl.median["p50Ms"], 2)} ms`,
        jl.median["p50Ms"] === undefined || gl.median["p50Ms"] === undefined
          ? undefined
          : jl.median["p50Ms"] <= gl.median["p50Ms"],
        limit(jl)
      )
    )
  } else targets.push(unmeasured(p50Target))
  if (ran(jl)) {
    targets.push(
      check(
        p99Target,
        `${fmt(jl.median["p99Ms"], 2)} ms (p95 ${fmt(jl.median["p95Ms"], 2)} ms)`,
        under(jl.median["p99Ms"], 10),
        limit(jl)
      )
    )
  } else targets.push(unmeasured(p99Target))
  const precision = rowsOf(results, "precision").find((row) => row.system === "jobss")
  const precisionTarget = "Delayed-run precision p95 under 5 ms"
  if (ran(precision)) {
    targets.push(
      check(
        precisionTarget,
        `p50 ${fmt(precision.median["p50Ms"], 2)} ms, p95 ${fmt(precision.median["p95Ms"], 2)} ms`,
        under(precision.median["p95Ms"], 5),
        () =>
          `start minus due time: min ${fmt(precision.median["minMs"], 2)} ms, max ${fmt(precision.median["maxMs"], 2)} ms` +
          (ran(jl)
            ? `; an idle worker's enqueue to start (latency case) is ${fmt(jl.median["p50Ms"], 2)} ms at p50`
            : "")
      )
    )
  } else targets.push(unmeasured(precisionTarget))
  return targets
}

/** createRun and createRuns against the faster of graphile-worker and pg-boss. */
const enqueueTargets = (results: Results): Array<Target> => {
  const enqueue = rowsOf(results, "enqueue").filter(ran)
  return (
    [
      ["one", "`createRun` one at a time", "p50Ms", "per call"],
      ["batch", "`createRuns` in batches", "batchP50Ms", "per batch"]
    ] as const
  ).map(([variant, what, timing, per]) => {
    const target = `${what}: >= the faster of graphile-worker and pg-boss`
    const jobss = enqueue.find((row) => row.system === "jobss" && row.variant === variant)
    const faster = enqueue
      .filter((row) => (row.system === "graphile" || row.system === "pgboss") && row.variant === variant)
      .sort((a, b) => (b.median["perSecond"] ?? 0) - (a.median["perSecond"] ?? 0))[0]
    if (!jobss || !faster) return unmeasured(target)
    const r = ratio(jobss.median["perSecond"], faster.median["perSecond"])
    return check(
      target,
      `${fmt(jobss.median["perSecond"])} vs ${fmt(faster.median["perSecond"])} jobs/s of ${faster.label} = ${fmtRatio(r)}`,
      atLeast(r, 1),
      () => `p50 ${per}: JobsS ${fmt(jobss.median[timing], 2)} ms, ${faster.label} ${fmt(faster.median[timing], 2)} ms`
    )
  })
}

/** Twice a row's rate, and the time per run that leaves for everything in one process. */
const budget = (row: Row): string => {
  const twice = 2 * (row.median["perSecond"] ?? Number.NaN)
  return `${fmt(twice)} jobs/s, ${fmt(1_000_000 / twice, 0)} µs per run, SQLite's own statements included (they run in the JobsS process)`
}

/** MariaDB against its raw ceiling; SQLite against JobsS on PostgreSQL and the SQLite job queues. */
const backendTargets = (results: Results): Array<Target> => {
  const targets: Array<Target> = []
  const backendRows = (backend: string) => rowsOf(results, "backends").filter((row) => row.backend === backend)
  const mariadb = backendRows("mariadb")
  const mariadbTarget = "MariaDB throughput >= 60% of its raw SQL ceiling"
  const mariadbSizes = sizesOf(mariadb).filter((size) => ran(jobssAt(results, "backends", "mariadb", size)))
  for (const size of mariadbSizes) {
    const jobss = jobssAt(results, "backends", "mariadb", size) as Row
    const raw = mariadb.find((row) => row.system === "raw" && row.params["size"] === size)
    if (!ran(raw)) {
      targets.push(unmeasured(mariadbTarget))
      continue
    }
    const r = ratio(jobss.median["perSecond"], raw.median["perSecond"])
    targets.push(
      check(
        mariadbTarget,
        `${fmt(jobss.median["perSecond"])} vs ${fmt(raw.median["perSecond"])} jobs/s = ${pct(r)}`,
        atLeast(r, 0.6),
        () => storeStory(jobss) ?? ""
      )
    )
  }
  if (mariadbSizes.length === 0) targets.push(unmeasured(mariadbTarget))
  const sqlite = backendRows("sqlite")
  const sqliteSizes = sizesOf(sqlite).filter((size) => ran(jobssAt(results, "backends", "sqlite", size)))
  const postgresTarget = "SQLite throughput >= 2x JobsS's PostgreSQL throughput at the same size"
  const peersTarget = "SQLite throughput ahead of every Node SQLite job queue"
  for (const size of sqliteSizes) {
    const jobss = jobssAt(results, "backends", "sqlite", size) as Row
    const rate = jobss.median["perSecond"]
    const tell = storyOnce(jobss)
    const onPostgres = jobssAt(results, "throughput", "postgres", size)
    if (ran(onPostgres)) {
      const r = ratio(rate, onPostgres.median["perSecond"])
      targets.push(
        check(
          `SQLite throughput, ${fmt(size)} jobs: >= 2x JobsS's PostgreSQL throughput at that size`,
          `${fmt(rate)} vs ${fmt(onPostgres.median["perSecond"])} jobs/s = ${fmtRatio(r)}`,
          atLeast(r, 2),
          () => `${tell()}; 2x is ${budget(onPostgres)}`
        )
      )
    } else targets.push(unmeasured(postgresTarget))
    const peers = sqlite.filter(
      (row) => row.params["size"] === size && row.system !== "jobss" && row.system !== "raw" && ran(row)
    )
    for (const peer of peers) {
      const r = ratio(rate, peer.median["perSecond"])
      targets.push(
        check(
          `SQLite throughput, ${fmt(size)} jobs: ahead of ${peer.label}`,
          `${fmt(rate)} vs ${fmt(peer.median["perSecond"])} jobs/s = ${fmtRatio(r)}`,
          r === undefined ? undefined : r > 1,
          tell
        )
      )
    }
    if (peers.length === 0) targets.push(unmeasured(peersTarget))
  }
  if (sqliteSizes.length === 0) targets.push(unmeasured(postgresTarget), unmeasured(peersTarget))
  return targets
}

/** The scale case's claim cost, flat as the pending runs grow. */
const scaleTargets = (results: Results): Array<Target> => {
  const scale = rowsOf(results, "scale").filter(ran)
  if (scale.length !== 2) return [unmeasured("Claim cost flat within 1.5x as the pending runs grow")]
  const [small, large] = [...scale].sort((a, b) => Number(a.params["pending"]) - Number(b.params["pending"])) as [
    Row,
    Row
  ]
  const r = ratio(large.median["usPerRun"], small.median["usPerRun"])
  return [
    check(
      `Claim cost flat within 1.5x from ${fmt(Number(small.params["pending"]))} to ${fmt(Number(large.params["pending"]))} pending runs`,
      `${fmt(small.median["usPerRun"])} vs ${fmt(large.median["usPerRun"])} us per run = ${fmtRatio(r)}`,
      r === undefined ? undefined : r <= 1.5,
      () =>
        `claim p50 ${fmt(small.median["claimP50Ms"], 2)} vs ${fmt(large.median["claimP50Ms"], 2)} ms, settle p50 ` +
        `${fmt(small.median["settleP50Ms"], 2)} vs ${fmt(large.median["settleP50Ms"], 2)} ms`
    )
  ]
}

/** The issue's targets, in its order, each from this run's figures. */
/** The store story of `row` the first time it is asked for, then "as above". */
const storyOnce = (row: Row): (() => string) => {
  let told = false
  return () => {
    if (told) return "as above"
    told = true
    return storeStory(row) ?? ""
  }
}

/** The distinct notes of a section's rows, as one paragraph (none: nothing). */
const rowNotes = (rows: ReadonlyArray<Row>): Array<string> => {
  const noted = [...new Set(rows.flatMap((row) => row.notes))]
  return noted.length === 0 ? [] : [`${noted.join("; ")}.`, ""]
}

const targetsOf = (results: Results): ReadonlyArray<Target> => [
  ...postgresTargets(results),
  ...latencyTargets(results),
  ...enqueueTargets(results),
  ...backendTargets(results),
  ...scaleTargets(results)
]

const environmentSection = (results: Results): Array<string> => {
  const env = results.environment as {
    machine?: Record<string, unknown>
    node?: string
    jobssFrom?: string
    versions?: Record<string, string>
    postgres?: { version: string; settings: Record<string, string> }
    mariadb?: { version: string; settings: Record<string, string> }
    sqlite?: Record<string, string>
  }
  const m = env.machine ?? {}
  const lines = [
    "## Machine, versions, settings",
    "",
    `- Machine: ${String(m["cpu"])}, ${String(m["cores"])} cores, ${String(m["memoryGiB"])} GiB, ${String(m["os"])}; Node ${env.node ?? "?"}.`,
    `- JobsS ran from its ${env.jobssFrom ?? "TypeScript sources (tsx)"}.`,
    `- PostgreSQL: ${env.postgres?.version.split(" on ")[0] ?? "?"}, default settings: ${Object.entries(
      env.postgres?.settings ?? {}
    )
      .map(([key, value]) => `${key}=${value}`)
      .join(", ")}.`
  ]
  if (env.mariadb) {
    lines.push(
      `- MariaDB: ${env.mariadb.version} (scripts/databases.mjs, made durable again at run time): ${Object.entries(
        env.mariadb.settings
      )
        .map(([key, value]) => `${key}=${value}`)
        .join(", ")}.`
    )
  }
  if (env.sqlite) {
    lines.push(
      `- SQLite: ${Object.entries(env.sqlite)
        .map(([key, value]) => `${key}=${value}`)
        .join(", ")}.`
    )
  }
  lines.push(
    `- Packages: ${Object.entries(env.versions ?? {})
      .map(([key, value]) => `${key} ${value}`)
      .join(", ")}.`,
    ""
  )
  return lines
}

const method = [
  "## Method",
  "",
  "- Every configuration runs in its own consumer process (forked with tsx, which compiles the harness; JobsS runs there",
  "  as the section above says: under `npm run bench`, from its built `dist/`), so its CPU and peak RSS are its own; the",
  "  parent fills the queue first (JobsS on PostgreSQL: one `INSERT ... SELECT generate_series` in SqlStore's layout;",
  "  elsewhere `createRuns`; graphile-worker `addJobs`, pg-boss `insert`, plainjob `addMany`, batches of 1,000), then",
  "  runs `VACUUM ANALYZE` and `CHECKPOINT` (PostgreSQL), then tells the consumer to start. Throughput is the time from",
  "  that start until the database says every job is completed; jobs/s = completed jobs / that time. Each PostgreSQL",
  "  repetition gets a fresh database copied from a migrated template; SQLite a new file.",
  "- Configurations are interleaved (A B C, A B C, ...), each repetition once per round; figures are medians over the",
  "  repetitions. A capped repetition stopped waiting at its cap; its rate is over the jobs completed by then.",
  "- JobsS's store is wrapped to time every store call (one clock read per call); that is where the claim and settle",
  "  figures come from.",
  "- Latency: an idle consumer process, the parent creates one job at a time (another process, another client) and",
  "  waits for its start report; the figure is from the start of the create call to the start of the job. Precision:",
  "  runs created with `delay: 1 s`, staggered by 20 ms; the job's start minus its stored due time.",
  "- Targets: each is computed from this run's medians. graphile-worker's best configuration is its fastest row at",
  "  that size (its peak RSS is that row's), pg-boss's is its batch configuration; in the enqueue case the faster",
  "  peer is whichever of graphile-worker and pg-boss had the higher rate for that API. The queued JobsS rows are",
  "  compared with the unlimited JobsS row of the same size, SQLite with JobsS's PostgreSQL row of the same size and",
  "  with each SQLite job queue of the backends case. A target whose rows this run did not measure says so.",
  "- Scale: SqlStore's own `claim` (10 runs, as an instance with 10 free workers asks) and `settle` on tables of",
  "  5,000,000 finished runs plus 10,000 or 1,000,000 pending ones (generated in SQL in SqlStore's layout), topped up",
  "  after each repetition so the pending count stays put.",
  ""
]

const notes = (results: Results): Array<string> => {
  const load = results.extra["loadAverage"] as Record<string, { start: number; end: number }> | undefined
  const lines = [
    "## Notes",
    "",
    "- graphile-worker 0.18.0 and pg-boss 12 declare `engines.node >= 22` (pg-boss 12: >= 22.12); both install with an",
    "  engine warning and run on Node 20 here (every job of every repetition completed), so the newest majors are used.",
    "- graphile-worker's fastest setup is `localQueue.size` 500 plus `completeJobBatchDelay: 0` (completions of jobs",
    "  finishing together in one statement); `localQueue` 500 alone completes jobs one by one and is shown too (the",
    "  targets compare with the fastest graphile-worker configuration run at each size). pg-boss's `batchSize` 100 + `localConcurrency` 10 also sets `burstWhenBatchFull`:",
    "  without it each of its workers sleeps `pollingIntervalSeconds` (2 s) between full batches, about 500 jobs/s.",
    "  Default pg-boss (`batchSize` 1, one worker, a fetch every 2 s) does about one job every 2 s.",
    "- SqlPersistedQueue has no batch insert: its queue is filled with one `INSERT ... SELECT` in its table layout.",
    "- plainjob 0.0.14 (SQLite on better-sqlite3) is filled with `addMany` (one transaction per 1,000 jobs). Its",
    "  worker runs one job at a time and has no concurrency or batch option, so its consumer runs 10 workers on one",
    "  queue (one connection; its README's several worker processes are not used: every system here gets one",
    "  consumer process): each job is claimed in its own `BEGIN IMMEDIATE` transaction (select, update), read",
    "  back by id, run and marked done in another statement, and each worker loop also checks plainjob's cron table.",
    "  plainjob sets WAL with `synchronous = NORMAL` on its connection itself; JobsS on SQLite runs at the level in",
    "  the settings above. liteque 0.8.0 (the other SQLite job queue on npm; every version so far) claims in an",
    "  `async` callback of a better-sqlite3 transaction, which better-sqlite3 rejects since 11.10 (`Transaction",
    "  function cannot return a promise`): on the workspace's better-sqlite3 12 it cannot claim a job, so it is not",
    "  in the table.",
    "- The raw SQL ceilings use plain drivers (`pg`, `mysql2`, `better-sqlite3`) on a minimal table with a partial",
    "  index on pending rows: claim 100 (`FOR UPDATE SKIP LOCKED` on the servers), run them, complete the 100 in one",
    "  statement. SQLite has one writer, so its ceiling uses one connection in the consumer process.",
    "- What limits JobsS's PostgreSQL throughput now is the two cores, shared by the JobsS process and the server, and",
    "  both are busy. Measured in one process on the test server (100,000 runs): the JobsS process uses about 60-65 µs",
    "  of CPU per run and PostgreSQL about 73-79 µs. On an idle server, one session claiming and settling 300 runs at a",
    "  time, PostgreSQL spends 24-30 µs of CPU per run on the claim (it locks each row, then updates it) and 24-33 µs",
    "  on the settlement (it updates the row again and, before 2026-12-04, inserted its attempt into the run history,",
    "  each with its index entries: three row writes per run where graphile-worker and the raw ceilings make two; a",
    "  success now writes no history row, its run's row stands for it, so a run that succeeds is written twice too,",
    "  and the in-turn comparison above moved PostgreSQL from 17,015 to 18,912 jobs/s). A claim returning only",
    "  the id and claim token instead of the whole 29-column row spends about 8 µs less, but the runtime needs the row.",
    "  Of the JobsS process's share, the runtime itself (a fiber per attempt, bookkeeping, metrics) is about 21 µs per",
    "  run over a store that answers at once; garbage collection is a fifth of the process's busy time (each run",
    "  allocates about 18 KB, most of it for the fiber of its attempt and for the row); the rest is driver work. With",
    "  both sides saturated, a 400-run claim takes 15-30 ms instead of about 2 ms alone.",
    "- Two fixes in this version were about waiting, not CPU: Effect's default scheduler starts ready fibers in",
    "  microtasks, so the answers to the next claim and to settlements waited until the whole buffer had run (the",
    "  workers idled half of the 20,000-run case); run fibers now use a scheduler that lets I/O in every 2 ms. And on",
    "  a table without statistics yet (a fresh database that just received a burst, as in every repetition here), the",
    "  planner scanned and sorted every pending run on each claim (250 ms with 200,000 pending); the claim is now a",
    "  PL/pgSQL function that always walks the pending index in due order (2 ms).",
    "- MariaDB: its slow log put the server's time per run in the claim's UPDATE (about 32 µs per row), the settlement's",
    "  UPDATE (30 µs) and history INSERT (19 µs, which a success no longer makes); MariaDB has no partial indexes,",
    "  and each UPDATE moves the row's entries in the `(status, ...)` indexes that stand in for them. The settlement",
    "  no longer locks its rows with a read first (it updates, and records by id when every fence held), a claim no",
    "  longer reads its rows back, and",
    "  retention's index no longer changes on claims: the server's CPU per run went from 95-106 µs to 76-90 µs",
    "  (measured in one process, alternating the two versions). The JobsS process uses another 85-100 µs per run",
    "  (mysql2's row parsing and parameter encoding, garbage collection). A repetition of this case lasts 2-3 s and",
    "  they vary widely here: single repetitions measured between 34% and 53% of the raw ceiling for this version.",
    "- SQLite runs inside the JobsS process. Timing each statement of a 20,000-run repetition (1.4-1.5 s in all):",
    "  the claims 240-280 ms (12-14 µs per run; 394 ms before the claim read its rows as values, better-sqlite3",
    "  building each 34-column row object key by key), the settlements' UPDATE 210 ms, their history INSERT 48 ms",
    "  and their COMMIT 190-245 ms (200 transactions). The COMMIT is not the disk's sync: with `synchronous = NORMAL`",
    "  it took as long; it writes the pages the transaction changed to the WAL, and the runs table has 14 indexes.",
    "  Since 2026-12-04 a batch of successes is one autocommit UPDATE, with no history INSERT and no transaction of",
    "  its own: 15,116 to 18,784 jobs/s in the in-turn comparison above.",
    "  The rest, about 0.7 s, is JavaScript. The raw ceiling spends about 5 µs per run in all (a 6-column table with",
    "  one index and no history).",
    "- The latency gap to graphile-worker, measured with one instance and one creating client in one process",
    "  (p50): the LISTEN notification reaches the wake-up stream's consumer after 0.55 ms and the poller's claim call",
    "  0.3 ms later; the store and @effect/sql take 0.3 ms to send the claim, its round trip takes 1.3 ms (0.44 ms of",
    "  it in PostgreSQL, 0.17 ms of that parsing and planning the call: graphile-worker calls a named prepared",
    "  statement, which @effect/sql-pg does not offer), decoding 0.2 ms, and the run's fiber starts 0.35 ms later.",
    "  Effect's streams and fiber hand-offs cost about 0.05-0.3 ms each on this idle machine; graphile-worker's path",
    "  is plain callbacks. p99 over 200 runs moves by several milliseconds between runs (graphile-worker's too)."
  ]
  if (load) {
    lines.push(
      `- Machine load average (1 minute) at the start / end of each case: ${Object.entries(load)
        .map(([name, value]) => `${name} ${value.start} / ${value.end}`)
        .join(", ")}. On 2 cores, anything above about 2 before a case means other work shared the machine.`
    )
  }
  lines.push("")
  return lines
}

/** One version's figures in a comparison: jobs/s (or ms) medians and their repetitions, by figure key. */
interface VersionFigures {
  readonly commit: string
  readonly label: string
  readonly [figure: string]: string | { readonly median: number; readonly reps: ReadonlyArray<number> }
}

/** Versions of JobsS measured in turn on one machine, oldest first. */
export interface VersionComparison {
  readonly method: string
  readonly measured: string
  readonly versions: ReadonlyArray<VersionFigures>
}

/** `bench/results/versions.json`: the comparisons of versions, newest first. */
export interface VersionComparisons {
  readonly comparisons: ReadonlyArray<VersionComparison>
}

/** The figures a comparison may hold, in column order, with their headers. */
const versionFigures: ReadonlyArray<readonly [key: string, header: string, digits?: number]> = [
  ["postgres", "PostgreSQL"],
  ["postgres_cpu", "CPU ms / 1,000 (PostgreSQL)"],
  ["postgres_rss", "peak RSS MiB (PostgreSQL)", 1],
  ["postgres_limited", "a queue limited to 50"],
  ["postgres_partitioned", "100 partitions"],
  ["create_one", "createRun one at a time"],
  ["create_batches", "createRuns, batches of 1,000"],
  ["latency_p50", "latency p50 ms", 2],
  ["mariadb", "MariaDB"],
  ["sqlite", "SQLite"],
  ["sqlite_cpu", "CPU ms / 1,000 (SQLite)"],
  ["sqlite_rss", "peak RSS MiB (SQLite)", 1],
  ["raw_postgres", "raw PostgreSQL"],
  ["raw_mariadb", "raw MariaDB"],
  ["raw_sqlite", "raw SQLite"]
]

/** The before-and-after tables of the version comparisons: each with the figures it measured. */
const versionsSection = (comparisons: VersionComparisons | undefined): Array<string> => {
  if (comparisons === undefined || comparisons.comparisons.length === 0) return []
  const figure = (version: VersionFigures, key: string, digits = 0): string => {
    const value = version[key]
    if (value === undefined || typeof value === "string") return "-"
    return `${fmt(value.median, digits)} (${value.reps.map((rep) => fmt(rep, digits)).join(", ")})`
  }
  const lines = ["## Before and after (versions of JobsS measured in turn, 20,000 no-op runs)", ""]
  for (const comparison of comparisons.comparisons) {
    const columns = versionFigures.filter(([key]) => comparison.versions.some((version) => version[key] !== undefined))
    lines.push(
      `Measured ${comparison.measured} by ${comparison.method}. Figures in jobs/s unless marked ms: the median, then each repetition.`,
      "",
      ...table(
        ["version", ...columns.map(([, header]) => header)],
        comparison.versions.map((version) => [
          `${version.commit}: ${version.label}`,
          ...columns.map(([key, , digits]) => figure(version, key, digits))
        ])
      ),
      ""
    )
  }
  return lines
}

/** The Markdown report of a run. */
export const writeReport = (results: Results, versions?: VersionComparisons): string => {
  const lines: Array<string> = [
    "# JobsS benchmark results",
    "",
    `Written by \`npm run bench\` (bench/src/main.ts) on ${results.startedAt.slice(0, 16).replace("T", " ")} UTC;` +
      ` the run took ${results.durationS ?? "?"} s${results.quick ? " (BENCH_QUICK: tiny sizes, not meaningful)" : ""}.` +
      " Every figure is in `bench/results/latest.json`.",
    ""
  ]
  const targets = targetsOf(results)
  lines.push("## Targets of the issue", "")
  lines.push(
    ...table(
      ["target", "measured", "met", "what limits it (measured)"],
      targets.map((t) => [t.target, t.measured, t.met === undefined ? "?" : t.met ? "yes" : "**no**", t.limit])
    ),
    ""
  )
  lines.push("## Throughput (PostgreSQL)", "", ...throughputSection(results, "throughput", ["postgres"]))
  lines.push(
    "## Backends (MariaDB and SQLite against their raw SQL ceilings; SQLite also against the SQLite job queues)",
    "",
    ...throughputSection(results, "backends", ["mariadb", "sqlite"])
  )

  const enqueue = rowsOf(results, "enqueue")
  if (enqueue.some(ran)) {
    const jobssOne = enqueue.find((row) => row.system === "jobss" && row.variant === "one")
    const jobssBatch = enqueue.find((row) => row.system === "jobss" && row.variant === "batch")
    lines.push("## Enqueue (PostgreSQL, nothing consuming)", "")
    lines.push(
      ...table(
        ["API", "jobs/s (median)", "per call p50 ms", "JobsS / this"],
        enqueue.map((row) => {
          const jobss = row.variant === "one" ? jobssOne : jobssBatch
          return [
            `${row.label}, ${fmt(Number(row.params["count"]))} jobs`,
            ran(row) ? fmt(row.median["perSecond"]) : "not run",
            fmt(row.median["p50Ms"] ?? row.median["batchP50Ms"], 2),
            row.system === "jobss" ? "" : fmtRatio(ratio(jobss?.median["perSecond"], row.median["perSecond"]))
          ]
        })
      ),
      ""
    )
  }

  const latency = rowsOf(results, "latency")
  if (latency.some(ran)) {
    const jobss = latency.find((row) => row.system === "jobss")
    lines.push(
      `## Latency (PostgreSQL, idle worker, enqueue to start, ${fmt(Number(latency[0]?.params["runs"]))} runs per repetition)`,
      ""
    )
    lines.push(
      ...table(
        ["system", "p50 ms", "p95 ms", "p99 ms", "max ms", "create call p50 ms", "p50 JobsS / this"],
        latency.map((row) => [
          row.label,
          fmt(row.median["p50Ms"], 2),
          fmt(row.median["p95Ms"], 2),
          fmt(row.median["p99Ms"], 2),
          fmt(row.median["maxMs"], 2),
          fmt(row.median["createP50Ms"], 2),
          row === jobss ? "" : fmtRatio(ratio(jobss?.median["p50Ms"], row.median["p50Ms"]))
        ])
      ),
      ""
    )
  }

  const precision = rowsOf(results, "precision")
  if (precision.some(ran)) {
    lines.push("## Precision (runs delayed by 1 s: start minus due time)", "")
    lines.push(
      ...table(
        ["system", "runs", "p50 ms", "p95 ms", "max ms"],
        precision.map((row) => [
          row.label,
          fmt(Number(row.params["runs"])),
          fmt(row.median["p50Ms"], 2),
          fmt(row.median["p95Ms"], 2),
          fmt(row.median["maxMs"], 2)
        ])
      ),
      ""
    )
  }

  const scale = rowsOf(results, "scale")
  if (scale.some(ran)) {
    lines.push("## Scale (SqlStore claim + settle cost as the table grows)", "")
    lines.push(
      ...table(
        ["table", "us per run", "claim p50 ms", "claim p95 ms", "settle p50 ms", "settle p95 ms"],
        scale.map((row) => [
          row.label,
          fmt(row.median["usPerRun"]),
          fmt(row.median["claimP50Ms"], 2),
          fmt(row.median["claimP95Ms"], 2),
          fmt(row.median["settleP50Ms"], 2),
          fmt(row.median["settleP95Ms"], 2)
        ])
      ),
      ""
    )
    lines.push(...rowNotes(scale))
    const setup = results.extra["scaleSetup"]
    if (setup) lines.push(`Setup: ${JSON.stringify(setup)}.`, "")
  }

  const dashboard = rowsOf(results, "dashboard")
  if (dashboard.some(ran)) {
    lines.push(
      "## Dashboard (time to answer a page on the scale case's table of 1,000,000 pending and 5,000,000 finished runs)",
      ""
    )
    lines.push(
      ...table(
        ["page", "path", "requests per repetition", "p50 ms", "p95 ms"],
        dashboard.map((row) => [
          row.label,
          `\`${String(row.params["path"])}\``,
          fmt(Number(row.reps[0]?.["requests"] ?? 0)),
          fmt(row.median["p50Ms"], 2),
          fmt(row.median["p95Ms"], 2)
        ])
      ),
      ""
    )
    lines.push(...rowNotes(dashboard))
  }

  const memoryRows = rowsOf(results, "throughput").filter((row) => row.backend === "postgres" && ran(row))
  const largest = Math.max(0, ...memoryRows.map((row) => Number(row.params["size"])))
  const atLargest = memoryRows.filter((row) => row.params["size"] === largest)
  if (atLargest.length > 0) {
    lines.push(`## Memory (peak RSS of each consumer process in the ${fmt(largest)}-job case)`, "")
    lines.push(
      ...table(
        ["system", "peak RSS MiB (median)", "max over repetitions"],
        atLargest.map((row) => [
          row.label,
          fmt(row.median["peakRssMiB"], 0),
          fmt(Math.max(...row.reps.map((rep) => Number(rep["peakRssMiB"]))), 0)
        ])
      ),
      ""
    )
  }

  lines.push(...versionsSection(versions), ...environmentSection(results), ...method, ...notes(results))
  if (results.errors.length > 0) {
    lines.push("## Errors", "", ...results.errors.map((error) => `- ${error.split("\n")[0]}`), "")
  }
  return `${lines.join("\n")}\n`
}
