/**
 * The runs table's column of each field of the run row (`JobStore.runFields`, declared in core with
 * its kind and how an insert sets it), with the PostgreSQL type its values are bound as. The map is
 * typed over the fields, so a field added to the row definition without its column does not compile.
 * The decoder (`rows.ts`), the insert column lists and VALUES rows (`runInsert.ts`) and PostgreSQL's
 * unnest arrays (`postgres/dialect.ts`) are derived from the two.
 *
 * @internal
 */
import { JobStore } from "@jobss/core"
import { int } from "./sqlValues.js"

/** The name of a field of the run row. */
export type RunFieldName = keyof JobStore.RunFields

/** A PostgreSQL type values are bound as (an unnest array of them is cast to `<type>[]`). */
export type PgType = "text" | "integer" | "bigint" | "smallint"

/** Where a run field is stored. */
export interface RunColumn {
  /** The column's name. */
  readonly name: string
  /** The PostgreSQL type its values are bound as. */
  readonly pg: PgType
}

/** The column of each run field. */
export const runColumns: { readonly [K in RunFieldName]: RunColumn } = {
  id: { name: "id", pg: "text" },
  originId: { name: "origin_id", pg: "text" },
  occurrence: { name: "occurrence", pg: "integer" },
  job: { name: "job", pg: "text" },
  args: { name: "args", pg: "text" },
  uniqueName: { name: "unique_name", pg: "text" },
  schedule: { name: "schedule", pg: "text" },
  status: { name: "status", pg: "text" },
  runAt: { name: "run_at", pg: "bigint" },
  runTotalCount: { name: "run_total_count", pg: "integer" },
  runSuccessCount: { name: "run_success_count", pg: "integer" },
  runSuccessLimit: { name: "run_success_limit", pg: "integer" },
  runTimeoutMs: { name: "run_timeout_ms", pg: "bigint" },
  retriesErrorCount: { name: "retries_error_count", pg: "integer" },
  retriesErrorLimit: { name: "retries_error_limit", pg: "integer" },
  retriesTimeoutCount: { name: "retries_timeout_count", pg: "integer" },
  retriesTimeoutLimit: { name: "retries_timeout_limit", pg: "integer" },
  createdAt: { name: "created_at", pg: "bigint" },
  createdBy: { name: "created_by", pg: "text" },
  startedAt: { name: "started_at", pg: "bigint" },
  startedBy: { name: "started_by", pg: "text" },
  timeoutAt: { name: "timeout_at", pg: "bigint" },
  leaseUntil: { name: "lease_until", pg: "bigint" },
  cancelRequested: { name: "cancel_requested", pg: "smallint" },
  error: { name: "error", pg: "text" },
  finishedAt: { name: "finished_at", pg: "bigint" },
  traceContext: { name: "trace_context", pg: "text" },
  result: { name: "result", pg: "text" },
  snoozeCount: { name: "snooze_count", pg: "integer" },
  dispatchedAt: { name: "dispatched_at", pg: "bigint" },
  queue: { name: "queue", pg: "text" },
  priority: { name: "priority", pg: "integer" },
  partitionKey: { name: "partition_key", pg: "text" }
}

/** The run fields in column order (the order of `JobStore.runFields`). */
export const runFieldNames: ReadonlyArray<RunFieldName> = Object.keys(JobStore.runFields) as Array<RunFieldName>

/** A field value as a statement binds it: integers rounded, flags as 0 or 1. */
export const encodeValue = (value: string | number | boolean | null): string | number | null => {
  if (typeof value === "boolean") return value ? 1 : 0
  return typeof value === "number" ? int(value) : value
}

/** A field value as a SQL literal (for the values every new row has: constants of the row definition). */
export const literalOf = (value: string | number | boolean | null): string =>
  value === null
    ? "NULL"
    : typeof value === "boolean"
      ? value
        ? "1"
        : "0"
      : typeof value === "number"
        ? String(Math.round(value))
        : `'${value.replaceAll("'", "''")}'`
