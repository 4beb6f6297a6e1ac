--
-- get_snapshot_table_stats() against count(*) and the size functions,
-- test_query_performance()'s shape (timings vary, so only their presence is
-- shown), and snapshot_storage_projection() on empty and filled tables.
--
CREATE EXTENSION snapshot_ops;

-- empty tables
SELECT table_name, total_rows, dead_rows, rows_past_retention,
	   total_size_mb = table_size_mb + toast_size_mb + index_size_mb AS sum_ok
  FROM get_snapshot_table_stats();
SELECT * FROM snapshot_storage_projection();
SELECT * FROM snapshot_storage_projection(0, 0, 0);
SELECT * FROM snapshot_storage_projection(1000, 20, 7);

-- 1200 snapshots of 4 sessions, 3 positions each; the older half is past the
-- 30-day retention; of those, the running ones are kept by the report's rule
INSERT INTO session_snapshots (session_id, status, created_at)
SELECT 's' || (g % 4), CASE WHEN g % 3 = 0 THEN 'stopped' ELSE 'running' END,
	   now() - make_interval(hours => g)
  FROM generate_series(1, 1200) g;
INSERT INTO position_snapshots (snapshot_id, position_key, trade_data)
SELECT snapshot_id, k, jsonb_build_object('symbol', k, 'qty', snapshot_id)
  FROM session_snapshots, (VALUES ('BTC'), ('ETH'), ('SOL')) v(k);
INSERT INTO metrics_snapshots (snapshot_id) SELECT snapshot_id FROM session_snapshots;
INSERT INTO risk_guard_snapshots (snapshot_id) SELECT snapshot_id FROM session_snapshots;
ANALYZE session_snapshots, position_snapshots, metrics_snapshots, risk_guard_snapshots;

SELECT count(*) AS past_and_running FROM session_snapshots
 WHERE created_at < now() - interval '30 days' AND status = 'running';

-- every figure checked against the catalog functions
SELECT st.table_name, st.total_rows, st.estimated_rows, st.rows_past_retention,
	   st.total_rows = CASE st.table_name
		 WHEN 'session_snapshots' THEN (SELECT count(*) FROM session_snapshots)
		 WHEN 'position_snapshots' THEN (SELECT count(*) FROM position_snapshots)
		 WHEN 'metrics_snapshots' THEN (SELECT count(*) FROM metrics_snapshots)
		 WHEN 'risk_guard_snapshots' THEN (SELECT count(*) FROM risk_guard_snapshots)
	   END AS count_ok,
	   st.total_size_mb * 1048576 = pg_total_relation_size(st.table_name::regclass) AS total_ok,
	   st.index_size_mb * 1048576 = pg_indexes_size(st.table_name::regclass) AS index_ok,
	   (st.table_size_mb + st.toast_size_mb) * 1048576 = pg_table_size(st.table_name::regclass) AS table_ok,
	   st.total_size_mb = st.table_size_mb + st.toast_size_mb + st.index_size_mb AS sum_ok,
	   st.last_analyze IS NOT NULL AS analyzed
  FROM get_snapshot_table_stats() st;

-- the probe: four rows, timings present, iterations echoed
SELECT test_name, execution_time_ms >= 0 AS timed, worst_time_ms >= execution_time_ms AS worst_ok,
	   iterations, expected_index, index_used IS NOT NULL AS has_plan
  FROM test_query_performance('s1', 3);
-- the rolled-back saves leave nothing behind
SELECT count(*) AS sessions FROM session_snapshots;
-- a session without snapshots still probes (a minimal document is saved and rolled back)
SELECT count(*) AS probes FROM test_query_performance('nobody');
SELECT count(*) AS sessions FROM session_snapshots;

-- measured basis once a table holds 1000 rows
SELECT table_name, rows_per_day, retained_rows, basis,
	   bytes_per_row = round(pg_total_relation_size(table_name::regclass)::numeric
							 / (SELECT total_rows FROM get_snapshot_table_stats() s
								 WHERE s.table_name = p.table_name), 1) AS bytes_ok
  FROM snapshot_storage_projection() p WHERE table_name <> 'total';
SELECT table_name, rows_per_day, retained_rows, basis,
	   -- the parts are rounded to 0.01 MB each
	   abs(projected_size_mb - (SELECT sum(projected_size_mb)
								  FROM snapshot_storage_projection() WHERE table_name <> 'total')) <= 0.02 AS total_ok
  FROM snapshot_storage_projection() WHERE table_name = 'total';

-- invalid input:
SELECT * FROM test_query_performance('s1', 0);
SELECT * FROM test_query_performance('s1', 10001);
SELECT * FROM test_query_performance(NULL);
SELECT * FROM snapshot_storage_projection(-1);
SELECT * FROM snapshot_storage_projection(100, NULL);
SELECT * FROM snapshot_storage_projection(2147483647, 2147483647, 2147483647);

DROP EXTENSION snapshot_ops;
