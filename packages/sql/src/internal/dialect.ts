/**
 * What differs between the SQL dialects, behind one interface. Everything else
 * (the statements of docs/STORE.md, row decoding, batching) is shared in
 * `store.ts` and `store/`; each database's folder (`postgres/`, `mysql/`,
 * `sqlite/`) builds one `Dialect` and holds its frozen migrations.
 *
 * @internal
 */
import type * as Migrator from "@effect/sql/Migrator"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment, Statement } from "@effect/sql/Statement"
import { type JobStore, JobsSError } from "@jobss/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Stream from "effect/Stream"

/** A row as the driver returns it. */
export type Row = Readonly<Record<string, unknown>>

/** The names of the store's tables, all derived from the validated table prefix. */
export interface Tables {
  readonly prefix: string
  readonly runs: string
  readonly instances: string
  /** One row per recorded attempt (run history). */
  readonly history: string
  /** One row per named lease (the maintenance leader's). */
  readonly leader: string
  /** One row per stored queue: its definition and paused flag. */
  readonly queues: string
  /** One row per attempt start of a rate-limited queue, within its window. */
  readonly queueStarts: string
  /** The Migrator's bookkeeping table. */
  readonly migrations: string
}

/** The table prefix used when none is given. */
export const defaultTablePrefix = "jobss_"

/** Table names for a (validated) prefix. Identifiers are lower case on every dialect. */
export const tables = (prefix: string): Tables => {
  const p = prefix.toLowerCase()
  return {
    prefix: p,
    runs: `${p}runs`,
    instances: `${p}instances`,
    history: `${p}run_history`,
    leader: `${p}leader`,
    queues: `${p}queues`,
    queueStarts: `${p}queue_starts`,
    migrations: `${p}migrations`
  }
}

/**
 * A numbered migration: the literal SQL statements it executes, in order, for one table prefix.
 * Released migrations are frozen (a test fixes their checksums); schema changes are new numbers.
 */
export interface Migration {
  readonly id: number
  /** The name the Migrator records next to the id. */
  readonly name: string
  readonly statements: ReadonlyArray<string>
}

/** What the store's claim asks of a dialect: `prefix` plus a row's id is its claim (`JobStore.ClaimToken`). */
export interface ClaimCall {
  /** The rows the claim may take (pending, due, of a listed job and schedule), as the store words it. */
  readonly due: Fragment
  /** The claim's SET list, with `at` as the claim's time (the store's; `now` unless a dialect binds the time it read). */
  readonly set: (at: Fragment) => Fragment
  readonly instanceId: string
  readonly jobs: ReadonlyArray<string>
  readonly schedules: ReadonlyArray<string>
  readonly limit: number
  readonly leaseMs: number
  /** The batch's claim token prefix (`JobStore.ClaimToken.prefix`). */
  readonly prefix: string
}

/** What a dialect's own queued claim statement is asked: the plain claim's call and the claimer's queues. */
export interface QueuedClaimCall extends ClaimCall {
  readonly queues: ReadonlyArray<string>
  /** The text every claim of the claimer starts with (`JobStore.ClaimToken.owned`): its runs count for `workerConcurrency`. */
  readonly owned: string
}

/**
 * How a dialect takes runs of queues: `Statement`, in one statement of its own (same steps as the
 * transaction); `Transaction`, in the store's transaction (`store/queueClaim.ts`) on its locks.
 */
export type QueuedClaim =
  | {
      readonly _tag: "Statement"
      /** Claims due runs of the queues and of no queue, returning the claimed rows (every column, after the claim). */
      readonly claim: (call: QueuedClaimCall) => Effect.Effect<ReadonlyArray<Row>, SqlError>
    }
  | {
      readonly _tag: "Transaction"
      /**
       * Inside the claim's transaction, its first statement: locks the rows of these queues (so that
       * the claims of one queue happen one after the other) and returns them, in name order.
       */
      readonly lockQueues: (names: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Row>, SqlError>
      /** The tail of a SELECT of runs to claim inside the transaction: locks them, skipping rows another transaction holds. */
      readonly pickLock: Fragment
      /** How to read a queue's runs by partition in claim order, through the index of migration 13. */
      readonly byPartition: {
        /** After the runs table: read through the index. */
        readonly through: Fragment
        /** The condition that keeps to the index's rows (the pending runs are among them). */
        readonly holds: Fragment
        /** The keys (column `part`) of the partitions of `queue` with pending runs, by a loose scan of the index. */
        readonly keys: (queue: string) => Statement<Row>
      }
    }

/** An UPDATE that reports the rows it changed. */
export interface UpdateRequest {
  /** Which rows qualify. */
  readonly where: Fragment
  /** The SET list. It must not read a column it also assigns (MySQL assigns left to right). */
  readonly set: Fragment
  /**
   * Take at most `limit` qualifying rows in this order, skipping rows that another transaction
   * holds (claims and reaps). Without `pick`, every qualifying row is updated, waiting for locks.
   */
  readonly pick?: { readonly orderBy: Fragment; readonly limit: number; readonly index?: Fragment }
  /** `"row"`: every column after the update; otherwise `id` and these columns, which `set` must leave unchanged. */
  readonly returning: "row" | ReadonlyArray<string>
}

/** Where a `RecordingUpdate` inserts a row per changed row (those that `when` selects), atomically with the update. */
export interface Recording {
  /** The INSERT target: a table and its column list. */
  readonly into: Fragment
  /** The SELECT list of the inserted rows, over the runs table's columns after the update. */
  readonly select: Fragment
  /** Which changed rows are recorded, over the same columns. */
  readonly when: Fragment
}

/** A fenced UPDATE that may also record the changed rows in another table, atomically. */
export interface RecordingUpdate {
  readonly where: Fragment
  /** The SET list (same rule as `UpdateRequest.set`). */
  readonly set: Fragment
  /** What is recorded of the changed rows; `undefined`: nothing, the UPDATE alone. */
  readonly record: Recording | undefined
  /** The distinct ids of the rows `where` matches when every fence holds (an UPDATE's row count then tells whether all held). */
  readonly ids: ReadonlyArray<string>
}

/** A DELETE of at most `limit` rows in this order, skipping rows another transaction holds. */
export interface DeleteRequest {
  readonly where: Fragment
  readonly pick: { readonly orderBy: Fragment; readonly limit: number }
}

/**
 * The pool size of a driver's client (`maxConnections`, else the `pg` and `mysql2` pools' default of
 * 10); 1 when the driver's client is not in context.
 */
export const poolSizeOf = (
  client: Option.Option<{ readonly config: { readonly maxConnections?: number | undefined } }>
): number => Option.match(client, { onNone: () => 1, onSome: (driver) => driver.config.maxConnections ?? 10 })

/** The dialect-specific pieces of the store. */
export interface Dialect {
  /** The client, without result or query name transforms. */
  readonly sql: SqlClient.SqlClient
  readonly tables: Tables
  /** The database clock in epoch milliseconds, as an integer SQL expression. */
  readonly now: Fragment
  /**
   * Each row's claim token in SQL, in the `JobStore.ClaimToken` format: the bound `prefix`, then the
   * row's `id` column.
   */
  readonly claimTokens: (prefix: string) => Fragment
  /** The tail of an `INSERT INTO runs` that skips rows whose `unique_key` is already held. */
  readonly onUniqueKeyConflictIgnore: Fragment
  /**
   * Whether `onUniqueKeyConflictIgnore` also swallows a duplicate primary key (MySQL's
   * `ON DUPLICATE KEY UPDATE` does): the store then checks ids itself before inserting.
   */
  readonly ignoresDuplicateIds: boolean
  /**
   * Whether the driver keeps a server-side prepared statement per distinct SQL text (mysql2's
   * `execute`): multi-row INSERTs then come in power-of-two sizes, so few distinct texts exist.
   */
  readonly preparesStatements: boolean
  /** Whether the driver runs each statement to its end on the JavaScript thread (better-sqlite3): `JobStoreShape.blocking`. */
  readonly blocking: boolean
  /**
   * How many connections the client's pool may open (the driver's `maxConnections`, or its default);
   * 1 for SQLite's one connection and for a client whose pool size is unknown.
   */
  readonly poolSize: number
  /** Rows per `INSERT INTO runs` statement (bounded by the dialect's parameter limit). */
  readonly insertChunkRows: number
  /**
   * The rows of an `INSERT INTO runs` with the store's column list (`runInsert.insertColumns`): a
   * VALUES list (`runInsert.valuesList`) or the dialect's own shape.
   */
  readonly insertRows: (chunk: ReadonlyArray<JobStore.NewRun>) => Fragment
  /** The tail of an INSERT that turns it into an upsert on `key`, replacing `columns`. */
  readonly onConflictReplace: (key: string, columns: ReadonlyArray<string>) => Fragment
  /** Claims due runs in no queue, returning the claimed rows (every column, after the claim). */
  readonly claim: (call: ClaimCall) => Effect.Effect<ReadonlyArray<Row>, SqlError>
  /** How the claim of a claimer that names queues takes runs: a statement of the dialect's, or the store's transaction. */
  readonly queuedClaim: QueuedClaim
  /** Wakes the instances of every store on the database (`wakeups`), where the dialect can. */
  readonly notifyDue: Effect.Effect<void, SqlError>
  /**
   * The rows whose `id` is in `ids` and whose `claim` is in `claims` (settlements: `store/settle.ts`
   * pairs them so that this matches exactly the settled rows).
   */
  readonly idsAndClaimsIn: (ids: ReadonlyArray<string>, claims: ReadonlyArray<string>) => Fragment
  /** Runs an UPDATE and returns the changed rows (one statement where the dialect has RETURNING). */
  readonly updateReturning: (request: UpdateRequest) => Effect.Effect<ReadonlyArray<Row>, SqlError>
  /** Runs statements in one transaction (on SQLite without yielding to other fibers: see `sqlite/dialect.ts`). */
  readonly transaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SqlError, R>
  /** Runs a fenced UPDATE and records the changed rows elsewhere when asked (one statement where the dialect can); returns their `id`s. */
  readonly updateRecording: (request: RecordingUpdate) => Effect.Effect<ReadonlyArray<Row>, SqlError>
  /** Deletes runs (one statement where the dialect can) and returns their `id`s. */
  readonly deleteReturning: (request: DeleteRequest) => Effect.Effect<ReadonlyArray<Row>, SqlError>
  /**
   * After a table name in FROM: read it through `index` (a table prefix's full index name). MySQL's
   * optimizer may sort a whole small table rather than walk an index backwards for `ORDER BY ...
   * DESC LIMIT`; elsewhere empty.
   */
  readonly throughIndex: (index: string) => Fragment
  /**
   * After the runs table in FROM, when picking due runs in claim order (in no queue, or in a queue):
   * read them through the index of that order. Without it SQLite and MariaDB take an index of the
   * admin queries (`job, status, ...`) and sort every pending run of the job at each claim;
   * PostgreSQL's planner needs no hint (empty).
   */
  readonly dueIndex: (queued: boolean) => Fragment
  /**
   * What the admin indexes hold after their group column (`store/admin.ts`): `"status"` for every
   * run (PostgreSQL: migrations 10 and 11); `"statusWithoutRunning"` for every run but the running
   * ones (SQLite, migration 14: a claim only deletes entries; running runs are read through
   * `runs_running`); or `"stage"` (MySQL, migration 12: `active` for pending and running runs, so
   * that no claim changes them; running runs are read through `runs_pending`).
   */
  readonly adminKey: "status" | "statusWithoutRunning" | "stage"
  /** Whether the text column contains `text`, case-sensitive, no wildcards (`listRuns`'s `argsContains`). */
  readonly contains: (column: Fragment, text: string) => Fragment
  /** The number of rows a statement run with `.raw` matched. */
  readonly affectedRows: (raw: unknown) => number
  /**
   * Runs an operation's statement or transaction (never one inside the caller's transaction), tried
   * again through the scheduler while it fails with an error worth retrying at once (deadlock, lock
   * wait timeout, busy database).
   */
  readonly retrying: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E>
  /** Checks the server version and applies per-connection settings (SQLite pragmas) when the store starts. */
  readonly setup: Effect.Effect<void, SqlError | JobsSError.JobStoreError>
  /** The dialect's migrations for the store's table prefix, in order. */
  readonly migrations: ReadonlyArray<Migration>
  /**
   * Applies the pending migrations and records them in the bookkeeping table (`tables.migrations`),
   * so that concurrent migrators (other processes) wait for each other; returns those it applied.
   * A migration is recorded only once all its statements have taken effect.
   */
  readonly applyMigrations: Effect.Effect<
    ReadonlyArray<readonly [id: number, name: string]>,
    SqlError | Migrator.MigrationError | JobsSError.JobStoreError
  >
  /** Emits when runs may have become due elsewhere; never fails. */
  readonly wakeups: Stream.Stream<void>
}

const retryTransient = Schedule.exponential("10 millis").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(5)))

/** `Dialect.retrying` on a server, where waiting for a lock blocks nothing: up to 5 more tries, from 10 ms apart. */
export const retryingWhile =
  (isTransient: (error: unknown) => boolean) =>
  <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.retry(effect, { schedule: retryTransient, while: isTransient })

/** The error's driver-level cause, if it has one (`SqlError.cause`). */
export const causeOf = (error: unknown): unknown =>
  typeof error === "object" && error !== null && "cause" in error
    ? (error as { readonly cause: unknown }).cause
    : undefined

/** A property of an unknown value, if it is an object. */
export const propertyOf = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined

/** The most specific message of an error: the driver's, else the error's own. */
export const messageOf = (error: unknown): string => {
  const detail = propertyOf(causeOf(error), "message") ?? propertyOf(error, "message")
  return typeof detail === "string" && detail !== "" ? detail : String(error)
}

/** Whether a dotted version (`"10.11.6-MariaDB"`, `"3.45.1"`) is at least `minimum`. */
export const versionAtLeast = (version: string, minimum: ReadonlyArray<number>): boolean => {
  const parts = (version.match(/\d+(\.\d+)*/)?.[0] ?? "0").split(".").map(Number)
  for (let i = 0; i < minimum.length; i++) {
    const part = parts[i] ?? 0
    if (part !== minimum[i]) return part > minimum[i]!
  }
  return true
}

/** Fails unless the database's version is at least `minimum`. */
export const requireVersion = (
  database: string,
  version: string,
  minimum: ReadonlyArray<number>,
  why: string
): Effect.Effect<void, JobsSError.JobStoreError> =>
  versionAtLeast(version, minimum)
    ? Effect.void
    : Effect.fail(
        new JobsSError.JobStoreError({
          message: `SqlStore needs ${database} ${minimum.join(".")} or newer (${why}); this server is ${version}`
        })
      )
