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

const jobssAt = (results: Results, name: string, backend: string, size: number) =>
  find(
    results,
    (row) => row.case === name && row.backend === backend && row.system === "jobss" && row.params["size"] === size
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

const targetsOf = (results: Results): ReadonlyArray<Target> => {
  const targets: Array<Target> = []
  const tpRows = rowsOf(results, "throughput").filter((row) => row.backend === "postgres")
  for (const size of sizesOf(tpRows)) {
    const jobss = jobssAt(results, "throughput", "postgres", size)
    if (!ran(jobss)) continue
    const rate = jobss.median["perSecond"]
    // The store story once per size, then "as above".
    let told = false
    const tell = (short: boolean) => {
      if (!short) return ""
      if (told) return "as above"
      told = true
      return storeStory(jobss) ?? ""
    }
    const best = [peerAt(results, "graphile", "lq500batch", size), peerAt(results, "graphile", "lq500", size)].filter(
      ran
    )
    for (const peer of best) {
      const r = ratio(rate, peer.median["perSecond"])
      targets.push({
        target: `PostgreSQL throughput, ${fmt(size)} jobs: >= 1.2x ${peer.label}`,
        measured: `${fmt(rate)} vs ${fmt(peer.median["perSecond"])} jobs/s = ${fmtRatio(r)}`,
        met: r === undefined ? undefined : r >= 1.2,
        limit: tell(r !== undefined && r < 1.2)
      })
    }
    for (const variant of ["pg", "pg-delete"]) {
      const raw = peerAt(results, "raw", variant, size)
      if (!ran(raw)) continue
      const r = ratio(rate, raw.median["perSecond"])
      targets.push({
        target: `PostgreSQL throughput, ${fmt(size)} jobs: >= 60% of the ${raw.label}`,
        measured: `${fmt(rate)} vs ${fmt(raw.median["perSecond"])} jobs/s = ${r === undefined ? "-" : `${(100 * r).toFixed(0)}%`}`,
        met: r === undefined ? undefined : r >= 0.6,
        limit: tell(r !== undefined && r < 0.6)
      })
    }
    for (const [system, variant] of [
      ["pgboss", "batch100"],
      ["persisted", "default"]
    ] as const) {
      const peer = peerAt(results, system, variant, size)
      if (!ran(peer)) continue
      const r = ratio(rate, peer.median["perSecond"])
      // "ahead of pg-boss and SqlPersistedQueue by more" than of graphile-worker: at least 1.2x too.
      targets.push({
        target: `PostgreSQL throughput, ${fmt(size)} jobs: ahead of ${peer.label} (by more than 1.2x)`,
        measured: `${fmtRatio(r)}`,
        met: r === undefined ? undefined : r > 1.2,
        limit: tell(r !== undefined && r <= 1.2)
      })
    }
  }
  const latency = rowsOf(results, "latency")
  const jl = latency.find((row) => row.system === "jobss")
  const gl = latency.find((row) => row.system === "graphile")
  if (ran(jl)) {
    // difference of medians: an estimate of the time from the create call's return to the job's start
    const afterCreate = (row: Row) => (row.median["p50Ms"] ?? 0) - (row.median["createP50Ms"] ?? 0)
    const limit =
      `the create call takes ${fmt(jl.median["createP50Ms"], 2)} ms (p50), then about ${fmt(afterCreate(jl), 2)} ms ` +
      "pass until the job starts (a LISTEN wake-up, one claim statement and its commit)" +
      (ran(gl)
        ? `; graphile-worker: ${fmt(gl.median["createP50Ms"], 2)} ms, then about ${fmt(afterCreate(gl), 2)} ms`
        : "")
    if (ran(gl)) {
      targets.push({
        target: "Latency p50 no worse than graphile-worker's",
        measured: `${fmt(jl.median["p50Ms"], 2)} ms vs ${fmt(gl.median["p50Ms"], 2)} ms`,
        met: (jl.median["p50Ms"] ?? Number.POSITIVE_INFINITY) <= (gl.median["p50Ms"] ?? 0),
        limit
      })
    }
    targets.push({
      target: "Latency p99 under 20 ms",
      measured: `${fmt(jl.median["p99Ms"], 2)} ms`,
      met: (jl.median["p99Ms"] ?? Number.POSITIVE_INFINITY) < 20,
      limit
    })
  }
  const precision = rowsOf(results, "precision").find((row) => row.system === "jobss")
  if (ran(precision)) {
    targets.push({
      target: "Delayed-run precision p95 under 20 ms",
      measured: `p50 ${fmt(precision.median["p50Ms"], 2)} ms, p95 ${fmt(precision.median["p95Ms"], 2)} ms`,
      met: (precision.median["p95Ms"] ?? Number.POSITIVE_INFINITY) < 20,
      limit: ""
    })
  }
  const scale = rowsOf(results, "scale").filter(ran)
  if (scale.length === 2) {
    const [small, large] = [...scale].sort((a, b) => Number(a.params["pending"]) - Number(b.params["pending"]))
    const r = ratio(large?.median["usPerRun"], small?.median["usPerRun"])
    targets.push({
      target: `Claim cost flat within 1.5x from ${fmt(Number(small?.params["pending"]))} to ${fmt(Number(large?.params["pending"]))} pending runs`,
      measured: `${fmt(small?.median["usPerRun"])} vs ${fmt(large?.median["usPerRun"])} us per run = ${fmtRatio(r)}`,
      met: r === undefined ? undefined : r <= 1.5,
      limit: ""
    })
  }
  for (const backend of ["mariadb", "sqlite"]) {
    const rows = rowsOf(results, "backends").filter((row) => row.backend === backend)
    for (const size of sizesOf(rows)) {
      const jobss = rows.find((row) => row.system === "jobss" && row.params["size"] === size)
      const raw = rows.find((row) => row.system === "raw" && row.params["size"] === size)
      if (!ran(jobss) || !ran(raw)) continue
      const r = ratio(jobss.median["perSecond"], raw.median["perSecond"])
      targets.push({
        target: `${backend === "mariadb" ? "MariaDB" : "SQLite"} throughput >= 50% of its raw SQL ceiling`,
        measured: `${fmt(jobss.median["perSecond"])} vs ${fmt(raw.median["perSecond"])} jobs/s = ${r === undefined ? "-" : `${(100 * r).toFixed(0)}%`}`,
        met: r === undefined ? undefined : r >= 0.5,
        limit: r !== undefined && r < 0.5 ? (storeStory(jobss) ?? "") : ""
      })
    }
  }
  return targets
}

const environmentSection = (results: Results): Array<string> => {
  const env = results.environment as {
    machine?: Record<string, unknown>
    node?: string
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
  "- Every configuration runs in its own consumer process (forked with tsx), so its CPU and peak RSS are its own; the",
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
    "  finishing together in one statement); `localQueue` 500 alone (the issue's named configuration) completes jobs",
    "  one by one and is shown too. pg-boss's `batchSize` 100 + `localConcurrency` 10 also sets `burstWhenBatchFull`:",
    "  without it each of its workers sleeps `pollingIntervalSeconds` (2 s) between full batches, about 500 jobs/s.",
    "  Default pg-boss (`batchSize` 1, one worker, a fetch every 2 s) does about one job every 2 s.",
    "- SqlPersistedQueue has no batch insert: its queue is filled with one `INSERT ... SELECT` in its table layout.",
    "- plainjob 0.0.14 (SQLite on better-sqlite3) is filled with `addMany` (one transaction per 1,000 jobs). Its",
    "  worker runs one job at a time and has no concurrency or batch option, so its consumer runs 10 workers on one",
    "  queue (one connection): each job is claimed in its own `BEGIN IMMEDIATE` transaction (select, update), read",
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
    "  on the settlement (it updates the row again and inserts its attempt into the run history, each with its index",
    "  entries: three row writes per run where graphile-worker and the raw ceilings make two). A claim returning only",
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
    "  UPDATE (30 µs) and history INSERT (19 µs); MariaDB has no partial indexes, and each UPDATE moves the row's",
    "  entries in the `(status, ...)` indexes that stand in for them. The settlement no longer locks its rows with a",
    "  read first (it updates, and records by id when every fence held), a claim no longer reads its rows back, and",
    "  retention's index no longer changes on claims: the server's CPU per run went from 95-106 µs to 76-90 µs",
    "  (measured in one process, alternating the two versions). The JobsS process uses another 85-100 µs per run",
    "  (mysql2's row parsing and parameter encoding, garbage collection). A repetition of this case lasts 2-3 s and",
    "  they vary widely here: single repetitions measured between 34% and 53% of the raw ceiling for this version.",
    "- SQLite runs inside the JobsS process: of its 135-150 µs per run, about 57 µs is SQLite executing the claim,",
    "  settlement and history statements and about 21 µs the runtime. The raw ceiling spends about 5 µs per run in",
    "  all (a 6-column table with one index and no history): half its rate leaves 10 µs per run for everything, less",
    "  than the runtime's fiber per attempt alone.",
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

/** The Markdown report of a run. */
export const writeReport = (results: Results): string => {
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
    "## Backends (MariaDB and SQLite against their raw SQL ceilings)",
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

  lines.push(...environmentSection(results), ...method, ...notes(results))
  if (results.errors.length > 0) {
    lines.push("## Errors", "", ...results.errors.map((error) => `- ${error.split("\n")[0]}`), "")
  }
  return `${lines.join("\n")}\n`
}
