-- view_latest_all.sql: v_latest_snapshots, every session (a dashboard)
SELECT * FROM v_latest_snapshots;
