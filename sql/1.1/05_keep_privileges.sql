/*
 * Privileges of objects that an update drops and creates again.
 *
 * An update that has to DROP and CREATE a view or a function (a changed
 * column list or OUT parameters) would silently take away what a DBA
 * granted on it by hand (SELECT on the jobs view to a monitoring role,
 * say).  Before the DROP, the update script calls keep_privileges() on the
 * object; reapply_access(), run by after_update() at the end of the
 * update, grants the kept privileges again on the object of the same name
 * and warns about those whose object is gone.  PUBLIC's privileges are not
 * kept: no routine of the extension is executable by PUBLIC.
 */
CREATE FUNCTION snapshot_ops.keep_privileges(object_kind text, object_name text)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	obj_acl aclitem[];
	obj_owner oid;
	ident text;
	kept integer;
BEGIN
	IF object_kind = 'relation' THEN
		SELECT c.relacl, c.relowner, c.oid::regclass::text INTO obj_acl, obj_owner, ident
		  FROM pg_class c WHERE c.oid = to_regclass(object_name);
	ELSIF object_kind = 'routine' THEN
		SELECT p.proacl, p.proowner, p.oid::regprocedure::text INTO obj_acl, obj_owner, ident
		  FROM pg_proc p WHERE p.oid = to_regprocedure(object_name);
	ELSE
		RAISE EXCEPTION 'unknown object kind "%"', object_kind
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The kinds are relation and routine.';
	END IF;
	IF ident IS NULL THEN
		RETURN 0;
	END IF;

	-- dropped by after_update() (PostgreSQL 15 records it as a member of
	-- the extension, so ON COMMIT DROP would not do)
	CREATE TEMP TABLE IF NOT EXISTS snapshot_ops_kept_privileges (
		object_kind text NOT NULL,
		object_name text NOT NULL,
		grantee oid NOT NULL,
		privilege_type text NOT NULL,
		is_grantable boolean NOT NULL
	);

	INSERT INTO pg_temp.snapshot_ops_kept_privileges
	SELECT object_kind, ident, a.grantee, a.privilege_type, a.is_grantable
	  FROM aclexplode(obj_acl) a
	 WHERE a.grantee <> 0 AND a.grantee <> obj_owner;
	GET DIAGNOSTICS kept = ROW_COUNT;
	RETURN kept;
END
$fn$;

COMMENT ON FUNCTION snapshot_ops.keep_privileges(text, text)
	IS 'in an update script, before dropping a relation or routine (object_kind relation or routine) that the update creates again: remember the privileges granted on it (PUBLIC''s and its owner''s aside), so that reapply_access() grants them again on the new object; returns how many were kept';
