/**
 * PostgreSQL wake-ups: `LISTEN` on the runs channel, which the triggers of
 * migration 1 notify when runs are inserted or become pending again.
 *
 * @internal
 */
import { randomBytes } from "node:crypto"
import type * as PgClient from "@effect/sql-pg/PgClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { Tables } from "../dialect.js"

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
export const wakeups = (pg: PgClient.PgClient, sql: SqlClient.SqlClient, t: Tables): Stream.Stream<void> => {
  // the channel the triggers of migration 1 notify: pg_notify('<prefix>runs', 'due')
  const channel = t.runs
  return Stream.unwrap(
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
            pg.listen(channel).pipe(Stream.as(true)),
            pg.listen(pingChannel).pipe(Stream.as(false))
          ).pipe(
            Stream.timeoutFail(
              () => new SqlError({ message: `no notification on ${channel} within ${silenceLimit}` }),
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
}
