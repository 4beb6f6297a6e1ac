/*-------------------------------------------------------------------------
 *
 * jobrec.c
 *		Bookkeeping of job runs in snapshot_ops.job_runs.
 *
 * Every run (the worker's cleanup and vacuum, CALL run_cleanup()) is a row
 * of job_runs.  The row is written in transactions of its own (inside a
 * procedure, subtransactions), never inside a batch's transaction, with a
 * lock_timeout of SO_RECORD_LOCK_TIMEOUT_MS and as the extension's owner.
 * A write that fails (a lock held on job_runs, a constraint a DBA added, a
 * full disk) is caught: the record stays in memory and is written later,
 * by so_rec_flush(), with a note saying how late it is.  So a bookkeeping
 * failure can delay a record, but never fail a job, roll back a batch,
 * end the worker or replace the job's own error.
 *
 * A record carries everything (start and end time, status, rows, message),
 * and one upsert writes it whole, so a run whose start could not be
 * written is recorded completely at its end.  The run id comes from the
 * identity sequence of job_runs (nextval does not lock the table), so
 * backends that asked for the run learn it at once.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/jobrec.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "holds.h"
#include "jobrec.h"
#include "refint.h"
#include "spi_util.h"
#include "version.h"

struct SoRunRecord
{
	int64		run_id;
	SoJob		job;
	SoTrigger	trigger;
	int			pid;
	TimestampTz started_at;
	bool		ended;
	SoRunStatus status;
	TimestampTz finished_at;
	int64		rows;
	char	   *message;
	bool		dirty;			/* not written as it is now */
	int			failures;		/* failed attempts to write it */
	TimestampTz first_failure;
	char	   *last_error;
};

/* Records not written yet, and records of runs in progress. */
static List *so_records = NIL;
static MemoryContext so_rec_cxt = NULL;
static MemoryContext so_rec_tmp_cxt = NULL;	/* one attempt's garbage */
static TimestampTz so_rec_retry_at = 0;
static bool so_rec_failing = false;	/* the last attempt to write failed */

/*
 * Plans kept for the life of the process.  Their SQL names its tables by
 * schema, so when the extension is dropped and created again the plan
 * cache analyzes them afresh and finds the new tables.
 */
static SPIPlanPtr so_plan_upsert = NULL;
static SPIPlanPtr so_plan_prune = NULL;

typedef void (*SoRecWork) (void *arg);

static bool so_rec_try(SoRecWork work, void *arg, char **error);
static void so_rec_prepare(void);
static void so_rec_write(void *arg);
static void so_rec_nextval(void *arg);
static void so_rec_write_record(SoRunRecord *rec);
static char *so_rec_late_note(SoRunRecord *rec);

static MemoryContext
so_rec_context(void)
{
	if (so_rec_cxt == NULL)
	{
		so_rec_cxt = AllocSetContextCreate(TopMemoryContext,
										   "snapshot_ops job records",
										   ALLOCSET_SMALL_SIZES);
		so_rec_tmp_cxt = AllocSetContextCreate(so_rec_cxt,
											   "snapshot_ops job record attempt",
											   ALLOCSET_SMALL_SIZES);
	}
	return so_rec_cxt;
}

/*
 * Run work() connected to SPI, with an active snapshot, as the extension's
 * owner and a short lock_timeout: in a transaction of its own when none is
 * open, else in a subtransaction.  An error is caught (*error, in the
 * caller's memory context) and undone; returns whether work() succeeded.
 * In a subtransaction, a query cancel is undone and thrown again: it
 * belongs to the statement the bookkeeping runs in.
 */
static bool
so_rec_try(SoRecWork work, void *arg, char **error)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	bool		own_xact = !IsTransactionState();
	bool		ok = false;

	if (own_xact)
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
	}
	else
		BeginInternalSubTransaction(NULL);

	PG_TRY();
	{
		SoExtension ext;
		Oid			save_userid;
		int			save_sec;
		char		timeout[16];

		so_extension_lookup(&ext);
		if (!OidIsValid(ext.oid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("extension \"snapshot_ops\" is not installed")));
		snprintf(timeout, sizeof(timeout), "%d", SO_RECORD_LOCK_TIMEOUT_MS);
		(void) set_config_option("lock_timeout", timeout, PGC_SUSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
		(void) set_config_option("statement_timeout", "0", PGC_SUSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
		/* the SQL below is schema-qualified; this is defense in depth */
		(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
		GetUserIdAndSecContext(&save_userid, &save_sec);
		SetUserIdAndSecContext(ext.owner,
							   save_sec | SECURITY_LOCAL_USERID_CHANGE);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		PushActiveSnapshot(GetTransactionSnapshot());
		work(arg);
		PopActiveSnapshot();
		SPI_finish();
		SetUserIdAndSecContext(save_userid, save_sec);
		if (own_xact)
			CommitTransactionCommand();
		else
		{
			ReleaseCurrentSubTransaction();
			CurrentResourceOwner = oldowner;
		}
		ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		if (own_xact)
			AbortCurrentTransaction();
		else
		{
			RollbackAndReleaseCurrentSubTransaction();
			CurrentResourceOwner = oldowner;

			/*
			 * A cancel (pg_cancel_backend(), statement_timeout) is the
			 * caller's, not a failure to record: it ends the statement
			 * (CALL run_cleanup()), which records the run as failed.
			 */
			if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
				ReThrowError(edata);
		}
		if (error)
			*error = edata->message;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	return ok;
}

/* The kept statements; needs SPI. */
static void
so_rec_prepare(void)
{
	Oid			upsert_types[9] = {INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID,
	TIMESTAMPTZOID, TEXTOID, INT8OID, TEXTOID, INT4OID};
	Oid			prune_types[1] = {INTERVALOID};

	if (so_plan_upsert != NULL)
		return;
	so_plan_upsert = SPI_prepare(
								 "INSERT INTO snapshot_ops.job_runs AS r"
								 " (run_id, job, trigger, started_at, finished_at, status,"
								 "  rows_affected, message, worker_pid)"
								 " OVERRIDING SYSTEM VALUE"
								 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
								 " ON CONFLICT (run_id) DO UPDATE SET"
								 "  finished_at = EXCLUDED.finished_at, status = EXCLUDED.status,"
								 "  rows_affected = EXCLUDED.rows_affected, message = EXCLUDED.message"
								 " WHERE r.worker_pid OPERATOR(pg_catalog.=) EXCLUDED.worker_pid"
								 "   AND r.started_at OPERATOR(pg_catalog.=) EXCLUDED.started_at",
								 9, upsert_types);
	if (so_plan_upsert == NULL || SPI_keepplan(so_plan_upsert) != 0)
		elog(ERROR, "could not prepare the job_runs statement: %s",
			 SPI_result_code_string(SPI_result));
	so_plan_prune = SPI_prepare(
								"DELETE FROM snapshot_ops.job_runs r"
								" WHERE r.finished_at OPERATOR(pg_catalog.<)"
								"       (pg_catalog.now() OPERATOR(pg_catalog.-) $1)"
								"   AND r.run_id OPERATOR(pg_catalog.<>) ALL"
								"       (SELECT DISTINCT ON (l.job) l.run_id FROM snapshot_ops.job_runs l"
								"         ORDER BY l.job, l.started_at DESC, l.run_id DESC)",
								1, prune_types);
	if (so_plan_prune == NULL || SPI_keepplan(so_plan_prune) != 0)
		elog(ERROR, "could not prepare the job_runs statement: %s",
			 SPI_result_code_string(SPI_result));
}

/* The note a late record carries. */
static char *
so_rec_late_note(SoRunRecord *rec)
{
	long		secs;
	int			usecs;

	TimestampDifference(rec->first_failure, GetCurrentTimestamp(), &secs, &usecs);
	return psprintf(" (recorded %ld s late: snapshot_ops.job_runs could not be written: %s)",
					secs, rec->last_error ? rec->last_error : "unknown error");
}

/* Upsert one record as it is now; needs SPI and the plans. */
static void
so_rec_write_record(SoRunRecord *rec)
{
	Datum		values[9];
	char		nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	SoRunStatus status = rec->status;
	const char *trigger = so_trigger_names[rec->trigger];
	char	   *message = rec->message;
	int			ret;

	/* a 1.0 database knows neither "skipped" nor "call" */
	if (!so_rec_has_1_1())
	{
		if (status == SO_RUN_SKIPPED)
			status = SO_RUN_SUCCEEDED;
		if (rec->trigger == SO_TRIGGER_CALL)
			trigger = so_trigger_names[SO_TRIGGER_MANUAL];
	}
	if (rec->failures > 0 && rec->ended)
		message = psprintf("%s%s", message ? message : "", so_rec_late_note(rec));

	values[0] = Int64GetDatum(rec->run_id);
	values[1] = CStringGetTextDatum(so_job_names[rec->job]);
	values[2] = CStringGetTextDatum(trigger);
	values[3] = TimestampTzGetDatum(rec->started_at);
	if (rec->ended)
		values[4] = TimestampTzGetDatum(rec->finished_at);
	else
		nulls[4] = 'n';
	values[5] = CStringGetTextDatum(rec->ended ? so_run_status_names[status] : "running");
	values[6] = Int64GetDatum(rec->rows);
	if (message != NULL && message[0] != '\0')
		values[7] = CStringGetTextDatum(message);
	else
		nulls[7] = 'n';
	values[8] = Int32GetDatum(rec->pid);

	/*
	 * The run id can belong to another run's row: a restore loads
	 * job_runs before it sets its identity sequence, and a run that starts
	 * in between (a catch-up) draws an id the restored history uses.  That
	 * row is never overwritten (the upsert updates only this run's own
	 * row); the run takes the next free id instead.
	 */
	for (int attempt = 0;; attempt++)
	{
		int64		taken = rec->run_id;

		ret = SPI_execute_plan(so_plan_upsert, values, nulls, false, 0);
		if (ret != SPI_OK_INSERT)
			elog(ERROR, "could not record run " INT64_FORMAT ": %s",
				 rec->run_id, SPI_result_code_string(ret));
		if (SPI_processed == 1)
			break;
		if (attempt >= 1000)
			elog(ERROR, "could not find a free run id after " INT64_FORMAT, taken);
		so_rec_nextval(&rec->run_id);
		values[0] = Int64GetDatum(rec->run_id);
		ereport(LOG,
				(errmsg("snapshot_ops: run id " INT64_FORMAT " belongs to another run in snapshot_ops.job_runs (restored history?); this %s run is recorded as run " INT64_FORMAT,
						taken, so_job_names[rec->job], rec->run_id)));
	}
}

/* Write every dirty record, then prune the history if a run ended. */
static void
so_rec_write(void *arg)
{
	ListCell   *lc;
	bool		ended = false;

	/*
	 * Run ids first: nextval does not lock job_runs, preparing the
	 * statements does, so a run gets its id even while the table is locked.
	 */
	foreach(lc, so_records)
	{
		SoRunRecord *rec = lfirst(lc);

		if (rec->dirty && rec->run_id == 0)
			so_rec_nextval(&rec->run_id);
	}
	so_rec_prepare();
	foreach(lc, so_records)
	{
		SoRunRecord *rec = lfirst(lc);

		if (!rec->dirty)
			continue;
		so_rec_write_record(rec);
		ended |= rec->ended;
	}
	/* while retention is held (a restore), restored history is kept too */
	if (ended && !so_retention_held(NULL))
	{
		Interval	keep;
		Datum		values[1];

		so_get_job_history_retention(&keep);
		values[0] = IntervalPGetDatum(&keep);
		if (SPI_execute_plan(so_plan_prune, values, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not prune the job history");
	}
}

void
so_rec_flush(bool force)
{
	ListCell   *lc;
	int			dirty = 0;
	char	   *error = NULL;
	MemoryContext cxt;

	foreach(lc, so_records)
		dirty += ((SoRunRecord *) lfirst(lc))->dirty;
	if (dirty == 0)
		return;
	if (!force && GetCurrentTimestamp() < so_rec_retry_at)
		return;

	(void) so_rec_context();
	MemoryContextReset(so_rec_tmp_cxt);
	cxt = MemoryContextSwitchTo(so_rec_tmp_cxt);
	if (so_rec_try(so_rec_write, NULL, &error))
	{
		if (so_rec_failing)
			ereport(LOG,
					(errmsg_plural("snapshot_ops: snapshot_ops.job_runs can be written again; %d kept run record is written",
								   "snapshot_ops: snapshot_ops.job_runs can be written again; %d kept run records are written",
								   dirty, dirty)));
		so_rec_failing = false;
		foreach(lc, so_records)
		{
			SoRunRecord *rec = lfirst(lc);

			rec->dirty = false;
			if (rec->ended)
			{
				so_records = foreach_delete_current(so_records, lc);
				if (rec->message)
					pfree(rec->message);
				if (rec->last_error)
					pfree(rec->last_error);
				pfree(rec);
			}
		}
		so_rec_retry_at = 0;
	}
	else
	{
		/* said once per episode, not once per record or attempt */
		ereport(so_rec_failing ? DEBUG1 : WARNING,
				(errmsg("snapshot_ops: could not write snapshot_ops.job_runs: %s", error),
				 errdetail_plural("%d run record is kept and written when the table can be written (tried every %d seconds); the runs themselves are not affected.",
								  "%d run records are kept and written when the table can be written (tried every %d seconds); the runs themselves are not affected.",
								  dirty, dirty, SO_RECORD_RETRY_SECONDS)));
		so_rec_failing = true;
		foreach(lc, so_records)
		{
			SoRunRecord *rec = lfirst(lc);

			if (!rec->dirty)
				continue;
			if (rec->failures++ == 0)
				rec->first_failure = GetCurrentTimestamp();
			if (rec->last_error)
				pfree(rec->last_error);
			rec->last_error = MemoryContextStrdup(so_rec_cxt, error);
		}
		so_rec_retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													  SO_RECORD_RETRY_SECONDS * 1000);
	}
	MemoryContextSwitchTo(cxt);
}

bool
so_rec_pending(void)
{
	ListCell   *lc;

	foreach(lc, so_records)
	{
		if (((SoRunRecord *) lfirst(lc))->dirty)
			return true;
	}
	return false;
}

/* nextval of job_runs' identity sequence into *(int64 *) arg. */
static void
so_rec_nextval(void *arg)
{
	bool		isnull;

	if (SPI_execute("SELECT pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('snapshot_ops.job_runs', 'run_id'))",
					false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not allocate a run id");
	*(int64 *) arg = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1, &isnull));
}

SoRunRecord *
so_rec_begin(SoJob job, SoTrigger trigger)
{
	SoRunRecord *rec;
	MemoryContext cxt;

	cxt = MemoryContextSwitchTo(so_rec_context());
	rec = palloc0(sizeof(SoRunRecord));
	rec->run_id = 0;			/* from the first write */
	rec->job = job;
	rec->trigger = trigger;
	rec->pid = MyProcPid;
	rec->started_at = GetCurrentTimestamp();
	rec->status = SO_RUN_RUNNING;
	rec->dirty = true;
	so_records = lappend(so_records, rec);
	MemoryContextSwitchTo(cxt);

	/* a cancel thrown again by the write: the run does not start */
	PG_TRY();
	{
		so_rec_flush(true);
	}
	PG_CATCH();
	{
		so_records = list_delete_ptr(so_records, rec);
		pfree(rec);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return rec;
}

int64
so_rec_run_id(SoRunRecord *rec)
{
	return rec->run_id;
}

/* Set a record's rows and message; it is dirty until written. */
static void
so_rec_set(SoRunRecord *rec, int64 rows, const char *message)
{
	rec->rows = rows;
	if (rec->message)
		pfree(rec->message);
	rec->message = MemoryContextStrdup(so_rec_context(), message ? message : "");
	rec->dirty = true;
}

void
so_rec_progress(SoRunRecord *rec, int64 rows, const char *message)
{
	so_rec_set(rec, rows, message);
	so_rec_flush(false);
}

int64
so_rec_end(SoRunRecord *rec, SoRunStatus status, int64 rows,
		   const char *message)
{
	int64		run_id;
	char	   *error;

	rec->ended = true;
	rec->status = status;
	rec->finished_at = GetCurrentTimestamp();
	so_rec_set(rec, rows, message);

	/*
	 * The id, if the run has none yet: the caller reports it, and rec is
	 * freed once written.  If even this fails, the write tries again.
	 */
	if (rec->run_id == 0)
		(void) so_rec_try(so_rec_nextval, &rec->run_id, &error);
	run_id = rec->run_id;
	so_rec_flush(true);
	return run_id;
}

bool
so_rec_has_1_1(void)
{
	SoExtension ext;

	so_extension_lookup(&ext);
	return ext.version >= SO_SQL_1_1;
}

/* The start-up work of so_rec_startup(); arg is a SoRecStartup. */
typedef struct SoRecStartup
{
	uint64		interrupted;
	TimestampTz last_started[SO_NUM_JOBS];
} SoRecStartup;

static void
so_rec_startup_work(void *arg)
{
	SoRecStartup *st = (SoRecStartup *) arg;
	Oid			argtypes[2] = {INT4OID, TIMESTAMPTZOID};
	Datum		values[2];

	/*
	 * Runs whose process is gone: nobody will record their end.  A process
	 * with the same pid that started after the run did is another one:
	 * this worker too, when a server restarted in its own pid namespace
	 * (a container) hands it the pid of the worker that left the run.
	 */
	values[0] = Int32GetDatum(MyProcPid);
	values[1] = TimestampTzGetDatum(MyStartTimestamp);
	if (SPI_execute_with_args("UPDATE snapshot_ops.job_runs r"
							  " SET status = 'interrupted', finished_at = pg_catalog.now(),"
							  "     message = pg_catalog.concat_ws('; ', r.message,"
							  "               'the run ended without recording its end (its process exited or the server stopped)')"
							  " WHERE r.status OPERATOR(pg_catalog.=) 'running'"
							  "   AND (COALESCE(r.worker_pid, 0) OPERATOR(pg_catalog.<>) $1"
							  "        OR r.started_at OPERATOR(pg_catalog.<) $2)"
							  "   AND NOT EXISTS (SELECT FROM pg_catalog.pg_stat_get_activity(COALESCE(r.worker_pid, -1)) a"
							  "                    WHERE a.backend_start OPERATOR(pg_catalog.<=) r.started_at)",
							  2, argtypes, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not mark interrupted runs");
	st->interrupted = SPI_processed;

	/*
	 * When each job last ran: the later of start and end, since a run
	 * covers the scheduled times that pass while it lasts.
	 */
	if (SPI_execute("SELECT r.job, pg_catalog.max(GREATEST(r.started_at, r.finished_at))"
					" FROM snapshot_ops.job_runs r GROUP BY r.job",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the job history");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		char	   *job = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);
		int			j = so_job_from_name(job);

		if (j >= 0 && !isnull)
			st->last_started[j] = DatumGetTimestampTz(d);
	}
}

bool
so_rec_startup(uint64 *interrupted, TimestampTz *last_started)
{
	static int	failures = 0;
	SoRecStartup st;
	char	   *error = NULL;

	memset(&st, 0, sizeof(st));
	if (!so_rec_try(so_rec_startup_work, &st, &error))
	{
		/* said once; the retries every few seconds are quiet */
		ereport(failures++ == 0 ? WARNING : DEBUG1,
				(errmsg("snapshot_ops: could not read snapshot_ops.job_runs at start-up: %s", error),
				 errdetail("Missed runs are looked for again every %d seconds meanwhile; jobs run as scheduled.",
						   SO_RECORD_RETRY_SECONDS)));
		return false;
	}
	if (failures > 0)
		ereport(LOG,
				(errmsg("snapshot_ops: read snapshot_ops.job_runs at start-up after %d failed attempts",
						failures)));
	*interrupted = st.interrupted;
	memcpy(last_started, st.last_started, sizeof(st.last_started));
	return true;
}

PG_FUNCTION_INFO_V1(snapshot_ops_job_runs_loaded);

/*
 * job_runs_keep_loaded_history, BEFORE INSERT ON snapshot_ops.job_runs FOR
 * EACH ROW (1.1): a row that a bulk load (a restore's COPY FROM, run by the
 * owner or a superuser) brings with a run id this database already uses
 * takes the next free id instead, so that a data-only restore into a
 * database whose worker has run jobs merges the two histories instead of
 * failing on the primary key.  (A run that starts after a restore loaded
 * job_runs, and before it set the sequence, is handled by the writer of
 * its record, so_rec_write_record().)  Any other insert is left alone.
 */
Datum
snapshot_ops_job_runs_loaded(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	HeapTuple	tuple;
	AttrNumber	attnum;
	Datum		run_id;
	bool		isnull;
	Oid			argtypes[1] = {INT8OID};
	int64		new_id = 0;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"job_runs_loaded\" must be fired BEFORE INSERT FOR EACH ROW")));
	rel = trigdata->tg_relation;
	tuple = trigdata->tg_trigtuple;
	if (!so_bulk_load_into(rel))
		return PointerGetDatum(tuple);

	/*
	 * A run that was running when the dump was taken runs nowhere here:
	 * loaded as interrupted, not left "running" until the next worker
	 * start looks at it.
	 */
	{
		AttrNumber	status_att = SPI_fnumber(RelationGetDescr(rel), "status");
		AttrNumber	message_att = SPI_fnumber(RelationGetDescr(rel), "message");
		AttrNumber	finished_att = SPI_fnumber(RelationGetDescr(rel), "finished_at");
		Datum		status;
		bool		status_null;

		if (status_att <= 0 || message_att <= 0 || finished_att <= 0)
			elog(ERROR, "snapshot_ops.job_runs has no column status, message or finished_at");
		status = heap_getattr(tuple, status_att, RelationGetDescr(rel), &status_null);
		if (!status_null && strcmp(TextDatumGetCString(status), "running") == 0)
		{
			int			cols[3] = {status_att, message_att, finished_att};
			Datum		vals[3];
			bool		nulls[3] = {false, false, false};
			bool		msg_null;
			Datum		msg = heap_getattr(tuple, message_att, RelationGetDescr(rel), &msg_null);
			const char *note = "it was running when the dump was taken";

			vals[0] = CStringGetTextDatum("interrupted");
			vals[1] = CStringGetTextDatum(msg_null ? note :
										  psprintf("%s; %s", TextDatumGetCString(msg), note));
			/* as the worker marks one at start-up: ended when found */
			vals[2] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
			tuple = heap_modify_tuple_by_cols(tuple, RelationGetDescr(rel), 3,
											  cols, vals, nulls);
		}
	}

	attnum = SPI_fnumber(RelationGetDescr(rel), "run_id");
	if (attnum <= 0)
		elog(ERROR, "snapshot_ops.job_runs has no column run_id");
	run_id = heap_getattr(tuple, attnum, RelationGetDescr(rel), &isnull);
	if (isnull)
		return PointerGetDatum(tuple);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT FROM snapshot_ops.job_runs r WHERE r.run_id OPERATOR(pg_catalog.=) $1",
							  1, argtypes, &run_id, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up run ids in snapshot_ops.job_runs");
	if (SPI_processed > 0)
	{
		so_rec_nextval(&new_id);
		ereport(NOTICE,
				(errmsg("run " INT64_FORMAT " of the loaded job history is loaded as run " INT64_FORMAT,
						DatumGetInt64(run_id), new_id),
				 errdetail("This database already has a run " INT64_FORMAT " of its own.",
						   DatumGetInt64(run_id))));
	}
	SPI_finish();

	if (new_id != 0)
	{
		int			cols[1] = {attnum};
		Datum		vals[1] = {Int64GetDatum(new_id)};
		bool		nulls[1] = {false};

		tuple = heap_modify_tuple_by_cols(tuple, RelationGetDescr(rel), 1,
										  cols, vals, nulls);
	}
	return PointerGetDatum(tuple);
}
