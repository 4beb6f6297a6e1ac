/*-------------------------------------------------------------------------
 *
 * version.c
 *		The installed version of the extension's SQL, and the upgrade
 *		support function snapshot_ops.reapply_access().
 *
 * A database runs the SQL of the version it was created with or last
 * updated to, while the shared library is whatever the package installed.
 * The library reads pg_extension.extversion and serves every version it
 * knows; functions whose SQL contract changed call so_require_version().
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/version.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

#include "compat.h"
#include "spi_util.h"
#include "version.h"

PG_FUNCTION_INFO_V1(snapshot_ops_reapply_access);

/* "major.minor" to major * 100 + minor; -1 for anything else. */
static int
so_parse_version(const char *text)
{
	int			major;
	int			minor;
	char		rest;

	if (sscanf(text, "%d.%d%c", &major, &minor, &rest) != 2 ||
		major < 0 || minor < 0 || minor > 99)
		return -1;
	return major * 100 + minor;
}

const char *
so_version_name(int version)
{
	return psprintf("%d.%d", version / 100, version % 100);
}

void
so_extension_lookup(SoExtension *ext)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	memset(ext, 0, sizeof(SoExtension));
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key,
				Anum_pg_extension_extname,
				BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("snapshot_ops"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true,
							  NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		Form_pg_extension form = (Form_pg_extension) GETSTRUCT(tuple);
		bool		isnull;
		Datum		d;

		ext->oid = form->oid;
		ext->nspid = form->extnamespace;
		ext->owner = form->extowner;
		d = heap_getattr(tuple, Anum_pg_extension_extversion,
						 RelationGetDescr(rel), &isnull);
		if (!isnull)
		{
			char	   *v = TextDatumGetCString(d);

			strlcpy(ext->version_text, v, sizeof(ext->version_text));
			ext->version = so_parse_version(v);
			if (ext->version > SO_SQL_NEWEST)
				ext->version = -1;
		}
		else
			ext->version = -1;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

void
so_require_version(int min_version, const char *what)
{
	SoExtension ext;

	so_extension_lookup(&ext);
	if (!OidIsValid(ext.oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"snapshot_ops\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION snapshot_ops first.")));
	if (ext.version < 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("snapshot_ops version \"%s\" is not supported by the installed library",
						so_clip(ext.version_text, -1)),
				 errdetail("The library serves versions 1.0 to %s.",
						   so_version_name(SO_SQL_NEWEST)),
				 errhint("Install the snapshot_ops package that provides version \"%s\".",
						 so_clip(ext.version_text, -1))));
	if (ext.version < min_version)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s needs snapshot_ops version %s, but this database has version %s",
						what, so_version_name(min_version), ext.version_text),
				 errdetail("The shared library was updated; the extension's SQL objects in this database were not."),
				 errhint("Run ALTER EXTENSION snapshot_ops UPDATE in this database.")));
}

/*
 * The roles that hold an access level of snapshot_ops.grant_access(): all
 * of the level's privileges on the four tables and USAGE on the schema
 * snapshot_ops, granted directly.  $1 is the schema of the tables.
 */
static const char *so_holders_sql =
"WITH t AS ("
"  SELECT c.oid, c.relowner, c.relacl FROM pg_catalog.pg_class c"
"   WHERE c.relnamespace OPERATOR(pg_catalog.=) $1"
"     AND c.relname OPERATOR(pg_catalog.=) ANY (ARRAY['session_snapshots', 'position_snapshots',"
"         'metrics_snapshots', 'risk_guard_snapshots']::pg_catalog.name[])),"
" p AS ("
"  SELECT a.grantee, t.oid AS rel, a.privilege_type"
"    FROM t, pg_catalog.aclexplode(t.relacl) a"
"   WHERE a.grantee OPERATOR(pg_catalog.<>) 0::pg_catalog.oid"
"     AND a.grantee OPERATOR(pg_catalog.<>) t.relowner),"
" r AS ("
"  SELECT p.grantee,"
"         pg_catalog.count(DISTINCT p.rel) FILTER (WHERE p.privilege_type OPERATOR(pg_catalog.=) 'SELECT') AS sel,"
"         pg_catalog.count(DISTINCT p.rel) FILTER (WHERE p.privilege_type OPERATOR(pg_catalog.=) 'INSERT') AS ins,"
"         pg_catalog.count(DISTINCT p.rel) FILTER (WHERE p.privilege_type OPERATOR(pg_catalog.=) 'DELETE') AS del"
"    FROM p GROUP BY p.grantee)"
" SELECT r.grantee,"
"        CASE WHEN r.ins OPERATOR(pg_catalog.=) 4 AND r.del OPERATOR(pg_catalog.=) 4 THEN 'admin'"
"             WHEN r.ins OPERATOR(pg_catalog.=) 4 THEN 'writer'"
"             ELSE 'reader' END"
"   FROM r"
"  WHERE r.sel OPERATOR(pg_catalog.=) 4"
"    AND EXISTS (SELECT FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a"
"                 WHERE n.nspname OPERATOR(pg_catalog.=) 'snapshot_ops'"
"                   AND a.grantee OPERATOR(pg_catalog.=) r.grantee"
"                   AND a.privilege_type OPERATOR(pg_catalog.=) 'USAGE')"
"  ORDER BY r.grantee";

/*
 * The statements of an access level for one role ($1, a regrole) and level
 * ($2), each with whether its object is new, created by the running update
 * (its membership of extension $3 was recorded by this transaction) and
 * not one the update dropped and created again (the %s: so_recreated_sql,
 * or false), and whether the role already holds the privilege.
 */
static const char *so_level_statements_sql =
"WITH s AS ("
"  SELECT st, pg_catalog.regexp_match("
"           pg_catalog.left(st, OPERATOR(pg_catalog.-) pg_catalog.length(' TO ' OPERATOR(pg_catalog.||) $1::pg_catalog.text)),"
"           '^GRANT (\\S+) ON (SCHEMA |FUNCTION |PROCEDURE )?(.*)$') AS m"
"    FROM snapshot_ops.access_statements($1, $2, false) AS st),"
" k AS ("
"  SELECT s.st, s.m[1] AS priv, s.m[3] AS target, COALESCE(s.m[2], '') AS kind FROM s),"
" o AS ("
"  SELECT k.st, k.priv, k.kind,"
"         CASE WHEN k.kind OPERATOR(pg_catalog.=) 'SCHEMA '"
"              THEN 'pg_catalog.pg_namespace'::pg_catalog.regclass"
"              WHEN k.kind OPERATOR(pg_catalog.=) ''"
"              THEN 'pg_catalog.pg_class'::pg_catalog.regclass"
"              ELSE 'pg_catalog.pg_proc'::pg_catalog.regclass END::pg_catalog.oid AS classid,"
"         CASE WHEN k.kind OPERATOR(pg_catalog.=) 'SCHEMA '"
"              THEN pg_catalog.to_regnamespace(k.target)::pg_catalog.oid"
"              WHEN k.kind OPERATOR(pg_catalog.=) ''"
"              THEN pg_catalog.to_regclass(k.target)::pg_catalog.oid"
"              ELSE pg_catalog.to_regprocedure(k.target)::pg_catalog.oid END AS objid"
"    FROM k)"
" SELECT o.st,"
"        EXISTS (SELECT FROM pg_catalog.pg_depend d"
"                 WHERE d.classid OPERATOR(pg_catalog.=) o.classid"
"                   AND d.objid OPERATOR(pg_catalog.=) o.objid"
"                   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass"
"                   AND d.refobjid OPERATOR(pg_catalog.=) $3"
"                   AND d.deptype OPERATOR(pg_catalog.=) 'e'"
"                   AND d.xmin OPERATOR(pg_catalog.=) pg_catalog.pg_current_xact_id()::pg_catalog.xid)"
"        AND NOT %s,"
"        COALESCE(CASE"
"          WHEN o.kind OPERATOR(pg_catalog.=) 'SCHEMA '"
"          THEN pg_catalog.has_schema_privilege($1::pg_catalog.oid, o.objid, o.priv)"
"          WHEN o.kind OPERATOR(pg_catalog.=) ''"
"          THEN pg_catalog.has_table_privilege($1::pg_catalog.oid, o.objid, o.priv)"
"          ELSE pg_catalog.has_function_privilege($1::pg_catalog.oid, o.objid, 'EXECUTE') END, false)"
"   FROM o";

/*
 * The privileges keep_privileges() kept before the update dropped their
 * objects: the GRANT to run again (NULL when the object or column is
 * gone), what it is (for warnings), its grantor, whether the grantor was
 * the object's owner or is a superuser (then anyone may run it), whether
 * it is PUBLIC's EXECUTE on a routine, and what to check of a grantor.
 */
static const char *so_recreated_sql =
"EXISTS (SELECT FROM pg_temp.snapshot_ops_kept_privileges kp"
"         WHERE kp.grantee IS NULL"
"           AND o.objid OPERATOR(pg_catalog.=)"
"               CASE WHEN kp.object_kind OPERATOR(pg_catalog.=) 'routine'"
"                    THEN pg_catalog.to_regprocedure(kp.object_name)::pg_catalog.oid"
"                    ELSE pg_catalog.to_regclass(kp.object_name)::pg_catalog.oid END"
"           AND o.classid OPERATOR(pg_catalog.=)"
"               CASE WHEN kp.object_kind OPERATOR(pg_catalog.=) 'routine'"
"                    THEN 'pg_catalog.pg_proc'::pg_catalog.regclass"
"                    ELSE 'pg_catalog.pg_class'::pg_catalog.regclass END::pg_catalog.oid)";

static const char *so_kept_sql =
"WITH k AS ("
"  SELECT k.*,"
"         CASE WHEN k.object_kind OPERATOR(pg_catalog.=) 'routine'"
"              THEN pg_catalog.to_regprocedure(k.object_name)::pg_catalog.oid"
"              ELSE pg_catalog.to_regclass(k.object_name)::pg_catalog.oid END AS objid"
"    FROM pg_temp.snapshot_ops_kept_privileges k"
"   WHERE k.grantee IS NOT NULL)"
" SELECT CASE WHEN k.objid IS NOT NULL"
"              AND (k.column_name IS NULL"
"                   OR EXISTS (SELECT FROM pg_catalog.pg_attribute att"
"                               WHERE att.attrelid OPERATOR(pg_catalog.=) k.objid"
"                                 AND att.attname OPERATOR(pg_catalog.=) k.column_name"
"                                 AND NOT att.attisdropped))"
"        THEN pg_catalog.format('GRANT %s%s ON %s %s TO %s%s', k.privilege_type,"
"               CASE WHEN k.column_name IS NOT NULL"
"                    THEN pg_catalog.format(' (%I)', k.column_name) ELSE '' END,"
"               CASE WHEN k.object_kind OPERATOR(pg_catalog.=) 'routine'"
"                    THEN 'ROUTINE' ELSE 'TABLE' END,"
"               k.object_name,"
"               CASE WHEN k.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid"
"                    THEN 'PUBLIC' ELSE pg_catalog.quote_ident(ge.rolname) END,"
"               CASE WHEN k.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) END,"
"        pg_catalog.format('%s%s on %s to %s', k.privilege_type,"
"               CASE WHEN k.column_name IS NOT NULL"
"                    THEN pg_catalog.format(' (%I)', k.column_name) ELSE '' END,"
"               k.object_name,"
"               CASE WHEN k.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid"
"                    THEN 'PUBLIC' ELSE pg_catalog.quote_ident(ge.rolname) END),"
"        k.grantor,"
"        k.grantor OPERATOR(pg_catalog.=) k.old_owner OR COALESCE(gr.rolsuper, false),"
"        k.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid"
"          AND k.object_kind OPERATOR(pg_catalog.=) 'routine',"
"        CASE WHEN k.object_kind OPERATOR(pg_catalog.=) 'routine'"
"             THEN 'EXECUTE WITH GRANT OPTION'"
"             ELSE k.privilege_type OPERATOR(pg_catalog.||) ' WITH GRANT OPTION' END,"
"        k.objid, k.column_name, k.object_kind"
"   FROM k"
"   LEFT JOIN pg_catalog.pg_authid ge ON ge.oid OPERATOR(pg_catalog.=) k.grantee"
"   LEFT JOIN pg_catalog.pg_authid gr ON gr.oid OPERATOR(pg_catalog.=) k.grantor"
"  ORDER BY k.object_name, k.column_name NULLS FIRST, ge.rolname, k.privilege_type";

/* Does role $1 hold $4 (a privilege WITH GRANT OPTION) on object $2? */
static const char *so_grant_option_sql =
"SELECT CASE WHEN $5 OPERATOR(pg_catalog.=) 'routine'"
"            THEN pg_catalog.has_function_privilege($1, $2, $4)"
"            WHEN $3 IS NULL THEN pg_catalog.has_table_privilege($1, $2, $4)"
"            ELSE pg_catalog.has_column_privilege($1, $2, $3, $4) END";

typedef struct SoKept
{
	char	   *stmt;			/* NULL: the object or column is gone */
	char	   *what;
	Oid			grantor;
	bool		by_owner;		/* grantor was the owner, or is a superuser */
	bool		public_routine;
	char	   *option;			/* privilege WITH GRANT OPTION */
	Oid			objid;
	char	   *column;
	char	   *kind;
	bool		done;
} SoKept;

/* Run one GRANT as an ordinary grant and return it as a result row. */
static void
so_run_grant(ReturnSetInfo *rsinfo, const char *stmt)
{
	Datum		d = CStringGetTextDatum(stmt);
	bool		isnull = false;

	if (SPI_execute(stmt, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not run \"%s\"", stmt);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &d, &isnull);
}

/* Does the grantor of a kept privilege hold its grant option now? */
static bool
so_grantor_may_grant(const SoKept *k)
{
	Oid			types[5] = {OIDOID, OIDOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	bool		isnull;
	Datum		d;

	values[0] = ObjectIdGetDatum(k->grantor);
	values[1] = ObjectIdGetDatum(k->objid);
	if (k->column != NULL)
		values[2] = CStringGetTextDatum(k->column);
	else
		nulls[2] = 'n';
	values[3] = CStringGetTextDatum(k->option);
	values[4] = CStringGetTextDatum(k->kind);
	if (SPI_execute_with_args(so_grant_option_sql, 5, types, values, nulls,
							  true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not check the grant option of a kept privilege");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return !isnull && DatumGetBool(d);
}

/*
 * Grant again what keep_privileges() kept (update scripts only), each by
 * its original grantor, so that REVOKE ... CASCADE works on the new object
 * as it did on the old one: a privilege granted on by a role that held a
 * grant option is granted again once that role holds the option again.
 */
static void
so_reapply_kept(ReturnSetInfo *rsinfo)
{
	uint64		n;
	SoKept	   *kept;
	bool		isnull;
	bool		progress = true;

	if (SPI_execute(so_kept_sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the kept privileges");
	n = SPI_processed;
	kept = palloc0(sizeof(SoKept) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		SoKept	   *k = &kept[i];

		k->stmt = SPI_getvalue(tup, desc, 1);
		k->what = SPI_getvalue(tup, desc, 2);
		k->grantor = DatumGetObjectId(SPI_getbinval(tup, desc, 3, &isnull));
		k->by_owner = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
		k->public_routine = DatumGetBool(SPI_getbinval(tup, desc, 5, &isnull));
		k->option = SPI_getvalue(tup, desc, 6);
		k->objid = DatumGetObjectId(SPI_getbinval(tup, desc, 7, &isnull));
		k->column = SPI_getvalue(tup, desc, 8);
		k->kind = SPI_getvalue(tup, desc, 9);
	}

	for (uint64 i = 0; i < n; i++)
	{
		SoKept	   *k = &kept[i];

		if (k->stmt == NULL)
		{
			ereport(WARNING,
					(errcode(ERRCODE_WARNING),
					 errmsg("the privilege %s was not kept", k->what),
					 errdetail("The update removed the object or column.")));
			k->done = true;
		}
		else if (k->public_routine)
		{
			ereport(WARNING,
					(errcode(ERRCODE_WARNING),
					 errmsg("the privilege %s was not kept", k->what),
					 errdetail("No routine that an update of snapshot_ops creates is executable by PUBLIC."),
					 errhint("Grant it again after the update if it is wanted.")));
			k->done = true;
		}
	}

	/* owners' grants first, then grants on by holders of a grant option */
	while (progress)
	{
		progress = false;
		for (uint64 i = 0; i < n; i++)
		{
			SoKept	   *k = &kept[i];
			Oid			save_userid;
			int			save_sec;

			CHECK_FOR_INTERRUPTS();
			if (k->done)
				continue;
			if (k->by_owner)
				so_run_grant(rsinfo, k->stmt);
			else if (so_grantor_may_grant(k))
			{
				GetUserIdAndSecContext(&save_userid, &save_sec);
				SetUserIdAndSecContext(k->grantor, save_sec | SECURITY_LOCAL_USERID_CHANGE);
				so_run_grant(rsinfo, k->stmt);
				SetUserIdAndSecContext(save_userid, save_sec);
			}
			else
				continue;
			k->done = true;
			progress = true;
		}
	}

	/* a grantor that no longer holds the option: the owner grants it */
	for (uint64 i = 0; i < n; i++)
	{
		SoKept	   *k = &kept[i];
		const char *grantor = GetUserNameFromId(k->grantor, true);

		if (k->done)
			continue;
		so_run_grant(rsinfo, k->stmt);
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("the privilege %s was granted again by the object's owner, not by role \"%s\"",
						k->what, grantor ? grantor : "?"),
				 errdetail("That role does not hold the grant option any more.")));
	}
}

/*
 * Give one holder its level.  Outside an update: every statement of the
 * level.  During an update: only the objects the update created, and only
 * to a role that holds the rest of the level in full; a role whose
 * privileges a DBA narrowed keeps them as they are, with a WARNING.
 */
static void
so_reapply_level(ReturnSetInfo *rsinfo, Oid role, const char *level,
				 Oid extoid, bool during_update, bool have_kept)
{
	Oid			types[3] = {REGROLEOID, TEXTOID, OIDOID};
	Datum		values[3];
	uint64		n;
	char	  **stmts;
	bool	   *is_new;
	bool	   *held;
	bool		partial = false;
	StringInfoData missing;

	values[0] = ObjectIdGetDatum(role);
	values[1] = CStringGetTextDatum(level);
	values[2] = ObjectIdGetDatum(extoid);
	if (SPI_execute_with_args(psprintf(so_level_statements_sql,
									   have_kept ? so_recreated_sql : "false"),
							  3, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the statements of access level \"%s\"", level);
	n = SPI_processed;
	stmts = palloc(sizeof(char *) * (n + 1));
	is_new = palloc(sizeof(bool) * (n + 1));
	held = palloc(sizeof(bool) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		stmts[i] = SPI_getvalue(tup, desc, 1);
		is_new[i] = DatumGetBool(SPI_getbinval(tup, desc, 2, &isnull));
		held[i] = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
		if (!is_new[i] && !held[i])
			partial = true;
	}

	if (!during_update)
	{
		for (uint64 i = 0; i < n; i++)
			so_run_grant(rsinfo, stmts[i]);
		return;
	}

	initStringInfo(&missing);
	for (uint64 i = 0; i < n; i++)
	{
		if (!is_new[i] || held[i])
			continue;
		if (!partial)
			so_run_grant(rsinfo, stmts[i]);
		else
			appendStringInfo(&missing, "%s%s", missing.len > 0 ? "; " : "", stmts[i]);
	}
	if (missing.len > 0)
	{
		const char *rolename = GetUserNameFromId(role, false);

		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("role \"%s\" holds access level \"%s\" of snapshot_ops only in part",
						rolename, level),
				 errdetail("The update did not give it what it added to the level: %s.",
						   missing.data),
				 errhint("To give it the whole level, run SELECT snapshot_ops.grant_access(%s, '%s').",
						 quote_literal_cstr(quote_identifier(rolename)), level)));
	}
}

/*
 * snapshot_ops.reapply_access() RETURNS SETOF text
 *
 * Give every role that holds an access level (see so_holders_sql) what
 * the level includes now.  Returns the statements run.  Needs the
 * extension's owner or a superuser (as GRANT does).
 *
 * Called by a DBA (after restoring a dump taken under an older version,
 * say), it runs every statement of every holder's level, giving back
 * what a DBA took away from a holder by hand.
 *
 * Called by snapshot_ops.after_update() at the end of an update script, it
 * is narrower: it grants again what keep_privileges() kept before the
 * update dropped an object, and gives each role that holds its level in
 * full the objects the update created for the level; a role whose level a
 * DBA narrowed by hand gets nothing new, and a WARNING says what it lacks.
 *
 * Inside an extension script, PostgreSQL records every GRANT on a member
 * object as that object's initial privileges (pg_init_privs), which
 * pg_dump leaves out of a dump.  Grants to roles are not the extension's
 * initial privileges, so they are run as ordinary grants.
 */
Datum
snapshot_ops_reapply_access(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SoExtension ext;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	uint64		nholders;
	Oid		   *roles;
	char	  **levels;
	bool		save_creating = creating_extension;
	Oid			save_extension = CurrentExtensionObject;
	bool		during_update;
	volatile bool have_kept = false;

	so_init_materialized_srf(fcinfo, MAT_SRF_USE_EXPECTED_DESC | MAT_SRF_BLESS);
	so_extension_lookup(&ext);
	if (!OidIsValid(ext.oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"snapshot_ops\" is not installed in this database")));
	during_update = creating_extension && CurrentExtensionObject == ext.oid;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (during_update)
	{
		bool		isnull;

		if (SPI_execute("SELECT pg_catalog.to_regclass('pg_temp.snapshot_ops_kept_privileges') IS NOT NULL",
						true, 0) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not look for kept privileges");
		have_kept = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1, &isnull));
	}
	values[0] = ObjectIdGetDatum(ext.nspid);
	if (SPI_execute_with_args(so_holders_sql, 1, argtypes, values, NULL,
							  true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the privileges of the snapshot tables");
	nholders = SPI_processed;
	roles = palloc(sizeof(Oid) * (nholders + 1));
	levels = palloc(sizeof(char *) * (nholders + 1));
	for (uint64 i = 0; i < nholders; i++)
	{
		bool		isnull;

		roles[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
												  SPI_tuptable->tupdesc, 1, &isnull));
		levels[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
	}

	PG_TRY();
	{
		creating_extension = false;
		CurrentExtensionObject = InvalidOid;
		if (have_kept)
			so_reapply_kept(rsinfo);
		for (uint64 i = 0; i < nholders; i++)
		{
			CHECK_FOR_INTERRUPTS();
			so_reapply_level(rsinfo, roles[i], levels[i], ext.oid, during_update,
							 have_kept);
		}
	}
	PG_FINALLY();
	{
		creating_extension = save_creating;
		CurrentExtensionObject = save_extension;
	}
	PG_END_TRY();

	SPI_finish();
	return (Datum) 0;
}
