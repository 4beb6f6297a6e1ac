/*-------------------------------------------------------------------------
 *
 * retention.c
 *		Deleting expired snapshots: cleanup_old_snapshots_30d(),
 *		cleanup_old_snapshots(), and the batch loop (so_cleanup_start(),
 *		so_cleanup_step()) that both the worker's cleanup job and the
 *		procedure snapshot_ops.run_cleanup() run.
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
#include "lib/stringinfo.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "guc.h"
#include "holds.h"
#include "jobrec.h"
#include "retention.h"
#include "spi_util.h"
#include "version.h"

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
					   TimestampTz *resume_at, int64 *resume_id,
					   char **held_why);
static void so_held_notice(const char *why);
static TimestampTz so_cutoff(const Interval *older_than, TimestampTz now);

PG_FUNCTION_INFO_V1(snapshot_ops_cleanup_old_snapshots_30d);
PG_FUNCTION_INFO_V1(snapshot_ops_cleanup_old_snapshots);
PG_FUNCTION_INFO_V1(snapshot_ops_run_cleanup);

/*
 * The expired snapshots, oldest first, at most $3 of them (NULL: all).
 * $1 cutoff, $2 statuses, ($4, $5) the key (created_at, snapshot_id) of
 * the last snapshot the previous batch of the same run deleted
 * (-infinity, 0 at first), so that a batch does not walk again over the
 * index entries of rows deleted or kept by the batches before it.  The
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
					" AND (s.created_at OPERATOR(pg_catalog.>) $4"
					"  OR s.snapshot_id OPERATOR(pg_catalog.>) $5)"
					" AND s.status OPERATOR(pg_catalog.=) ANY ($2)"
					" AND NOT (s.status OPERATOR(pg_catalog.=) 'running' AND NOT EXISTS ("
					"  SELECT FROM %1$s.session_snapshots n"
					"  WHERE n.session_id OPERATOR(pg_catalog.=) s.session_id"
					"  AND (n.created_at OPERATOR(pg_catalog.>) s.created_at"
					"   OR (n.created_at OPERATOR(pg_catalog.=) s.created_at"
					"    AND n.snapshot_id OPERATOR(pg_catalog.>) s.snapshot_id))))"
					" ORDER BY s.created_at, s.snapshot_id LIMIT $3)",
					qschema);
}

/*
 * Delete the session rows; the cascade removes the children at the end of
 * the statement (a statement trigger from version 1.1, src/refint.c; the
 * foreign keys' ON DELETE CASCADE in 1.0), and the children counted here
 * are exactly those, as the statement's snapshot still sees them.  Arrays
 * (= ANY) rather than joins keep every step an index probe whatever the
 * planner guesses for the batch size.  Columns: the key (created_at,
 * snapshot_id) of the last snapshot deleted, then the rows per table.
 */
static char *
so_delete_sql(const char *qschema)
{
	return psprintf(
					"%2$s,"
					" ds AS (DELETE FROM %1$s.session_snapshots s"
					"  WHERE s.snapshot_id OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT v.snapshot_id FROM v))"
					"  RETURNING s.snapshot_id, s.created_at),"
					" d AS (SELECT pg_catalog.array_agg(ds.snapshot_id) AS ids FROM ds),"
					" l AS (SELECT ds.created_at, ds.snapshot_id FROM ds"
					"  ORDER BY ds.created_at DESC, ds.snapshot_id DESC LIMIT 1)"
					" SELECT (SELECT l.created_at FROM l), (SELECT l.snapshot_id FROM l),"
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
					" d AS (SELECT pg_catalog.array_agg(v.snapshot_id) AS ids FROM v),"
					" l AS (SELECT v.created_at, v.snapshot_id FROM v"
					"  ORDER BY v.created_at DESC, v.snapshot_id DESC LIMIT 1)"
					" SELECT (SELECT l.created_at FROM l), (SELECT l.snapshot_id FROM l),"
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
 * all) whose key follows (*resume_at, *resume_id) when resume_at is given,
 * and add the rows per table to *counts; returns the number of session
 * snapshots and, with resume_at, moves the resume point past the last one.
 * While a retention hold exists (not for a dry run), deletes nothing,
 * returns -1 and sets *held_why.  Connects to SPI itself.
 */
static int64
so_expire(Oid nspid, TimestampTz cutoff, int mask, int64 limit, bool dry_run,
		  SoCleanupCounts *counts, TimestampTz *resume_at, int64 *resume_id,
		  char **held_why)
{
	static Oid	argtypes[5] = {TIMESTAMPTZOID, TEXTARRAYOID, INT8OID,
	TIMESTAMPTZOID, INT8OID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	SPIPlanPtr	plan;
	int64		got[4];
	bool		at_null;
	bool		id_null;
	Datum		last_at;
	Datum		last_id;

	values[0] = TimestampTzGetDatum(cutoff);
	values[1] = so_status_array(mask);
	values[2] = Int64GetDatum(limit);
	if (limit <= 0)
		nulls[2] = 'n';
	if (resume_at != NULL)
	{
		values[3] = TimestampTzGetDatum(*resume_at);
		values[4] = Int64GetDatum(*resume_id);
	}
	else
	{
		TimestampTz from;

		TIMESTAMP_NOBEGIN(from);
		values[3] = TimestampTzGetDatum(from);
		values[4] = Int64GetDatum(0);
	}

	/*
	 * A retention hold (src/holds.c) stops every delete.  The hold is read
	 * in the snapshot the delete then uses: a restore commits its rows and
	 * its hold together, so rows the delete could see come with a hold the
	 * check saw.
	 */
	if (!dry_run)
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		if (so_retention_held(held_why))
		{
			PopActiveSnapshot();
			return -1;
		}
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (dry_run)
	{
		plan = so_kept_plan(&so_count_plan, nspid, so_count_sql, 5, argtypes);
		so_execute_plan(plan, values, nulls, true, 0, SPI_OK_SELECT);
	}
	else
	{
		int			rc;

		plan = so_kept_plan(&so_delete_plan, nspid, so_delete_sql, 5, argtypes);
		rc = SPI_execute_snapshot(plan, values, nulls, GetActiveSnapshot(),
								  InvalidSnapshot, false, true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(rc));
	}
	if (SPI_processed != 1)
		elog(ERROR, "retention statement returned " UINT64_FORMAT " rows",
			 SPI_processed);
	last_at = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
							&at_null);
	last_id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
							&id_null);
	if (resume_at != NULL && !at_null && !id_null)
	{
		*resume_at = DatumGetTimestampTz(last_at);
		*resume_id = DatumGetInt64(last_id);
	}
	for (int i = 0; i < 4; i++)
	{
		bool		isnull;

		got[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, i + 3,
											 &isnull));
	}
	SPI_finish();
	if (!dry_run)
		PopActiveSnapshot();

	counts->sessions += got[0];
	counts->positions += got[1];
	counts->metrics += got[2];
	counts->risk_guard += got[3];
	return got[0];
}

void
so_cleanup_start(SoCleanupRun *run, const Interval *older_than, int batch_size)
{
	Interval	period;

	memset(run, 0, sizeof(SoCleanupRun));
	if (older_than == NULL)
	{
		so_get_retention_period(&period);
		older_than = &period;
	}
	if (batch_size <= 0)
		batch_size = so_cleanup_batch_size;
	run->batch_size = batch_size;
	run->cxt = CurrentMemoryContext;
	run->include_running = (so_retention_mode == SO_RETENTION_BOUNDED);
	run->cutoff = so_cutoff(older_than, GetCurrentTimestamp());
	TIMESTAMP_NOBEGIN(run->resume_at);
	run->resume_id = 0;
}

int64
so_cleanup_step(SoCleanupRun *run)
{
	int			mask = SO_ST_STOPPED | SO_ST_CRASHED;
	TimestampTz start = GetCurrentTimestamp();
	int64		deleted;
	int64		ms;

	if (run->include_running)
		mask |= SO_ST_RUNNING;
	deleted = so_expire(so_extension_schema(), run->cutoff, mask,
						run->batch_size, false, &run->counts,
						&run->resume_at, &run->resume_id, &run->held_why);
	if (deleted < 0)
	{
		/* the run stops at the hold; what it deleted before stays deleted */
		run->held = true;
		run->held_why = MemoryContextStrdup(run->cxt, run->held_why);
		run->done = true;
		return 0;
	}
	ms = TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
	run->longest_ms = Max(run->longest_ms, ms);
	if (deleted > 0)
		run->batches++;
	/* a short batch reached the end of the expired snapshots */
	if (deleted < run->batch_size)
		run->done = true;
	return deleted;
}

char *
so_cleanup_describe(const SoCleanupRun *run)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf,
					 "deleted " INT64_FORMAT " snapshots (" INT64_FORMAT " positions, "
					 INT64_FORMAT " metrics, " INT64_FORMAT " risk_guard rows) "
					 "created before %s, retention_mode %s, batches: " INT64_FORMAT
					 " of at most %d, longest " INT64_FORMAT " ms",
					 run->counts.sessions, run->counts.positions,
					 run->counts.metrics, run->counts.risk_guard,
					 timestamptz_to_str(run->cutoff),
					 run->include_running ? "bounded" : "finished",
					 run->batches, run->batch_size, run->longest_ms);
	if (run->held)
		appendStringInfo(&buf, "; stopped: %s", run->held_why);
	return buf.data;
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
 * now - older_than, after checking that older_than is longer than zero.
 */
static TimestampTz
so_cutoff(const Interval *older_than, TimestampTz now)
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
												   TimestampTzGetDatum(now),
												   IntervalPGetDatum(unconstify(Interval *, older_than))));
}

/*
 * What the one-statement retention functions say when a retention hold
 * stopped them: nothing was deleted, why, and how to resume.
 */
static void
so_held_notice(const char *why)
{
	ereport(NOTICE,
			(errmsg("snapshot_ops retention is on hold: no snapshot was deleted"),
			 errdetail("%s", why),
			 errhint("Once the restored or loaded data has been checked, resume retention with SELECT snapshot_ops.release_retention(); snapshot_ops.list_retention_holds() lists the holds.")));
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
	char	   *why = NULL;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	so_require_version(SO_SQL_1_0, "cleanup_old_snapshots_30d()");
	so_init_materialized_srf(fcinfo, 0);
	month.day = 30;
	if (so_expire(get_func_namespace(fcinfo->flinfo->fn_oid),
				  so_cutoff(&month, GetCurrentTransactionStartTimestamp()),
				  SO_ST_STOPPED | SO_ST_CRASHED, 0, false, &counts,
				  NULL, NULL, &why) < 0)
		so_held_notice(why);
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
	char	   *why = NULL;
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

	so_require_version(SO_SQL_1_0, "cleanup_old_snapshots()");
	cutoff = so_cutoff(PG_GETARG_INTERVAL_P(0),
					   GetCurrentTransactionStartTimestamp());
	mask = so_parse_statuses(PG_GETARG_ARRAYTYPE_P(1));
	so_init_materialized_srf(fcinfo, 0);
	if (so_expire(get_func_namespace(fcinfo->flinfo->fn_oid), cutoff, mask,
				  0, PG_GETARG_BOOL(2), &counts, NULL, NULL, &why) < 0)
		so_held_notice(why);

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
 * Batched retention: the worker's batch loop (so_cleanup_step), each batch
 * committed on its own, so no lock or snapshot is held for the whole run.
 * NULL arguments take snapshot_ops.retention_period and
 * snapshot_ops.cleanup_batch_size; the status set comes from
 * snapshot_ops.retention_mode; the cutoff is fixed when the call starts.
 * From version 1.1 the run is a row of snapshot_ops.job_runs (trigger
 * "call"), written like the worker's in transactions of its own.
 * Errors: 25001 inside a transaction block or a function, 22023 for a
 * non-positive interval or batch size.
 */
Datum
snapshot_ops_run_cleanup(PG_FUNCTION_ARGS)
{
	Interval	older_than;
	int			batch_size;
	SoCleanupRun run;
	SoRunRecord *volatile rec = NULL;
	volatile bool in_batch = false;
	volatile int64 run_id = 0;
	TimestampTz run_start = GetCurrentTimestamp();
	MemoryContext cxt = CurrentMemoryContext;

	/* COMMIT needs a CALL of its own, outside any transaction block. */
	if (fcinfo->context == NULL || !IsA(fcinfo->context, CallContext) ||
		castNode(CallContext, fcinfo->context)->atomic)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("snapshot_ops.run_cleanup() cannot run inside a transaction block"),
				 errdetail("It commits after every batch of deleted snapshots."),
				 errhint("CALL it on its own, outside BEGIN ... COMMIT and not from a function; "
						 "cleanup_old_snapshots() deletes in the current transaction.")));

	/* deletes rows: never against SQL this library does not know */
	so_require_version(SO_SQL_1_0, "snapshot_ops.run_cleanup()");
	PreventCommandIfReadOnly("CALL snapshot_ops.run_cleanup()");
	PreventCommandDuringRecovery("CALL snapshot_ops.run_cleanup()");
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
	so_cleanup_start(&run, &older_than, batch_size);

	if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed");
	if (so_rec_has_1_1())
	{
		rec = so_rec_begin(SO_JOB_CLEANUP, SO_TRIGGER_CALL);
		SPI_commit();
	}

	/*
	 * The batches and their progress records.  Any error (a batch's, or a
	 * cancel that lands while a record is written) is recorded as the
	 * run's failure and then handed to the caller.
	 */
	PG_TRY();
	{
		for (;;)
		{
			CHECK_FOR_INTERRUPTS();
			BeginInternalSubTransaction(NULL);
			in_batch = true;
			(void) so_cleanup_step(&run);
			ReleaseCurrentSubTransaction();
			in_batch = false;
			MemoryContextSwitchTo(cxt);
			SPI_commit();
			if (run.done || run.held)
				break;
			if (rec != NULL)
			{
				so_rec_progress(rec, run.counts.sessions, so_cleanup_describe(&run));
				SPI_commit();
			}
			elog(DEBUG1, "snapshot_ops.run_cleanup: %s", so_cleanup_describe(&run));
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		if (in_batch)
			RollbackAndReleaseCurrentSubTransaction();
		if (rec != NULL)
		{
			(void) so_rec_end(rec, SO_RUN_FAILED, run.counts.sessions,
							  psprintf("%s; then %s", so_cleanup_describe(&run),
									   edata->message));
			SPI_commit();
		}
		ReThrowError(edata);
	}
	PG_END_TRY();
	if (rec != NULL)
	{
		run_id = so_rec_end(rec, run.held ? SO_RUN_SKIPPED : SO_RUN_SUCCEEDED,
							run.counts.sessions, so_cleanup_describe(&run));
		SPI_commit();
	}
	SPI_finish();

	if (run.held)
		so_held_notice(run.held_why);
	ereport(NOTICE,
			(errmsg("snapshot_ops.run_cleanup: deleted snapshots: " INT64_FORMAT ", positions: " INT64_FORMAT ", metrics rows: " INT64_FORMAT ", risk_guard rows: " INT64_FORMAT "; batches: " INT64_FORMAT,
					run.counts.sessions, run.counts.positions, run.counts.metrics,
					run.counts.risk_guard, run.batches),
			 errdetail("Took " INT64_FORMAT " ms; longest batch " INT64_FORMAT " ms; batch size %d, mode %s%s%s.",
					   TimestampDifferenceMilliseconds(run_start, GetCurrentTimestamp()),
					   run.longest_ms, batch_size,
					   run.include_running ? "bounded" : "finished",
					   run_id != 0 ? psprintf("; run " INT64_FORMAT " in snapshot_ops.job_runs", run_id) : "",
					   run.held ? psprintf("; stopped: %s", run.held_why) : "")));
	PG_RETURN_VOID();
}
