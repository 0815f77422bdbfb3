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
    capabilities: { wakeups: backend === "postgres" },
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
        const woken = yield* Queue.unbounded<void>()
        const leavingFiber = yield* Effect.forkScoped(Stream.runDrain(leaving.wakeups))
        yield* Effect.forkScoped(Stream.runForEach(staying.wakeups, () => Queue.offer(woken, undefined)))
        const insertAndAwaitWakeUp = (label: string) =>
          Effect.gen(function* () {
            yield* Queue.takeAll(woken) // earlier wake-ups
            const t = yield* staying.now
            yield* staying.insert([newRun({ id: RunId.generate(t), job: "Job", runAt: t })])
            yield* Queue.take(woken).pipe(
              Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => new Error(`${label}: none within 2 s`) })
            )
          })
        yield* Effect.sleep("300 millis") // lets both subscriptions LISTEN
        yield* insertAndAwaitWakeUp("a wake-up while both stores listen")
        yield* Fiber.interrupt(leavingFiber)
        yield* insertAndAwaitWakeUp("a wake-up after the other store stopped listening")
      }),
    30_000
  )
})
