/*
 * Schema: the four snapshot tables, their indexes and autovacuum settings.
 *
 * User data lives in the schema chosen by CREATE EXTENSION (@extschema@);
 * administrative objects live in the schema "snapshot_ops", created here
 * unless the extension itself is installed into it.
 */

DO $do$
BEGIN
	IF pg_catalog.current_schema() OPERATOR(pg_catalog.<>) 'snapshot_ops' THEN
		-- Plain CREATE SCHEMA: a pre-existing schema of that name, owned by
		-- somebody else, must make the installation fail rather than be
		-- silently adopted.
		CREATE SCHEMA snapshot_ops;
	END IF;
END
$do$;

COMMENT ON SCHEMA snapshot_ops IS 'snapshot_ops: administrative functions, job history and worker status';

/*
 * One row per saved state document.  The key is an identity column whose
 * sequence is registered for pg_dump below, so that keys handed out after a
 * restore never collide with restored ones.
 */
CREATE TABLE session_snapshots (
	snapshot_id bigint GENERATED ALWAYS AS IDENTITY,
	session_id text NOT NULL,
	session_start_time timestamptz,
	mode text,
	paper_campaign_id text,
	config jsonb,
	loop_count bigint NOT NULL DEFAULT 0,
	status text NOT NULL DEFAULT 'running',
	snapshot_type text NOT NULL DEFAULT 'periodic',
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT session_snapshots_pkey PRIMARY KEY (snapshot_id),
	CONSTRAINT session_snapshots_session_id_check
		CHECK (session_id OPERATOR(pg_catalog.<>) ''),
	CONSTRAINT session_snapshots_loop_count_check
		CHECK (loop_count OPERATOR(pg_catalog.>=) 0),
	CONSTRAINT session_snapshots_status_check
		CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['running', 'stopped', 'crashed'])),
	CONSTRAINT session_snapshots_snapshot_type_check
		CHECK (snapshot_type OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_]{0,62}$'),
	CONSTRAINT session_snapshots_config_check
		CHECK (config IS NULL OR pg_catalog.jsonb_typeof(config) OPERATOR(pg_catalog.=) 'object')
);

COMMENT ON TABLE session_snapshots IS 'one row per saved trading-engine state document';
COMMENT ON COLUMN session_snapshots.status IS 'running, stopped or crashed; retention by status only ever removes stopped and crashed sessions';
COMMENT ON COLUMN session_snapshots.snapshot_type IS 'why the snapshot was taken: initial, periodic, on_trade, on_stop, ... (lower-case identifier)';

/*
 * One row per open position of a snapshot.  The primary key doubles as the
 * report's composite index: it serves load_snapshot's lookup by snapshot_id
 * and the ON DELETE CASCADE from session_snapshots.
 */
CREATE TABLE position_snapshots (
	snapshot_id bigint NOT NULL,
	position_key text NOT NULL,
	trade_data jsonb,
	order_a_data jsonb,
	order_b_data jsonb,
	position_open_time timestamptz,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT idx_position_snapshots_composite PRIMARY KEY (snapshot_id, position_key),
	CONSTRAINT position_snapshots_snapshot_id_fkey FOREIGN KEY (snapshot_id)
		REFERENCES session_snapshots (snapshot_id) ON DELETE CASCADE,
	CONSTRAINT position_snapshots_position_key_check
		CHECK (position_key OPERATOR(pg_catalog.<>) '')
);

COMMENT ON TABLE position_snapshots IS 'open positions of a snapshot, one row per position key';

/* Exactly one metrics row per snapshot: the key is the foreign key. */
CREATE TABLE metrics_snapshots (
	snapshot_id bigint NOT NULL,
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
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT metrics_snapshots_pkey PRIMARY KEY (snapshot_id),
	CONSTRAINT metrics_snapshots_snapshot_id_fkey FOREIGN KEY (snapshot_id)
		REFERENCES session_snapshots (snapshot_id) ON DELETE CASCADE,
	CONSTRAINT metrics_snapshots_counters_check
		CHECK (total_trades_opened OPERATOR(pg_catalog.>=) 0
			   AND total_trades_closed OPERATOR(pg_catalog.>=) 0
			   AND total_winning_trades OPERATOR(pg_catalog.>=) 0)
);

COMMENT ON TABLE metrics_snapshots IS 'trading metrics of a snapshot, exactly one row per snapshot';

/* Exactly one risk-guard row per snapshot. */
CREATE TABLE risk_guard_snapshots (
	snapshot_id bigint NOT NULL,
	session_start_time timestamptz,
	daily_loss_usd numeric,
	per_symbol_loss jsonb,
	per_symbol_trades_rejected jsonb,
	per_symbol_trades_allowed jsonb,
	per_symbol_capital_used jsonb,
	per_symbol_position_count jsonb,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT risk_guard_snapshots_pkey PRIMARY KEY (snapshot_id),
	CONSTRAINT risk_guard_snapshots_snapshot_id_fkey FOREIGN KEY (snapshot_id)
		REFERENCES session_snapshots (snapshot_id) ON DELETE CASCADE
);

COMMENT ON TABLE risk_guard_snapshots IS 'risk-guard state of a snapshot, exactly one row per snapshot';

/*
 * Indexes.  Each one serves a query this extension or its views run:
 *
 * idx_session_snapshots_session_time  load_snapshot(session_id), v_latest_snapshots,
 *                                     the report's "latest snapshot by session" probe;
 *                                     snapshot_id breaks ties between snapshots
 *                                     saved in one transaction (same created_at)
 * idx_session_snapshots_type          snapshots of one type in time order
 * idx_session_snapshots_retention     the retention scan (created_at < cutoff),
 *                                     with status and session_id so that the
 *                                     candidates are found from the index alone
 * idx_position_snapshots_composite    (primary key) positions of a snapshot, cascade
 * idx_*_gin                           the report's JSONB key searches (? and @>)
 * idx_risk_guard_snapshots_created    risk-guard history in time order
 */
CREATE INDEX idx_session_snapshots_session_time
	ON session_snapshots (session_id, created_at DESC, snapshot_id DESC);
CREATE INDEX idx_session_snapshots_type
	ON session_snapshots (snapshot_type, created_at DESC);
CREATE INDEX idx_session_snapshots_retention
	ON session_snapshots (created_at) INCLUDE (status, session_id);
CREATE INDEX idx_position_snapshots_trade_data_gin
	ON position_snapshots USING gin (trade_data);
CREATE INDEX idx_metrics_snapshots_symbol_pnl_gin
	ON metrics_snapshots USING gin (per_symbol_pnl);
CREATE INDEX idx_metrics_snapshots_symbol_trades_gin
	ON metrics_snapshots USING gin (per_symbol_trades_opened);
CREATE INDEX idx_risk_guard_snapshots_created
	ON risk_guard_snapshots (created_at DESC);
CREATE INDEX idx_risk_guard_snapshots_symbol_loss_gin
	ON risk_guard_snapshots USING gin (per_symbol_loss);
CREATE INDEX idx_risk_guard_snapshots_symbol_trades_gin
	ON risk_guard_snapshots USING gin (per_symbol_trades_rejected);

/*
 * Per-table autovacuum settings from the report.  Kept here (and in every
 * update script that changes them) because pg_dump does not dump reloptions
 * of extension member tables.
 */
ALTER TABLE session_snapshots SET (
	autovacuum_vacuum_scale_factor = 0.05,
	autovacuum_analyze_scale_factor = 0.02,
	autovacuum_vacuum_cost_delay = 10
);
ALTER TABLE position_snapshots SET (
	autovacuum_vacuum_scale_factor = 0.1,
	autovacuum_analyze_scale_factor = 0.05
);
ALTER TABLE metrics_snapshots SET (
	autovacuum_vacuum_scale_factor = 0.05,
	autovacuum_analyze_scale_factor = 0.02
);
ALTER TABLE risk_guard_snapshots SET (
	autovacuum_vacuum_scale_factor = 0.05,
	autovacuum_analyze_scale_factor = 0.02
);

/*
 * Register the tables and the key sequence for pg_dump: without this, a dump
 * of the database would recreate the extension but lose every row.
 */
SELECT pg_catalog.pg_extension_config_dump('session_snapshots', '');
SELECT pg_catalog.pg_extension_config_dump('position_snapshots', '');
SELECT pg_catalog.pg_extension_config_dump('metrics_snapshots', '');
SELECT pg_catalog.pg_extension_config_dump('risk_guard_snapshots', '');
SELECT pg_catalog.pg_extension_config_dump(
	pg_catalog.pg_get_serial_sequence('session_snapshots', 'snapshot_id'), '');
