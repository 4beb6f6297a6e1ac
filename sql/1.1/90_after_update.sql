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
 * after_update(): the end of every update script.
 *
 *   1. No routine the update created is executable by PUBLIC (recorded
 *      as the routines' initial privileges, as in the install script;
 *      routines whose privileges are already set are left alone).
 *   2. Roles holding an access level get the objects the update added to
 *      it (reapply_access(), as ordinary grants that pg_dump keeps).
 *   3. Invariants, or the update fails: every table of the extension is
 *      registered for pg_dump (with its identity sequence) unless its rows
 *      come from the scripts; every table, view, routine and the schema
 *      snapshot_ops have a comment; the four snapshot tables carry the
 *      report's autovacuum settings (pg_dump does not dump the reloptions
 *      of extension tables, so only the scripts can keep them).
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
	have text;
BEGIN
	SELECT e.oid, e.extnamespace, e.extconfig INTO ext_oid, ext_nsp, ext_config
	  FROM pg_extension e WHERE e.extname = 'snapshot_ops';

	-- 1. nothing for PUBLIC
	FOR r IN
		SELECT p.oid::regprocedure AS signature, p.prokind
		  FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
		 WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
		   AND d.refobjid = ext_oid AND d.deptype = 'e'
		   -- only routines whose privileges were never set: those the update
		   -- created.  Any GRANT or REVOKE here records the object's whole
		   -- ACL, grants to roles included, as its initial privileges,
		   -- which pg_dump then leaves out of every dump.
		   AND p.proacl IS NULL
	LOOP
		EXECUTE format('REVOKE ALL ON %s %s FROM PUBLIC',
					   CASE r.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
					   r.signature);
	END LOOP;

	-- 2. the access levels, as they are now
	PERFORM snapshot_ops.reapply_access();

	-- 3. invariants
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

	FOR i IN 1 .. array_length(expected_options, 1) LOOP
		SELECT array_to_string(c.reloptions, ',') INTO have
		  FROM pg_class c
		 WHERE c.relnamespace = ext_nsp AND c.relname = expected_options[i][1];
		IF have IS DISTINCT FROM expected_options[i][2] THEN
			problems := problems || format('table %s has reloptions (%s) instead of (%s)',
										   expected_options[i][1], coalesce(have, ''), expected_options[i][2]);
		END IF;
	END LOOP;

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
