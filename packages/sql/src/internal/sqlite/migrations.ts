/**
 * SQLite's migrations, in order (the ids and names the Migrator records),
 * each a module of literal SQL in `migrations/`, and the Migrator's
 * bookkeeping table.
 *
 * @internal
 */
import type { Migration } from "../dialect.js"
import * as createTables from "./migrations/0001_create_tables.js"
import * as runHistory from "./migrations/0002_run_history.js"
import * as leanIndexes from "./migrations/0003_lean_indexes.js"
import * as resultsAndSnoozes from "./migrations/0006_results_and_snoozes.js"
import * as leader from "./migrations/0007_leader.js"
import * as dispatched from "./migrations/0008_dispatched.js"
import * as queues from "./migrations/0009_queues.js"
import * as admin from "./migrations/0010_admin.js"
import * as adminQueues from "./migrations/0011_admin_queues.js"
import * as partitionHeads from "./migrations/0013_partition_heads.js"
import * as adminWithoutRunning from "./migrations/0014_admin_without_running.js"

/** The migrations for the (validated, lower-case) table prefix `p`. */
export const migrations = (p: string): ReadonlyArray<Migration> => [
  { id: 1, name: "create_tables", statements: createTables.statements(p) },
  { id: 2, name: "run_history", statements: runHistory.statements(p) },
  { id: 3, name: "lean_indexes", statements: leanIndexes.statements(p) },
  // PostgreSQL only: SQLite claims with one UPDATE ... RETURNING
  { id: 4, name: "claim_function", statements: [] },
  // MySQL/MariaDB only: the partial index of migration 2 stays
  { id: 5, name: "finished_index", statements: [] },
  { id: 6, name: "results_and_snoozes", statements: resultsAndSnoozes.statements(p) },
  { id: 7, name: "leader", statements: leader.statements(p) },
  { id: 8, name: "dispatched", statements: dispatched.statements(p) },
  { id: 9, name: "queues", statements: queues.statements(p) },
  { id: 10, name: "admin", statements: admin.statements(p) },
  { id: 11, name: "admin_queues", statements: adminQueues.statements(p) },
  // MySQL/MariaDB only: admin indexes by `stage`, which a claim does not change
  { id: 12, name: "run_stage", statements: [] },
  { id: 13, name: "partition_heads", statements: partitionHeads.statements(p) },
  { id: 14, name: "admin_without_running", statements: adminWithoutRunning.statements(p) }
]

/** The Migrator's bookkeeping table, with the very definition the Migrator uses. */
export const migrationsTable = (p: string): string => `CREATE TABLE IF NOT EXISTS "${p}migrations" (
  migration_id integer PRIMARY KEY NOT NULL,
  created_at datetime NOT NULL DEFAULT current_timestamp,
  name VARCHAR(255) NOT NULL
)`
