-- Writes the pgbench scripts of the client-side baselines from the state
-- document in psql variable :doc (api_bench.sh): the report's StateStore
-- path (BEGIN, one INSERT per row, COMMIT) and its four SELECTs.
\pset tuples_only on
\pset format unaligned
\o :outdir/save_client.sql
WITH d AS (SELECT :'doc'::jsonb AS doc)
SELECT line FROM (
	SELECT 1 AS ord, '\set s random(1, ' || :nsessions || ')' AS line
	UNION ALL SELECT 2, 'BEGIN;'
	UNION ALL
	SELECT 3, format('INSERT INTO session_snapshots (session_id, session_start_time, mode, paper_campaign_id, config, loop_count, status, snapshot_type) VALUES (''sess_'' || :s, to_timestamp(%s), %L, %L, %L, %s, %L, ''periodic'') RETURNING snapshot_id \gset',
				  doc->'session'->>'start_time', doc->'session'->>'mode',
				  doc->'session'->>'paper_campaign_id', doc->'session'->>'config',
				  doc->'session'->>'loop_count', doc->'session'->>'status')
	  FROM d
	UNION ALL
	SELECT 4, format('INSERT INTO position_snapshots (snapshot_id, position_key, trade_data, order_a_data, order_b_data, position_open_time) VALUES (:snapshot_id, %L, %L, %L, %L, to_timestamp(%s));',
					 e.key, e.value->>'trade', e.value->>'order_a', e.value->>'order_b',
					 e.value->>'position_open_time')
	  FROM d, jsonb_each(d.doc->'positions'->'active_orders') e
	UNION ALL
	SELECT 5, format('INSERT INTO metrics_snapshots (snapshot_id, total_trades_opened, total_trades_closed, total_winning_trades, total_pnl_usd, max_dd_usd, portfolio_initial_capital, portfolio_equity, per_symbol_pnl, per_symbol_trades_opened, per_symbol_trades_closed, per_symbol_winning_trades) VALUES (:snapshot_id, %s, %s, %s, %s, %s, %s, %s, %L, %L, %L, %L);',
					 m->>'total_trades_opened', m->>'total_trades_closed', m->>'total_winning_trades',
					 m->>'total_pnl_usd', m->>'max_dd_usd', m->>'portfolio_initial_capital',
					 m->>'portfolio_equity', m->>'per_symbol_pnl', m->>'per_symbol_trades_opened',
					 m->>'per_symbol_trades_closed', m->>'per_symbol_winning_trades')
	  FROM (SELECT doc->'metrics' AS m FROM d) x
	UNION ALL
	SELECT 6, format('INSERT INTO risk_guard_snapshots (snapshot_id, session_start_time, daily_loss_usd, per_symbol_loss, per_symbol_trades_rejected, per_symbol_trades_allowed, per_symbol_capital_used, per_symbol_position_count) VALUES (:snapshot_id, to_timestamp(%s), %s, %L, %L, %L, %L, %L);',
					 r->>'session_start_time', r->>'daily_loss_usd', r->>'per_symbol_loss',
					 r->>'per_symbol_trades_rejected', r->>'per_symbol_trades_allowed',
					 r->>'per_symbol_capital_used', r->>'per_symbol_position_count')
	  FROM (SELECT doc->'risk_guard' AS r FROM d) y
	UNION ALL SELECT 7, 'COMMIT;'
) l ORDER BY ord;
\o :outdir/save_function.sql
SELECT '\set s random(1, ' || :nsessions || ')';
SELECT format('SELECT save_snapshot(replace(%L, ''SESSION'', ''sess_'' || :s)::jsonb);', :'doc');
\o
