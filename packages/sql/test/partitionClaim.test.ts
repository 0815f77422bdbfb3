/**
 * A claim of a partitioned queue costs per partition, not per pending run (migration 13): with
 * 3,000 due runs in 3 partitions of concurrency 1, the claim takes each partition's first run and
 * reads a few rows of the table and its indexes, counted by the database itself (PostgreSQL: the
 * transaction's tuples returned by the runs table and its indexes; MariaDB: the session's handler
 * reads), and so does the read of the next due time that follows it. SQLite keeps no such count:
 * there the loose scan's plan is checked instead (one search of the partitions index per key).
 * Before migration 13 the claim ranked every pending run of the queue.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import { SqlStore } from "@jobss/sql"
import { Effect } from "effect"
import { newRun } from "../../core/test/fixtures.js"
import * as dialects from "../src/internal/dialects.js"
import { type Backend, sqlBackends, storeOn } from "./databases.js"

type Row = Readonly<Record<string, unknown>>

const queue = "partitioned"
const job = "Job"
const pending = 3_000
const keys = ["a", "b", "c"]

/** Rows the database has read so far in this transaction (PostgreSQL) or session (MariaDB). */
const rowsRead = (backend: Backend) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    if (backend === "postgres") {
      const [row] = yield* sql<Row>`SELECT sum(pg_stat_get_xact_tuples_returned(c.oid)) AS n FROM pg_class c
        WHERE c.oid = 'jobss_runs'::regclass OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'jobss_runs'::regclass)`
      return Number(row?.["n"])
    }
    const status = yield* sql<Row>`SHOW SESSION STATUS LIKE 'Handler_read%'`
    return status.reduce((sum, row) => sum + Number(row["Value"]), 0)
  })

describe.each(sqlBackends)("partitioned claim on %s", (backend) => {
  it.scopedLive(
    `a claim of a partitioned queue reads per partition, not per pending run (${backend})`,
    () =>
      Effect.gen(function* () {
        const { client, store } = yield* storeOn(backend)
        yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          yield* store.registerQueue(
            {
              name: queue,
              concurrency: 1,
              workerConcurrency: null,
              rateLimit: null,
              ratePeriodMs: null,
              partitioned: true
            },
            "instance"
          )
          const t = yield* store.now
          const runs = Array.from({ length: pending }, (_, i) =>
            newRun({ job, runAt: t - pending + i, queue, partitionKey: keys[i % keys.length]! })
          )
          yield* store.insert(runs)
          if (backend === "postgres") yield* sql`VACUUM ANALYZE jobss_runs`
          else if (backend === "sqlite") yield* sql`ANALYZE`
          else yield* sql`ANALYZE TABLE jobss_runs`

          const claim = store.claim({
            instanceId: "claimer",
            jobs: [job],
            schedules: [],
            limit: 100,
            leaseMs: 60_000,
            queues: [queue]
          })
          if (backend === "sqlite") {
            const dialect = yield* dialects.fromContext(SqlStore.defaultTablePrefix)
            if (dialect.queuedClaim._tag !== "Transaction") throw new Error("SQLite claims queues in a transaction")
            const plan = yield* sql<Row>`EXPLAIN QUERY PLAN ${dialect.queuedClaim.byPartition.keys(queue)}`
            const text = plan.map((row) => String(row["detail"])).join("\n")
            expect(text, text).toMatch(
              /SEARCH jobss_runs USING COVERING INDEX jobss_runs_partitions \(queue=\? AND partition_key>\?\)/
            )
            expect(text, text).not.toMatch(/SCAN jobss_runs\b/)
            const claimed = yield* claim
            expect(claimed.map((run) => run.partitionKey).sort()).toEqual(keys)
            expect((yield* store.nextDue([job], [], [queue])).nextRunAt).toBeNull()
            return
          }
          // one transaction (one connection) around the claim and the read of the next due time, so that
          // the counts are theirs
          const [claimed, claimRead, next, nextDueRead] = yield* sql.withTransaction(
            Effect.gen(function* () {
              const before = yield* rowsRead(backend)
              const claimed = yield* claim
              const between = yield* rowsRead(backend)
              const next = yield* store.nextDue([job], [], [queue])
              return [claimed, between - before, next, (yield* rowsRead(backend)) - between] as const
            })
          )
          expect(claimed.map((run) => run.partitionKey).sort()).toEqual(keys)
          expect(claimRead).toBeGreaterThan(0)
          expect(claimRead, `rows read by the claim: ${claimRead}`).toBeLessThan(pending / 10)
          // the due runs left wait on the partitions' slots: nothing is due later, and finding that reads few rows
          expect(next.nextRunAt).toBeNull()
          expect(nextDueRead, `rows read by nextDue: ${nextDueRead}`).toBeLessThan(pending / 10)
        }).pipe(Effect.provide(client))
      }),
    120_000
  )
})
