--
-- Least privilege: the reader, writer and admin levels of grant_access()
-- allow exactly what the README's table says, every other attempt fails
-- with 42501 (insufficient_privilege), revoke_access() undoes a level, and
-- nothing is ever granted to PUBLIC.  Non-superusers cannot steer the worker
-- through its GUCs, nor attach code (triggers, rules, policies, index
-- expressions, objects in the admin schema) that the worker would run.
--
CREATE EXTENSION snapshot_ops;

CREATE ROLE regress_so_reader;
CREATE ROLE regress_so_writer;
CREATE ROLE regress_so_admin;
CREATE ROLE regress_so_nobody;
CREATE ROLE regress_so_dbowner;

-- try_as(role, statement): run the statement as the role inside a
-- subtransaction that is always rolled back, and return 'ok' or the
-- SQLSTATE it failed with.  Nothing an attempt does survives it.
CREATE FUNCTION pg_temp.try_as(r name, stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		EXECUTE format('SET LOCAL ROLE %I', r);
		EXECUTE stmt;
		RAISE SQLSTATE 'SOOK0';
	EXCEPTION
		WHEN SQLSTATE 'SOOK0' THEN
			RETURN 'ok';
		WHEN OTHERS THEN
			RETURN SQLSTATE;
	END;
END
$$;

-- the same, returning the message too, for the few cases printed in full
CREATE FUNCTION pg_temp.try_msg(r name, stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		EXECUTE format('SET LOCAL ROLE %I', r);
		EXECUTE stmt;
		RAISE SQLSTATE 'SOOK0';
	EXCEPTION
		WHEN SQLSTATE 'SOOK0' THEN
			RETURN 'ok';
		WHEN OTHERS THEN
			RETURN SQLSTATE || ': ' || SQLERRM;
	END;
END
$$;

-- a trigger function anybody may execute, for the CREATE TRIGGER attempts
CREATE FUNCTION pg_temp.noop_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;

-- one valid state document and one saved snapshot to read back
INSERT INTO session_snapshots (session_id, status, loop_count)
VALUES ('sec_1', 'stopped', 1);
UPDATE session_snapshots SET created_at = now() - interval '60 days';
SELECT save_snapshot('{"session": {"session_id": "sec_2", "start_time": 1700000000, "mode": "paper",
	"paper_campaign_id": "c1", "config": {"k": 1}, "loop_count": 3, "status": "running"},
	"positions": {"active_orders": {"BTC": {"trade": {"symbol": "BTC"}, "order_a": {"id": 1},
		"order_b": {"id": 2}, "position_open_time": 1700000100}}},
	"metrics": {"total_trades_opened": 2, "total_trades_closed": 1, "total_winning_trades": 1,
		"total_pnl_usd": 10.5, "per_symbol_pnl": {"BTC": 10.5}},
	"risk_guard": {"daily_loss_usd": 0, "per_symbol_loss": {}}}', 'initial') IS NOT NULL AS saved;

-- a freshly created extension grants nothing to anyone but its owner
SELECT count(*) AS ok_before_grants
  FROM unnest(ARRAY['regress_so_reader', 'regress_so_writer', 'regress_so_admin']::name[]) r,
	   LATERAL (VALUES ('SELECT count(*) FROM session_snapshots'),
					   ('SELECT count(*) FROM v_latest_snapshots'),
					   ('SELECT load_snapshot(''sec_2'')')) s(stmt)
 WHERE pg_temp.try_as(r, stmt) = 'ok';

-- invalid input: grant_access refuses PUBLIC, unknown levels and NULLs
SELECT pg_temp.try_msg('postgres', $$SELECT snapshot_ops.grant_access('public', 'reader')$$);
SELECT pg_temp.try_msg(current_user, $$SELECT snapshot_ops.grant_access(0::regrole, 'reader')$$);
SELECT pg_temp.try_msg(current_user, $$SELECT snapshot_ops.grant_access('regress_so_reader', 'owner')$$);
SELECT pg_temp.try_msg(current_user, $$SELECT snapshot_ops.grant_access('regress_so_reader', NULL)$$);
SELECT pg_temp.try_msg(current_user, $$SELECT snapshot_ops.grant_access(NULL, 'reader')$$);
SELECT pg_temp.try_msg(current_user, $$SELECT snapshot_ops.grant_access('regress_no_such_role', 'reader')$$);

SELECT count(*) > 0 AS granted FROM snapshot_ops.grant_access('regress_so_reader', 'reader');
SELECT count(*) > 0 AS granted FROM snapshot_ops.grant_access('regress_so_writer', 'writer');
SELECT count(*) > 0 AS granted FROM snapshot_ops.grant_access('regress_so_admin', 'admin');
-- granting twice is harmless
SELECT count(*) > 0 AS granted FROM snapshot_ops.grant_access('regress_so_reader', 'reader');

-- Every relation of the extension, with the privileges each role holds on
-- it.  Nobody but the owner may UPDATE, TRUNCATE, REFERENCE or attach a
-- TRIGGER to anything, and nobody may change the job history.
CREATE TEMP VIEW ext_relations AS
SELECT c.oid, n.nspname, c.relname, c.relkind
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops');
GRANT SELECT ON ext_relations TO PUBLIC;

CREATE FUNCTION pg_temp.rel_privs(r name, rel oid) RETURNS text
LANGUAGE sql AS $$
	SELECT coalesce(string_agg(p, ',' ORDER BY o), '-')
	  FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
						'REFERENCES', 'TRIGGER']) WITH ORDINALITY AS u(p, o)
	 WHERE CASE WHEN (SELECT relkind FROM pg_class WHERE oid = rel) = 'S'
				THEN p = 'SELECT' AND has_sequence_privilege(r, rel, 'SELECT,USAGE,UPDATE')
				ELSE has_table_privilege(r, rel, p) END
$$;

SELECT nspname = 'snapshot_ops' AS admin_schema, relname, relkind,
	   pg_temp.rel_privs('regress_so_reader', oid) AS reader,
	   pg_temp.rel_privs('regress_so_writer', oid) AS writer,
	   pg_temp.rel_privs('regress_so_admin', oid) AS admin,
	   pg_temp.rel_privs('regress_so_nobody', oid) AS nobody
  FROM ext_relations
 WHERE relkind IN ('r', 'v', 'm', 'S', 'p', 'f')
 ORDER BY 1, relname COLLATE "C";

-- Every function and procedure of the extension, with the levels that may
-- execute it.  Functions in no level (grant_access itself, its helper) are
-- for the extension's owner only.
SELECT p.oid::regprocedure::text COLLATE "C" AS routine,
	   concat_ws(',',
				 CASE WHEN has_function_privilege('regress_so_reader', p.oid, 'EXECUTE') THEN 'reader' END,
				 CASE WHEN has_function_privilege('regress_so_writer', p.oid, 'EXECUTE') THEN 'writer' END,
				 CASE WHEN has_function_privilege('regress_so_admin', p.oid, 'EXECUTE') THEN 'admin' END,
				 CASE WHEN has_function_privilege('regress_so_nobody', p.oid, 'EXECUTE') THEN 'nobody' END
	   ) AS executable_by
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops')
 ORDER BY 1;

-- The schemas: USAGE for every level, CREATE for nobody.
SELECT n.nspname,
	   has_schema_privilege('regress_so_reader', n.oid, 'USAGE') AS reader_usage,
	   has_schema_privilege('regress_so_nobody', n.oid, 'USAGE') AS nobody_usage,
	   has_schema_privilege('regress_so_admin', n.oid, 'CREATE') AS admin_create
  FROM pg_namespace n WHERE n.nspname = 'snapshot_ops';

-- What each role can actually do.  Each line is run as each role in a
-- subtransaction that is rolled back: 'ok' or the SQLSTATE.
CREATE TEMP TABLE ops (ord serial, op text, stmt text);
INSERT INTO ops (op, stmt) VALUES
	-- the tables and views
	('select session_snapshots', 'SELECT count(*) FROM session_snapshots'),
	('select position_snapshots', 'SELECT count(*) FROM position_snapshots'),
	('select metrics_snapshots', 'SELECT count(*) FROM metrics_snapshots'),
	('select risk_guard_snapshots', 'SELECT count(*) FROM risk_guard_snapshots'),
	('select v_latest_snapshots', 'SELECT count(*) FROM v_latest_snapshots'),
	('select v_latest_snapshot_details', 'SELECT count(*) FROM v_latest_snapshot_details'),
	('select v_session_history', 'SELECT count(*) FROM v_session_history'),
	('select v_index_usage_stats', 'SELECT count(*) FROM v_index_usage_stats'),
	('insert session_snapshots', $$INSERT INTO session_snapshots (session_id) VALUES ('sec_x')$$),
	('insert position_snapshots', $$INSERT INTO position_snapshots (snapshot_id, position_key)
		SELECT snapshot_id, 'ETH' FROM session_snapshots WHERE session_id = 'sec_2'$$),
	('update session_snapshots', $$UPDATE session_snapshots SET status = 'crashed'$$),
	('update metrics_snapshots', $$UPDATE metrics_snapshots SET total_pnl_usd = 0$$),
	('delete session_snapshots', $$DELETE FROM session_snapshots WHERE session_id = 'sec_1'$$),
	('truncate session_snapshots', 'TRUNCATE session_snapshots CASCADE'),
	('truncate position_snapshots', 'TRUNCATE position_snapshots'),
	-- the job history is written by the worker only
	('select snapshot_ops.job_runs', 'SELECT count(*) FROM snapshot_ops.job_runs'),
	('select snapshot_ops.jobs', 'SELECT count(*) FROM snapshot_ops.jobs'),
	('insert snapshot_ops.job_runs', $$INSERT INTO snapshot_ops.job_runs (job, status) VALUES ('cleanup', 'succeeded')$$),
	('delete snapshot_ops.job_runs', 'DELETE FROM snapshot_ops.job_runs'),
	('update snapshot_ops.job_runs', $$UPDATE snapshot_ops.job_runs SET status = 'succeeded'$$),
	('select access_level_functions', 'SELECT count(*) FROM snapshot_ops.access_level_functions'),
	('insert access_level_functions', $$INSERT INTO snapshot_ops.access_level_functions
		VALUES ('reader', 'grant_access', 'admin')$$),
	('setval identity sequence', $$SELECT setval(pg_get_serial_sequence('session_snapshots', 'snapshot_id'), 1)$$),
	-- retention holds: only through the admin level's functions
	('select retention_holds', 'SELECT count(*) FROM snapshot_ops.retention_holds'),
	('insert retention_holds', $$INSERT INTO snapshot_ops.retention_holds (reason, source) VALUES ('x', 'manual')$$),
	('delete retention_holds', 'DELETE FROM snapshot_ops.retention_holds'),
	('hold_retention', $$SELECT snapshot_ops.hold_retention('security test')$$),
	('list_retention_holds', 'SELECT count(*) FROM snapshot_ops.list_retention_holds()'),
	('release_retention', 'SELECT snapshot_ops.release_retention()'),
	-- the SQL API
	('load_snapshot', $$SELECT load_snapshot('sec_2')$$),
	('load_snapshot_by_id', $$SELECT load_snapshot_by_id(1)$$),
	('get_snapshot_table_stats', 'SELECT count(*) FROM get_snapshot_table_stats()'),
	('snapshot_storage_projection', 'SELECT count(*) FROM snapshot_storage_projection(100, 10, 30)'),
	('save_snapshot', $$SELECT save_snapshot('{"session": {"session_id": "sec_3", "status": "running"}}')$$),
	('cleanup_old_snapshots dry run', $$SELECT * FROM cleanup_old_snapshots('30 days', '{stopped,crashed}', true)$$),
	('cleanup_old_snapshots', $$SELECT * FROM cleanup_old_snapshots('30 days')$$),
	('cleanup_old_snapshots_30d', 'SELECT * FROM cleanup_old_snapshots_30d()'),
	('test_query_performance', $$SELECT count(*) FROM test_query_performance('sec_2', 1)$$),
	-- the admin API
	('cron_next_runs', $$SELECT count(*) FROM snapshot_ops.cron_next_runs('0 2 * * *', now(), 3)$$),
	('worker_status', 'SELECT count(*) FROM snapshot_ops.worker_status()'),
	('gin_index_bloat', 'SELECT count(*) FROM snapshot_ops.gin_index_bloat()'),
	('run_job', $$SELECT snapshot_ops.run_job('vacuum', false)$$),
	('vacuum_snapshot_tables', 'SELECT vacuum_snapshot_tables()'),
	('job_schedules', 'SELECT count(*) FROM snapshot_ops.job_schedules()'),
	('schedule_with_pg_cron', $$SELECT snapshot_ops.schedule_with_pg_cron('0 2 * * *', '0 1 * * 0')$$),
	('unschedule_pg_cron', 'SELECT snapshot_ops.unschedule_pg_cron()'),
	('start_worker', 'SELECT snapshot_ops.start_worker()'),
	('grant_access', $$SELECT snapshot_ops.grant_access('regress_so_nobody', 'admin')$$),
	('revoke_access', $$SELECT snapshot_ops.revoke_access('regress_so_reader')$$),
	('access_statements', $$SELECT snapshot_ops.access_statements('regress_so_nobody', 'admin', false)$$),
	-- the GUCs that steer the worker are for superusers only
	('SET cleanup_schedule', $$SET snapshot_ops.cleanup_schedule = '* * * * *'$$),
	('SET vacuum_schedule', $$SET snapshot_ops.vacuum_schedule = '* * * * *'$$),
	('SET retention_period', $$SET snapshot_ops.retention_period = '1 second'$$),
	('SET retention_mode', $$SET snapshot_ops.retention_mode = 'finished'$$),
	('SET cleanup_batch_size', 'SET snapshot_ops.cleanup_batch_size = 1'),
	('SET enable_scheduler', 'SET snapshot_ops.enable_scheduler = off'),
	('SET timezone', $$SET snapshot_ops.timezone = 'UTC'$$),
	('SET job_history_retention', $$SET snapshot_ops.job_history_retention = '1 second'$$),
	('SET vacuum_lock_timeout', 'SET snapshot_ops.vacuum_lock_timeout = 0'),
	('SET gin_rebuild_threshold', 'SET snapshot_ops.gin_rebuild_threshold = 0'),
	('SET vacuum_wait_timeout', $$SET snapshot_ops.vacuum_wait_timeout = '5s'$$),
	('SET databases', $$SET snapshot_ops.databases = 'postgres'$$),
	('SET unknown snapshot_ops.x', $$SET snapshot_ops.no_such_setting = 'x'$$),
	('set_config retention_period', $$SELECT set_config('snapshot_ops.retention_period', '1 second', false)$$),
	('ALTER ROLE SET retention_period', $$ALTER ROLE CURRENT_USER SET snapshot_ops.retention_period = '1 second'$$),
	('ALTER ROLE SET cleanup_schedule', $$ALTER ROLE CURRENT_USER SET snapshot_ops.cleanup_schedule = '* * * * *'$$),
	('ALTER DATABASE SET retention_mode', format($$ALTER DATABASE %I SET snapshot_ops.retention_mode = 'finished'$$, current_database())),
	-- no code of theirs can be attached to what the worker touches
	('CREATE TRIGGER', 'CREATE TRIGGER t BEFORE INSERT OR DELETE ON session_snapshots
		FOR EACH ROW EXECUTE FUNCTION pg_temp.noop_trigger()'),
	('CREATE RULE', 'CREATE RULE r AS ON DELETE TO position_snapshots DO INSTEAD NOTHING'),
	('CREATE POLICY', 'CREATE POLICY p ON session_snapshots USING (true)'),
	('ENABLE ROW LEVEL SECURITY', 'ALTER TABLE session_snapshots ENABLE ROW LEVEL SECURITY'),
	('CREATE INDEX', 'CREATE INDEX ON session_snapshots ((lower(session_id)))'),
	('ALTER TABLE SET reloptions', 'ALTER TABLE session_snapshots SET (autovacuum_enabled = off)'),
	('CREATE TABLE in snapshot_ops', 'CREATE TABLE snapshot_ops.t (i int)'),
	('CREATE FUNCTION in snapshot_ops', 'CREATE FUNCTION snapshot_ops.now() RETURNS timestamptz
		LANGUAGE sql AS ''SELECT pg_catalog.now()'''),
	('CREATE OPERATOR in snapshot_ops', 'CREATE OPERATOR snapshot_ops.= (LEFTARG = text, RIGHTARG = text,
		FUNCTION = pg_catalog.texteq)'),
	('CREATE FUNCTION in public', 'CREATE FUNCTION public.now() RETURNS timestamptz
		LANGUAGE sql AS ''SELECT pg_catalog.now()'''),
	('ALTER FUNCTION save_snapshot', 'ALTER FUNCTION save_snapshot(jsonb, text) SET search_path = pg_temp'),
	('CREATE OR REPLACE load_snapshot', 'CREATE OR REPLACE FUNCTION load_snapshot(text) RETURNS jsonb
		LANGUAGE sql AS ''SELECT NULL::jsonb'''),
	('DROP EXTENSION', 'DROP EXTENSION snapshot_ops');
GRANT SELECT ON ops TO PUBLIC;

SELECT op,
	   pg_temp.try_as('regress_so_reader', stmt) AS reader,
	   pg_temp.try_as('regress_so_writer', stmt) AS writer,
	   pg_temp.try_as('regress_so_admin', stmt) AS admin,
	   pg_temp.try_as('regress_so_nobody', stmt) AS nobody
  FROM ops ORDER BY ord;

-- nothing above survived: the data is as it was
SELECT session_id, status FROM session_snapshots ORDER BY snapshot_id;
SELECT count(*) AS positions FROM position_snapshots;

-- run_cleanup commits, so it cannot run inside try_as(); call it directly:
-- refused to the writer, done for the admin (the 60 days old stopped
-- snapshot goes)
\set VERBOSITY sqlstate
SET client_min_messages = warning;
SET ROLE regress_so_writer;
CALL snapshot_ops.run_cleanup();
SET ROLE regress_so_admin;
CALL snapshot_ops.run_cleanup('30 days', 10);
RESET ROLE;
RESET client_min_messages;
\set VERBOSITY default
SELECT session_id, status FROM session_snapshots ORDER BY snapshot_id;

-- the messages name what was refused
SELECT pg_temp.try_msg('regress_so_reader', $$SELECT save_snapshot('{}')$$);
SELECT pg_temp.try_msg('regress_so_writer', 'DELETE FROM session_snapshots');
SELECT pg_temp.try_msg('regress_so_admin', $$SET snapshot_ops.retention_period = '1 second'$$);

-- a database owner who is not a superuser cannot steer the worker of its
-- database either
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I OWNER TO regress_so_dbowner', current_database()); END $$;
SELECT pg_temp.try_as('regress_so_dbowner',
	format($$ALTER DATABASE %I SET snapshot_ops.retention_period = '1 second'$$, current_database())) AS db_owner_retention,
	   pg_temp.try_as('regress_so_dbowner',
	format($$ALTER DATABASE %I SET snapshot_ops.cleanup_schedule = '* * * * *'$$, current_database())) AS db_owner_schedule,
	   pg_temp.try_as('regress_so_dbowner',
	format($$ALTER DATABASE %I SET snapshot_ops.enable_scheduler = off$$, current_database())) AS db_owner_scheduler;
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I OWNER TO %I', current_database(), current_user); END $$;
SELECT count(*) AS snapshot_ops_db_settings
  FROM pg_db_role_setting s, unnest(s.setconfig) c WHERE c LIKE 'snapshot_ops.%';

-- revoke_access(role, 'admin') leaves the writer level
SELECT count(*) > 0 AS revoked FROM snapshot_ops.revoke_access('regress_so_admin', 'admin');
SELECT op, pg_temp.try_as('regress_so_admin', stmt) AS former_admin
  FROM ops
 WHERE op IN ('select session_snapshots', 'save_snapshot', 'load_snapshot', 'delete session_snapshots',
			  'cleanup_old_snapshots', 'select snapshot_ops.job_runs', 'worker_status', 'run_job')
 ORDER BY ord;

-- revoke_access(role) takes everything back: no privilege is left on any
-- relation or routine of the extension
SELECT count(*) > 0 AS revoked FROM snapshot_ops.revoke_access('regress_so_reader');
SELECT count(*) > 0 AS revoked FROM snapshot_ops.revoke_access('regress_so_writer');
SELECT count(*) > 0 AS revoked FROM snapshot_ops.revoke_access('regress_so_admin');
SELECT r AS role,
	   (SELECT count(*) FROM ext_relations e
		 WHERE e.relkind <> 'S' AND has_table_privilege(r, e.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')) AS relations,
	   (SELECT count(*) FROM pg_proc p
		  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
		 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
		   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops')
		   AND has_function_privilege(r, p.oid, 'EXECUTE')) AS routines,
	   has_schema_privilege(r, 'snapshot_ops', 'USAGE') AS admin_schema_usage,
	   (SELECT count(*) FROM ops WHERE pg_temp.try_as(r, stmt) = 'ok') AS ops_ok
  FROM unnest(ARRAY['regress_so_reader', 'regress_so_writer', 'regress_so_admin', 'regress_so_nobody']::name[]) r
 ORDER BY 1;

-- Nothing, at any point, was granted to PUBLIC: no routine is executable by
-- PUBLIC, no relation, sequence or schema of the extension has a PUBLIC
-- entry in its ACL.
SELECT snapshot_ops.grant_access('regress_so_admin', 'admin') IS NOT NULL AS regranted LIMIT 1;
SELECT 'routine' AS kind, p.oid::regprocedure::text AS name
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops')
   AND EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
				WHERE a.grantee = 0)
UNION ALL
SELECT 'relation', c.relname
  FROM ext_relations e JOIN pg_class c ON c.oid = e.oid
 WHERE EXISTS (SELECT 1 FROM aclexplode(coalesce(c.relacl,
					acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a
				WHERE a.grantee = 0)
UNION ALL
SELECT 'schema', n.nspname
  FROM pg_namespace n
 WHERE n.nspname = 'snapshot_ops'
   AND EXISTS (SELECT 1 FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
				WHERE a.grantee = 0);
SELECT count(*) > 0 AS revoked FROM snapshot_ops.revoke_access('regress_so_admin');

DROP EXTENSION snapshot_ops;
-- no grant outlives the extension: the roles own and hold nothing
DROP ROLE regress_so_reader, regress_so_writer, regress_so_admin, regress_so_nobody, regress_so_dbowner;
