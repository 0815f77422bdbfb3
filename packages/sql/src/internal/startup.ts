/**
 * The store's startup failures in words: a database that cannot be reached, refuses the login,
 * does not exist, or an SQLite file that cannot be opened or written become a `JobStoreError`
 * whose message says so and names the server or file; driver defects become `JobStoreError`s too.
 *
 * @internal
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { JobsSError } from "@jobss/core"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import { messageOf, propertyOf } from "./dialect.js"
import { MysqlClientTag, PgClientTag, SqliteClientTag } from "./dialects.js"
import { type Target, chainOf, diagnose } from "./driverError.js"

const urlOf = (url: Redacted.Redacted | undefined): URL | undefined => {
  if (url === undefined) return undefined
  try {
    return new URL(Redacted.value(url))
  } catch {
    return undefined
  }
}

/** A server's target from its client's settings (URL parts fill in what the settings leave out). */
const serverTarget = (
  system: string,
  defaultPort: number,
  config: {
    readonly url?: Redacted.Redacted | undefined
    readonly host?: string | undefined
    readonly port?: number | undefined
    readonly username?: string | undefined
    readonly database?: string | undefined
  }
): Target => {
  const url = urlOf(config.url)
  const host = config.host ?? (url?.hostname || "localhost")
  const port = config.port ?? (url?.port ? Number(url.port) : defaultPort)
  const fromPath = url?.pathname.replace(/^\//, "")
  return {
    system,
    where: `${host}:${port}`,
    user: config.username ?? (url?.username ? decodeURIComponent(url.username) : undefined),
    database: config.database ?? (fromPath ? decodeURIComponent(fromPath) : undefined)
  }
}

/** The database of the client in context, as its settings name it. */
const target: Effect.Effect<Target, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const pg = yield* Effect.serviceOption(PgClientTag)
  const mysql = yield* Effect.serviceOption(MysqlClientTag)
  const sqlite = yield* Effect.serviceOption(SqliteClientTag)
  return sql.onDialectOrElse({
    pg: () =>
      Option.match(pg, {
        onNone: () => ({ system: "PostgreSQL" }),
        onSome: (client) => serverTarget("PostgreSQL", 5432, client.config)
      }),
    mysql: () =>
      Option.match(mysql, {
        onNone: () => ({ system: "MySQL/MariaDB" }),
        onSome: (client) => serverTarget("MySQL/MariaDB", 3306, client.config)
      }),
    sqlite: () => ({ system: "SQLite", where: Option.getOrUndefined(sqlite)?.config.filename }),
    orElse: () => ({ system: "database" })
  })
})

const cannotStart = (cause: unknown, message: string, transient?: boolean): JobsSError.JobStoreError =>
  new JobsSError.JobStoreError({ message: `SqlStore cannot start: ${message}`, cause, transient })

/**
 * The store's startup (setup, migrations) with its failures explained: a recognized driver failure
 * says what is wrong with which server or file, and a defect is a `JobStoreError` like any failure.
 */
export const explain = <A, E, R>(
  effect: Effect.Effect<A, E | JobsSError.JobStoreError, R>
): Effect.Effect<A, E | JobsSError.JobStoreError, R | SqlClient.SqlClient> =>
  effect.pipe(
    Effect.catchAllDefect((defect) => Effect.fail(cannotStart(defect, messageOf(defect)))),
    Effect.catchIf(
      (error): error is JobsSError.JobStoreError => error instanceof JobsSError.JobStoreError,
      (error) => {
        const diagnosis = diagnose(error.cause)
        return diagnosis === undefined
          ? Effect.fail(error)
          : Effect.flatMap(target, (database) =>
              Effect.fail(cannotStart(error.cause, diagnosis.describe(database), diagnosis.transient))
            )
      }
    )
  )

const textOf = (value: unknown, key: string): string => {
  const text = propertyOf(value, key)
  return typeof text === "string" ? text : ""
}

/** The database a failure of the client's own construction is about, as far as the failure tells. */
const targetOfFailure = (error: unknown): Target => {
  const chain = chainOf(error)
  const system = chain.some((e) => textOf(e, "severity") !== "" || textOf(e, "message").startsWith("PgClient"))
    ? "PostgreSQL"
    : chain.some((e) => textOf(e, "sqlMessage") !== "" || textOf(e, "message").startsWith("MysqlClient"))
      ? "MySQL/MariaDB"
      : chain.some((e) => textOf(e, "code").startsWith("SQLITE_") || /open database/i.test(textOf(e, "message")))
        ? "SQLite"
        : "database"
  const socket = chain.find((e) => textOf(e, "address") !== "" && typeof propertyOf(e, "port") === "number")
  return {
    system,
    where: socket === undefined ? undefined : `${textOf(socket, "address")}:${String(propertyOf(socket, "port"))}`
  }
}

/**
 * The client layer with its own construction's failures explained: the driver's `SqlError`s and
 * defects become a `JobStoreError` saying what is wrong; other failures (a `ConfigError`) pass.
 */
export const explainClient = <ROut, E, RIn>(
  layer: Layer.Layer<ROut, E, RIn>
): Layer.Layer<ROut, JobsSError.JobStoreError | Exclude<E, SqlError>, RIn> =>
  Layer.catchAllCause(layer, (cause): Layer.Layer<ROut, JobsSError.JobStoreError | Exclude<E, SqlError>> => {
    const failure = Cause.failureOption(cause)
    const culprit = Option.isSome(failure)
      ? Option.filter(failure, (error) => Predicate.isTagged(error, "SqlError"))
      : Cause.dieOption(cause)
    return Option.match(culprit, {
      // not the driver's: the cause holds no SqlError, only the other failures of E (or an interruption)
      onNone: () => Layer.failCause(cause as Cause.Cause<Exclude<E, SqlError>>),
      onSome: (error) => {
        const diagnosis = diagnose(error)
        return Layer.fail(
          diagnosis === undefined
            ? cannotStart(error, messageOf(error))
            : cannotStart(error, diagnosis.describe(targetOfFailure(error)), diagnosis.transient)
        )
      }
    })
  })
