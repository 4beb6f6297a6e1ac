/*
 * The SQL API: saving and loading state documents, retention, statistics
 * and probes.  All implemented in C (src/state_store.c, src/retention.c,
 * src/stats.c); every statement they run names its tables with the schema
 * the function itself lives in, so no search_path can redirect them.
 *
 * The state document (save_snapshot's input, load_snapshot's output):
 *
 *   {"session":    {"session_id": text (required, not empty),
 *                   "start_time": epoch seconds | null,
 *                   "mode": text | null, "paper_campaign_id": text | null,
 *                   "config": object | null,
 *                   "loop_count": integer >= 0 (default 0),
 *                   "status": "running" | "stopped" | "crashed"
 *                             (default "running")},
 *    "positions":  {"active_orders": {KEY: {"trade": object | null,
 *                                           "order_a": object | null,
 *                                           "order_b": object | null,
 *                                           "position_open_time": epoch seconds | null}}},
 *    "metrics":    {"total_trades_opened", "total_trades_closed",
 *                   "total_winning_trades": integer >= 0 (default 0),
 *                   "total_pnl_usd", "max_dd_usd", "portfolio_initial_capital",
 *                   "portfolio_equity": number | null,
 *                   "per_symbol_pnl": {SYMBOL: number} | null,
 *                   "per_symbol_trades_opened", "per_symbol_trades_closed",
 *                   "per_symbol_winning_trades": {SYMBOL: integer >= 0} | null},
 *    "risk_guard": {"session_start_time": epoch seconds | null,
 *                   "daily_loss_usd": number | null,
 *                   "per_symbol_loss", "per_symbol_capital_used": {SYMBOL: number} | null,
 *                   "per_symbol_trades_rejected", "per_symbol_trades_allowed",
 *                   "per_symbol_position_count": {SYMBOL: integer >= 0} | null}}
 *
 * "session" is required; "positions", "metrics" and "risk_guard" may be
 * absent (no positions; a metrics row of zero counters and NULLs; a
 * risk_guard row of NULLs), so every snapshot has exactly one metrics and
 * one risk_guard row.  Unknown keys at any level are rejected.  Types are
 * strict: true is not 1, "5" is not 5, 5.5 is not an integer (5.0 is).
 * Epoch seconds are stored to the microsecond (further digits are rounded).
 * load_snapshot adds "snapshot_id", "created_at" (epoch seconds) and
 * "snapshot_type" at the top level; save_snapshot ignores those three keys,
 * so a loaded document can be saved again.  load(save(d)) @> d holds for
 * every valid d whose times have at most six decimals.
 *
 * Errors: SQLSTATE 22023 (invalid_parameter_value) for a malformed
 * document, 22003 (numeric_value_out_of_range) for an integer beyond
 * bigint, 22008 (datetime_field_overflow) for a time out of range; errdetail
 * names the JSON path, e.g. session.loop_count or
 * positions.active_orders.BTC.trade.  Nothing is written on error.
 */

CREATE FUNCTION save_snapshot(state jsonb, snapshot_type text DEFAULT 'periodic')
RETURNS bigint
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_save_snapshot';

COMMENT ON FUNCTION save_snapshot(jsonb, text)
	IS 'write a state document into the four snapshot tables in one statement; returns the new snapshot_id';

CREATE FUNCTION load_snapshot(session_id text)
RETURNS jsonb
LANGUAGE C STABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_load_snapshot';

COMMENT ON FUNCTION load_snapshot(text)
	IS 'the latest snapshot of a session as a state document (with snapshot_id, created_at, snapshot_type); NULL when there is none';

CREATE FUNCTION load_snapshot_by_id(snapshot_id bigint)
RETURNS jsonb
LANGUAGE C STABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_load_snapshot_by_id';

COMMENT ON FUNCTION load_snapshot_by_id(bigint)
	IS 'one snapshot as a state document; NULL when there is no such snapshot';

/*
 * Retention.  A snapshot expires when
 *
 *   created_at < now() - older_than
 *   AND status = ANY (statuses)
 *   AND NOT (status = 'running' AND it is the latest snapshot of its
 *            session, ordered by (created_at, snapshot_id))
 *
 * so including 'running' bounds the growth while every running session
 * keeps the snapshot it resumes from.  Children go with their snapshot; the
 * counts are the true numbers of rows deleted from each table.
 */
CREATE FUNCTION cleanup_old_snapshots_30d()
RETURNS TABLE(
	deleted_sessions integer,
	deleted_positions integer)
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_cleanup_old_snapshots_30d';

COMMENT ON FUNCTION cleanup_old_snapshots_30d()
	IS 'the report''s retention: delete stopped and crashed snapshots older than 30 days, with their children; true counts';

CREATE FUNCTION cleanup_old_snapshots(
	older_than interval DEFAULT '30 days',
	statuses text[] DEFAULT '{stopped,crashed}',
	dry_run boolean DEFAULT false)
RETURNS TABLE(
	deleted_sessions bigint,
	deleted_positions bigint,
	deleted_metrics bigint,
	deleted_risk_guard bigint)
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_cleanup_old_snapshots';

COMMENT ON FUNCTION cleanup_old_snapshots(interval, text[], boolean)
	IS 'delete (dry_run: count) snapshots older than older_than whose status is in statuses, keeping the latest snapshot of every running session; one transaction';

/*
 * Batched retention for operators and schedulers: commits after every
 * batch.  NULL arguments take snapshot_ops.retention_period and
 * snapshot_ops.cleanup_batch_size; snapshot_ops.retention_mode chooses the
 * statuses (finished: stopped, crashed; bounded: also superseded running
 * snapshots).  Must be CALLed outside a transaction block.
 */
CREATE PROCEDURE snapshot_ops.run_cleanup(
	older_than interval DEFAULT NULL,
	batch_size integer DEFAULT NULL)
LANGUAGE C
AS 'MODULE_PATHNAME', 'snapshot_ops_run_cleanup';

COMMENT ON PROCEDURE snapshot_ops.run_cleanup(interval, integer)
	IS 'delete expired snapshots in batches, committing each; defaults from snapshot_ops.retention_period, cleanup_batch_size and retention_mode';

/*
 * Statistics of the four tables.  Sizes in MB are exact (bytes / 2^20), and
 * total_size_mb = table_size_mb + toast_size_mb + index_size_mb =
 * pg_total_relation_size.  rows_past_retention: rows older than
 * snapshot_ops.retention_period that are kept because their session's
 * snapshot is running (the report's retention never deletes them).
 */
CREATE FUNCTION get_snapshot_table_stats()
RETURNS TABLE(
	table_name text,
	total_rows bigint,
	estimated_rows bigint,
	dead_rows bigint,
	table_size_mb numeric,
	toast_size_mb numeric,
	index_size_mb numeric,
	total_size_mb numeric,
	last_vacuum timestamptz,
	last_autovacuum timestamptz,
	last_analyze timestamptz,
	last_autoanalyze timestamptz,
	rows_past_retention bigint)
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_get_snapshot_table_stats';

COMMENT ON FUNCTION get_snapshot_table_stats()
	IS 'exact row counts, estimates, dead rows, sizes (table, toast, index, total in MB), last (auto)vacuum and (auto)analyze, and rows past retention kept for running sessions';

/*
 * Times the report's probes (latest snapshot by session_id; JSONB key
 * search trade_data ? 'symbol', counted) and the extension's hot paths
 * (load_snapshot; save_snapshot of the session's latest document rolled
 * back in a subtransaction, which consumes snapshot_id values) over
 * iterations runs (1 to 10000).  index_used lists the indexes in the plan
 * (EXPLAIN (FORMAT JSON)).
 */
CREATE FUNCTION test_query_performance(
	p_session_id text,
	iterations integer DEFAULT 1)
RETURNS TABLE(
	test_name text,
	execution_time_ms numeric,
	worst_time_ms numeric,
	iterations integer,
	index_used text,
	expected_index text,
	uses_expected_index boolean)
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_test_query_performance';

COMMENT ON FUNCTION test_query_performance(text, integer)
	IS 'median and worst time of the report''s probes and of load/save, and whether each used its index';

/*
 * The report's "projected growth": rows kept at steady state and their
 * size, from the measured bytes per row (table + toast + indexes) of the
 * existing data once a table has 1000 rows, documented defaults before
 * that (basis says which).
 */
CREATE FUNCTION snapshot_storage_projection(
	snapshots_per_day integer DEFAULT 100,
	positions_per_snapshot integer DEFAULT 10,
	retention_days integer DEFAULT 30)
RETURNS TABLE(
	table_name text,
	rows_per_day bigint,
	bytes_per_row numeric,
	retained_rows bigint,
	projected_size_mb numeric,
	basis text)
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_snapshot_storage_projection';

COMMENT ON FUNCTION snapshot_storage_projection(integer, integer, integer)
	IS 'steady-state rows and size per table for a given snapshot rate, positions per snapshot and retention';
