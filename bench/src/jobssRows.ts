/**
 * JobsS runs generated directly in SQL (PostgreSQL), in the layout SqlStore creates: what
 * `createRun(BenchNoop, { i })` with the default options would store. Used to fill large queues
 * and the scale case's tables quickly.
 */
import { BenchNoop, benchPartitions, benchQueues, runsTable } from "./jobss.js"

const columns =
  "id, origin_id, occurrence, job, args, unique_name, unique_key, schedule, status, run_at, run_total_count, " +
  "run_success_count, run_success_limit, run_timeout_ms, retries_error_count, retries_error_limit, " +
  "retries_timeout_count, retries_timeout_limit, created_at, created_by, started_at, started_by, timeout_at, " +
  "lease_until, claim, cancel_requested, error, finished_at"

/**
 * An INSERT of runs `g` in [from, to] with time-ordered ids (the UUID version 7 layout JobsS uses:
 * 48 bits of milliseconds, then random-looking bits) and `run_at = base + g` milliseconds.
 */
export const generate = (status: "succeeded" | "pending", from: number, to: number, base: number, salt: string) => {
  const finished = status === "succeeded"
  return `INSERT INTO ${runsTable} (${columns})
    SELECT x.id, x.id, 0, '${BenchNoop.name}', '{"i":' || x.g || '}', NULL, NULL, NULL, '${status}', x.at,
      ${finished ? 1 : 0}, ${finished ? 1 : 0}, NULL, 1800000, 0, 3, 0, 3, x.at, 'bench-seed',
      ${finished ? "x.at + 1" : "NULL"}, ${finished ? "'bench-seed'" : "NULL"}, NULL, NULL, NULL, 0, NULL,
      ${finished ? "x.at + 2" : "NULL"}
    FROM (
      SELECT g, ${base}::bigint + g AS at,
        substr(t, 1, 8) || '-' || substr(t, 9, 4) || '-7' || substr(r, 1, 3) || '-8' || substr(r, 4, 3)
          || '-' || substr(r, 7, 12) AS id
      FROM generate_series(${from}::bigint, ${to}::bigint) AS g,
        LATERAL (SELECT lpad(to_hex(${base}::bigint + g), 12, '0') AS t, md5(g::text || '${salt}') AS r) AS parts
    ) AS x`
}

/**
 * Puts the generated runs in the queue of a queued variant (`benchQueues`; run `i`, due at `base + i`,
 * in partition `p<i mod 100>` of a partitioned one), or `undefined` for a variant without a queue.
 */
export const intoQueue = (variant: string): string | undefined => {
  const queue = benchQueues[variant]
  if (queue === undefined) return undefined
  const partition = queue.partitioned ? `'p' || (run_at % ${benchPartitions})` : "NULL"
  return `UPDATE ${runsTable} SET queue = '${queue.name}', partition_key = ${partition}`
}
