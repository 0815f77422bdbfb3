/** The settler's batches: what ends while fibers take their turns is written together. */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { JobStore } from "../src/index.js"
import * as Settler from "../src/internal/settler.js"

/**
 * Ten fibers that each end one attempt per scheduler turn, 40 in all, through a settler over a memory
 * store declared `blocking` or not; the sizes of the batches it wrote and the fences it reported.
 */
const batchesOf = (blocking: boolean) =>
  Effect.scoped(
    Effect.gen(function* () {
      const memory = yield* JobStore.makeMemory
      const batches: Array<number> = []
      const store: JobStore.JobStoreShape = {
        ...memory,
        blocking,
        settle: (settlements) =>
          Effect.zipRight(
            Effect.sync(() => batches.push(settlements.length)),
            memory.settle(settlements)
          )
      }
      const settler = yield* Settler.make({ store, maxBatch: 300, retryMs: 1_000, onRequeued: Effect.void })
      const fences: Array<Settler.FenceResult> = []
      yield* Effect.forEach(
        Array.from({ length: 10 }, (_, worker) => worker),
        (worker) =>
          Effect.forEach(
            Array.from({ length: 40 }, (_, n) => n),
            (n) =>
              Effect.zipRight(
                Effect.yieldNow(),
                Effect.sync(() =>
                  settler.submit(
                    { _tag: "Succeeded", id: `run-${worker}-${n}`, claim: `claim-${worker}-${n}` },
                    (fence) => fences.push(fence)
                  )
                )
              ),
            { discard: true }
          ),
        { concurrency: "unbounded", discard: true }
      )
      yield* settler.flush
      return { batches, fences }
    })
  )

describe("settler", () => {
  it.effect("writes every settlement once and reports each fence", () =>
    Effect.gen(function* () {
      for (const blocking of [false, true]) {
        const { batches, fences } = yield* batchesOf(blocking)
        expect(batches.reduce((sum, size) => sum + size, 0)).toBe(400)
        // the memory store holds none of these rows: every fence is lost, none given up
        expect(fences).toEqual(Array.from({ length: 400 }, () => "lost"))
      }
    })
  )

  it.effect("lets ready fibers take more turns before a batch when the store blocks the thread", () =>
    Effect.gen(function* () {
      const awaiting = yield* batchesOf(false)
      const blocking = yield* batchesOf(true)
      expect(blocking.batches.length).toBeLessThan(awaiting.batches.length)
      expect(Math.max(...blocking.batches)).toBeGreaterThan(Math.max(...awaiting.batches))
    })
  )
})
