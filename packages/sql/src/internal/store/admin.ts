/**
 * The admin queries (`JobStoreShape.admin`): `listRuns`, `countRuns`, `countQueueRuns`, `schedules`, `instances`,
 * `throughput`; the changes are in `adminChanges.ts`. Every query walks an index of migration 10 (or 11)
 * in its order and stops at its limit (keyset pages, no OFFSET); `test/adminPlans.test.ts`
 * checks the plans with EXPLAIN on each database. On MySQL (`Dialect.adminKey` `"stage"`, migration
 * 12) the indexes below hold `stage` where they name `status`: a branch reads the pending runs as
 * the `active` entries that are pending, and the running runs through `runs_pending` (status,
 * run_at), never more than the cluster's workers. On SQLite (`"statusWithoutRunning"`, migration
 * 14) they leave running runs out: a branch reads those through `runs_running`, and the distinct
 * values add those of the running runs.
 *
 * - `listRuns` by unique name: `runs_name_created` (unique_name, created_at, id);
 * - `listRuns` by job: one branch per status, each on `runs_job_status_created` (job, status,
 *   created_at, id), merged (a UNION ALL of at most 5 branches of at most `limit + 1` rows each);
 * - `listRuns` by queue: the same, on `runs_queue_status_created` (queue, status, created_at, id) of
 *   migration 11;
 * - `listRuns` otherwise: one branch per status on `runs_status_created` (status, created_at, id);
 * - `countRuns`: the jobs found by a skip-scan of `runs_job_status_created` (a recursive CTE taking
 *   the least job after the previous one, one index seek each), then each job and status counted
 *   on the same index up to `upTo + 1` entries (a UNION ALL of one branch per pair, by chunks);
 * - `countQueueRuns`: the same on `runs_queue_status_created`;
 * - `schedules`: `runs_scheduled` (PostgreSQL, SQLite: a partial index of active scheduled rows;
 *   MySQL: stage, schedule, origin_id), then the previous occurrences by `runs_origin`;
 * - `instances`: `instances_last_seen`; `throughput`: `history_finished`, and for the successes
 *   (`history.ts`) `runs_finished` (MySQL: `runs_finished_at`).
 *
 * @internal
 */
import type { Fragment } from "@effect/sql/Statement"
import { type JobStore, JobsSError } from "@jobss/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { Row } from "../dialect.js"
import * as rows from "../rows.js"
import { int } from "../sqlValues.js"
import { type StoreContext, decodeAll } from "./context.js"
import * as History from "./history.js"

type Admin = JobStore.JobStoreAdmin
type RunQuery = JobStore.RunQuery

/** Every run status, each a branch of an unfiltered list. */
const allStatuses: ReadonlyArray<JobStore.RunStatus> = ["pending", "running", "succeeded", "failed", "cancelled"]

/** The columns runs are counted by, each the first of an index (`job, status, ...`, `queue, status, ...`). */
export type GroupColumn = "job" | "queue"

/** How the runs of one status are read: their condition, and the index (full name) that reads them. */
interface StatusRead {
  readonly where: Fragment
  readonly index: string
}

/** The most pairs one `countGroups` statement counts (SQLite takes at most 500 branches in a UNION). */
const pairsPerStatement = 100

/** The statements of the admin queries (also EXPLAINed by the plan tests). */
export interface AdminStatements {
  /** The first `n` runs of a list in its order, every column (`argsContains` aside). */
  readonly firstRows: (query: RunQuery, n: number) => Fragment
  /** The distinct values of `job` (or `queue`, never `null`), one index seek each. */
  readonly distinct: (column: GroupColumn) => Fragment
  /**
   * For each `[value, status]` pair, the `column`'s value, the status and the number `n` of its
   * occurrences up to `upTo + 1` (rows with none are left out), each read on the column's index.
   */
  readonly countGroups: (
    column: GroupColumn,
    pairs: ReadonlyArray<readonly [string, JobStore.RunStatus]>,
    upTo: number
  ) => Fragment
  /** Active scheduled occurrences by schedule then `RunId`. */
  readonly schedules: (after: JobStore.ScheduleKey | null, limit: number) => Fragment
  /** Instances last seen first. */
  readonly instances: (limit: number) => Fragment
  /** Attempts per minute and outcome since a time. */
  readonly throughput: (since: number) => Fragment
}

/** The admin statements over a store's context. */
export const statements = (ctx: StoreContext): AdminStatements => {
  const { sql, runs, instancesTable } = ctx
  const { adminKey, tables, throughIndex } = ctx.dialect
  const newestFirst = sql.literal("created_at DESC, id DESC")

  /** The admin index (full name) of `column` (of all runs with `null`), by status (or stage) and created order. */
  const createdIndex = (column: GroupColumn | null): string =>
    `${tables.prefix}runs_${column === null ? "" : `${column}_`}status_created`

  /**
   * The predicate of SQLite's admin indexes (migration 14), repeated by the reads that take them:
   * its planner takes a partial index only for a query that names its predicate's terms.
   */
  const notRunning = sql.literal("status <> 'running'")
  /** Whether the admin indexes leave running runs out (SQLite): the reads of those take `runs_running`. */
  const withoutRunning = adminKey === "statusWithoutRunning"

  /** The runs of `status` (of `column`'s value, with a condition on it) and the index that reads them. */
  const statusRead = (status: JobStore.RunStatus, column: GroupColumn | null): StatusRead => {
    if (adminKey === "status") return { where: sql`status = ${status}`, index: createdIndex(column) }
    if (status === "running") {
      const index = withoutRunning ? "runs_running" : "runs_pending"
      return { where: sql`status = 'running'`, index: `${tables.prefix}${index}` }
    }
    if (withoutRunning) return { where: sql`status = ${status} AND ${notRunning}`, index: createdIndex(column) }
    return {
      where: status === "pending" ? sql`stage = 'active' AND status = 'pending'` : sql`stage = ${status}`,
      index: createdIndex(column)
    }
  }

  /** The filters of a query but its statuses and `argsContains`, and the page's start. */
  const conditions = (query: RunQuery): Array<Fragment> => {
    const where: Array<Fragment> = []
    if (query.job !== null) where.push(sql`job = ${query.job}`)
    if (query.queue !== null) where.push(sql`queue = ${query.queue}`)
    if (query.name !== null) where.push(sql`unique_name = ${query.name}`)
    if (query.createdAfter !== null) where.push(sql`created_at >= ${int(query.createdAfter)}`)
    if (query.createdBefore !== null) where.push(sql`created_at < ${int(query.createdBefore)}`)
    if (query.after !== null) {
      const { createdAt, id } = query.after
      // the range on created_at is what the index seeks; the OR only trims its first value
      where.push(sql`created_at <= ${int(createdAt)} AND (created_at < ${int(createdAt)} OR id < ${id})`)
    }
    return where
  }

  /**
   * The first `n` matching rows in list order, every column. By name: one ordered range of
   * `runs_name_created`. Otherwise one ordered range per status (of `runs_job_status_created` with
   * a job, of `runs_queue_status_created` with a queue, of `runs_status_created` without), each
   * limited, merged and limited again.
   */
  const firstRows = (query: RunQuery, n: number): Fragment => {
    const where = conditions(query)
    if (query.name !== null) {
      const statuses = query.statuses.length === 0 ? [] : [sql.in("status", query.statuses)]
      return sql`SELECT * FROM ${runs} WHERE ${sql.and([...where, ...statuses])} ORDER BY ${newestFirst} LIMIT ${n}`
    }
    const column = query.job !== null ? "job" : query.queue !== null ? "queue" : null
    const branches = (query.statuses.length === 0 ? allStatuses : query.statuses).map((status) => {
      const read = statusRead(status, column)
      return sql`SELECT * FROM ${runs} ${throughIndex(read.index)} WHERE ${sql.and([read.where, ...where])}
        ORDER BY ${newestFirst} LIMIT ${n}`
    })
    if (branches.length === 1) return branches[0]!
    const union = branches.map((branch, i) => sql`SELECT * FROM (${branch}) ${sql.literal(`b${i}`)}`)
    return sql`${sql.join(" UNION ALL ", false)(union)} ORDER BY ${newestFirst} LIMIT ${n}`
  }

  return {
    firstRows,
    distinct: (column) => {
      const c = sql.literal(column)
      const through = throughIndex(createdIndex(column))
      const kept = withoutRunning ? sql`AND ${notRunning}` : sql.literal("")
      const skipScan = sql`WITH RECURSIVE g (v) AS (
          SELECT MIN(${c}) FROM ${runs} ${through} WHERE ${c} IS NOT NULL ${kept}
          UNION ALL
          SELECT (SELECT MIN(${c}) FROM ${runs} ${through} WHERE ${c} > g.v ${kept}) FROM g WHERE g.v IS NOT NULL
        ) SELECT v FROM g WHERE v IS NOT NULL`
      if (!withoutRunning) return skipScan
      // values whose only runs are running are not in the index: read them from the running runs
      return sql`${skipScan} UNION SELECT ${c} FROM ${runs} WHERE status = 'running' AND ${c} IS NOT NULL ORDER BY 1`
    },
    countGroups: (column, pairs, upTo) => {
      const c = sql.literal(column)
      // in the index's order: a planner that would read the table instead must sort the whole group
      const branches = pairs.map(([value, status], i) => {
        const read = statusRead(status, column)
        return sql`SELECT MIN(${c}) AS ${c}, MIN(status) AS status, COUNT(*) AS n FROM (SELECT ${c}, status FROM ${runs}
            ${throughIndex(read.index)} WHERE ${c} = ${value} AND ${read.where} ORDER BY created_at, id
            LIMIT ${upTo + 1}) ${sql.literal(`t${i}`)}`
      })
      return sql`SELECT * FROM (${sql.join(" UNION ALL ", false)(branches)}) counts WHERE n > 0`
    },
    schedules: (after, limit) => {
      const start =
        after === null
          ? []
          : [sql`(schedule > ${after.schedule} OR (schedule = ${after.schedule} AND origin_id > ${after.originId}))`]
      const active =
        adminKey === "stage"
          ? sql.literal("stage = 'active' AND schedule IS NOT NULL")
          : sql.literal("schedule IS NOT NULL AND status IN ('pending', 'running')")
      return sql`SELECT * FROM ${runs} WHERE ${sql.and([active, ...start])} ORDER BY schedule, origin_id LIMIT ${int(limit)}`
    },
    instances: (limit) =>
      sql`SELECT * FROM ${instancesTable} ${throughIndex(`${tables.prefix}instances_last_seen`)}
        ORDER BY last_seen_at DESC, id DESC LIMIT ${int(limit)}`,
    throughput: History.make(ctx).outcomesPerMinute
  }
}

/** The admin queries of a store. */
export const make = (ctx: StoreContext): Omit<Admin, "retry" | "runNow" | "remove"> => {
  const { dialect, sql, runs, unit, operation } = ctx
  const { firstRows, ...q } = statements(ctx)
  const newestFirst = sql.literal("created_at DESC, id DESC")

  const decodeRuns = decodeAll("listRuns", (row) => `malformed row ${row["id"]}`, rows.decodeRun)

  const keyOf = (run: { readonly createdAt: number; readonly id: string }): JobStore.RunKey => ({
    createdAt: run.createdAt,
    id: run.id
  })

  /** Without `argsContains`: `limit + 1` rows tell whether a next page exists. */
  const plainPage = (query: RunQuery) =>
    Effect.gen(function* () {
      const found = yield* decodeRuns(yield* unit(sql<Row>`${firstRows(query, query.limit + 1)}`))
      const page = found.slice(0, query.limit)
      return { runs: page, next: found.length > query.limit ? keyOf(page.at(-1)!) : null }
    })

  /**
   * With `argsContains`: the text is searched in the first `scanLimit` rows only (the window). A
   * page that is not full goes on after the window when the window was full.
   */
  const searchedPage = (query: RunQuery, text: string) =>
    Effect.gen(function* () {
      const window = firstRows(query, query.scanLimit)
      const found = yield* decodeRuns(
        yield* unit(
          sql<Row>`SELECT * FROM (${window}) w WHERE ${dialect.contains(sql.literal("args"), text)}
            ORDER BY ${newestFirst} LIMIT ${query.limit + 1}`
        )
      )
      const page = found.slice(0, query.limit)
      if (found.length > query.limit) return { runs: page, next: keyOf(page.at(-1)!) }
      const [counted] = yield* unit(sql<Row>`SELECT COUNT(*) AS n FROM (${window}) w`)
      if (Number(counted?.["n"]) < query.scanLimit) return { runs: page, next: null }
      const [last] = yield* unit(sql<Row>`SELECT created_at, id FROM (${window}) w ORDER BY created_at, id LIMIT 1`)
      const createdAt = rows.toNumber(last?.["created_at"])
      const id = last === undefined ? undefined : rows.textColumn(last, "id")
      if (createdAt === undefined || id === undefined) {
        return yield* new JobsSError.JobStoreError({ message: "SqlStore.listRuns failed: malformed row key" })
      }
      return { runs: page, next: { createdAt, id } }
    })

  const listRuns: Admin["listRuns"] = (query) =>
    (query.argsContains === null ? plainPage(query) : searchedPage(query, query.argsContains)).pipe(
      operation("listRuns")
    )

  /**
   * Counts per `column` and status up to `upTo`: the distinct values, then each value with each
   * status, `pairsPerStatement` pairs per statement.
   */
  const countBy = <A>(
    column: GroupColumn,
    name: string,
    decode: (upTo: number) => (row: Row) => Either.Either<A, string>,
    upTo: number
  ): Effect.Effect<ReadonlyArray<A>, JobsSError.JobStoreError> =>
    Effect.gen(function* () {
      const values = (yield* unit(sql<Row>`${q.distinct(column)}`)).flatMap((row) => {
        const value = rows.textColumn(row, "v")
        return value === undefined ? [] : [value]
      })
      const pairs = values.flatMap((value) => allStatuses.map((status) => [value, status] as const))
      const chunks = Array.from({ length: Math.ceil(pairs.length / pairsPerStatement) }, (_, i) =>
        pairs.slice(i * pairsPerStatement, (i + 1) * pairsPerStatement)
      )
      const counted = yield* Effect.forEach(chunks, (chunk) =>
        unit(sql<Row>`${q.countGroups(column, chunk, upTo)}`).pipe(
          Effect.flatMap(decodeAll(name, (row) => `malformed count of ${column} ${row[column]}`, decode(upTo)))
        )
      )
      return counted.flat()
    }).pipe(operation(name))

  const countRuns: Admin["countRuns"] = (upTo) => countBy("job", "countRuns", rows.decodeRunCount, upTo)

  const countQueueRuns: Admin["countQueueRuns"] = (upTo) =>
    countBy("queue", "countQueueRuns", rows.decodeQueueRunCount, upTo)

  const schedules: Admin["schedules"] = (after, limit) =>
    Effect.gen(function* () {
      const active = yield* decodeAll(
        "schedules",
        (row) => `malformed row ${row["id"]}`,
        rows.decodeRun
      )(yield* unit(sql<Row>`${q.schedules(after, limit)}`))
      const wanted = active.filter((run) => run.occurrence > 0)
      const previous = new Map<string, NonNullable<JobStore.StoredSchedule["previous"]>>()
      if (wanted.length > 0) {
        const ended = yield* unit(
          sql<Row>`SELECT origin_id, occurrence, status, finished_at, error FROM ${runs} WHERE ${sql.or(
            wanted.map((run) => sql`(origin_id = ${run.originId} AND occurrence = ${run.occurrence - 1})`)
          )}`
        )
        for (const row of ended) {
          const decoded = rows.decodeOccurrenceEnd(row)
          if (Either.isRight(decoded)) {
            const { originId, ...end } = decoded.right
            previous.set(originId, { status: end.status, finishedAt: end.finishedAt, error: end.error })
          }
        }
      }
      return active.map((run) => ({ run, previous: previous.get(run.originId) ?? null }))
    }).pipe(operation("schedules"))

  const instances: Admin["instances"] = (limit) =>
    unit(sql<Row>`${q.instances(limit)}`).pipe(
      Effect.flatMap(decodeAll("instances", (row) => `malformed instance ${row["id"]}`, rows.decodeInstance)),
      operation("adminInstances")
    )

  const throughput: Admin["throughput"] = (since) =>
    unit(sql<Row>`${q.throughput(since)}`).pipe(
      Effect.flatMap(decodeAll("throughput", (row) => `malformed count of ${row["outcome"]}`, rows.decodeOutcomeCount)),
      operation("throughput")
    )

  return { listRuns, countRuns, countQueueRuns, schedules, instances, throughput }
}
