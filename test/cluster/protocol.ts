/**
 * What the cluster harness (`test/support/processes.ts`, in the test process) and its child
 * program (`test/cluster/worker.ts`, one JobsS instance per OS process) share: the job they run,
 * the child's configuration, the IPC messages, and the ledger table every child writes its
 * executions and settlements to (in the cluster's own database, so it survives SIGKILL).
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Job, JobQueue, JobSchedule } from "@jobss/core"
import { Duration, Effect, Schema } from "effect"

/** The backends a child can run on. */
export const WorkerBackend = Schema.Literal("sqlite", "postgres", "mariadb")
export type WorkerBackend = typeof WorkerBackend.Type

/** The job every child implements: sleeps `ms` milliseconds, writing `start` and `end` ledger rows. */
export const Work = Job.make({
  name: "ClusterWork",
  args: Schema.Struct({ n: Schema.Number, ms: Schema.Number })
})

/** The schedule every child knows, for recurring runs of `Work`: an occurrence every 30 ms. */
export const Every = JobSchedule.spaced({ name: "ClusterEvery", every: "30 millis" })
/**
 * A job whose first attempt blocks its process's event loop for `blockMs` (a synchronous loop, as
 * a CPU-bound job would), writing `start` and `end` ledger rows; later attempts end at once.
 */
export const Block = Job.make({
  name: "ClusterBlock",
  args: Schema.Struct({ blockMs: Schema.Number })
})

/** JobsS instance options of a child, in milliseconds (JSON through the environment). */
export const WorkerInstance = Schema.Struct({
  workers: Schema.Number,
  pollIntervalMs: Schema.Number,
  heartbeatIntervalMs: Schema.Number,
  leaseMs: Schema.Number,
  timeoutCheckMs: Schema.Number,
  shutdownTimeoutMs: Schema.Number,
  runTimeoutMs: Schema.optional(Schema.Number),
  retriesErrorLimit: Schema.optional(Schema.Number),
  retriesTimeoutLimit: Schema.optional(Schema.Number),
  /** The instance's `claimAhead` in ms (0: no runs claimed beyond the free workers); its default when absent. */
  claimAheadMs: Schema.optional(Schema.Number),
  /** `Work` is in this queue (`JobQueue.make` options, the rate limit's period in ms) when given. */
  queue: Schema.optional(
    Schema.Struct({
      name: Schema.String,
      concurrency: Schema.optional(Schema.Number),
      workerConcurrency: Schema.optional(Schema.Number),
      partitioned: Schema.optional(Schema.Boolean),
      rateLimit: Schema.optional(Schema.Struct({ limit: Schema.Number, periodMs: Schema.Number }))
    })
  )
})
export type WorkerInstance = typeof WorkerInstance.Type

/** `Work` in the queue of a child's options, or `Work` itself. */
export const workIn = (queue: WorkerInstance["queue"]): typeof Work =>
  queue === undefined
    ? Work
    : Job.make({
        name: Work.name,
        args: Work.args,
        queue: JobQueue.make({
          name: queue.name,
          ...(queue.concurrency === undefined ? {} : { concurrency: queue.concurrency }),
          ...(queue.workerConcurrency === undefined ? {} : { workerConcurrency: queue.workerConcurrency }),
          ...(queue.partitioned === undefined ? {} : { partitioned: queue.partitioned }),
          ...(queue.rateLimit === undefined
            ? {}
            : { rateLimit: { limit: queue.rateLimit.limit, period: Duration.millis(queue.rateLimit.periodMs) } })
        })
      })

/** Everything a child needs, passed as JSON in `JOBSS_CLUSTER_WORKER`. */
export const WorkerConfig = Schema.Struct({
  backend: WorkerBackend,
  /** Database URL; for SQLite the path of the (WAL) file. */
  url: Schema.String,
  /** The URL the JobsS store connects to, if not `url` (through a proxy the test can sever); the ledger always uses `url`. */
  storeUrl: Schema.optional(Schema.String),
  slot: Schema.Number,
  generation: Schema.Number,
  instance: WorkerInstance,
  /** Added to Effect's `Clock` in the child (clock skew), milliseconds. */
  clockOffsetMs: Schema.Number,
  /** Connections in the child's pool (PostgreSQL, MariaDB). */
  maxConnections: Schema.Number,
  /** Effect log level of the child (`Info`, `Warning`, ...). */
  logLevel: Schema.String
})
export type WorkerConfig = typeof WorkerConfig.Type

/** The environment variable holding the child's `WorkerConfig`. */
export const configVariable = "JOBSS_CLUSTER_WORKER"

/** One run a child is asked to create. */
export interface RunRequest {
  readonly n: number
  readonly ms: number
  readonly delayMs: number
  /** The run's partition key (a partitioned queue's). */
  readonly partitionKey?: string
}

/** Parent to child. */
export type ParentMessage = {
  readonly _tag: "Create"
  readonly requestId: number
  readonly runs: ReadonlyArray<RunRequest>
  /** Every run with this unique name. */
  readonly unique?: string
  /** Wall-clock time (`Date.now()`) at which to call `createRun`, for races. */
  readonly at?: number
}

/** Child to parent. */
export type ChildMessage =
  | { readonly _tag: "Ready"; readonly instanceId: string; readonly pid: number }
  | {
      readonly _tag: "Created"
      readonly requestId: number
      readonly ids: ReadonlyArray<string>
      /** `Date.now()` when `createRun` was called. */
      readonly calledAt: number
    }
  | { readonly _tag: "Refused"; readonly requestId: number; readonly message: string }

// ---------------------------------------------------------------------------------------------
// The ledger

/** The ledger table's name. */
export const ledgerTable = "ledger"

/**
 * What a ledger row records: `start` and `end` of a job body (written by the job), `interrupted`
 * (the job fiber was interrupted), `settle` (a settlement the child's store answered, `accepted`
 * 1 when the fence held), `reap` (a run this child's reaper took over), `giveBack` (a run this
 * child's reaper made pending again unstarted: its start was never reported, so no attempt is used).
 */
export type LedgerKind = "start" | "end" | "interrupted" | "settle" | "reap" | "giveBack"

/** A ledger row as written. `db_at` is filled in by the database's clock. */
export interface LedgerInsert {
  /**
   * Unique to this row (the writing process and a count), so a write retried after a commit whose
   * answer was lost (the database went away) is not recorded twice.
   */
  readonly entry: string
  readonly kind: LedgerKind
  readonly run_id: string
  readonly origin_id: string
  readonly attempt: number
  readonly instance: string
  readonly slot: number
  readonly generation: number
  readonly pid: number
  /** The child's Effect clock (skewed in the clock-skew scenario). */
  readonly local_at: number
  /** Settlement tag, or reap reason. */
  readonly detail: string
  readonly claim: string
  readonly accepted: number
}

/** A ledger row as read back. */
export interface LedgerRow extends LedgerInsert {
  readonly seq: number
  /** The database's clock when the row was written, epoch milliseconds. */
  readonly db_at: number
}

/** Creates the ledger table (the database's clock fills `db_at`). */
export const createLedger: Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const common = `entry VARCHAR(64) NOT NULL UNIQUE, kind VARCHAR(16) NOT NULL, run_id VARCHAR(64) NOT NULL, origin_id VARCHAR(64) NOT NULL,
    attempt INTEGER NOT NULL, instance VARCHAR(64) NOT NULL, slot INTEGER NOT NULL, generation INTEGER NOT NULL,
    pid INTEGER NOT NULL, local_at BIGINT NOT NULL, detail VARCHAR(64) NOT NULL, claim VARCHAR(128) NOT NULL,
    accepted INTEGER NOT NULL`
  yield* sql.onDialectOrElse({
    pg: () =>
      sql.unsafe(`CREATE TABLE ${ledgerTable} (seq BIGSERIAL PRIMARY KEY, ${common},
        db_at BIGINT NOT NULL DEFAULT ((EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint))`),
    mysql: () =>
      sql.unsafe(`CREATE TABLE ${ledgerTable} (seq BIGINT AUTO_INCREMENT PRIMARY KEY, ${common},
        db_at BIGINT NOT NULL DEFAULT (ROUND(UNIX_TIMESTAMP(NOW(3)) * 1000)))`),
    orElse: () =>
      sql.unsafe(`CREATE TABLE ${ledgerTable} (seq INTEGER PRIMARY KEY AUTOINCREMENT, ${common},
        db_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)))`)
  })
})

/** Appends rows to the ledger in one statement; rows already there (same `entry`) are left as they are. */
export const appendLedger = (
  rows: ReadonlyArray<LedgerInsert>
): Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient> =>
  rows.length === 0
    ? Effect.void
    : Effect.flatMap(SqlClient.SqlClient, (sql) => {
        const values = sql.insert(rows.map((row): Record<string, unknown> => ({ ...row })))
        return Effect.asVoid(
          sql.onDialectOrElse({
            mysql: () => sql`INSERT INTO ${sql(ledgerTable)} ${values} ON DUPLICATE KEY UPDATE entry = entry`,
            orElse: () => sql`INSERT INTO ${sql(ledgerTable)} ${values} ON CONFLICT (entry) DO NOTHING`
          })
        )
      })

/** Reads the whole ledger in write order. */
export const readLedger: Effect.Effect<ReadonlyArray<LedgerRow>, SqlError.SqlError, SqlClient.SqlClient> = Effect.gen(
  function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<Record<string, unknown>>`SELECT * FROM ${sql(ledgerTable)} ORDER BY seq`
    return rows.map(
      (row): LedgerRow => ({
        seq: Number(row.seq),
        entry: String(row.entry),
        kind: String(row.kind) as LedgerKind,
        run_id: String(row.run_id),
        origin_id: String(row.origin_id),
        attempt: Number(row.attempt),
        instance: String(row.instance),
        slot: Number(row.slot),
        generation: Number(row.generation),
        pid: Number(row.pid),
        local_at: Number(row.local_at),
        detail: String(row.detail),
        claim: String(row.claim),
        accepted: Number(row.accepted),
        db_at: Number(row.db_at)
      })
    )
  }
)

/** The database's clock, epoch milliseconds (to compare the parent's kill log with `db_at`). */
export const databaseNow: Effect.Effect<number, SqlError.SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql.onDialectOrElse({
    pg: () => sql<{ readonly now: unknown }>`SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint AS now`,
    mysql: () => sql<{ readonly now: unknown }>`SELECT ROUND(UNIX_TIMESTAMP(NOW(3)) * 1000) AS now`,
    orElse: () =>
      sql<{ readonly now: unknown }>`SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS now`
  })
  return Number(rows[0]?.now)
})
