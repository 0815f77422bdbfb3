/**
 * PostgreSQL migration 13 (`13_partition_heads`): a claim of a partitioned queue costs per partition,
 * not per pending run. The claim function of migration 9 ranked every pending run of the queue to
 * find each partition's first ones; the new index holds pending runs of queues by partition in claim
 * order, so `claim_queued` finds the partitions with pending runs by a loose scan (one index probe
 * per key) and reads each one's first due runs, as many as it has room for. Everything else in the
 * function is as in migration 9.
 *
 * Released: frozen. Never edit this file (a test fixes its checksum): change the schema with a new migration.
 *
 * @internal
 */

/** The statements, in order, for the (validated, lower-case) table prefix `p`. */
export const statements = (p: string): ReadonlyArray<string> => [
  `CREATE INDEX IF NOT EXISTS "${p}runs_partitions" ON "${p}runs" (queue, partition_key, priority, run_at, id)
  WHERE status = 'pending' AND queue IS NOT NULL`,
  `CREATE OR REPLACE FUNCTION ${p}claim_queued(p_instance text, p_jobs text[], p_schedules text[], p_queues text[],
  p_limit integer, p_lease_ms bigint, p_token text, p_owned text) RETURNS SETOF ${p}runs LANGUAGE plpgsql
  SET enable_bitmapscan = off SET enable_seqscan = off
AS $$
DECLARE
  v_now bigint;
  v_queue ${p}queues%ROWTYPE;
  v_ids varchar[];
  v_found varchar[];
  v_running integer;
  v_mine integer;
  v_started integer;
  v_cap integer;
BEGIN
  PERFORM 1 FROM ${p}queues q WHERE q.name = ANY(p_queues) ORDER BY q.name FOR UPDATE;
  v_now := (extract(epoch from clock_timestamp()) * 1000)::bigint;
  SELECT coalesce(array_agg(x.id), '{}') INTO v_ids FROM (
    SELECT r.id FROM ${p}runs r
    WHERE r.status = 'pending' AND r.queue IS NULL AND r.run_at <= v_now AND r.job = ANY(p_jobs)
      AND (r.schedule IS NULL OR r.schedule = ANY(p_schedules))
    ORDER BY r.priority, r.run_at, r.id LIMIT p_limit FOR UPDATE SKIP LOCKED
  ) x;
  FOR v_queue IN SELECT * FROM ${p}queues q WHERE q.name = ANY(p_queues) AND q.paused = 0 ORDER BY q.name LOOP
    SELECT count(*), count(*) FILTER (WHERE starts_with(r.claim, p_owned)) INTO v_running, v_mine
    FROM ${p}runs r WHERE r.status = 'running' AND r.queue = v_queue.name;
    IF v_queue.rate_limit IS NOT NULL THEN
      DELETE FROM ${p}queue_starts s WHERE s.queue = v_queue.name AND s.started_at <= v_now - v_queue.rate_period_ms;
    END IF;
    v_cap := least(p_limit, coalesce(v_queue.worker_concurrency - v_mine, p_limit));
    CONTINUE WHEN v_cap <= 0;
    IF v_queue.partitioned = 0 THEN
      SELECT count(*) INTO v_started FROM ${p}queue_starts s WHERE s.queue = v_queue.name;
      v_cap := least(v_cap, coalesce(v_queue.concurrency - v_running, v_cap),
        coalesce(v_queue.rate_limit - v_started, v_cap));
      CONTINUE WHEN v_cap <= 0;
      SELECT coalesce(array_agg(x.id), '{}') INTO v_found FROM (
        SELECT r.id FROM ${p}runs r
        WHERE r.status = 'pending' AND r.queue = v_queue.name AND r.run_at <= v_now AND r.job = ANY(p_jobs)
          AND (r.schedule IS NULL OR r.schedule = ANY(p_schedules))
        ORDER BY r.priority, r.run_at, r.id LIMIT v_cap FOR UPDATE SKIP LOCKED
      ) x;
    ELSE
      -- the partitions with pending runs: a loose scan of the partitions index, one probe per key
      -- (runs without a key are the partition '')
      WITH RECURSIVE parts(part) AS (
        SELECT min(k.partition_key) FROM ${p}runs k WHERE k.status = 'pending' AND k.queue = v_queue.name
        UNION ALL
        SELECT (SELECT min(k.partition_key) FROM ${p}runs k
          WHERE k.status = 'pending' AND k.queue = v_queue.name AND k.partition_key > parts.part)
        FROM parts WHERE parts.part IS NOT NULL
      ), busy AS (
        SELECT coalesce(b.partition_key, '') AS part, count(*) AS n FROM ${p}runs b
        WHERE b.status = 'running' AND b.queue = v_queue.name GROUP BY 1
      ), recent AS (
        SELECT s.partition_key AS part, count(*) AS n FROM ${p}queue_starts s WHERE s.queue = v_queue.name GROUP BY 1
      ), room AS (
        SELECT keys.part, least(v_cap, coalesce(v_queue.concurrency - coalesce(busy.n, 0), v_cap),
          coalesce(v_queue.rate_limit - coalesce(recent.n, 0), v_cap)) AS n
        FROM (SELECT parts.part FROM parts WHERE parts.part IS NOT NULL UNION ALL SELECT '') keys
        LEFT JOIN busy ON busy.part = keys.part LEFT JOIN recent ON recent.part = keys.part
      ), heads AS (
        -- each partition's first due runs in claim order, as many as it has room for
        SELECT h.id, h.priority, h.run_at FROM room CROSS JOIN LATERAL (
          SELECT d.id, d.priority, d.run_at FROM ${p}runs d
          WHERE d.status = 'pending' AND d.queue = v_queue.name AND d.partition_key = room.part AND d.run_at <= v_now
            AND d.job = ANY(p_jobs) AND (d.schedule IS NULL OR d.schedule = ANY(p_schedules))
          ORDER BY d.priority, d.run_at, d.id LIMIT room.n
        ) h WHERE room.part <> '' AND room.n > 0
        UNION ALL
        SELECT h.id, h.priority, h.run_at FROM room CROSS JOIN LATERAL (
          SELECT d.id, d.priority, d.run_at FROM ${p}runs d
          WHERE d.status = 'pending' AND d.queue = v_queue.name AND d.partition_key IS NULL AND d.run_at <= v_now
            AND d.job = ANY(p_jobs) AND (d.schedule IS NULL OR d.schedule = ANY(p_schedules))
          ORDER BY d.priority, d.run_at, d.id LIMIT room.n
        ) h WHERE room.part = '' AND room.n > 0
      )
      SELECT coalesce(array_agg(x.id), '{}') INTO v_found FROM (
        SELECT r.id FROM ${p}runs r WHERE r.status = 'pending' AND r.id = ANY(ARRAY(
          SELECT heads.id FROM heads ORDER BY heads.priority, heads.run_at, heads.id LIMIT v_cap
        )) FOR UPDATE SKIP LOCKED
      ) x;
    END IF;
    v_ids := v_ids || v_found;
  END LOOP;
  v_now := (extract(epoch from clock_timestamp()) * 1000)::bigint;
  RETURN QUERY
  WITH chosen AS (
    SELECT r.id FROM ${p}runs r WHERE r.id = ANY(v_ids) ORDER BY r.priority, r.run_at, r.id LIMIT p_limit
  ), taken AS (
    UPDATE ${p}runs r SET status = 'running', claim = p_token || r.id, started_at = v_now, started_by = p_instance,
      lease_until = v_now + p_lease_ms,
      timeout_at = CASE WHEN r.run_timeout_ms = 0 THEN NULL ELSE v_now + r.run_timeout_ms END,
      run_total_count = r.run_total_count + 1
    WHERE r.id = ANY(ARRAY(SELECT chosen.id FROM chosen)) AND r.status = 'pending'
    RETURNING r.*
  ), recorded AS (
    INSERT INTO ${p}queue_starts (queue, partition_key, started_at)
    SELECT t.queue, CASE WHEN q.partitioned = 0 THEN '' ELSE coalesce(t.partition_key, '') END, v_now
    FROM taken t JOIN ${p}queues q ON q.name = t.queue WHERE q.rate_limit IS NOT NULL
  )
  SELECT * FROM taken;
END
$$`
]
