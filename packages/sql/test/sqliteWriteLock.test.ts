/**
 * SQLite: another connection that holds the file's write lock (a process frozen in a write, here a
 * raw connection of the test in `BEGIN IMMEDIATE` for 3 s) never stalls an instance. better-sqlite3
 * waits for the lock synchronously, blocking the whole event loop, so the store waits a short
 * `busy_timeout` per statement and retries through the scheduler: the instance's timers keep
 * firing, its heartbeat keeps beating, and its work resumes once the lock is released.
 */
import { performance } from "node:perf_hooks"
import { describe, expect, it } from "@effect/vitest"
import { Job, JobStore, JobsS, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import Database from "better-sqlite3"
import { Context, Effect, Exit, Layer, LogLevel, Logger, Schema } from "effect"
import { busyTimeoutMs, operationRetryMs } from "../src/internal/sqlite/busy.js"
import { makeDatabase } from "./databases.js"

const holdMs = 3_000
const heartbeatMs = 500

/**
 * The longest the event loop may stand still. A statement waits `busyTimeoutMs` (200 ms) for the
 * lock and no two waits share a turn (`sqliteBusy.test.ts`); the rest is slack for a loaded machine,
 * where a waiting thread is not scheduled at once. Before the store bounded its waits: 10 s.
 */
const blockBoundMs = 1_000

/** The longest a store operation waits for the lock, its retries included, before it fails (with slack for load). */
const operationBoundMs = operationRetryMs + busyTimeoutMs + 1_000

const Quick = Job.make({ name: "Quick", args: Schema.Struct({}) })

describe("SQLite write lock held by another connection", () => {
  it.scopedLive(
    `held for ${holdMs} ms: the instance's event loop never stops longer than the bound, its heartbeat goes on, its work resumes`,
    () =>
      Effect.gen(function* () {
        const db = yield* makeDatabase("sqlite")
        const beats: Array<{ readonly at: number; readonly ok: boolean }> = []
        // the store, with each heartbeat's `last seen` write noted: when it started, whether it succeeded
        const store = Layer.scoped(
          JobStore.JobStore,
          Effect.map(SqlStore.make(), (store) => ({
            ...store,
            touchInstance: (id: string, counters: JobStore.InstanceCounters) =>
              Effect.suspend(() => {
                const at = Date.now()
                return store
                  .touchInstance(id, counters)
                  .pipe(Effect.onExit((exit) => Effect.sync(() => beats.push({ at, ok: Exit.isSuccess(exit) }))))
              })
          }))
        )
        const context = yield* Layer.build(
          Quick.toLayer(() => Effect.void).pipe(
            Layer.provideMerge(
              JobsS.layer({ workers: 2, pollInterval: "200 millis", heartbeatInterval: `${heartbeatMs} millis` })
            ),
            Layer.provide(store),
            Layer.provide(db.layer)
          )
        ).pipe(Logger.withMinimumLogLevel(LogLevel.None))
        const scheduler = Context.get(context, Scheduler.Scheduler)
        const warmUp = yield* scheduler.createRun(Quick, {})
        expect((yield* scheduler.awaitRun(warmUp, { timeout: "10 seconds" })).status).toBe("succeeded")
        // due while the lock is held: claimed once it is released
        const id = yield* scheduler.createRun(Quick, {}, { delay: "500 millis" })

        // the event loop's longest stop: the longest gap between ticks of a 10 ms timer
        let blockedMs = 0
        yield* Effect.acquireRelease(
          Effect.sync(() => {
            let last = performance.now()
            return setInterval(() => {
              const now = performance.now()
              blockedMs = Math.max(blockedMs, now - last - 10)
              last = now
            }, 10)
          }),
          (timer) => Effect.sync(() => clearInterval(timer))
        )
        const holder = yield* Effect.acquireRelease(
          Effect.sync(() => new Database(db.url)),
          (connection) => Effect.sync(() => connection.close())
        )
        holder.exec("BEGIN IMMEDIATE")
        const heldAt = Date.now()
        yield* Effect.sleep(holdMs)
        holder.exec("COMMIT")
        const releasedAt = Date.now()

        // work resumes: the run due during the hold succeeds
        const state = yield* scheduler.awaitRun(id, { timeout: "10 seconds" })
        expect(state.status).toBe("succeeded")
        yield* Effect.sleep(heartbeatMs * 2)

        const described = beats.map((beat) => `${beat.at - heldAt} ms ${beat.ok ? "ok" : "failed"}`).join(", ")
        yield* Effect.log(
          `event loop stopped ${blockedMs.toFixed(0)} ms at most; heartbeats (from the hold): ${described}`
        )
        expect(blockedMs).toBeLessThan(blockBoundMs)
        expect(releasedAt - heldAt).toBeLessThan(holdMs + blockBoundMs)
        // the heartbeat beat all along: those during the hold gave up within the operation's bound (the
        // lock was really in the way), the next one came an interval later, and one after the hold succeeded
        const starts = beats.map((beat) => beat.at)
        const gaps = starts.slice(1).map((at, i) => at - starts[i]!)
        expect(Math.max(...gaps), described).toBeLessThan(heartbeatMs + operationBoundMs)
        expect(
          beats.some((beat) => beat.at >= heldAt && beat.at < releasedAt && !beat.ok),
          described
        ).toBe(true)
        expect(
          beats.some((beat) => beat.at >= releasedAt && beat.ok),
          described
        ).toBe(true)
      }),
    60_000
  )
})
