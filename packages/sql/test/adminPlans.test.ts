/**
 * Every admin query uses the index migration 10 (or 11, by queue; on MariaDB 12) made for it
 * (`store/admin.ts`), on every SQL backend: the statements the store runs are EXPLAINed on a table of
 * a few thousand runs (analyzed), and each plan reads the runs table (or history, or instances)
 * through the named index, never by a full scan of the table. `countRuns` finds the jobs by a
 * skip-scan of `runs_job_status_created` and counts each job and status on it up to a limit (by
 * queue: `runs_queue_status_created`). On MariaDB those indexes hold `stage` instead of `status`,
 * and running runs are read through `runs_pending`; on SQLite they leave running runs out, which are
 * read through `runs_running`. The counts per queue that the pending gauge reads take the partial
 * indexes of running and pending runs in queues.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { Fragment } from "@effect/sql/Statement"
import { describe, expect, it } from "@effect/vitest"
import { JobStore } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Context, Effect, Layer } from "effect"
import { newRun, runQuery } from "../../core/test/fixtures.js"
import * as dialects from "../src/internal/dialects.js"
import * as admin from "../src/internal/store/admin.js"
import * as context from "../src/internal/store/context.js"
import * as ownConnection from "../src/internal/store/ownConnection.js"
import * as queues from "../src/internal/store/queues.js"
import { type Backend, makeDatabase, sqlBackends } from "./databases.js"

type Row = Readonly<Record<string, unknown>>

const query = runQuery

/** Each line of the plan, and the indexes each table is read by (`null`: a full scan). */
const planOf = (backend: Backend, statement: Fragment) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    if (backend === "postgres") {
      const plan = yield* sql<Row>`EXPLAIN ${statement}`
      return plan.map((row) => String(row["QUERY PLAN"]))
    }
    if (backend === "sqlite") {
      const plan = yield* sql<Row>`EXPLAIN QUERY PLAN ${statement}`
      return plan.map((row) => String(row["detail"]))
    }
    const plan = yield* sql<Row>`EXPLAIN ${statement}`
    return plan.map((row) => `table=${String(row["table"])} type=${String(row["type"])} key=${String(row["key"])}`)
  })

/**
 * The plan reads `table` through `index` (or one of several: `a|b`; a branch of a list may take
 * another index of the table where the planner finds it more selective, e.g. a status with no run),
 * and never scans it whole.
 */
const expectIndex = (backend: Backend, plan: ReadonlyArray<string>, table: string, index: string) => {
  const text = plan.join("\n")
  if (backend === "postgres") {
    expect(text, text).toMatch(new RegExp(`(using (${index}) on ${table}|Bitmap Index Scan on (${index}))\\b`))
    expect(text, text).not.toContain(`Seq Scan on ${table}`)
  } else if (backend === "sqlite") {
    const reads = plan.filter((line) => new RegExp(`^(SCAN|SEARCH) ${table}\\b`).test(line))
    expect(reads.length, text).toBeGreaterThan(0)
    for (const line of reads) expect(line, text).toMatch(/USING (COVERING )?INDEX /)
    expect(text, text).toMatch(new RegExp(`USING (COVERING )?INDEX (${index})\\b`))
  } else {
    const reads = plan.filter((line) => line.startsWith(`table=${table} `))
    expect(reads.length, text).toBeGreaterThan(0)
    for (const line of reads) {
      expect(line, text).not.toContain("key=null")
      expect(line, text).not.toContain("type=ALL")
    }
    expect(text, text).toMatch(new RegExp(`key=(${index})\\b`))
  }
}

/** 6,000 runs of 6 jobs (mostly succeeded, a few running; half in 5 queues), their history, 6,000 instances; then the statistics. */
const seed = (backend: Backend) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const store = yield* Effect.map(
      Layer.build(
        SqlStore.layer().pipe(Layer.provide(Layer.succeedContext(yield* Effect.context<SqlClient.SqlClient>())))
      ),
      Context.get(JobStore.JobStore)
    )
    const t = yield* store.now
    for (let batch = 0; batch < 12; batch++) {
      yield* store.insert(
        Array.from({ length: 500 }, (_, i) => {
          const n = batch * 500 + i
          return newRun({
            job: `J${n % 6}`,
            runAt: t + n,
            createdAt: t - 6_000_000 + n * 1000,
            uniqueName: n % 100 === 0 ? `name-${n}` : null,
            schedule: n % 50 === 1 ? `S${n}` : null,
            queue: n % 2 === 0 ? `Q${n % 5}` : null
          })
        })
      )
    }
    yield* sql`UPDATE jobss_runs SET status = 'succeeded', finished_at = created_at WHERE schedule IS NULL AND run_at < ${t + 5800}`
    yield* sql`UPDATE jobss_runs SET status = 'failed', finished_at = created_at WHERE run_at < ${t + 5800} AND run_at % 97 = 0`
    yield* sql`UPDATE jobss_runs SET status = 'running', started_at = created_at, lease_until = ${t + 60_000}
      WHERE status = 'pending' AND run_at % 7 = 0`
    yield* sql`INSERT INTO jobss_run_history (origin_id, run_id, occurrence, job, attempt, started_by, started_at,
      finished_at, outcome) SELECT id, id, 0, job, 1, 'seed', created_at, created_at, status FROM jobss_runs
      WHERE finished_at IS NOT NULL`
    yield* sql`INSERT INTO jobss_instances (id, name, workers, jobs, schedules, poll_interval_ms, poll_limit,
      started_at, last_seen_at, shutdown_at) SELECT id, job, 1, '[]', '[]', 1000, 10, created_at, created_at, NULL
      FROM jobss_runs`
    if (backend === "postgres") yield* sql`VACUUM ANALYZE`
    else if (backend === "sqlite") yield* sql`ANALYZE`
    else yield* sql`ANALYZE TABLE jobss_runs, jobss_run_history, jobss_instances`
    return t
  })

describe.each(sqlBackends)("admin query plans on %s", (backend) => {
  it.scopedLive(
    `each admin query reads through its index (${backend})`,
    () =>
      Effect.gen(function* () {
        const database = yield* makeDatabase(backend)
        const client = yield* Layer.build(database.layer)
        yield* Effect.gen(function* () {
          const t = yield* seed(backend)
          const dialect = yield* dialects.fromContext(SqlStore.defaultTablePrefix)
          const ctx = context.make(dialect, yield* ownConnection.make(dialect))
          const statements = admin.statements(ctx)
          // below the groups' sizes (about 1,000 runs), as `Admin.maxCount` is below a large table's:
          // on a table this small PostgreSQL's planner reads the table when the limit nears a group's size
          const upTo = 100
          const after = { createdAt: t - 3_000_000, id: "80000000-0000-7000-8000-000000000000" }
          const byStatus = "jobss_runs_status_created"
          const byJob = "jobss_runs_job_status_created"
          const byQueue = "jobss_runs_queue_status_created"
          // running runs, never more than the cluster's workers: the partial index of running runs will do
          // (on SQLite the only one: its admin indexes leave running runs out)
          const running = backend === "mariadb" ? "jobss_runs_pending" : "jobss_runs_running"
          const runningOr = (admin: string) => (backend === "postgres" ? `${admin}|${running}` : running)
          const cases: ReadonlyArray<readonly [string, Fragment, string, string]> = [
            ["all runs", statements.firstRows(query({}), 51), "jobss_runs", byStatus],
            ["all runs, next page", statements.firstRows(query({ after }), 51), "jobss_runs", byStatus],
            ["failed runs", statements.firstRows(query({ statuses: ["failed"] }), 51), "jobss_runs", byStatus],
            [
              "created in a range",
              statements.firstRows(
                query({ statuses: ["succeeded"], createdAfter: t - 1_000_000, createdBefore: t }),
                51
              ),
              "jobss_runs",
              byStatus
            ],
            [
              "running runs",
              statements.firstRows(query({ statuses: ["running"] }), 51),
              "jobss_runs",
              runningOr(byStatus)
            ],
            [
              "pending runs of a job",
              statements.firstRows(query({ statuses: ["pending"], job: "J1" }), 51),
              "jobss_runs",
              byJob
            ],
            [
              "running runs of a job",
              statements.firstRows(query({ statuses: ["running"], job: "J1" }), 51),
              "jobss_runs",
              runningOr(byJob)
            ],
            [
              "failed runs of a job",
              statements.firstRows(query({ statuses: ["failed"], job: "J1", after }), 51),
              "jobss_runs",
              byJob
            ],
            ["runs of a job", statements.firstRows(query({ job: "J1" }), 51), "jobss_runs", byJob],
            [
              "runs by unique name",
              statements.firstRows(query({ name: "name-100" }), 51),
              "jobss_runs",
              "jobss_runs_name_created"
            ],
            [
              "failed runs of a queue",
              statements.firstRows(query({ statuses: ["failed"], queue: "Q1", after }), 51),
              "jobss_runs",
              byQueue
            ],
            ["runs of a queue", statements.firstRows(query({ queue: "Q1" }), 51), "jobss_runs", byQueue],
            ["distinct jobs", statements.distinct("job"), "jobss_runs", byJob],
            [
              "counts by job",
              statements.countGroups(
                "job",
                [
                  ["J1", "succeeded"],
                  ["J1", "pending"],
                  ["J1", "running"],
                  ["J2", "failed"]
                ],
                upTo
              ),
              "jobss_runs",
              byJob
            ],
            ["distinct queues", statements.distinct("queue"), "jobss_runs", byQueue],
            [
              "counts by queue",
              statements.countGroups(
                "queue",
                [
                  ["Q1", "succeeded"],
                  ["Q2", "pending"]
                ],
                upTo
              ),
              "jobss_runs",
              byQueue
            ],
            [
              "counts per queue of running and pending runs",
              queues.queueCountsStatement(ctx),
              "jobss_runs",
              backend === "mariadb" ? "jobss_runs_due" : "jobss_runs_queue_running|jobss_runs_queued"
            ],
            [
              "schedules",
              statements.schedules({ schedule: "S1", originId: after.id }, 51),
              "jobss_runs",
              "jobss_runs_scheduled"
            ],
            ["instances", statements.instances(100), "jobss_instances", "jobss_instances_last_seen"],
            ["throughput", statements.throughput(t - 5 * 60_000), "jobss_run_history", "jobss_history_finished"],
            [
              "throughput's successes",
              statements.throughput(t - 5 * 60_000),
              "jobss_runs",
              backend === "mariadb" ? "jobss_runs_finished_at" : "jobss_runs_finished"
            ]
          ]
          for (const [what, statement, table, index] of cases) {
            const plan = yield* planOf(backend, statement)
            try {
              expectIndex(backend, plan, table, index)
            } catch (error) {
              throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`)
            }
          }
        }).pipe(Effect.provide(client))
      }),
    120_000
  )
})
