/**
 * PostgreSQL: claims through the claim functions of migrations 4 and 9, reaps in one
 * statement (`FOR UPDATE SKIP LOCKED` in a materialized CTE), `RETURNING`
 * everywhere, inserts of several rows as unnested arrays, settlements recorded
 * by a data-modifying CTE, migrations serialised by a transaction-scoped
 * advisory lock, wake-ups through `LISTEN/NOTIFY` (`wakeups.ts`).
 *
 * @internal
 */

import type * as PgClient from "@effect/sql-pg/PgClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { Fragment } from "@effect/sql/Statement"
import type { JobStore } from "@jobss/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import {
  type Dialect,
  type Row,
  type Tables,
  causeOf,
  poolSizeOf,
  propertyOf,
  requireVersion,
  retryingWhile
} from "../dialect.js"
import { inOneTransaction } from "../migrations.js"
import { encodeValue, runColumns } from "../runColumns.js"
import { insertedValues, newRunFields, valuesList } from "../runInsert.js"
import * as shapes from "../shapes.js"
import { migrations, migrationsTable } from "./migrations.js"
import { wakeups } from "./wakeups.js"

/** serialization_failure, deadlock_detected */
const transientCodes: ReadonlySet<string> = new Set(["40001", "40P01"])

/** Rows per INSERT statement: PostgreSQL binds one array per column whatever the row count. */
const unnestChunkRows = 10_000

/** The PostgreSQL dialect; `pg` (when present) provides `LISTEN` for wake-ups. */
export const make = (sql: SqlClient.SqlClient, t: Tables, pg: Option.Option<PgClient.PgClient>): Dialect => {
  const now = sql.literal("(extract(epoch from statement_timestamp()) * 1000)::bigint")
  // created by migration 4
  const claimFunction = `${t.prefix}claim_runs`
  // created by migration 9
  const queuedClaimFunction = `${t.prefix}claim_queued`
  const numbered = migrations(t.prefix)
  return {
    sql,
    tables: t,
    now,
    claimTokens: (prefix) => sql`(CAST(${prefix} AS text) || id)`,
    onUniqueKeyConflictIgnore: shapes.onUniqueKeyConflictIgnore(sql),
    ignoresDuplicateIds: false,
    preparesStatements: false,
    blocking: false,
    poolSize: poolSizeOf(pg),
    insertChunkRows: unnestChunkRows,
    // one row: a VALUES list is a little faster
    insertRows: (chunk) => (chunk.length > 1 ? unnestedRows(sql, now, chunk) : valuesList(sql, now, chunk)),
    onConflictReplace: (key, columns) => shapes.onConflictReplace(sql, key, columns),
    // the claim function: a plan made once per connection, never a bitmap scan and sort; it makes
    // each claim token as `p_token || r.id` (the `JobStore.ClaimToken` format, like `claimTokens`)
    claim: (call) =>
      sql<Row>`SELECT * FROM ${sql(claimFunction)}(${call.instanceId}, ${call.jobs}::text[], ${call.schedules}::text[],
      ${call.limit}::integer, ${call.leaseMs}::bigint, ${call.prefix})`,
    // the queued claim function of migration 9: one statement, one round trip
    queuedClaim: {
      _tag: "Statement",
      claim: (call) =>
        sql<Row>`SELECT * FROM ${sql(queuedClaimFunction)}(${call.instanceId}, ${call.jobs}::text[],
        ${call.schedules}::text[], ${call.queues}::text[], ${call.limit}::integer, ${call.leaseMs}::bigint,
        ${call.prefix}, ${call.owned})`
    },
    // the channel the triggers of migration 1 notify
    notifyDue: Effect.asVoid(sql`SELECT pg_notify(${t.runs}, 'due')`),
    // two bound arrays: one statement text for any batch size, planned in microseconds
    idsAndClaimsIn: (ids, claims) => sql`id = ANY(${ids}::varchar[]) AND claim = ANY(${claims}::varchar[])`,
    updateReturning: (request) =>
      request.pick === undefined
        ? shapes.updateReturning(sql, t.runs, request)
        : shapes.updateReturning(sql, t.runs, {
            with: sql`WITH picked AS MATERIALIZED (SELECT id FROM ${sql(t.runs)} WHERE ${request.where}
            ORDER BY ${request.pick.orderBy} LIMIT ${request.pick.limit} FOR UPDATE SKIP LOCKED) `,
            set: request.set,
            // ANY(ARRAY(...)): the picked rows by primary key (IN (SELECT ...) may hash-join a scan of the table)
            where: sql`id = ANY(ARRAY(SELECT id FROM picked))`,
            returning: request.returning
          }),
    transaction: sql.withTransaction,
    // one statement: the settled rows feed the INSERT through a data-modifying CTE
    updateRecording: ({ record, set, where }) =>
      record === undefined
        ? shapes.updateReturning(sql, t.runs, { set, where, returning: [] })
        : sql<Row>`WITH settled AS (UPDATE ${sql(t.runs)} SET ${set} WHERE ${where} RETURNING *),
      recorded AS (INSERT INTO ${record.into} SELECT ${record.select} FROM settled WHERE ${record.when})
      SELECT id FROM settled`,
    deleteReturning: (request) =>
      shapes.deleteReturning(sql, t.runs, {
        with: sql`WITH picked AS MATERIALIZED (SELECT id FROM ${sql(t.runs)} WHERE ${request.where}
        ORDER BY ${request.pick.orderBy} LIMIT ${request.pick.limit} FOR UPDATE SKIP LOCKED) `,
        where: sql`id IN (SELECT id FROM picked)`
      }),
    throughIndex: () => sql.literal(""),
    dueIndex: () => sql.literal(""),
    adminKey: "status",
    contains: (column, text) => sql`strpos(${column}, ${text}) > 0`,
    affectedRows: (raw) => Number(propertyOf(raw, "rowCount") ?? 0),
    retrying: retryingWhile((error) => {
      const code = propertyOf(causeOf(error), "code")
      return typeof code === "string" && transientCodes.has(code)
    }),
    setup: Effect.flatMap(sql<Row>`SELECT current_setting('server_version') AS version`, ([row]) =>
      requireVersion("PostgreSQL", String(row?.["version"]), [12], "AS MATERIALIZED, SKIP LOCKED")
    ),
    migrations: numbered,
    // transactional DDL: one transaction, serialised by a transaction-scoped advisory lock
    applyMigrations: sql.withTransaction(
      sql`SELECT pg_advisory_xact_lock(hashtext(${`jobss:migrate:${t.migrations}`}))`.pipe(
        Effect.zipRight(sql.unsafe(migrationsTable(t.prefix))),
        Effect.zipRight(inOneTransaction(sql, t.migrations, numbered))
      )
    ),
    wakeups: Option.match(pg, { onNone: () => Stream.never, onSome: (client) => wakeups(client, sql, t) })
  }
}

/**
 * The rows as one bound array per `NewRun` field, unnested: one statement text (and a plan made in
 * microseconds) for any batch size, where a VALUES list of 20 parameters per row took longer to parse
 * and plan than to insert. Each array is cast to its column's type (`runColumns`); the SELECT list is
 * `runInsert.insertedValues` over the unnested columns.
 */
const unnestedRows = (sql: SqlClient.SqlClient, now: Fragment, chunk: ReadonlyArray<JobStore.NewRun>): Fragment => {
  const arrays = newRunFields.map(
    (field) => sql`${chunk.map((run) => encodeValue(run[field]))}::${sql.literal(runColumns[field].pg)}[]`
  )
  const columns = newRunFields.map((field) => runColumns[field].name)
  return sql`SELECT ${insertedValues(sql, now, (field) => sql.literal(`x.${runColumns[field].name}`))}
      FROM unnest(${sql.csv(arrays)}) AS x(${sql.literal(columns.join(", "))})`
}
