/*-------------------------------------------------------------------------
 *
 * retention.c
 *		Deleting expired snapshots: cleanup_old_snapshots_30d(),
 *		cleanup_old_snapshots(), the procedure snapshot_ops.run_cleanup()
 *		and so_cleanup_batch() for the background worker.
 *
 * A snapshot expires when
 *
 *	created_at < cutoff
 *	AND status = ANY (statuses)
 *	AND NOT (status = 'running' AND it is the latest snapshot of its session,
 *			 by (created_at, snapshot_id))
 *
 * With statuses {stopped, crashed} (the report's rule, retention_mode
 * "finished") snapshots of running sessions are kept for ever; adding
 * "running" (retention_mode "bounded") bounds the growth while every running
 * session keeps the snapshot it resumes from.  One statement deletes a
 * batch of session rows, their children go by the foreign keys' ON DELETE
 * CASCADE, and the counts returned are the numbers of rows removed from
 * each table (children counted in the statement's snapshot, which is what
 * the cascade deletes; a new child of a snapshot being deleted cannot
 * appear meanwhile, as its insert must lock the parent row).
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/retention.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "guc.h"
#include "holds.h"
#include "retention.h"
#include "spi_util.h"

/* Status sets, as bits. */
#define SO_ST_RUNNING	0x01
#define SO_ST_STOPPED	0x02
#define SO_ST_CRASHED	0x04

static SoKeptPlan so_delete_plan;
static SoKeptPlan so_count_plan;

static char *so_victims_cte(const char *qschema);
static char *so_delete_sql(const char *qschema);
static char *so_count_sql(const char *qschema);
static int	so_parse_statuses(ArrayType *statuses);
static Datum so_status_array(int mask);
static int64 so_expire(Oid nspid, TimestampTz cutoff, int mask, int64 limit,
					   bool dry_run, SoCleanupCounts *counts,
					   TimestampTz *resume);
static TimestampTz so_cutoff(Interval *older_than);

PG_FUNCTION_INFO_V1(snapshot_ops_cleanup_old_snapshots_30d);
PG_FUNCTION_INFO_V1(snapshot_ops_cleanup_old_snapshots);
PG_FUNCTION_INFO_V1(snapshot_ops_run_cleanup);

/*
 * The expired snapshots, oldest first, at most $3 of them (NULL: all).
 * $1 cutoff, $2 statuses, $4 where the previous batch of the same run
 * stopped (-infinity at first), so that a batch does not walk again over
 * the index entries of rows deleted or kept by the batches before it.  The
 * retention index finds the candidates by created_at; the latest-running
 * test probes the session index.
 */
static char *
so_victims_cte(const char *qschema)
{
	return psprintf(
					"WITH v AS ("
					" SELECT s.snapshot_id, s.created_at FROM %1$s.session_snapshots s"
					" WHERE s.created_at OPERATOR(pg_catalog.<) $1"
					" AND s.created_at OPERATOR(pg_catalog.>=) $4"
					" AND s.status OPERATOR(pg_catalog.=) ANY ($2)"
					" AND NOT (s.status OPERATOR(pg_catalog.=) 'running' AND NOT EXISTS ("
					"  SELECT FROM %1$s.session_snapshots n"
					"  WHERE n.session_id OPERATOR(pg_catalog.=) s.session_id"
					"  AND (n.created_at OPERATOR(pg_catalog.>) s.created_at"
					"   OR (n.created_at OPERATOR(pg_catalog.=) s.created_at"
					"    AND n.snapshot_id OPERATOR(pg_catalog.>) s.snapshot_id))))"
					" ORDER BY s.created_at LIMIT $3)",
					qschema);
}

/*
 * Delete the session rows; the cascade removes the children at the end of
 * the statement (a statement trigger from version 1.1, src/refint.c; the
 * foreign keys' ON DELETE CASCADE in 1.0), and the children counted here
 * are exactly those, as the statement's snapshot still sees them.  Arrays
 * (= ANY) rather than joins keep every step an index probe whatever the
 * planner guesses for the batch size.
 */
static char *
so_delete_sql(const char *qschema)
{
	return psprintf(
					"%2$s,"
					" ds AS (DELETE FROM %1$s.session_snapshots s"
					"  WHERE s.snapshot_id OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT v.snapshot_id FROM v))"
					"  RETURNING s.snapshot_id, s.created_at),"
					" d AS (SELECT pg_catalog.array_agg(ds.snapshot_id) AS ids FROM ds)"
					" SELECT (SELECT pg_catalog.max(ds.created_at) FROM ds),"
					" (SELECT pg_catalog.count(*) FROM ds),"
					" (SELECT pg_catalog.count(*) FROM %1$s.position_snapshots p, d"
					"  WHERE p.snapshot_id OPERATOR(pg_catalog.=) ANY (d.ids)),"
					" (SELECT pg_catalog.count(*) FROM %1$s.metrics_snapshots m, d"
					"  WHERE m.snapshot_id OPERATOR(pg_catalog.=) ANY (d.ids)),"
					" (SELECT pg_catalog.count(*) FROM %1$s.risk_guard_snapshots r, d"
					"  WHERE r.snapshot_id OPERATOR(pg_catalog.=) ANY (d.ids))",
					qschema, so_victims_cte(qschema));
}

static char *
so_count_sql(const char *qschema)
{
	return psprintf(
					"%2$s,"
					" d AS (SELECT pg_catalog.array_agg(v.snapshot_id) AS ids FROM v)"
					" SELECT (SELECT pg_catalog.max(v.created_at) FROM v),"
					" (SELECT pg_catalog.count(*) FROM v),"
					" (SELECT pg_catalog.count(*) FROM %1$s.position_snapshots p, d"
					"  WHERE p.snapshot_id OPERATOR(pg_catalog.=) ANY (d.ids)),"
					" (SELECT pg_catalog.count(*) FROM %1$s.metrics_snapshots m, d"
					"  WHERE m.snapshot_id OPERATOR(pg_catalog.=) ANY (d.ids)),"
					" (SELECT pg_catalog.count(*) FROM %1$s.risk_guard_snapshots r, d"
					"  WHERE r.snapshot_id OPERATOR(pg_catalog.=) ANY (d.ids))",
					qschema, so_victims_cte(qschema));
}

/* text[] of the statuses in mask. */
static Datum
so_status_array(int mask)
{
	Datum		elems[3];
	int			n = 0;

	if (mask & SO_ST_RUNNING)
		elems[n++] = CStringGetTextDatum("running");
	if (mask & SO_ST_STOPPED)
		elems[n++] = CStringGetTextDatum("stopped");
	if (mask & SO_ST_CRASHED)
		elems[n++] = CStringGetTextDatum("crashed");
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * Delete (or count, for a dry run) at most limit expired snapshots (limit 0:
 * all) and add the rows per table to *counts; returns the number of session
 * snapshots.  With resume, start at *resume and advance it past this batch.
 * While a retention hold exists, deletes nothing and says so (NOTICE).
 * Connects to SPI itself.
 */
static int64
so_expire(Oid nspid, TimestampTz cutoff, int mask, int64 limit, bool dry_run,
		  SoCleanupCounts *counts, TimestampTz *resume)
{
	static Oid	argtypes[4] = {TIMESTAMPTZOID, TEXTARRAYOID, INT8OID, TIMESTAMPTZOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	SPIPlanPtr	plan;
	int64		got[4];
	bool		isnull;
	Datum		last;

	values[0] = TimestampTzGetDatum(cutoff);
	values[1] = so_status_array(mask);
	values[2] = Int64GetDatum(limit);
	if (limit <= 0)
		nulls[2] = 'n';
	if (resume != NULL)
		values[3] = TimestampTzGetDatum(*resume);
	else
	{
		TimestampTz from;

		TIMESTAMP_NOBEGIN(from);
		values[3] = TimestampTzGetDatum(from);
	}

	/*
	 * A retention hold (src/holds.c) stops every delete.  The hold is read
	 * in the snapshot the delete then uses: a restore commits its rows and
	 * its hold together, so rows the delete could see come with a hold the
	 * check saw.
	 */
	if (!dry_run)
	{
		char	   *why;

		PushActiveSnapshot(GetTransactionSnapshot());
		if (so_retention_held(&why))
		{
			PopActiveSnapshot();
			ereport(NOTICE,
					(errmsg("snapshot_ops retention is on hold: no snapshot was deleted"),
					 errdetail("%s", why),
					 errhint("Once the restored or loaded data has been checked, resume retention with SELECT snapshot_ops.release_retention(); snapshot_ops.list_retention_holds() lists the holds.")));
			return 0;
		}
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (dry_run)
	{
		plan = so_kept_plan(&so_count_plan, nspid, so_count_sql, 4, argtypes);
		so_execute_plan(plan, values, nulls, true, 0, SPI_OK_SELECT);
	}
	else
	{
		int			rc;

		plan = so_kept_plan(&so_delete_plan, nspid, so_delete_sql, 4, argtypes);
		rc = SPI_execute_snapshot(plan, values, nulls, GetActiveSnapshot(),
								  InvalidSnapshot, false, true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(rc));
	}
	if (SPI_processed != 1)
		elog(ERROR, "retention statement returned " UINT64_FORMAT " rows",
			 SPI_processed);
	last = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
						 &isnull);
	if (resume != NULL && !isnull)
		*resume = DatumGetTimestampTz(last);
	for (int i = 0; i < 4; i++)
		got[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, i + 2,
											 &isnull));
	SPI_finish();
	if (!dry_run)
		PopActiveSnapshot();

	counts->sessions += got[0];
	counts->positions += got[1];
	counts->metrics += got[2];
	counts->risk_guard += got[3];
	return got[0];
}

int64
so_cleanup_batch(TimestampTz cutoff, bool include_running, int batch_size,
				 SoCleanupCounts *counts)
{
	return so_cleanup_batch_resume(cutoff, include_running, batch_size,
								   counts, NULL);
}

int64
so_cleanup_batch_resume(TimestampTz cutoff, bool include_running,
						int batch_size, SoCleanupCounts *counts,
						TimestampTz *resume)
{
	int			mask = SO_ST_STOPPED | SO_ST_CRASHED;

	if (include_running)
		mask |= SO_ST_RUNNING;
	if (batch_size < 1)
		elog(ERROR, "cleanup batch size must be positive");
	return so_expire(so_extension_schema(), cutoff, mask, batch_size, false,
					 counts, resume);
}

/*
 * The status set of a text[] argument; ERROR for NULL, empty, NULL
 * elements and unknown statuses.
 */
static int
so_parse_statuses(ArrayType *statuses)
{
	Datum	   *elems;
	bool	   *elemnulls;
	int			n;
	int			mask = 0;

	if (ARR_NDIM(statuses) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("statuses must be a one-dimensional array"),
				 errdetail("The array has %d dimensions.", ARR_NDIM(statuses)),
				 errhint("Pass for example ARRAY['stopped', 'crashed'].")));
	deconstruct_array(statuses, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &elemnulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("statuses must not be empty"),
				 errhint("Valid statuses are running, stopped and crashed.")));
	for (int i = 0; i < n; i++)
	{
		char	   *s;

		if (elemnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("statuses must not contain null"),
					 errdetail("Element %d is null.", i + 1),
					 errhint("Valid statuses are running, stopped and crashed.")));
		s = TextDatumGetCString(elems[i]);
		if (strcmp(s, "running") == 0)
			mask |= SO_ST_RUNNING;
		else if (strcmp(s, "stopped") == 0)
			mask |= SO_ST_STOPPED;
		else if (strcmp(s, "crashed") == 0)
			mask |= SO_ST_CRASHED;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown snapshot status \"%s\"", so_clip(s, -1)),
					 errdetail("Element %d of statuses is not a status.", i + 1),
					 errhint("Valid statuses are running, stopped and crashed.")));
	}
	return mask;
}

/*
 * now() - older_than, after checking that older_than is longer than zero.
 */
static TimestampTz
so_cutoff(Interval *older_than)
{
	if (!so_interval_is_positive(older_than))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention interval must be positive"),
				 errdetail("The interval given is %s.",
						   DatumGetCString(DirectFunctionCall1(interval_out,
															   IntervalPGetDatum(older_than)))),
				 errhint("Give the age past which snapshots expire, such as '30 days'.")));
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
												   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
												   IntervalPGetDatum(older_than)));
}

/*
 * cleanup_old_snapshots_30d() RETURNS TABLE(deleted_sessions integer,
 * deleted_positions integer): the report's function, with true counts.
 */
Datum
snapshot_ops_cleanup_old_snapshots_30d(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Interval	month = {0};
	SoCleanupCounts counts = {0};
	Datum		values[2];
	bool		nulls[2] = {false, false};

	so_init_materialized_srf(fcinfo, 0);
	month.day = 30;
	(void) so_expire(get_func_namespace(fcinfo->flinfo->fn_oid),
					 so_cutoff(&month), SO_ST_STOPPED | SO_ST_CRASHED, 0,
					 false, &counts, NULL);
	if (counts.sessions > PG_INT32_MAX || counts.positions > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("deleted row count out of range for type integer"),
				 errhint("Use cleanup_old_snapshots(), which returns bigint counts.")));
	values[0] = Int32GetDatum((int32) counts.sessions);
	values[1] = Int32GetDatum((int32) counts.positions);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/*
 * cleanup_old_snapshots(older_than interval, statuses text[], dry_run
 * boolean) RETURNS TABLE(deleted_sessions, deleted_positions,
 * deleted_metrics, deleted_risk_guard bigint): the general form, in one
 * statement (for batches that commit, CALL snapshot_ops.run_cleanup()).
 */
Datum
snapshot_ops_cleanup_old_snapshots(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SoCleanupCounts counts = {0};
	TimestampTz cutoff;
	int			mask;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("older_than must not be null"),
				 errhint("Give the age past which snapshots expire, such as '30 days'.")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("statuses must not be null"),
				 errhint("Valid statuses are running, stopped and crashed.")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dry_run must not be null")));

	cutoff = so_cutoff(PG_GETARG_INTERVAL_P(0));
	mask = so_parse_statuses(PG_GETARG_ARRAYTYPE_P(1));
	so_init_materialized_srf(fcinfo, 0);
	(void) so_expire(get_func_namespace(fcinfo->flinfo->fn_oid), cutoff, mask,
					 0, PG_GETARG_BOOL(2), &counts, NULL);

	values[0] = Int64GetDatum(counts.sessions);
	values[1] = Int64GetDatum(counts.positions);
	values[2] = Int64GetDatum(counts.metrics);
	values[3] = Int64GetDatum(counts.risk_guard);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/*
 * PROCEDURE snapshot_ops.run_cleanup(older_than interval DEFAULT NULL,
 * batch_size integer DEFAULT NULL)
 *
 * Batched retention: each batch of at most batch_size snapshots is deleted
 * and committed on its own, so no lock or snapshot is held for the whole
 * run.  NULL arguments take snapshot_ops.retention_period and
 * snapshot_ops.cleanup_batch_size; the status set comes from
 * snapshot_ops.retention_mode.  The cutoff is fixed when the call starts.
 */
Datum
snapshot_ops_run_cleanup(PG_FUNCTION_ARGS)
{
	Interval	older_than;
	int			batch_size;
	bool		include_running;
	TimestampTz cutoff;
	SoCleanupCounts counts = {0};
	int64		batches = 0;
	int64		longest_ms = 0;
	TimestampTz run_start;
	TimestampTz resume;

	/* COMMIT needs a CALL of its own, outside any transaction block. */
	if (fcinfo->context == NULL || !IsA(fcinfo->context, CallContext) ||
		castNode(CallContext, fcinfo->context)->atomic)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("snapshot_ops.run_cleanup() cannot run inside a transaction block"),
				 errdetail("It commits after every batch of deleted snapshots."),
				 errhint("CALL it on its own, outside BEGIN ... COMMIT and not from a function; "
						 "cleanup_old_snapshots() deletes in the current transaction.")));

	if (PG_ARGISNULL(0))
		so_get_retention_period(&older_than);
	else
		older_than = *PG_GETARG_INTERVAL_P(0);
	batch_size = PG_ARGISNULL(1) ? so_cleanup_batch_size : PG_GETARG_INT32(1);
	if (batch_size < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch size must be positive"),
				 errdetail("The batch size given is %d.", batch_size)));
	include_running = (so_retention_mode == SO_RETENTION_BOUNDED);
	cutoff = so_cutoff(&older_than);
	run_start = GetCurrentTimestamp();
	TIMESTAMP_NOBEGIN(resume);

	if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed");
	for (;;)
	{
		TimestampTz start = GetCurrentTimestamp();
		int64		deleted;
		long		secs;
		int			usecs;
		int64		ms;

		CHECK_FOR_INTERRUPTS();
		deleted = so_cleanup_batch_resume(cutoff, include_running, batch_size,
										  &counts, &resume);
		SPI_commit();
		TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);
		ms = (int64) secs * 1000 + usecs / 1000;
		longest_ms = Max(longest_ms, ms);
		if (deleted == 0)
			break;
		batches++;
		elog(DEBUG1, "snapshot_ops.run_cleanup: batch " INT64_FORMAT " deleted " INT64_FORMAT " snapshots in " INT64_FORMAT " ms",
			 batches, deleted, ms);
	}
	SPI_finish();

	{
		long		secs;
		int			usecs;

		TimestampDifference(run_start, GetCurrentTimestamp(), &secs, &usecs);
		ereport(NOTICE,
				(errmsg("snapshot_ops.run_cleanup: deleted snapshots: " INT64_FORMAT ", positions: " INT64_FORMAT ", metrics rows: " INT64_FORMAT ", risk_guard rows: " INT64_FORMAT "; batches: " INT64_FORMAT,
						counts.sessions, counts.positions, counts.metrics,
						counts.risk_guard, batches),
				 errdetail("Took %ld ms; longest batch " INT64_FORMAT " ms; batch size %d, mode %s.",
						   secs * 1000 + usecs / 1000, longest_ms, batch_size,
						   include_running ? "bounded" : "finished")));
	}
	PG_RETURN_VOID();
}
