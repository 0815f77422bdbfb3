/**
 * JobsS SQL store: the `JobStore` on `@effect/sql` (PostgreSQL, MySQL/MariaDB, SQLite).
 *
 * @since 0.1.0
 */

/** The `JobStore` on the `SqlClient` in context. */
export * as SqlStore from "./SqlStore.js"

/** Explicit schema migrations, for `autoMigrate: false`. */
export * as SqlStoreMigrations from "./SqlStoreMigrations.js"
