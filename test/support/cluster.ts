/**
 * In-process clusters for runtime tests: several JobsS instances sharing one
 * store (one memory store, or one database with a connection pool per
 * instance), each with its own scope so a test can stop or freeze it alone.
 */
import { JobStore, JobsS, type JobsSConfig, JobsSError, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Context, Deferred, Effect, ExecutionStrategy, Exit, Layer, LogLevel, Logger, Scope } from "effect"
import { type Backend, makeDatabase } from "./databases.js"

/** Instances log at this level and above (`JOBSS_TEST_LOG=Info npm test` shows more; default `Error`). */
const testLogLevel: LogLevel.LogLevel =
  LogLevel.allLevels.find((level) => level.label === (process.env.JOBSS_TEST_LOG ?? "ERROR").toUpperCase()) ??
  LogLevel.Error

/** A backend a runtime test runs on. */
export type RuntimeBackend = "memory" | Backend

/** Every backend the runtime tests run on. */
export const runtimeBackends: ReadonlyArray<RuntimeBackend> = ["memory", "sqlite", "postgres", "mariadb"]

/** Instance options for tests: quick polls, heartbeats and reaper sweeps, short leases. */
export const fastOptions = {
  pollInterval: "200 millis",
  heartbeatInterval: "100 millis",
  leaseDuration: "2 seconds",
  timeoutCheck: "200 millis"
} as const satisfies JobsSConfig.InstanceOptions

/** How a frozen store behaves: `hang` never answers (a frozen process), `fail` errors at once (a lost database). */
export type FreezeMode = "hang" | "fail"

/** A store whose operations can be frozen, to simulate an instance that hangs or loses its database. */
export interface Freezer {
  readonly freeze: (mode: FreezeMode) => Effect.Effect<void>
  readonly thaw: Effect.Effect<void>
  /**
   * From now on each claim that takes runs is made in the store (committed) but its answer never comes back, as when
   * a connection drops after COMMIT.
   */
  readonly withholdClaims: Effect.Effect<void>
  /** Set once a withheld claim had taken at least one run. */
  readonly withheld: Deferred.Deferred<void>
  /**
   * From now on the first settlement batch with a settlement that `matches` freezes the whole store
   * (`hang`) before it reaches it: an instance that froze while its settlement was on its way. Once
   * thawed, the batch goes on to the store.
   */
  readonly freezeOnSettle: (matches: (settlement: JobStore.Settlement) => boolean) => Effect.Effect<void>
  /** Set when `freezeOnSettle` froze the store. */
  readonly frozenBySettle: Deferred.Deferred<void>
  /** What the store answered to the batch `freezeOnSettle` held, once thawed. */
  readonly heldSettlement: Deferred.Deferred<ReadonlyArray<boolean>, JobsSError.JobStoreError>
}

const freezable = (
  store: JobStore.JobStoreShape,
  thawed: Effect.Latch,
  withheld: Deferred.Deferred<void>,
  frozenBySettle: Deferred.Deferred<void>,
  heldSettlement: Deferred.Deferred<ReadonlyArray<boolean>, JobsSError.JobStoreError>
): { readonly store: JobStore.JobStoreShape; readonly freezer: Freezer } => {
  let mode: FreezeMode | undefined
  let withholding = false
  let freezeOn: ((settlement: JobStore.Settlement) => boolean) | undefined
  const gate = <A>(effect: Effect.Effect<A, JobsSError.JobStoreError>): Effect.Effect<A, JobsSError.JobStoreError> =>
    Effect.suspend(() =>
      mode === "hang"
        ? Effect.zipRight(thawed.await, gate(effect))
        : mode === "fail"
          ? Effect.fail(new JobsSError.JobStoreError({ message: "store frozen by the test" }))
          : effect
    )
  const wrapped: JobStore.JobStoreShape = {
    now: gate(store.now),
    insert: (runs) => gate(store.insert(runs)),
    claim: (request) =>
      gate(
        Effect.flatMap(store.claim(request), (claimed) =>
          withholding && claimed.length > 0
            ? Effect.zipRight(Deferred.succeed(withheld, undefined), Effect.never)
            : Effect.succeed(claimed)
        )
      ),
    nextDue: (jobs, schedules, queues) => gate(store.nextDue(jobs, schedules, queues)),
    settle: (settlements) =>
      Effect.suspend(() => {
        const match = freezeOn
        if (match === undefined || !settlements.some(match)) return gate(store.settle(settlements))
        freezeOn = undefined
        return Effect.zipRight(
          Effect.zipRight(set("hang"), Deferred.succeed(frozenBySettle, undefined)),
          Deferred.complete(heldSettlement, gate(store.settle(settlements))).pipe(
            Effect.zipRight(Deferred.await(heldSettlement))
          )
        )
      }),
    extend: (instanceId, claims, leaseMs, dispatched) => gate(store.extend(instanceId, claims, leaseMs, dispatched)),
    reap: (request) => gate(store.reap(request)),
    release: (instanceId, keep) => gate(store.release(instanceId, keep)),
    cancel: (originId) => gate(store.cancel(originId)),
    get: (originId) => gate(store.get(originId)),
    history: (originId) => gate(store.history(originId)),
    prune: (request) => gate(store.prune(request)),
    pendingCounts: gate(store.pendingCounts),
    waiting: (liveWithinMs) => gate(store.waiting(liveWithinMs)),
    registerInstance: (instance) => gate(store.registerInstance(instance)),
    touchInstance: (id, counters) => gate(store.touchInstance(id, counters)),
    shutdownInstance: (id, counters) => gate(store.shutdownInstance(id, counters)),
    instances: gate(store.instances),
    acquireLease: (request) => gate(store.acquireLease(request)),
    releaseLease: (name, holder) => gate(store.releaseLease(name, holder)),
    lease: (name) => gate(store.lease(name)),
    admin: store.admin,
    registerQueue: (definition, instanceId) => gate(store.registerQueue(definition, instanceId)),
    pauseQueue: (name, paused) => gate(store.pauseQueue(name, paused)),
    queues: gate(store.queues),
    queueCounts: gate(store.queueCounts),
    wakeups: store.wakeups
  }
  const set = (next: FreezeMode | undefined) =>
    Effect.zipRight(
      Effect.sync(() => {
        mode = next
      }),
      next === "hang" ? thawed.close : thawed.open
    )
  const withholdClaims = Effect.sync(() => {
    withholding = true
  })
  const freezeOnSettle = (matches: (settlement: JobStore.Settlement) => boolean) =>
    Effect.sync(() => {
      freezeOn = matches
    })
  return {
    store: wrapped,
    freezer: {
      freeze: set,
      thaw: set(undefined),
      withholdClaims,
      withheld,
      freezeOnSettle,
      frozenBySettle,
      heldSettlement
    }
  }
}

/**
 * Whether the store recorded that the running attempt of `run` started (its instance's heartbeat
 * reported the dispatch after the claim): until then a takeover gives the run back unstarted.
 */
export const startRecorded = (run: JobStore.StoredRun | undefined): boolean =>
  run !== undefined && run.dispatchedAt !== null && run.dispatchedAt >= (run.startedAt ?? 0)

/** How many times an instance called each store operation. */
export type StoreCalls = (operation: keyof JobStore.JobStoreShape) => number

/** The store, counting the calls of each operation (`wakeups` and the admin operations excepted). */
const counting = (
  store: JobStore.JobStoreShape
): { readonly store: JobStore.JobStoreShape; readonly calls: StoreCalls } => {
  const counts = new Map<string, number>()
  const count = (name: string) => Effect.sync(() => counts.set(name, (counts.get(name) ?? 0) + 1))
  const entries = Object.entries(store).map(([name, operation]) =>
    name === "wakeups" || name === "admin"
      ? [name, operation]
      : Effect.isEffect(operation)
        ? [name, Effect.zipRight(count(name), operation)]
        : [name, (...args: ReadonlyArray<unknown>) => Effect.zipRight(count(name), (operation as Function)(...args))]
  )
  return { store: Object.fromEntries(entries) as JobStore.JobStoreShape, calls: (name) => counts.get(name) ?? 0 }
}

/** One running instance of a test cluster. */
export interface TestInstance {
  readonly jobs: JobsS.JobsSShape
  readonly scheduler: Scheduler.SchedulerShape
  readonly freezer: Freezer
  /** The store operations this instance called so far, by name. */
  readonly calls: StoreCalls
  /** Shuts the instance down (closes its scope) and waits for it. */
  readonly stop: Effect.Effect<void>
}

/** A shared store (one database) that the instances of one test join. */
export interface TestCluster {
  readonly backend: RuntimeBackend
  /** Starts an instance with the given job implementations, on a store connection of its own. */
  readonly start: (
    options: JobsSConfig.InstanceOptions,
    implementations: Layer.Layer<never, unknown, JobsS.JobsS>
  ) => Effect.Effect<TestInstance, unknown, Scope.Scope>
  /** A client-only scheduler on the shared store. */
  readonly client: Effect.Effect<Scheduler.SchedulerShape, unknown, Scope.Scope>
  /** Direct access to the store, for assertions. */
  readonly store: Effect.Effect<JobStore.JobStoreShape, unknown, Scope.Scope>
}

/** A `SqlStore` layer on a fresh database. */
const sqlStoreLayer = (
  backend: Backend
): Effect.Effect<Layer.Layer<JobStore.JobStore, unknown>, unknown, Scope.Scope> =>
  Effect.map(makeDatabase(backend), (database) => SqlStore.layer().pipe(Layer.provide(database.layer)))

/** A fresh, empty shared store on `backend`, dropped when the scope closes. */
export const makeCluster = (backend: RuntimeBackend): Effect.Effect<TestCluster, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const storeLayer: Layer.Layer<JobStore.JobStore, unknown> =
      backend === "memory"
        ? Layer.succeed(JobStore.JobStore, yield* JobStore.makeMemory)
        : yield* sqlStoreLayer(backend)
    const buildStore = Effect.map(Layer.build(storeLayer), Context.get(JobStore.JobStore))

    const start: TestCluster["start"] = (options, implementations) =>
      Effect.gen(function* () {
        const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
        const { freezer, store: frozen } = freezable(
          yield* Scope.extend(buildStore, scope),
          yield* Effect.makeLatch(true),
          yield* Deferred.make<void>(),
          yield* Deferred.make<void>(),
          yield* Deferred.make<ReadonlyArray<boolean>, JobsSError.JobStoreError>()
        )
        const { calls, store } = counting(frozen)
        const context = yield* Layer.buildWithScope(
          implementations.pipe(
            Layer.provideMerge(JobsS.layer(options)),
            Layer.provide(Layer.succeed(JobStore.JobStore, store))
          ),
          scope
        ).pipe(Logger.withMinimumLogLevel(testLogLevel))
        return {
          jobs: Context.get(context, JobsS.JobsS),
          scheduler: Context.get(context, Scheduler.Scheduler),
          freezer,
          calls,
          stop: Scope.close(scope, Exit.void)
        }
      })

    const client = Effect.flatMap(buildStore, (store) =>
      Effect.map(
        Layer.build(JobsS.layerClient().pipe(Layer.provide(Layer.succeed(JobStore.JobStore, store)))),
        Context.get(Scheduler.Scheduler)
      )
    )

    return { backend, start, client, store: buildStore }
  })
