/**
 * SQLite: every claim, reap and fenced write is a single autocommit
 * `UPDATE ... RETURNING` (a deferred read-then-write transaction would fail
 * with SQLITE_BUSY instead of waiting when several processes share the file).
 * A statement waits a short `busy_timeout` for the write lock, and operations
 * are tried again through the scheduler (`busy.ts`: better-sqlite3 waits
 * synchronously, stopping the event loop). Migrations run in a transaction
 * whose first statement is a write, so concurrent migrators queue on the write
 * lock. No wake-ups (polling).
 *
 * @internal
 */

import type * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { Statement } from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import {
  type Dialect,
  type Row,
  type Tables,
  type UpdateRequest,
  causeOf,
  propertyOf,
  requireVersion
} from "../dialect.js"
import { inOneTransaction } from "../migrations.js"
import { shapeOf } from "../rows.js"
import { runColumns, runFieldNames } from "../runColumns.js"
import { valuesList } from "../runInsert.js"
import * as shapes from "../shapes.js"
import { inList } from "../sqlValues.js"
import * as Busy from "./busy.js"
import { migrations, migrationsTable } from "./migrations.js"

/** Rows per INSERT statement: 500 rows x 20 parameters stays far below the limit (32766). */
const insertChunkRows = 500

/** The SQLite dialect; `client` (when present) tells whether the user disabled WAL. */
export const make = (
  sql: SqlClient.SqlClient,
  t: Tables,
  client: Option.Option<SqliteClient.SqliteClient>
): Dialect => {
  const now = sql.literal("CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)")
  const update = updateReturning(sql, t)
  const updateThenRecord = shapes.updateThenRecord(
    sql,
    t.runs,
    (effect) => withoutYielding(sql.withTransaction(effect)),
    update
  )
  const numbered = migrations(t.prefix)
  const busy = Busy.make(isBusy)
  const partitionsIndex = sql.literal(`INDEXED BY "${t.prefix}runs_partitions"`)
  const dueIndex = (queued: boolean) => sql.literal(`INDEXED BY "${t.prefix}${queued ? "runs_queued" : "runs_due"}"`)
  return {
    sql,
    tables: t,
    now,
    claimTokens: (prefix) => sql`(${prefix} || id)`,
    onUniqueKeyConflictIgnore: shapes.onUniqueKeyConflictIgnore(sql),
    ignoresDuplicateIds: false,
    preparesStatements: false,
    blocking: true,
    poolSize: 1,
    insertChunkRows,
    insertRows: (chunk) => valuesList(sql, now, chunk),
    onConflictReplace: (key, columns) => shapes.onConflictReplace(sql, key, columns),
    // one UPDATE ... RETURNING of the oldest due rows, taken at the database's time, read as values
    claim: (call) =>
      Effect.map(
        update({
          where: call.due,
          pick: { orderBy: sql.literal("priority, run_at, id"), limit: call.limit, index: dueIndex(false) },
          set: call.set(now),
          returning: claimedColumns.slice(1)
        }).values,
        rowsOfClaimed
      ),
    queuedClaim: {
      _tag: "Transaction",
      // a write first: the transaction takes the write lock now (one writer at a time), not on upgrade
      lockQueues: (names) =>
        sql<Row>`UPDATE ${sql(t.queues)} SET paused = paused WHERE ${inList(sql, "name", names)} RETURNING *`.pipe(
          Effect.map((rows) => [...rows].sort((a, b) => (String(a["name"]) < String(b["name"]) ? -1 : 1)))
        ),
      pickLock: sql.literal(""),
      // migration 13: partial, the pending runs of queues
      byPartition: {
        through: partitionsIndex,
        holds: sql.literal("status = 'pending'"),
        // each key the first one after the previous: one index search per partition
        keys: (queue) =>
          sql<Row>`WITH RECURSIVE parts (part) AS (
            SELECT MIN(partition_key) FROM ${sql(t.runs)} ${partitionsIndex} WHERE status = 'pending' AND queue = ${queue}
            UNION ALL
            SELECT (SELECT MIN(partition_key) FROM ${sql(t.runs)} ${partitionsIndex}
              WHERE status = 'pending' AND queue = ${queue} AND partition_key > parts.part)
            FROM parts WHERE parts.part IS NOT NULL
          ) SELECT part FROM parts WHERE part IS NOT NULL`
      }
    },
    notifyDue: Effect.void,
    idsAndClaimsIn: (ids, claims) => shapes.idsAndClaimsInLists(sql, ids, claims),
    updateReturning: update,
    transaction: (effect) => withoutYielding(sql.withTransaction(effect)),
    updateRecording: (request) =>
      // nothing recorded: the UPDATE alone, atomic by itself
      request.record === undefined
        ? update({ where: request.where, set: request.set, returning: [] })
        : updateThenRecord(request),
    deleteReturning: (request) =>
      shapes.deleteReturning(sql, t.runs, {
        where: sql`id IN (SELECT id FROM ${sql(t.runs)} WHERE ${request.where} ORDER BY ${request.pick.orderBy} LIMIT ${request.pick.limit})`
      }),
    throughIndex: () => sql.literal(""),
    dueIndex,
    adminKey: "statusWithoutRunning",
    contains: (column, text) => sql`instr(${column}, ${text}) > 0`,
    affectedRows: (raw) => Number(propertyOf(raw, "changes") ?? 0),
    retrying: busy.retryingFor(Busy.operationRetryMs),
    setup: setup(sql, client),
    migrations: numbered,
    // transactional DDL: one transaction, which takes the write lock at its first statement
    applyMigrations: sql.unsafe(migrationsTable(t.prefix)).pipe(
      Effect.zipRight(
        sql.withTransaction(
          // A write first: the transaction takes the write lock now (waiting for it), not on upgrade.
          sql`DELETE FROM ${sql(t.migrations)} WHERE migration_id < 0`.pipe(
            Effect.zipRight(inOneTransaction(sql, t.migrations, numbered))
          )
        )
      ),
      withoutYielding,
      busy.retryingFor(Busy.migrationRetryMs)
    ),
    wakeups: Stream.never
  }
}

/** The columns a claim returns, in order: `id` first (as every RETURNING list has it), then every other run column and `claim`. */
const claimedColumns: ReadonlyArray<string> = [
  "id",
  ...runFieldNames.map((field) => runColumns[field].name).filter((column) => column !== "id"),
  "claim"
]

/** A row with every claimed column, `null`: each claimed row starts as a copy of it (one allocation, its final shape). */
const claimedRow = shapeOf(claimedColumns)

/**
 * The claimed rows from their values in `claimedColumns` order. better-sqlite3 builds a row object
 * key by key, which took about 4 µs of a claimed row's 17 (34 columns); copying `claimedRow` and
 * setting its values takes a fraction of that.
 */
const rowsOfClaimed = (values: ReadonlyArray<ReadonlyArray<unknown>>): ReadonlyArray<Row> =>
  values.map((value) => {
    const row: Record<string, unknown> = { ...claimedRow }
    for (let i = 0; i < claimedColumns.length; i++) row[claimedColumns[i]!] = value[i]
    return row
  })

/** Another connection holds the lock this statement needs. */
const isBusy = (error: unknown): boolean => {
  const code = propertyOf(causeOf(error), "code")
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))
}

/**
 * Runs a transaction without yielding to other fibers between its statements. better-sqlite3 is
 * synchronous: a connection waiting for the write lock (`busy_timeout`) blocks the whole thread, so
 * when two connections of one process share a file, a transaction that yielded while holding the
 * lock could not finish until the other gave up. Every statement is synchronous, so nothing else
 * suspends it.
 */
const withoutYielding = Effect.withMaxOpsBeforeYield(Number.MAX_SAFE_INTEGER)

/** One `UPDATE ... RETURNING`; a `pick` becomes an ordered, limited subquery (SQLite has one writer at a time). */
const updateReturning =
  (sql: SqlClient.SqlClient, t: Tables) =>
  (request: UpdateRequest): Statement<Row> =>
    shapes.updateReturning(sql, t.runs, {
      set: request.set,
      where:
        request.pick === undefined
          ? request.where
          : sql`id IN (SELECT id FROM ${sql(t.runs)} ${request.pick.index ?? sql.literal("")} WHERE ${request.where}
              ORDER BY ${request.pick.orderBy} LIMIT ${request.pick.limit})`,
      returning: request.returning
    })

/** `busy_timeout` on the connection; WAL for a file database unless the client was told not to. */
const setup = (sql: SqlClient.SqlClient, client: Option.Option<SqliteClient.SqliteClient>) =>
  Effect.gen(function* () {
    const [row] = yield* sql<Row>`SELECT sqlite_version() AS version`
    yield* requireVersion("SQLite", String(row?.["version"]), [3, 35], "UPDATE ... RETURNING")
    yield* sql.unsafe(`PRAGMA busy_timeout = ${Busy.busyTimeoutMs}`)
    const walDisabled = Option.exists(client, (c) => c.config.disableWAL === true)
    const files = yield* sql<Row>`PRAGMA database_list`
    const mainFile = files.find((row) => row["name"] === "main")?.["file"]
    if (!walDisabled && typeof mainFile === "string" && mainFile !== "") {
      yield* sql`PRAGMA journal_mode = WAL`
    }
  })
