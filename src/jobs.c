/*-------------------------------------------------------------------------
 *
 * jobs.c
 *		The jobs of the snapshot_ops worker.
 *
 * cleanup runs the batch loop of retention.c (the one CALL run_cleanup()
 * runs), one transaction per batch, so that no lock or snapshot is held
 * for the whole run and SIGTERM ends it between two batches.  vacuum runs
 * VACUUM (ANALYZE) on each of the four tables as its own top-level
 * command, through a portal as exec_simple_query does: VACUUM refuses to
 * run inside a function or a transaction block, and run this way it
 * manages its own transactions.  One table that cannot be locked within
 * snapshot_ops.vacuum_lock_timeout fails the run without keeping the other
 * three from being vacuumed.  Backends waiting for the run are released
 * there, with the VACUUM's outcome (so_run_work_done); then, with nobody
 * waiting, a GIN index whose entry tree is mostly keys of deleted rows is
 * rebuilt concurrently (ginmaint.c): REINDEX CONCURRENTLY waits for every
 * older snapshot, a waiting backend's included.
 *
 * Every run is a row of snapshot_ops.job_runs, written by jobrec.c in
 * transactions of its own.  Errors are handled as autovacuum handles them
 * (HOLD_INTERRUPTS, AbortOutOfAnyTransaction, FlushErrorState), so a
 * failed run leaves nothing open and the worker goes on.
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
#include "jobrec.h"
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
	bool		skipped;
} SoRunResult;

/* Memory of one run, reset at the start of the next. */
static MemoryContext so_run_cxt = NULL;

/* Memory of one top-level statement (parse and plan trees). */
static MemoryContext so_stmt_cxt = NULL;

static void so_exec_toplevel(const char *sql);
static char *so_try_toplevel(const char *sql, MemoryContext cxt);
static void so_job_gin(const char *schema, SoRunResult *res, TimestampTz started);
static void so_job_vacuum(SoRunResult *res, TimestampTz started);
static void so_job_cleanup(SoRunRecord *rec, SoRunResult *res);
static char *so_recover(MemoryContext cxt);

/*
 * Recover from an error caught in the worker, as do_autovacuum() does:
 * report it, leave no transaction or portal behind, and return the
 * error's message (allocated in cxt).
 */
static char *
so_recover(MemoryContext cxt)
{
	ErrorData  *edata;

	HOLD_INTERRUPTS();
	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	EmitErrorReport();
	AbortOutOfAnyTransaction();
	FlushErrorState();
	debug_query_string = NULL;
	if (so_stmt_cxt != NULL)
		MemoryContextReset(so_stmt_cxt);
	RESUME_INTERRUPTS();
	MemoryContextSwitchTo(cxt);
	return edata->message;
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
		failure = so_recover(cxt);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	return failure;
}

/*
 * The GIN part of the vacuum job (see ginmaint.c): drop what an unfinished
 * rebuild left, then rebuild each GIN index whose share of empty entries
 * reached snapshot_ops.gin_rebuild_threshold.  Only when there is such
 * work are the backends waiting for the run released first (with the
 * outcome of the VACUUMs): a concurrent rebuild waits for every older
 * snapshot, theirs included.  For the same reason a rebuild gives way
 * (postponed, not failed) when a caller asks for the next vacuum run
 * meanwhile.  Appends what it did to res->msg.
 */
static void
so_job_gin(const char *schema, SoRunResult *res, TimestampTz started)
{
	MemoryContext cxt = CurrentMemoryContext;
	SoGinScan	scan;
	ListCell   *lc;
	int			due = 0;

	if (so_gin_rebuild_threshold <= 0)
		return;

	/* one pass: the leftovers are invalid, so not among the indexes */
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	so_gin_scan(so_extension_schema(), true, cxt, &scan);
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);

	foreach(lc, scan.indexes)
		due += ((SoGinIndexInfo *) lfirst(lc))->rebuild_due;
	if (due == 0 && scan.leftovers == NIL)
		return;

	so_run_work_done(SO_JOB_VACUUM, res->failed ? SO_RUN_FAILED : SO_RUN_SUCCEEDED,
					 res->rows,
					 TimestampDifferenceMilliseconds(started, GetCurrentTimestamp()),
					 psprintf("%s; GIN upkeep of %d indexes follows in the same run",
							  res->msg.data, due + list_length(scan.leftovers)));

	foreach(lc, scan.leftovers)
	{
		char	   *name = lfirst(lc);
		char	   *failure;

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
		CHECK_FOR_INTERRUPTS();

		/*
		 * A caller waiting for the next vacuum run holds a snapshot that
		 * REINDEX CONCURRENTLY would wait for while the caller waits for
		 * this run to end: give way, a later run rebuilds the index.
		 */
		if (so_worker_requested(SO_JOB_VACUUM))
		{
			appendStringInfo(&res->msg, "; rebuild of %s (%.0f%% of its entries empty) postponed: a caller is waiting for the next vacuum run",
							 info->index_name, info->empty_fraction * 100);
			continue;
		}
		failure = so_try_toplevel(psprintf("REINDEX INDEX CONCURRENTLY %s.%s",
										   schema, quote_identifier(info->index_name)), cxt);
		if (failure && so_worker_requested(SO_JOB_VACUUM))
		{
			/* its snapshot held the rebuild up; the leftover goes next run */
			appendStringInfo(&res->msg, "; rebuild of %s (%.0f%% of its entries empty) gave way to a caller waiting for the next vacuum run: %s",
							 info->index_name, info->empty_fraction * 100, failure);
			continue;
		}
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
 * The vacuum job: VACUUM (ANALYZE) each table in turn; a table that fails
 * (lock timeout, cancel) is reported and the others still run.  Then the
 * GIN upkeep.
 */
static void
so_job_vacuum(SoRunResult *res, TimestampTz started)
{
	char	   *schema;
	StringInfoData done;
	StringInfoData errors;
	MemoryContext cxt = CurrentMemoryContext;

	StartTransactionCommand();
	schema = MemoryContextStrdup(cxt, so_quoted_schema(so_extension_schema()));
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);

	initStringInfo(&done);
	initStringInfo(&errors);
	for (int i = 0; i < SO_NUM_TABLES; i++)
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

	so_job_gin(schema, res, started);
}

/*
 * The cleanup job: the batch loop of retention.c, one transaction per
 * batch, the progress recorded after each batch has committed.
 */
static void
so_job_cleanup(SoRunRecord *rec, SoRunResult *res)
{
	SoCleanupRun run;
	MemoryContext cxt = CurrentMemoryContext;

	so_cleanup_start(&run, NULL, 0);
	for (;;)
	{
		char		activity[128];

		CHECK_FOR_INTERRUPTS();
		snprintf(activity, sizeof(activity),
				 "snapshot_ops cleanup: run " INT64_FORMAT ", batch " INT64_FORMAT,
				 so_rec_run_id(rec), run.batches + 1);
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		pgstat_report_activity(STATE_RUNNING, activity);
		PushActiveSnapshot(GetTransactionSnapshot());
		(void) so_cleanup_step(&run);
		PopActiveSnapshot();
		CommitTransactionCommand();
		MemoryContextSwitchTo(cxt);

		/* what has committed, for the record even if a later batch fails */
		res->rows = run.counts.sessions;
		resetStringInfo(&res->msg);
		appendStringInfoString(&res->msg, so_cleanup_describe(&run));
		if (run.done || run.held)
			break;
		so_rec_progress(rec, run.counts.sessions, res->msg.data);
	}
	res->skipped = run.held;
}

SoRunStatus
so_job_run(SoJob job, SoTrigger trigger)
{
	SoRunRecord *rec;
	int64		run_id;
	int64		start_id;
	TimestampTz started;
	int64		ms;
	SoRunResult *res;
	SoRunStatus status;
	char		activity[64];

	/* take the requests first: one withdrawn meanwhile has nothing to run */
	if (so_run_begin(job, trigger) == 0)
	{
		ereport(DEBUG1,
				(errmsg_internal("snapshot_ops: the %s request was withdrawn before its run started",
								 so_job_names[job])));
		return SO_RUN_NONE;
	}

	if (so_run_cxt == NULL)
		so_run_cxt = AllocSetContextCreate(TopMemoryContext,
										   "snapshot_ops job run",
										   ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(so_run_cxt);
	MemoryContextSwitchTo(so_run_cxt);
	res = palloc0(sizeof(SoRunResult));
	initStringInfo(&res->msg);

	started = GetCurrentTimestamp();
	rec = so_rec_begin(job, trigger);
	MemoryContextSwitchTo(so_run_cxt);
	run_id = start_id = so_rec_run_id(rec);
	so_run_set_id(job, run_id);

	snprintf(activity, sizeof(activity), "snapshot_ops %s: run " INT64_FORMAT,
			 so_job_names[job], run_id);
	pgstat_report_activity(STATE_RUNNING, activity);
	ereport(DEBUG1,
			(errmsg_internal("snapshot_ops: starting %s run " INT64_FORMAT " (%s)",
							 so_job_names[job], run_id, so_trigger_names[trigger])));

	PG_TRY();
	{
		if (job == SO_JOB_VACUUM)
			so_job_vacuum(res, started);
		else
			so_job_cleanup(rec, res);
	}
	PG_CATCH();
	{
		char	   *error = so_recover(so_run_cxt);

		res->failed = true;
		if (res->msg.len > 0)
			appendStringInfoString(&res->msg, "; then ");
		appendStringInfoString(&res->msg, error);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(so_run_cxt);

	status = res->failed ? SO_RUN_FAILED :
		res->skipped ? SO_RUN_SKIPPED : SO_RUN_SUCCEEDED;
	ms = TimestampDifferenceMilliseconds(started, GetCurrentTimestamp());
	run_id = so_rec_end(rec, status, res->rows, res->msg.data);
	MemoryContextSwitchTo(so_run_cxt);
	if (run_id != start_id)
		so_run_set_id(job, run_id);	/* job_runs gave it only now */
	so_run_end(job, status, res->rows, ms, res->msg.data);

	ereport(res->failed ? WARNING : LOG,
			(errmsg("snapshot_ops %s run " INT64_FORMAT " %s in " INT64_FORMAT " ms",
					so_job_names[job], run_id, so_run_status_names[status], ms),
			 errdetail_internal("%s", res->msg.data)));
	pgstat_report_activity(STATE_IDLE, NULL);
	return status;
}
