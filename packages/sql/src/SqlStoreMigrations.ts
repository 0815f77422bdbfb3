/**
 * Explicit schema migrations for `SqlStore`, for deployments that run the
 * application with `autoMigrate: false` and apply schema changes separately
 * (for example with a role that owns the tables).
 *
 * ```ts
 * // as the schema owner, once per deployment
 * yield* SqlStoreMigrations.run({ tablePrefix: "jobss_" })
 * ```
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { JobsSError } from "@jobss/core"
import * as Effect from "effect/Effect"
import { defaultTablePrefix } from "./internal/dialect.js"
import * as dialects from "./internal/dialects.js"
import * as migrations from "./internal/migrations.js"
import * as startup from "./internal/startup.js"

/** Options of `SqlStoreMigrations.run`. */
export interface MigrationOptions {
  /** The table prefix the store uses (default `"jobss_"`). */
  readonly tablePrefix?: string
}

/**
 * Applies the store's pending migrations on the `SqlClient` in context and returns the ones it
 * applied (`[id, name]`). Safe to run from several processes at once: they wait for each other.
 */
export const run = (
  options: MigrationOptions = {}
): Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  JobsSError.JobStoreError | JobsSError.InvalidConfig,
  SqlClient.SqlClient
> =>
  Effect.gen(function* () {
    const dialect = yield* dialects.fromContext(options.tablePrefix ?? defaultTablePrefix)
    yield* dialects.setup(dialect)
    return yield* migrations.migrate(dialect)
  }).pipe(startup.explain)
