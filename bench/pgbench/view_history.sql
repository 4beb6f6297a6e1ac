-- view_history.sql: v_session_history of one session, newest 20
\set sid random(1, :nsessions)
SELECT * FROM v_session_history WHERE session_id = 'bench_:sid' LIMIT 20;
