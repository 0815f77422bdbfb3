/**
 * Option validation: every option of the instance layers, `layerConfig`, `createRun`, `Job.make`,
 * `RetryBackoff` and `awaitRun` is checked by the same rules, and a bad value is a typed error naming
 * the field, the value and the rule, with nothing written. On the memory store (the SQL backends:
 * test/runtime/options.test.ts).
 */
import { describe, expect, it } from "@effect/vitest"
import { Config, ConfigError, ConfigProvider, Context, Duration, Effect, Layer, LogLevel, Logger, Schema } from "effect"
import { Job, JobStore, JobsS, JobsSConfig, JobsSError, RetryBackoff, Scheduler } from "../src/index.js"

const Task = Job.make({ name: "Task", args: Schema.Struct({}) })

const quiet = Logger.minimumLogLevel(LogLevel.None)

/** The error of building `layer` on a fresh memory store. */
const buildError = <A, E>(layer: Layer.Layer<A, E, JobStore.JobStore>) =>
  Effect.flip(Layer.build(layer.pipe(Layer.provide(JobStore.layerMemory), Layer.provide(quiet))))

/** A full instance implementing `Task`, and its store. */
const instance = Effect.gen(function* () {
  const store = yield* JobStore.makeMemory
  const context = yield* Layer.build(
    Task.toLayer(() => Effect.void).pipe(
      Layer.provideMerge(JobsS.layer()),
      Layer.provide(Layer.succeed(JobStore.JobStore, store)),
      Layer.provide(quiet)
    )
  )
  return { scheduler: Context.get(context, Scheduler.Scheduler), store }
})

const durationRule = (field: string, value: string, min = 0) =>
  `${field} must be a duration of at least ${min} ms, got ${value}`

const notDuration = (field: string, value: string) =>
  `${field} must be a duration (milliseconds, a string such as "5 seconds", or a Duration), got ${value}`

/** Bad instance option values (also valid for `layerClient`), with the message each must give. */
const clientCases: ReadonlyArray<readonly [JobsSConfig.ClientOptions, string]> = [
  [{ runTimeout: -1 }, durationRule("runTimeout", "-1")],
  [{ runTimeout: Number.NaN }, durationRule("runTimeout", "NaN")],
  [{ runTimeout: "-3 minutes" }, durationRule("runTimeout", '"-3 minutes"')],
  [{ runTimeout: [-1, 0] }, durationRule("runTimeout", "[-1, 0]")],
  [{ runTimeout: -5n }, durationRule("runTimeout", "-5n")],
  [{ runTimeout: "banana" as never }, notDuration("runTimeout", '"banana"')],
  [{ runTimeout: Number.POSITIVE_INFINITY }, "runTimeout must be a finite duration, got Infinity"],
  [{ runTimeout: 1e300 }, "runTimeout must be a duration of at most 50000000 days, got 1e+300"],
  [{ retriesErrorLimit: -2 }, "retriesErrorLimit must be an integer from -1 (unlimited) to 2147483647, got -2"],
  [{ retriesErrorLimit: 1.5 }, "retriesErrorLimit must be an integer from -1 (unlimited) to 2147483647, got 1.5"],
  [
    { retriesTimeoutLimit: 2 ** 31 },
    "retriesTimeoutLimit must be an integer from -1 (unlimited) to 2147483647, got 2147483648"
  ],
  [{ maxArgsBytes: Number.NaN }, "maxArgsBytes must be an integer from 2 to 2147483647, got NaN"],
  [{ instanceName: "" }, 'instanceName must be a string of 1 to 255 characters, got ""']
]

/** Bad values of the options only a full instance has. */
const instanceCases: ReadonlyArray<readonly [JobsSConfig.InstanceOptions, string]> = [
  [{ workers: 0 }, "workers must be an integer from 1 to 2147483647, got 0"],
  [{ workers: 2.5 }, "workers must be an integer from 1 to 2147483647, got 2.5"],
  [{ pollLimit: 2 ** 53 }, "pollLimit must be an integer from 1 to 2147483647, got 9007199254740992"],
  [{ pollInterval: 0 }, durationRule("pollInterval", "0", 1)],
  [{ pollInterval: "banana" as never }, notDuration("pollInterval", '"banana"')],
  [{ claimAhead: "-100 millis" }, durationRule("claimAhead", '"-100 millis"')],
  [{ timeoutCheck: Number.NaN }, durationRule("timeoutCheck", "NaN", 1)],
  [{ heartbeatInterval: -1 }, durationRule("heartbeatInterval", "-1", 1)],
  [{ leaseDuration: Number.POSITIVE_INFINITY }, "leaseDuration must be a finite duration, got Infinity"],
  [{ shutdownTimeout: "-30 seconds" }, durationRule("shutdownTimeout", '"-30 seconds"')],
  [{ retentionCheck: "-1 minute" }, durationRule("retentionCheck", '"-1 minute"', 1)],
  [{ retention: { failed: "-14 days" } }, durationRule("retention.failed", '"-14 days"', 1)]
]

describe("instance options", () => {
  it.scoped("JobsS.layer refuses each bad value with InvalidConfig naming the field, the value and the rule", () =>
    Effect.gen(function* () {
      for (const [options, message] of [...clientCases, ...instanceCases]) {
        const error = yield* buildError(JobsS.layer(options))
        expect(error, message).toBeInstanceOf(JobsSError.InvalidConfig)
        expect(error.message).toBe(message)
      }
      // the rules refuse only what is wrong: 0 still disables runTimeout, infinite retention keeps forever
      const config = yield* JobsSConfig.resolveInstance({
        runTimeout: 0,
        retention: { succeeded: Duration.infinity, failed: "forever" }
      })
      expect(config.runTimeoutMs).toBe(0)
      expect(config.retention).toEqual({ succeeded: null, failed: null, cancelled: 1_209_600_000 })
    })
  )

  it.scoped("JobsS.layerClient refuses the same values with the same messages", () =>
    Effect.gen(function* () {
      for (const [options, message] of clientCases) {
        const error = yield* buildError(JobsS.layerClient(options))
        expect(error, message).toBeInstanceOf(JobsSError.InvalidConfig)
        expect(error.message).toBe(message)
      }
    })
  )

  it.scoped("several bad values are all reported at once; a non-object is refused", () =>
    Effect.gen(function* () {
      const error = yield* buildError(JobsS.layer({ workers: 0, runTimeout: "-3 minutes" }))
      expect(error.message).toBe(
        `${durationRule("runTimeout", '"-3 minutes"')}; workers must be an integer from 1 to 2147483647, got 0`
      )
      const notObject = yield* buildError(JobsS.layer(5 as never))
      expect(notObject.message).toBe("options must be an object, got 5")
    })
  )
})

describe("JobsS.layerConfig", () => {
  const fromMap = (entries: ReadonlyArray<readonly [string, string]>) =>
    Layer.setConfigProvider(ConfigProvider.fromMap(new Map(entries)))

  const configured = JobsS.layerConfig({
    workers: Config.integer("JOBSS_WORKERS"),
    runTimeout: JobsSConfig.duration("JOBSS_RUN_TIMEOUT"),
    instanceName: Config.string("JOBSS_INSTANCE_NAME")
  })

  it.scoped("builds a working instance from a ConfigProvider", () =>
    Effect.gen(function* () {
      const store = yield* JobStore.makeMemory
      const context = yield* Layer.build(
        Task.toLayer(() => Effect.void).pipe(
          Layer.provideMerge(configured),
          Layer.provide(Layer.succeed(JobStore.JobStore, store)),
          Layer.provide(
            fromMap([
              ["JOBSS_WORKERS", "3"],
              ["JOBSS_RUN_TIMEOUT", "2 minutes"],
              ["JOBSS_INSTANCE_NAME", "configured"]
            ])
          ),
          Layer.provide(quiet)
        )
      )
      expect(Context.get(context, JobsS.JobsS).instanceName).toBe("configured")
      const [registered] = yield* store.instances
      expect(registered).toMatchObject({ name: "configured", workers: 3 })
      const scheduler = Context.get(context, Scheduler.Scheduler)
      const id = yield* scheduler.createRun(Task, {})
      expect((yield* scheduler.getRunState(id)).runTimeout).toEqual(Duration.minutes(2))
    })
  )

  it.scoped("a bad value read from config is refused like layer's, with InvalidConfig", () =>
    Effect.gen(function* () {
      const error = yield* buildError(
        configured.pipe(
          Layer.provide(
            fromMap([
              ["JOBSS_WORKERS", "3"],
              ["JOBSS_RUN_TIMEOUT", "-3 minutes"],
              ["JOBSS_INSTANCE_NAME", "configured"]
            ])
          )
        )
      )
      expect(error).toBeInstanceOf(JobsSError.InvalidConfig)
      expect(error.message).toBe(durationRule("runTimeout", '"-3 minutes"'))
      const zero = yield* buildError(
        configured.pipe(
          Layer.provide(
            fromMap([
              ["JOBSS_WORKERS", "0"],
              ["JOBSS_RUN_TIMEOUT", "1 minute"],
              ["JOBSS_INSTANCE_NAME", "configured"]
            ])
          )
        )
      )
      expect(zero.message).toBe("workers must be an integer from 1 to 2147483647, got 0")
      // text that is no duration at all is a ConfigError of the key, like Config.duration's
      const banana = yield* buildError(
        configured.pipe(
          Layer.provide(
            fromMap([
              ["JOBSS_WORKERS", "3"],
              ["JOBSS_RUN_TIMEOUT", "banana"],
              ["JOBSS_INSTANCE_NAME", "configured"]
            ])
          )
        )
      )
      expect(ConfigError.isConfigError(banana)).toBe(true)
      expect(String(banana)).toBe(
        '(Invalid data at JOBSS_RUN_TIMEOUT: "Expected a duration such as "30 seconds", got "banana"")'
      )
    })
  )
})

describe("createRun options", () => {
  const runCases: ReadonlyArray<readonly [Scheduler.CreateRunOptions, string]> = [
    [{ delay: "-5 seconds" }, durationRule("delay", '"-5 seconds"')],
    [{ delay: Number.NaN }, durationRule("delay", "NaN")],
    [{ delay: Number.POSITIVE_INFINITY }, "delay must be a finite duration, got Infinity"],
    [{ delay: "soon" as never }, notDuration("delay", '"soon"')],
    [{ runTimeout: -1 }, durationRule("runTimeout", "-1")],
    [{ runTimeout: Number.NaN }, durationRule("runTimeout", "NaN")],
    [{ runTimeout: "-3 minutes" }, durationRule("runTimeout", '"-3 minutes"')],
    [{ retriesErrorLimit: -2 }, "retriesErrorLimit must be an integer from -1 (unlimited) to 2147483647, got -2"],
    [
      { retriesTimeoutLimit: 2 ** 31 },
      "retriesTimeoutLimit must be an integer from -1 (unlimited) to 2147483647, got 2147483648"
    ],
    [{ limit: 0 }, "limit must be an integer from 1 to 2147483647, got 0"],
    [{ limit: 1.5 }, "limit must be an integer from 1 to 2147483647, got 1.5"],
    [{ limit: 2 }, "limit needs a schedule, got limit 2 without one"],
    [
      { runAt: new Date(8.64e15), delay: "1 second" },
      "runAt + delay must be at most +275760-09-13T00:00:00.000Z, got 8640000000000000 ms + 1000 ms"
    ]
  ]

  it.scoped("each bad value is refused with InvalidRunOptions naming it, and nothing is stored", () =>
    Effect.gen(function* () {
      const { scheduler, store } = yield* instance
      for (const [options, message] of runCases) {
        const one = yield* Effect.flip(scheduler.createRun(Task, {}, options))
        expect(one, message).toBeInstanceOf(JobsSError.InvalidRunOptions)
        expect(one.message).toBe(message)
        const many = yield* Effect.flip(scheduler.createRuns(Task, [{}, {}], options))
        expect(many.message).toBe(message)
      }
      expect(yield* store.pendingCounts).toEqual([])
      const disabled = yield* scheduler.createRun(Task, {}, { delay: "1 hour", runTimeout: 0, retriesErrorLimit: -1 })
      expect(yield* store.pendingCounts).toEqual([{ job: "Task", count: 1 }])
      // a disabled timeout reads back as Duration.zero
      expect((yield* scheduler.getRunState(disabled)).runTimeout).toEqual(Duration.zero)
    })
  )
})

describe("job policies and RetryBackoff", () => {
  const bad = (name: string, policies: Partial<Job.Options<{}, {}>>) =>
    Job.make({ name, args: Schema.Struct({}), ...policies })

  /** Built in each test: before the module of rules, `RetryBackoff.fixed("banana")` threw. */
  const jobCases = (): ReadonlyArray<readonly [Job.Job<{}, {}>, string]> => [
    [bad("Minus", { runTimeout: -1 }), `job Minus: ${durationRule("runTimeout", "-1")}`],
    [bad("NotANumber", { runTimeout: Number.NaN }), `job NotANumber: ${durationRule("runTimeout", "NaN")}`],
    [bad("Negative", { runTimeout: "-3 minutes" }), `job Negative: ${durationRule("runTimeout", '"-3 minutes"')}`],
    [
      bad("Endless", { runTimeout: Duration.infinity }),
      "job Endless: runTimeout must be a finite duration, got Duration(Infinity)"
    ],
    [
      bad("Errors", { retriesErrorLimit: -3 }),
      "job Errors: retriesErrorLimit must be an integer from -1 (unlimited) to 2147483647, got -3"
    ],
    [
      bad("Timeouts", { retriesTimeoutLimit: 0.5 }),
      "job Timeouts: retriesTimeoutLimit must be an integer from -1 (unlimited) to 2147483647, got 0.5"
    ],
    [
      bad("Backwards", { retryBackoff: RetryBackoff.exponential({ base: "-1 seconds", factor: -2 }) }),
      `job Backwards: ${durationRule("retryBackoff.base", '"-1 seconds"')}; ` +
        "retryBackoff.factor must be a finite number of at least 1, got -2"
    ],
    [
      bad("Banana", { retryBackoff: RetryBackoff.fixed("banana" as never) }),
      `job Banana: ${notDuration("retryBackoff.delay", '"banana"')}`
    ],
    [
      bad("Capped", { retryBackoff: RetryBackoff.exponential({ base: "1 minute", max: "1 second" }) }),
      "job Capped: retryBackoff.max must be at least base (60000 ms), got 1000 ms"
    ],
    [
      bad("Uncapped", { retryBackoff: RetryBackoff.exponential({ base: "1 second", max: Duration.infinity }) }),
      "job Uncapped: retryBackoff.max must be a finite duration, got Duration(Infinity)"
    ],
    [
      bad("Made", { retryBackoff: { _tag: "Linear" } as never }),
      'job Made: retryBackoff must be a policy made by RetryBackoff.immediate, fixed or exponential, got {"_tag":"Linear"}'
    ]
  ]

  it.scoped("a job with a bad policy fails toLayer's layer with InvalidRunOptions naming the job and the field", () =>
    Effect.gen(function* () {
      for (const [job, message] of jobCases()) {
        const error = yield* buildError(job.toLayer(() => Effect.void).pipe(Layer.provideMerge(JobsS.layer())))
        expect(error, message).toBeInstanceOf(JobsSError.InvalidRunOptions)
        expect(error.message).toBe(message)
      }
    })
  )

  it.scoped("createRun of such a job fails with the same error and stores nothing", () =>
    Effect.gen(function* () {
      const { scheduler, store } = yield* instance
      for (const [job, message] of jobCases()) {
        const error = yield* Effect.flip(scheduler.createRun(job, {}))
        expect(error, message).toBeInstanceOf(JobsSError.InvalidRunOptions)
        expect(error.message).toBe(message)
        // run options do not rescue a bad definition: it is refused before any run is created
        expect((yield* Effect.flip(scheduler.createRun(job, {}, { runTimeout: "1 minute" }))).message).toBe(message)
      }
      expect(yield* store.pendingCounts).toEqual([])
    })
  )

  it("the RetryBackoff constructors keep what they are given and never throw; delays are unchanged", () => {
    expect(RetryBackoff.fixed("banana" as never)).toEqual({ _tag: "Fixed", delay: "banana" })
    expect(RetryBackoff.exponential({ base: "-1 seconds", factor: -2 })).toEqual({
      _tag: "Exponential",
      base: "-1 seconds",
      factor: -2,
      max: "1 hour",
      jitter: true
    })
    const backoff = RetryBackoff.exponential({ base: "1 second", factor: 3, max: "1 minute", jitter: false })
    expect([1, 2, 3, 4, 5].map((attempt) => RetryBackoff.delayMillis(backoff, attempt, 0))).toEqual([
      1_000, 3_000, 9_000, 27_000, 60_000
    ])
    expect(RetryBackoff.delayMillis(RetryBackoff.exponential({ base: 0 }), 5_000, 0.5)).toBe(0)
    expect(RetryBackoff.delayMillis(RetryBackoff.fixed("banana" as never), 1, 0)).toBe(0)
  })
})

describe("awaitRun options", () => {
  it.scoped("a timeout or poll interval that breaks a rule is InvalidRunOptions, not a defect", () =>
    Effect.gen(function* () {
      const { scheduler } = yield* instance
      const id = yield* scheduler.createRun(Task, {}, { delay: "1 hour" })
      const cases: ReadonlyArray<readonly [Scheduler.AwaitRunOptions, string]> = [
        [{ timeout: "banana" as never }, notDuration("timeout", '"banana"')],
        [{ timeout: "-1 second" }, durationRule("timeout", '"-1 second"')],
        [{ timeout: Number.NaN }, durationRule("timeout", "NaN")],
        [{ pollInterval: 0 }, durationRule("pollInterval", "0", 1)],
        [{ pollInterval: Number.POSITIVE_INFINITY }, "pollInterval must be a finite duration, got Infinity"]
      ]
      for (const [options, message] of cases) {
        const error = yield* Effect.flip(scheduler.awaitRun(id, options))
        expect(error, message).toBeInstanceOf(JobsSError.InvalidRunOptions)
        expect(error.message).toBe(message)
      }
      const timedOut = yield* Effect.flip(scheduler.awaitRun(id, { timeout: 0 }))
      expect(timedOut).toBeInstanceOf(JobsSError.AwaitRunTimeout)
    })
  )
})
