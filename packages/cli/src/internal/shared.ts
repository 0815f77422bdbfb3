/**
 * What the commands of `jobss` share: the connection options (`--database-url`, `--table-prefix`),
 * `--json`, optional options, the client-only `Scheduler` a handler runs with, and the usage error
 * of a command group given no command.
 */
import { HelpDoc, Options, ValidationError } from "@effect/cli"
import type { JobsSError, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { type Connection, scheduler } from "./connection.js"

/** `--database-url`, or `DATABASE_URL`. */
const databaseUrl = Options.text("database-url").pipe(
  Options.withFallbackConfig(Config.string("DATABASE_URL")),
  Options.withDescription(
    "The database: postgres://..., mysql://... (MariaDB too) or the path of an SQLite file; default: $DATABASE_URL"
  )
)

/** `--table-prefix`. */
const tablePrefix = Options.text("table-prefix").pipe(
  Options.withDefault(SqlStore.defaultTablePrefix),
  Options.withDescription("The prefix of the store's tables")
)

/** `--json`. */
export const json = Options.boolean("json").pipe(Options.withDescription("Print JSON (one line) instead of a table"))

/** The options every command connecting to a database has. */
export const connection = { databaseUrl, tablePrefix }

/** An optional integer option. */
export const optionalInteger = (name: string, description: string) =>
  Options.integer(name).pipe(Options.optional, Options.withDescription(description))

/** An optional text option. */
export const optionalText = (name: string, description: string) =>
  Options.text(name).pipe(Options.optional, Options.withDescription(description))

/** The value of an optional option, or `undefined`. */
export const given = <A>(option: Option.Option<A>): A | undefined => Option.getOrUndefined(option)

/** Runs `effect` with a client-only `Scheduler` on the command's database. */
export const withScheduler = <A, E>(
  c: Connection,
  effect: Effect.Effect<A, E, Scheduler.Scheduler>
): Effect.Effect<A, E | JobsSError.JobStoreError | JobsSError.InvalidConfig | ConfigError.ConfigError> =>
  Effect.scoped(Effect.provide(effect, scheduler(c)))

/** A group of commands given none: a usage error (exit 2) that names where the list is. */
export const needsCommand = (group: string) =>
  Effect.zipRight(
    Console.error(`${group}: a command is needed (${group} --help lists them)`),
    Effect.fail(ValidationError.missingValue(HelpDoc.p(`${group} needs a command`)))
  )
