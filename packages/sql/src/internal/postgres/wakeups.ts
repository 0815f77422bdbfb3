/**
 * PostgreSQL wake-ups: `LISTEN` on the runs channel, which the triggers of
 * migration 1 notify when runs are inserted or become pending again.
 *
 * @internal
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { Tables } from "../dialect.js"

/** How long the runs channel may stay silent (each listener pings it meanwhile) before the listener is replaced. */
const silenceLimit = "60 seconds"
const pingEvery = "20 seconds"
/** The payload of a listener's pings; every other payload on the runs channel is a wake-up. */
const pingPayload = "ping"
/** How long the last store leaving a listener waits for its `UNLISTEN`. */
const leaveLimit = "5 seconds"
const reconnect = Schedule.exponential("200 millis").pipe(Schedule.union(Schedule.spaced("5 seconds")))

/**
 * `LISTEN` on the runs channel, with the channel's own liveness check: `PgClient.listen` shares one
 * connection and does not notice when it dies (or when an `UNLISTEN` on that connection ends the
 * `LISTEN`), so the listener pings the channel itself. When nothing arrives for a while the
 * subscription is dropped and made again (on a new connection), and a wake-up is emitted in case a
 * notification was missed. Errors are retried with backoff; the stream never fails.
 */
const listening = (pg: PgClient.PgClient, sql: SqlClient.SqlClient, channel: string): Stream.Stream<void> =>
  Stream.unwrap(
    Effect.map(Ref.make(false), (resumed) => {
      const subscription = Stream.unwrapScoped(
        Effect.gen(function* () {
          // (not PgClient.notify: it sends `NOTIFY channel, $1`, which PostgreSQL rejects)
          yield* sql`SELECT pg_notify(${channel}, ${pingPayload})`.pipe(
            Effect.ignore,
            Effect.repeat(Schedule.spaced(pingEvery)),
            Effect.delay("1 second"),
            Effect.forkScoped
          )
          // any notification proves the LISTEN alive: this listener's pings, other instances' pings, wake-ups
          const notifications = pg.listen(channel).pipe(
            Stream.timeoutFail(
              () => new SqlError({ message: `no notification on ${channel} within ${silenceLimit}` }),
              silenceLimit
            ),
            Stream.filter((payload) => payload !== pingPayload),
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

/** One `listening` fiber and the wake-up callbacks of the stores it serves. */
interface Listener {
  readonly wakes: Set<() => void>
  readonly fiber: Fiber.RuntimeFiber<void>
}

/**
 * The listener of each client and channel, shared by every store on that client: an `UNLISTEN` on
 * the client's one listening connection would end the `LISTEN` of every other subscriber.
 */
const listeners = new WeakMap<PgClient.PgClient, Map<string, Listener>>()

/** Joining and leaving one at a time, so that a last store's `UNLISTEN` is sent before the next `LISTEN`. */
const registry = Effect.unsafeMakeSemaphore(1)

const join = (pg: PgClient.PgClient, sql: SqlClient.SqlClient, channel: string, wake: () => void) =>
  registry.withPermits(1)(
    Effect.gen(function* () {
      const byChannel = listeners.get(pg) ?? new Map<string, Listener>()
      listeners.set(pg, byChannel)
      let listener = byChannel.get(channel)
      if (listener === undefined) {
        const wakes = new Set<() => void>()
        const wakeAll = Effect.sync(() => {
          for (const wakeOne of wakes) wakeOne()
        })
        // a daemon: it serves every store on the client, and ends when the last one leaves
        const fiber = yield* Effect.forkDaemon(
          Effect.interruptible(Stream.runForEach(listening(pg, sql, channel), () => wakeAll))
        )
        listener = { wakes, fiber }
        byChannel.set(channel, listener)
      }
      listener.wakes.add(wake)
      return listener
    })
  )

const leave = (pg: PgClient.PgClient, channel: string, wake: () => void) => (listener: Listener) =>
  registry.withPermits(1)(
    Effect.suspend(() => {
      listener.wakes.delete(wake)
      if (listener.wakes.size > 0) return Effect.void
      listeners.get(pg)?.delete(channel)
      // bounded (an UNLISTEN on a connection that died unnoticed can hang): an UNLISTEN sent after a
      // new LISTEN ends it, the new listener then hears nothing, not even its own pings, and is made
      // again within silenceLimit
      return Fiber.interrupt(listener.fiber).pipe(Effect.timeout(leaveLimit), Effect.ignore)
    })
  )

/**
 * The wake-ups of one store: an emission whenever the runs channel is notified (and once after the
 * listener was replaced). Every store on one client shares one `LISTEN`, which ends with the last.
 */
export const wakeups = (pg: PgClient.PgClient, sql: SqlClient.SqlClient, t: Tables): Stream.Stream<void> =>
  Stream.asyncPush<void>(
    (emit) => {
      const wake = () => {
        emit.single(undefined)
      }
      // the channel the triggers of migration 1 notify: pg_notify('<prefix>runs', 'due')
      return Effect.acquireRelease(join(pg, sql, t.runs, wake), leave(pg, t.runs, wake))
    },
    // a wake-up not yet taken stands for any that follow it
    { bufferSize: 1, strategy: "sliding" }
  )
