import * as SqlClient from "@effect/sql/SqlClient"
/**
 * The heartbeat's own connection: lease extensions run on a connection reserved from the pool for
 * them alone, so a pool exhausted by the jobs' own transactions (or by a burst of claims and
 * settlements) never delays them past the lease. Kept while the store lives; a connection that
 * failed is given back and a fresh one reserved on the next call.
 *
 * Only where the pool has room for it (two connections or more): with one connection (SQLite, or a
 * pool of one) the operations run on the pool as before, and the lease guard of the worker pool
 * stops the attempts an exhausted pool cut off.
 *
 * Operations wrap their statements in the store's `unit` as everywhere: on the pool it retries them;
 * on the reserved connection (a transaction connection, where `unit` does not retry) the whole
 * operation is retried here instead.
 *
 * @internal
 */
import type { Connection } from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { Dialect } from "../dialect.js"

/** Runs the heartbeat's operations on its reserved connection. */
export interface OwnConnection {
  /** The operation's statements, one after another on the connection (each its own transaction). */
  readonly run: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E | SqlError>
  /** The operation in one transaction (an operation that opens a transaction of its own nests in it). */
  readonly transaction: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E | SqlError>
}

interface Reserved {
  readonly connection: Connection
  readonly scope: Scope.CloseableScope
}

/** Where the pool has no room for it: the operations run on the pool. */
const onThePool: OwnConnection = { run: (effect) => effect, transaction: (effect) => effect }

/**
 * The heartbeat's connection of `dialect`'s client, reserved now (while the pool is free) and given
 * back when the scope closes. Operations take turns on it; a failure or an interruption rolls back
 * what is open and gives the connection back, and the next operation reserves a fresh one.
 */
export const make = (dialect: Dialect): Effect.Effect<OwnConnection, never, Scope.Scope> =>
  Effect.gen(function* () {
    if (dialect.poolSize < 2) return onThePool
    const storeScope = yield* Effect.scope
    const turns = yield* Effect.makeSemaphore(1)
    let reserved: Reserved | undefined

    const acquire: Effect.Effect<Connection, SqlError> = Effect.suspend(() => {
      if (reserved !== undefined) return Effect.succeed(reserved.connection)
      return Effect.flatMap(Scope.fork(storeScope, ExecutionStrategy.sequential), (scope) =>
        Scope.extend(dialect.sql.reserve, scope).pipe(
          Effect.tap((connection) => {
            reserved = { connection, scope }
          }),
          Effect.tapErrorCause(() => Scope.close(scope, Exit.void))
        )
      )
    })

    /**
     * Rolls back whatever is open and gives the connection back to the pool; a connection that does
     * not answer within a second is given back as it is.
     */
    const discard: Effect.Effect<void> = Effect.suspend(() => {
      const held = reserved
      reserved = undefined
      return held === undefined
        ? Effect.void
        : held.connection
            .executeUnprepared("ROLLBACK", [], undefined)
            .pipe(
              Effect.interruptible,
              Effect.timeout("1 second"),
              Effect.ignore,
              Effect.zipRight(Scope.close(held.scope, Exit.void))
            )
    })

    const onConnection =
      (transaction: boolean) =>
      <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E | SqlError> =>
        dialect.retrying(
          turns.withPermits(1)(
            Effect.gen(function* (): Effect.fn.Return<A, E | SqlError> {
              const connection = yield* acquire
              if (transaction) yield* connection.executeUnprepared("BEGIN", [], undefined)
              const result = yield* Effect.provideService(effect, SqlClient.TransactionConnection, [
                connection,
                0
              ] as const)
              if (transaction) yield* connection.executeUnprepared("COMMIT", [], undefined)
              return result
            }).pipe(Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : discard)))
          )
        )

    // reserved at once; if that fails, the first operation tries again
    yield* Effect.ignore(acquire)
    return { run: onConnection(false), transaction: onConnection(true) }
  })
