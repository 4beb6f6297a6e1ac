/*
 * report_schema.sql: the baseline, the design of the report the extension
 * was specified from (/work/shared/seed, "D72-3: PostgreSQL
 * Productionization"), loaded into its own database of the same server.
 *
 * The report names 9 of its 19 indexes and gives the count per table
 * (session_snapshots 7, position_snapshots 5, metrics_snapshots 3,
 * risk_guard_snapshots 4; "11 new + 8 existing").  The 10 it does not name
 * are reconstructed from those counts: primary keys, the UNIQUE
 * (snapshot_id, position_key) its StateStore relied on, and single-column
 * indexes on the columns its queries filter on.  Where the report leaves a
 * choice, the choice favours the baseline: every lookup its client path makes
 * has an index (metrics and risk_guard are keyed by snapshot_id), so the
 * comparison is against the report at its best, not a straw man.
 *
 * Column types are those of the extension's tables, so that the two
 * databases differ only in their indexes, their functions and the client
 * path that writes and reads them.
 */

CREATE TABLE session_snapshots (
	snapshot_id bigserial PRIMARY KEY,				-- 1 (existing)
	session_id text NOT NULL,
	session_start_time timestamptz,
	mode text,
	paper_campaign_id text,
	config jsonb,
	loop_count bigint NOT NULL DEFAULT 0,
	status text NOT NULL DEFAULT 'running',
	snapshot_type text NOT NULL DEFAULT 'periodic',
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_session_snapshots_session_id ON session_snapshots (session_id);	-- 2 (existing)
CREATE INDEX idx_session_snapshots_created_at ON session_snapshots (created_at);	-- 3 (existing)
CREATE INDEX idx_session_snapshots_status ON session_snapshots (status);			-- 4 (existing)
CREATE INDEX idx_session_snapshots_session_time
	ON session_snapshots (session_id, created_at DESC);							-- 5 (report)
CREATE INDEX idx_session_snapshots_type
	ON session_snapshots (snapshot_type, created_at DESC);						-- 6 (report)
CREATE INDEX idx_session_snapshots_status_created
	ON session_snapshots (status, created_at);									-- 7 (retention)

CREATE TABLE position_snapshots (
	id bigserial PRIMARY KEY,													-- 8 (existing)
	snapshot_id bigint NOT NULL REFERENCES session_snapshots ON DELETE CASCADE,
	position_key text NOT NULL,
	trade_data jsonb,
	order_a_data jsonb,
	order_b_data jsonb,
	position_open_time timestamptz,
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (snapshot_id, position_key)											-- 9 (existing)
);
CREATE INDEX idx_position_snapshots_snapshot_id ON position_snapshots (snapshot_id);	-- 10 (existing)
CREATE INDEX idx_position_snapshots_composite
	ON position_snapshots (snapshot_id, position_key);							-- 11 (report)
CREATE INDEX idx_position_snapshots_trade_data_gin
	ON position_snapshots USING gin (trade_data);								-- 12 (report)

CREATE TABLE metrics_snapshots (
	snapshot_id bigint PRIMARY KEY REFERENCES session_snapshots ON DELETE CASCADE,	-- 13 (existing)
	total_trades_opened bigint NOT NULL DEFAULT 0,
	total_trades_closed bigint NOT NULL DEFAULT 0,
	total_winning_trades bigint NOT NULL DEFAULT 0,
	total_pnl_usd numeric,
	max_dd_usd numeric,
	portfolio_initial_capital numeric,
	portfolio_equity numeric,
	per_symbol_pnl jsonb,
	per_symbol_trades_opened jsonb,
	per_symbol_trades_closed jsonb,
	per_symbol_winning_trades jsonb,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_metrics_snapshots_symbol_pnl_gin
	ON metrics_snapshots USING gin (per_symbol_pnl);								-- 14 (report)
CREATE INDEX idx_metrics_snapshots_symbol_trades_gin
	ON metrics_snapshots USING gin (per_symbol_trades_opened);					-- 15 (report)

CREATE TABLE risk_guard_snapshots (
	snapshot_id bigint PRIMARY KEY REFERENCES session_snapshots ON DELETE CASCADE,	-- 16 (report: new table)
	session_start_time timestamptz,
	daily_loss_usd numeric,
	per_symbol_loss jsonb,
	per_symbol_trades_rejected jsonb,
	per_symbol_trades_allowed jsonb,
	per_symbol_capital_used jsonb,
	per_symbol_position_count jsonb,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_risk_guard_snapshots_created
	ON risk_guard_snapshots (created_at DESC);									-- 17 (report)
CREATE INDEX idx_risk_guard_snapshots_symbol_loss_gin
	ON risk_guard_snapshots USING gin (per_symbol_loss);							-- 18 (report)
CREATE INDEX idx_risk_guard_snapshots_symbol_trades_gin
	ON risk_guard_snapshots USING gin (per_symbol_trades_rejected);				-- 19 (report)

/* The report's per-table autovacuum settings. */
ALTER TABLE session_snapshots SET (autovacuum_vacuum_scale_factor = 0.05,
	autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_cost_delay = 10);
ALTER TABLE position_snapshots SET (autovacuum_vacuum_scale_factor = 0.1,
	autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE metrics_snapshots SET (autovacuum_vacuum_scale_factor = 0.05,
	autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE risk_guard_snapshots SET (autovacuum_vacuum_scale_factor = 0.05,
	autovacuum_analyze_scale_factor = 0.02);

/*
 * The report's views.  v_latest_snapshots is used but not shown in the
 * report; this is the usual DISTINCT ON form.  The other two are the
 * report's text with the GROUP BY lists completed: as printed they select
 * columns they do not group by and PostgreSQL refuses to create them.
 */
CREATE VIEW v_latest_snapshots AS
SELECT DISTINCT ON (session_id) *
FROM session_snapshots
ORDER BY session_id, created_at DESC;

CREATE VIEW v_latest_snapshot_details AS
SELECT
	ss.snapshot_id,
	ss.session_id,
	ss.created_at,
	ms.total_pnl_usd,
	ms.portfolio_equity,
	rgs.daily_loss_usd,
	COUNT(ps.position_key) AS active_positions
FROM v_latest_snapshots ss
LEFT JOIN metrics_snapshots ms ON ss.snapshot_id = ms.snapshot_id
LEFT JOIN risk_guard_snapshots rgs ON ss.snapshot_id = rgs.snapshot_id
LEFT JOIN position_snapshots ps ON ss.snapshot_id = ps.snapshot_id
GROUP BY ss.snapshot_id, ss.session_id, ss.created_at, ms.total_pnl_usd,
	ms.portfolio_equity, rgs.daily_loss_usd;

CREATE VIEW v_session_history AS
SELECT
	ss.session_id,
	ss.created_at AS snapshot_time,
	ss.loop_count,
	ms.total_pnl_usd,
	ms.portfolio_equity,
	COUNT(ps.position_key) AS active_positions
FROM session_snapshots ss
LEFT JOIN metrics_snapshots ms ON ss.snapshot_id = ms.snapshot_id
LEFT JOIN position_snapshots ps ON ss.snapshot_id = ps.snapshot_id
GROUP BY ss.session_id, ss.created_at, ss.loop_count, ms.total_pnl_usd,
	ms.portfolio_equity
ORDER BY ss.session_id, ss.created_at DESC;

/* The report's retention function, verbatim but for a parameterised age. */
CREATE FUNCTION cleanup_old_snapshots_30d(older_than interval DEFAULT '30 days')
RETURNS TABLE(deleted_sessions integer, deleted_positions integer) AS $$
DECLARE
	deleted_sessions_count integer;
BEGIN
	WITH deleted AS (
		DELETE FROM session_snapshots
		WHERE created_at < NOW() - older_than
		  AND status IN ('stopped', 'crashed')
		RETURNING snapshot_id
	)
	SELECT COUNT(*) INTO deleted_sessions_count FROM deleted;

	RETURN QUERY SELECT deleted_sessions_count, 0;
END;
$$ LANGUAGE plpgsql;
