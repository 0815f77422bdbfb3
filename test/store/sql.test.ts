/**
 * The store conformance suite on `SqlStore` for every SQL backend, with real time: each test gets a
 * fresh database (dropped afterwards), and every extra connection is a new client with its own pool.
 * Only PostgreSQL has cross-process wake-ups (LISTEN/NOTIFY); SQLite and MariaDB rely on polling.
 */
import { JobStore } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Context, Effect, Layer } from "effect"
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
