/**
 * The heartbeat: extends the leases of the runs this instance holds (and reports
 * which of their attempts started since the last beat), interrupts
 * runs whose claim was lost or whose cancellation was requested (from any
 * instance), and records the instance's `last seen` and counters.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { JobStoreShape } from "../JobStore.js"
import type { Counters } from "./counters.js"
import type { JobStoreError } from "./errors.js"
import type { StoreClock } from "./storeClock.js"
import type { WorkerPool } from "./workerPool.js"

/** The heartbeat loop and its single beat. */
export interface Heartbeat {
  /** Extends the leases of the local runs and stops those lost or cancelled. */
  readonly extendLeases: Effect.Effect<void, JobStoreError>
  /** One beat: extends the leases, then records `last seen`, the counters and the store's clock. */
  readonly runOnce: Effect.Effect<void, JobStoreError>
  /** The loop, every `heartbeatInterval`; never fails. */
  readonly run: Effect.Effect<never>
}

/** What the heartbeat needs. */
export interface HeartbeatOptions {
  readonly store: JobStoreShape
  readonly pool: WorkerPool
  readonly counters: Counters
  readonly clock: StoreClock
  readonly instanceId: string
  readonly intervalMs: number
  readonly leaseMs: number
}

/** Builds a heartbeat. */
export const make = (options: HeartbeatOptions): Heartbeat => {
  const { counters, pool, store } = options

  const extendLeases: Effect.Effect<void, JobStoreError> = Effect.gen(function* () {
    // a claimed run waits for a worker one heartbeat at most: the claim-ahead guess was wrong, hand it back
    yield* pool.releaseStale(options.intervalMs)
    const local = yield* pool.held
    if (local.length > 0) {
      // the store extends from its own now, which comes after this one: a safe lower bound
      const extendedAt = yield* options.clock.now
      // the attempts started since the last beat: the store counts their timeout from now on, and a
      // takeover after this instance dies charges them (a run that never started is given back free)
      const started = local.filter((run) => run.unreported).map((run) => run.claim)
      const held = yield* store.extend(
        options.instanceId,
        local.map((run) => run.claim),
        options.leaseMs,
        started
      )
      const stillHeld = new Set(held.map((run) => run.claim))
      yield* pool.renewed(
        [...stillHeld],
        extendedAt + options.leaseMs,
        started.filter((claim) => stillHeld.has(claim))
      )
      yield* Effect.forEach(
        local.filter((run) => !stillHeld.has(run.claim)),
        (run) => pool.stop(run.id, "lost", run.claim),
        { discard: true }
      )
      yield* Effect.forEach(
        held.filter((run) => run.cancelRequested),
        (run) => pool.stop(run.id, "cancelled", run.claim),
        { discard: true }
      )
    }
  })

  const runOnce: Effect.Effect<void, JobStoreError> = Effect.gen(function* () {
    yield* extendLeases
    yield* store.touchInstance(options.instanceId, yield* counters.snapshot)
    yield* options.clock.sync
  })

  const run = runOnce.pipe(
    Effect.tapError((error) => Effect.logWarning("Heartbeat failed", error)),
    Effect.catchAll(() => Effect.void),
    Effect.repeat(Schedule.spaced(options.intervalMs)),
    Effect.zipRight(Effect.never),
    Effect.annotateLogs({ fiber: "heartbeat" })
  )

  return { extendLeases, runOnce, run }
}
