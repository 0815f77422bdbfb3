/**
 * The run row as an `INSERT INTO runs` writes it, on every dialect: the column
 * list and a VALUES list. (PostgreSQL's unnest shape for several rows is in
 * `postgres/dialect.ts`, with the same columns in the same order.)
 *
 * @internal
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { Fragment } from "@effect/sql/Statement"
import type { JobStore } from "@jobss/core"
import { int, intOrNull } from "./sqlValues.js"

/** The column list of every `INSERT INTO runs`. */
export const insertColumns: string =
  "(id, origin_id, occurrence, job, args, unique_name, unique_key, schedule, status, run_at, run_total_count, " +
  "run_success_count, run_success_limit, run_timeout_ms, retries_error_count, retries_error_limit, " +
  "retries_timeout_count, retries_timeout_limit, created_at, created_by, cancel_requested, trace_context)"

/** One new run as a VALUES row: pending, its unique name as its key, created `now` unless it says when. */
export const valuesRow = (sql: SqlClient.SqlClient, now: Fragment, r: JobStore.NewRun): Fragment =>
  sql`(${r.id}, ${r.originId}, ${int(r.occurrence)}, ${r.job}, ${r.args}, ${r.uniqueName}, ${r.uniqueName},
      ${r.schedule}, 'pending', ${int(r.runAt)}, ${int(r.runTotalCount)}, ${int(r.runSuccessCount)},
      ${intOrNull(r.runSuccessLimit)}, ${int(r.runTimeoutMs)}, ${int(r.retriesErrorCount)},
      ${int(r.retriesErrorLimit)}, ${int(r.retriesTimeoutCount)}, ${int(r.retriesTimeoutLimit)},
      COALESCE(${intOrNull(r.createdAt)}, ${now}), ${r.createdBy}, 0, ${r.traceContext})`

/** New runs as a VALUES list. */
export const valuesList = (sql: SqlClient.SqlClient, now: Fragment, chunk: ReadonlyArray<JobStore.NewRun>): Fragment =>
  sql`VALUES ${sql.csv(chunk.map((r) => valuesRow(sql, now, r)))}`
