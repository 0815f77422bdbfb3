/**
 * Retention: deletes finished runs (and their history) that ended longer ago
 * than their status's retention, in small batches so it never holds locks
 * that claims wait for. Only the maintenance leader (`leader.ts`) sweeps; the
 * store makes concurrent sweeps safe (two leaders for a moment).
 */
import * as Effect from "effect/Effect"
import type { JobStoreShape } from "../JobStore.js"
import type { RetentionConfig } from "../JobsSConfig.js"
import type { JobStoreError } from "./errors.js"

/** Runs deleted per store call. */
export const batchSize = 1_000

/** Store calls per sweep at most; a sweep that reaches it comes back after `busyPauseMs`. */
export const batchesPerSweep = 10

/** The pause before the next sweep when the last one left runs behind. */
const busyPauseMs = 1_000

/** The retention loop and its single sweep. */
export interface Retention {
  /** One sweep: up to `batchesPerSweep` batches; returns how many runs it deleted and whether it stopped early. */
  readonly runOnce: Effect.Effect<{ readonly deleted: number; readonly more: boolean }, JobStoreError>
  /** The loop, every `intervalMs` (sooner while runs are left behind) while `leading`; never fails. */
  readonly run: Effect.Effect<never>
}

/** What the retention loop needs. */
export interface RetentionOptions {
  readonly store: JobStoreShape
  readonly retention: RetentionConfig
  readonly intervalMs: number
  /** Whether this instance is the maintenance leader (`Leader.isLeader`). */
  readonly leading: () => boolean
}

/** Builds the retention loop. */
export const make = (options: RetentionOptions): Retention => {
  const { retention, store } = options
  const keepsEverything = retention.succeeded === null && retention.failed === null && retention.cancelled === null

  const runOnce: Retention["runOnce"] = Effect.gen(function* () {
    let deleted = 0
    if (keepsEverything) return { deleted, more: false }
    for (let batch = 0; batch < batchesPerSweep; batch++) {
      const count = yield* store.prune({ keepMs: retention, limit: batchSize })
      deleted += count
      if (count < batchSize) return { deleted, more: false }
    }
    return { deleted, more: true }
  })

  const idle = Effect.succeed({ deleted: 0, more: false })

  const sweep = Effect.suspend(() => (options.leading() ? runOnce : idle)).pipe(
    Effect.tap(({ deleted }) =>
      deleted > 0 ? Effect.logDebug(`Deleted ${deleted} finished runs past their retention`) : Effect.void
    ),
    Effect.tapError((error) => Effect.logWarning("Deleting finished runs past their retention failed", error)),
    Effect.orElse(() => idle)
  )

  const loop = (delayMs: number): Effect.Effect<never> =>
    Effect.sleep(delayMs).pipe(
      Effect.zipRight(sweep),
      Effect.flatMap(({ more }) => loop(more ? Math.min(busyPauseMs, options.intervalMs) : options.intervalMs))
    )

  const run = keepsEverything
    ? Effect.never
    : loop(options.intervalMs).pipe(Effect.annotateLogs({ fiber: "retention" }))

  return { runOnce, run }
}
