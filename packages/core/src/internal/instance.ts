/**
 * Assembles an instance: registers it, forks the poller, the heartbeat, the
 * maintenance leader election with the maintenance it gates (the reaper, the
 * retention sweeper, the pending-runs sampler) and the store's wake-up listener
 * in the layer's scope, and shuts them down in order when the scope closes.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { JobsSShape } from "../JobsS.js"
import type { ClientOptions, InstanceOptions } from "../JobsSConfig.js"
import * as ClaimAhead from "./claimAhead.js"
import { makeScheduler } from "./client.js"
import * as Counters from "./counters.js"
import { type InvalidConfig, InvalidJob, InvalidQueue, type JobStoreError } from "./errors.js"
import * as Heartbeat from "./heartbeat.js"
import { JobStore } from "./jobStoreTag.js"
import { JobsS } from "./jobsSTag.js"
import * as Leader from "./leader.js"
import * as Names from "./names.js"
import * as Options from "./options.js"
import * as PendingGauge from "./pendingGauge.js"
import * as Poller from "./poller.js"
import * as QueueRow from "./queueRow.js"
import * as Reaper from "./reaper.js"
import * as Registry from "./registry.js"
import * as Retention from "./retention.js"
import * as RunId from "./runId.js"
import { Scheduler } from "./schedulerTag.js"
import * as StoreClock from "./storeClock.js"
import * as WakeSignal from "./wakeSignal.js"
import * as WorkerPool from "./workerPool.js"

/** Builds a full instance in the current scope. */
export const make = (
  options: InstanceOptions
): Effect.Effect<Context.Context<JobsS | Scheduler>, InvalidConfig | JobStoreError, JobStore | Scope.Scope> =>
  Effect.gen(function* () {
    const config = yield* Options.resolveInstance(options)
    const store = yield* JobStore
    const clock = yield* StoreClock.make(store)
    const instanceId = RunId.generate(yield* clock.now)
    const registry = Registry.make(config.schedules)
    const counters = Counters.make()
    const signal = yield* WakeSignal.make
    let stopping = false

    // suspended: each registration lists the jobs implemented by then
    const registerInstance = Effect.suspend(() =>
      store.registerInstance({
        id: instanceId,
        name: config.instanceName,
        workers: config.workers,
        jobs: registry.jobs(),
        schedules: registry.schedules,
        pollIntervalMs: config.pollIntervalMs,
        pollLimit: config.pollLimit
      })
    )
    yield* registerInstance
    // the queues claims take runs of: those of the jobs registered here, and those stored when it started
    // (runs created under an earlier definition of a job keep their queue)
    const definitions = new Map<string, QueueRow.QueueDefinition>()
    const queueNames = new Set((yield* store.queues).map((queue) => queue.name))

    const demand = Poller.makeDemand(signal, () => stopping)
    const annotate = Effect.annotateLogs({ instance: config.instanceName })
    const pool = yield* annotate(
      WorkerPool.make({
        store,
        registry,
        counters,
        clock,
        workers: config.workers,
        ahead: ClaimAhead.make(config.claimAheadMs, config.pollLimit),
        settleRetryMs: config.leaseMs,
        // half the slack a renewed lease has at each heartbeat: never reached while the heartbeat answers
        leaseMarginMs: (config.leaseMs - config.heartbeatIntervalMs) / 2,
        maxResultBytes: config.maxArgsBytes,
        onDemand: demand.onDemand,
        onRequeued: signal.wake,
        onSlotFreed: signal.unsafeWake
      })
    )
    const poller = Poller.make({
      store,
      pool,
      registry,
      signal,
      demand,
      clock,
      instanceId,
      queues: () => [...queueNames],
      pollIntervalMs: config.pollIntervalMs,
      pollLimit: config.pollLimit,
      leaseMs: config.leaseMs
    })
    const heartbeat = Heartbeat.make({
      store,
      pool,
      counters,
      clock,
      instanceId,
      intervalMs: config.heartbeatIntervalMs,
      leaseMs: config.leaseMs
    })
    const leader = yield* Leader.make({
      store,
      clock,
      instanceId,
      intervalMs: Leader.intervalFor(config.heartbeatIntervalMs, config.leaseMs)
    })
    const reaper = Reaper.make({
      store,
      instanceId,
      pool,
      registry,
      counters,
      extendLeases: heartbeat.extendLeases,
      timeoutCheckMs: config.timeoutCheckMs,
      leaseMs: config.leaseMs,
      graceMs: Math.min(config.heartbeatIntervalMs, 1_000),
      batch: 100,
      turn: leader.reaps,
      elected: leader.elected,
      onGivenBack: signal.wake
    })
    const heartbeatFiber = yield* Effect.forkScoped(annotate(heartbeat.run))
    const pollerFiber = yield* Effect.forkScoped(annotate(poller.run))
    const leaderFiber = yield* Effect.forkScoped(annotate(leader.run))
    const reaperFiber = yield* Effect.forkScoped(annotate(reaper.run))
    const wakeupsFiber = yield* Effect.forkScoped(annotate(Stream.runForEach(store.wakeups, () => signal.wake)))
    const retention = Retention.make({
      store,
      retention: config.retention,
      intervalMs: config.retentionCheckMs,
      leading: leader.isLeader
    })
    const retentionFiber = yield* Effect.forkScoped(annotate(retention.run))
    const gauge = PendingGauge.make(store, config.heartbeatIntervalMs, leader.isLeader)
    const gaugeFiber = yield* Effect.forkScoped(annotate(gauge.run))

    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        stopping = true
        yield* Effect.logInfo("Shutting down: no new claims")
        yield* Fiber.interruptAll([pollerFiber, reaperFiber, wakeupsFiber, retentionFiber, gaugeFiber, leaderFiber])
        yield* pool.drain(config.shutdownTimeoutMs)
        yield* Fiber.interrupt(heartbeatFiber)
        // claims whose answer never reached this instance (interrupted on the wire, a connection dropped
        // after COMMIT): hand them back, fenced by this instance's claims; runs still executing stay held
        yield* store.release(instanceId, yield* pool.executing).pipe(
          Effect.tap((released) =>
            released > 0
              ? Effect.logWarning(`Shutdown: handed back ${released} runs claimed but never received`)
              : Effect.void
          ),
          Effect.catchAll((error) => Effect.logWarning("Could not hand back the claims left at shutdown", error))
        )
        const final = yield* counters.snapshot
        yield* store
          .shutdownInstance(instanceId, final)
          .pipe(Effect.catchAll((error) => Effect.logWarning("Could not record the instance's shutdown", error)))
        yield* Effect.logInfo("Shut down", final)
      }).pipe(annotate)
    )

    /** Stores a queue's definition; a different one stored before is named in a warning (the one written last holds). */
    const registerQueue = (queue: QueueRow.QueueDefinition) =>
      store.registerQueue(queue, instanceId).pipe(
        Effect.tap((previous) =>
          previous === undefined || previous.definedBy === null || QueueRow.sameLimits(previous, queue)
            ? Effect.void
            : Effect.logWarning(
                `Queue ${JSON.stringify(queue.name)}: the stored definition (${QueueRow.describe(previous)}, ` +
                  `written by instance ${previous.definedBy}) differs from this instance's ` +
                  `(${QueueRow.describe(queue)}); this instance's is now stored and enforced`
              )
        ),
        Effect.catchAll((error) => Effect.logWarning(`Could not store the definition of queue ${queue.name}`, error))
      )

    const jobs: JobsSShape = {
      instanceId,
      instanceName: config.instanceName,
      register: (job, run, context) =>
        Effect.gen(function* () {
          const badName = Names.invalidJob(job.name)
          if (badName !== undefined) return yield* badName
          yield* Options.jobPolicies(job)
          const queue = job.queue === undefined ? undefined : yield* QueueRow.definitionOf(job.queue)
          const known = queue === undefined ? undefined : definitions.get(queue.name)
          if (queue !== undefined && known !== undefined && !QueueRow.sameLimits(known, queue)) {
            return yield* new InvalidQueue({
              queue: queue.name,
              message:
                `Queue ${JSON.stringify(queue.name)} has two definitions on this instance ` +
                `(${QueueRow.describe(known)}; ${QueueRow.describe(queue)}): give each queue one JobQueue.make`
            })
          }
          if (!registry.add({ job, run, context })) {
            return yield* new InvalidJob({
              job: job.name,
              message: `Job ${JSON.stringify(job.name)} is already implemented on this instance: provide one toLayer per job`
            })
          }
          yield* Effect.addFinalizer(() => Effect.sync(() => registry.remove(job.name)))
          if (queue !== undefined && known === undefined) {
            definitions.set(queue.name, queue)
            queueNames.add(queue.name)
            yield* registerQueue(queue)
          }
          yield* registerInstance.pipe(
            Effect.catchAll((error) => Effect.logWarning("Could not update the instance row", error))
          )
          yield* signal.wake
        }),
      counters: counters.snapshot
    }

    const scheduler = makeScheduler({
      store,
      instanceId,
      config,
      clock,
      onCreated: () => signal.wake,
      onCancelRequested: (originId) => pool.stopOrigin(originId, "cancelled"),
      onResumed: signal.wake
    })

    yield* Effect.logInfo("Instance started").pipe(annotate)
    return Context.make(JobsS, jobs).pipe(Context.add(Scheduler, scheduler))
  })

/** How often a client-only instance measures the store's clock again. */
const clientClockSync = "1 minute"

/** Builds a client-only instance: a `Scheduler` with no workers. */
export const makeClient = (
  options: ClientOptions
): Effect.Effect<Context.Context<Scheduler>, InvalidConfig | JobStoreError, JobStore | Scope.Scope> =>
  Effect.gen(function* () {
    const config = yield* Options.resolveClient(options)
    const store = yield* JobStore
    const clock = yield* StoreClock.make(store)
    yield* Effect.forkScoped(
      clock.sync.pipe(
        Effect.ignoreLogged,
        Effect.repeat(Schedule.spaced(clientClockSync)),
        Effect.delay(clientClockSync)
      )
    )
    const instanceId = RunId.generate(yield* clock.now)
    return Context.make(
      Scheduler,
      makeScheduler({
        store,
        instanceId,
        config,
        clock,
        onCreated: () => Effect.void,
        onCancelRequested: () => Effect.void,
        onResumed: Effect.void
      })
    )
  })
