/**
 * How SQLite statements wait for the file's write lock. better-sqlite3 is synchronous: a statement
 * waiting for another connection's lock (`busy_timeout`) stops this process's whole event loop,
 * timers and every other fiber (the heartbeat included). So a statement waits at most
 * `busyTimeoutMs`; an operation that still finds the lock taken is tried again through the
 * scheduler, the event loop running in between, until `operationRetryMs` have passed (migrations:
 * `migrationRetryMs`). The store's tries run one at a time, and a try that follows a failed wait
 * first waits `pauseMs` in a timer, so the waits of several fibers never add up in one turn of the
 * event loop.
 *
 * The bound: while another connection holds the lock, the event loop stands still at most
 * `busyTimeoutMs` (200 ms) at a time, and a store operation gives up (a transient `JobStoreError`)
 * about 1.3 s after its first try (plus up to 200 ms for each other operation of the process that
 * waits its turn before its last try), well within the default `heartbeatInterval` (5 s).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"

/** Milliseconds a statement waits for another connection's write lock before SQLITE_BUSY. */
export const busyTimeoutMs = 200

/** Milliseconds an operation is tried again for after it first found the lock taken. */
export const operationRetryMs = 1_000

/** Milliseconds the migrations are tried again for: another process may be migrating. */
export const migrationRetryMs = 120_000

/** Milliseconds a try waits in a timer when the one before it found the lock taken. */
const pauseMs = 10

/** Between tries: from 10 ms, doubling, to at most 100 ms. */
const backoff = Schedule.exponential("10 millis").pipe(Schedule.union(Schedule.spaced("100 millis")), Schedule.jittered)

/** Retries through the scheduler for a connection's statements. */
export interface Busy {
  /**
   * Runs the effect, tried again while it fails with `isBusy` until `ms` milliseconds have passed.
   * Tries run one at a time, and a try that follows a failed wait first waits `pauseMs` in a timer:
   * two waits for the lock never follow each other in one turn of the event loop.
   */
  readonly retryingFor: (ms: number) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** The waits of one connection, whose lock errors `isBusy` recognizes. */
export const make = (isBusy: (error: unknown) => boolean): Busy => {
  const oneTry = Effect.unsafeMakeSemaphore(1)
  // whether the latest try found the lock taken: the next one then waits in a timer first
  let lastTryBusy = false
  const attempt = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    oneTry.withPermits(1)(
      Effect.suspend(() => (lastTryBusy ? Effect.sleep(pauseMs) : Effect.void)).pipe(
        Effect.zipRight(effect),
        Effect.onExit((exit) =>
          Effect.sync(() => {
            lastTryBusy = Exit.isFailure(exit) && Option.exists(Cause.failureOption(exit.cause), isBusy)
          })
        )
      )
    )
  return {
    retryingFor:
      (ms) =>
      <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        Effect.flatMap(Clock.currentTimeMillis, (start) =>
          Effect.retry(attempt(effect), {
            schedule: backoff,
            while: (error) =>
              isBusy(error) ? Effect.map(Clock.currentTimeMillis, (now) => now < start + ms) : Effect.succeed(false)
          })
        )
  }
}
