/**
 * An instance cut off from its store (its store hangs: a partition, an exhausted pool) stops its
 * running attempts by itself before their lease can expire, writing nothing, and another instance
 * takes the runs over after the lease. On every backend.
 */
import { describe, expect, it } from "@effect/vitest"
import { Job } from "@jobss/core"
import { Deferred, Effect, Ref, Schedule, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"

const Long = Job.make({ name: "Long", args: Schema.Struct({ n: Schema.Number }), retriesTimeoutLimit: -1 })

describe.each(runtimeBackends)("cut-off instance on %s", (backend) => {
  it.scopedLive(`its attempts stop before their lease expires, then another instance runs them (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const observer = yield* cluster.store
      const started = yield* Deferred.make<void>()
      const attempts = yield* Ref.make(0)
      /** When (store clock) the first attempt's fiber was interrupted. */
      const interruptedAt = yield* Deferred.make<number>()
      const implementation = Long.toLayer(() =>
        Effect.gen(function* () {
          if ((yield* Ref.getAndUpdate(attempts, (n) => n + 1)) > 0) return
          yield* Deferred.succeed(started, undefined)
          yield* Effect.never.pipe(
            Effect.onInterrupt(() =>
              Effect.flatMap(Effect.orDie(observer.now), (at) => Deferred.succeed(interruptedAt, at))
            )
          )
        })
      )
      const cutOff = yield* cluster.start(fastOptions, implementation)
      // thawed before it shuts down (finalizers run in reverse order), whatever the test's end
      yield* Effect.addFinalizer(() => cutOff.freezer.thaw)
      const id = yield* cutOff.scheduler.createRun(Long, { n: 1 })
      yield* Deferred.await(started)
      // once a heartbeat reported the start, the takeover charges the attempt (`lost`): a start not yet
      // reported would count as never started, and be given back uncharged
      yield* Effect.repeat(observer.get(id), {
        schedule: Schedule.spaced("20 millis"),
        until: (run) => run?.dispatchedAt !== null && run?.dispatchedAt !== undefined
      })
      yield* cutOff.freezer.freeze("hang")
      // the lease as the store last extended it (a beat may still be on its way: read after it lands)
      yield* Effect.sleep("300 millis")
      const leaseUntil = (yield* observer.get(id))?.leaseUntil
      expect(leaseUntil).toBeTypeOf("number")
      const other = yield* cluster.start(fastOptions, implementation)
      const at = yield* Deferred.await(interruptedAt).pipe(Effect.timeout("10 seconds"))
      expect(at).toBeLessThan(leaseUntil!)
      const state = yield* other.scheduler.awaitRun(id, { timeout: "20 seconds" })
      expect(state.status).toBe("succeeded")
      expect(yield* Ref.get(attempts)).toBe(2)
      // the cut-off instance wrote nothing: the only attempt before the success is the takeover's `lost`
      expect((yield* observer.history(id)).map((attempt) => attempt.outcome)).toEqual(["lost", "succeeded"])
    })
  )
})
