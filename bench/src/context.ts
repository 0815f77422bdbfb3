/**
 * What every case gets: the servers, the sizes (full or quick), which systems to run, and the
 * results being collected.
 */
import type { Backend, SystemId } from "./common.js"
import type { Server } from "./servers.js"

/** One configuration's repetitions and their medians. */
export interface Row {
  readonly case: string
  readonly backend: Backend
  readonly system: SystemId
  readonly variant: string
  /** A readable name: "graphile-worker 0.18 (localQueue 500)". */
  readonly label: string
  /** Case parameters (size, batch, ...). */
  readonly params: Record<string, number | string | boolean>
  /** Every repetition's figures. */
  readonly reps: Array<Record<string, number | boolean | string>>
  /** Medians of the numeric figures over the repetitions. */
  median: Record<string, number>
  /** Anything worth saying about this row (capped runs, skipped sizes, ...). */
  notes: Array<string>
}

/** Everything measured in one run. */
export interface Results {
  readonly startedAt: string
  finishedAt?: string
  durationS?: number
  readonly quick: boolean
  readonly environment: Record<string, unknown>
  readonly rows: Array<Row>
  /** Figures that are not per-configuration rows (profile, scale setup times, ...). */
  readonly extra: Record<string, unknown>
  readonly errors: Array<string>
}

/** The benchmark's environment for a case. */
export interface BenchContext {
  readonly quick: boolean
  /** Repetitions of each case. */
  readonly reps: number
  /** Systems to run (`BENCH_SYSTEMS`), all when undefined. */
  readonly systems: ReadonlySet<SystemId> | undefined
  readonly pg: Server | undefined
  readonly mysql: Server | undefined
  /** A fresh SQLite file path for `name`. */
  readonly sqliteFile: (name: string) => string
  readonly log: (message: string) => void
  readonly results: Results
  /** Writes the JSON results so far. */
  readonly save: () => Promise<void>
  /** True once Ctrl-C was pressed: cases stop between repetitions. */
  readonly interrupted: () => boolean
}

/** Whether `system` is part of this run. */
export const wanted = (context: BenchContext, system: SystemId): boolean =>
  context.systems === undefined || context.systems.has(system)

/** Adds a row (or returns the existing one with the same identity). */
export const rowFor = (context: BenchContext, identity: Omit<Row, "reps" | "median" | "notes">): Row => {
  const key = JSON.stringify([identity.case, identity.backend, identity.system, identity.variant, identity.params])
  const found = context.results.rows.find(
    (row) => JSON.stringify([row.case, row.backend, row.system, row.variant, row.params]) === key
  )
  if (found) return found
  const row: Row = { ...identity, reps: [], median: {}, notes: [] }
  context.results.rows.push(row)
  return row
}

/** Recomputes a row's medians from its repetitions. */
export const updateMedians = (row: Row, median: (values: ReadonlyArray<number>) => number): void => {
  const keys = new Set<string>()
  for (const rep of row.reps)
    for (const [key, value] of Object.entries(rep)) if (typeof value === "number") keys.add(key)
  const result: Record<string, number> = {}
  for (const key of keys) {
    result[key] = median(row.reps.map((rep) => rep[key]).filter((value): value is number => typeof value === "number"))
  }
  row.median = result
}
