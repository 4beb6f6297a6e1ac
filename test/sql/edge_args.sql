--
-- Every SQL-callable function of snapshot_ops with NULLs, zero, negative and
-- huge sizes, huge intervals, unknown job names and unknown statuses: each
-- call either returns its documented result or fails with a clear error of
-- a specific SQLSTATE.  Never a crash, never XX000.
--
CREATE EXTENSION snapshot_ops;

-- e(statement): 'ok: <result>' or '<SQLSTATE>: <message>'; nothing the
-- statement does survives it
CREATE FUNCTION pg_temp.e(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	v text;
BEGIN
	BEGIN
		EXECUTE stmt INTO v;
		RAISE SQLSTATE 'SOOK0' USING MESSAGE = coalesce(left(v, 120), '<null>');
	EXCEPTION
		WHEN SQLSTATE 'SOOK0' THEN
			RETURN 'ok: ' || SQLERRM;
		WHEN OTHERS THEN
			RETURN SQLSTATE || ': ' || left(SQLERRM, 120);
	END;
END
$$;

-- one running session with two snapshots, one finished session
SELECT save_snapshot('{"session": {"session_id": "ea_1", "status": "running", "loop_count": 1}}', 'initial') AS first_id \gset
SELECT save_snapshot('{"session": {"session_id": "ea_1", "status": "running", "loop_count": 2}}') IS NOT NULL AS saved;
SELECT save_snapshot('{"session": {"session_id": "ea_2", "status": "stopped", "loop_count": 9}}', 'on_stop') IS NOT NULL AS saved;

SET statement_timeout = '20s';

-- save_snapshot
SELECT pg_temp.e($$SELECT save_snapshot(NULL)$$);
SELECT pg_temp.e($$SELECT save_snapshot(NULL, NULL)$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3"}}', NULL)$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3"}}', '')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3"}}', 'Periodic')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3"}}', repeat('x', 100000))$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3"}}', 'on_trade; DROP TABLE x')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('[]')$$);
SELECT pg_temp.e($$SELECT save_snapshot('null')$$);
SELECT pg_temp.e($$SELECT save_snapshot('"text"')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": null}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": ""}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": null}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": 42}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3", "status": "paused"}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3", "loop_count": -1}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3", "loop_count": 9223372036854775808}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3", "loop_count": 1.5}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3", "start_time": -1e308}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3", "start_time": 1e308}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3", "start_time": "yesterday"}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3", "config": [1]}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3"}, "positions": []}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3"}, "positions": {"active_orders": {"": {}}}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3"}, "positions": {"active_orders": {"K": 5}}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3"}, "metrics": {"total_trades_opened": -1}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3"}, "metrics": {"total_pnl_usd": "lots"}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3"}, "metrics": {"per_symbol_pnl": 5}}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3"}, "risk_guard": []}')$$);
SELECT pg_temp.e($$SELECT save_snapshot('{"session": {"session_id": "ea_3"}, "risk_guard": {"daily_loss_usd": true}}')$$);

-- load_snapshot, load_snapshot_by_id: NULL, unknown and extreme keys give NULL
SELECT pg_temp.e($$SELECT load_snapshot(NULL)$$);
SELECT pg_temp.e($$SELECT load_snapshot('')$$);
SELECT pg_temp.e($$SELECT load_snapshot('no_such_session')$$);
SELECT pg_temp.e($$SELECT load_snapshot(repeat('x', 1000000))$$);
SELECT pg_temp.e($$SELECT load_snapshot('ea_1')->'session'->>'loop_count'$$);
SELECT pg_temp.e($$SELECT load_snapshot_by_id(NULL)$$);
SELECT pg_temp.e($$SELECT load_snapshot_by_id(0)$$);
SELECT pg_temp.e($$SELECT load_snapshot_by_id(-1)$$);
SELECT pg_temp.e($$SELECT load_snapshot_by_id(9223372036854775807)$$);
SELECT pg_temp.e(format($$SELECT load_snapshot_by_id(%s)->'session'->>'loop_count'$$, :first_id));

-- cleanup_old_snapshots: the interval must be positive, statuses known
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots(NULL) c$$);
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots('30 days', NULL) c$$);
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots('30 days', '{stopped}', NULL) c$$);
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots('0') c$$);
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots('-1 day') c$$);
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots('1 month -31 days') c$$);
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots('1 microsecond', '{stopped}', true) c$$);
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots('1000000 years') c$$);
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots('178000000 years') c$$);
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots('30 days', '{}') c$$);
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots('30 days', '{paused}') c$$);
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots('30 days', '{stopped,NULL}') c$$);
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots('30 days', '{Stopped}') c$$);
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots('30 days', '{{stopped},{crashed}}') c$$);
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots('30 days', '{running}', true) c$$);
SELECT pg_temp.e($$SELECT row(c.*)::text FROM cleanup_old_snapshots_30d() c$$);
-- none of these removed anything
SELECT count(*) AS sessions_left FROM session_snapshots;

-- statistics and projections
SELECT pg_temp.e($$SELECT count(*) FROM get_snapshot_table_stats()$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_storage_projection(NULL, 10, 30)$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_storage_projection(100, NULL, 30)$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_storage_projection(100, 10, NULL)$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_storage_projection(0, 0, 0)$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_storage_projection(-1, 10, 30)$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_storage_projection(100, -1, 30)$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_storage_projection(100, 10, -1)$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_storage_projection(2147483647, 2147483647, 2147483647)$$);

-- the perf probe: iterations must be positive and bounded
SELECT pg_temp.e($$SELECT count(*) FROM test_query_performance(NULL, 1)$$);
SELECT pg_temp.e($$SELECT count(*) FROM test_query_performance('ea_1', NULL)$$);
SELECT pg_temp.e($$SELECT count(*) > 0 FROM test_query_performance('no_such_session', 1)$$);
SELECT pg_temp.e($$SELECT count(*) FROM test_query_performance('ea_1', 0)$$);
SELECT pg_temp.e($$SELECT count(*) FROM test_query_performance('ea_1', -1)$$);
SELECT pg_temp.e($$SELECT count(*) FROM test_query_performance('ea_1', 2147483647)$$);

-- cron_next_runs: bad schedules, zones and counts
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.cron_next_runs(NULL)$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.cron_next_runs('0 2 * * *', NULL)$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.cron_next_runs('0 2 * * *', now(), NULL)$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.cron_next_runs('')$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.cron_next_runs('61 * * * *')$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.cron_next_runs('* * 31 2 *')$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.cron_next_runs(repeat('1,', 100000) || '1 * * * *')$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.cron_next_runs('0 2 * * *', now(), 0)$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.cron_next_runs('0 2 * * *', now(), -1)$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.cron_next_runs('0 2 * * *', now(), 2147483647)$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.cron_next_runs('0 2 * * *', 'infinity', 1)$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.cron_next_runs('0 2 * * *', '-infinity', 1)$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.cron_next_runs('0 2 * * *', '294276-12-31 00:00+00', 1, 'UTC')$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.cron_next_runs('0 2 * * *', now(), 1, 'Mars/Olympus_Mons')$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.cron_next_runs('0 2 * * *', now(), 1, '')$$);

-- the admin API
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.worker_status()$$);
SELECT pg_temp.e($$SELECT snapshot_ops.run_job(NULL)$$);
SELECT pg_temp.e($$SELECT snapshot_ops.run_job('')$$);
SELECT pg_temp.e($$SELECT snapshot_ops.run_job('no_such_job')$$);
SELECT pg_temp.e($$SELECT snapshot_ops.run_job('Cleanup')$$);
SELECT pg_temp.e($$SELECT snapshot_ops.run_job(repeat('x', 100000))$$);
SELECT pg_temp.e($$SELECT snapshot_ops.run_job('cleanup', NULL)$$);
SELECT pg_temp.e($$SELECT snapshot_ops.grant_access(NULL, NULL)$$);
SELECT pg_temp.e($$SELECT snapshot_ops.revoke_access(NULL)$$);
SELECT pg_temp.e($$SELECT snapshot_ops.revoke_access(current_user::regrole, 'superuser')$$);
SELECT pg_temp.e($$SELECT count(*) FROM snapshot_ops.job_schedules()$$);
SELECT pg_temp.e($$SELECT vacuum_snapshot_tables() IS NOT NULL$$);
-- pg_cron is not installed in the test database
SELECT pg_temp.e($$SELECT snapshot_ops.schedule_with_pg_cron(NULL, NULL)$$);
SELECT pg_temp.e($$SELECT snapshot_ops.schedule_with_pg_cron('61 * * * *', '0 1 * * 0')$$);
SELECT pg_temp.e($$SELECT snapshot_ops.schedule_with_pg_cron('0 2 * * *', '0 1 * * 0')$$);
SELECT pg_temp.e($$SELECT snapshot_ops.unschedule_pg_cron()$$);

-- run_cleanup commits between batches and so runs at top level; its errors
-- are shown by SQLSTATE
\set VERBOSITY sqlstate
SET client_min_messages = warning;
CALL snapshot_ops.run_cleanup('-1 day', 10);
CALL snapshot_ops.run_cleanup('0', 10);
CALL snapshot_ops.run_cleanup('30 days', 0);
CALL snapshot_ops.run_cleanup('30 days', -5);
CALL snapshot_ops.run_cleanup('1000000 years', 10);
CALL snapshot_ops.run_cleanup(NULL, NULL);
CALL snapshot_ops.run_cleanup('30 days', 2147483647);
RESET client_min_messages;
\set VERBOSITY default

-- nothing above lost a row: the first snapshot of the running session is
-- younger than every interval used
SELECT session_id, status, loop_count FROM session_snapshots ORDER BY snapshot_id;

-- A caller's value is quoted in a message only up to 64 bytes (whole
-- characters) and "...": a 100 kB argument must not come back in the error,
-- nor fill the server log.  Shown whole, message and detail.
CREATE FUNCTION pg_temp.m(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	d text;
BEGIN
	EXECUTE stmt;
	RETURN 'no error';
EXCEPTION
	WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
		RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' | ' || nullif(d, ''), '');
END
$$;
SELECT pg_temp.m($$SELECT snapshot_ops.run_job(repeat('j', 100000))$$);
SELECT pg_temp.m($$SELECT save_snapshot('{"session": {"session_id": "ea_3"}}', repeat('T', 100000))$$);
SELECT pg_temp.m($$SELECT save_snapshot(jsonb_build_object('session', jsonb_build_object('session_id', 'ea_3', 'status', repeat('s', 100000))))$$);
SELECT pg_temp.m($$SELECT save_snapshot(jsonb_build_object('session', jsonb_build_object('session_id', 'ea_3', repeat('k', 100000), 1)))$$);
SELECT pg_temp.m($$SELECT save_snapshot(jsonb_build_object('session', jsonb_build_object('session_id', 'ea_3'), 'positions', jsonb_build_object('active_orders', jsonb_build_object(repeat('ü', 5000), '{}'::jsonb))))$$);
SELECT pg_temp.m($$SELECT save_snapshot(jsonb_build_object('session', jsonb_build_object('session_id', 'ea_3'), 'metrics', jsonb_build_object('per_symbol_pnl', jsonb_build_object(repeat('p', 100000), 'x'))))$$);
SELECT pg_temp.m($$SELECT * FROM cleanup_old_snapshots('30 days', ARRAY[repeat('c', 100000)], true)$$);
SELECT pg_temp.m($$SELECT * FROM snapshot_ops.cron_next_runs(repeat('1 ', 50000), now(), 1)$$);
-- the GIN rebuild threshold is a share: 0 (off) to 1
SELECT pg_temp.m($$SET snapshot_ops.gin_rebuild_threshold = 1.5$$);
SELECT pg_temp.m($$SET snapshot_ops.gin_rebuild_threshold = -0.1$$);
SELECT pg_temp.m($$SET snapshot_ops.gin_rebuild_threshold = 'half'$$);
-- a read-only transaction (as on a hot standby) refuses a save by name
BEGIN READ ONLY;
SELECT save_snapshot('{"session": {"session_id": "read_only"}}');
ROLLBACK;
-- and none of them wrote anything
SELECT count(*) AS snapshots FROM session_snapshots;

RESET statement_timeout;
DROP EXTENSION snapshot_ops;
