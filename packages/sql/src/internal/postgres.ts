/**
 * PostgreSQL: claims and reaps in one statement (`FOR UPDATE SKIP LOCKED` in a
 * materialized CTE), `RETURNING` everywhere, migrations serialised by a
 * transaction-scoped advisory lock, wake-ups through `LISTEN/NOTIFY`.
 *
 * @internal
 */

import { randomBytes } from "node:crypto"
import type * as PgClient from "@effect/sql-pg/PgClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { Cause, Effect, Option, Ref, Schedule, Stream } from "effect"
import { type Dialect, type Row, type Tables, causeOf, propertyOf, requireVersion } from "./dialect.js"
import { createMigrationsTable } from "./migrations.js"
import * as shared from "./shared.js"

/** serialization_failure, deadlock_detected */
const transientCodes: ReadonlySet<string> = new Set(["40001", "40P01"])

/** The PostgreSQL dialect; `pg` (when present) provides `LISTEN` for wake-ups. */
export const make = (sql: SqlClient.SqlClient, t: Tables, pg: Option.Option<PgClient.PgClient>): Dialect => ({
  name: "pg",
  sql,
  tables: t,
  now: sql.literal("(extract(epoch from statement_timestamp()) * 1000)::bigint"),
  concat: (left, right) => sql`(CAST(${left} AS text) || ${right})`,
  onUniqueKeyConflictIgnore: shared.onUniqueKeyConflictIgnore(sql),
  ignoresDuplicateIds: false,
  preparesStatements: false,
  onConflictReplace: (key, columns) => shared.onConflictReplace(sql, key, columns),
  // the claim function (migration 4): a plan made once per connection, never a bitmap scan and sort
  claim: (call) =>
    sql<Row>`SELECT * FROM ${sql(t.claimFunction)}(${call.instanceId}, ${call.jobs}::text[], ${call.schedules}::text[],
      ${call.limit}::integer, ${call.leaseMs}::bigint, ${call.token})`,
  updateReturning: (request) =>
    request.pick === undefined
      ? shared.updateReturning(sql, t.runs, request)
      : shared.updateReturning(sql, t.runs, {
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
    shared.deleteReturning(sql, t.runs, {
      with: sql`WITH picked AS MATERIALIZED (SELECT id FROM ${sql(t.runs)} WHERE ${request.where}
        ORDER BY ${request.pick.orderBy} LIMIT ${request.pick.limit} FOR UPDATE SKIP LOCKED) `,
      where: sql`id IN (SELECT id FROM picked)`
    }),
  affectedRows: (raw) => Number(propertyOf(raw, "rowCount") ?? 0),
  isTransient: (error) => {
    const code = propertyOf(causeOf(error), "code")
    return typeof code === "string" && transientCodes.has(code)
  },
  setup: Effect.flatMap(sql<Row>`SELECT current_setting('server_version') AS version`, ([row]) =>
    requireVersion("PostgreSQL", String(row?.["version"]), [12], "AS MATERIALIZED, SKIP LOCKED")
  ),
  withMigrationLock: (migrate) =>
    sql.withTransaction(
      sql`SELECT pg_advisory_xact_lock(hashtext(${`jobss:migrate:${t.migrations}`}))`.pipe(
        Effect.zipRight(createMigrationsTable("pg", t)),
        Effect.zipRight(migrate)
      )
    ),
  wakeups: Option.match(pg, { onNone: () => Stream.never, onSome: (client) => wakeups(client, sql, t) })
})

/** How long the listening connection may stay silent (it pings itself meanwhile) before it is replaced. */
const silenceLimit = "60 seconds"
const pingEvery = "20 seconds"
const reconnect = Schedule.exponential("200 millis").pipe(Schedule.union(Schedule.spaced("5 seconds")))

/**
 * `LISTEN` on the runs channel. `PgClient.listen` shares one connection and does not notice when
 * it dies, so each subscription also listens on a private channel that it pings itself: when
 * nothing arrives for a while the subscription is dropped and made again (on a new connection),
 * and a wake-up is emitted in case a notification was missed. Errors are retried with backoff;
 * the stream never fails.
 */
const wakeups = (pg: PgClient.PgClient, sql: SqlClient.SqlClient, t: Tables): Stream.Stream<void> =>
  Stream.unwrap(
    Effect.map(Ref.make(false), (resumed) => {
      const subscription = Stream.unwrapScoped(
        Effect.gen(function* () {
          const pingChannel = `${t.prefix}ping_${randomBytes(6).toString("hex")}`
          // (not PgClient.notify: it sends `NOTIFY channel, $1`, which PostgreSQL rejects)
          yield* sql`SELECT pg_notify(${pingChannel}, 'ping')`.pipe(
            Effect.ignore,
            Effect.repeat(Schedule.spaced(pingEvery)),
            Effect.delay("1 second"),
            Effect.forkScoped
          )
          const notifications = Stream.merge(
            pg.listen(t.channel).pipe(Stream.as(true)),
            pg.listen(pingChannel).pipe(Stream.as(false))
          ).pipe(
            Stream.timeoutFail(
              () => new SqlError({ message: `no notification on ${t.channel} within ${silenceLimit}` }),
              silenceLimit
            ),
            Stream.filter((due) => due),
            Stream.as(undefined)
          )
          return (yield* Ref.get(resumed)) ? Stream.concat(Stream.succeed(undefined), notifications) : notifications
        })
      )
      return subscription.pipe(
        // a defect (e.g. UNLISTEN on a dead connection) is retried like a failure
        Stream.catchAllCause((cause) => Stream.fail(Cause.squash(cause))),
        Stream.tapError((error) =>
          Effect.logDebug("SqlStore: LISTEN failed, subscribing again", error).pipe(
            Effect.zipRight(Ref.set(resumed, true))
          )
        ),
        Stream.retry(reconnect),
        Stream.catchAll(() => Stream.never)
      )
    })
  )
