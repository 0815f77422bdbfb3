/**
 * Throughput: `size` no-op jobs inserted up front, then one consumer process with 10 workers;
 * the time from its start until every job is completed in the database. JobsS also with its runs
 * in a queue limited to 50, and in 100 partitions of concurrency 1 (100 workers, so the limits bind).
 * Also the `backends` case (JobsS on MariaDB and SQLite against their raw SQL ceilings, and on SQLite
 * against the SQLite job queues from npm) and the peak RSS of each consumer process (the `memory`
 * figure is JobsS's in the largest PostgreSQL case).
 */
import type { Backend, DrainResult, SystemId } from "../common.js"
import { cpuBusyPercent, cpuTicks, median, now, round } from "../common.js"
import { startConsumer } from "../consumerProcess.js"
import { type BenchContext, type Row, rowFor, updateMedians, wanted } from "../context.js"
import { createDatabase, dropDatabase, mysqlExec, pgExec, removeSqlite } from "../db.js"
import { intoQueue } from "../jobssRows.js"
import { setupOf } from "../systems.js"

/** One configuration of the throughput case. */
interface Config {
  readonly system: SystemId
  readonly variant: string
  readonly label: string
  /** Longest wait for one repetition at a size. */
  readonly capMs: (size: number) => number
  /** Whether the configuration runs at this size. */
  readonly runsAt: (size: number, sizes: ReadonlyArray<number>) => boolean
  /** Said in the results when a size is not run. */
  readonly skipNote?: string
  /** Workers of the consumer (default 10). */
  readonly workers?: number
}

const all = () => true
const smallestOnly = (size: number, sizes: ReadonlyArray<number>) => size === Math.min(...sizes)

/** The PostgreSQL configurations, in the interleaving order. */
const pgConfigs = (quick: boolean): ReadonlyArray<Config> => {
  const cap = (full: number) => (quick ? 20_000 : full)
  return [
    {
      system: "jobss",
      variant: "default",
      label: "JobsS (workers 10)",
      capMs: (n) => cap(n > 50_000 ? 40_000 : 30_000),
      runsAt: all
    },
    {
      system: "jobss",
      variant: "queue50",
      label: "JobsS, a queue limited to 50 (workers 100)",
      capMs: () => cap(60_000),
      runsAt: smallestOnly,
      skipNote: "the queued JobsS cases are run at the smallest size only",
      workers: 100
    },
    {
      system: "jobss",
      variant: "partitions100",
      label: "JobsS, 100 partitions of concurrency 1 (workers 100)",
      capMs: () => cap(60_000),
      runsAt: smallestOnly,
      skipNote: "the queued JobsS cases are run at the smallest size only",
      workers: 100
    },
    {
      system: "graphile",
      variant: "lq500batch",
      label: "graphile-worker (localQueue 500, completeJobBatchDelay 0)",
      capMs: () => cap(60_000),
      runsAt: all
    },
    {
      system: "pgboss",
      variant: "batch100",
      label: "pg-boss (batchSize 100, localConcurrency 10)",
      capMs: () => cap(60_000),
      runsAt: all
    },
    {
      system: "raw",
      variant: "pg",
      label: "raw SQL ceiling (4 clients, rows kept)",
      capMs: () => cap(60_000),
      runsAt: all
    },
    {
      system: "raw",
      variant: "pg-delete",
      label: "raw SQL ceiling (4 clients, rows deleted)",
      capMs: () => cap(60_000),
      runsAt: smallestOnly,
      skipNote: "the rows-deleted ceiling is run at the smallest size only"
    },
    {
      system: "graphile",
      variant: "lq500",
      label: "graphile-worker (localQueue 500)",
      capMs: () => cap(10_000),
      runsAt: smallestOnly,
      skipNote:
        "graphile-worker with localQueue 500 alone is run at the smallest size only (it completes jobs one by one)"
    },
    {
      system: "graphile",
      variant: "default",
      label: "graphile-worker (default)",
      capMs: () => cap(6_000),
      runsAt: smallestOnly,
      skipNote: "default graphile-worker is run at the smallest size only (its rate does not depend on the size)"
    },
    {
      system: "pgboss",
      variant: "default",
      label: "pg-boss (default)",
      capMs: () => 3_000,
      runsAt: smallestOnly,
      skipNote: "default pg-boss (batchSize 1, one worker, 2 s polling) is run at the smallest size only, capped at 3 s"
    },
    {
      system: "persisted",
      variant: "default",
      label: "@effect/sql SqlPersistedQueue (10 takers)",
      capMs: () => cap(6_000),
      runsAt: smallestOnly,
      skipNote: "SqlPersistedQueue is run at the smallest size only"
    }
  ]
}

/** The SQLite job queues from npm, side by side with JobsS on SQLite (one worker runs one job at a time). */
const sqlitePeers = (quick: boolean): ReadonlyArray<Config> => [
  {
    system: "plainjob",
    variant: "default",
    label: "plainjob (10 workers)",
    capMs: () => (quick ? 20_000 : 60_000),
    runsAt: all
  }
]

const otherConfigs = (backend: Backend, quick: boolean): ReadonlyArray<Config> => [
  {
    system: "jobss",
    variant: "default",
    label: `JobsS on ${backend} (workers 10)`,
    capMs: () => 20_000,
    runsAt: all
  },
  ...(backend === "sqlite" ? sqlitePeers(quick) : []),
  {
    system: "raw",
    variant: backend,
    label: `raw SQL ceiling on ${backend} (${backend === "sqlite" ? "1 client" : "4 clients"})`,
    capMs: () => (quick ? 20_000 : 60_000),
    runsAt: all
  }
]

const templates = new Map<string, string>()

/** A migrated template database for a PostgreSQL system (created once). */
const pgTemplate = async (context: BenchContext, system: SystemId): Promise<string> => {
  const existing = templates.get(system)
  if (existing) return existing
  const adminUrl = context.pg!.url
  const name = `bench_tpl_${system}`
  const url = await createDatabase("postgres", adminUrl, name)
  await setupOf(system, "postgres").install(url)
  templates.set(system, name)
  return name
}

/** A fresh database with the system's schema; `drop` removes it. */
const freshDatabase = async (
  context: BenchContext,
  backend: Backend,
  system: SystemId,
  tag: string
): Promise<{ readonly url: string; readonly drop: () => Promise<void> }> => {
  const name = `bench_${tag}_${system}`
  if (backend === "postgres") {
    const template = await pgTemplate(context, system)
    const url = await createDatabase("postgres", context.pg!.url, name, template)
    return { url, drop: () => dropDatabase("postgres", context.pg!.url, name) }
  }
  if (backend === "mariadb") {
    const url = await createDatabase("mariadb", context.mysql!.url, name)
    await setupOf(system, "mariadb").install(url)
    return { url, drop: () => dropDatabase("mariadb", context.mysql!.url, name) }
  }
  const file = context.sqliteFile(name)
  await removeSqlite(file)
  await setupOf(system, "sqlite").install(file)
  return { url: file, drop: () => removeSqlite(file) }
}

/** One repetition: fill, settle the database, drain in a fresh consumer process. */
const repetition = async (
  context: BenchContext,
  backend: Backend,
  config: Config,
  size: number
): Promise<
  DrainResult & { readonly fillMs: number; readonly fillPerSecond: number; readonly machineCpuPercent: number }
> => {
  const db = await freshDatabase(context, backend, config.system, "tp")
  try {
    // The consumer process loads while the queue fills (it starts working only on "go").
    const consumerStarting = startConsumer({
      mode: "drain",
      system: config.system,
      backend,
      url: db.url,
      variant: config.variant,
      count: size,
      workers: config.workers ?? 10,
      capMs: config.capMs(size)
    })
    consumerStarting.catch(() => undefined)
    const fillStarted = now()
    await setupOf(config.system, backend).fill(db.url, size)
    const queued = config.system === "jobss" && backend === "postgres" ? intoQueue(config.variant) : undefined
    if (queued !== undefined) await pgExec(db.url, queued)
    const fillMs = now() - fillStarted
    // Same starting line for everyone: fresh statistics, no checkpoint debt from the fill.
    if (backend === "postgres") await pgExec(db.url, "VACUUM ANALYZE", "CHECKPOINT")
    if (backend === "mariadb") await mysqlExec(db.url, "FLUSH TABLES")
    const consumer = await consumerStarting
    const before = await cpuTicks()
    const result = await consumer.drain()
    const machineCpuPercent = cpuBusyPercent(before, await cpuTicks())
    return { ...result, fillMs: round(fillMs, 0), fillPerSecond: round((size / fillMs) * 1000, 0), machineCpuPercent }
  } finally {
    await db.drop()
  }
}

const describe = (result: DrainResult & { readonly machineCpuPercent: number }) =>
  `${result.perSecond.toLocaleString("en-US")} jobs/s in ${(result.elapsedMs / 1000).toFixed(2)} s` +
  `${result.capped ? ` (CAPPED: ${result.remaining} left)` : ""}, RSS ${result.peakRssMiB} MiB, ` +
  `machine CPU ${result.machineCpuPercent}%` +
  `${result.duplicates > 0 ? `, ${result.duplicates} DUPLICATES` : ""}`

/** Runs the configurations interleaved: for each repetition, each configuration once. */
const runInterleaved = async (
  context: BenchContext,
  caseName: string,
  backend: Backend,
  configs: ReadonlyArray<Config>,
  sizes: ReadonlyArray<number>
): Promise<void> => {
  for (const size of sizes) {
    const active = configs.filter((config) => wanted(context, config.system))
    const rows = new Map<Config, Row>()
    for (const config of active) {
      const row = rowFor(context, {
        case: caseName,
        backend,
        system: config.system,
        variant: config.variant,
        label: config.label,
        params: { size }
      })
      if (!config.runsAt(size, sizes)) {
        if (config.skipNote && !row.notes.includes(config.skipNote)) row.notes.push(config.skipNote)
        continue
      }
      rows.set(config, row)
    }
    for (let rep = 1; rep <= context.reps; rep++) {
      for (const [config, row] of rows) {
        if (context.interrupted()) return
        try {
          const result = await repetition(context, backend, config, size)
          const { store, ...figures } = result
          const storeFigures = Object.entries(store ?? {}).flatMap(([operation, entry]) => [
            [`store.${operation}.calls`, entry.calls],
            [`store.${operation}.rows`, entry.rows],
            [`store.${operation}.ms`, entry.ms]
          ])
          row.reps.push({ ...figures, ...Object.fromEntries(storeFigures) })
          if (result.capped) {
            const note = `capped at ${config.capMs(size) / 1000} s: the rate is over the jobs completed by then`
            if (!row.notes.includes(note)) row.notes.push(note)
          }
          updateMedians(row, median)
          context.log(`${caseName} ${backend} ${size} #${rep} ${config.label}: ${describe(result)}`)
        } catch (error) {
          const message = `${caseName} ${backend} ${size} ${config.label}: ${String(error)}`
          context.log(`FAILED ${message}`)
          context.results.errors.push(message)
          row.notes.push(`a repetition failed: ${String(error).slice(0, 300)}`)
        }
        await context.save()
      }
    }
  }
}

/** `BENCH_SIZES=20000,200000` overrides the sizes of the PostgreSQL throughput case. */
const sizesFrom = (value: string | undefined): ReadonlyArray<number> | undefined =>
  value ? value.split(",").map((item) => Number(item)) : undefined

/** PostgreSQL throughput: JobsS against the peers and the raw ceiling. */
export const throughput = async (context: BenchContext): Promise<void> => {
  if (!context.pg) return
  const sizes = sizesFrom(process.env.BENCH_SIZES) ?? (context.quick ? [200, 500] : [20_000, 200_000])
  await runInterleaved(context, "throughput", "postgres", pgConfigs(context.quick), sizes)
}

/** MariaDB and SQLite throughput: JobsS against each one's raw ceiling (and on SQLite, the SQLite job queues). */
export const backends = async (context: BenchContext): Promise<void> => {
  const sizes = context.quick ? [200] : [20_000]
  if (context.mysql) await runInterleaved(context, "backends", "mariadb", otherConfigs("mariadb", context.quick), sizes)
  await runInterleaved(context, "backends", "sqlite", otherConfigs("sqlite", context.quick), sizes)
}
