--
-- save_snapshot / load_snapshot / load_snapshot_by_id: round trips, the
-- document's defaults, and one malformed document per kind of mistake, each
-- with its SQLSTATE, message and the JSON path in the detail, and nothing
-- written.
--
CREATE EXTENSION snapshot_ops;

-- SQLSTATE, message and detail of a statement that must fail
CREATE FUNCTION pg_temp.expect_error(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	d text;
BEGIN
	EXECUTE stmt;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' | ' || nullif(d, ''), '');
END
$$;

-- rows in the four tables
CREATE FUNCTION pg_temp.table_counts() RETURNS text
LANGUAGE sql AS $$
SELECT format('sessions=%s positions=%s metrics=%s risk_guard=%s',
			  (SELECT count(*) FROM session_snapshots),
			  (SELECT count(*) FROM position_snapshots),
			  (SELECT count(*) FROM metrics_snapshots),
			  (SELECT count(*) FROM risk_guard_snapshots))
$$;

-- a document without the keys load_snapshot adds
CREATE FUNCTION pg_temp.content(doc jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT doc - '{snapshot_id,created_at,snapshot_type}'::text[] $$;

-- round trip of a full document: every key given, so what comes back
-- (without snapshot_id, created_at, snapshot_type) is exactly the input
\set full '{"session": {"session_id": "sess-full", "start_time": 1700000000.123456, "mode": "paper", "paper_campaign_id": "camp-7", "config": {"symbols": ["BTC", "ETH"], "max_positions": 3, "nested": {"x": null}}, "loop_count": 42, "status": "running"}, "positions": {"active_orders": {"BTC": {"trade": {"symbol": "BTC", "qty": 0.5}, "order_a": {"id": "a1", "px": 64000.5}, "order_b": null, "position_open_time": 1700000100.5}, "ETH": {"trade": {"symbol": "ETH"}, "order_a": null, "order_b": {"id": "b2"}, "position_open_time": null}}}, "metrics": {"total_trades_opened": 10, "total_trades_closed": 8, "total_winning_trades": 5, "total_pnl_usd": 123.456789012345678901, "max_dd_usd": -50.25, "portfolio_initial_capital": 10000, "portfolio_equity": 10123.45, "per_symbol_pnl": {"BTC": 100.5, "ETH": -3}, "per_symbol_trades_opened": {"BTC": 6, "ETH": 4}, "per_symbol_trades_closed": {"BTC": 5}, "per_symbol_winning_trades": {"BTC": 3}}, "risk_guard": {"session_start_time": 1700000000, "daily_loss_usd": 12.5, "per_symbol_loss": {"ETH": 3}, "per_symbol_trades_rejected": {"BTC": 1}, "per_symbol_trades_allowed": {"BTC": 6}, "per_symbol_capital_used": {"BTC": 5000.25}, "per_symbol_position_count": {"BTC": 1, "ETH": 1}}}'
SELECT save_snapshot(:'full') > 0 AS saved;
SELECT pg_temp.content(load_snapshot('sess-full')) = :'full'::jsonb AS equal,
	   load_snapshot('sess-full') @> :'full'::jsonb AS contains;
SELECT load_snapshot('sess-full')->>'snapshot_type' AS snapshot_type,
	   (load_snapshot('sess-full')->>'created_at')::numeric
		 = extract(epoch FROM (SELECT created_at FROM session_snapshots
								WHERE session_id = 'sess-full')) AS created_at_matches;
-- what the tables hold
SELECT session_id, session_start_time AT TIME ZONE 'UTC' AS start_utc, mode,
	   paper_campaign_id, loop_count, status, snapshot_type
  FROM session_snapshots WHERE session_id = 'sess-full';
SELECT position_key, trade_data, order_a_data, order_b_data,
	   position_open_time AT TIME ZONE 'UTC' AS open_utc
  FROM position_snapshots ORDER BY position_key COLLATE "C";
SELECT total_trades_opened, total_pnl_usd, per_symbol_pnl FROM metrics_snapshots;
SELECT session_start_time AT TIME ZONE 'UTC' AS start_utc, per_symbol_position_count
  FROM risk_guard_snapshots;

-- load_snapshot_by_id gives the same document
SELECT load_snapshot_by_id((load_snapshot('sess-full')->>'snapshot_id')::bigint)
	   = load_snapshot('sess-full') AS same;
SELECT load_snapshot('no-such-session') IS NULL AS none,
	   load_snapshot_by_id(-1) IS NULL AS none_by_id,
	   load_snapshot(NULL) IS NULL AS null_in;

-- a loaded document saves again as is (the keys load adds are ignored)
SELECT save_snapshot(load_snapshot('sess-full'), 'on_stop') > 0 AS resaved;
SELECT pg_temp.content(load_snapshot('sess-full')) = :'full'::jsonb AS equal,
	   load_snapshot('sess-full')->>'snapshot_type' AS snapshot_type;

-- minimal document: defaults, one metrics and one risk_guard row
SELECT save_snapshot('{"session": {"session_id": "sess-min"}}', 'initial') > 0 AS saved;
SELECT jsonb_pretty(pg_temp.content(load_snapshot('sess-min')));
SELECT s.snapshot_type,
	   (SELECT count(*) FROM metrics_snapshots m WHERE m.snapshot_id = s.snapshot_id) AS metrics,
	   (SELECT count(*) FROM risk_guard_snapshots r WHERE r.snapshot_id = s.snapshot_id) AS risk_guard,
	   (SELECT count(*) FROM position_snapshots p WHERE p.snapshot_id = s.snapshot_id) AS positions
  FROM session_snapshots s WHERE s.session_id = 'sess-min';
-- empty sections are fine too
SELECT save_snapshot('{"session": {"session_id": "sess-empty", "status": "stopped"}, "positions": {}, "metrics": {}, "risk_guard": {}}') > 0 AS saved;
SELECT load_snapshot('sess-empty') @> '{"session": {"status": "stopped"}, "positions": {"active_orders": {}}}' AS ok;

-- unicode in ids, keys and values
SELECT $j${"session": {"session_id": "세션-①-ü", "mode": "paper \"quoted\" \\ back", "config": {"note": "😀 emoji", "ключ": "значение"}}, "positions": {"active_orders": {"BTC/USDT ✓": {"trade": {"symbol": "BTC/USDT ✓", "memo": "日本語"}}}}}$j$ AS uni \gset
SELECT save_snapshot(:'uni') > 0 AS saved;
SELECT load_snapshot('세션-①-ü') @> :'uni'::jsonb AS contains;
SELECT load_snapshot('세션-①-ü')->'session'->>'mode' AS mode,
	   jsonb_object_keys(load_snapshot('세션-①-ü')->'positions'->'active_orders') AS position_key;

-- times: microseconds kept, finer digits rounded, 5.0 is an integer
SELECT save_snapshot('{"session": {"session_id": "sess-time", "start_time": 1.0000005, "loop_count": 5.0}}') > 0 AS saved;
SELECT load_snapshot('sess-time')->'session'->'start_time' AS start_time,
	   load_snapshot('sess-time')->'session'->'loop_count' AS loop_count;
SELECT save_snapshot('{"session": {"session_id": "sess-time", "start_time": -86400}}') > 0 AS saved;
SELECT load_snapshot('sess-time')->'session'->'start_time' AS start_time,
	   (SELECT session_start_time AT TIME ZONE 'UTC' FROM session_snapshots
		 WHERE session_id = 'sess-time' ORDER BY snapshot_id DESC LIMIT 1) AS start_utc;

-- latest snapshot: two saves in one transaction share created_at; the
-- later snapshot_id wins
BEGIN;
SELECT save_snapshot('{"session": {"session_id": "sess-tx", "loop_count": 1}}') > 0 AS saved;
SELECT save_snapshot('{"session": {"session_id": "sess-tx", "loop_count": 2}}') > 0 AS saved;
COMMIT;
SELECT load_snapshot('sess-tx')->'session'->'loop_count' AS loop_count;

-- a hostile search_path changes nothing: a look-alike table in front
CREATE SCHEMA decoy;
CREATE TABLE decoy.session_snapshots (LIKE session_snapshots);
SET search_path = decoy, public;
SELECT save_snapshot('{"session": {"session_id": "sess-path"}}') > 0 AS saved;
SELECT load_snapshot('sess-path')->'session'->>'session_id' AS loaded;
SELECT count(*) AS decoy_rows FROM decoy.session_snapshots;
RESET search_path;
DROP SCHEMA decoy CASCADE;

-- invalid input: each error names the JSON path; nothing is written
SELECT pg_temp.table_counts() AS before \gset
-- the longest keys are fine
SELECT save_snapshot(('{"session": {"session_id": "' || repeat('x', 1000) || '"}, "positions": {"active_orders": {"' || repeat('ü', 500) || '": {}}}}')::jsonb) > 0 AS saved;
SELECT pg_temp.table_counts() AS before \gset
SELECT pg_temp.expect_error(stmt) FROM (VALUES
	($$SELECT save_snapshot(NULL)$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}}', NULL)$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}}', 'On Trade')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}}', '')$$),
	($$SELECT save_snapshot('[{"session": {}}]')$$),
	($$SELECT save_snapshot('"text"')$$),
	($$SELECT save_snapshot('{}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "extra": 1}')$$),
	($$SELECT save_snapshot('{"session": "x"}')$$),
	($$SELECT save_snapshot('{"session": {"loop_count": 1}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": ""}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": 5}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": null}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x", "sessionid": "y"}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x", "loop_count": "5"}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x", "loop_count": true}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x", "loop_count": 5.5}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x", "loop_count": -1}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x", "loop_count": null}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x", "loop_count": 9223372036854775808}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x", "status": "paused"}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x", "status": 1}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x", "start_time": "1700000000"}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x", "start_time": 1e15}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x", "mode": 1}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x", "config": [1, 2]}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "positions": []}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "positions": {"orders": {}}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "positions": {"active_orders": [1]}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "positions": {"active_orders": {"BTC": 1}}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "positions": {"active_orders": {"BTC": {"trade": 5}}}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "positions": {"active_orders": {"BTC": {"trade": {}, "qty": 1}}}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "positions": {"active_orders": {"": {"trade": {}}}}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "positions": {"active_orders": {"BTC": {"position_open_time": false}}}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "metrics": null}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "metrics": {"total_trades_opened": -3}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "metrics": {"total_pnl_usd": "1.5"}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "metrics": {"per_symbol_pnl": {"BTC": "1"}}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "metrics": {"per_symbol_trades_opened": {"BTC": 1.5}}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "metrics": {"win_rate": 0.5}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "risk_guard": {"daily_loss_usd": true}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "risk_guard": {"per_symbol_position_count": {"BTC": -1}}}')$$),
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "risk_guard": {"per_symbol_loss": [1]}}')$$),
	-- keys that would not fit in a btree entry
	('SELECT save_snapshot(''{"session": {"session_id": "' || repeat('x', 1001) || '"}}'')'),
	('SELECT save_snapshot(''{"session": {"session_id": "x"}, "positions": {"active_orders": {"' || repeat('ü', 501) || '": {}}}}'')'),
	-- the last position is bad: the good ones before it are not written
	($$SELECT save_snapshot('{"session": {"session_id": "x"}, "positions": {"active_orders": {"A": {"trade": {}}, "B": {"trade": {}}, "C": {"order_a": "x"}}}}')$$)
) AS t(stmt);
SELECT pg_temp.table_counts() = :'before' AS nothing_written, pg_temp.table_counts();

DROP EXTENSION snapshot_ops;
