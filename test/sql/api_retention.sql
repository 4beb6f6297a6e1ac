--
-- Retention: which snapshots expire (the matrix below, exact counts for
-- every table), dry runs, the report's 30-day function, the bounded mode
-- that keeps the latest snapshot of running sessions, invalid arguments,
-- and snapshot_ops.run_cleanup() (its commits between batches are shown
-- by t/030_run_cleanup.pl).
--
CREATE EXTENSION snapshot_ops;

CREATE FUNCTION pg_temp.expect_error(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	d text;
BEGIN
	EXECUTE stmt;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' | ' || nullif(d, ''), '');
END
$$;

-- one snapshot aged `age`, with two positions, a metrics and a risk_guard row
CREATE FUNCTION pg_temp.add(sess text, st text, age interval, label text)
RETURNS void LANGUAGE sql AS $$
	WITH s AS (
		INSERT INTO session_snapshots (session_id, status, created_at, snapshot_type)
		VALUES (sess, st, now() - age, label) RETURNING snapshot_id),
	p AS (INSERT INTO position_snapshots (snapshot_id, position_key)
		  SELECT snapshot_id, k FROM s, (VALUES ('BTC'), ('ETH')) v(k)),
	m AS (INSERT INTO metrics_snapshots (snapshot_id) SELECT snapshot_id FROM s)
	INSERT INTO risk_guard_snapshots (snapshot_id) SELECT snapshot_id FROM s
$$;

CREATE FUNCTION pg_temp.counts() RETURNS text
LANGUAGE sql AS $$
SELECT format('sessions=%s positions=%s metrics=%s risk_guard=%s',
			  (SELECT count(*) FROM session_snapshots),
			  (SELECT count(*) FROM position_snapshots),
			  (SELECT count(*) FROM metrics_snapshots),
			  (SELECT count(*) FROM risk_guard_snapshots))
$$;

-- what is left, by label (snapshot_type carries a label per row)
CREATE FUNCTION pg_temp.left_over() RETURNS TABLE(session_id text, snapshots text)
LANGUAGE sql AS $$
SELECT session_id, string_agg(snapshot_type || ':' || status, ' ' ORDER BY snapshot_id)
  FROM session_snapshots GROUP BY session_id ORDER BY session_id COLLATE "C"
$$;

-- The matrix.  Ages in days; "latest" is the newest snapshot of its session.
SELECT pg_temp.add('run_old', 'running', '50 days', 'd50');
SELECT pg_temp.add('run_old', 'running', '45 days', 'd45');
SELECT pg_temp.add('run_old', 'running', '40 days', 'd40_latest');   -- kept: resumes from it
SELECT pg_temp.add('run_new', 'running', '40 days', 'd40');
SELECT pg_temp.add('run_new', 'running', '35 days', 'd35');
SELECT pg_temp.add('run_new', 'running', '5 days', 'd5_latest');
SELECT pg_temp.add('stopped', 'running', '40 days', 'd40');
SELECT pg_temp.add('stopped', 'stopped', '35 days', 'd35_latest');   -- finished: goes
SELECT pg_temp.add('crashed', 'crashed', '31 days', 'd31');
SELECT pg_temp.add('crashed', 'crashed', '29 days', 'd29_latest');
SELECT pg_temp.add('fresh', 'stopped', '1 day', 'd1_latest');
-- two running snapshots with the same created_at: snapshot_id breaks the tie
WITH t AS (SELECT now() - interval '40 days' AS at)
INSERT INTO session_snapshots (session_id, status, created_at, snapshot_type)
SELECT 'tie', 'running', t.at, l FROM t, (VALUES ('first'), ('second_latest')) v(l)
ORDER BY l;
SELECT pg_temp.counts();

-- dry runs count and change nothing
SELECT 'finished' AS rule, * FROM cleanup_old_snapshots('30 days', '{stopped,crashed}', true)
UNION ALL
SELECT 'bounded', * FROM cleanup_old_snapshots('30 days', '{running,stopped,crashed}', true)
UNION ALL
SELECT 'running only', * FROM cleanup_old_snapshots('30 days', '{running}', true)
UNION ALL
SELECT 'crashed, 30 min', * FROM cleanup_old_snapshots('30 minutes', '{crashed}', true)
UNION ALL
SELECT 'bounded, 60 days', * FROM cleanup_old_snapshots('60 days', '{running,stopped,crashed}', true)
UNION ALL
SELECT 'defaults', * FROM cleanup_old_snapshots(dry_run => true);
SELECT pg_temp.counts();

-- the report's function: stopped and crashed older than 30 days, true counts
BEGIN;
SELECT * FROM cleanup_old_snapshots_30d();
SELECT * FROM pg_temp.left_over();
SELECT pg_temp.counts();
ROLLBACK;

-- bounded: running snapshots go too, except the latest of each session
BEGIN;
SELECT * FROM cleanup_old_snapshots('30 days', '{running,stopped,crashed}');
SELECT * FROM pg_temp.left_over();
SELECT pg_temp.counts();
-- a second run finds nothing
SELECT * FROM cleanup_old_snapshots('30 days', '{running,stopped,crashed}');
ROLLBACK;

-- invalid input:
SELECT pg_temp.expect_error(stmt) FROM (VALUES
	($$SELECT cleanup_old_snapshots(NULL)$$),
	($$SELECT cleanup_old_snapshots('0 days')$$),
	($$SELECT cleanup_old_snapshots('-1 day')$$),
	($$SELECT cleanup_old_snapshots('1 mon -31 days')$$),
	($$SELECT cleanup_old_snapshots('30 days', NULL)$$),
	($$SELECT cleanup_old_snapshots('30 days', '{}')$$),
	($$SELECT cleanup_old_snapshots('30 days', '{stopped,NULL}')$$),
	($$SELECT cleanup_old_snapshots('30 days', '{stopped,paused}')$$),
	($$SELECT cleanup_old_snapshots('30 days', '{stopped}', NULL)$$),
	($$CALL snapshot_ops.run_cleanup('30 days', 0)$$),
	($$CALL snapshot_ops.run_cleanup('-30 days')$$),
	-- from a function: no COMMIT possible there
	($$CALL snapshot_ops.run_cleanup()$$)
) AS t(stmt);
SELECT pg_temp.counts();

-- inside a transaction block: refused with a clear message
\set VERBOSITY terse
BEGIN;
CALL snapshot_ops.run_cleanup();
ROLLBACK;

-- run_cleanup, finished mode, then bounded mode, in batches of 3 (the
-- NOTICE's detail carries timings, so only its message is shown)
SET snapshot_ops.retention_mode = 'finished';
CALL snapshot_ops.run_cleanup('30 days', 3);
SELECT * FROM pg_temp.left_over();
SET snapshot_ops.retention_mode = 'bounded';
CALL snapshot_ops.run_cleanup('30 days', 3);
SELECT * FROM pg_temp.left_over();
SELECT pg_temp.counts();
-- defaults from the GUCs: nothing older than snapshot_ops.retention_period is left
SET snapshot_ops.retention_period = '3 days';
SET snapshot_ops.cleanup_batch_size = 1;
CALL snapshot_ops.run_cleanup();
SELECT * FROM pg_temp.left_over();
RESET snapshot_ops.retention_period;
RESET snapshot_ops.cleanup_batch_size;
RESET snapshot_ops.retention_mode;
\set VERBOSITY default

DROP EXTENSION snapshot_ops;
