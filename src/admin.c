/*-------------------------------------------------------------------------
 *
 * admin.c
 *		SQL-callable functions that talk to the snapshot_ops worker:
 *		start_worker(), run_job(), vacuum_snapshot_tables(),
 *		worker_status() and job_schedules().
 *
 * A backend asks for a run by setting a flag in the worker's shared slot
 * and setting its latch, then sleeps on the shared condition variable
 * until the worker has started the run (the run id is known) and, when
 * asked to wait, finished it.  The outcome is read from shared memory, not
 * from snapshot_ops.job_runs, so that it does not depend on the caller's
 * snapshot.  Without shared_preload_libraries there is no shared state and
 * these functions say so with a hint.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/admin.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/dbcommands.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "cron.h"
#include "guc.h"
#include "launcher.h"
#include "shmem.h"
#include "spi_util.h"

/* How long a request waits for a worker that is being started. */
#define SO_START_GRACE_MS	10000

/* Result of a request, copied out of shared memory. */
typedef struct SoRunOutcome
{
	int64		run_id;
	bool		finished;		/* false: still running when the wait ended */
	SoRunStatus status;
	int64		ms;
	char		message[SO_MESSAGE_LEN];
} SoRunOutcome;

static const char *so_absence_reason(void);
static void so_require_worker_support(void);
static void so_request_run(SoJob job, bool wait, SoRunOutcome *out);

PG_FUNCTION_INFO_V1(snapshot_ops_start_worker);
PG_FUNCTION_INFO_V1(snapshot_ops_run_job);
PG_FUNCTION_INFO_V1(snapshot_ops_vacuum_snapshot_tables);
PG_FUNCTION_INFO_V1(snapshot_ops_worker_status);
PG_FUNCTION_INFO_V1(snapshot_ops_job_schedules);

/*
 * snapshot_ops.start_worker() RETURNS boolean
 *
 * Ask the launcher to start this database's worker when the current
 * transaction commits (CREATE EXTENSION calls it).  False when the library
 * is not preloaded, so that no worker can run.
 */
Datum
snapshot_ops_start_worker(PG_FUNCTION_ARGS)
{
	if (so_shared == NULL)
		PG_RETURN_BOOL(false);

	so_request_worker_at_commit(MyDatabaseId);
	PG_RETURN_BOOL(true);
}

/*
 * Why this database has no running worker, as a sentence for errdetail and
 * worker_status().
 */
static const char *
so_absence_reason(void)
{
	const char *dbname = get_database_name(MyDatabaseId);
	SoWorkerSlot *slot;
	int			used = 0;
	int			i;
	const char *reason;

	if (so_shared == NULL)
		return "snapshot_ops is not in shared_preload_libraries.";
	if (RecoveryInProgress())
		return "The server is in recovery; the worker starts after promotion.";
	if (dbname == NULL || !so_database_listed(dbname))
		return "The database is not listed in snapshot_ops.databases.";

	LWLockAcquire(so_shared->lock, LW_SHARED);
	slot = so_find_slot(MyDatabaseId);
	for (i = 0; i < so_shared->nslots; i++)
		used += (so_shared->slots[i].state != SO_SLOT_FREE);
	if (so_shared->launcher_pid == 0)
		reason = "The snapshot_ops launcher is not running; the postmaster starts it again within 10 seconds.";
	else if (slot != NULL && slot->state == SO_SLOT_STARTING)
		reason = "The worker is starting.";
	else if (slot != NULL && slot->state == SO_SLOT_STOPPED)
		reason = "The worker has exited; the launcher starts it again if the extension still exists.";
	else if (used >= so_shared->nslots)
		reason = "All snapshot_ops.max_workers worker slots are used by other databases.";
	else
		reason = "No worker is running; a worker that stopped unexpectedly is started again within 10 seconds, and snapshot_ops.start_worker() requests one now.";
	LWLockRelease(so_shared->lock);
	return reason;
}

static void
so_require_worker_support(void)
{
	if (so_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the snapshot_ops background worker is not running"),
				 errdetail("snapshot_ops was not loaded through shared_preload_libraries."),
				 errhint("Add snapshot_ops to shared_preload_libraries and restart the server.")));
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("snapshot_ops jobs cannot run during recovery"),
				 errhint("Run them on the primary.")));
}

/*
 * Ask this database's worker for a run of job and wait until it has
 * started (wait = false) or finished (wait = true), at most
 * snapshot_ops.vacuum_wait_timeout.  A run of the job already in progress
 * is joined instead of queueing another.
 */
static void
so_request_run(SoJob job, bool wait, SoRunOutcome *out)
{
	TimestampTz start = GetCurrentTimestamp();
	TimestampTz deadline = TimestampTzPlusMilliseconds(start, so_vacuum_wait_timeout);
	TimestampTz grace = TimestampTzPlusMilliseconds(start, Min(SO_START_GRACE_MS, so_vacuum_wait_timeout));
	bool		asked = false;
	pid_t		asked_pid = 0;
	uint64		target = 0;

	so_require_worker_support();
	memset(out, 0, sizeof(*out));

	ConditionVariablePrepareToSleep(&so_shared->cv);
	for (;;)
	{
		SoWorkerSlot *slot;
		Latch	   *wake = NULL;
		bool		done = false;
		bool		lost = false;
		TimestampTz now;

		LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
		slot = so_find_slot(MyDatabaseId);
		if (slot != NULL && (slot->state == SO_SLOT_IDLE || slot->state == SO_SLOT_BUSY))
		{
			SoJobState *js = &slot->jobs[job];

			if (!asked)
			{
				if (js->running)
				{
					target = js->runs_started;
					if (wait)
						js->waited = true;
				}
				else
				{
					js->requested = true;
					if (wait)
						js->wait_next = true;
					target = js->runs_started + 1;
					wake = slot->latch;
				}
				asked = true;
				asked_pid = slot->pid;
			}
			else if (slot->pid != asked_pid)
				lost = true;

			if (!lost && js->runs_started >= target)
			{
				out->run_id = js->run_id;
				if (js->runs_finished >= target)
				{
					out->finished = true;
					out->status = js->last_status;
					out->ms = js->last_ms;
					strlcpy(out->message, js->last_message, SO_MESSAGE_LEN);
				}
				done = !wait || out->finished;
			}
		}
		else if (asked)
			lost = true;
		LWLockRelease(so_shared->lock);

		if (wake)
			SetLatch(wake);
		if (done)
			break;
		if (lost)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the snapshot_ops worker exited before the %s job finished",
							so_job_names[job]),
					 out->run_id != 0 ?
					 errdetail("See run " INT64_FORMAT " in snapshot_ops.job_runs.", out->run_id) : 0));

		now = GetCurrentTimestamp();
		if (!asked && now >= grace)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("no snapshot_ops worker is running in database \"%s\"",
							get_database_name(MyDatabaseId)),
					 errdetail("%s", so_absence_reason()),
					 errhint("Check snapshot_ops.worker_status() and the server log.")));
		if (now >= deadline)
			break;

		(void) ConditionVariableTimedSleep(&so_shared->cv, 100, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
}

/*
 * snapshot_ops.run_job(job text, wait boolean DEFAULT false) RETURNS bigint
 *
 * Ask the worker to run a job now; returns the run id (job_runs.run_id).
 * With wait, returns when the run has finished and raises an error if it
 * failed.
 */
Datum
snapshot_ops_run_job(PG_FUNCTION_ARGS)
{
	char	   *name;
	int			job;
	bool		wait;
	SoRunOutcome out;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("job must not be null"),
				 errhint("Valid jobs are \"cleanup\" and \"vacuum\".")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("wait must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	wait = PG_GETARG_BOOL(1);
	job = so_job_from_name(name);
	if (job < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown snapshot_ops job \"%s\"", so_clip(name, -1)),
				 errhint("Valid jobs are \"cleanup\" and \"vacuum\".")));

	so_request_run(job, wait, &out);

	if (out.run_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the snapshot_ops worker did not start the %s job within %d ms",
						name, so_vacuum_wait_timeout),
				 errhint("The worker may be busy with a long run; see snapshot_ops.worker_status().")));
	if (wait && !out.finished)
		ereport(NOTICE,
				(errmsg("run " INT64_FORMAT " of the %s job is still running after %d ms",
						out.run_id, name, so_vacuum_wait_timeout)));
	if (wait && out.finished && out.status != SO_RUN_SUCCEEDED)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("run " INT64_FORMAT " of the %s job %s",
						out.run_id, name, so_run_status_names[out.status]),
				 errdetail("%s", out.message[0] ? out.message : "The worker stopped before the run finished.")));
	PG_RETURN_INT64(out.run_id);
}

/*
 * vacuum_snapshot_tables() RETURNS text
 *
 * VACUUM cannot run inside a function, so ask the worker to VACUUM
 * ANALYZE the four tables, wait (snapshot_ops.vacuum_wait_timeout) and
 * report what it did.
 */
Datum
snapshot_ops_vacuum_snapshot_tables(PG_FUNCTION_ARGS)
{
	SoRunOutcome out;

	so_request_run(SO_JOB_VACUUM, true, &out);

	if (out.run_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the snapshot_ops worker did not start VACUUM ANALYZE within %d ms",
						so_vacuum_wait_timeout),
				 errhint("The worker may be busy with a long cleanup run; see snapshot_ops.worker_status().")));
	if (!out.finished)
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("VACUUM ANALYZE still running after %d ms (run " INT64_FORMAT "); see snapshot_ops.job_runs",
												  so_vacuum_wait_timeout, out.run_id)));
	if (out.status != SO_RUN_SUCCEEDED)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("VACUUM ANALYZE of the snapshot tables %s (run " INT64_FORMAT ")",
						so_run_status_names[out.status], out.run_id),
				 errdetail("%s", out.message[0] ? out.message : "The worker stopped before the run finished."),
				 errhint("The run is retried on the next call or at the next scheduled time.")));

	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s (run " INT64_FORMAT ", " INT64_FORMAT " ms)",
											  out.message, out.run_id, out.ms)));
}

/*
 * snapshot_ops.worker_status() RETURNS TABLE(loaded, running, pid, database,
 * state, reason, started_at, launcher_pid)
 *
 * One row about this database's worker; reason says why it is not running.
 */
Datum
snapshot_ops_worker_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[8];
	bool		nulls[8];
	bool		running = false;
	char	   *state = "not running";
	pid_t		pid = 0;
	pid_t		launcher_pid = 0;
	TimestampTz started_at = 0;

	so_init_materialized_srf(fcinfo, 0);
	memset(nulls, 0, sizeof(nulls));

	if (so_shared != NULL)
	{
		SoWorkerSlot *slot;

		LWLockAcquire(so_shared->lock, LW_SHARED);
		launcher_pid = so_shared->launcher_pid;
		slot = so_find_slot(MyDatabaseId);
		if (slot != NULL)
		{
			pid = slot->pid;
			started_at = slot->started_at;
			switch (slot->state)
			{
				case SO_SLOT_STARTING:
					state = "starting";
					break;
				case SO_SLOT_IDLE:
					state = "idle";
					running = true;
					break;
				case SO_SLOT_BUSY:
					{
						int			j;

						running = true;
						state = "running";
						for (j = 0; j < SO_NUM_JOBS; j++)
						{
							if (slot->jobs[j].running)
								state = psprintf("running %s (run " INT64_FORMAT ")",
												 so_job_names[j], slot->jobs[j].run_id);
						}
					}
					break;
				default:
					state = "stopped";
					break;
			}
		}
		LWLockRelease(so_shared->lock);
	}

	values[0] = BoolGetDatum(so_shared != NULL);
	values[1] = BoolGetDatum(running);
	values[2] = Int32GetDatum((int32) pid);
	nulls[2] = (pid == 0);
	values[3] = CStringGetDatum(get_database_name(MyDatabaseId));
	values[3] = DirectFunctionCall1(namein, values[3]);
	values[4] = CStringGetTextDatum(state);
	if (running)
		nulls[5] = true;
	else
		values[5] = CStringGetTextDatum(so_absence_reason());
	values[6] = TimestampTzGetDatum(started_at);
	nulls[6] = (started_at == 0);
	values[7] = Int32GetDatum((int32) launcher_pid);
	nulls[7] = (launcher_pid == 0);

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/*
 * snapshot_ops.job_schedules() RETURNS TABLE(job, schedule, enabled,
 * next_run)
 *
 * The schedules in effect for this session's settings and their next run
 * time, computed with the worker's cron code (for the snapshot_ops.jobs
 * view).  next_run is NULL when the scheduler is disabled.
 */
Datum
snapshot_ops_job_schedules(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TimestampTz now = GetCurrentStatementStartTimestamp();
	pg_tz	   *tz = so_schedule_timezone();
	int			j;

	so_init_materialized_srf(fcinfo, 0);

	for (j = 0; j < SO_NUM_JOBS; j++)
	{
		const char *expr = (j == SO_JOB_CLEANUP) ? so_cleanup_schedule : so_vacuum_schedule;
		CronSchedule cron;
		char		errbuf[256];
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(so_job_names[j]);
		values[1] = CStringGetTextDatum(expr);
		values[2] = BoolGetDatum(so_enable_scheduler);
		if (so_enable_scheduler && cron_parse(expr, &cron, errbuf, sizeof(errbuf)))
		{
			TimestampTz next = cron_next_after(&cron, now, tz);

			values[3] = TimestampTzGetDatum(next);
			nulls[3] = TIMESTAMP_NOT_FINITE(next);
		}
		else
			nulls[3] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
