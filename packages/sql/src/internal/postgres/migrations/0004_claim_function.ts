/**
 * PostgreSQL migration 4 (`4_claim_function`): the claim as a PL/pgSQL function. Its plan is made once
 * per connection and, with bitmap and sequential scans off inside it, always walks `runs_pending` in
 * due order (without statistics the planner scanned and sorted every pending run on each claim).
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `CREATE OR REPLACE FUNCTION ${p}claim_runs(p_instance text, p_jobs text[], p_schedules text[],
  p_limit integer, p_lease_ms bigint, p_token text) RETURNS SETOF ${p}runs LANGUAGE plpgsql
  SET enable_bitmapscan = off SET enable_seqscan = off
AS $$
DECLARE
  v_now bigint := (extract(epoch from statement_timestamp()) * 1000)::bigint;
BEGIN
  RETURN QUERY
  WITH picked AS MATERIALIZED (
    SELECT r.id FROM ${p}runs r
    WHERE r.status = 'pending' AND r.run_at <= v_now AND r.job = ANY(p_jobs)
      AND (r.schedule IS NULL OR r.schedule = ANY(p_schedules))
    ORDER BY r.run_at, r.id LIMIT p_limit FOR UPDATE SKIP LOCKED
  )
  UPDATE ${p}runs r SET status = 'running', claim = p_token || r.id, started_at = v_now, started_by = p_instance,
    lease_until = v_now + p_lease_ms,
    timeout_at = CASE WHEN r.run_timeout_ms = 0 THEN NULL ELSE v_now + r.run_timeout_ms END,
    run_total_count = r.run_total_count + 1
  WHERE r.id = ANY(ARRAY(SELECT picked.id FROM picked))
  RETURNING r.*;
END
$$`
]
