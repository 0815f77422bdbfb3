/**
 * A takeover during a next-occurrence settlement: an instance freezes while the settlement that
 * ends a recurring run's occurrence (and creates the next one) is on its way. Another instance takes
 * the attempt over once its lease expired, runs the occurrence again and settles it; when the frozen
 * instance comes back, its late settlement is refused by the fence. Every occurrence ends once, and
 * no occurrence is created twice. On every backend.
 */
import { describe, expect, it } from "@effect/vitest"
import { Job, JobSchedule } from "@jobss/core"
import { Deferred, Effect, Schema } from "effect"
import { runBreaches } from "../cluster/scenario.js"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"
import { makeLedger } from "../support/ledger.js"

const Every = JobSchedule.spaced({ name: "NextOccurrenceEvery", every: "200 millis" })
const Tick = Job.make({ name: "NextOccurrenceTick", args: Schema.Struct({}) })
const options = { ...fastOptions, schedules: [Every] }
const occurrences = 3

describe.each(runtimeBackends)("takeover during a next-occurrence settlement on %s", (backend) => {
  it.scopedLive(`the late settlement is refused, each occurrence ends once (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const ledger = makeLedger()
      // long enough for a heartbeat to report the start, so the takeover is charged (`lost`)
      const tick = Tick.toLayer(() => Effect.zipRight(ledger.record, Effect.sleep("300 millis")))
      const frozen = yield* cluster.start(options, tick)
      yield* Effect.addFinalizer(() => frozen.freezer.thaw)
      yield* frozen.freezer.freezeOnSettle((settlement) => settlement._tag === "Next")
      const id = yield* frozen.scheduler.createRun(Tick, {}, { schedule: Every, limit: occurrences })
      yield* Deferred.await(frozen.freezer.frozenBySettle).pipe(Effect.timeout("20 seconds"))

      const other = yield* cluster.start(options, tick)
      const state = yield* other.scheduler.awaitRun(id, { timeout: "30 seconds" })
      expect(state).toMatchObject({ status: "succeeded", runSuccessCount: occurrences })

      // the frozen instance comes back: its settlement of occurrence 0 reaches the store and is refused
      yield* frozen.freezer.thaw
      expect(yield* Deferred.await(frozen.freezer.heldSettlement)).toEqual([false])
      const after = yield* other.scheduler.getRunState(id)
      expect(after).toMatchObject({ id: state.id, status: "succeeded", runSuccessCount: occurrences })

      const history = yield* other.scheduler.getRunHistory(id)
      expect(runBreaches(after, history)).toEqual([])
      expect(history.filter((attempt) => attempt.outcome === "succeeded").map((attempt) => attempt.occurrence)).toEqual(
        [0, 1, 2]
      )
      expect(history.filter((attempt) => attempt.occurrence === 0).map((attempt) => attempt.outcome)).toEqual([
        "lost",
        "succeeded"
      ])
      // occurrence 0 ran on both instances, each later one once
      const runsOf = (occurrence: number) =>
        ledger.entries.filter((entry) => history.some((a) => a.occurrence === occurrence && a.id === entry.id)).length
      expect([runsOf(0), runsOf(1), runsOf(2)]).toEqual([2, 1, 1])
      expect(ledger.entries.filter((entry) => entry.instance === frozen.jobs.instanceId)).toHaveLength(1)
    })
  )
})
