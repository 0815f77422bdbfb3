/**
 * The run history keeps no row for a success (`store/history.ts`): a succeeded attempt is read from
 * its run's row, by `history` and by the admin's `throughput`, on every SQL backend. A success that
 * an earlier version recorded in the history table as well is counted once.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import type { JobStore } from "@jobss/core"
import { Effect } from "effect"
import { newRun } from "../../core/test/fixtures.js"
import { sqlBackends, storeOn } from "./databases.js"

type Row = Readonly<Record<string, unknown>>

describe.each(sqlBackends)("run history on %s", (backend) => {
  it.scopedLive(
    `a success writes no history row and is read from its run's row, once (${backend})`,
    () =>
      Effect.gen(function* () {
        const { client, store } = yield* storeOn(backend)
        yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const t = yield* store.now
          const [succeeded, failed, retried, plain] = Array.from({ length: 4 }, (_, i) =>
            newRun({ job: "Job", runAt: t - 10 + i })
          )
          yield* store.insert([succeeded!, failed!, retried!, plain!])
          const claimed = yield* store.claim({
            instanceId: "claimer",
            jobs: ["Job"],
            schedules: [],
            limit: 10,
            leaseMs: 60_000
          })
          const claimOf = (run: JobStore.NewRun) => claimed.find((c) => c.id === run.id)!.claim
          const result = '{"ok":true}'
          expect(
            yield* store.settle([
              { _tag: "Succeeded", id: succeeded!.id, claim: claimOf(succeeded!), result },
              { _tag: "Failed", id: failed!.id, claim: claimOf(failed!), error: "broken" },
              {
                _tag: "Retry",
                id: retried!.id,
                claim: claimOf(retried!),
                runAt: t + 60_000,
                retriesErrorCount: 1,
                retriesTimeoutCount: 0,
                error: "again"
              },
              { _tag: "Succeeded", id: plain!.id, claim: claimOf(plain!) }
            ])
          ).toEqual([true, true, true, true])

          const recorded = yield* sql<Row>`SELECT run_id, outcome FROM jobss_run_history ORDER BY seq`
          expect(recorded.map((row) => [row["run_id"], row["outcome"]])).toEqual([
            [failed!.id, "failed"],
            [retried!.id, "retried"]
          ])

          // the row an earlier version also wrote for a success
          yield* sql`INSERT INTO jobss_run_history (origin_id, run_id, occurrence, job, attempt, started_by,
            started_at, finished_at, outcome, error, result)
            SELECT origin_id, id, occurrence, job, run_total_count, started_by, started_at, finished_at,
              'succeeded', NULL, result FROM jobss_runs WHERE id = ${succeeded!.id}`

          const run = yield* store.get(succeeded!.id)
          const history = yield* store.history(succeeded!.id)
          expect(history).toEqual([
            {
              originId: succeeded!.id,
              id: succeeded!.id,
              occurrence: 0,
              job: "Job",
              attempt: 1,
              startedBy: "claimer",
              startedAt: run!.startedAt,
              finishedAt: run!.finishedAt,
              outcome: "succeeded",
              error: null,
              result
            }
          ])
          expect((yield* store.history(plain!.id)).map((a) => [a.outcome, a.result])).toEqual([["succeeded", null]])

          const counts = yield* store.admin.throughput(t - 60_000)
          const total = (outcome: string) =>
            counts.filter((c) => c.outcome === outcome).reduce((sum, c) => sum + c.count, 0)
          expect([total("succeeded"), total("failed"), total("retried")]).toEqual([2, 1, 1])
          expect(counts.every((c) => c.minute % 60_000 === 0)).toBe(true)
        }).pipe(Effect.provide(client))
      }),
    120_000
  )
})
