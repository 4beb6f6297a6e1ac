/*
 * Privileges of objects that an update drops and creates again.
 *
 * An update that has to DROP and CREATE a view or a function (a changed
 * column list or OUT parameters) would silently take away what a DBA
 * granted on it by hand (SELECT on the jobs view to a monitoring role,
 * say).  Before the DROP, the update script calls keep_privileges() on the
 * object; reapply_access(), run by after_update() at the end of the
 * update, grants the kept privileges again on the object of the same name
 * (column privileges and grant options included, each by its original
 * grantor) and warns about those it cannot give back.  The object itself
 * is recorded too, so that a role from which a DBA had revoked a privilege
 * on it counts as holding its access level only in part.
 */
CREATE FUNCTION snapshot_ops.keep_privileges(object_kind text, object_name text)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	obj_oid oid;
	obj_acl aclitem[];
	obj_owner oid;
	ident text;
	kept integer;
	kept_columns integer;
BEGIN
	IF object_kind = 'relation' THEN
		SELECT c.oid, c.relacl, c.relowner, c.oid::regclass::text INTO obj_oid, obj_acl, obj_owner, ident
		  FROM pg_class c WHERE c.oid = to_regclass(object_name);
	ELSIF object_kind = 'routine' THEN
		SELECT p.oid, p.proacl, p.proowner, p.oid::regprocedure::text INTO obj_oid, obj_acl, obj_owner, ident
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
	-- the extension, so ON COMMIT DROP would not do).  A row with no
	-- grantee records the object itself.
	CREATE TEMP TABLE IF NOT EXISTS snapshot_ops_kept_privileges (
		object_kind text NOT NULL,
		object_name text NOT NULL,
		old_owner oid NOT NULL,
		column_name name,
		grantee oid,
		grantor oid,
		privilege_type text,
		is_grantable boolean
	);

	INSERT INTO pg_temp.snapshot_ops_kept_privileges (object_kind, object_name, old_owner)
	VALUES (object_kind, ident, obj_owner);
	INSERT INTO pg_temp.snapshot_ops_kept_privileges
	SELECT object_kind, ident, obj_owner, NULL, a.grantee, a.grantor, a.privilege_type, a.is_grantable
	  FROM aclexplode(obj_acl) a
	 WHERE a.grantee <> obj_owner;
	GET DIAGNOSTICS kept = ROW_COUNT;
	IF object_kind = 'relation' THEN
		INSERT INTO pg_temp.snapshot_ops_kept_privileges
		SELECT object_kind, ident, obj_owner, att.attname, a.grantee, a.grantor, a.privilege_type, a.is_grantable
		  FROM pg_attribute att, aclexplode(att.attacl) a
		 WHERE att.attrelid = obj_oid AND att.attnum > 0 AND NOT att.attisdropped
		   AND a.grantee <> obj_owner;
		GET DIAGNOSTICS kept_columns = ROW_COUNT;
		kept := kept + kept_columns;
	END IF;
	RETURN kept;
END
$fn$;

COMMENT ON FUNCTION snapshot_ops.keep_privileges(text, text)
	IS 'in an update script, before dropping a relation or routine (object_kind relation or routine) that the update creates again: remember the privileges granted on it (column privileges and grant options included, its owner''s aside), so that reapply_access() grants them again on the new object; returns how many were kept';
