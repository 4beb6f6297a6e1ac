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
 * snapshot_ops.reapply_access() RETURNS SETOF text
 *
 * Give every role that holds an access level (see so_holders_sql) what
 * the level includes now: after ALTER EXTENSION UPDATE, the objects that
 * the update added to the level.  Returns the statements run.  Called by
 * snapshot_ops.after_update() at the end of every update script, and by a
 * DBA after restoring a dump taken under an older version.
 *
 * Inside an extension script, PostgreSQL records every GRANT on a member
 * object as that object's initial privileges (pg_init_privs), which
 * pg_dump leaves out of a dump.  Grants to roles are not the extension's
 * initial privileges, so they are run as ordinary grants.  Needs the
 * extension's owner or a superuser (as GRANT does).
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

	so_init_materialized_srf(fcinfo, MAT_SRF_USE_EXPECTED_DESC | MAT_SRF_BLESS);
	so_extension_lookup(&ext);
	if (!OidIsValid(ext.oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"snapshot_ops\" is not installed in this database")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
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
		for (uint64 i = 0; i < nholders; i++)
		{
			Oid			stmt_types[2] = {REGROLEOID, TEXTOID};
			Datum		stmt_values[2];
			uint64		nstmts;
			char	  **stmts;

			stmt_values[0] = ObjectIdGetDatum(roles[i]);
			stmt_values[1] = CStringGetTextDatum(levels[i]);
			if (SPI_execute_with_args("SELECT s FROM snapshot_ops.access_statements($1, $2, false) s",
									  2, stmt_types, stmt_values, NULL,
									  true, 0) != SPI_OK_SELECT)
				elog(ERROR, "could not list the statements of access level \"%s\"",
					 levels[i]);
			nstmts = SPI_processed;
			stmts = palloc(sizeof(char *) * (nstmts + 1));
			for (uint64 j = 0; j < nstmts; j++)
				stmts[j] = SPI_getvalue(SPI_tuptable->vals[j],
										SPI_tuptable->tupdesc, 1);
			for (uint64 j = 0; j < nstmts; j++)
			{
				Datum		d = CStringGetTextDatum(stmts[j]);
				bool		isnull = false;

				if (SPI_execute(stmts[j], false, 0) != SPI_OK_UTILITY)
					elog(ERROR, "could not run \"%s\"", stmts[j]);
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
									 &d, &isnull);
			}
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
