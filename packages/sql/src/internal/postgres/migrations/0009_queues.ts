/**
 * PostgreSQL migration 9 (`9_queues`): flow control. Each run gets its queue, priority and partition
 * key; the queues table holds each queue's stored definition and paused flag, and the starts table
 * the attempt starts of rate-limited queues (a sliding window, pruned by the claim). Pending runs in
 * no queue are indexed in claim order (priority, then due time), those of queues per queue, and
 * running runs of queues per queue and partition (the claim counts them). The claim function of
 * migration 4 is replaced: it takes runs in no queue only, lowest priority first, walking the index
 * one priority at a time. The claim of a claimer that names queues is one statement too, the
 * function `claim_queued` (the same steps as the other dialects' transaction, `store/queueClaim.ts`).
 * A run of a queue that stops running notifies the wake-up channel: a freed slot is taken at once.
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
$$`,
  // Locks the rows of the claimer's queues in name order (the claims of one queue happen one after
  // the other), then reads the clock: a claim that waited for a lock counts the starts of the claims
  // before it. It reads the clock again for the claim's time, after the counts: a claim starts after
  // every settlement its counts saw. Per queue that is not paused: its running runs (per partition, and this instance's by
  // the claim's prefix p_owned), its starts in the rate window (older ones pruned), and its due runs
  // within the free slots (each partition's first, in claim order). Runs in no queue as the plain
  // claim. The candidates in claim order, the first p_limit taken; the starts of rate-limited queues
  // recorded.
  // a run of a queue that stops running frees a slot: the instances waiting on it claim at once (a run
  // that becomes pending again notifies by the trigger of migration 1)
  `DROP TRIGGER IF EXISTS "${p}runs_notify_slot" ON "${p}runs"`,
  `CREATE TRIGGER "${p}runs_notify_slot" AFTER UPDATE OF status ON "${p}runs" FOR EACH ROW
          WHEN (OLD.status = 'running' AND NEW.status <> 'pending' AND NEW.queue IS NOT NULL) EXECUTE FUNCTION "${p}runs_notify"()`,
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
      SELECT coalesce(array_agg(x.id), '{}') INTO v_found FROM (
        SELECT r.id FROM ${p}runs r WHERE r.status = 'pending' AND r.id = ANY(ARRAY(
          WITH due AS (
            SELECT d.id, d.priority, d.run_at, coalesce(d.partition_key, '') AS part, row_number() OVER (
              PARTITION BY coalesce(d.partition_key, '') ORDER BY d.priority, d.run_at, d.id) AS rn
            FROM ${p}runs d
            WHERE d.status = 'pending' AND d.queue = v_queue.name AND d.run_at <= v_now AND d.job = ANY(p_jobs)
              AND (d.schedule IS NULL OR d.schedule = ANY(p_schedules))
          ), busy AS (
            SELECT coalesce(b.partition_key, '') AS part, count(*) AS n FROM ${p}runs b
            WHERE b.status = 'running' AND b.queue = v_queue.name GROUP BY 1
          ), recent AS (
            SELECT s.partition_key AS part, count(*) AS n FROM ${p}queue_starts s WHERE s.queue = v_queue.name GROUP BY 1
          )
          SELECT due.id FROM due LEFT JOIN busy ON busy.part = due.part LEFT JOIN recent ON recent.part = due.part
          WHERE due.rn <= least(coalesce(v_queue.concurrency - coalesce(busy.n, 0), v_cap),
            coalesce(v_queue.rate_limit - coalesce(recent.n, 0), v_cap))
          ORDER BY due.priority, due.run_at, due.id LIMIT v_cap
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
