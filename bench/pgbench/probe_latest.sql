-- probe_latest.sql: the report's probe "latest snapshot by session"
\set sid random(1, :nsessions)
SELECT * FROM session_snapshots WHERE session_id = 'bench_:sid' ORDER BY created_at DESC LIMIT 1;
