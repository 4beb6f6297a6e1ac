--
-- Schema: constraints, cascades, views, installation into another schema,
-- and DROP EXTENSION leaving nothing behind.
--
CREATE EXTENSION snapshot_ops;

-- Run a statement that must fail; show its SQLSTATE and message only (the
-- detail of a failing row contains timestamps).
CREATE FUNCTION pg_temp.expect_error(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- a valid snapshot with a child row in each table
INSERT INTO session_snapshots (session_id, status, loop_count)
VALUES ('s1', 'running', 5);
INSERT INTO position_snapshots (snapshot_id, position_key, trade_data)
VALUES (1, 'BTC', '{"symbol": "BTC"}'), (1, 'ETH', '{"symbol": "ETH"}');
INSERT INTO metrics_snapshots (snapshot_id, total_trades_opened) VALUES (1, 3);
INSERT INTO risk_guard_snapshots (snapshot_id, daily_loss_usd) VALUES (1, 12.5);

-- bad rows are refused with the constraint's SQLSTATE
SELECT pg_temp.expect_error($$INSERT INTO session_snapshots (session_id, status) VALUES ('s1', 'paused')$$);
SELECT pg_temp.expect_error($$INSERT INTO session_snapshots (session_id) VALUES ('')$$);
SELECT pg_temp.expect_error($$INSERT INTO session_snapshots (session_id) VALUES (NULL)$$);
SELECT pg_temp.expect_error($$INSERT INTO session_snapshots (session_id, loop_count) VALUES ('s1', -1)$$);
SELECT pg_temp.expect_error($$INSERT INTO session_snapshots (session_id, snapshot_type) VALUES ('s1', 'Periodic; DROP')$$);
SELECT pg_temp.expect_error($$INSERT INTO session_snapshots (session_id, config) VALUES ('s1', '[1,2]')$$);
SELECT pg_temp.expect_error($$INSERT INTO session_snapshots (snapshot_id, session_id) VALUES (100, 's1')$$);
SELECT pg_temp.expect_error($$INSERT INTO metrics_snapshots (snapshot_id, total_trades_closed) VALUES (1, 0)$$);
SELECT pg_temp.expect_error($$INSERT INTO metrics_snapshots (snapshot_id, total_trades_closed) VALUES (2, -4)$$);
SELECT pg_temp.expect_error($$INSERT INTO risk_guard_snapshots (snapshot_id) VALUES (1)$$);
SELECT pg_temp.expect_error($$INSERT INTO risk_guard_snapshots (snapshot_id) VALUES (999)$$);
SELECT pg_temp.expect_error($$INSERT INTO position_snapshots (snapshot_id, position_key) VALUES (1, 'BTC')$$);
SELECT pg_temp.expect_error($$INSERT INTO position_snapshots (snapshot_id, position_key) VALUES (1, '')$$);
SELECT pg_temp.expect_error($$INSERT INTO position_snapshots (snapshot_id, position_key) VALUES (999, 'X')$$);

-- The references to session_snapshots are kept by triggers (src/refint.c;
-- test/sql/integrity.sql tests them): no declarative foreign key, a
-- constraint trigger on each child named like the foreign key it replaces,
-- and on the parent the cascade, key update and truncate triggers; every
-- table records a retention hold when COPY loads it.
SELECT count(*) AS declarative_foreign_keys FROM pg_constraint
 WHERE contype = 'f' AND confrelid = 'session_snapshots'::regclass;
SELECT c.conrelid::regclass AS child, c.conname, c.contype, c.condeferrable, t.tgfoid::regproc AS function
  FROM pg_constraint c JOIN pg_trigger t ON t.tgconstraint = c.oid
 WHERE c.conname LIKE '%snapshot_id_fkey'
 ORDER BY c.conrelid;
SELECT t.tgrelid::regclass AS on_table, pg_get_triggerdef(t.oid) AS definition
  FROM pg_trigger t
 WHERE NOT t.tgisinternal
   AND t.tgrelid IN ('session_snapshots'::regclass, 'position_snapshots'::regclass,
					 'metrics_snapshots'::regclass, 'risk_guard_snapshots'::regclass)
 ORDER BY t.tgrelid, t.tgname;

-- none of the failed statements left anything behind
SELECT (SELECT count(*) FROM session_snapshots) AS sessions,
	   (SELECT count(*) FROM position_snapshots) AS positions,
	   (SELECT count(*) FROM metrics_snapshots) AS metrics,
	   (SELECT count(*) FROM risk_guard_snapshots) AS risk_guard;

-- two snapshots of one session saved in one transaction share created_at;
-- the views still show one row per snapshot and the later one as latest
BEGIN;
INSERT INTO session_snapshots (session_id, status, loop_count) VALUES ('s2', 'running', 1);
INSERT INTO session_snapshots (session_id, status, loop_count) VALUES ('s2', 'stopped', 2);
COMMIT;
INSERT INTO position_snapshots (snapshot_id, position_key)
SELECT snapshot_id, 'SOL' FROM session_snapshots WHERE session_id = 's2' AND loop_count = 2;
INSERT INTO metrics_snapshots (snapshot_id, total_pnl_usd, portfolio_equity)
SELECT snapshot_id, 10.25, 1010.25 FROM session_snapshots WHERE session_id = 's2' AND loop_count = 2;

SELECT session_id, status, loop_count FROM v_latest_snapshots ORDER BY session_id;
SELECT session_id, status, total_pnl_usd, portfolio_equity, daily_loss_usd, active_positions
  FROM v_latest_snapshot_details ORDER BY session_id;
SELECT session_id, status, loop_count, active_positions FROM v_session_history;
SELECT tablename, indexname FROM v_index_usage_stats;

-- deleting a session snapshot deletes its children
DELETE FROM session_snapshots WHERE snapshot_id = 1;
SELECT (SELECT count(*) FROM position_snapshots WHERE snapshot_id = 1) AS positions,
	   (SELECT count(*) FROM metrics_snapshots WHERE snapshot_id = 1) AS metrics,
	   (SELECT count(*) FROM risk_guard_snapshots WHERE snapshot_id = 1) AS risk_guard,
	   (SELECT count(*) FROM position_snapshots) AS other_positions;

-- nothing is granted to PUBLIC: no table or view privileges, no EXECUTE
SELECT c.relname, c.relacl
  FROM pg_class c
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops')
   AND (c.relacl IS NOT NULL
		OR has_table_privilege('public', c.oid, 'SELECT'))
 ORDER BY 1;
SELECT p.oid::regprocedure AS executable_by_public
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops')
   AND EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
			   WHERE a.grantee = 0)
 ORDER BY 1;

-- the extension is not relocatable: its views and functions are bound to
-- the schema it was created in
SELECT pg_temp.expect_error('ALTER EXTENSION snapshot_ops SET SCHEMA pg_temp');

-- DROP EXTENSION leaves nothing behind, the admin schema included
DROP EXTENSION snapshot_ops;
SELECT count(*) AS leftover_relations FROM pg_class
 WHERE relname ~ '^(session|position|metrics|risk_guard)_snapshots|^v_(latest|session|index)'
   AND relnamespace <> pg_my_temp_schema();
SELECT count(*) AS leftover_schemas FROM pg_namespace WHERE nspname = 'snapshot_ops';

-- a schema named snapshot_ops that the extension did not create is not
-- adopted silently
CREATE SCHEMA snapshot_ops;
SELECT pg_temp.expect_error('CREATE EXTENSION snapshot_ops');
DROP SCHEMA snapshot_ops;

-- installed into another schema, with that schema not on the search_path,
-- everything still works and is found there
CREATE SCHEMA trading;
CREATE EXTENSION snapshot_ops SCHEMA trading;
SET search_path = pg_catalog;
INSERT INTO trading.session_snapshots (session_id, status) VALUES ('t1', 'stopped');
INSERT INTO trading.position_snapshots (snapshot_id, position_key)
SELECT snapshot_id, 'BTC' FROM trading.session_snapshots;
SELECT session_id, status FROM trading.v_latest_snapshots;
SELECT session_id, active_positions FROM trading.v_latest_snapshot_details;
SELECT session_id, active_positions FROM trading.v_session_history;
SELECT DISTINCT schemaname FROM trading.v_index_usage_stats;
SELECT count(*) AS indexes FROM trading.v_index_usage_stats;
SELECT n.nspname, count(*) AS relations
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname IN ('session_snapshots', 'position_snapshots', 'metrics_snapshots',
					 'risk_guard_snapshots', 'v_latest_snapshots')
 GROUP BY n.nspname;
RESET search_path;
DROP EXTENSION snapshot_ops;
DROP SCHEMA trading;
