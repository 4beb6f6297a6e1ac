--
-- pgTAP: least privilege.  The reader, writer and admin levels given by
-- snapshot_ops.grant_access() hold exactly the privileges the README lists,
-- other attempts fail with 42501, revoke_access() takes them back, PUBLIC
-- holds nothing, and no non-superuser can change the GUCs that steer the
-- worker or attach code to the tables it works on.
--
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off

BEGIN;
CREATE SCHEMA trading;
CREATE EXTENSION snapshot_ops SCHEMA trading;
CREATE ROLE pgtap_so_reader;
CREATE ROLE pgtap_so_writer;
CREATE ROLE pgtap_so_admin;
CREATE ROLE pgtap_so_nobody;
DO $$
BEGIN
	PERFORM snapshot_ops.grant_access('pgtap_so_reader', 'reader');
	PERFORM snapshot_ops.grant_access('pgtap_so_writer', 'writer');
	PERFORM snapshot_ops.grant_access('pgtap_so_admin', 'admin');
END
$$;

SELECT plan(221);

-- tables: SELECT for every level, INSERT from writer, DELETE for admin only
SELECT table_privs_are('trading', t, 'pgtap_so_reader', ARRAY['SELECT'],
					   'reader may only read ' || t)
  FROM unnest(ARRAY['session_snapshots', 'position_snapshots', 'metrics_snapshots',
					'risk_guard_snapshots']) t;
SELECT table_privs_are('trading', t, 'pgtap_so_writer', ARRAY['SELECT', 'INSERT'],
					   'writer may read and insert into ' || t)
  FROM unnest(ARRAY['session_snapshots', 'position_snapshots', 'metrics_snapshots',
					'risk_guard_snapshots']) t;
SELECT table_privs_are('trading', t, 'pgtap_so_admin', ARRAY['SELECT', 'INSERT', 'DELETE'],
					   'admin may read, insert into and delete from ' || t)
  FROM unnest(ARRAY['session_snapshots', 'position_snapshots', 'metrics_snapshots',
					'risk_guard_snapshots']) t;
SELECT table_privs_are('trading', t, r, ARRAY[]::text[], r || ' has no privilege on ' || t)
  FROM unnest(ARRAY['session_snapshots', 'position_snapshots', 'metrics_snapshots',
					'risk_guard_snapshots']) t,
	   unnest(ARRAY['pgtap_so_nobody', 'public']) r;

-- views: SELECT for every level
SELECT table_privs_are('trading', v, r, ARRAY['SELECT'], r || ' may read ' || v)
  FROM unnest(ARRAY['v_latest_snapshots', 'v_latest_snapshot_details', 'v_session_history',
					'v_index_usage_stats']) v,
	   unnest(ARRAY['pgtap_so_reader', 'pgtap_so_writer', 'pgtap_so_admin']) r;
SELECT table_privs_are('trading', v, r, ARRAY[]::text[], r || ' may not read ' || v)
  FROM unnest(ARRAY['v_latest_snapshots', 'v_latest_snapshot_details', 'v_session_history',
					'v_index_usage_stats']) v,
	   unnest(ARRAY['pgtap_so_nobody', 'public']) r;

-- the job history: read by admin, written by the worker only
SELECT table_privs_are('snapshot_ops', t, 'pgtap_so_admin', ARRAY['SELECT'], 'admin may only read snapshot_ops.' || t)
  FROM unnest(ARRAY['job_runs', 'jobs']) t;
SELECT table_privs_are('snapshot_ops', t, r, ARRAY[]::text[], r || ' has no privilege on snapshot_ops.' || t)
  FROM unnest(ARRAY['job_runs', 'jobs', 'access_level_functions', 'retention_holds']) t,
	   unnest(ARRAY['pgtap_so_reader', 'pgtap_so_writer', 'pgtap_so_nobody', 'public']) r;
SELECT table_privs_are('snapshot_ops', 'access_level_functions', 'pgtap_so_admin', ARRAY[]::text[],
					   'admin has no privilege on snapshot_ops.access_level_functions');
-- retention holds: through the admin level's functions only
SELECT table_privs_are('snapshot_ops', 'retention_holds', 'pgtap_so_admin', ARRAY[]::text[],
					   'admin has no privilege on snapshot_ops.retention_holds');

-- schemas: USAGE, never CREATE
SELECT schema_privs_are('snapshot_ops', r, ARRAY['USAGE'], r || ' may use schema snapshot_ops')
  FROM unnest(ARRAY['pgtap_so_reader', 'pgtap_so_writer', 'pgtap_so_admin']) r;
SELECT schema_privs_are('trading', r, ARRAY['USAGE'], r || ' may use schema trading')
  FROM unnest(ARRAY['pgtap_so_reader', 'pgtap_so_writer', 'pgtap_so_admin']) r;
SELECT schema_privs_are(s, r, ARRAY[]::text[], r || ' may not use schema ' || s)
  FROM unnest(ARRAY['snapshot_ops', 'trading']) s, unnest(ARRAY['pgtap_so_nobody', 'public']) r;

-- routines: which level may execute what
CREATE TEMP TABLE expected_exec (nsp name, fn name, args text[], levels text[]);
INSERT INTO expected_exec VALUES
	('trading', 'load_snapshot', '{text}', '{reader,writer,admin}'),
	('trading', 'load_snapshot_by_id', '{bigint}', '{reader,writer,admin}'),
	('trading', 'get_snapshot_table_stats', '{}', '{reader,writer,admin}'),
	('trading', 'snapshot_storage_projection', '{integer,integer,integer}', '{reader,writer,admin}'),
	('snapshot_ops', 'cron_next_runs', '{text,"timestamp with time zone",integer,text}', '{reader,writer,admin}'),
	('trading', 'save_snapshot', '{jsonb,text}', '{writer,admin}'),
	('trading', 'cleanup_old_snapshots_30d', '{}', '{admin}'),
	('trading', 'cleanup_old_snapshots', '{interval,text[],boolean}', '{admin}'),
	('trading', 'vacuum_snapshot_tables', '{}', '{admin}'),
	('trading', 'test_query_performance', '{text,integer}', '{admin}'),
	('snapshot_ops', 'run_cleanup', '{interval,integer}', '{admin}'),
	('snapshot_ops', 'run_job', '{text,boolean}', '{admin}'),
	('snapshot_ops', 'worker_status', '{}', '{admin}'),
	('snapshot_ops', 'gin_index_bloat', '{}', '{admin}'),
	('snapshot_ops', 'job_schedules', '{}', '{admin}'),
	('snapshot_ops', 'schedule_with_pg_cron', '{text,text}', '{admin}'),
	('snapshot_ops', 'unschedule_pg_cron', '{}', '{admin}'),
	('snapshot_ops', 'grant_access', '{regrole,text}', '{}'),
	('snapshot_ops', 'revoke_access', '{regrole,text}', '{}'),
	('snapshot_ops', 'access_statements', '{regrole,text,boolean}', '{}'),
	('snapshot_ops', 'reapply_access', '{}', '{}'),
	('snapshot_ops', 'after_update', '{}', '{}'),
	('snapshot_ops', 'keep_privileges', '{text,text}', '{}'),
	('snapshot_ops', 'start_worker', '{}', '{}'),
	('snapshot_ops', 'hold_retention', '{text}', '{admin}'),
	('snapshot_ops', 'release_retention', '{boolean}', '{admin}'),
	('snapshot_ops', 'list_retention_holds', '{}', '{admin}'),
	('snapshot_ops', 'refint_check_parent', '{}', '{}'),
	('snapshot_ops', 'refint_cascade_delete', '{}', '{}'),
	('snapshot_ops', 'refint_restrict_key_update', '{}', '{}'),
	('snapshot_ops', 'refint_check_truncate', '{}', '{}'),
	('snapshot_ops', 'note_bulk_load', '{}', '{}'),
	('snapshot_ops', 'job_runs_loaded', '{}', '{}');

SELECT is((SELECT count(*)::int FROM pg_proc p
			 JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
			WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
			  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops')),
		  (SELECT count(*)::int FROM expected_exec),
		  'every routine of the extension is listed here');
SELECT function_privs_are(e.nsp, e.fn, e.args, 'pgtap_so_' || l,
						  CASE WHEN l = ANY (e.levels) THEN ARRAY['EXECUTE'] ELSE ARRAY[]::text[] END,
						  format('%s %s EXECUTE %s.%s', l,
								 CASE WHEN l = ANY (e.levels) THEN 'has' ELSE 'lacks' END, e.nsp, e.fn))
  FROM expected_exec e, unnest(ARRAY['reader', 'writer', 'admin']) l
 ORDER BY e.fn, l;
SELECT is_empty($$
	SELECT p.oid::regprocedure::text
	  FROM pg_proc p
	  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
	 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
	   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops')
	   AND (has_function_privilege('pgtap_so_nobody', p.oid, 'EXECUTE')
			OR EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
						WHERE a.grantee = 0))$$,
	'no routine is executable by PUBLIC or by a role without a level');

-- calls: the SQLSTATE a role without the level gets
SET ROLE pgtap_so_reader;
SELECT lives_ok($$SELECT trading.load_snapshot('x')$$, 'reader may call load_snapshot');
SELECT lives_ok($$SELECT count(*) FROM trading.v_latest_snapshot_details$$, 'reader may read a view');
SELECT throws_ok($$SELECT trading.save_snapshot('{"session": {"session_id": "r"}}')$$, '42501',
				 'permission denied for function save_snapshot', 'reader may not save');
SELECT throws_ok($$INSERT INTO trading.session_snapshots (session_id) VALUES ('r')$$, '42501',
				 NULL, 'reader may not insert');
SELECT throws_ok($$SELECT * FROM trading.cleanup_old_snapshots('30 days', '{stopped}', true)$$, '42501',
				 NULL, 'reader may not run retention, not even a dry run');
SELECT throws_ok($$SELECT snapshot_ops.run_job('vacuum')$$, '42501', NULL, 'reader may not run jobs');
SET ROLE pgtap_so_writer;
SELECT lives_ok($$SELECT trading.save_snapshot('{"session": {"session_id": "w", "status": "stopped"}}')$$,
				'writer may save');
SELECT throws_ok($$DELETE FROM trading.session_snapshots$$, '42501', NULL, 'writer may not delete');
SELECT throws_ok($$UPDATE trading.session_snapshots SET status = 'running'$$, '42501', NULL,
				 'writer may not update');
SELECT throws_ok($$SELECT * FROM trading.cleanup_old_snapshots_30d()$$, '42501', NULL,
				 'writer may not run retention');
SELECT throws_ok($$SELECT count(*) FROM snapshot_ops.job_runs$$, '42501', NULL,
				 'writer may not read the job history');
SELECT throws_ok($$SELECT snapshot_ops.release_retention()$$, '42501',
				 'permission denied for function release_retention', 'writer may not release retention');
SET ROLE pgtap_so_admin;
SELECT lives_ok($$SELECT * FROM trading.cleanup_old_snapshots('30 days', '{stopped}', true)$$,
				'admin may run retention');
SELECT lives_ok($$SELECT count(*) FROM snapshot_ops.job_runs$$, 'admin may read the job history');
SELECT lives_ok($$SELECT count(*) FROM snapshot_ops.worker_status()$$, 'admin may see the worker');
SELECT lives_ok($$SELECT snapshot_ops.hold_retention('pgtap')$$, 'admin may hold retention');
SELECT is((SELECT held_by::text FROM snapshot_ops.list_retention_holds()), 'pgtap_so_admin',
		  'admin may list the holds, and the hold is in its name');
SELECT is(snapshot_ops.release_retention(), 1, 'admin may release retention');
SELECT throws_ok($$SELECT count(*) FROM snapshot_ops.retention_holds$$, '42501', NULL,
				 'admin reads holds only through list_retention_holds()');
SELECT throws_ok($$UPDATE trading.session_snapshots SET status = 'running'$$, '42501', NULL,
				 'admin may not update snapshots');
SELECT throws_ok($$TRUNCATE trading.position_snapshots$$, '42501', NULL, 'admin may not truncate');
SELECT throws_ok($$INSERT INTO snapshot_ops.job_runs (job, trigger) VALUES ('cleanup', 'manual')$$, '42501',
				 NULL, 'admin may not forge job history');
SELECT throws_ok($$SELECT snapshot_ops.grant_access('pgtap_so_nobody', 'admin')$$, '42501', NULL,
				 'admin may not hand out access');
SELECT throws_ok($$CREATE TRIGGER t BEFORE DELETE ON trading.session_snapshots
				   FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()$$, '42501', NULL,
				 'admin may not attach a trigger');
SELECT throws_ok($$CREATE FUNCTION snapshot_ops.now() RETURNS timestamptz LANGUAGE sql AS 'SELECT now()'$$,
				 '42501', NULL, 'admin may not create objects in schema snapshot_ops');
SELECT throws_ok($$CREATE RULE r AS ON DELETE TO trading.position_snapshots DO INSTEAD NOTHING$$, '42501',
				 NULL, 'admin may not create a rule');

-- the GUCs that steer the worker are for superusers only
SELECT throws_ok(format('SET %s = %L', g, v), '42501', NULL, 'admin may not SET ' || g)
  FROM (VALUES ('snapshot_ops.cleanup_schedule', '* * * * *'),
			   ('snapshot_ops.vacuum_schedule', '* * * * *'),
			   ('snapshot_ops.retention_period', '1 second'),
			   ('snapshot_ops.retention_mode', 'finished'),
			   ('snapshot_ops.cleanup_batch_size', '1'),
			   ('snapshot_ops.enable_scheduler', 'off'),
			   ('snapshot_ops.timezone', 'UTC'),
			   ('snapshot_ops.job_history_retention', '1 second'),
			   ('snapshot_ops.vacuum_lock_timeout', '0'),
			   ('snapshot_ops.gin_rebuild_threshold', '0')) s(g, v);
SELECT throws_ok($$ALTER ROLE CURRENT_USER SET snapshot_ops.retention_period = '1 second'$$, '42501', NULL,
				 'admin may not set the retention period for itself');
SELECT lives_ok($$SET snapshot_ops.vacuum_wait_timeout = '5s'$$,
				'vacuum_wait_timeout only bounds the caller''s own wait: anyone may set it');
SET ROLE pgtap_so_nobody;
SELECT throws_ok($$SELECT trading.load_snapshot('x')$$, '42501', NULL, 'a role without a level may not load');
SELECT throws_ok($$SELECT count(*) FROM trading.v_latest_snapshots$$, '42501', NULL,
				 'a role without a level may not read a view');
RESET ROLE;

-- revoke_access takes levels back, from the top
SELECT ok((SELECT count(*) > 0 FROM snapshot_ops.revoke_access('pgtap_so_admin', 'admin')),
		  'revoke_access(admin) ran');
SELECT table_privs_are('trading', 'session_snapshots', 'pgtap_so_admin', ARRAY['SELECT', 'INSERT'],
					   'a former admin keeps the writer level');
SELECT function_privs_are('trading', 'save_snapshot', ARRAY['jsonb', 'text'], 'pgtap_so_admin',
						  ARRAY['EXECUTE'], 'a former admin may still save');
SELECT function_privs_are('snapshot_ops', 'run_job', ARRAY['text', 'boolean'], 'pgtap_so_admin',
						  ARRAY[]::text[], 'a former admin may no longer run jobs');
SELECT ok((SELECT count(*) > 0 FROM snapshot_ops.revoke_access(r::regrole)), 'revoke_access(' || r || ') ran')
  FROM unnest(ARRAY['pgtap_so_reader', 'pgtap_so_writer', 'pgtap_so_admin']) r;
SELECT is_empty($$
	SELECT r, c.relname FROM pg_class c
	  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid,
		   unnest(ARRAY['pgtap_so_reader', 'pgtap_so_writer', 'pgtap_so_admin']) r
	 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
	   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops')
	   AND c.relkind IN ('r', 'v')
	   AND has_table_privilege(r, c.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')$$,
	'after revoke_access no role holds a privilege on any relation');
SELECT is_empty($$
	SELECT r, p.oid::regprocedure FROM pg_proc p
	  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid,
		   unnest(ARRAY['pgtap_so_reader', 'pgtap_so_writer', 'pgtap_so_admin']) r
	 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
	   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops')
	   AND has_function_privilege(r, p.oid, 'EXECUTE')$$,
	'after revoke_access no role may execute any routine');
SELECT throws_ok($$SELECT snapshot_ops.grant_access(0::regrole, 'reader')$$, '22023', NULL,
				 'grant_access refuses PUBLIC');

SELECT * FROM finish();
ROLLBACK;
