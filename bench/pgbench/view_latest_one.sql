-- view_latest_one.sql: v_latest_snapshots for one session
\set sid random(1, :nsessions)
SELECT * FROM v_latest_snapshots WHERE session_id = 'bench_:sid';
