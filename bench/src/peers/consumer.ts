/**
 * What every consumer implementation shares.
 */
import pg from "pg"

/** Called by a consumer for every job execution: payload index and due time (ms) when known. */
export type OnJob = (i: number, due: number | null) => void

/** A running (or ready to run) worker of some system. */
export interface Consumer {
  /** Starts executing jobs; resolves once the worker runs. */
  readonly start: () => Promise<void>
  /** Jobs not yet completed in the database (pending, locked or running). */
  readonly remaining: () => Promise<number>
  /** Stops the worker and closes its connections. */
  readonly stop: () => Promise<void>
}

/** The graphile-worker, pg-boss and SqlPersistedQueue queue/task name. */
export const queueName = "noop"

/** A PostgreSQL pool of one connection, for a system's bookkeeping queries. */
export const onePool = (url: string): pg.Pool => new pg.Pool({ connectionString: url, max: 1 })

/** The first row's `n` of a count query. */
export const countOf = async (pool: pg.Pool, sql: string): Promise<number> => {
  const result = await pool.query<{ n: string | number }>(sql)
  return Number(result.rows[0]?.n ?? 0)
}
