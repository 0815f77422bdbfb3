/**
 * Store conformance for results, snoozes and cancel requests at settlement, run unchanged against
 * every `JobStore` (memory, SQLite, PostgreSQL, MariaDB) beside `storeSuite.ts`, with its backends.
 *
 * A settlement that would continue a run (a retry, a hand-back, a snooze, a next occurrence) of a
 * row whose cancel was requested ends it cancelled, by construction: each path is settled here after
 * a cancel from another connection (another process) found the run running.
 */
import { randomUUID } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { type JobStore, RunId } from "@jobss/core"
import { Effect } from "effect"
import { newRun } from "../../packages/core/test/fixtures.js"
import type { StoreBackend } from "./storeSuite.js"

type Store = JobStore.JobStoreShape
type Settlement = JobStore.Settlement

const uid = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`

/** Inserts a due run of a fresh job and claims it. */
const claimedRun = (store: Store, fields: Partial<JobStore.NewRun> = {}) =>
  Effect.gen(function* () {
    const t = yield* store.now
    const run = newRun({ job: uid("Job"), runAt: t - 10, uniqueName: uid("unique"), ...fields })
    yield* store.insert([run])
    const claimed = yield* store.claim({
      instanceId: "claimer",
      jobs: [run.job],
      schedules: fields.schedule === undefined || fields.schedule === null ? [] : [fields.schedule],
      limit: 10,
      leaseMs: 60_000
    })
    expect(claimed.map((c) => c.id)).toEqual([run.id])
    return { run, claimed: claimed[0]!, t }
  })

/** The settlements that would continue a claimed run, by path. */
const continuing = (claimed: JobStore.ClaimedRun, t: number): ReadonlyArray<readonly [string, Settlement]> => {
  const { claim, id } = claimed
  return [
    ["retry", { _tag: "Retry", id, claim, runAt: t, retriesErrorCount: 1, retriesTimeoutCount: 0, error: "it failed" }],
    ["release (hand-back)", { _tag: "Released", id, claim }],
    ["snooze", { _tag: "Snoozed", id, claim, runAt: t }]
  ]
}

const paths = ["retry", "release (hand-back)", "snooze", "next occurrence"] as const

/** Declares `settlement conformance: <name>`. */
export const settlementSuite = (name: string, backend: StoreBackend): void => {
  const test = backend.clock === "test" ? it.scoped : it.scopedLive
  const timeout = 30_000

  describe(`settlement conformance: ${name}`, () => {
    for (const path of paths) {
      test(
        `a cancel requested from another connection wins over the ${path}: the run ends cancelled, nothing follows`,
        () =>
          Effect.gen(function* () {
            const { connect, store } = yield* backend.make
            const other = yield* connect
            const schedule = path === "next occurrence" ? uid("Schedule") : null
            const { claimed, run, t } = yield* claimedRun(store, { schedule })
            expect(yield* other.cancel(run.originId)).toBe("requested")
            const settlement: Settlement =
              path === "next occurrence"
                ? {
                    _tag: "Next",
                    id: run.id,
                    claim: claimed.claim,
                    outcome: "succeeded",
                    error: null,
                    next: newRun({
                      ...run,
                      id: RunId.generate(t),
                      occurrence: 1,
                      runAt: t,
                      runSuccessCount: 1,
                      result: '{"n":1}'
                    })
                  }
                : continuing(claimed, t).find(([label]) => label === path)![1]
            expect(yield* store.settle([settlement])).toEqual([true])
            const latest = yield* store.get(run.originId)
            expect(latest).toMatchObject({ id: run.id, status: "cancelled", leaseUntil: null })
            expect(latest!.finishedAt).not.toBeNull()
            // nothing to claim: no retry, no snooze, no next occurrence
            const again = yield* store.claim({
              instanceId: "claimer",
              jobs: [run.job],
              schedules: schedule === null ? [] : [schedule],
              limit: 10,
              leaseMs: 60_000
            })
            expect(again).toEqual([])
            const history = yield* store.history(run.originId)
            expect(history.map((attempt) => attempt.outcome)).toEqual(["cancelled"])
            // the unique name is free again
            const reused = yield* store.insert([newRun({ job: run.job, runAt: t, uniqueName: run.uniqueName })])
            expect(reused[0]!.inserted).toBe(true)
          }),
        timeout
      )
    }

    test(
      "Snoozed: pending again at its due time, snoozeCount + 1, retry counters unchanged, recorded snoozed",
      () =>
        Effect.gen(function* () {
          const { store } = yield* backend.make
          const { claimed, run, t } = yield* claimedRun(store, { retriesErrorCount: 1 })
          expect(
            yield* store.settle([{ _tag: "Snoozed", id: run.id, claim: claimed.claim, runAt: t + 60_000 }])
          ).toEqual([true])
          expect(yield* store.get(run.originId)).toMatchObject({
            status: "pending",
            runAt: t + 60_000,
            snoozeCount: 1,
            runTotalCount: 1,
            retriesErrorCount: 1,
            retriesTimeoutCount: 0,
            leaseUntil: null,
            timeoutAt: null,
            cancelRequested: false
          })
          const history = yield* store.history(run.originId)
          expect(history.map((attempt) => [attempt.outcome, attempt.attempt, attempt.result])).toEqual([
            ["snoozed", 1, null]
          ])
        }),
      timeout
    )

    test(
      "a result is stored with the run and its attempt, and carried by the next occurrence",
      () =>
        Effect.gen(function* () {
          const { store } = yield* backend.make
          const once = yield* claimedRun(store)
          const result = '{"width":640,"at":"2025-01-01T00:00:00.000Z"}'
          expect(
            yield* store.settle([{ _tag: "Succeeded", id: once.run.id, claim: once.claimed.claim, result }])
          ).toEqual([true])
          expect(yield* store.get(once.run.originId)).toMatchObject({ status: "succeeded", result })
          expect((yield* store.history(once.run.originId)).map((attempt) => attempt.result)).toEqual([result])

          const schedule = uid("Schedule")
          const { claimed, run, t } = yield* claimedRun(store, { schedule })
          const next = newRun({ ...run, id: RunId.generate(t), occurrence: 1, runAt: t + 60_000, result })
          expect(
            yield* store.settle([
              { _tag: "Next", id: run.id, claim: claimed.claim, outcome: "succeeded", error: null, next }
            ])
          ).toEqual([true])
          expect(yield* store.get(run.originId)).toMatchObject({ id: next.id, status: "pending", result })
          const history = yield* store.history(run.originId)
          expect(history.map((attempt) => [attempt.outcome, attempt.result])).toEqual([["succeeded", result]])
        }),
      timeout
    )
  })
}
