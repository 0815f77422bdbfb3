import { describe, expect, it } from "@effect/vitest"
/**
 * Bad input from callers gets a typed error before anything is stored, and bad values that reach
 * the runtime end one run, never the others: schedules, arguments, names, options, ids,
 * registrations, undecodable rows; a property test over arbitrary values. On every backend.
 */
import { Job, JobSchedule, JobStore, JobsS, type JobsSConfig, JobsSError, Scheduler } from "@jobss/core"
import { Context, Duration, Effect, Either, HashMap, Layer, LogLevel, Logger, Schema, type Scope } from "effect"
import fc from "fast-check"
import { newRun } from "../../packages/core/test/fixtures.js"
import { type TestCluster, fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"
import { makeLedger } from "../support/ledger.js"

/** A log line an instance wrote. */
interface LogLine {
  readonly level: string
  readonly text: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/** An instance of the test, with what it wrote to the store and its log. */
interface Started {
  readonly scheduler: Scheduler.SchedulerShape
  /** How many runs were handed to `store.insert` so far. */
  readonly inserted: () => number
  /** Its log lines at WARNING and above. */
  readonly logs: ReadonlyArray<LogLine>
}

/** Starts an instance on the cluster's store, counting inserted runs and capturing warnings. */
const start = (
  cluster: TestCluster,
  options: JobsSConfig.InstanceOptions,
  implementations: Layer.Layer<never, unknown, JobsS.JobsS>
): Effect.Effect<Started, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* cluster.store
    let inserted = 0
    const counting: JobStore.JobStoreShape = {
      ...store,
      insert: (runs) =>
        Effect.suspend(() => {
          inserted += runs.length
          return store.insert(runs)
        })
    }
    const logs: Array<LogLine> = []
    const capture = Logger.make(({ annotations, logLevel, message }) => {
      logs.push({
        level: logLevel.label,
        text: (Array.isArray(message) ? message : [message]).map(String).join(" "),
        annotations: Object.fromEntries(HashMap.toEntries(annotations))
      })
    })
    const context = yield* Layer.build(
      implementations.pipe(
        Layer.provideMerge(JobsS.layer({ ...fastOptions, ...options })),
        Layer.provide(Layer.succeed(JobStore.JobStore, counting))
      )
    ).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)), Logger.withMinimumLogLevel(LogLevel.Warning))
    return { scheduler: Context.get(context, Scheduler.Scheduler), inserted: () => inserted, logs }
  })

/** `start` in a scope of its own, for an instance that must fail to start (it is shut down either way). */
const refusedStart = (
  cluster: TestCluster,
  options: JobsSConfig.InstanceOptions,
  implementations: Layer.Layer<never, unknown, JobsS.JobsS>
): Effect.Effect<Started, unknown> => Effect.scoped(start(cluster, options, implementations))

const Tick = Job.make({ name: "Tick", args: Schema.Struct({}) })
const TickLive = Tick.toLayer(() => Effect.void)

/** Schedules of the three kinds with the given name prefix and (unchecked) missed policy. */
const everyKind = (name: string, missed: unknown): ReadonlyArray<JobSchedule.JobSchedule> => {
  const policy = missed as JobSchedule.MissedPolicy
  return [
    JobSchedule.cron({ name: `${name}Cron`, expression: "* * * * *", missed: policy }),
    JobSchedule.spaced({ name: `${name}Spaced`, every: "1 second", missed: policy }),
    JobSchedule.make({ name: `${name}Custom`, next: (now) => new Date(now.getTime() + 1_000), missed: policy })
  ]
}

/** The value with every -0 replaced by 0 (JSON has no -0: it comes back as 0). */
const withoutNegativeZero = (value: unknown): unknown => {
  if (Object.is(value, -0)) return 0
  if (Array.isArray(value)) return value.map(withoutNegativeZero)
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withoutNegativeZero(inner)]))
  }
  return value
}

const cyclic = (): unknown => {
  const value: Record<string, unknown> = { a: 1 }
  value["again"] = [value]
  return value
}

/** The values the issue found accepted and then changed, or crashing: each must be refused. */
const unsurvivable = (): ReadonlyArray<unknown> => [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  undefined,
  [undefined],
  new Date(0),
  new Map([["a", 1]]),
  new Set([1]),
  () => 1,
  Symbol("s"),
  10n,
  cyclic(),
  { toJSON: () => "replaced" },
  {
    get boom(): number {
      throw new Error("getter exploded")
    }
  }
]

describe.each(runtimeBackends)("bad input on %s", (backend) => {
  it.scopedLive(`invalid missed policies and schedule rules are refused for every kind of schedule (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const instance = yield* start(cluster, {}, TickLive)
      const badMissed = [{ catchUp: 0 }, { catchUp: -1 }, { catchUp: 1.5 }, { catchUp: Number.NaN }, "sometimes", {}]
      for (const missed of badMissed) {
        for (const schedule of everyKind("Bad", missed)) {
          const refused = yield* Effect.flip(refusedStart(cluster, { schedules: [schedule] }, TickLive))
          expect(refused).toBeInstanceOf(JobsSError.InvalidConfig)
          expect((refused as JobsSError.InvalidConfig).message).toContain(`Schedule ${schedule.name}: missed`)
          const error = yield* Effect.flip(instance.scheduler.createRun(Tick, {}, { schedule }))
          expect(error).toBeInstanceOf(JobsSError.InvalidRunOptions)
          expect(error.message).toContain("missed")
        }
      }
      const badRules = [
        JobSchedule.spaced({ name: "Forever", every: Duration.infinity }),
        JobSchedule.spaced({ name: "Never", every: "0 millis" }),
        JobSchedule.spaced({ name: "Banana", every: "banana" as Duration.DurationInput }),
        JobSchedule.cron({ name: "Mars", expression: "* * * * *", tz: "Mars/Base" }),
        JobSchedule.cron({ name: "Feb30", expression: "0 0 30 2 *" })
      ]
      for (const schedule of badRules) {
        const error = yield* Effect.flip(instance.scheduler.createRun(Tick, {}, { schedule }))
        expect(error).toBeInstanceOf(JobsSError.InvalidRunOptions)
        expect(error.message).toContain(`Schedule ${schedule.name}:`)
      }
      expect(instance.inserted()).toBe(0)
    })
  )

  it.scopedLive(
    `a next due time that is not a time ends that run failed, and the runs settled with it are written (${backend})`,
    () =>
      Effect.gen(function* () {
        const cluster = yield* makeCluster(backend)
        const ledger = makeLedger()
        const Slow = Job.make({ name: "Slow", args: Schema.Struct({}) })
        const often = () => JobSchedule.spaced({ name: "Often", every: "5 millis", missed: { catchUp: 1 } })
        const Often = often()
        const instance = yield* start(
          cluster,
          { workers: 20, schedules: [Often] },
          Layer.mergeAll(
            Tick.toLayer(() => Effect.zipRight(Effect.sleep("20 millis"), ledger.record)),
            Slow.toLayer(() => Effect.sleep("30 millis"))
          )
        )
        // a schedule changed after the instance checked it (the only way past the check): when the
        // occurrence ends, occurrences are missed and catchUp 0 picks none of them as the next one
        ;(Often as { missed: unknown }).missed = { catchUp: 0 }
        const scheduled = yield* instance.scheduler.createRun(Slow, {}, { schedule: often() })
        const others = yield* instance.scheduler.createRuns(
          Tick,
          Array.from({ length: 30 }, () => ({}))
        )
        const scheduledState = yield* instance.scheduler.awaitRun(scheduled, { timeout: "15 seconds" })
        expect(scheduledState.status).toBe("failed")
        expect(scheduledState.runCompletedError).toContain("missed.catchUp must be a positive integer, got 0")
        for (const id of others) {
          const state = yield* instance.scheduler.awaitRun(id, { timeout: "15 seconds" })
          // executed once: no settlement batch failed and had its runs taken over and run again
          expect(state).toMatchObject({ status: "succeeded", runTotalCount: 1 })
          expect(ledger.of(id)).toHaveLength(1)
        }
      })
  )

  it.scopedLive(
    `a failure whose text has a NUL is stored escaped, and the runs settled with it are written (${backend})`,
    () =>
      Effect.gen(function* () {
        const cluster = yield* makeCluster(backend)
        const Nul = Job.make({ name: "Nul", args: Schema.Struct({ bad: Schema.Boolean }), retriesErrorLimit: 0 })
        const instance = yield* start(
          cluster,
          { workers: 20 },
          Nul.toLayer(({ bad }) => (bad ? Effect.fail("before\u0000after") : Effect.sleep("10 millis")))
        )
        const [bad, ...good] = yield* instance.scheduler.createRuns(Nul, [
          { bad: true },
          ...Array.from({ length: 20 }, () => ({ bad: false }))
        ])
        const failed = yield* instance.scheduler.awaitRun(bad!, { timeout: "15 seconds" })
        expect(failed.status).toBe("failed")
        // the same text on every backend: PostgreSQL refuses NUL in text, so it is written as its escape
        expect(failed.runCompletedError).toContain("before\\u0000after")
        expect(failed.runCompletedError).not.toContain("\u0000")
        for (const id of good) {
          const state = yield* instance.scheduler.awaitRun(id, { timeout: "15 seconds" })
          expect(state).toMatchObject({ status: "succeeded", runTotalCount: 1 })
        }
      })
  )

  it.scopedLive(`arguments that do not survive JSON are refused, naming the path; nothing is stored (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const ledger = makeLedger()
      const Loose = Job.make({ name: "Loose", args: Schema.Unknown })
      const Numbers = Job.make({ name: "Numbers", args: Schema.Struct({ n: Schema.Number }) })
      const Dated = Job.make({ name: "Dated", args: Schema.Struct({ at: Schema.DateFromSelf }) })
      const Mapped = Job.make({
        name: "Mapped",
        args: Schema.Struct({ m: Schema.MapFromSelf({ key: Schema.String, value: Schema.Number }) })
      })
      // JSON leaves out a key set to undefined: a Schema that needs the key would refuse the stored arguments
      const Noted = Job.make({
        name: "Noted",
        args: Schema.Record({ key: Schema.String, value: Schema.Unknown }).pipe(
          Schema.filter((record) => "note" in record, { message: () => "a note must be given" })
        )
      })
      const instance = yield* start(
        cluster,
        {},
        Layer.mergeAll(
          Loose.toLayer(() => ledger.record),
          Numbers.toLayer(() => ledger.record),
          Dated.toLayer(() => ledger.record),
          Mapped.toLayer(() => ledger.record),
          Noted.toLayer(() => ledger.record)
        )
      )
      const refuse = (run: Effect.Effect<unknown, Scheduler.CreateRunError>, expected: string) =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(run)
          expect(error).toBeInstanceOf(JobsSError.InvalidRunArgs)
          expect(error.message).toContain("Encoded arguments do not survive JSON")
          expect(error.message).toContain(expected)
        })
      const { scheduler } = instance
      yield* refuse(scheduler.createRun(Numbers, { n: Number.NaN }), "args.n is NaN")
      yield* refuse(scheduler.createRun(Numbers, { n: Number.NEGATIVE_INFINITY }), "args.n is -Infinity")
      yield* refuse(scheduler.createRun(Dated, { at: new Date() }), "args.at is a Date")
      yield* refuse(scheduler.createRun(Mapped, { m: new Map([["a", 1]]) }), "args.m is a Map")
      yield* refuse(scheduler.createRuns(Numbers, [{ n: 1 }, { n: Number.NaN }]), "args.n is NaN")
      yield* refuse(scheduler.createRun(Noted, { note: undefined }), "a property set to undefined is left out")
      const paths = [
        "args is NaN",
        "args is Infinity",
        "args is undefined",
        "args[0] is undefined",
        "args is a Date",
        "args is a Map",
        "args is a Set",
        "args is a function",
        "args is a symbol",
        "args is the BigInt 10n",
        "args.again[0] contains itself (a cycle)",
        "args has a toJSON method",
        "args.boom could not be read: getter exploded"
      ]
      for (const [index, value] of unsurvivable().entries()) {
        yield* refuse(scheduler.createRun(Loose, value), paths[index]!)
      }
      expect(instance.inserted()).toBe(0)

      // what JSON keeps as it is (or as documented: -0 is 0, an undefined property is absent) is accepted
      for (const [job, value, received] of [
        [
          Loose,
          { gone: undefined, kept: "lone \ud800 surrogate", zero: -0 },
          { kept: "lone \ud800 surrogate", zero: 0 }
        ],
        [Loose, ["\u0000", { "": null }], ["\u0000", { "": null }]],
        [Numbers, { n: -0 }, { n: 0 }]
      ] as const) {
        const id = yield* scheduler.createRun(job as Job.Job<unknown>, value)
        expect((yield* scheduler.awaitRun(id, { timeout: "10 seconds" })).status).toBe("succeeded")
        expect(ledger.of(id).map((execution) => execution.args)).toEqual([received])
      }
    })
  )

  it.scopedLive(`one name rule for jobs, schedules and unique names, the same on every backend (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const instance = yield* start(cluster, {}, TickLive)
      const { scheduler } = instance
      const badNames = [
        "",
        "x".repeat(256),
        "a\u0000b",
        "lone\ud800",
        "\udc00",
        "bell\u0007",
        "c1\u009b",
        " lead",
        "trail "
      ]
      for (const name of badNames) {
        const unique = yield* Effect.flip(scheduler.createRun(Tick, {}, { unique: name }))
        expect(unique).toBeInstanceOf(JobsSError.InvalidRunOptions)
        // the value escaped (JSON), shortened when long
        expect(unique.message).toContain(`unique name ${JSON.stringify(name).slice(0, 60)}`)
        expect(unique.message).toContain("a name is 1 to 255 characters of well-formed UTF-16")

        const job = Job.make({ name, args: Schema.Struct({}) })
        const byJob = yield* Effect.flip(scheduler.createRun(job, {}))
        expect(byJob).toMatchObject({ _tag: "InvalidJob", job: name })
        expect(byJob.message).toContain("job name ")
        const registered = yield* Effect.flip(
          refusedStart(
            cluster,
            {},
            job.toLayer(() => Effect.void)
          )
        )
        expect(registered).toMatchObject({ _tag: "InvalidJob", job: name })

        const schedule = JobSchedule.spaced({ name, every: "1 second" })
        const configured = yield* Effect.flip(refusedStart(cluster, { schedules: [schedule] }, TickLive))
        expect(configured).toBeInstanceOf(JobsSError.InvalidConfig)
        expect((configured as JobsSError.InvalidConfig).message).toContain("schedule name ")
        const bySchedule = yield* Effect.flip(scheduler.createRun(Tick, {}, { schedule }))
        expect(bySchedule).toBeInstanceOf(JobsSError.InvalidRunOptions)
      }
      expect(instance.inserted()).toBe(0)

      // the longest name, other scripts, emoji, inner spaces: stored as given, found again as given
      for (const name of ["x".repeat(255), "été 日本 🙂", "a b", "\ufffd"]) {
        const first = yield* scheduler.createRun(Tick, {}, { unique: name, delay: "1 hour" })
        const second = yield* scheduler.createRun(Tick, {}, { unique: name, delay: "1 hour" })
        expect(second).toBe(first)
        expect((yield* scheduler.getRunState(first)).name).toBe(name)
      }
    })
  )

  it.scopedLive(`a runAt that is not a valid Date is an InvalidRunOptions, not a defect (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const instance = yield* start(cluster, {}, TickLive)
      // from JavaScript callers: a string, a number, an invalid Date
      for (const runAt of ["2020-01-01", 1_700_000_000_000, new Date(Number.NaN)]) {
        const error = yield* Effect.flip(instance.scheduler.createRun(Tick, {}, { runAt: runAt as Date }))
        expect(error).toBeInstanceOf(JobsSError.InvalidRunOptions)
        expect(error.message).toContain("runAt must be a valid Date")
      }
      expect(instance.inserted()).toBe(0)
    })
  )

  it.scopedLive(`a run id that is not one is a RunNotFound saying so, not a defect (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const { scheduler } = yield* start(cluster, {}, TickLive)
      const badIds: ReadonlyArray<unknown> = [
        42,
        undefined,
        null,
        {},
        "nope",
        "a\u0000b",
        "01234567-89ab-7def-8123-456789ABCDEF"
      ]
      for (const id of badIds) {
        const runId = id as Parameters<Scheduler.SchedulerShape["getRunState"]>[0]
        const attempts: ReadonlyArray<Effect.Effect<unknown, unknown>> = [
          scheduler.getRunState(runId),
          scheduler.getRunHistory(runId),
          scheduler.awaitRun(runId, { timeout: "1 second" }),
          scheduler.cancelRun(runId)
        ]
        for (const attempt of attempts) {
          const error = yield* Effect.flip(attempt)
          expect(error).toBeInstanceOf(JobsSError.RunNotFound)
          expect((error as JobsSError.RunNotFound).message).toMatch(
            /^No run with id .* exists: a run id is a 36-character lowercase UUID/
          )
        }
      }
      const unknown = "00000000-0000-7000-8000-000000000000"
      const missing = yield* Effect.flip(scheduler.getRunState(unknown as never))
      expect(missing).toMatchObject({ _tag: "RunNotFound", id: unknown })
      expect(missing.message).toBe(`No run with id "${unknown}" exists`)
    })
  )

  it.scopedLive(`AwaitRunTimeout says which run, after how long, and its status then (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const Sleepy = Job.make({ name: "Sleepy", args: Schema.Struct({}) })
      const { scheduler } = yield* start(
        cluster,
        {},
        Sleepy.toLayer(() => Effect.sleep("1 minute"))
      )
      const sleeping = yield* scheduler.createRun(Sleepy, {})
      const gaveUp = yield* Effect.flip(scheduler.awaitRun(sleeping, { timeout: "300 millis" }))
      expect(gaveUp).toBeInstanceOf(JobsSError.AwaitRunTimeout)
      expect(gaveUp).toMatchObject({ id: sleeping, timeout: Duration.millis(300) })
      expect(gaveUp.message).toMatch(
        new RegExp(`^awaitRun gave up on run "${sleeping}" after 300ms; it is still (pending|running)$`)
      )
      expect(yield* scheduler.cancelRun(sleeping)).toBe("requested")
    })
  )

  it.scopedLive(`a job implemented twice on one instance fails the second layer with InvalidJob (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      const twice = yield* Effect.flip(
        refusedStart(
          cluster,
          {},
          Layer.merge(
            TickLive,
            Tick.toLayer(() => Effect.void)
          )
        )
      )
      expect(twice).toMatchObject({ _tag: "InvalidJob", job: "Tick" })
      expect((twice as JobsSError.InvalidJob).message).toContain('Job "Tick" is already implemented on this instance')
      // the first registration went away with the failed layer: the job can be implemented again
      const instance = yield* start(cluster, {}, TickLive)
      const id = yield* instance.scheduler.createRun(Tick, {})
      expect((yield* instance.scheduler.awaitRun(id, { timeout: "10 seconds" })).status).toBe("succeeded")
    })
  )

  it.scopedLive(
    `a run whose stored arguments no longer decode ends failed, with a warning saying why (${backend})`,
    () =>
      Effect.gen(function* () {
        const cluster = yield* makeCluster(backend)
        const Greet = Job.make({ name: "Greet", args: Schema.Struct({ name: Schema.String }) })
        const instance = yield* start(
          cluster,
          {},
          Greet.toLayer(() => Effect.void)
        )
        const store = yield* cluster.store
        const row = newRun({ job: "Greet", args: JSON.stringify({ name: 42 }), runAt: Date.now() - 1_000 })
        yield* store.insert([row])
        const state = yield* instance.scheduler.awaitRun(row.originId as never, { timeout: "10 seconds" })
        expect(state.status).toBe("failed")
        expect(state.runCompletedError).toContain("do not match the job's Schema")
        const warnings = instance.logs.filter((line) => line.level === "WARN" && line.text.includes("do not decode"))
        expect(warnings).toHaveLength(1)
        expect(warnings[0]!.text).toContain("do not match the job's Schema")
        expect(warnings[0]!.annotations).toMatchObject({ runId: row.originId, job: "Greet" })
      })
  )

  it.scopedLive(
    `arbitrary values through createRun: a typed error and nothing stored, or the run gets them intact (${backend})`,
    () =>
      Effect.gen(function* () {
        const cluster = yield* makeCluster(backend)
        const ledger = makeLedger()
        const Loose = Job.make({ name: "Loose", args: Schema.Unknown })
        const Shaped = Job.make({
          name: "Shaped",
          args: Schema.Struct({ n: Schema.Number, s: Schema.String, list: Schema.Array(Schema.Number) })
        })
        const instance = yield* start(
          cluster,
          { workers: 4 },
          Layer.merge(
            Loose.toLayer(() => ledger.record),
            Shaped.toLayer(() => ledger.record)
          )
        )
        const { scheduler } = instance
        // plain values JSON keeps (null-prototype objects, -0, lone surrogates, undefined properties among them)
        const plain = fc.anything({ withNullPrototype: true, stringUnit: "binary" })
        // and everything else fast-check makes
        const anything = fc.anything({
          withBigInt: true,
          withBoxedValues: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withObjectString: true,
          withSparseArray: true,
          withTypedArray: true,
          stringUnit: "binary"
        })
        const awkward = fc.constantFrom(...unsurvivable(), -0, "\ud800", { a: undefined }, [1, -0])
        const shaped = fc.record({
          n: fc.double(),
          s: fc.string({ unit: "binary" }),
          list: fc.array(fc.double(), { maxLength: 5 })
        })
        /** Either a typed error and no insert, or a run that succeeds with its arguments intact. */
        const check = (job: Job.Job<unknown>, value: unknown) =>
          Effect.runPromise(
            Effect.gen(function* () {
              const before = instance.inserted()
              const created = yield* Effect.either(scheduler.createRun(job, value))
              if (Either.isLeft(created)) {
                expect(created.left).toBeInstanceOf(JobsSError.InvalidRunArgs)
                expect(instance.inserted()).toBe(before)
                return
              }
              const state = yield* scheduler.awaitRun(created.right, {
                timeout: "10 seconds",
                pollInterval: "10 millis"
              })
              expect(state.status).toBe("succeeded")
              expect(ledger.of(created.right).map((execution) => execution.args)).toEqual([withoutNegativeZero(value)])
            })
          )
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(fc.oneof({ arbitrary: plain, weight: 2 }, anything, awkward), (value) =>
              check(Loose, value)
            ),
            { numRuns: 50 }
          )
        )
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(fc.oneof({ arbitrary: shaped, weight: 3 }, anything), (value) =>
              check(Shaped as Job.Job<unknown>, value)
            ),
            { numRuns: 50 }
          )
        )
        // the instance still runs
        const after = yield* scheduler.createRun(Shaped, { n: 1, s: "after", list: [] })
        expect((yield* scheduler.awaitRun(after, { timeout: "10 seconds" })).status).toBe("succeeded")
      })
  )
})
