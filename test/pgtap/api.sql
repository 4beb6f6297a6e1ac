--
-- pgTAP: the SQL API installed into a schema of its own, called with a
-- hostile search_path; signatures, errors with their SQLSTATEs, round trips.
--
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off

BEGIN;
CREATE SCHEMA trading;
CREATE EXTENSION snapshot_ops SCHEMA trading;

SELECT plan(34);

-- signatures
SELECT has_function('trading', 'save_snapshot', ARRAY['jsonb', 'text']);
SELECT function_returns('trading', 'save_snapshot', ARRAY['jsonb', 'text'], 'bigint');
SELECT volatility_is('trading', 'save_snapshot', ARRAY['jsonb', 'text'], 'volatile');
SELECT has_function('trading', 'load_snapshot', ARRAY['text']);
SELECT function_returns('trading', 'load_snapshot', ARRAY['text'], 'jsonb');
SELECT volatility_is('trading', 'load_snapshot', ARRAY['text'], 'stable');
SELECT is_strict('trading', 'load_snapshot', ARRAY['text']);
SELECT has_function('trading', 'load_snapshot_by_id', ARRAY['bigint']);
SELECT has_function('trading', 'cleanup_old_snapshots_30d', ARRAY[]::text[]);
SELECT has_function('trading', 'cleanup_old_snapshots', ARRAY['interval', 'text[]', 'boolean']);
SELECT has_function('trading', 'get_snapshot_table_stats', ARRAY[]::text[]);
SELECT has_function('trading', 'test_query_performance', ARRAY['text', 'integer']);
SELECT has_function('trading', 'snapshot_storage_projection', ARRAY['integer', 'integer', 'integer']);
SELECT has_function('snapshot_ops', 'run_cleanup', ARRAY['interval', 'integer']);
SELECT is((SELECT prokind::text FROM pg_proc WHERE oid = 'snapshot_ops.run_cleanup(interval, integer)'::regprocedure),
		  'p', 'run_cleanup is a procedure');
SELECT is((SELECT pg_get_function_result('trading.cleanup_old_snapshots_30d()'::regprocedure)),
		  'TABLE(deleted_sessions integer, deleted_positions integer)', 'the report''s result columns');
SELECT is((SELECT pg_get_function_result('trading.get_snapshot_table_stats()'::regprocedure)) ~
		  '^TABLE\(table_name text, total_rows bigint, estimated_rows bigint, dead_rows bigint, table_size_mb numeric, toast_size_mb numeric, index_size_mb numeric, total_size_mb numeric',
		  true, 'stats columns start with the report''s');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
			WHERE n.nspname = 'trading' AND p.prosecdef), 0, 'no SECURITY DEFINER function');

-- a hostile search_path: a look-alike table, an "=" on text that is always
-- true and a trim_scale that returns -1, all ahead of pg_catalog
CREATE SCHEMA evil;
CREATE TABLE evil.session_snapshots (LIKE trading.session_snapshots);
CREATE FUNCTION evil.always(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.always);
CREATE FUNCTION evil.trim_scale(numeric) RETURNS numeric
	LANGUAGE sql AS 'SELECT -1::numeric';
-- (pgTAP's own functions would be fooled too: collect results first)
CREATE TEMP TABLE hostile (k text, v text);
SET LOCAL search_path = evil, pg_catalog;
INSERT INTO hostile VALUES ('save_a', trading.save_snapshot('{"session": {"session_id": "a", "loop_count": 1, "start_time": 1700000000.5}}')::text);
INSERT INTO hostile VALUES ('save_b', trading.save_snapshot('{"session": {"session_id": "b", "loop_count": 2}, "positions": {"active_orders": {"BTC": {"trade": {"symbol": "BTC"}}}}}')::text);
INSERT INTO hostile VALUES ('load_a', trading.load_snapshot('a')::text);
INSERT INTO hostile VALUES ('load_b', trading.load_snapshot('b')::text);
INSERT INTO hostile SELECT 'cleanup', deleted_sessions::text
  FROM trading.cleanup_old_snapshots('1 second', '{running}', true);
INSERT INTO hostile SELECT 'stats', total_rows::text
  FROM trading.get_snapshot_table_stats() WHERE table_name OPERATOR(pg_catalog.=) 'position_snapshots';
RESET search_path;

SELECT ok((SELECT v FROM hostile WHERE k = 'save_a')::bigint > 0, 'save a');
SELECT ok((SELECT v FROM hostile WHERE k = 'save_b')::bigint > 0, 'save b');
SELECT is((SELECT v FROM hostile WHERE k = 'load_a')::jsonb->'session'->>'loop_count', '1', 'load a finds a, not another session');
SELECT is((SELECT v FROM hostile WHERE k = 'load_b')::jsonb->'positions'->'active_orders'->'BTC'->'trade'->>'symbol', 'BTC', 'load b');
SELECT is((SELECT count(*)::int FROM evil.session_snapshots), 0, 'nothing went to the look-alike table');
SELECT is((SELECT count(*)::int FROM trading.session_snapshots), 2, 'both in the extension''s table');
SELECT ok((SELECT v FROM hostile WHERE k = 'load_a')::jsonb @> '{"session": {"session_id": "a", "loop_count": 1, "status": "running", "start_time": 1700000000.5}}',
		  'round trip under the hostile path (times not mangled)');
SELECT is((SELECT v FROM hostile WHERE k = 'cleanup'), '0',
		  'retention under the hostile path: the latest running snapshots are kept');
SELECT is((SELECT v FROM hostile WHERE k = 'stats'), '1', 'stats under the hostile path');

-- errors and their SQLSTATEs
SELECT throws_ok($$SELECT trading.save_snapshot('{"session": {"session_id": "x", "loop_count": "5"}}')$$,
				 '22023', 'invalid snapshot document: expected a non-negative integer, found a string', 'string is not an integer');
SELECT throws_ok($$SELECT trading.save_snapshot('{"session": {"session_id": "x", "loop_count": 1e40}}')$$,
				 '22003', NULL, 'integer out of range');
SELECT throws_ok($$SELECT trading.save_snapshot('{"session": {"session_id": "x", "start_time": -1e20}}')$$,
				 '22008', NULL, 'time out of range');
SELECT throws_ok($$SELECT trading.save_snapshot('{"session": {"session_id": "x"}}', 'periodic!')$$,
				 '22023', NULL, 'bad snapshot type');
SELECT throws_ok($$SELECT * FROM trading.cleanup_old_snapshots('-5 days')$$,
				 '22023', 'retention interval must be positive', 'negative interval');
SELECT throws_ok($$CALL snapshot_ops.run_cleanup()$$,
				 '25001', 'snapshot_ops.run_cleanup() cannot run inside a transaction block', 'run_cleanup in a transaction block');
SELECT is((SELECT count(*)::int FROM trading.session_snapshots), 2, 'failed saves wrote nothing');

SELECT * FROM finish();
ROLLBACK;
