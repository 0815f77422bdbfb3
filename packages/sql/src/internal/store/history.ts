/**
 * The run history as the store reads it. Its table holds every attempt but the successes: a
 * succeeded attempt is the last of its run (or occurrence), and its run's row already says who ran
 * it, when, and what it returned, with nothing changing that row afterwards (an admin retry takes
 * only failed and cancelled runs). So a settlement that succeeds writes no history row, and the
 * reads below take successes from the runs table. History rows labelled `succeeded` that earlier
 * versions wrote are left out of the reads, since their runs' rows stand for them.
 *
 * @internal
 */
import type { Fragment } from "@effect/sql/Statement"
import { int } from "../sqlValues.js"
import type { StoreContext } from "./context.js"

/** The history's reads and the rule of what it records. */
export interface History {
  /** The history table with the column list of its INSERTs. */
  readonly into: Fragment
  /** Which settled rows a settlement records in the history, over the runs table's columns after the update. */
  readonly recorded: Fragment
  /** Every attempt of a run's occurrences as history rows, in the order they ended. */
  readonly attempts: (originId: string) => Fragment
  /** Attempts per minute (`minute`) and `outcome` (`n`) that ended since a time, epoch milliseconds. */
  readonly outcomesPerMinute: (since: number) => Fragment
}

/** The history of a store. */
export const make = (ctx: Pick<StoreContext, "sql" | "runs" | "historyTable">): History => {
  const { sql, runs, historyTable } = ctx
  const minute = sql.literal("finished_at - (finished_at % 60000)")
  // history rows of successes that earlier versions wrote: their runs' rows stand for them
  const notSuccess = sql.literal("outcome <> 'succeeded'")
  return {
    into: sql`${historyTable} (origin_id, run_id, occurrence, job, attempt, started_by, started_at,
      finished_at, outcome, error, result)`,
    recorded: sql.literal("status <> 'succeeded'"),
    // within an occurrence the success comes last (no `seq`); occurrences follow each other
    attempts: (originId) =>
      sql`SELECT * FROM (
        SELECT seq, origin_id, run_id, occurrence, job, attempt, started_by, started_at, finished_at, outcome,
          error, result FROM ${historyTable} WHERE origin_id = ${originId} AND ${notSuccess}
        UNION ALL
        SELECT NULL, origin_id, id, occurrence, job, run_total_count, COALESCE(started_by, ''),
          COALESCE(started_at, finished_at), finished_at, 'succeeded', NULL, result
          FROM ${runs} WHERE origin_id = ${originId} AND status = 'succeeded'
      ) attempts ORDER BY occurrence, seq IS NULL, seq`,
    outcomesPerMinute: (since) =>
      sql`SELECT ${minute} AS minute, outcome, COUNT(*) AS n FROM ${historyTable}
        WHERE finished_at >= ${int(since)} AND ${notSuccess} GROUP BY ${minute}, outcome
        UNION ALL
        SELECT ${minute} AS minute, 'succeeded' AS outcome, COUNT(*) AS n FROM ${runs}
        WHERE status = 'succeeded' AND finished_at >= ${int(since)} GROUP BY ${minute}`
  }
}
