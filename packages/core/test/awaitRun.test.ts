/**
 * `awaitRun` through store failures, on the memory store driven by TestClock: transient failures
 * are read through (up to a minute in a row without a timeout, up to the timeout with one), other
 * failures end the wait at once. The same on real databases: test/runtime/awaitOutage.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Duration, Effect, Exit, Fiber, Layer, Option, Schema, TestClock } from "effect"
import { Job, JobStore, JobsS, JobsSError, RunId, Scheduler } from "../src/index.js"

const Later = Job.make({ name: "Later", args: Schema.Struct({}) })

const outage = new JobsSError.JobStoreError({ message: "connection refused", transient: true })
const malformed = new JobsSError.JobStoreError({ message: "malformed row" })

/** A client on a memory store whose `get` fails with the error last given to `fail` (none: it answers). */
const client = Effect.gen(function* () {
  const memory = yield* JobStore.makeMemory
  let failure: JobsSError.JobStoreError | undefined
  const store: JobStore.JobStoreShape = {
    ...memory,
    get: (id) => Effect.suspend(() => (failure === undefined ? memory.get(id) : Effect.fail(failure)))
  }
  const context = yield* Layer.build(JobsS.layerClient().pipe(Layer.provide(Layer.succeed(JobStore.JobStore, store))))
  return {
    scheduler: Context.get(context, Scheduler.Scheduler),
    fail: (error: JobsSError.JobStoreError | undefined) =>
      Effect.sync(() => {
        failure = error
      })
  }
})

/** Advances the clock one second at a time, letting the waiting fiber retry at each step. */
const advanceSeconds = (seconds: number) =>
  Effect.forEach(
    Array.from({ length: seconds }),
    () => Effect.zipRight(TestClock.adjust("1 second"), Effect.yieldNow()),
    {
      discard: true
    }
  )

describe("awaitRun through store failures (memory store, TestClock)", () => {
  it.scoped("reads through transient failures and returns the final state once the store answers again", () =>
    Effect.gen(function* () {
      const { fail, scheduler } = yield* client
      const id = yield* scheduler.createRun(Later, {}, { delay: "1 hour" })
      const wait = yield* Effect.fork(scheduler.awaitRun(id))
      yield* advanceSeconds(1)
      yield* fail(outage)
      yield* advanceSeconds(50)
      expect(Option.isNone(yield* Fiber.poll(wait))).toBe(true)
      yield* scheduler.cancelRun(id)
      yield* fail(undefined)
      yield* advanceSeconds(2)
      expect((yield* Fiber.join(wait)).status).toBe("cancelled")
    })
  )

  it.scoped("without a timeout, fails with the store's error after a minute of transient failures in a row", () =>
    Effect.gen(function* () {
      const { fail, scheduler } = yield* client
      const id = yield* scheduler.createRun(Later, {}, { delay: "1 hour" })
      const wait = yield* Effect.fork(scheduler.awaitRun(id))
      yield* advanceSeconds(1)
      // a first outage, shorter than the tolerance: the wait goes on, and the next outage counts from zero
      yield* fail(outage)
      yield* advanceSeconds(40)
      yield* fail(undefined)
      yield* advanceSeconds(2)
      yield* fail(outage)
      yield* advanceSeconds(55)
      expect(Option.isNone(yield* Fiber.poll(wait))).toBe(true)
      yield* advanceSeconds(10)
      expect(yield* Fiber.await(wait)).toEqual(Exit.fail(outage))
    })
  )

  it.scoped("with a timeout, reads through transient failures until the timeout", () =>
    Effect.gen(function* () {
      const { fail, scheduler } = yield* client
      const id = yield* scheduler.createRun(Later, {}, { delay: "1 hour" })
      const wait = yield* Effect.fork(scheduler.awaitRun(id, { timeout: "3 minutes" }))
      yield* fail(outage)
      yield* advanceSeconds(170)
      expect(Option.isNone(yield* Fiber.poll(wait))).toBe(true)
      yield* advanceSeconds(15)
      const exit = yield* Fiber.await(wait)
      // no read succeeded, so the error knows no status
      expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toEqual(
        Option.some(new JobsSError.AwaitRunTimeout({ id, timeout: Duration.minutes(3) }))
      )
    })
  )

  it.scoped("fails at once on a failure that is not transient, and on an unknown run", () =>
    Effect.gen(function* () {
      const { fail, scheduler } = yield* client
      const id = yield* scheduler.createRun(Later, {}, { delay: "1 hour" })
      const unknown = RunId.make("no-such-run")
      expect(yield* Effect.flip(scheduler.awaitRun(unknown))).toEqual(new JobsSError.RunNotFound({ id: unknown }))
      yield* fail(malformed)
      expect(yield* Effect.flip(scheduler.awaitRun(id))).toBe(malformed)
    })
  )
})
