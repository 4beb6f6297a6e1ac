-- load_report.sql: the report's read path, four SELECTs per load
\set sid random(1, :nsessions)
SELECT * FROM session_snapshots WHERE session_id = 'bench_:sid' ORDER BY created_at DESC LIMIT 1 \gset s_
SELECT * FROM position_snapshots WHERE snapshot_id = :s_snapshot_id;
SELECT * FROM metrics_snapshots WHERE snapshot_id = :s_snapshot_id;
SELECT * FROM risk_guard_snapshots WHERE snapshot_id = :s_snapshot_id;
