/**
 * The store conformance suite on `SqlStore` for every SQL backend, with real time: each test gets a
 * fresh database (dropped afterwards), and every extra connection is a new client with its own pool.
 * Only PostgreSQL has cross-process wake-ups (LISTEN/NOTIFY); SQLite and MariaDB rely on polling.
 */
import { describe, it } from "@effect/vitest"
import { JobStore, RunId } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Context, Effect, Fiber, Layer, Queue, Stream } from "effect"
import { newRun } from "../../packages/core/test/fixtures.js"
import { makeDatabase, sqlBackends } from "../support/databases.js"
import { adminQueuesSuite } from "./adminQueuesSuite.js"
import { adminSuite } from "./adminSuite.js"
import { settlementSuite } from "./settlementSuite.js"
import { type StoreBackend, storeSuite } from "./storeSuite.js"

for (const backend of sqlBackends) {
  const sql: StoreBackend = {
    clock: "live",
    capabilities: { wakeups: backend === "postgres", blocking: backend === "sqlite" },
    make: Effect.gen(function* () {
      const database = yield* makeDatabase(backend)
      const connect = Effect.map(
        Layer.build(SqlStore.layer().pipe(Layer.provide(database.layer))),
        Context.get(JobStore.JobStore)
      )
      const store = yield* connect
      return {
        store,
        connect,
        // the database's clock runs with the machine's: a real sleep, with a margin for rounding
        waitPast: (ms: number) => Effect.sleep(ms + 5)
      }
    })
  }
  storeSuite(backend, sql)
  settlementSuite(backend, sql)
  adminSuite(backend, sql)
  adminQueuesSuite(backend, sql)
}

describe("postgres: wake-ups of stores sharing one PgClient", () => {
  it.scopedLive(
    "one store ending its wake-up stream leaves the others' LISTEN in place",
    () =>
      Effect.gen(function* () {
        const database = yield* makeDatabase("postgres")
        const client = yield* Layer.build(database.layer)
        const storeOnClient = Effect.map(
          Layer.build(SqlStore.layer().pipe(Layer.provide(Layer.succeedContext(client)))),
          Context.get(JobStore.JobStore)
        )
        const leaving = yield* storeOnClient
        const staying = yield* storeOnClient
        const [leavingWoken, stayingWoken] = [yield* Queue.unbounded<void>(), yield* Queue.unbounded<void>()]
        const leavingFiber = yield* Effect.forkScoped(
          Stream.runForEach(leaving.wakeups, () => Queue.offer(leavingWoken, undefined))
        )
        yield* Effect.forkScoped(Stream.runForEach(staying.wakeups, () => Queue.offer(stayingWoken, undefined)))
        /** Inserts a run once the earlier wake-ups are taken; then each of `woken` must wake within 2 s. */
        const insertAndAwait = (label: string, woken: ReadonlyArray<Queue.Queue<void>>) =>
          Effect.gen(function* () {
            yield* Effect.forEach(woken, (queue) => Queue.takeAll(queue))
            const t = yield* staying.now
            yield* staying.insert([newRun({ id: RunId.generate(t), job: "Job", runAt: t })])
            yield* Effect.forEach(woken, (queue) =>
              Queue.take(queue).pipe(
                Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => new Error(`${label}: none within 2 s`) })
              )
            )
          })
        // the LISTEN starts in the background: insert until both stores are woken
        yield* insertAndAwait("a wake-up while both stores listen", [leavingWoken, stayingWoken]).pipe(
          Effect.retry({ times: 10 })
        )
        yield* Fiber.interrupt(leavingFiber)
        yield* insertAndAwait("a wake-up after the other store stopped listening", [stayingWoken])
      }),
    30_000
  )
})
