import { describe, expect, it } from "@effect/vitest"
/**
 * A job implementation can do anything (throw, fail or die with values that do not serialize, return
 * something that is not an Effect, block the event loop): the attempt is recorded with a readable,
 * bounded error, retried like any defect, and the instance goes on running other runs. Asynchronous
 * argument Schemas work. On every backend.
 */
import { Job, JobSchedule, JobStore, JobsS, Scheduler } from "@jobss/core"
import { Cause, Context, Effect, ExecutionStrategy, Exit, Layer, LogLevel, Logger, Schema, Scope } from "effect"
import * as ErrorText from "../../packages/core/src/internal/errorText.js"
import { type TestCluster, fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"
import { watchUncaught } from "../support/uncaught.js"

const Args = Schema.Struct({ n: Schema.Number })
type Args = typeof Args.Type

/** An implementation as a JavaScript caller may write it: TypeScript would refuse what some of them return. */
type Untyped = (args: Args) => unknown

const busy = (ms: number) => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    // blocks the event loop
  }
}

const trap = () => {
  throw new Error("trapped")
}
/** A Proxy that throws on every trap. */
const hostileProxy = new Proxy(
  {},
  {
    get: trap,
    has: trap,
    ownKeys: trap,
    getPrototypeOf: trap,
    getOwnPropertyDescriptor: trap,
    defineProperty: trap,
    set: trap,
    deleteProperty: trap,
    isExtensible: trap,
    preventExtensions: trap,
    setPrototypeOf: trap
  }
)

/** An Error that is its own cause: rendering its cause chain never ends. */
const ownCause = (): Error => {
  const error = new Error("its own cause")
  error.cause = error
  return error
}

interface Case {
  readonly name: string
  readonly run: Untyped
  /** What the stored error must contain. */
  readonly error: string
  /** Retries after errors (default 1: the attempt is retried like any defect, then the run fails). */
  readonly retries?: number
}

const cases: ReadonlyArray<Case> = [
  {
    name: "throws synchronously",
    run: ({ n }) => {
      if (n < 0) throw new Error("neg")
      return Effect.void
    },
    error: "Error: neg"
  },
  { name: "fails with a BigInt", run: () => Effect.fail({ id: 1n }), error: "serialize a BigInt): { id: 1n }" },
  { name: "dies with a BigInt", run: () => Effect.die({ id: 1n }), error: "A defect that could not be rendered" },
  { name: "dies with a cyclic Error", run: () => Effect.die(ownCause()), error: "its own cause" },
  {
    name: "fails with an object whose toJSON throws",
    run: () =>
      Effect.fail({
        toJSON: () => {
          throw new Error("no JSON for you")
        }
      }),
    error: "(Error: no JSON for you)"
  },
  { name: "fails with a symbol", run: () => Effect.fail(Symbol("odd")), error: "Error: Symbol(odd)" },
  {
    name: "dies with an object whose getter throws",
    run: () =>
      Effect.die({
        get detail(): string {
          throw new Error("getter exploded")
        }
      }),
    error: "(Error: getter exploded): { detail: [Getter] }"
  },
  {
    name: "fails with a Proxy that throws on every trap",
    run: () => Effect.fail(hostileProxy),
    error: "Error: trapped"
  },
  {
    name: "fails with a huge string",
    run: () => Effect.fail("x".repeat(5_000_000)),
    error: `(cut to ${ErrorText.maxLength} characters)`
  },
  {
    name: "fails with NUL characters and a lone surrogate",
    run: () => Effect.fail("before\u0000after\uD800"),
    error: "Error: before\\u0000after\uFFFD"
  },
  {
    name: "returns undefined",
    run: () => undefined,
    error: "The implementation of job Bad returned undefined, not an Effect"
  },
  {
    name: "returns a Promise that rejects",
    run: () => Promise.reject(new Error("rejected")),
    error: "The implementation of job Bad returned a Promise, not an Effect"
  },
  { name: "returns a number", run: () => 42, error: "The implementation of job Bad returned 42, not an Effect" },
  {
    name: "blocks the event loop for 1.5 s, then throws",
    run: () => {
      busy(1_500)
      throw new Error("blocked, then threw")
    },
    error: "Error: blocked, then threw",
    retries: 0
  },
  {
    name: "blocks the event loop for 1.5 s inside its Effect, then dies",
    run: () =>
      Effect.sync(() => {
        busy(1_500)
        throw new Error("blocked inside, then died")
      }),
    error: "Error: blocked inside, then died",
    retries: 0
  }
]

/** A logger that renders every cause, as Effect's default logger does (without printing it). */
const renderingLogger = Logger.make(({ cause }) => {
  if (!Cause.isEmpty(cause)) Cause.pretty(cause)
})

/** An instance of `cluster` logging at Debug through `logger` (`cluster.start` logs through the default logger at the test level). */
const startWithLogger = (
  cluster: TestCluster,
  implementations: Layer.Layer<never, unknown, JobsS.JobsS>,
  logger: Logger.Logger<unknown, void>
): Effect.Effect<
  { readonly scheduler: Scheduler.SchedulerShape; readonly stop: Effect.Effect<void> },
  unknown,
  Scope.Scope
> =>
  Effect.gen(function* () {
    const store = yield* cluster.store
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const context = yield* Layer.buildWithScope(
      implementations.pipe(
        Layer.provideMerge(JobsS.layer({ ...fastOptions, shutdownTimeout: "100 millis" })),
        Layer.provide(Layer.succeed(JobStore.JobStore, store))
      ),
      scope
    ).pipe(Logger.withMinimumLogLevel(LogLevel.Debug), Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
    return { scheduler: Context.get(context, Scheduler.Scheduler), stop: Scope.close(scope, Exit.void) }
  })

describe.each(runtimeBackends)("misbehaving job implementations on %s", (backend) => {
  for (const { error, name, retries = 1, run } of cases) {
    it.scopedLive(`a job that ${name}: the attempt is recorded, the instance runs on (${backend})`, () =>
      Effect.gen(function* () {
        const uncaught = yield* watchUncaught
        const cluster = yield* makeCluster(backend)
        const Bad = Job.make({ name: "Bad", args: Args })
        const Good = Job.make({ name: "Good", args: Args })
        const instance = yield* cluster.start(
          fastOptions,
          Layer.merge(
            Bad.toLayer(run as (args: Args) => Effect.Effect<void, unknown>),
            Good.toLayer(() => Effect.void)
          )
        )
        const bad = yield* instance.scheduler.createRun(Bad, { n: -1 }, { retriesErrorLimit: retries })
        const state = yield* instance.scheduler.awaitRun(bad, { timeout: "15 seconds" })
        expect(state).toMatchObject({ status: "failed", runTotalCount: retries + 1, retriesOnErrorCount: retries })
        expect(state.runCompletedError).toContain(error)
        expect(state.runCompletedError!.length).toBeLessThanOrEqual(ErrorText.maxLength)
        const good = yield* instance.scheduler.createRun(Good, { n: 1 })
        expect((yield* instance.scheduler.awaitRun(good, { timeout: "15 seconds" })).status).toBe("succeeded")
        expect(uncaught.errors).toEqual([])
      })
    )
  }

  it.scopedLive(
    `a BigInt failure while the instance logs at Debug through a logger that renders causes (${backend})`,
    () =>
      Effect.gen(function* () {
        const uncaught = yield* watchUncaught
        const cluster = yield* makeCluster(backend)
        const Bad = Job.make({ name: "Bad", args: Args })
        const Good = Job.make({ name: "Good", args: Args })
        const { scheduler } = yield* startWithLogger(
          cluster,
          Layer.merge(
            Bad.toLayer(() => Effect.fail({ id: 1n })),
            Good.toLayer(() => Effect.void)
          ),
          renderingLogger
        )
        const bad = yield* scheduler.createRun(Bad, { n: 1 }, { retriesErrorLimit: 0 })
        const state = yield* scheduler.awaitRun(bad, { timeout: "15 seconds" })
        expect(state.status).toBe("failed")
        expect(state.runCompletedError).toContain("serialize a BigInt")
        const good = yield* scheduler.createRun(Good, { n: 1 })
        expect((yield* scheduler.awaitRun(good, { timeout: "15 seconds" })).status).toBe("succeeded")
        expect(uncaught.errors).toEqual([])
      })
  )

  it.scopedLive(
    `a hostile Proxy thrown inside an Effect breaks Effect's run loop for that run only: the instance runs on (${backend})`,
    () =>
      Effect.gen(function* () {
        const uncaught = yield* watchUncaught
        const cluster = yield* makeCluster(backend)
        const logged: Array<string> = []
        const Bad = Job.make({ name: "Bad", args: Args })
        const Good = Job.make({ name: "Good", args: Args })
        const { scheduler, stop } = yield* startWithLogger(
          cluster,
          Layer.merge(
            Bad.toLayer(() =>
              Effect.sync(() => {
                throw hostileProxy
              })
            ),
            Good.toLayer(() => Effect.void)
          ),
          Logger.make(({ logLevel, message }) => {
            if (logLevel._tag === "Error") logged.push(String(message))
          })
        )
        const bad = yield* scheduler.createRun(Bad, { n: 1 })
        yield* Effect.sleep("300 millis")
        const goods = yield* Effect.forEach([1, 2, 3], (n) => scheduler.createRun(Good, { n }))
        for (const good of goods) {
          expect((yield* scheduler.awaitRun(good, { timeout: "15 seconds" })).status).toBe("succeeded")
        }
        // Effect cannot end that fiber: its run stays running here until its timeout passes
        expect((yield* scheduler.getRunState(bad)).status).toBe("running")
        expect(logged.join("\n")).toContain("A run's fiber broke inside Effect's runtime and cannot end")
        // nor does it hold the shutdown forever
        yield* stop.pipe(Effect.timeout("10 seconds"))
        expect(logged.join("\n")).toContain("Shutdown: 1 runs did not end when interrupted")
        expect(uncaught.errors).toEqual([])
      })
  )

  it.scopedLive(
    `a schedule whose next() later throws a value that cannot be printed ends its run failed (${backend})`,
    () =>
      Effect.gen(function* () {
        const uncaught = yield* watchUncaught
        const cluster = yield* makeCluster(backend)
        let calls = 0
        const Breaks = JobSchedule.make({
          name: "Breaks",
          // the missed check asks it too (the skip policy)
          missed: "skip",
          next: (now) => {
            calls++
            // a null-prototype object: String() of it throws
            if (calls > 1) throw Object.create(null)
            return new Date(now.getTime() + 100)
          }
        })
        const Bad = Job.make({ name: "Bad", args: Args })
        const Good = Job.make({ name: "Good", args: Args })
        const instance = yield* cluster.start(
          { ...fastOptions, schedules: [Breaks] },
          Layer.merge(
            Bad.toLayer(() => Effect.void),
            Good.toLayer(() => Effect.void)
          )
        )
        const bad = yield* instance.scheduler.createRun(Bad, { n: 1 }, { schedule: Breaks })
        const state = yield* instance.scheduler.awaitRun(bad, { timeout: "15 seconds" })
        expect(state.status).toBe("failed")
        // the thrown value is shown as it is, even though it has no toString
        expect(state.runCompletedError).toContain("next() threw: [Object: null prototype] {}")
        const good = yield* instance.scheduler.createRun(Good, { n: 1 })
        expect((yield* instance.scheduler.awaitRun(good, { timeout: "15 seconds" })).status).toBe("succeeded")
        expect(uncaught.errors).toEqual([])
      })
  )

  it.scopedLive(`an argument Schema that throws while the instance decodes ends its run failed (${backend})`, () =>
    Effect.gen(function* () {
      const uncaught = yield* watchUncaught
      const cluster = yield* makeCluster(backend)
      const Exploding = Schema.transform(Schema.Number, Schema.Number, {
        strict: true,
        decode: () => {
          throw new Error("schema exploded")
        },
        encode: (n) => n
      })
      const Bad = Job.make({ name: "Bad", args: Schema.Struct({ n: Exploding }) })
      const Good = Job.make({ name: "Good", args: Args })
      const instance = yield* cluster.start(
        fastOptions,
        Layer.merge(
          Bad.toLayer(() => Effect.void),
          Good.toLayer(() => Effect.void)
        )
      )
      const bad = yield* instance.scheduler.createRun(Bad, { n: 1 })
      const state = yield* instance.scheduler.awaitRun(bad, { timeout: "15 seconds" })
      expect(state.status).toBe("failed")
      expect(state.runCompletedError).toContain(
        "Decoding the stored arguments with the job's Schema failed: Error: schema exploded"
      )
      const good = yield* instance.scheduler.createRun(Good, { n: 1 })
      expect((yield* instance.scheduler.awaitRun(good, { timeout: "15 seconds" })).status).toBe("succeeded")
      expect(uncaught.errors).toEqual([])
    })
  )

  it.scopedLive(`asynchronous argument Schemas, nested in a Struct, decode and run (${backend})`, () =>
    Effect.gen(function* () {
      const uncaught = yield* watchUncaught
      const cluster = yield* makeCluster(backend)
      const seen: Array<unknown> = []
      const Slowly = Schema.Number.pipe(Schema.filterEffect((n) => Effect.as(Effect.sleep("20 millis"), n >= 0)))
      const Doubled = Schema.transformOrFail(Schema.Number, Schema.Number, {
        strict: true,
        decode: (n) => Effect.as(Effect.sleep("20 millis"), n * 2),
        encode: (n) => Effect.as(Effect.sleep("20 millis"), n / 2)
      })
      const Filtered = Job.make({ name: "Filtered", args: Schema.Struct({ n: Slowly }) })
      const Transformed = Job.make({
        name: "Transformed",
        args: Schema.Struct({ inner: Schema.Struct({ n: Doubled }) })
      })
      const TopLevel = Job.make({ name: "TopLevel", args: Doubled })
      const Good = Job.make({ name: "Good", args: Args })
      const record = (args: unknown) => Effect.sync(() => seen.push(args))
      const instance = yield* cluster.start(
        fastOptions,
        Layer.mergeAll(
          Filtered.toLayer(record),
          Transformed.toLayer(record),
          TopLevel.toLayer(record),
          Good.toLayer(() => Effect.void)
        )
      )
      const ids = [
        yield* instance.scheduler.createRun(Filtered, { n: 3 }),
        yield* instance.scheduler.createRun(Transformed, { inner: { n: 8 } }),
        yield* instance.scheduler.createRun(TopLevel, 6)
      ]
      for (const id of ids) {
        const state = yield* instance.scheduler.awaitRun(id, { timeout: "15 seconds" })
        expect({ status: state.status, runCompletedError: state.runCompletedError }).toEqual({
          status: "succeeded",
          runCompletedError: undefined
        })
      }
      expect(seen).toEqual(expect.arrayContaining([{ n: 3 }, { inner: { n: 8 } }, 6]))
      expect(seen).toHaveLength(3)
      const good = yield* instance.scheduler.createRun(Good, { n: 1 })
      expect((yield* instance.scheduler.awaitRun(good, { timeout: "15 seconds" })).status).toBe("succeeded")
      expect(uncaught.errors).toEqual([])
    })
  )
})
