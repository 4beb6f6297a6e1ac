-- A realistic state document with :npos positions (psql variable), printed
-- as one line; api_bench.sh pastes it into the pgbench scripts.
SELECT jsonb_build_object(
	'session', jsonb_build_object(
		'session_id', 'SESSION', 'start_time', 1700000000.25, 'mode', 'paper',
		'paper_campaign_id', 'campaign-42',
		'config', jsonb_build_object('symbols', jsonb_build_array('BTC', 'ETH', 'SOL'),
									 'max_positions', 10, 'leverage', 3, 'strategy', 'arb-v2'),
		'loop_count', 12345, 'status', 'running'),
	'positions', jsonb_build_object('active_orders', (
		SELECT jsonb_object_agg('SYM' || i, jsonb_build_object(
			'trade', jsonb_build_object('symbol', 'SYM' || i, 'side', 'long', 'qty', i * 0.5,
										'entry_px', 64000.5 + i, 'exchange_a', 'binance', 'exchange_b', 'bybit'),
			'order_a', jsonb_build_object('id', 'A-' || i, 'px', 64000.5 + i, 'qty', i * 0.5, 'status', 'filled'),
			'order_b', jsonb_build_object('id', 'B-' || i, 'px', 64010.5 + i, 'qty', i * 0.5, 'status', 'filled'),
			'position_open_time', 1700000100.5 + i))
		  FROM generate_series(1, :npos) i)),
	'metrics', jsonb_build_object(
		'total_trades_opened', 120, 'total_trades_closed', 110, 'total_winning_trades', 70,
		'total_pnl_usd', 1234.56, 'max_dd_usd', -250.5, 'portfolio_initial_capital', 10000,
		'portfolio_equity', 11234.56,
		'per_symbol_pnl', jsonb_build_object('BTC', 800.5, 'ETH', 300.25, 'SOL', 133.81),
		'per_symbol_trades_opened', jsonb_build_object('BTC', 60, 'ETH', 40, 'SOL', 20),
		'per_symbol_trades_closed', jsonb_build_object('BTC', 55, 'ETH', 37, 'SOL', 18),
		'per_symbol_winning_trades', jsonb_build_object('BTC', 35, 'ETH', 25, 'SOL', 10)),
	'risk_guard', jsonb_build_object(
		'session_start_time', 1700000000, 'daily_loss_usd', 120.5,
		'per_symbol_loss', jsonb_build_object('BTC', 50, 'ETH', 70.5),
		'per_symbol_trades_rejected', jsonb_build_object('BTC', 2),
		'per_symbol_trades_allowed', jsonb_build_object('BTC', 60, 'ETH', 40),
		'per_symbol_capital_used', jsonb_build_object('BTC', 5000, 'ETH', 3000),
		'per_symbol_position_count', jsonb_build_object('BTC', 1, 'ETH', 1)))::text;
