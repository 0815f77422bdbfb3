import { describe, expect, it } from "@effect/vitest"
/**
 * Property: whatever a job throws, fails or dies with, or returns instead of an Effect, its run ends
 * failed with a non-empty stored error within the length bound, and the instance keeps running. On
 * every backend, a few dozen arbitrary values each.
 */
import { Job } from "@jobss/core"
import { Effect, Layer, Runtime, Schema } from "effect"
import fc from "fast-check"
import * as ErrorText from "../../packages/core/src/internal/errorText.js"
import { binaryString, failureValues } from "../../packages/core/test/arbitraries.js"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"
import { watchUncaught } from "../support/uncaught.js"

/** How the job misbehaves with its value. */
const modes = ["throw", "throwInside", "fail", "die", "return", "reject"] as const
type Mode = (typeof modes)[number]

const trap = () => {
  throw new Error("trapped")
}

const cyclic = (): unknown => {
  const value: Record<string, unknown> = { name: "cyclic" }
  value.self = value
  value.list = [value, 1n]
  return value
}

/**
 * A Proxy that throws on every trap. Thrown inside an Effect (`Effect.sync(() => { throw proxy })`) it
 * breaks Effect's own run loop (its handler asks `in` of the thrown value), which JobsS cannot repair:
 * misbehaving.test.ts covers that case apart.
 */
const hostileProxy = new Proxy(
  {},
  { get: trap, has: trap, ownKeys: trap, getPrototypeOf: trap, getOwnPropertyDescriptor: trap }
)

/** Values known to break naive rendering; fresh ones per draw. */
const nasty: ReadonlyArray<() => unknown> = [
  () => ({ id: 1n }),
  cyclic,
  () => ({
    toJSON: () => {
      throw new Error("no JSON")
    }
  }),
  () => ({
    toString: () => {
      throw new Error("no string")
    }
  }),
  () => Symbol("odd"),
  () => ({
    get detail(): string {
      throw new Error("getter")
    }
  }),
  () => hostileProxy,
  () => "y".repeat(100_000),
  () => {
    const error = new Error("its own cause")
    error.cause = error
    return error
  },
  () => Object.create(null)
]

const values = failureValues(nasty, binaryString(50))

const misbehave = (mode: Mode, value: unknown): unknown => {
  switch (mode) {
    case "throw":
      throw value
    case "throwInside":
      return Effect.sync(() => {
        throw value
      })
    case "fail":
      return Effect.fail(value)
    case "die":
      return Effect.die(value)
    case "return":
      return value
    case "reject":
      return Promise.reject(value)
  }
}

describe.each(runtimeBackends)("arbitrary failures through a job on %s", (backend) => {
  it.scopedLive(`every run ends failed with a bounded stored error, and the instance runs on (${backend})`, () =>
    Effect.gen(function* () {
      const uncaught = yield* watchUncaught
      const cluster = yield* makeCluster(backend)
      const planned = new Map<number, { readonly mode: Mode; readonly value: unknown }>()
      const Bad = Job.make({ name: "Bad", args: Schema.Struct({ key: Schema.Number }) })
      const Good = Job.make({ name: "Good", args: Schema.Struct({}) })
      const instance = yield* cluster.start(
        fastOptions,
        Layer.merge(
          Bad.toLayer((({ key }: { key: number }) => {
            const plan = planned.get(key)!
            return misbehave(plan.mode, plan.value)
          }) as (args: { key: number }) => Effect.Effect<void>),
          Good.toLayer(() => Effect.void)
        )
      )
      const { scheduler } = instance
      const runtime = yield* Effect.runtime<never>()
      let key = 0
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(fc.constantFrom(...modes), values, async (mode, make) => {
            const value = make()
            fc.pre(!(mode === "throwInside" && value === hostileProxy))
            key += 1
            planned.set(key, { mode, value })
            const state = await Runtime.runPromise(runtime)(
              Effect.flatMap(scheduler.createRun(Bad, { key }, { retriesErrorLimit: 0 }), (id) =>
                scheduler.awaitRun(id, { timeout: "10 seconds", pollInterval: "5 millis" })
              )
            )
            expect(state.status).toBe("failed")
            expect(typeof state.runCompletedError).toBe("string")
            expect(state.runCompletedError!.length).toBeGreaterThan(0)
            expect(state.runCompletedError!.length).toBeLessThanOrEqual(ErrorText.maxLength)
          }),
          { numRuns: 30 }
        )
      )
      const good = yield* scheduler.createRun(Good, {})
      expect((yield* scheduler.awaitRun(good, { timeout: "10 seconds" })).status).toBe("succeeded")
      expect(uncaught.errors).toEqual([])
    })
  )
})
