/*
 * Views.  Each counts positions with a correlated subquery rather than a
 * join and GROUP BY, so that one snapshot is always one row (the report's
 * versions grouped by created_at, which merged snapshots saved in the same
 * transaction, and selected columns they did not group by).
 */

/* The latest snapshot of every session. */
CREATE VIEW v_latest_snapshots AS
SELECT DISTINCT ON (s.session_id)
	s.snapshot_id,
	s.session_id,
	s.session_start_time,
	s.mode,
	s.paper_campaign_id,
	s.loop_count,
	s.status,
	s.snapshot_type,
	s.created_at
FROM session_snapshots s
ORDER BY s.session_id, s.created_at DESC, s.snapshot_id DESC;

COMMENT ON VIEW v_latest_snapshots IS 'the latest snapshot of every session';

/* The latest snapshot of every session with its metrics and risk figures. */
CREATE VIEW v_latest_snapshot_details AS
SELECT
	l.snapshot_id,
	l.session_id,
	l.status,
	l.created_at,
	m.total_pnl_usd,
	m.portfolio_equity,
	r.daily_loss_usd,
	(SELECT pg_catalog.count(*)
	   FROM position_snapshots p
	  WHERE p.snapshot_id OPERATOR(pg_catalog.=) l.snapshot_id) AS active_positions
FROM v_latest_snapshots l
LEFT JOIN metrics_snapshots m ON m.snapshot_id OPERATOR(pg_catalog.=) l.snapshot_id
LEFT JOIN risk_guard_snapshots r ON r.snapshot_id OPERATOR(pg_catalog.=) l.snapshot_id;

COMMENT ON VIEW v_latest_snapshot_details IS 'latest snapshot of every session with PnL, equity, daily loss and position count';

/* Every snapshot of every session, newest first within a session. */
CREATE VIEW v_session_history AS
SELECT
	s.session_id,
	s.snapshot_id,
	s.created_at AS snapshot_time,
	s.snapshot_type,
	s.status,
	s.loop_count,
	m.total_pnl_usd,
	m.portfolio_equity,
	(SELECT pg_catalog.count(*)
	   FROM position_snapshots p
	  WHERE p.snapshot_id OPERATOR(pg_catalog.=) s.snapshot_id) AS active_positions
FROM session_snapshots s
LEFT JOIN metrics_snapshots m ON m.snapshot_id OPERATOR(pg_catalog.=) s.snapshot_id
ORDER BY s.session_id, s.created_at DESC, s.snapshot_id DESC;

COMMENT ON VIEW v_session_history IS 'every snapshot of every session, newest first';

/*
 * Index usage of the extension's tables, wherever the extension was
 * installed: the regclass constants are stored as OIDs.
 */
CREATE VIEW v_index_usage_stats AS
SELECT
	i.schemaname,
	i.relname AS tablename,
	i.indexrelname AS indexname,
	i.idx_scan AS index_scans,
	i.idx_tup_read AS tuples_read,
	i.idx_tup_fetch AS tuples_fetched,
	pg_catalog.pg_relation_size(i.indexrelid) AS index_size_bytes,
	pg_catalog.pg_size_pretty(pg_catalog.pg_relation_size(i.indexrelid)) AS index_size
FROM pg_catalog.pg_stat_user_indexes i
WHERE i.relid OPERATOR(pg_catalog.=) ANY (ARRAY[
	'session_snapshots'::regclass,
	'position_snapshots'::regclass,
	'metrics_snapshots'::regclass,
	'risk_guard_snapshots'::regclass]::oid[])
ORDER BY i.relname, i.indexrelname;

COMMENT ON VIEW v_index_usage_stats IS 'scans and size of every index of the snapshot tables';
