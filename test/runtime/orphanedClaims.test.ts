/**
 * Claims that never reach their instance (the claim committed, its answer lost on the wire or
 * interrupted by shutdown) are handed back when the instance shuts down: pending again at once, no
 * attempt used up, recorded `released`, instead of waiting for another instance's reaper to take
 * them over as lost (a timeout retry charged). On every backend.
 */
import { describe, expect, it } from "@effect/vitest"
import { Job } from "@jobss/core"
import { Deferred, Effect, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"

const Noted = Job.make({ name: "Noted", args: Schema.Struct({ n: Schema.Number }) })

describe.each(runtimeBackends)("orphaned claims on %s", (backend) => {
  it.scopedLive(`a claim whose answer never came back is handed back at shutdown (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const ran = yield* Deferred.make<void>()
      const implementation = Noted.toLayer(() => Deferred.succeed(ran, undefined))
      // a long lease: without the release the run would stay running for a minute
      const options = { ...fastOptions, leaseDuration: "1 minute" } as const
      const first = yield* cluster.start(options, implementation)
      yield* first.freezer.withholdClaims
      const id = yield* first.scheduler.createRun(Noted, { n: 1 })
      // the store claimed the run; the instance never got the answer and is shut down while it waits
      yield* Deferred.await(first.freezer.withheld)
      yield* first.stop
      const store = yield* cluster.store
      const run = yield* store.get(id)
      expect(run).toMatchObject({ status: "pending", runTotalCount: 0, retriesTimeoutCount: 0, leaseUntil: null })
      expect((yield* store.history(id)).map((attempt) => attempt.outcome)).toEqual(["released"])
      // another instance runs it at once, nothing charged
      const second = yield* cluster.start(options, implementation)
      const state = yield* second.scheduler.awaitRun(id, { timeout: "20 seconds" })
      expect(state).toMatchObject({ status: "succeeded", retriesOnTimeoutCount: 0 })
      expect(yield* Deferred.isDone(ran)).toBe(true)
    })
  )
})
