/*
 * Least privilege: three access levels, granted per role.
 *
 *   reader  the views, load_snapshot*, table statistics, the storage
 *           projection, schedule previews
 *   writer  reader + save_snapshot (INSERT on the four tables)
 *   admin   writer + retention (DELETE), run_cleanup, vacuum and run_job,
 *           the job history, the jobs view and the worker's status, the perf probe,
 *           pg_cron scheduling
 *
 * Every function of the extension is SECURITY INVOKER, so a level is the
 * union of table privileges and EXECUTE on the functions that need them.
 * The functions are chosen by name from snapshot_ops.access_level_functions
 * (below), so that a later version adds a function to a level by adding a
 * row in its update script.  A function in no level is internal: only
 * superusers can call it.
 */
CREATE TABLE snapshot_ops.access_level_functions (
	level text NOT NULL CHECK (level OPERATOR(pg_catalog.=) ANY (ARRAY['reader', 'writer', 'admin'])),
	function_name name NOT NULL,
	schema_kind text NOT NULL CHECK (schema_kind OPERATOR(pg_catalog.=) ANY (ARRAY['extension', 'admin'])),
	PRIMARY KEY (function_name, schema_kind)
);

COMMENT ON TABLE snapshot_ops.access_level_functions IS
	'which access level of snapshot_ops.grant_access() gets EXECUTE on which function (by name, all overloads)';

INSERT INTO snapshot_ops.access_level_functions (level, function_name, schema_kind) VALUES
	('reader', 'load_snapshot', 'extension'),
	('reader', 'load_snapshot_by_id', 'extension'),
	('reader', 'get_snapshot_table_stats', 'extension'),
	('reader', 'snapshot_storage_projection', 'extension'),
	('reader', 'cron_next_runs', 'admin'),
	('writer', 'save_snapshot', 'extension'),
	('admin', 'cleanup_old_snapshots_30d', 'extension'),
	('admin', 'cleanup_old_snapshots', 'extension'),
	('admin', 'vacuum_snapshot_tables', 'extension'),
	('admin', 'test_query_performance', 'extension'),
	('admin', 'run_cleanup', 'admin'),
	('admin', 'run_job', 'admin'),
	('admin', 'worker_status', 'admin'),
	('admin', 'gin_index_bloat', 'admin'),
	('admin', 'schedule_with_pg_cron', 'admin'),
	('admin', 'unschedule_pg_cron', 'admin'),
	('admin', 'job_schedules', 'admin');

/*
 * The statements that give (or, with revoke = true, take back) one level.
 * Levels are cumulative: writer includes reader, admin includes writer.
 */
CREATE FUNCTION snapshot_ops.access_statements(role regrole, level text, revoke boolean)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	ext_schema name;
	levels text[];
	verb text := CASE WHEN revoke THEN 'REVOKE' ELSE 'GRANT' END;
	dir text := CASE WHEN revoke THEN 'FROM' ELSE 'TO' END;
	tables text[] := ARRAY['session_snapshots', 'position_snapshots', 'metrics_snapshots',
						   'risk_guard_snapshots'];
	views text[] := ARRAY['v_latest_snapshots', 'v_latest_snapshot_details', 'v_session_history',
						  'v_index_usage_stats'];
	t text;
	r record;
BEGIN
	IF role IS NULL OR level IS NULL THEN
		RAISE EXCEPTION 'role and level must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	levels := CASE level
		WHEN 'reader' THEN ARRAY['reader']
		WHEN 'writer' THEN ARRAY['reader', 'writer']
		WHEN 'admin' THEN ARRAY['reader', 'writer', 'admin']
	END;
	IF levels IS NULL THEN
		RAISE EXCEPTION 'unknown access level "%"', level
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The levels are reader, writer and admin.';
	END IF;
	IF revoke THEN
		-- taking a level back takes back every level above it too
		levels := CASE level
			WHEN 'reader' THEN ARRAY['reader', 'writer', 'admin']
			WHEN 'writer' THEN ARRAY['writer', 'admin']
			ELSE ARRAY['admin']
		END;
	END IF;

	SELECT n.nspname INTO ext_schema
	  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
	 WHERE e.extname = 'snapshot_ops';

	IF 'reader' = ANY (levels) THEN
		-- USAGE on the extension's schema is left alone when it is public
		IF ext_schema <> 'public' THEN
			RETURN NEXT format('%s USAGE ON SCHEMA %I %s %s', verb, ext_schema, dir, role);
		END IF;
		RETURN NEXT format('%s USAGE ON SCHEMA snapshot_ops %s %s', verb, dir, role);
		FOREACH t IN ARRAY tables || views LOOP
			RETURN NEXT format('%s SELECT ON %I.%I %s %s', verb, ext_schema, t, dir, role);
		END LOOP;
	END IF;
	IF 'writer' = ANY (levels) THEN
		FOREACH t IN ARRAY tables LOOP
			RETURN NEXT format('%s INSERT ON %I.%I %s %s', verb, ext_schema, t, dir, role);
		END LOOP;
	END IF;
	IF 'admin' = ANY (levels) THEN
		FOREACH t IN ARRAY tables LOOP
			RETURN NEXT format('%s DELETE ON %I.%I %s %s', verb, ext_schema, t, dir, role);
		END LOOP;
		FOR r IN
			SELECT c.relname FROM pg_class c
			 WHERE c.relnamespace = 'snapshot_ops'::regnamespace
			   AND c.relkind IN ('r', 'v')
			   AND c.relname IN ('job_runs', 'jobs')
		LOOP
			RETURN NEXT format('%s SELECT ON snapshot_ops.%I %s %s', verb, r.relname, dir, role);
		END LOOP;
	END IF;

	FOR r IN
		SELECT p.oid::regprocedure AS signature, p.prokind
		  FROM pg_depend d
		  JOIN pg_proc p ON p.oid = d.objid
		  JOIN snapshot_ops.access_level_functions a
			ON a.function_name = p.proname
		   AND p.pronamespace = CASE a.schema_kind
								   WHEN 'admin' THEN 'snapshot_ops'::regnamespace
								   ELSE (SELECT extnamespace FROM pg_extension WHERE extname = 'snapshot_ops')
								END
		 WHERE d.classid = 'pg_proc'::regclass
		   AND d.refclassid = 'pg_extension'::regclass
		   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops')
		   AND d.deptype = 'e'
		   AND a.level = ANY (levels)
		 ORDER BY 1
	LOOP
		RETURN NEXT format('%s EXECUTE ON %s %s %s %s', verb,
						   CASE r.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
						   r.signature, dir, role);
	END LOOP;
END
$fn$;

COMMENT ON FUNCTION snapshot_ops.access_statements(regrole, text, boolean) IS
	'the GRANT (or REVOKE) statements of an access level; used by grant_access and revoke_access';

/*
 * grant_access(role, level): give a role one of the levels.  Runs with the
 * caller's rights, so only the extension's owner (or a superuser) can hand
 * out access.  Returns the statements it ran.
 */
CREATE FUNCTION snapshot_ops.grant_access(role regrole, level text)
RETURNS SETOF text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	stmt text;
BEGIN
	IF role IS NOT NULL AND role::oid = 0 THEN
		RAISE EXCEPTION 'access cannot be granted to PUBLIC'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR stmt IN SELECT * FROM snapshot_ops.access_statements(role, level, false) LOOP
		EXECUTE stmt;
		RETURN NEXT stmt;
	END LOOP;
END
$fn$;

COMMENT ON FUNCTION snapshot_ops.grant_access(regrole, text) IS
	'grant a role reader, writer or admin access to snapshot_ops';

/*
 * revoke_access(role, level DEFAULT 'reader'): take a level back, and every
 * level above it ('reader' takes everything back).
 */
CREATE FUNCTION snapshot_ops.revoke_access(role regrole, level text DEFAULT 'reader')
RETURNS SETOF text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	stmt text;
BEGIN
	FOR stmt IN SELECT * FROM snapshot_ops.access_statements(role, level, true) LOOP
		EXECUTE stmt;
		RETURN NEXT stmt;
	END LOOP;
END
$fn$;

COMMENT ON FUNCTION snapshot_ops.revoke_access(regrole, text) IS
	'take back a level of snapshot_ops access and every level above it';
