/*
 * What every update must leave behind, checked and re-applied by the
 * common tail of every update script (sql/common/update_tail.sql).  A
 * later version that needs more replaces after_update() in its own parts.
 */

/*
 * Give every role holding an access level what the level includes now
 * (src/version.c).  Superusers and the extension's owner only.
 */
CREATE FUNCTION snapshot_ops.reapply_access()
RETURNS SETOF text
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_reapply_access';

COMMENT ON FUNCTION snapshot_ops.reapply_access()
	IS 'give every role that holds an access level of grant_access() the objects the level includes now (after an update, or after restoring a dump of an older version); returns the statements run';

/*
 * after_update(): the end of every update script.  "Created by the
 * update" means: the object's membership of the extension was recorded by
 * this transaction (an object the update dropped and created again
 * included; one it only altered or replaced not).
 *
 *   1. Objects created by the update belong to the extension's owner, as
 *      they would after a fresh install by that owner (the update may be
 *      run by another superuser).
 *   2. No routine created by the update is executable by PUBLIC (the
 *      revoke is recorded as the routine's initial privileges, as in the
 *      install script).  Routines that existed before keep the privileges
 *      a DBA gave them.
 *   3. Privileges: those kept by keep_privileges() before a DROP are
 *      granted again; roles that hold an access level in full get the
 *      objects the update added to it (reapply_access(), as ordinary
 *      grants that pg_dump keeps).
 *   4. Invariants, or the update fails: every table of the extension is
 *      registered for pg_dump (with its identity sequence) unless its rows
 *      come from the scripts; every table, view, routine and the schema
 *      snapshot_ops have a comment; no routine created by the update is
 *      executable by PUBLIC; the four snapshot tables carry the report's
 *      autovacuum settings (pg_dump does not dump the reloptions of
 *      extension tables, so only the scripts can keep them): a missing
 *      setting fails the update, a value a DBA changed is kept with a
 *      WARNING.
 */
CREATE FUNCTION snapshot_ops.after_update()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	ext_oid oid;
	ext_nsp oid;
	ext_config oid[];
	ext_owner oid;
	-- the relations and routines created by this update (see above)
	new_rels oid[];
	new_procs oid[];
	missing_options text[] := '{}';
	r record;
	problems text[] := '{}';
	-- tables whose rows the scripts themselves insert, or that a restore
	-- must not bring back (retention_holds: a restore makes its own): never
	-- dumped
	not_dumped constant text[] := ARRAY['snapshot_ops.access_level_functions',
										'snapshot_ops.retention_holds'];
	-- the report's autovacuum settings, per table
	expected_options constant text[][] := ARRAY[
		['session_snapshots', 'autovacuum_vacuum_scale_factor=0.05,autovacuum_analyze_scale_factor=0.02,autovacuum_vacuum_cost_delay=10'],
		['position_snapshots', 'autovacuum_vacuum_scale_factor=0.1,autovacuum_analyze_scale_factor=0.05'],
		['metrics_snapshots', 'autovacuum_vacuum_scale_factor=0.05,autovacuum_analyze_scale_factor=0.02'],
		['risk_guard_snapshots', 'autovacuum_vacuum_scale_factor=0.05,autovacuum_analyze_scale_factor=0.02']];
BEGIN
	SELECT e.oid, e.extnamespace, e.extconfig, e.extowner INTO ext_oid, ext_nsp, ext_config, ext_owner
	  FROM pg_extension e WHERE e.extname = 'snapshot_ops';
	SELECT coalesce(array_agg(d.objid) FILTER (WHERE d.classid = 'pg_class'::regclass), '{}'),
		   coalesce(array_agg(d.objid) FILTER (WHERE d.classid = 'pg_proc'::regclass), '{}')
	  INTO new_rels, new_procs
	  FROM pg_depend d
	 WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext_oid AND d.deptype = 'e'
	   AND d.xmin = pg_current_xact_id()::xid;

	-- 1. owned by the extension's owner
	FOR r IN
		SELECT CASE WHEN c.relkind = 'S' THEN 'SEQUENCE'
					WHEN c.relkind IN ('v') THEN 'VIEW'
					WHEN c.relkind IN ('m') THEN 'MATERIALIZED VIEW'
					ELSE 'TABLE' END AS kind, c.oid::regclass::text AS name
		  FROM pg_class c
		 WHERE c.oid = ANY (new_rels)
		   AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
		   AND c.relowner <> ext_owner
		   -- a sequence owned by a column follows its table
		   AND NOT EXISTS (SELECT FROM pg_depend s
							WHERE s.classid = 'pg_class'::regclass AND s.objid = c.oid
							  AND s.refclassid = 'pg_class'::regclass AND s.deptype IN ('a', 'i'))
		UNION ALL
		SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
			   p.oid::regprocedure::text
		  FROM pg_proc p
		 WHERE p.oid = ANY (new_procs)
		   AND p.proowner <> ext_owner
	LOOP
		EXECUTE format('ALTER %s %s OWNER TO %s', r.kind, r.name, ext_owner::regrole);
	END LOOP;

	-- 2. nothing for PUBLIC on the routines the update created.  A routine
	-- created without privileges has PUBLIC's default EXECUTE; one that a
	-- GRANT in the update script gave privileges to has it written out.
	FOR r IN
		SELECT p.oid::regprocedure AS signature, p.prokind
		  FROM pg_proc p
		 WHERE p.oid = ANY (new_procs)
		   AND EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
						WHERE a.grantee = 0)
	LOOP
		EXECUTE format('REVOKE ALL ON %s %s FROM PUBLIC',
					   CASE r.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
					   r.signature);
	END LOOP;

	-- 3. kept privileges, and the access levels with what the update added
	PERFORM snapshot_ops.reapply_access();
	-- PostgreSQL 15 makes even a temporary table created by an extension
	-- script a member of the extension: gone before the checks below
	DROP TABLE IF EXISTS pg_temp.snapshot_ops_kept_privileges;

	-- 4. invariants
	FOR r IN
		SELECT c.oid, c.oid::regclass::text AS name, c.relkind
		  FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
		 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass
		   AND d.refobjid = ext_oid AND d.deptype = 'e'
		 ORDER BY 2
	LOOP
		IF r.relkind IN ('r', 'p') AND NOT r.name = ANY (not_dumped)
		   AND NOT r.oid = ANY (coalesce(ext_config, '{}')) THEN
			problems := problems || format('table %s is not registered with pg_extension_config_dump()', r.name);
		END IF;
		IF r.relkind = 'S' AND NOT r.oid = ANY (coalesce(ext_config, '{}'))
		   AND EXISTS (SELECT FROM pg_depend s
						WHERE s.classid = 'pg_class'::regclass AND s.objid = r.oid
						  AND s.refclassid = 'pg_class'::regclass AND s.deptype IN ('a', 'i')
						  AND s.refobjid = ANY (coalesce(ext_config, '{}'))) THEN
			problems := problems || format('sequence %s of a dumped table is not registered with pg_extension_config_dump()', r.name);
		END IF;
		IF r.relkind IN ('r', 'p', 'v', 'm') AND obj_description(r.oid, 'pg_class') IS NULL THEN
			problems := problems || format('relation %s has no comment', r.name);
		END IF;
	END LOOP;

	FOR r IN
		SELECT p.oid::regprocedure::text AS name
		  FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
		 WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
		   AND d.refobjid = ext_oid AND d.deptype = 'e'
		   AND obj_description(p.oid, 'pg_proc') IS NULL
		 ORDER BY 1
	LOOP
		problems := problems || format('routine %s has no comment', r.name);
	END LOOP;

	IF obj_description('snapshot_ops'::regnamespace, 'pg_namespace') IS NULL THEN
		problems := problems || 'schema snapshot_ops has no comment'::text;
	END IF;

	FOR r IN
		SELECT p.oid::regprocedure::text AS name
		  FROM pg_proc p
		 WHERE p.oid = ANY (new_procs)
		   AND EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
						WHERE a.grantee = 0)
		 ORDER BY 1
	LOOP
		problems := problems || format('routine %s is executable by PUBLIC', r.name);
	END LOOP;

	-- the settings compare as sets: the order of reloptions is the order
	-- of the ALTER TABLE that set them, and settings of the DBA's own are
	-- no concern of the update
	FOR r IN
		SELECT e.tbl, e.opt, split_part(e.opt, '=', 1) AS key, h.opt AS have_opt,
			   c.oid IS NOT NULL AS table_exists
		  FROM (SELECT expected_options[i][1] AS tbl, unnest(string_to_array(expected_options[i][2], ',')) AS opt
				  FROM generate_subscripts(expected_options, 1) i) e
		  LEFT JOIN pg_class c ON c.relnamespace = ext_nsp AND c.relname = e.tbl
		  LEFT JOIN LATERAL (SELECT o AS opt FROM unnest(c.reloptions) o
							  WHERE split_part(o, '=', 1) = split_part(e.opt, '=', 1)) h ON true
		 WHERE h.opt IS DISTINCT FROM e.opt
		 ORDER BY 1, 2
	LOOP
		IF NOT r.table_exists THEN
			problems := problems || format('table %s is missing', r.tbl);
		ELSIF r.have_opt IS NULL THEN
			missing_options := missing_options
				|| format('ALTER TABLE %s.%I SET (%s);', ext_nsp::regnamespace, r.tbl, r.opt);
		ELSE
			RAISE WARNING 'table %.% has the storage parameter % instead of %',
				ext_nsp::regnamespace, quote_ident(r.tbl), r.have_opt, r.opt
				USING DETAIL = 'The update keeps the value set in this database.  pg_dump does not dump the storage parameters of an extension''s tables: a restore gets the extension''s value again.';
		END IF;
	END LOOP;

	IF cardinality(missing_options) > 0 AND cardinality(problems) = 0 THEN
		RAISE EXCEPTION 'the snapshot tables lack autovacuum settings of snapshot_ops'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'pg_dump does not dump the storage parameters of an extension''s tables, so only the extension keeps them; a value of your own is kept, a setting that is reset is not.',
				  HINT = 'Run ' || array_to_string(missing_options, ' ') || ' then ALTER EXTENSION snapshot_ops UPDATE again.';
	END IF;
	problems := problems || missing_options;
	IF cardinality(problems) > 0 THEN
		RAISE EXCEPTION 'the snapshot_ops update would leave the schema inconsistent'
			USING ERRCODE = 'invalid_object_definition',
				  DETAIL = array_to_string(problems, E'\n'),
				  HINT = 'Fix the update script (sql/<version>/) of this release.';
	END IF;
END
$fn$;

COMMENT ON FUNCTION snapshot_ops.after_update()
	IS 'run at the end of every update script: revoke PUBLIC access to routines, re-apply access levels, check dump registrations, comments and reloptions';
