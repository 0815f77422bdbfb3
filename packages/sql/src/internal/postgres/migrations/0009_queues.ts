/**
 * PostgreSQL migration 9 (`9_queues`): flow control. Each run gets its queue, priority and partition
 * key; the queues table holds each queue's stored definition and paused flag, and the starts table
 * the attempt starts of rate-limited queues (a sliding window, pruned by the claim). Pending runs in
 * no queue are indexed in claim order (priority, then due time), those of queues per queue, and
 * running runs of queues per queue and partition (the claim counts them). The claim function of
 * migration 4 is replaced: it takes runs in no queue only, lowest priority first, walking the index
 * one priority at a time.
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `ALTER TABLE "${p}runs" ADD COLUMN queue varchar(255) NULL`,
  `ALTER TABLE "${p}runs" ADD COLUMN priority integer NOT NULL DEFAULT 0`,
  `ALTER TABLE "${p}runs" ADD COLUMN partition_key varchar(255) NULL`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_due" ON "${p}runs" (priority, run_at, id) WHERE status = 'pending' AND queue IS NULL`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_queued" ON "${p}runs" (queue, priority, run_at, id) WHERE status = 'pending' AND queue IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS "${p}runs_queue_running" ON "${p}runs" (queue, partition_key) WHERE status = 'running' AND queue IS NOT NULL`,
  `CREATE TABLE IF NOT EXISTS "${p}queues" (
  name varchar(255) NOT NULL PRIMARY KEY,
  concurrency integer NULL,
  worker_concurrency integer NULL,
  rate_limit integer NULL,
  rate_period_ms bigint NULL,
  partitioned smallint NOT NULL DEFAULT 0,
  paused smallint NOT NULL DEFAULT 0,
  defined_by varchar(255) NULL,
  updated_at bigint NOT NULL
)`,
  `CREATE TABLE IF NOT EXISTS "${p}queue_starts" (
  queue varchar(255) NOT NULL,
  partition_key varchar(255) NOT NULL,
  started_at bigint NOT NULL
)`,
  `CREATE INDEX IF NOT EXISTS "${p}queue_starts_window" ON "${p}queue_starts" (queue, partition_key, started_at)`,
  `CREATE OR REPLACE FUNCTION ${p}claim_runs(p_instance text, p_jobs text[], p_schedules text[],
  p_limit integer, p_lease_ms bigint, p_token text) RETURNS SETOF ${p}runs LANGUAGE plpgsql
  SET enable_bitmapscan = off SET enable_seqscan = off
AS $$
DECLARE
  v_now bigint := (extract(epoch from statement_timestamp()) * 1000)::bigint;
  v_priority integer;
  v_left integer := p_limit;
  v_ids varchar[] := '{}';
  v_found varchar[];
BEGIN
  SELECT min(r.priority) INTO v_priority FROM ${p}runs r WHERE r.status = 'pending' AND r.queue IS NULL;
  WHILE v_priority IS NOT NULL AND v_left > 0 LOOP
    SELECT coalesce(array_agg(x.id), '{}') INTO v_found FROM (
      SELECT r.id FROM ${p}runs r
      WHERE r.status = 'pending' AND r.queue IS NULL AND r.priority = v_priority AND r.run_at <= v_now
        AND r.job = ANY(p_jobs) AND (r.schedule IS NULL OR r.schedule = ANY(p_schedules))
      ORDER BY r.run_at, r.id LIMIT v_left FOR UPDATE SKIP LOCKED
    ) x;
    v_ids := v_ids || v_found;
    v_left := v_left - cardinality(v_found);
    SELECT min(r.priority) INTO v_priority FROM ${p}runs r
    WHERE r.status = 'pending' AND r.queue IS NULL AND r.priority > v_priority;
  END LOOP;
  RETURN QUERY
  UPDATE ${p}runs r SET status = 'running', claim = p_token || r.id, started_at = v_now, started_by = p_instance,
    lease_until = v_now + p_lease_ms,
    timeout_at = CASE WHEN r.run_timeout_ms = 0 THEN NULL ELSE v_now + r.run_timeout_ms END,
    run_total_count = r.run_total_count + 1
  WHERE r.id = ANY(v_ids)
  RETURNING r.*;
END
$$`
]
