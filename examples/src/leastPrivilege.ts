import type { SqlClient } from "@effect/sql"
/**
 * Least privilege: the schema owner applies the migrations once per deployment
 * (`npm run migrate -w examples` with `DATABASE_URL` set to an owner's URL), and the
 * application runs with a role that may only read and write JobsS's tables, on a store
 * that never migrates (`autoMigrate: false`: it only checks that the schema is current).
 */
import { JobsS } from "@jobss/core"
import { SqlStore, SqlStoreMigrations } from "@jobss/sql"
import { Effect, Layer } from "effect"
import { databaseLayer } from "./database.js"
import { AnnounceLive } from "./features.js"

/** As the schema owner: applies the pending migrations and logs them. */
export const migrateAsOwner = SqlStoreMigrations.run({ tablePrefix: "jobss_" }).pipe(
  Effect.tap((applied) => Effect.log(`applied migrations: ${applied.map(([id, name]) => `${id} ${name}`).join(", ")}`))
)

/** As the application's role: an instance on a store that never changes the schema. */
export const makeAppLayer = <E>(database: Layer.Layer<SqlClient.SqlClient, E>) =>
  AnnounceLive.pipe(
    Layer.provideMerge(JobsS.layer()),
    Layer.provide(SqlStore.layer({ tablePrefix: "jobss_", autoMigrate: false })),
    Layer.provide(database)
  )

if (import.meta.url === `file://${process.argv[1]}`) {
  Effect.runPromise(migrateAsOwner.pipe(Effect.provide(databaseLayer()))).catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}
