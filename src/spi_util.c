/*-------------------------------------------------------------------------
 *
 * spi_util.c
 *		The extension's schema, SPI plans kept across calls, and clipping of
 *		caller-supplied values quoted in messages.
 *
 * Every statement the SQL API runs names its tables with the schema the
 * extension was created in, so that no search_path can redirect it.  The
 * plans are prepared on first use and kept for the life of the backend; a
 * plan remembers the schema it was built for and is rebuilt when that
 * changes.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/spi_util.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "spi_util.h"
#include "version.h"

/*
 * OID of the schema the extension lives in (so_extension_lookup(), as
 * PostgreSQL 15 does not export get_extension_schema()).
 */
Oid
so_extension_schema(void)
{
	SoExtension ext;

	so_extension_lookup(&ext);
	if (!OidIsValid(ext.oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"snapshot_ops\" is not installed in database \"%s\"",
						get_database_name(MyDatabaseId)),
				 errhint("Run CREATE EXTENSION snapshot_ops first.")));
	return ext.nspid;
}

char *
so_quoted_schema(Oid nspid)
{
	char	   *name = get_namespace_name(nspid);

	if (name == NULL)
		elog(ERROR, "cache lookup failed for namespace %u", nspid);
	return pstrdup(quote_identifier(name));
}

/*
 * The kept plan of *kp, prepared from the SQL that build() or build_arg()
 * makes for schema nspid when there is none yet or the schema changed.
 */
static SPIPlanPtr
so_kept_plan_common(SoKeptPlan *kp, Oid nspid, SoSqlBuilder build,
					SoSqlBuilderArg build_arg, int arg,
					int nargs, Oid *argtypes)
{
	char	   *qschema;
	char	   *sql;
	SPIPlanPtr	plan;

	if (kp->plan != NULL && kp->nspid == nspid)
		return kp->plan;

	if (kp->plan != NULL)
	{
		SPI_freeplan(kp->plan);
		kp->plan = NULL;
	}

	qschema = so_quoted_schema(nspid);
	sql = build != NULL ? build(qschema) : build_arg(qschema, arg);
	plan = SPI_prepare(sql, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	kp->plan = plan;
	kp->nspid = nspid;
	pfree(sql);
	return plan;
}

SPIPlanPtr
so_kept_plan(SoKeptPlan *kp, Oid nspid, SoSqlBuilder build,
			 int nargs, Oid *argtypes)
{
	return so_kept_plan_common(kp, nspid, build, NULL, 0, nargs, argtypes);
}

SPIPlanPtr
so_kept_plan_arg(SoKeptPlan *kp, Oid nspid, SoSqlBuilderArg build, int arg,
				 int nargs, Oid *argtypes)
{
	return so_kept_plan_common(kp, nspid, NULL, build, arg, nargs, argtypes);
}

void
so_execute_plan(SPIPlanPtr plan, Datum *values, const char *nulls,
				bool read_only, long count, int expected_rc)
{
	int			rc;

	rc = SPI_execute_plan(plan, values, nulls, read_only, count);
	if (rc != expected_rc)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
}

/*
 * A caller-supplied value as an error message may quote it: whole when
 * short, otherwise its first SO_MSG_CLIP_BYTES bytes (whole characters) and
 * "...".  A message that echoed a 100 kB argument would flood the log and
 * the client.
 */
int
so_clip_len(const char *s, int len)
{
	return len <= SO_MSG_CLIP_BYTES ? len : pg_mbcliplen(s, len, SO_MSG_CLIP_BYTES);
}

char *
so_clip(const char *s, int len)
{
	int			keep;

	if (len < 0)
		len = strlen(s);
	keep = so_clip_len(s, len);
	return psprintf("%.*s%s", keep, s, keep < len ? "..." : "");
}
