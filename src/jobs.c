/*-------------------------------------------------------------------------
 *
 * jobs.c
 *		The jobs of the snapshot_ops worker and their run history.
 *
 * cleanup deletes expired snapshots in batches of
 * snapshot_ops.cleanup_batch_size, one transaction per batch, so that no
 * lock or snapshot is held for the whole run and SIGTERM ends it between
 * two batches.  vacuum runs VACUUM (ANALYZE) on each of the four tables as
 * its own top-level command, through a portal as exec_simple_query does:
 * VACUUM refuses to run inside a function or a transaction block, and
 * run this way it manages its own transactions.  One table that cannot be
 * locked within snapshot_ops.vacuum_lock_timeout fails the run without
 * keeping the other three from being vacuumed.  After the VACUUMs, a GIN
 * index whose entry tree is mostly keys of deleted rows is rebuilt
 * concurrently (ginmaint.c).
 *
 * Every run is a row of snapshot_ops.job_runs, inserted and committed
 * before the work starts (so a crash leaves a "running" row, marked
 * "interrupted" when the worker next starts) and updated when it ends.
 * History older than snapshot_ops.job_history_retention is pruned after
 * each run, keeping the latest run of each job.
 *
 * The worker runs with search_path = pg_catalog, pg_temp; all SQL here is
 * schema-qualified and pins its operators.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/jobs.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "ginmaint.h"
#include "guc.h"
#include "jobs.h"
#include "retention.h"
#include "spi_util.h"

const char *const so_table_names[SO_NUM_TABLES] = {
	"session_snapshots",
	"position_snapshots",
	"metrics_snapshots",
	"risk_guard_snapshots"
};

/* What a run did; kept in memory so that it survives an error. */
typedef struct SoRunResult
{
	StringInfoData msg;
	int64		rows;
	bool		failed;
} SoRunResult;

/* Plans kept across transactions; prepared again if the extension changes. */
static Oid	so_plans_extoid = InvalidOid;
static SPIPlanPtr so_plan_insert = NULL;
static SPIPlanPtr so_plan_finish = NULL;
static SPIPlanPtr so_plan_progress = NULL;
static SPIPlanPtr so_plan_prune = NULL;

/* Memory of one run, reset at the start of the next. */
static MemoryContext so_run_cxt = NULL;

/* Memory of one top-level statement (parse and plan trees). */
static MemoryContext so_stmt_cxt = NULL;

static SPIPlanPtr so_prepare(const char *sql, int nargs, Oid *argtypes);
static void so_jobs_prepare(void);
static int64 so_record_start(SoJob job, SoTrigger trigger);
static void so_record_end(int64 run_id, SoRunStatus status, int64 rows,
						  const char *message);
static void so_record_progress(int64 run_id, int64 rows, const char *message);
static void so_exec_toplevel(const char *sql);
static void so_job_vacuum(SoWorkerSlot *slot, SoRunResult *res);
static void so_job_cleanup(int64 run_id, SoRunResult *res);
static void so_publish(SoWorkerSlot *slot, SoJob job, bool running,
					   int64 run_id, SoRunStatus status, int64 rows,
					   int64 ms, const char *message);

static SPIPlanPtr
so_prepare(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

/*
 * Prepare the job_runs statements once, and again when the extension has
 * been dropped and created since.  Needs SPI.
 */
static void
so_jobs_prepare(void)
{
	Oid			extoid = get_extension_oid("snapshot_ops", false);
	Oid			insert_types[3] = {TEXTOID, TEXTOID, INT4OID};
	Oid			finish_types[4] = {INT8OID, TEXTOID, INT8OID, TEXTOID};
	Oid			progress_types[3] = {INT8OID, INT8OID, TEXTOID};
	Oid			prune_types[1] = {INTERVALOID};

	if (extoid == so_plans_extoid && so_plan_insert != NULL)
		return;

	if (so_plan_insert != NULL)
	{
		SPI_freeplan(so_plan_insert);
		SPI_freeplan(so_plan_finish);
		SPI_freeplan(so_plan_progress);
		SPI_freeplan(so_plan_prune);
		so_plan_insert = so_plan_finish = so_plan_progress = so_plan_prune = NULL;
	}

	so_plan_insert = so_prepare(
								"INSERT INTO snapshot_ops.job_runs (job, trigger, status, worker_pid) "
								"VALUES ($1, $2, 'running', $3) RETURNING run_id",
								3, insert_types);
	so_plan_finish = so_prepare(
								"UPDATE snapshot_ops.job_runs "
								"SET finished_at = pg_catalog.clock_timestamp(), status = $2, "
								"    rows_affected = $3, message = $4 "
								"WHERE run_id OPERATOR(pg_catalog.=) $1",
								4, finish_types);
	so_plan_progress = so_prepare(
								  "UPDATE snapshot_ops.job_runs SET rows_affected = $2, message = $3 "
								  "WHERE run_id OPERATOR(pg_catalog.=) $1",
								  3, progress_types);
	so_plan_prune = so_prepare(
							   "DELETE FROM snapshot_ops.job_runs r "
							   "WHERE r.finished_at OPERATOR(pg_catalog.<) "
							   "      (pg_catalog.now() OPERATOR(pg_catalog.-) $1) "
							   "  AND r.run_id OPERATOR(pg_catalog.<>) ALL "
							   "      (SELECT DISTINCT ON (l.job) l.run_id FROM snapshot_ops.job_runs l "
							   "        ORDER BY l.job, l.started_at DESC, l.run_id DESC)",
							   1, prune_types);
	so_plans_extoid = extoid;
}

uint64
so_jobs_mark_interrupted(void)
{
	int			ret;

	ret = SPI_execute("UPDATE snapshot_ops.job_runs "
					  "SET status = 'interrupted', "
					  "    finished_at = pg_catalog.now(), "
					  "    message = 'the worker stopped before the run finished' "
					  "WHERE status OPERATOR(pg_catalog.=) 'running'",
					  false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "could not mark interrupted runs: %s",
			 SPI_result_code_string(ret));
	return SPI_processed;
}

TimestampTz
so_jobs_last_started(SoJob job)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	bool		isnull;
	Datum		d;
	int			ret;

	values[0] = CStringGetTextDatum(so_job_names[job]);
	ret = SPI_execute_with_args("SELECT pg_catalog.max(started_at) "
								"FROM snapshot_ops.job_runs "
								"WHERE job OPERATOR(pg_catalog.=) $1",
								1, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the job history: %s",
			 SPI_result_code_string(ret));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetTimestampTz(d);
}

/*
 * Insert the "running" row of a run, in a transaction of its own, so that
 * it is visible (and survives a crash) before the work starts.
 */
static int64
so_record_start(SoJob job, SoTrigger trigger)
{
	Datum		values[3];
	bool		isnull;
	int64		run_id;
	int			ret;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	so_jobs_prepare();

	values[0] = CStringGetTextDatum(so_job_names[job]);
	values[1] = CStringGetTextDatum(so_trigger_names[trigger]);
	values[2] = Int32GetDatum(MyProcPid);
	ret = SPI_execute_plan(so_plan_insert, values, NULL, false, 1);
	if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "could not record the start of a run: %s",
			 SPI_result_code_string(ret));
	run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1, &isnull));

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return run_id;
}

/*
 * Record the outcome of a run and prune the history, in one transaction.
 */
static void
so_record_end(int64 run_id, SoRunStatus status, int64 rows, const char *message)
{
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	Datum		prune_values[1];
	Interval	keep;
	int			ret;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	so_jobs_prepare();

	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(so_run_status_names[status]);
	values[2] = Int64GetDatum(rows);
	if (message != NULL && message[0] != '\0')
		values[3] = CStringGetTextDatum(message);
	else
	{
		values[3] = (Datum) 0;
		nulls[3] = 'n';
	}
	ret = SPI_execute_plan(so_plan_finish, values, nulls, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "could not record the end of run " INT64_FORMAT ": %s",
			 run_id, SPI_result_code_string(ret));

	so_get_job_history_retention(&keep);
	prune_values[0] = IntervalPGetDatum(&keep);
	ret = SPI_execute_plan(so_plan_prune, prune_values, NULL, false, 0);
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "could not prune the job history: %s",
			 SPI_result_code_string(ret));

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/* Update the row count and message of a running run; needs a transaction. */
static void
so_record_progress(int64 run_id, int64 rows, const char *message)
{
	Datum		values[3];
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	so_jobs_prepare();
	values[0] = Int64GetDatum(run_id);
	values[1] = Int64GetDatum(rows);
	values[2] = CStringGetTextDatum(message);
	ret = SPI_execute_plan(so_plan_progress, values, NULL, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "could not record the progress of run " INT64_FORMAT ": %s",
			 run_id, SPI_result_code_string(ret));
	SPI_finish();
}

/*
 * Run one SQL statement as a top-level command in a transaction of its own,
 * the way exec_simple_query runs a simple query: parse, analyze, plan, and
 * execute through a portal with isTopLevel = true.  Utility statements that
 * refuse to run in a function (VACUUM) work this way.
 */
static void
so_exec_toplevel(const char *sql)
{
	MemoryContext oldcxt;
	List	   *parsetrees;
	RawStmt    *raw;
	List	   *querytrees;
	List	   *plantrees;
	Portal		portal;
	DestReceiver *dest;
	QueryCompletion qc;

	if (so_stmt_cxt == NULL)
		so_stmt_cxt = AllocSetContextCreate(TopMemoryContext,
											"snapshot_ops statement",
											ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(so_stmt_cxt);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	debug_query_string = sql;
	pgstat_report_activity(STATE_RUNNING, sql);

	/*
	 * Trees live outside the transaction: VACUUM commits the transaction
	 * that started it.
	 */
	oldcxt = MemoryContextSwitchTo(so_stmt_cxt);
	parsetrees = pg_parse_query(sql);
	if (list_length(parsetrees) != 1)
		elog(ERROR, "expected one statement in \"%s\"", sql);
	raw = linitial_node(RawStmt, parsetrees);
	querytrees = so_analyze_and_rewrite(raw, sql);
	plantrees = pg_plan_queries(querytrees, sql, CURSOR_OPT_PARALLEL_OK, NULL);

	portal = CreatePortal("snapshot_ops", true, true);
	portal->visible = false;
	PortalDefineQuery(portal, NULL, sql, CreateCommandTag(raw->stmt),
					  plantrees, NULL);
	PortalStart(portal, NULL, 0, InvalidSnapshot);
	MemoryContextSwitchTo(oldcxt);

	dest = CreateDestReceiver(DestNone);
	(void) PortalRun(portal, FETCH_ALL, true, true, dest, dest, &qc);
	dest->rDestroy(dest);
	PortalDrop(portal, false);

	CommitTransactionCommand();
	debug_query_string = NULL;
	MemoryContextReset(so_stmt_cxt);
}

/*
 * so_exec_toplevel(sql), catching its error: NULL when it succeeded,
 * otherwise the error's message (allocated in cxt), already logged.
 */
static char *
so_try_toplevel(const char *sql, MemoryContext cxt)
{
	char	   *volatile failure = NULL;

	PG_TRY();
	{
		so_exec_toplevel(sql);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		debug_query_string = NULL;
		failure = edata->message;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	return failure;
}

/*
 * The GIN part of the vacuum job (see ginmaint.c): drop what an unfinished
 * rebuild left, then rebuild each GIN index whose share of empty entries
 * reached snapshot_ops.gin_rebuild_threshold.  Appends what it did to msg.
 */
static void
so_job_gin(SoWorkerSlot *slot, const char *schema, SoRunResult *res)
{
	MemoryContext cxt = CurrentMemoryContext;
	SoGinScan	scan;
	ListCell   *lc;
	bool		waited;

	if (so_gin_rebuild_threshold <= 0)
		return;

	/*
	 * REINDEX and DROP INDEX CONCURRENTLY wait for every transaction that
	 * holds an older snapshot, and a backend waiting for this run in
	 * vacuum_snapshot_tables() or run_job(wait => true) holds one until the
	 * run ends: they would wait for each other until lock_timeout.  Leave
	 * the GIN upkeep to a run nobody waits for (the scheduled ones).
	 */
	LWLockAcquire(so_shared->lock, LW_SHARED);
	waited = slot->jobs[SO_JOB_VACUUM].waited;
	LWLockRelease(so_shared->lock);

	/* one pass: the leftovers are invalid, so not among the indexes */
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	so_gin_scan(so_extension_schema(), true, cxt, &scan);
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);

	foreach(lc, scan.leftovers)
	{
		char	   *name = lfirst(lc);
		char	   *failure;

		if (waited)
		{
			appendStringInfo(&res->msg, "; invalid index %s left by an unfinished rebuild is dropped by the next run nobody waits for",
							 name);
			continue;
		}
		CHECK_FOR_INTERRUPTS();
		failure = so_try_toplevel(psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s.%s",
										   schema, quote_identifier(name)), cxt);
		if (failure)
		{
			appendStringInfo(&res->msg, "; could not drop invalid index %s left by an unfinished rebuild: %s",
							 name, failure);
			res->failed = true;
		}
		else
			appendStringInfo(&res->msg, "; dropped invalid index %s left by an unfinished rebuild",
							 name);
	}

	foreach(lc, scan.indexes)
	{
		SoGinIndexInfo *info = lfirst(lc);
		char	   *failure;
		BlockNumber after;

		if (!info->rebuild_due)
			continue;
		if (waited)
		{
			appendStringInfo(&res->msg, "; %s is due for a rebuild (%.0f%% of its entries empty), left to the next run nobody waits for",
							 info->index_name, info->empty_fraction * 100);
			continue;
		}
		CHECK_FOR_INTERRUPTS();
		failure = so_try_toplevel(psprintf("REINDEX INDEX CONCURRENTLY %s.%s",
										   schema, quote_identifier(info->index_name)), cxt);
		if (failure)
		{
			appendStringInfo(&res->msg, "; rebuilding %s (%.0f%% of its entries empty) failed: %s",
							 info->index_name, info->empty_fraction * 100, failure);
			res->failed = true;
			continue;
		}

		StartTransactionCommand();
		after = so_index_blocks(so_extension_schema(), info->index_name);
		CommitTransactionCommand();
		MemoryContextSwitchTo(cxt);

		appendStringInfo(&res->msg, "; rebuilt %s (%.0f%% of its entries empty): %.1f MB -> %.1f MB",
						 info->index_name, info->empty_fraction * 100,
						 (double) info->blocks * BLCKSZ / (1024 * 1024),
						 (double) after * BLCKSZ / (1024 * 1024));
	}
}

/*
 * The vacuum job: VACUUM (ANALYZE) each table in turn, then the GIN
 * indexes' upkeep.  A table that fails (lock timeout, cancel) is reported
 * and the others still run.
 */
static void
so_job_vacuum(SoWorkerSlot *slot, SoRunResult *res)
{
	char	   *schema;
	StringInfoData done;
	StringInfoData errors;
	int			i;
	MemoryContext cxt = CurrentMemoryContext;

	StartTransactionCommand();
	schema = MemoryContextStrdup(cxt, so_quoted_schema(so_extension_schema()));
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);

	initStringInfo(&done);
	initStringInfo(&errors);
	for (i = 0; i < SO_NUM_TABLES; i++)
	{
		char	   *failure;

		CHECK_FOR_INTERRUPTS();
		failure = so_try_toplevel(psprintf("VACUUM (ANALYZE) %s.%s", schema,
										   quote_identifier(so_table_names[i])), cxt);
		if (failure == NULL)
		{
			appendStringInfo(&done, "%s%s", done.len > 0 ? ", " : "",
							 so_table_names[i]);
			res->rows++;
		}
		else
		{
			appendStringInfo(&errors, "%s%s: %s", errors.len > 0 ? "; " : "",
							 so_table_names[i], failure);
			res->failed = true;
		}
	}

	if (!res->failed)
		appendStringInfo(&res->msg, "VACUUM ANALYZE completed for %d tables: %s",
						 SO_NUM_TABLES, done.data);
	else
		appendStringInfo(&res->msg, "VACUUM ANALYZE failed for %d of %d tables: %s%s%s",
						 SO_NUM_TABLES - (int) res->rows, SO_NUM_TABLES, errors.data,
						 done.len > 0 ? "; completed for: " : "", done.data);

	so_job_gin(slot, schema, res);
}

/*
 * The cleanup job: delete expired snapshots in batches, committing each
 * batch and recording the progress in the run's row.
 */
static void
so_job_cleanup(int64 run_id, SoRunResult *res)
{
	StringInfo	msg = &res->msg;
	Interval	period;
	TimestampTz cutoff;
	bool		include_running = (so_retention_mode == SO_RETENTION_BOUNDED);
	SoCleanupCounts counts;
	MemoryContext cxt = CurrentMemoryContext;
	int			batches = 0;

	memset(&counts, 0, sizeof(counts));
	so_get_retention_period(&period);
	cutoff = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
													 TimestampTzGetDatum(GetCurrentTimestamp()),
													 IntervalPGetDatum(&period)));

	for (;;)
	{
		int64		deleted;
		char		activity[128];

		CHECK_FOR_INTERRUPTS();

		snprintf(activity, sizeof(activity),
				 "snapshot_ops cleanup: run " INT64_FORMAT ", batch %d",
				 run_id, batches + 1);
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		pgstat_report_activity(STATE_RUNNING, activity);
		PushActiveSnapshot(GetTransactionSnapshot());

		deleted = so_cleanup_batch(cutoff, include_running,
								   so_cleanup_batch_size, &counts);
		batches++;
		resetStringInfo(msg);
		appendStringInfo(msg,
						 "deleted " INT64_FORMAT " snapshots (" INT64_FORMAT " positions, "
						 INT64_FORMAT " metrics, " INT64_FORMAT " risk_guard rows) "
						 "created before %s, retention_mode %s, batches: %d",
						 counts.sessions, counts.positions, counts.metrics,
						 counts.risk_guard, timestamptz_to_str(cutoff),
						 include_running ? "bounded" : "finished", batches);
		so_record_progress(run_id, counts.sessions, msg->data);

		PopActiveSnapshot();
		CommitTransactionCommand();
		MemoryContextSwitchTo(cxt);

		if (deleted == 0)
			break;
	}
	res->rows = counts.sessions;
}

/*
 * Publish the state of a job in the worker's slot and wake the backends
 * waiting for it.
 */
static void
so_publish(SoWorkerSlot *slot, SoJob job, bool running, int64 run_id,
		   SoRunStatus status, int64 rows, int64 ms, const char *message)
{
	SoJobState *js = &slot->jobs[job];

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	if (running)
	{
		js->requested = false;
		js->waited = js->wait_next;
		js->wait_next = false;
		js->runs_started++;
		slot->state = SO_SLOT_BUSY;
	}
	else
	{
		js->runs_finished++;
		slot->state = SO_SLOT_IDLE;
	}
	js->running = running;
	js->run_id = run_id;
	js->last_status = status;
	js->last_rows = rows;
	js->last_ms = ms;
	strlcpy(js->last_message, message ? message : "", SO_MESSAGE_LEN);
	LWLockRelease(so_shared->lock);

	ConditionVariableBroadcast(&so_shared->cv);
}

void
so_job_run(SoWorkerSlot *slot, SoJob job, SoTrigger trigger)
{
	int64		run_id;
	TimestampTz started;
	int64		ms;
	SoRunResult *res;
	char		lock_timeout[32];
	char		activity[64];

	if (so_run_cxt == NULL)
		so_run_cxt = AllocSetContextCreate(TopMemoryContext,
										   "snapshot_ops job run",
										   ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(so_run_cxt);
	MemoryContextSwitchTo(so_run_cxt);
	res = palloc0(sizeof(SoRunResult));
	initStringInfo(&res->msg);

	started = GetCurrentTimestamp();
	run_id = so_record_start(job, trigger);
	MemoryContextSwitchTo(so_run_cxt);
	so_publish(slot, job, true, run_id, SO_RUN_RUNNING, 0, 0, NULL);

	snprintf(activity, sizeof(activity), "snapshot_ops %s: run " INT64_FORMAT,
			 so_job_names[job], run_id);
	pgstat_report_activity(STATE_RUNNING, activity);
	ereport(DEBUG1,
			(errmsg_internal("snapshot_ops: starting %s run " INT64_FORMAT " (%s)",
							 so_job_names[job], run_id, so_trigger_names[trigger])));

	/* lock waits of the job's statements are bounded */
	snprintf(lock_timeout, sizeof(lock_timeout), "%d", so_vacuum_lock_timeout);
	SetConfigOption("lock_timeout", lock_timeout, PGC_SUSET, PGC_S_SESSION);

	PG_TRY();
	{
		if (job == SO_JOB_VACUUM)
			so_job_vacuum(slot, res);
		else
			so_job_cleanup(run_id, res);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(so_run_cxt);
		EmitErrorReport();
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		debug_query_string = NULL;
		MemoryContextSwitchTo(so_run_cxt);

		res->failed = true;
		if (res->msg.len > 0)
			appendStringInfoString(&res->msg, "; then ");
		appendStringInfoString(&res->msg, edata->message);
	}
	PG_END_TRY();

	ms = TimestampDifferenceMilliseconds(started, GetCurrentTimestamp());
	so_record_end(run_id, res->failed ? SO_RUN_FAILED : SO_RUN_SUCCEEDED,
				  res->rows, res->msg.data);
	MemoryContextSwitchTo(so_run_cxt);
	so_publish(slot, job, false, run_id,
			   res->failed ? SO_RUN_FAILED : SO_RUN_SUCCEEDED, res->rows, ms,
			   res->msg.data);

	ereport(res->failed ? WARNING : LOG,
			(errmsg("snapshot_ops %s run " INT64_FORMAT " %s in " INT64_FORMAT " ms",
					so_job_names[job], run_id,
					res->failed ? "failed" : "succeeded", ms),
			 errdetail_internal("%s", res->msg.data)));
	pgstat_report_activity(STATE_IDLE, NULL);
}
