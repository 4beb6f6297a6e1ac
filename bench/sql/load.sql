/*
 * load.sql: bulk load of snapshots :from .. :to straight into the four
 * tables (INSERT ... SELECT generate_series), identical in both databases.
 *
 * psql variables:
 *   from, to       snapshot ordinals (they become the snapshot_ids)
 *   nsessions      sessions the snapshots are spread over, round robin
 *   npos           positions per snapshot
 *   t0, step_ms    created_at of snapshot i is t0 + i * step_ms
 *   stopped_upto   snapshots 1 .. stopped_upto have status "stopped",
 *                  the others "running"
 *
 * Foreign keys are not checked while loading (session_replication_role):
 * the data are consistent by construction, and checking 10 million rows
 * one by one would measure the loader, not the store.
 */
\set ON_ERROR_STOP on
SET session_replication_role = replica;
SET maintenance_work_mem = '512MB';
SET work_mem = '64MB';

BEGIN;

INSERT INTO session_snapshots
	(snapshot_id, session_id, session_start_time, mode, paper_campaign_id,
	 config, loop_count, status, snapshot_type, created_at)
OVERRIDING SYSTEM VALUE
SELECT i,
	   'bench_' || (i % :nsessions + 1),
	   :'t0'::timestamptz + (i % :nsessions) * interval '1 second',
	   'paper',
	   'campaign_' || (i % 7),
	   jsonb_build_object(
		   'symbols', (SELECT jsonb_agg(bench.sym(i + k)) FROM generate_series(0, :npos - 1) k),
		   'exchanges', jsonb_build_array('binance', 'bybit'),
		   'max_positions', :npos, 'min_spread_bps', 8,
		   'order_size_usd', 5000, 'loop_interval_ms', 250),
	   i / :nsessions,
	   CASE WHEN i <= :stopped_upto THEN 'stopped' ELSE 'running' END,
	   'periodic',
	   :'t0'::timestamptz + i * :step_ms::float8 * interval '1 millisecond'
FROM generate_series(:from, :to) i;

INSERT INTO position_snapshots
	(snapshot_id, position_key, trade_data, order_a_data, order_b_data,
	 position_open_time, created_at)
SELECT i, p.sym,
	   jsonb_build_object(
		   'symbol', p.sym, 'side', CASE WHEN (i + k) % 2 = 0 THEN 'long' ELSE 'short' END,
		   'qty', p.qty, 'entry_price_a', p.price, 'entry_price_b', p.price + 1.5,
		   'entry_spread_bps', 8 + (i + k) % 20, 'exchange_a', 'binance',
		   'exchange_b', 'bybit', 'notional_usd', 5000, 'trade_id', 't_' || i || '_' || k)
	   || CASE WHEN (i * :npos + k) % 1000 = 0
			   THEN jsonb_build_object('liquidation', jsonb_build_object('price', p.price * 0.8))
			   ELSE '{}'::jsonb END,
	   jsonb_build_object(
		   'order_id', 'a_' || i || '_' || k, 'exchange', 'binance', 'symbol', p.sym,
		   'side', 'buy', 'type', 'limit', 'price', p.price, 'qty', p.qty,
		   'filled_qty', p.qty, 'status', 'filled', 'fee_usd', 1.25),
	   jsonb_build_object(
		   'order_id', 'b_' || i || '_' || k, 'exchange', 'bybit', 'symbol', p.sym,
		   'side', 'sell', 'type', 'limit', 'price', p.price + 1.5, 'qty', p.qty,
		   'filled_qty', p.qty, 'status', 'filled', 'fee_usd', 1.30),
	   :'t0'::timestamptz + i * :step_ms::float8 * interval '1 millisecond' - k * interval '1 minute',
	   :'t0'::timestamptz + i * :step_ms::float8 * interval '1 millisecond'
FROM generate_series(:from, :to) i,
	 generate_series(0, :npos - 1) k,
	 LATERAL (SELECT bench.sym(i + k) AS sym,
					 100 + ((i * 7 + k * 13) % 1000) + 0.25 AS price,
					 round(5000.0 / (100 + ((i * 7 + k * 13) % 1000)), 4) AS qty) p;

INSERT INTO metrics_snapshots
	(snapshot_id, total_trades_opened, total_trades_closed, total_winning_trades,
	 total_pnl_usd, max_dd_usd, portfolio_initial_capital, portfolio_equity,
	 per_symbol_pnl, per_symbol_trades_opened, per_symbol_trades_closed,
	 per_symbol_winning_trades, created_at)
SELECT i, i % 5000, i % 4000, i % 2500,
	   ((i * 37) % 20000) - 10000 + 0.5, (i * 11) % 3000 + 0.25, 100000,
	   100000 + ((i * 37) % 20000) - 10000 + 0.5,
	   bench.symbol_map(i, 37, 11, :npos), bench.symbol_map(i, 3, 7, :npos),
	   bench.symbol_map(i, 5, 3, :npos), bench.symbol_map(i, 2, 1, :npos),
	   :'t0'::timestamptz + i * :step_ms::float8 * interval '1 millisecond'
FROM generate_series(:from, :to) i;

INSERT INTO risk_guard_snapshots
	(snapshot_id, session_start_time, daily_loss_usd, per_symbol_loss,
	 per_symbol_trades_rejected, per_symbol_trades_allowed,
	 per_symbol_capital_used, per_symbol_position_count, created_at)
SELECT i, :'t0'::timestamptz + (i % :nsessions) * interval '1 second',
	   (i * 13) % 2000 + 0.5,
	   bench.symbol_map(i, 13, 17, :npos), bench.symbol_map(i, 1, 1, :npos),
	   bench.symbol_map(i, 9, 5, :npos), bench.symbol_map(i, 41, 29, :npos),
	   bench.symbol_map(i, 1, 0, :npos),
	   :'t0'::timestamptz + i * :step_ms::float8 * interval '1 millisecond'
FROM generate_series(:from, :to) i;

SELECT setval(pg_get_serial_sequence('session_snapshots', 'snapshot_id'),
			  (SELECT max(snapshot_id) FROM session_snapshots));

COMMIT;
