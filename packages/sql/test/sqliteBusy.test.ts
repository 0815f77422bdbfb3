/**
 * How the SQLite store retries statements that found the write lock taken (`internal/sqlite/busy.ts`):
 * each wait for the lock stops the event loop (better-sqlite3 is synchronous), so two waits never
 * follow each other without a turn of the event loop in between, whichever fibers they come from,
 * and an operation gives up once its time is up.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Busy from "../src/internal/sqlite/busy.js"

/** A statement that waits `ms` for the lock, synchronously as better-sqlite3 does, and finds it still taken. */
const blockedStatement = (ms: number, started: Array<number>, turn: () => number) =>
  Effect.zipRight(
    Effect.sync(() => {
      started.push(turn())
      const until = Date.now() + ms
      while (Date.now() < until) {
        // the synchronous wait
      }
    }),
    Effect.fail("busy" as const)
  )

describe("SQLite busy retries", () => {
  it.scopedLive(
    "tries of several fibers never wait for the lock twice in one turn of the event loop, and give up in time",
    () =>
      Effect.gen(function* () {
        const busy = Busy.make((error) => error === "busy")
        // the turns of the event loop, as a 1 ms timer counts them
        let turns = 0
        yield* Effect.acquireRelease(
          Effect.sync(() => setInterval(() => turns++, 1)),
          (timer) => Effect.sync(() => clearInterval(timer))
        )
        const started: Array<number> = []
        const statement = blockedStatement(20, started, () => turns)
        const startedAt = Date.now()
        const outcomes = yield* Effect.forEach([1, 2, 3, 4], () => Effect.either(busy.retryingFor(300)(statement)), {
          concurrency: "unbounded"
        })
        expect(outcomes.map((outcome) => outcome._tag)).toEqual(["Left", "Left", "Left", "Left"])
        // each fiber tried several times, then gave up once its 300 ms had passed (plus its last turn)
        expect(started.length).toBeGreaterThanOrEqual(8)
        expect(Date.now() - startedAt).toBeLessThan(300 + 4 * 20 + 500)
        // consecutive waits came in different turns
        expect(
          started.filter((turn, i) => i > 0 && turn === started[i - 1]),
          started.join(" ")
        ).toEqual([])
      })
  )

  it.live("other errors are not retried, and a try that succeeds ends the operation", () =>
    Effect.gen(function* () {
      const busy = Busy.make((error) => error === "busy")
      let tries = 0
      const failing = Effect.suspend(() => {
        tries++
        return Effect.fail("constraint" as const)
      })
      expect(yield* Effect.flip(busy.retryingFor(1_000)(failing))).toBe("constraint")
      expect(tries).toBe(1)
      let attempts = 0
      const busyOnce = Effect.suspend(() => (++attempts === 1 ? Effect.fail("busy" as const) : Effect.succeed("done")))
      expect(yield* busy.retryingFor(1_000)(busyOnce)).toBe("done")
      expect(attempts).toBe(2)
    })
  )
})
