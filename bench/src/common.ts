/**
 * Shared vocabulary of the benchmark: systems, backends, the parent/child protocol, clocks and
 * statistics.
 */

/** A database backend. */
export type Backend = "postgres" | "mariadb" | "sqlite"

/** A system under test. `raw` is the hand-written SQL ceiling; `plainjob` runs on SQLite only. */
export type SystemId = "jobss" | "graphile" | "pgboss" | "persisted" | "plainjob" | "raw"

/**
 * What a consumer (the process that executes jobs) does:
 * - `drain`: `count` jobs were inserted before; execute them all, report the time until every one
 *   is completed in the database (or until `capMs`, whichever comes first);
 * - `listen`: stay idle and report each job's start as it happens, until told to stop.
 */
export interface ConsumerSpec {
  readonly mode: "drain" | "listen"
  readonly system: SystemId
  readonly backend: Backend
  /** Connection URL of the database (a file path for SQLite). */
  readonly url: string
  /** A named configuration of the system (`default`, `lq500`, `batch100`, ...). */
  readonly variant: string
  /** Jobs to expect (`drain`): their payloads are `{ i }` with `i` in `[0, count)`. */
  readonly count: number
  /** Jobs executed at the same time (the "concurrency 10"). */
  readonly workers: number
  /** Give up waiting after this long (`drain`); the result is then marked `capped`. */
  readonly capMs: number
}

/** What a `drain` consumer reports. */
export interface DrainResult {
  /** From the start command until every job was completed in the database (or the cap). */
  readonly elapsedMs: number
  /** Job executions seen by the handler. */
  readonly executed: number
  /** Payload indexes executed more than once. */
  readonly duplicates: number
  /** Payload indexes never executed (0 unless capped). */
  readonly missing: number
  /** Jobs still unfinished in the database at the end (0 unless capped). */
  readonly remaining: number
  /** True when the cap ended the run before all jobs completed. */
  readonly capped: boolean
  /** Completed jobs per second (executed and completed / elapsed). */
  readonly perSecond: number
  /** Peak resident set size of the consumer process, in MiB. */
  readonly peakRssMiB: number
  /** Time spent starting the worker (included in `elapsedMs`). */
  readonly startupMs: number
  /** CPU time (user + system) of the consumer process during the run, per 1,000 completed jobs. */
  readonly cpuMsPer1000: number
  /** JobsS only: calls, rows and milliseconds per store operation during the run. */
  readonly store?: Record<string, { readonly calls: number; readonly rows: number; readonly ms: number }>
}

/** Messages from the parent to a consumer process. */
export type ToChild =
  | { readonly type: "spec"; readonly spec: ConsumerSpec }
  | { readonly type: "go" }
  | { readonly type: "stop" }

/** Messages from a consumer process to the parent. */
export type FromChild =
  | { readonly type: "ready" }
  /** `listen` mode: the worker is running and idle. */
  | { readonly type: "running" }
  /** `listen` mode: a job started. `at` is wall-clock ms (sub-ms precision); `due` its due time if known. */
  | { readonly type: "started"; readonly i: number; readonly at: number; readonly due: number | null }
  | { readonly type: "done"; readonly result: DrainResult }
  | { readonly type: "stopped"; readonly peakRssMiB: number }
  | { readonly type: "error"; readonly message: string }

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const now = (): number => performance.timeOrigin + performance.now()

/** Sleeps. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The median of some numbers (NaN for none). */
export const median = (values: ReadonlyArray<number>): number => percentile(values, 50)

/** A percentile with linear interpolation between closest ranks (NaN for none). */
export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const rank = (p / 100) * (sorted.length - 1)
  const low = Math.floor(rank)
  const high = Math.ceil(rank)
  const a = sorted[low] as number
  const b = sorted[high] as number
  return a + (b - a) * (rank - low)
}

/** Rounds for display and JSON (3 significant decimals where small). */
export const round = (value: number, digits = 2): number =>
  Number.isFinite(value) ? Number(value.toFixed(digits)) : value

/** Peak RSS of this process so far, in MiB. */
export const peakRssMiB = (): number => round(process.resourceUsage().maxRSS / 1024, 1)

/** A random lowercase hex suffix for database names. */
export const randomSuffix = (): string => Math.random().toString(16).slice(2, 10)

/** Busy and total CPU ticks of the whole machine so far (Linux /proc/stat; zeros elsewhere). */
export const cpuTicks = async (): Promise<{ readonly busy: number; readonly total: number }> => {
  try {
    const { readFile } = await import("node:fs/promises")
    const line = (await readFile("/proc/stat", "utf8")).split("\n")[0] ?? ""
    const fields = line.trim().split(/\s+/).slice(1).map(Number)
    const total = fields.reduce((sum, value) => sum + value, 0)
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0) // idle + iowait
    return { busy: total - idle, total }
  } catch {
    return { busy: 0, total: 0 }
  }
}

/** The machine's CPU use between two `cpuTicks` readings, in percent of all cores. */
export const cpuBusyPercent = (
  before: { readonly busy: number; readonly total: number },
  after: { readonly busy: number; readonly total: number }
): number =>
  after.total > before.total ? round((100 * (after.busy - before.busy)) / (after.total - before.total), 0) : 0
