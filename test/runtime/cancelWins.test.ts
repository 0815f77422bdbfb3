/**
 * A cancel requested by another process wins over whatever the attempt's end would continue the run
 * with (a snooze, a retry, a next occurrence), by construction in the store, and a claimed run that
 * carries a cancel request is settled cancelled without starting. On every backend.
 */
import { describe, expect, it } from "@effect/vitest"
import { Job, JobSchedule, JobStore, JobsS, Scheduler } from "@jobss/core"
import { Context, Deferred, Effect, Layer, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"
import { makeLedger } from "../support/ledger.js"

const NoArgs = Schema.Struct({})
const Every = JobSchedule.spaced({ name: "CancelWinsEvery", every: "100 millis" })

/** How an attempt ends once its cancel was requested. */
const endings: ReadonlyArray<readonly [string, () => Effect.Effect<void, unknown>]> = [
  ["a snooze", () => Job.snooze("10 millis")],
  ["a failure that would be retried", () => Effect.fail("failed after the cancel")],
  ["a success with a next occurrence", () => Effect.void]
]

describe.each(runtimeBackends)("cancel wins on %s", (backend) => {
  for (const [label, end] of endings) {
    it.scopedLive(`a cancel from another process racing ${label} ends the run cancelled (${backend})`, () =>
      Effect.gen(function* () {
        const ledger = makeLedger()
        const cluster = yield* makeCluster(backend)
        const gate = yield* Deferred.make<void>()
        const started = yield* Deferred.make<void>()
        const Racing = Job.make({ name: "Racing", args: NoArgs, retriesErrorLimit: -1 })
        // uninterruptible: the cancel cannot stop the attempt, so its end meets the cancel request in the store
        const instance = yield* cluster.start(
          { ...fastOptions, schedules: [Every] },
          Racing.toLayer(() =>
            Effect.uninterruptible(
              ledger.record.pipe(
                Effect.zipRight(Deferred.succeed(started, undefined)),
                Effect.zipRight(Deferred.await(gate)),
                Effect.zipRight(end())
              )
            )
          )
        )
        const client = yield* cluster.client
        const scheduled = label === "a success with a next occurrence"
        const id = yield* instance.scheduler.createRun(Racing, {}, scheduled ? { schedule: Every } : {})
        yield* Deferred.await(started)
        expect(yield* client.cancelRun(id)).toBe("requested")
        yield* Deferred.succeed(gate, undefined)
        const state = yield* instance.scheduler.awaitRun(id, { timeout: "20 seconds" })
        expect(state).toMatchObject({ status: "cancelled", occurrence: 0 })
        expect(ledger.of(id)).toHaveLength(1)
        const history = yield* instance.scheduler.getRunHistory(id)
        expect(history.map((attempt) => attempt.outcome)).toEqual(["cancelled"])
      })
    )
  }

  it.scopedLive(`a claimed run carrying a cancel request is settled cancelled without starting (${backend})`, () =>
    Effect.gen(function* () {
      const ledger = makeLedger()
      const cluster = yield* makeCluster(backend)
      const store = yield* cluster.store
      // the flag as a row written before cancel requests were settled by construction could carry it
      const flagged: JobStore.JobStoreShape = {
        ...store,
        claim: (request) =>
          Effect.map(store.claim(request), (runs) => runs.map((run) => ({ ...run, cancelRequested: true })))
      }
      const Flagged = Job.make({ name: "Flagged", args: NoArgs })
      const context = yield* Layer.build(
        Flagged.toLayer(() => ledger.record).pipe(
          Layer.provideMerge(JobsS.layer(fastOptions)),
          Layer.provide(Layer.succeed(JobStore.JobStore, flagged))
        )
      )
      const scheduler = Context.get(context, Scheduler.Scheduler)
      const id = yield* scheduler.createRun(Flagged, {})
      const state = yield* scheduler.awaitRun(id, { timeout: "20 seconds" })
      expect(state.status).toBe("cancelled")
      expect(ledger.of(id)).toEqual([])
      // recorded with the settlement, in the same statement or transaction
      const history = yield* scheduler.getRunHistory(id)
      expect(history.map((attempt) => attempt.outcome)).toEqual(["cancelled"])
      expect((yield* Context.get(context, JobsS.JobsS).counters).runsStarted).toBe(0)
    })
  )
})
