/*
 * Privileges.  Nothing is granted to PUBLIC: PostgreSQL grants EXECUTE on
 * new functions to PUBLIC by default, so take it back from every function
 * and procedure of the extension (this part runs last, after all of them
 * exist).  Tables and views grant nothing to PUBLIC by default.  Access is
 * given per role with snapshot_ops.grant_access().
 */
DO $do$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT p.oid::pg_catalog.regprocedure AS signature,
			   p.prokind
		  FROM pg_catalog.pg_depend d
		  JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) d.objid
		 WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
		   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
		   AND d.refobjid OPERATOR(pg_catalog.=)
			   (SELECT e.oid FROM pg_catalog.pg_extension e
				 WHERE e.extname OPERATOR(pg_catalog.=) 'snapshot_ops')
		   AND d.deptype OPERATOR(pg_catalog.=) 'e'
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON %s %s FROM PUBLIC',
								  CASE r.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
								  r.signature);
	END LOOP;
END
$do$;
