-- view_details.sql: the report's monitoring query, as printed in the report
SELECT * FROM v_latest_snapshot_details LIMIT 10;
