/**
 * The maintenance leader: one instance of the cluster holds the store's `maintenance` lease and
 * runs the cluster's maintenance (the timeout reaper, retention, the pending-runs gauge); the others
 * try to take the lease every two intervals (one statement) and otherwise leave maintenance alone.
 * The lease lasts three intervals on the store's clock and its holder renews it every interval; a
 * leader that stops renewing (a crash, a freeze, a lost database) is replaced once its lease has
 * expired, and one that shuts down gives the lease up, so another instance takes over at its next
 * attempt, without waiting for the lease to run out.
 *
 * Leadership saves work; it is not what keeps runs safe. Every write of maintenance is fenced or
 * idempotent in the store, so two leaders at once (a paused leader that has not noticed yet) cost
 * statements, never a double run. This instance stops counting itself leader when its lease, as
 * its store clock estimates it, has run out, without waiting for the store to say so.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type { JobStoreShape } from "../JobStore.js"
import type { JobStoreError } from "./errors.js"
import type { StoreClock } from "./storeClock.js"

/** The name of the lease the maintenance leader holds. */
export const leaseName = "maintenance"

/** The leader election of one instance. */
export interface Leader {
  /** Whether this instance leads now: it renewed the lease and, on the store clock, the lease has not run out. */
  readonly isLeader: () => boolean
  /** Waits until this instance next becomes leader. */
  readonly elected: Effect.Effect<void>
  /** One attempt to take or renew the lease; whether this instance leads after it. */
  readonly runOnce: Effect.Effect<boolean, JobStoreError>
  /**
   * Whether this instance must reap runs of these jobs and schedules itself: it leads, or no live
   * leader implements them all (a partial cluster), so the leader could not settle every such run.
   */
  readonly reaps: (
    jobs: ReadonlyArray<string>,
    schedules: ReadonlyArray<string>
  ) => Effect.Effect<boolean, JobStoreError>
  /** Gives the lease up if this instance holds it (at shutdown), so that another takes over at once. */
  readonly resign: Effect.Effect<void>
  /** The loop: an attempt every `intervalMs` while leading, every `followerIntervals` otherwise; resigns when interrupted; never fails. */
  readonly run: Effect.Effect<never>
}

/** What a leader election needs. */
export interface LeaderOptions {
  readonly store: JobStoreShape
  readonly clock: StoreClock
  readonly instanceId: string
  /** How often the leader renews the lease (the others try every `followerIntervals` of it). */
  readonly intervalMs: number
}

/** The lease lasts this many intervals: a leader may miss two renewals before it loses it. */
export const leaseIntervals = 3

/** Instances that do not lead try to take the lease every this many intervals. */
export const followerIntervals = 2

/**
 * The election's interval for an instance's heartbeat interval and run lease: the heartbeat's, but
 * at most a fifth of the run lease, so that a dead leader is replaced (its lease run out, then an
 * attempt) within the run lease and the reaper's takeover bound (lease plus `timeoutCheck`) holds.
 */
export const intervalFor = (heartbeatIntervalMs: number, runLeaseMs: number): number =>
  Math.max(1, Math.min(heartbeatIntervalMs, Math.floor(runLeaseMs / (leaseIntervals + followerIntervals))))

/** Builds the leader election of an instance. */
export const make = (options: LeaderOptions): Effect.Effect<Leader> =>
  Effect.gen(function* () {
    const { clock, instanceId, store } = options
    const leaseMs = leaseIntervals * options.intervalMs
    /** Until when this instance holds the lease (store clock ms), as far as it knows; 0 when it does not. */
    let heldUntil = 0
    let elected = yield* Deferred.make<void>()

    const isLeader = (): boolean => heldUntil > 0 && clock.unsafeNow() < heldUntil

    const runOnce: Leader["runOnce"] = Effect.gen(function* () {
      const wasLeader = isLeader()
      // the store takes the lease from its own now, which comes after this one: a safe lower bound
      const before = yield* clock.now
      const held = yield* store.acquireLease({ name: leaseName, holder: instanceId, leaseMs })
      heldUntil = held ? before + leaseMs : 0
      if (held && !wasLeader) {
        yield* Effect.logInfo("This instance is now the maintenance leader")
        yield* Deferred.succeed(elected, undefined)
        elected = yield* Deferred.make<void>()
      }
      if (!held && wasLeader) yield* Effect.logInfo("This instance is no longer the maintenance leader")
      return held
    })

    const reaps: Leader["reaps"] = (jobs, schedules) =>
      isLeader()
        ? Effect.succeed(true)
        : Effect.map(store.lease(leaseName), (lease) => {
            if (lease === undefined || !lease.live || lease.holder === instanceId) return true
            const jobsCovered = new Set(lease.jobs)
            const schedulesCovered = new Set(lease.schedules)
            return !jobs.every((job) => jobsCovered.has(job)) || !schedules.every((s) => schedulesCovered.has(s))
          })

    const resign: Leader["resign"] = Effect.suspend(() => {
      if (heldUntil === 0) return Effect.void
      heldUntil = 0
      return store.releaseLease(leaseName, instanceId).pipe(
        // a store that does not answer must not hold up the shutdown: the lease then expires
        Effect.timeoutFail({ duration: options.intervalMs, onTimeout: () => "timed out" as const }),
        Effect.zipRight(Effect.logInfo("Gave up the maintenance lease")),
        Effect.catchAll((error) => Effect.logWarning("Could not give up the maintenance lease", error))
      )
    })

    const attempt = runOnce.pipe(
      Effect.tapError((error) => Effect.logWarning("Taking or renewing the maintenance lease failed", error)),
      Effect.catchAll(() => Effect.succeed(false))
    )

    const run: Effect.Effect<never> = Effect.forever(
      Effect.flatMap(attempt, () =>
        Effect.sleep(isLeader() ? options.intervalMs : followerIntervals * options.intervalMs)
      )
    ).pipe(
      Effect.onInterrupt(() => resign),
      Effect.annotateLogs({ fiber: "leader" })
    )

    return {
      isLeader,
      elected: Effect.suspend(() => Deferred.await(elected)),
      runOnce,
      reaps,
      resign,
      run
    }
  })
