/**
 * Batches settlements: outcomes finishing at about the same time are written
 * in one `store.settle` round trip instead of one each.
 */
import { Chunk, Deferred, Effect, Queue } from "effect"
import type { Scope } from "effect"
import type { JobStoreShape, Settlement } from "../JobStore.js"
import type { JobStoreError } from "../JobsSError.js"

/** Writes settlements through a shared batch. */
export interface Settler {
  /** Queues one settlement; succeeds with whether its fence held. */
  readonly settle: (settlement: Settlement) => Effect.Effect<boolean, JobStoreError>
}

interface Pending {
  readonly settlement: Settlement
  readonly done: Deferred.Deferred<boolean, JobStoreError>
}

/** A settler whose writer fiber lives in the current scope; a batch holds at most `maxBatch` settlements. */
export const make = (store: JobStoreShape, maxBatch: number): Effect.Effect<Settler, never, Scope.Scope> =>
  Effect.gen(function* () {
    const queue = yield* Queue.unbounded<Pending>()
    const writeBatch = Effect.gen(function* () {
      const batch = Chunk.toReadonlyArray(yield* Queue.takeBetween(queue, 1, maxBatch))
      yield* store.settle(batch.map((item) => item.settlement)).pipe(
        Effect.matchEffect({
          onFailure: (error) => Effect.forEach(batch, (item) => Deferred.fail(item.done, error), { discard: true }),
          onSuccess: (held) =>
            Effect.forEach(batch, (item, index) => Deferred.succeed(item.done, held[index] ?? false), { discard: true })
        })
      )
    })
    yield* Effect.forkScoped(Effect.forever(writeBatch))
    return {
      settle: (settlement) =>
        Effect.flatMap(Deferred.make<boolean, JobStoreError>(), (done) =>
          Effect.zipRight(Queue.offer(queue, { settlement, done }), Deferred.await(done))
        )
    }
  })
