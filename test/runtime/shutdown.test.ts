/** What an instance's shutdown leaves behind: every outcome decided with the job's policies, no claim held. On every backend. */
import { describe, expect, it } from "@effect/vitest"
import { Job, RetryBackoff } from "@jobss/core"
import { Deferred, Effect, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"

const Flaky = Job.make({
  name: "Flaky",
  args: Schema.Struct({ ms: Schema.Number }),
  retryBackoff: RetryBackoff.fixed("1 hour")
})

describe.each(runtimeBackends)("shutdown on %s", (backend) => {
  it.scopedLive(`an attempt that fails while its instance drains is retried with the job's backoff (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const started = yield* Deferred.make<void>()
      const instance = yield* cluster.start(
        { ...fastOptions, shutdownTimeout: "10 seconds" },
        Flaky.toLayer(({ ms }) =>
          Effect.zipRight(Deferred.succeed(started, undefined), Effect.zipRight(Effect.sleep(ms), Effect.fail("boom")))
        )
      )
      const id = yield* instance.scheduler.createRun(Flaky, { ms: 500 })
      yield* Deferred.await(started)
      yield* instance.stop
      const client = yield* cluster.client
      const store = yield* cluster.store
      const now = yield* store.now
      const state = yield* client.getRunState(id)
      expect(state).toMatchObject({ status: "pending", retriesOnErrorCount: 1 })
      // the fixed backoff of one hour, not an immediate retry
      expect(state.runAt.getTime() - now).toBeGreaterThan(50 * 60_000)
    })
  )
})
