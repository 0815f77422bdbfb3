/**
 * Batches settlements: outcomes recorded while a write is in flight are written
 * together in the next `store.settle` round trip. Submitting does not wait, so a
 * worker is free again as soon as its attempt ends; each settlement's callback
 * runs (in the writer fiber) once its write is done. Callbacks are plain
 * functions, called once per settlement.
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { JobStoreShape, Settlement } from "../JobStore.js"

/**
 * Whether a settlement's fenced write held: `held` (written, the claim was still this instance's), `lost`
 * (nothing written: the claim had moved on), `unwritten` (given up: the store did not answer in time).
 */
export type FenceResult = "held" | "lost" | "unwritten"

/** Writes settlements through a shared batch. */
export interface Settler {
  /** Queues a settlement without waiting; `done` is called once it is written (or given up). */
  readonly submit: (settlement: Settlement, done: Done) => void
  /** Waits until every settlement submitted so far is written or given up. */
  readonly flush: Effect.Effect<void>
}

/** What a settler needs. */
export interface SettlerOptions {
  readonly store: JobStoreShape
  /** The most settlements in one `store.settle` call. */
  readonly maxBatch: number
  /** How long a batch is retried through store errors before its leases are left to expire. */
  readonly retryMs: number
  /** Runs after a written batch put runs back to pending (retries, snoozes, next occurrences), so the poller learns their due times. */
  readonly onRequeued: Effect.Effect<void>
}

/** Whether a settlement that held makes its run pending again. */
const requeues = (pending: Pending, fence: FenceResult): boolean =>
  fence === "held" &&
  (pending.settlement._tag === "Retry" || pending.settlement._tag === "Snoozed" || pending.settlement._tag === "Next")

/**
 * Scheduler turns the writer lets other fibers run before it writes a batch that is not full. A
 * blocking store (`JobStoreShape.blocking`) gets more: nothing ends while it writes, so its batch holds
 * only what ended in these turns (SQLite, 20,000 no-op runs: about 205 batches with 16, 125 with 64).
 */
const yieldTurns = { awaiting: 16, blocking: 64 } as const

/** Called once a settlement is written (or given up). */
export type Done = (fence: FenceResult) => void

interface Pending {
  readonly settlement: Settlement
  readonly done: Done
}

/** A settler whose writer fiber lives in the current scope. */
export const make = (options: SettlerOptions): Effect.Effect<Settler, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { maxBatch, store } = options
    const turns = store.blocking === true ? yieldTurns.blocking : yieldTurns.awaiting
    let queue: Array<Pending> = []
    let writing = false
    let waiting = false
    let flushed: Array<Deferred.Deferred<void>> = []
    const wake = yield* Queue.sliding<void>(1)

    const retry = Schedule.exponential("50 millis", 2).pipe(
      Schedule.either(Schedule.spaced("2 seconds")),
      Schedule.upTo(Duration.millis(options.retryMs))
    )

    const write = (batch: ReadonlyArray<Pending>) =>
      store.settle(batch.map((item) => item.settlement)).pipe(
        Effect.tapError((error) => Effect.logWarning("Settling runs failed; retrying", error)),
        Effect.retry(retry),
        Effect.map((held) => batch.map((_, index): FenceResult => (held[index] === true ? "held" : "lost"))),
        Effect.catchAll((error) =>
          Effect.as(
            Effect.logError(
              `Could not record the outcome of ${batch.length} runs; their leases will expire and another instance will take them over`,
              error
            ),
            batch.map((): FenceResult => "unwritten")
          )
        ),
        Effect.flatMap((fences) => {
          batch.forEach((item, index) => item.done(fences[index]!))
          return batch.some((item, index) => requeues(item, fences[index]!)) ? options.onRequeued : Effect.void
        })
      )

    const loop = Effect.gen(function* () {
      for (;;) {
        if (queue.length === 0) {
          writing = false
          for (const done of flushed) Deferred.unsafeDone(done, Effect.void)
          flushed = []
          waiting = true
          yield* Queue.take(wake)
          waiting = false
          // let the fibers that are ready run a few turns first: with a blocking store (SQLite) nothing
          // else runs while a batch is written, so this is what makes its batches more than a few runs each
          for (let turn = 0; turn < turns && queue.length < maxBatch; turn++) yield* Effect.yieldNow()
          continue
        }
        writing = true
        const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch)
        queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch)
        yield* write(batch)
      }
    })
    yield* Effect.forkScoped(loop.pipe(Effect.annotateLogs({ fiber: "settler" })))

    const submit: Settler["submit"] = (settlement, done) => {
      queue.push({ settlement, done })
      if (waiting) wake.unsafeOffer(undefined)
    }

    return {
      submit,
      flush: Effect.suspend(() => {
        if (queue.length === 0 && !writing) return Effect.void
        return Effect.flatMap(Deferred.make<void>(), (done) => {
          flushed.push(done)
          return Deferred.await(done)
        })
      })
    }
  })
