/**
 * The run row definition (`JobStore.runFields` and `runColumns`) against the frozen migrations and
 * the decoder derived from it: every field has its column in a migrated database on every SQL
 * backend, and a stored row decodes field by field, a malformed one naming each bad column.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import type { JobStore } from "@jobss/core"
import { SqlStoreMigrations } from "@jobss/sql"
import { Effect, Either } from "effect"
import { decodeRun } from "../src/internal/rows.js"
import { runColumns, runFieldNames } from "../src/internal/runColumns.js"
import { insertColumns } from "../src/internal/runInsert.js"
import { freshDatabase, sqlBackends } from "./databases.js"

/** A stored run, every field set (no field has its fallback value). */
const stored: JobStore.StoredRun = {
  id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
  originId: "0190a1b2-c3d4-7e5f-8a9b-000000000000",
  occurrence: 2,
  job: "Job",
  args: '{"a":1}',
  uniqueName: "unique",
  schedule: "Schedule",
  status: "running",
  runAt: 1_700_000_000_123,
  runTotalCount: 3,
  runSuccessCount: 1,
  runSuccessLimit: 5,
  runTimeoutMs: 60_000,
  retriesErrorCount: 1,
  retriesErrorLimit: 3,
  retriesTimeoutCount: 0,
  retriesTimeoutLimit: -1,
  createdAt: 1_700_000_000_000,
  createdBy: "creator",
  startedAt: 1_700_000_000_200,
  startedBy: "starter",
  timeoutAt: 1_700_000_060_200,
  leaseUntil: 1_700_000_030_200,
  cancelRequested: true,
  error: "it broke",
  finishedAt: null,
  traceContext: "00-trace",
  result: '{"width":640}',
  snoozeCount: 2,
  dispatchedAt: 1_700_000_000_250,
  queue: "emails",
  priority: -7,
  partitionKey: "customer:1"
}

/** The run as a driver row: columns by name, integers as pg returns BIGINT (strings), flags as 0/1. */
const rowOf = (run: JobStore.StoredRun): Record<string, unknown> =>
  Object.fromEntries(
    runFieldNames.map((field) => {
      const value = run[field]
      return [
        runColumns[field].name,
        typeof value === "boolean" ? Number(value) : typeof value === "number" ? String(value) : value
      ]
    })
  )

describe("the run row decoder", () => {
  it("decodes every field from its column", () => {
    expect(decodeRun(rowOf(stored))).toEqual(Either.right(stored))
  })

  it("a malformed row names each bad column, what it expected and what it got", () => {
    const row = { ...rowOf(stored), run_at: "soon", cancel_requested: 7, status: "lost", job: null }
    const problem = Either.getLeft(decodeRun(row))
    expect(problem._tag).toBe("Some")
    const message = problem._tag === "Some" ? problem.value : ""
    expect(message.split("; ").sort()).toEqual(
      [
        "job: expected text, got null",
        'status: expected a run status, got "lost"',
        'run_at: expected a number, got "soon"',
        "cancel_requested: expected 0 or 1, got 7"
      ].sort()
    )
  })
})

describe.each(sqlBackends)("the run row on %s", (backend) => {
  it.scopedLive(
    "every field of the row definition, and every inserted column, is a column of the migrated runs table",
    () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* SqlStoreMigrations.run()
        const names =
          backend === "sqlite"
            ? (yield* sql<{ readonly name: string }>`SELECT name FROM pragma_table_info('jobss_runs')`).map(
                (r) => r.name
              )
            : backend === "postgres"
              ? (yield* sql<{ readonly name: string }>`SELECT column_name AS name FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = 'jobss_runs'`).map((r) => r.name)
              : (yield* sql<{ readonly name: string }>`SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS
                WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'jobss_runs'`).map((r) => r.name)
        const columns = new Set(names.map((name) => name.toLowerCase()))
        const missing = runFieldNames.map((field) => runColumns[field].name).filter((name) => !columns.has(name))
        expect(missing).toEqual([])
        const inserted = insertColumns.slice(1, -1).split(", ")
        expect(inserted.filter((name) => !columns.has(name))).toEqual([])
      }).pipe(Effect.provide(freshDatabase(backend)))
  )
})
