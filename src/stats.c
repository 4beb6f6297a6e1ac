/*-------------------------------------------------------------------------
 *
 * stats.c
 *		What the snapshot tables hold and cost: get_snapshot_table_stats(),
 *		test_query_performance() and snapshot_storage_projection().
 *
 * The report's statistics function returned no rows and counted indexes
 * twice; here every size comes from one reading of pg_table_size(),
 * pg_indexes_size() and the TOAST table, so table + toast + index is the
 * total exactly.  The performance probe times the report's two queries and
 * this extension's hot paths, and says from EXPLAIN whether the index meant
 * for each was used.  The projection uses the measured bytes per row of the
 * existing data when there is enough of it.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/stats.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "guc.h"
#include "spi_util.h"
#include "state_store.h"
#include "stats.h"

/* The four tables, in the order the functions report them. */
static const char *const so_tables[] = {
	"session_snapshots",
	"position_snapshots",
	"metrics_snapshots",
	"risk_guard_snapshots",
};

/*
 * Bytes per row (heap and indexes) assumed by the projection while a table
 * holds fewer than SO_PROJ_MIN_ROWS rows: measured after VACUUM ANALYZE on
 * 10,000 snapshots of the document of bench/api/gen_doc.sql (10 positions,
 * about 4 kB of JSON per snapshot).
 */
#define SO_PROJ_MIN_ROWS	1000
static const double so_default_row_bytes[] = {
	370,						/* session_snapshots */
	470,						/* position_snapshots */
	700,						/* metrics_snapshots */
	460,						/* risk_guard_snapshots */
};

#define SO_BYTES_PER_MB		1048576.0

static SoKeptPlan so_stats_plan;

static char *so_stats_sql(const char *qschema);
static void so_spi_to_tuplestore(ReturnSetInfo *rsinfo);
static Datum so_numeric(double v, int scale);
static double so_median(double *v, int n);
static char *so_index_names(const char *sql, Oid argtype, Datum arg);

PG_FUNCTION_INFO_V1(snapshot_ops_get_snapshot_table_stats);
PG_FUNCTION_INFO_V1(snapshot_ops_test_query_performance);
PG_FUNCTION_INFO_V1(snapshot_ops_snapshot_storage_projection);

/*
 * Statistics of the four tables.  $1 is now() - retention_period; rows past
 * it that are kept because their session is running (the report's rule
 * never deletes them) are counted in rows_past_retention.
 */
static char *
so_stats_sql(const char *qschema)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfoString(&sql,
						   "SELECT t.table_name, t.total_rows,"
						   " CASE WHEN c.reltuples OPERATOR(pg_catalog.<) 0 THEN NULL"
						   "  ELSE c.reltuples::pg_catalog.int8 END,"
						   " st.n_dead_tup,"
						   " pg_catalog.trim_scale(z.heap::pg_catalog.numeric OPERATOR(pg_catalog.*) 0.00000095367431640625),"
						   " pg_catalog.trim_scale(z.toast::pg_catalog.numeric OPERATOR(pg_catalog.*) 0.00000095367431640625),"
						   " pg_catalog.trim_scale(z.idx::pg_catalog.numeric OPERATOR(pg_catalog.*) 0.00000095367431640625),"
						   " pg_catalog.trim_scale((z.heap OPERATOR(pg_catalog.+) z.toast OPERATOR(pg_catalog.+) z.idx)::pg_catalog.numeric"
						   "  OPERATOR(pg_catalog.*) 0.00000095367431640625),"
						   " st.last_vacuum, st.last_autovacuum, st.last_analyze, st.last_autoanalyze,"
						   " t.past"
						   " FROM (");
	for (int i = 0; i < (int) lengthof(so_tables); i++)
	{
		char	   *rel = psprintf("%s.%s", qschema, so_tables[i]);

		if (i > 0)
			appendStringInfoString(&sql, " UNION ALL ");
		appendStringInfo(&sql,
						 "SELECT %d AS ord, %s::pg_catalog.text AS table_name,"
						 " %s::pg_catalog.regclass AS rel,"
						 " (SELECT pg_catalog.count(*) FROM %s) AS total_rows,",
						 i, quote_literal_cstr(so_tables[i]),
						 quote_literal_cstr(rel), rel);
		if (i == 0)
			appendStringInfo(&sql,
							 " (SELECT pg_catalog.count(*) FROM %s s"
							 "  WHERE s.created_at OPERATOR(pg_catalog.<) $1"
							 "  AND s.status OPERATOR(pg_catalog.=) 'running') AS past",
							 rel);
		else
			appendStringInfo(&sql,
							 " (SELECT pg_catalog.count(*) FROM %s x, %s.session_snapshots s"
							 "  WHERE x.snapshot_id OPERATOR(pg_catalog.=) s.snapshot_id"
							 "  AND s.created_at OPERATOR(pg_catalog.<) $1"
							 "  AND s.status OPERATOR(pg_catalog.=) 'running') AS past",
							 rel, qschema);
	}
	appendStringInfoString(&sql,
						   ") t"
						   " JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.rel"
						   " LEFT JOIN pg_catalog.pg_stat_all_tables st ON st.relid OPERATOR(pg_catalog.=) t.rel"
						   " CROSS JOIN LATERAL (SELECT y.toast, y.all_heap OPERATOR(pg_catalog.-) y.toast AS heap, y.idx"
						   "  FROM (SELECT pg_catalog.pg_table_size(t.rel) AS all_heap,"
						   "   pg_catalog.pg_indexes_size(t.rel) AS idx,"
						   "   CASE WHEN c.reltoastrelid OPERATOR(pg_catalog.=) 0 THEN 0::pg_catalog.int8"
						   "    ELSE pg_catalog.pg_total_relation_size(c.reltoastrelid) END AS toast) y) z"
						   " ORDER BY t.ord");
	return sql.data;
}

/* Copy the rows of the last SPI result into a materialized SRF result. */
static void
so_spi_to_tuplestore(ReturnSetInfo *rsinfo)
{
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum		values[16];
		bool		nulls[16];

		Assert(SPI_tuptable->tupdesc->natts <= 16);
		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
						  values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * get_snapshot_table_stats() RETURNS TABLE(table_name, total_rows,
 * estimated_rows, dead_rows, table_size_mb, toast_size_mb, index_size_mb,
 * total_size_mb, last_vacuum, last_autovacuum, last_analyze,
 * last_autoanalyze, rows_past_retention)
 */
Datum
snapshot_ops_get_snapshot_table_stats(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[1] = {TIMESTAMPTZOID};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Interval	period;
	Datum		cutoff;
	SPIPlanPtr	plan;

	so_init_materialized_srf(fcinfo, 0);
	so_get_retention_period(&period);
	cutoff = DirectFunctionCall2(timestamptz_mi_interval,
								 TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
								 IntervalPGetDatum(&period));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = so_kept_plan(&so_stats_plan, get_func_namespace(fcinfo->flinfo->fn_oid),
						so_stats_sql, 1, argtypes);
	so_execute_plan(plan, &cutoff, NULL, true, 0, SPI_OK_SELECT);
	so_spi_to_tuplestore(rsinfo);
	SPI_finish();
	return (Datum) 0;
}

/* A double as numeric rounded to scale digits. */
static Datum
so_numeric(double v, int scale)
{
	return DirectFunctionCall2(numeric_round,
							   DirectFunctionCall1(float8_numeric, Float8GetDatum(v)),
							   Int32GetDatum(scale));
}

static int
so_cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Median of n > 0 values (sorts them). */
static double
so_median(double *v, int n)
{
	qsort(v, n, sizeof(double), so_cmp_double);
	if (n % 2 == 1)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/*
 * The indexes a query's plan reads, from EXPLAIN (FORMAT JSON), as a
 * comma-separated list in plan order (NULL when none).  Called connected.
 */
static char *
so_index_names(const char *sql, Oid argtype, Datum arg)
{
	char	   *explain = psprintf("EXPLAIN (FORMAT JSON) %s", sql);
	const char *tag = "\"Index Name\": \"";
	StringInfoData names;
	char	   *plan;
	char	   *p;
	int			rc;

	rc = SPI_execute_with_args(explain, 1, &argtype, &arg, NULL, false, 0);
	if (rc != SPI_OK_UTILITY || SPI_processed < 1)
		elog(ERROR, "EXPLAIN of probe failed: %s", SPI_result_code_string(rc));

	initStringInfo(&names);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		plan = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		for (p = strstr(plan, tag); p != NULL; p = strstr(p, tag))
		{
			char	   *end;
			char	   *name;

			p += strlen(tag);
			end = strchr(p, '"');
			if (end == NULL)
				break;
			name = pnstrdup(p, end - p);
			/* each name once */
			if (strstr(psprintf(",%s,", names.data),
					   psprintf(",%s,", name)) == NULL)
				appendStringInfo(&names, "%s%s", names.len > 0 ? "," : "", name);
			p = end;
		}
	}
	return names.len > 0 ? names.data : NULL;
}

/*
 * test_query_performance(p_session_id text, iterations integer) RETURNS
 * TABLE(test_name, execution_time_ms (median), worst_time_ms, iterations,
 * index_used, expected_index, uses_expected_index)
 *
 * Probes: the report's latest snapshot by session_id and JSONB key search
 * (counted rather than fetched), load_snapshot(), and save_snapshot() of
 * the session's latest document (or a minimal one) rolled back in a
 * subtransaction; the rolled-back saves consume snapshot_id values.
 */
Datum
snapshot_ops_test_query_performance(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			nspid = get_func_namespace(fcinfo->flinfo->fn_oid);
	char	   *qschema = so_quoted_schema(nspid);
	text	   *session_id;
	int			iterations;
	double	   *times;
	Jsonb	   *doc;
	MemoryContext iter_cxt;
	struct
	{
		const char *name;
		char	   *sql;
		const char *expected;
	}			probes[4];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("session_id must not be null")));
	if (PG_ARGISNULL(1) || PG_GETARG_INT32(1) < 1 || PG_GETARG_INT32(1) > 10000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("iterations must be between 1 and 10000")));
	session_id = PG_GETARG_TEXT_PP(0);
	iterations = PG_GETARG_INT32(1);
	so_init_materialized_srf(fcinfo, 0);
	times = palloc(sizeof(double) * iterations);
	iter_cxt = AllocSetContextCreate(CurrentMemoryContext,
									 "snapshot_ops probe iteration",
									 ALLOCSET_DEFAULT_SIZES);

	probes[0].name = "latest_snapshot_by_session";
	probes[0].sql = psprintf("SELECT s.* FROM %s.session_snapshots s"
							 " WHERE s.session_id OPERATOR(pg_catalog.=) $1"
							 " ORDER BY s.created_at DESC, s.snapshot_id DESC LIMIT 1",
							 qschema);
	probes[0].expected = "idx_session_snapshots_session_time";
	probes[1].name = "jsonb_key_search";
	probes[1].sql = psprintf("SELECT pg_catalog.count(*) FROM %s.position_snapshots p"
							 " WHERE p.trade_data OPERATOR(pg_catalog.?) 'symbol'"
							 " AND $1 IS NOT NULL",
							 qschema);
	probes[1].expected = "idx_position_snapshots_trade_data_gin";
	probes[2].name = "load_snapshot";
	probes[2].sql = so_load_by_session_sql(qschema);
	probes[2].expected = "idx_session_snapshots_session_time";
	probes[3].name = "save_snapshot_rolled_back";
	probes[3].sql = NULL;
	probes[3].expected = NULL;

	/* the document the save probe writes */
	doc = so_load_state(nspid, session_id);
	if (doc == NULL)
	{
		StringInfoData json;

		initStringInfo(&json);
		appendStringInfoString(&json, "{\"session\": {\"session_id\": ");
		escape_json(&json, text_to_cstring(session_id));
		appendStringInfoString(&json, "}}");
		doc = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
												 CStringGetDatum(json.data)));
	}

	for (int p = 0; p < (int) lengthof(probes); p++)
	{
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};
		char	   *used = NULL;
		double		worst = 0;

		for (int i = 0; i < iterations; i++)
		{
			instr_time	start;
			instr_time	elapsed;
			MemoryContext outer_cxt = MemoryContextSwitchTo(iter_cxt);

			CHECK_FOR_INTERRUPTS();
			if (p == 3)
			{
				MemoryContext oldcontext = CurrentMemoryContext;
				ResourceOwner oldowner = CurrentResourceOwner;

				BeginInternalSubTransaction(NULL);
				MemoryContextSwitchTo(oldcontext);
				INSTR_TIME_SET_CURRENT(start);
				(void) so_save_state(nspid, doc, "periodic");
				INSTR_TIME_SET_CURRENT(elapsed);
				RollbackAndReleaseCurrentSubTransaction();
				MemoryContextSwitchTo(oldcontext);
				CurrentResourceOwner = oldowner;
			}
			else if (p == 2)
			{
				INSTR_TIME_SET_CURRENT(start);
				(void) so_load_state(nspid, session_id);
				INSTR_TIME_SET_CURRENT(elapsed);
			}
			else
			{
				Oid			argtype = TEXTOID;
				Datum		arg = PointerGetDatum(session_id);

				if (SPI_connect() != SPI_OK_CONNECT)
					elog(ERROR, "SPI_connect failed");
				INSTR_TIME_SET_CURRENT(start);
				if (SPI_execute_with_args(probes[p].sql, 1, &argtype, &arg,
										  NULL, true, 0) != SPI_OK_SELECT)
					elog(ERROR, "probe \"%s\" failed", probes[p].name);
				INSTR_TIME_SET_CURRENT(elapsed);
				SPI_finish();
			}
			MemoryContextSwitchTo(outer_cxt);
			MemoryContextReset(iter_cxt);
			INSTR_TIME_SUBTRACT(elapsed, start);
			times[i] = INSTR_TIME_GET_MILLISEC(elapsed);
			worst = Max(worst, times[i]);
		}

		if (probes[p].sql != NULL)
		{
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			used = so_index_names(probes[p].sql, TEXTOID, PointerGetDatum(session_id));
			if (used != NULL)
				used = MemoryContextStrdup(rsinfo->econtext->ecxt_per_query_memory, used);
			SPI_finish();
		}

		values[0] = CStringGetTextDatum(probes[p].name);
		values[1] = so_numeric(so_median(times, iterations), 3);
		values[2] = so_numeric(worst, 3);
		values[3] = Int32GetDatum(iterations);
		if (used != NULL)
			values[4] = CStringGetTextDatum(used);
		else
			nulls[4] = true;
		if (probes[p].expected != NULL)
		{
			char	   *list = psprintf(",%s,", used ? used : "");

			values[5] = CStringGetTextDatum(probes[p].expected);
			values[6] = BoolGetDatum(strstr(list, psprintf(",%s,", probes[p].expected)) != NULL);
		}
		else
		{
			nulls[5] = true;
			nulls[6] = true;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * snapshot_storage_projection(snapshots_per_day, positions_per_snapshot,
 * retention_days) RETURNS TABLE(table_name, rows_per_day, bytes_per_row,
 * retained_rows, projected_size_mb, basis) plus a "total" row.
 *
 * Bytes per row are (table + toast + index bytes) / rows of the existing
 * data ('measured') once a table holds SO_PROJ_MIN_ROWS rows, so that the
 * fixed cost of small relations does not dominate; before that, the
 * defaults above ('default').  The total's basis is 'mixed' when the tables
 * differ.
 */
Datum
snapshot_ops_snapshot_storage_projection(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			nspid = get_func_namespace(fcinfo->flinfo->fn_oid);
	char	   *qschema = so_quoted_schema(nspid);
	int64		per_day[4];
	int64		total_per_day = 0;
	int64		total_retained = 0;
	double		total_mb = 0;
	int			measured = 0;
	const char *argnames[3] = {"snapshots_per_day", "positions_per_snapshot", "retention_days"};

	for (int i = 0; i < 3; i++)
		if (PG_ARGISNULL(i) || PG_GETARG_INT32(i) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must be zero or more", argnames[i])));
	so_init_materialized_srf(fcinfo, 0);

	per_day[0] = per_day[2] = per_day[3] = PG_GETARG_INT32(0);
	per_day[1] = (int64) PG_GETARG_INT32(0) * PG_GETARG_INT32(1);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (int t = 0; t < (int) lengthof(so_tables); t++)
	{
		char	   *rel = psprintf("%s.%s", qschema, so_tables[t]);
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};
		bool		isnull;
		int64		rows;
		int64		bytes;
		int64		retained;
		double		per_row;
		double		mb;
		bool		is_measured;

		if (SPI_execute(psprintf("SELECT pg_catalog.count(*),"
								 " pg_catalog.pg_total_relation_size(%s::pg_catalog.regclass)"
								 " FROM %s", quote_literal_cstr(rel), rel),
						true, 0) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "size query of %s failed", rel);
		rows = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 1, &isnull));
		bytes = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 2, &isnull));
		is_measured = rows >= SO_PROJ_MIN_ROWS;
		per_row = is_measured ? (double) bytes / rows : so_default_row_bytes[t];
		if (pg_mul_s64_overflow(per_day[t], PG_GETARG_INT32(2), &retained))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("projected row count out of range")));
		mb = retained * per_row / SO_BYTES_PER_MB;
		measured += is_measured ? 1 : 0;
		if (pg_add_s64_overflow(total_per_day, per_day[t], &total_per_day) ||
			pg_add_s64_overflow(total_retained, retained, &total_retained))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("projected row count out of range")));
		total_mb += mb;

		values[0] = CStringGetTextDatum(so_tables[t]);
		values[1] = Int64GetDatum(per_day[t]);
		values[2] = so_numeric(per_row, 1);
		values[3] = Int64GetDatum(retained);
		values[4] = so_numeric(mb, 2);
		values[5] = CStringGetTextDatum(is_measured ? "measured" : "default");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();

	{
		Datum		values[6];
		bool		nulls[6] = {false, false, true, false, false, false};

		values[0] = CStringGetTextDatum("total");
		values[1] = Int64GetDatum(total_per_day);
		values[2] = (Datum) 0;
		values[3] = Int64GetDatum(total_retained);
		values[4] = so_numeric(total_mb, 2);
		values[5] = CStringGetTextDatum(measured == 4 ? "measured" :
										measured == 0 ? "default" : "mixed");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
