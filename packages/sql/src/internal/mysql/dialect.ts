/**
 * MySQL / MariaDB: no `UPDATE ... RETURNING`. A claim locks whole due rows
 * (`FOR UPDATE SKIP LOCKED`) and updates them by id; a settlement updates
 * first and records its attempts by id; any other update that reports rows
 * locks them (`SKIP LOCKED` for reaps), updates them by id and reads them back.
 * Inserts are VALUES lists in power-of-two sizes (mysql2 prepares each
 * statement text). Migrations run one at a time under `GET_LOCK`
 * (`migrator.ts`); no wake-ups (polling).
 *
 * @internal
 */
import type * as MysqlClient from "@effect/sql-mysql2/MysqlClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import { JobStore } from "@jobss/core"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import {
  type ClaimCall,
  type Dialect,
  type RecordingUpdate,
  type Row,
  type Tables,
  type UpdateRequest,
  causeOf,
  poolSizeOf,
  propertyOf,
  requireVersion,
  retryingWhile
} from "../dialect.js"
import { toNumber } from "../rows.js"
import { valuesList } from "../runInsert.js"
import { idsAndClaimsInLists, recordRuns, updateThenRecord } from "../shapes.js"
import { inList } from "../sqlValues.js"
import { migrations } from "./migrations.js"
import { migrate } from "./migrator.js"

/** ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK */
const transientErrnos: ReadonlySet<number> = new Set([1205, 1213])

/** Rows per INSERT statement: 500 rows x 20 parameters stays far below the limit (65535). */
const insertChunkRows = 500

/** Locks the rows (`SKIP LOCKED` with a `pick`), updates them by id and reads them back; the caller holds a transaction. */
const lockedUpdate = (
  sql: SqlClient.SqlClient,
  t: Tables,
  request: UpdateRequest
): Effect.Effect<ReadonlyArray<Row>, SqlError> =>
  Effect.gen(function* () {
    const columns = request.returning === "row" ? [] : request.returning
    const locked =
      yield* sql<Row>`SELECT ${sql.literal(["id", ...columns].join(", "))} FROM ${sql(t.runs)} WHERE ${request.where}${
        request.pick === undefined
          ? sql` FOR UPDATE`
          : sql` ORDER BY ${request.pick.orderBy} LIMIT ${request.pick.limit} FOR UPDATE SKIP LOCKED`
      }`
    if (locked.length === 0) return locked
    const ids = locked.map((row) => row["id"])
    yield* sql`UPDATE ${sql(t.runs)} SET ${request.set} WHERE ${inList(sql, "id", ids)}`
    return request.returning === "row"
      ? yield* sql<Row>`SELECT * FROM ${sql(t.runs)} WHERE ${inList(sql, "id", ids)}`
      : locked
  })

/** The database clock in epoch milliseconds. UTC_TIMESTAMP does not depend on the session time zone (UNIX_TIMESTAMP(NOW()) does, around DST changes). */
const nowOf = (sql: SqlClient.SqlClient): Fragment =>
  sql.literal("CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000 AS SIGNED)")

/** The index of migration 13: runs of queues by (queue, queue_stage, partition_key, priority, run_at), then the primary key (id). */
const partitionsIndexOf = (sql: SqlClient.SqlClient, t: Tables): Fragment =>
  sql`FORCE INDEX (${sql(`${t.prefix}runs_partitions`)})`

/** `Dialect.dueIndex`: one index for runs in no queue and in a queue, (queue, status, priority, run_at) then the primary key (id). */
const dueIndexOf = (sql: SqlClient.SqlClient, t: Tables): Fragment => sql`FORCE INDEX (${sql(`${t.prefix}runs_due`)})`

/**
 * The claim in two statements: a locking read of whole due rows, then their update by id with the
 * store's SET list at the time that read took. The rows returned are the rows read with the same
 * changes applied here (the conformance suite compares them with the stored rows), so nothing is
 * read back.
 */
const claimRows = (sql: SqlClient.SqlClient, t: Tables, call: ClaimCall) =>
  sql.withTransaction(
    Effect.gen(function* () {
      const picked = yield* sql<Row>`SELECT *, ${nowOf(sql)} AS claimed_at FROM ${sql(t.runs)} ${dueIndexOf(sql, t)}
        WHERE ${call.due}
        ORDER BY priority, run_at, id LIMIT ${call.limit} FOR UPDATE SKIP LOCKED`
      const at = toNumber(picked[0]?.["claimed_at"])
      if (at === undefined) return []
      const leaseUntil = at + call.leaseMs
      yield* sql`UPDATE ${sql(t.runs)} SET ${call.set(sql`${at}`)} WHERE ${inList(
        sql,
        "id",
        picked.map((row) => row["id"])
      )}`
      return picked.map((row): Row => {
        const timeoutMs = toNumber(row["run_timeout_ms"])
        return {
          ...row,
          status: "running",
          claim: JobStore.ClaimToken.make(call.prefix, String(row["id"])),
          started_at: at,
          started_by: call.instanceId,
          lease_until: leaseUntil,
          timeout_at: timeoutMs === 0 || timeoutMs === undefined ? null : at + timeoutMs,
          run_total_count: (toNumber(row["run_total_count"]) ?? Number.NaN) + 1
        }
      })
    })
  )

/** Ends the optimistic transaction of `fencedRecording` (rolling it back) when some fence did not hold. */
class FenceBroken extends Data.TaggedError("FenceBroken") {}

const affectedRows = (raw: unknown): number => Number(propertyOf(raw, "affectedRows") ?? 0)

/**
 * `updateRecording` in one statement fewer than `updateThenRecord`: the fenced UPDATE first. When it
 * changed every listed row (every fence held, as nearly always), those rows are ours and locked, and
 * are recorded by id (when the request records) without a locking read. Otherwise the transaction
 * rolls back and the rows are locked and read first, to learn which fences held.
 */
const fencedRecording = (
  sql: SqlClient.SqlClient,
  t: Tables,
  request: RecordingUpdate
): Effect.Effect<ReadonlyArray<Row>, SqlError> =>
  sql
    .withTransaction(
      Effect.gen(function* () {
        const changed = affectedRows(yield* sql`UPDATE ${sql(t.runs)} SET ${request.set} WHERE ${request.where}`.raw)
        if (changed !== request.ids.length) return yield* new FenceBroken()
        if (request.record !== undefined) yield* recordRuns(sql, t.runs, request.record, request.ids)
        return request.ids.map((id): Row => ({ id }))
      })
    )
    .pipe(
      Effect.catchTag("FenceBroken", () =>
        updateThenRecord(sql, t.runs, sql.withTransaction, (update) => lockedUpdate(sql, t, update))(request)
      )
    )

/** The MySQL/MariaDB dialect. */
export const make = (sql: SqlClient.SqlClient, t: Tables, mysql: Option.Option<MysqlClient.MysqlClient>): Dialect => {
  const now = nowOf(sql)
  const numbered = migrations(t.prefix)
  return {
    sql,
    tables: t,
    now,
    claimTokens: (prefix) => sql`CONCAT(${prefix}, id)`,
    onUniqueKeyConflictIgnore: sql.literal("ON DUPLICATE KEY UPDATE id = id"),
    ignoresDuplicateIds: true,
    preparesStatements: true,
    blocking: false,
    poolSize: poolSizeOf(mysql),
    insertChunkRows,
    insertRows: (chunk) => valuesList(sql, now, chunk),
    onConflictReplace: (_key, columns) =>
      sql.literal(`ON DUPLICATE KEY UPDATE ${columns.map((column) => `${column} = VALUES(${column})`).join(", ")}`),
    claim: (call) => claimRows(sql, t, call),
    queuedClaim: {
      _tag: "Transaction",
      lockQueues: (names) =>
        sql<Row>`SELECT * FROM ${sql(t.queues)} WHERE ${inList(sql, "name", names)} ORDER BY name FOR UPDATE`,
      pickLock: sql.literal("FOR UPDATE SKIP LOCKED"),
      // migration 13: `queue_stage` is `active` for the pending and running runs of queues
      byPartition: {
        through: partitionsIndexOf(sql, t),
        holds: sql.literal("queue_stage = 'active'"),
        // grouped by every column of the index up to the key: a loose index scan ("index for group-by")
        keys: (queue) =>
          sql<Row>`SELECT partition_key AS part FROM ${sql(t.runs)} ${partitionsIndexOf(sql, t)}
          WHERE queue = ${queue} AND queue_stage = 'active' GROUP BY queue, queue_stage, partition_key`
      }
    },
    notifyDue: Effect.void,
    idsAndClaimsIn: (ids, claims) => idsAndClaimsInLists(sql, ids, claims),
    updateReturning: (request) => sql.withTransaction(lockedUpdate(sql, t, request)),
    transaction: sql.withTransaction,
    updateRecording: (request) => fencedRecording(sql, t, request),
    deleteReturning: (request) =>
      sql.withTransaction(
        Effect.gen(function* () {
          const locked = yield* sql<Row>`SELECT id FROM ${sql(t.runs)} WHERE ${request.where}
          ORDER BY ${request.pick.orderBy} LIMIT ${request.pick.limit} FOR UPDATE SKIP LOCKED`
          if (locked.length > 0) {
            yield* sql`DELETE FROM ${sql(t.runs)} WHERE ${inList(
              sql,
              "id",
              locked.map((row) => row["id"])
            )}`
          }
          return locked
        })
      ),
    throughIndex: (index) => sql`FORCE INDEX (${sql(index)})`,
    dueIndex: () => dueIndexOf(sql, t),
    adminKey: "stage",
    contains: (column, text) => sql`LOCATE(${text}, ${column}) > 0`,
    affectedRows,
    retrying: retryingWhile((error) => {
      const errno = propertyOf(causeOf(error), "errno")
      return typeof errno === "number" && transientErrnos.has(errno)
    }),
    setup: Effect.flatMap(sql<Row>`SELECT VERSION() AS version`, ([row]) => {
      const version = String(row?.["version"])
      return version.includes("MariaDB")
        ? requireVersion("MariaDB", version, [10, 6], "SKIP LOCKED")
        : requireVersion("MySQL", version, [8, 0, 1], "SKIP LOCKED")
    }),
    migrations: numbered,
    // not transactional DDL: one migration at a time, each statement repeatable (migrator.ts)
    applyMigrations: migrate(sql, t, numbered),
    wakeups: Stream.never
  }
}
