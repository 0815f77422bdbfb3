/**
 * PostgreSQL: claims through the claim function of migration 4, reaps in one
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
import { Effect, Option, Stream } from "effect"
import { type Dialect, type Row, type Tables, causeOf, propertyOf, requireVersion, retryingWhile } from "../dialect.js"
import { inOneTransaction } from "../migrations.js"
import { valuesList } from "../runInsert.js"
import * as shapes from "../shapes.js"
import { int, intOrNull } from "../sqlValues.js"
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
  const numbered = migrations(t.prefix)
  return {
    sql,
    tables: t,
    now,
    concat: (left, right) => sql`(CAST(${left} AS text) || ${right})`,
    onUniqueKeyConflictIgnore: shapes.onUniqueKeyConflictIgnore(sql),
    ignoresDuplicateIds: false,
    preparesStatements: false,
    insertChunkRows: unnestChunkRows,
    // one row: a VALUES list is a little faster
    insertRows: (chunk) => (chunk.length > 1 ? unnestedRows(sql, now, chunk) : valuesList(sql, now, chunk)),
    onConflictReplace: (key, columns) => shapes.onConflictReplace(sql, key, columns),
    // the claim function: a plan made once per connection, never a bitmap scan and sort
    claim: (call) =>
      sql<Row>`SELECT * FROM ${sql(claimFunction)}(${call.instanceId}, ${call.jobs}::text[], ${call.schedules}::text[],
      ${call.limit}::integer, ${call.leaseMs}::bigint, ${call.token})`,
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
    updateRecording: (request) =>
      sql<Row>`WITH settled AS (UPDATE ${sql(t.runs)} SET ${request.set} WHERE ${request.where} RETURNING *),
      recorded AS (INSERT INTO ${request.into} SELECT ${request.select} FROM settled)
      SELECT id FROM settled`,
    deleteReturning: (request) =>
      shapes.deleteReturning(sql, t.runs, {
        with: sql`WITH picked AS MATERIALIZED (SELECT id FROM ${sql(t.runs)} WHERE ${request.where}
        ORDER BY ${request.pick.orderBy} LIMIT ${request.pick.limit} FOR UPDATE SKIP LOCKED) `,
        where: sql`id IN (SELECT id FROM picked)`
      }),
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
 * The rows as one bound array per column, unnested: one statement text (and a plan made in
 * microseconds) for any batch size, where a VALUES list of 20 parameters per row took longer to parse
 * and plan than to insert. The columns are `runInsert.insertColumns`, in its order.
 */
const unnestedRows = (sql: SqlClient.SqlClient, now: Fragment, chunk: ReadonlyArray<JobStore.NewRun>): Fragment => {
  const column = <A>(value: (r: JobStore.NewRun) => A): ReadonlyArray<A> => chunk.map(value)
  return sql`SELECT x.id, x.origin_id, x.occurrence, x.job, x.args, x.unique_name, x.unique_name, x.schedule,
      'pending', x.run_at, x.run_total_count, x.run_success_count, x.run_success_limit, x.run_timeout_ms,
      x.retries_error_count, x.retries_error_limit, x.retries_timeout_count, x.retries_timeout_limit,
      COALESCE(x.created_at, ${now}), x.created_by, 0, x.trace_context
      FROM unnest(${column((r) => r.id)}::text[], ${column((r) => r.originId)}::text[],
        ${column((r) => int(r.occurrence))}::integer[], ${column((r) => r.job)}::text[], ${column((r) => r.args)}::text[],
        ${column((r) => r.uniqueName)}::text[], ${column((r) => r.schedule)}::text[], ${column((r) => int(r.runAt))}::bigint[],
        ${column((r) => int(r.runTotalCount))}::integer[], ${column((r) => int(r.runSuccessCount))}::integer[],
        ${column((r) => intOrNull(r.runSuccessLimit))}::integer[], ${column((r) => int(r.runTimeoutMs))}::bigint[],
        ${column((r) => int(r.retriesErrorCount))}::integer[], ${column((r) => int(r.retriesErrorLimit))}::integer[],
        ${column((r) => int(r.retriesTimeoutCount))}::integer[], ${column((r) => int(r.retriesTimeoutLimit))}::integer[],
        ${column((r) => intOrNull(r.createdAt))}::bigint[], ${column((r) => r.createdBy)}::text[],
        ${column((r) => r.traceContext)}::text[])
      AS x(id, origin_id, occurrence, job, args, unique_name, schedule, run_at, run_total_count, run_success_count,
        run_success_limit, run_timeout_ms, retries_error_count, retries_error_limit, retries_timeout_count,
        retries_timeout_limit, created_at, created_by, trace_context)`
}
