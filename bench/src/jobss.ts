/**
 * JobsS under test: the no-op job, the store and client layers per backend, the consumer (a JobsS
 * instance in the consumer process) and the producer (a client-only instance in the parent).
 */
import { SqlClient } from "@effect/sql"
import { Job, JobQueue, JobStore, JobsS, RunInfo, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Context, Effect, Exit, Layer, LogLevel, Logger, Redacted, Schema, Scope } from "effect"
import type { Backend, ConsumerSpec } from "./common.js"
import type { Consumer, OnJob } from "./peers/consumer.js"

/** The benchmark's no-op job. */
export const BenchNoop = Job.make({ name: "BenchNoop", args: Schema.Struct({ i: Schema.Number }) })

/**
 * The queue of each queued throughput variant of JobsS (others: no queue): `queue50`, at most 50
 * running; `partitions100`, 100 partitions (`benchPartitions`) of at most 1 running each.
 */
export const benchQueues: Readonly<Record<string, JobQueue.JobQueue>> = {
  queue50: JobQueue.make({ name: "bench50", concurrency: 50 }),
  partitions100: JobQueue.make({ name: "bench100", concurrency: 1, partitioned: true })
}

/** The partitions of the partitioned variant: run `i` is in partition `p<i mod 100>`. */
export const benchPartitions = 100

/** `BenchNoop` in the queue of the variant, if it has one (same name and arguments: the same runs). */
const benchJob = (variant: string): typeof BenchNoop => {
  const queue = benchQueues[variant]
  return queue === undefined ? BenchNoop : Job.make({ name: BenchNoop.name, args: BenchNoop.args, queue })
}

/** The store's table prefix (the default) and its runs table. */
export const runsTable = "jobss_runs"

/**
 * A SQL client for the backend (SQLite: `url` is the file). Only that backend's driver is loaded,
 * so a consumer process's memory holds what a real deployment's would.
 */
export const clientLayer = (backend: Backend, url: string): Layer.Layer<SqlClient.SqlClient, unknown> =>
  Layer.unwrapEffect(
    Effect.promise(async () => {
      switch (backend) {
        case "postgres":
          return (await import("@effect/sql-pg")).PgClient.layer({ url: Redacted.make(url) })
        case "mariadb":
          return (await import("@effect/sql-mysql2")).MysqlClient.layer({ url: Redacted.make(url) })
        case "sqlite":
          return (await import("@effect/sql-sqlite-node")).SqliteClient.layer({ filename: url })
      }
    })
  )

/** `SqlStore.layer()` over a new client. */
export const storeLayer = (backend: Backend, url: string): Layer.Layer<JobStore.JobStore, unknown> =>
  SqlStore.layer().pipe(Layer.provide(clientLayer(backend, url)))

/** Only warnings and errors from instances (a benchmark prints its own progress). */
const quiet = Logger.minimumLogLevel(LogLevel.Warning)

/** Builds a layer in a fresh scope; `close` shuts it down. */
export const buildLayer = async <A>(
  layer: Layer.Layer<A, unknown>
): Promise<{ readonly context: Context.Context<A>; readonly close: () => Promise<void> }> => {
  const scope = Effect.runSync(Scope.make())
  try {
    const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
    return { context, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
  } catch (error) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw error
  }
}

/** Runs an effect needing `A` with a built context. */
export const runWith = <A, X, E>(context: Context.Context<A>, effect: Effect.Effect<X, E, A>): Promise<X> =>
  Effect.runPromise(Effect.provide(effect, context))

/** Counts the active (pending or running) runs, through its own client. */
const activeCount = (backend: Backend, url: string) =>
  buildLayer(clientLayer(backend, url)).then((client) => ({
    count: () =>
      runWith(
        client.context,
        Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql<{ readonly n: number | string }>`SELECT count(*) AS n FROM ${sql(runsTable)}
            WHERE status IN ('pending', 'running')`.pipe(Effect.map((rows) => Number(rows[0]?.n ?? 0)))
        )
      ),
    close: client.close
  }))

/** Calls, rows and time per store operation in a consumer process (off with `BENCH_STORE_TIMING=0`). */
export const storeTimings: Record<string, { calls: number; rows: number; ms: number }> = {}

/** `storeTimings` with milliseconds rounded, for the results. */
export const storeTimingsRounded = (): Record<string, { calls: number; rows: number; ms: number }> =>
  Object.fromEntries(
    Object.entries(storeTimings).map(([name, entry]) => [name, { ...entry, ms: Math.round(entry.ms) }])
  )

/** Wraps a store so every operation is timed into `storeTimings`. */
const timedStore = (store: JobStore.JobStoreShape): JobStore.JobStoreShape => {
  const timed =
    <Args extends ReadonlyArray<unknown>, A, E>(name: string, f: (...args: Args) => Effect.Effect<A, E>) =>
    (...args: Args): Effect.Effect<A, E> =>
      Effect.suspend(() => {
        const started = performance.now()
        return Effect.tap(f(...args), (result) =>
          Effect.sync(() => {
            const entry = storeTimings[name] ?? { calls: 0, rows: 0, ms: 0 }
            storeTimings[name] = entry
            entry.calls += 1
            entry.ms += performance.now() - started
            entry.rows += Array.isArray(result) ? result.length : 1
          })
        )
      })
  return {
    ...store,
    now: timed("now", () => store.now)(),
    insert: timed("insert", store.insert),
    claim: timed("claim", store.claim),
    nextDue: timed("nextDue", store.nextDue),
    settle: timed("settle", store.settle),
    extend: timed("extend", store.extend),
    reap: timed("reap", store.reap),
    touchInstance: timed("touchInstance", store.touchInstance)
  }
}

/** A JobsS instance (`workers` workers, default options otherwise) executing `BenchNoop`, in the variant's queue. */
export const jobssConsumer = async (spec: ConsumerSpec, onJob: OnJob): Promise<Consumer> => {
  const active = await activeCount(spec.backend, spec.url)
  let instance: { readonly close: () => Promise<void> } | undefined
  const implementation = benchJob(spec.variant).toLayer(({ i }) =>
    Effect.map(RunInfo, (info) => {
      onJob(i, info.runAt.getTime())
    })
  )
  return {
    start: async () => {
      instance = await buildLayer(
        implementation.pipe(
          Layer.provideMerge(JobsS.layer({ workers: spec.workers })),
          // Timing each store call costs a clock read per call; BENCH_STORE_TIMING=0 turns it off.
          Layer.provide(
            process.env.BENCH_STORE_TIMING !== "0"
              ? Layer.effect(JobStore.JobStore, Effect.map(JobStore.JobStore, timedStore)).pipe(
                  Layer.provide(storeLayer(spec.backend, spec.url))
                )
              : storeLayer(spec.backend, spec.url)
          ),
          Layer.provide(quiet)
        )
      )
    },
    remaining: active.count,
    stop: async () => {
      await instance?.close()
      await active.close()
    }
  }
}

/** A client-only JobsS instance (another process than the workers'). */
export interface JobsSProducer {
  readonly createRun: (i: number, options?: Scheduler.CreateRunOptions) => Promise<string>
  readonly createRuns: (from: number, count: number) => Promise<ReadonlyArray<string>>
  readonly scheduler: Scheduler.SchedulerShape
  readonly store: JobStore.JobStoreShape
  readonly close: () => Promise<void>
}

/** Starts a client-only instance on the backend (migrating the store if needed). */
export const jobssProducer = async (backend: Backend, url: string): Promise<JobsSProducer> => {
  const built = await buildLayer(
    JobsS.layerClient().pipe(Layer.provideMerge(storeLayer(backend, url)), Layer.provide(quiet))
  )
  const scheduler = Context.get(built.context, Scheduler.Scheduler)
  const store = Context.get(built.context, JobStore.JobStore)
  return {
    createRun: (i, options) => Effect.runPromise(scheduler.createRun(BenchNoop, { i }, options)),
    createRuns: (from, count) =>
      Effect.runPromise(
        scheduler.createRuns(
          BenchNoop,
          Array.from({ length: count }, (_, k) => ({ i: from + k }))
        )
      ),
    scheduler,
    store,
    close: built.close
  }
}
