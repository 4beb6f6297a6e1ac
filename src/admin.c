/*-------------------------------------------------------------------------
 *
 * admin.c
 *		SQL-callable functions that talk to the snapshot_ops worker:
 *		start_worker(), run_job(), vacuum_snapshot_tables(),
 *		worker_status() and job_schedules().
 *
 * A backend asks for a run through the protocol of shmem.c (post a
 * request, poll it, withdraw it when it gives up) and sleeps on the shared
 * condition variable until the worker has started the run (the run id is
 * known) and, when asked to wait, done its work.  The outcome comes from
 * shared memory, not from snapshot_ops.job_runs, so that it does not
 * depend on the caller's snapshot.  Without shared_preload_libraries
 * there is no shared state and these functions say so with a hint.
 *
 * worker_status() and job_schedules() changed their SQL contract in 1.1;
 * each keeps its 1.0 entry point, which serves the 1.0 shape to a
 * database not updated yet.  worker_status() answers whatever the
 * database's version: it is what a DBA reads when something is wrong.
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
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "cron.h"
#include "guc.h"
#include "holds.h"
#include "launcher.h"
#include "shmem.h"
#include "spi_util.h"
#include "version.h"

/* How long a request waits for a worker that is being started. */
#define SO_START_GRACE_MS	10000

static const char *so_absence_reason(const SoWorkerInfo *info);
static void so_require_worker_support(void);
static bool so_request_run(SoJob job, bool wait, SoOutcome *out);
static void so_withdraw_on_error(int code, Datum arg);
static void so_worker_status_rows(FunctionCallInfo fcinfo, int ncols);
static void so_job_schedule_rows(FunctionCallInfo fcinfo, int ncols);

PG_FUNCTION_INFO_V1(snapshot_ops_start_worker);
PG_FUNCTION_INFO_V1(snapshot_ops_run_job);
PG_FUNCTION_INFO_V1(snapshot_ops_vacuum_snapshot_tables);
PG_FUNCTION_INFO_V1(snapshot_ops_worker_status);
PG_FUNCTION_INFO_V1(snapshot_ops_worker_status_1_1);
PG_FUNCTION_INFO_V1(snapshot_ops_job_schedules);
PG_FUNCTION_INFO_V1(snapshot_ops_job_schedules_1_1);

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
	if (!so_shmem_loaded())
		PG_RETURN_BOOL(false);

	so_request_worker_at_commit(MyDatabaseId);
	PG_RETURN_BOOL(true);
}

/*
 * Why this database's worker does not run (or, with the scheduler off,
 * runs only on request), as a sentence for errdetail and worker_status();
 * NULL when it runs normally.
 */
static const char *
so_absence_reason(const SoWorkerInfo *info)
{
	const char *dbname = get_database_name(MyDatabaseId);

	if (!info->loaded)
		return "snapshot_ops is not in shared_preload_libraries.";
	if (RecoveryInProgress())
		return "The server is in recovery (a hot standby): no worker runs until it is promoted.";
	if (dbname == NULL || !so_database_listed(dbname))
		return psprintf("The database is not listed in snapshot_ops.databases (\"%s\").",
						so_clip(so_databases, -1));
	if (info->ready)
	{
		char	   *why;

		if (so_retention_held(&why))
			return psprintf("Retention is on hold, so the cleanup deletes nothing: %s", why);
		/* the worker's own settings, not this session's */
		for (int j = 0; j < SO_NUM_JOBS; j++)
			if (info->schedules[j].enabled)
				return NULL;
		return "The worker's scheduler is off (snapshot_ops.enable_scheduler, as the worker's database and role settings make it): jobs run only on request.";
	}
	if (info->launcher_pid == 0)
		return psprintf("The snapshot_ops launcher is not running; the postmaster starts it again within %d seconds.",
						SO_RETRY_SECONDS);
	if (info->has_slot)
		return "The worker is starting.";
	switch (info->db_state)
	{
		case SO_DB_NO_BGWORKER:
			return psprintf("No background worker slot is free: max_worker_processes is %d, of which snapshot_ops uses %d (its launcher and %d worker%s) and other background workers %d, and %d database%s wait%s to be looked at by a worker. Each waiting database that has snapshot_ops installed needs one more: raise max_worker_processes (needs a restart) to at most %d; the launcher retries every %d seconds.",
							max_worker_processes, info->bgw_busy, info->bgw_busy - 1,
							info->bgw_busy - 1 == 1 ? "" : "s",
							Max(max_worker_processes - info->bgw_busy, 0),
							info->bgw_waiting, info->bgw_waiting == 1 ? "" : "s",
							info->bgw_waiting == 1 ? "s" : "",
							max_worker_processes + info->bgw_waiting, SO_RETRY_SECONDS);
		case SO_DB_NO_SLOT:
			return psprintf("All %d slot%s of snapshot_ops.max_workers %s used by other databases. Raise snapshot_ops.max_workers (needs a restart).",
							info->nslots, info->nslots == 1 ? "" : "s",
							info->nslots == 1 ? "is" : "are");
		case SO_DB_BACKOFF:
			/* timestamptz_to_str() returns a static buffer */
			return psprintf("The worker failed %d time%s in a row, last at %s: %s. The next attempt is at %s.",
							info->failures, info->failures == 1 ? "" : "s",
							pstrdup(timestamptz_to_str(info->last_error_at)),
							info->last_error, pstrdup(timestamptz_to_str(info->retry_at)));
		case SO_DB_STOPPED:
			return psprintf("The worker was stopped for a command on the database or the extension (DROP, ALTER or CREATE DATABASE; DROP or ALTER EXTENSION); it starts again at %s.",
							timestamptz_to_str(info->retry_at));
		case SO_DB_TERMINATED:
			return psprintf("The worker was terminated (pg_terminate_backend()); it starts again at %s.",
							timestamptz_to_str(info->retry_at));
		case SO_DB_CLOSED:
			return psprintf("The database does not accept connections (ALLOW_CONNECTIONS false); the launcher looks at it again at %s.",
							timestamptz_to_str(info->retry_at));
		case SO_DB_UNSUPPORTED:
			return psprintf("The worker cannot serve this database: %s.", info->last_error);
		case SO_DB_NO_EXTENSION:
			return "The worker found no snapshot_ops extension here; snapshot_ops.start_worker() asks the launcher to look again.";
		default:
			return "No worker is running; snapshot_ops.start_worker() asks the launcher for one now.";
	}
}

static void
so_require_worker_support(void)
{
	if (!so_shmem_loaded())
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

/* Error cleanup of so_request_run(): nobody waits any more. */
static void
so_withdraw_on_error(int code, Datum arg)
{
	so_request_withdraw((SoTicket *) DatumGetPointer(arg));
}

/*
 * Ask this database's worker for a run of job and wait until it has
 * started (wait = false) or its work is done (wait = true), at most
 * snapshot_ops.vacuum_wait_timeout.  A run of the job in progress is
 * joined instead of queueing another.  Returns whether that point was
 * reached (*out tells how far the run got); when the wait ends first, or
 * the caller is cancelled or fails, the request is withdrawn: a request
 * nobody wants any more never runs.
 */
static bool
so_request_run(SoJob job, bool wait, SoOutcome *out)
{
	TimestampTz start = GetCurrentTimestamp();
	TimestampTz deadline = TimestampTzPlusMilliseconds(start, so_vacuum_wait_timeout);
	TimestampTz grace = TimestampTzPlusMilliseconds(start, Min(SO_START_GRACE_MS, so_vacuum_wait_timeout));
	SoTicket   *ticket = palloc0(sizeof(SoTicket));
	bool		posted = false;
	bool		reached = false;

	so_require_worker_support();
	memset(out, 0, sizeof(*out));

	PG_ENSURE_ERROR_CLEANUP(so_withdraw_on_error, PointerGetDatum(ticket));
	{
		for (;;)
		{
			SoPoll		poll;
			TimestampTz now;

			CHECK_FOR_INTERRUPTS();
			if (!posted)
				posted = so_request_post(MyDatabaseId, job, wait, ticket);
			now = GetCurrentTimestamp();
			if (!posted)
			{
				if (now >= grace)
				{
					SoWorkerInfo info;

					so_worker_info(MyDatabaseId, &info);
					ereport(ERROR,
							(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
							 errmsg("no snapshot_ops worker is running in database \"%s\"",
									get_database_name(MyDatabaseId)),
							 errdetail("%s", so_absence_reason(&info) ? so_absence_reason(&info) : "The worker is starting."),
							 errhint("Check snapshot_ops.worker_status() and the server log.")));
				}
				so_request_sleep(100);
				continue;
			}

			poll = so_request_poll(ticket, out);
			if (poll == SO_POLL_LOST && out->run_id == 0 && out->gen == 0)
			{
				/*
				 * The worker exited before it took the request (ALTER
				 * EXTENSION UPDATE restarts it, for one): ask the next one.
				 */
				so_request_withdraw(ticket);
				posted = false;
				grace = TimestampTzPlusMilliseconds(now, Min(SO_START_GRACE_MS, so_vacuum_wait_timeout));
				continue;
			}
			if (poll == SO_POLL_LOST)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("the snapshot_ops worker exited before the %s job finished",
								so_job_names[job]),
						 out->run_id != 0 ?
						 errdetail("See run " INT64_FORMAT " in snapshot_ops.job_runs.", out->run_id) : 0));
			if (poll == SO_POLL_DONE || (!wait && poll == SO_POLL_STARTED))
			{
				reached = true;
				break;
			}
			if (now >= deadline)
				break;
			so_request_sleep(100);
		}
		so_request_sleep_done();
	}
	PG_END_ENSURE_ERROR_CLEANUP(so_withdraw_on_error, PointerGetDatum(ticket));

	/* reached: nothing left to withdraw; else the wait ended first */
	so_request_withdraw(ticket);
	return reached;
}

/*
 * snapshot_ops.run_job(job text, wait boolean DEFAULT false) RETURNS bigint
 *
 * Ask the worker to run a job now; returns the run id (job_runs.run_id),
 * or NULL with a NOTICE when job_runs could not give the run an id yet.
 * With wait, returns when the run has finished and raises an error if it
 * failed.  Errors: 22023 for an unknown job or NULL, 55000 when no worker
 * serves the database or it did not start the run within
 * snapshot_ops.vacuum_wait_timeout (the request is then withdrawn), 38000
 * when a waited run failed.
 */
Datum
snapshot_ops_run_job(PG_FUNCTION_ARGS)
{
	char	   *name;
	int			job;
	bool		wait;
	bool		reached;
	SoOutcome	out;

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

	reached = so_request_run(job, wait, &out);

	if (out.gen == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the snapshot_ops worker did not start the %s job within %d ms",
						name, so_vacuum_wait_timeout),
				 errdetail("The request was withdrawn; the job does not run for it."),
				 errhint("The worker may be busy with a long run; see snapshot_ops.worker_status().")));
	if (wait && !reached)
		ereport(NOTICE,
				(errmsg("run " INT64_FORMAT " of the %s job is still running after %d ms",
						out.run_id, name, so_vacuum_wait_timeout)));
	if (wait && reached && out.status != SO_RUN_SUCCEEDED && out.status != SO_RUN_SKIPPED)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("run " INT64_FORMAT " of the %s job %s",
						out.run_id, name,
						out.status == SO_RUN_NONE ? "ended" : so_run_status_names[out.status]),
				 errdetail("%s", out.message[0] ? out.message : "See snapshot_ops.job_runs.")));
	if (out.run_id == 0)
	{
		/* started, but job_runs could not be written yet (jobrec.c) */
		ereport(NOTICE,
				(errmsg("the %s run has no run id yet", name),
				 errdetail("snapshot_ops.job_runs could not be written when the run started; the run is recorded, with an id, once it can be."),
				 errhint("See the server log.")));
		PG_RETURN_NULL();
	}
	PG_RETURN_INT64(out.run_id);
}

/*
 * vacuum_snapshot_tables() RETURNS text
 *
 * VACUUM cannot run inside a function, so ask the worker to VACUUM
 * ANALYZE the four tables, wait (snapshot_ops.vacuum_wait_timeout) and
 * report what it did.  Errors as run_job().
 */
Datum
snapshot_ops_vacuum_snapshot_tables(PG_FUNCTION_ARGS)
{
	SoOutcome	out;
	bool		reached;

	reached = so_request_run(SO_JOB_VACUUM, true, &out);

	if (out.gen == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the snapshot_ops worker did not start VACUUM ANALYZE within %d ms",
						so_vacuum_wait_timeout),
				 errdetail("The request was withdrawn; the job does not run for it."),
				 errhint("The worker may be busy with a long cleanup run; see snapshot_ops.worker_status().")));
	if (!reached)
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("VACUUM ANALYZE still running after %d ms (run " INT64_FORMAT "); see snapshot_ops.job_runs",
												  so_vacuum_wait_timeout, out.run_id)));
	if (out.status != SO_RUN_SUCCEEDED)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("VACUUM ANALYZE of the snapshot tables %s (run " INT64_FORMAT ")",
						out.status == SO_RUN_NONE ? "ended" : so_run_status_names[out.status],
						out.run_id),
				 errdetail("%s", out.message[0] ? out.message : "See snapshot_ops.job_runs."),
				 errhint("The run is retried on the next call or at the next scheduled time.")));

	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s (run " INT64_FORMAT ", " INT64_FORMAT " ms)",
											  out.message, out.run_id, out.ms)));
}

/*
 * The row of worker_status(): the 8 columns of 1.0, then, from 1.1,
 * sql_version, failures, last_error, last_error_at, next_attempt_at.
 */
static void
so_worker_status_rows(FunctionCallInfo fcinfo, int ncols)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SoWorkerInfo info;
	Datum		values[13];
	bool		nulls[13];
	const char *state = "not running";
	const char *reason;

	so_init_materialized_srf(fcinfo, 0);
	memset(nulls, 0, sizeof(nulls));
	so_worker_info(MyDatabaseId, &info);

	if (info.ready && info.busy)
	{
		state = "running";
		for (int j = 0; j < SO_NUM_JOBS; j++)
		{
			if (info.running[j])
				state = psprintf("running %s (run " INT64_FORMAT ")",
								 so_job_names[j], info.run_id[j]);
		}
	}
	else if (info.ready)
		state = "idle";
	else if (info.has_slot)
		state = "starting";
	else if (info.db_state == SO_DB_BACKOFF)
		state = "waiting to retry";
	else if (info.db_state == SO_DB_NO_BGWORKER || info.db_state == SO_DB_NO_SLOT)
		state = "waiting for a slot";
	else if (info.db_state == SO_DB_STOPPED || info.db_state == SO_DB_TERMINATED)
		state = "waiting to restart";
	else if (info.db_state == SO_DB_CLOSED)
		state = "waiting for connections";
	reason = so_absence_reason(&info);

	values[0] = BoolGetDatum(info.loaded);
	values[1] = BoolGetDatum(info.ready);
	values[2] = Int32GetDatum((int32) info.pid);
	nulls[2] = (info.pid == 0);
	values[3] = DirectFunctionCall1(namein,
									CStringGetDatum(get_database_name(MyDatabaseId)));
	values[4] = CStringGetTextDatum(state);
	if (reason != NULL)
		values[5] = CStringGetTextDatum(reason);
	else
		nulls[5] = true;
	values[6] = TimestampTzGetDatum(info.started_at);
	nulls[6] = (!info.ready || info.started_at == 0);
	values[7] = Int32GetDatum((int32) info.launcher_pid);
	nulls[7] = (info.launcher_pid == 0);
	if (ncols > 8)
	{
		values[8] = info.ready ? CStringGetTextDatum(so_version_name(info.sql_version)) : (Datum) 0;
		nulls[8] = !info.ready;
		values[9] = Int32GetDatum(info.failures);
		values[10] = CStringGetTextDatum(info.last_error);
		nulls[10] = (info.last_error[0] == '\0');
		values[11] = TimestampTzGetDatum(info.last_error_at);
		nulls[11] = (info.last_error_at == 0);
		values[12] = TimestampTzGetDatum(info.retry_at);
		nulls[12] = (info.ready || info.retry_at == 0);
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * snapshot_ops.worker_status() of version 1.0: loaded, running, pid,
 * database, state, reason, started_at, launcher_pid.
 */
Datum
snapshot_ops_worker_status(PG_FUNCTION_ARGS)
{
	so_worker_status_rows(fcinfo, 8);
	return (Datum) 0;
}

/*
 * snapshot_ops.worker_status() of version 1.1: the columns of 1.0 and
 * sql_version (the version the worker serves), failures (in a row),
 * last_error and last_error_at (what ended the last failed worker) and
 * next_attempt_at (when the launcher tries again).
 */
Datum
snapshot_ops_worker_status_1_1(PG_FUNCTION_ARGS)
{
	so_worker_status_rows(fcinfo, 13);
	return (Datum) 0;
}

/*
 * The rows of job_schedules(): job, schedule, enabled, next_run (1.0),
 * then timezone, source and retention_hold (1.1).  When this database's worker runs, what
 * it uses (source "worker"); otherwise what this session's settings would
 * give a worker (source "settings").
 */
static void
so_job_schedule_rows(FunctionCallInfo fcinfo, int ncols)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TimestampTz now = GetCurrentStatementStartTimestamp();
	SoWorkerInfo info;
	pg_tz	   *tz = so_schedule_timezone();
	char	   *held_why = NULL;

	so_init_materialized_srf(fcinfo, 0);
	so_worker_info(MyDatabaseId, &info);

	if (ncols > 6 && !so_retention_held(&held_why))
		held_why = NULL;

	for (int j = 0; j < SO_NUM_JOBS; j++)
	{
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, true};

		values[0] = CStringGetTextDatum(so_job_names[j]);
		if (info.ready && info.schedules[j].schedule[0] != '\0')
		{
			const SoSchedule *sched = &info.schedules[j];

			values[1] = CStringGetTextDatum(sched->schedule);
			values[2] = BoolGetDatum(sched->enabled);
			values[3] = TimestampTzGetDatum(sched->next_run);
			nulls[3] = (sched->next_run == 0);
			values[4] = CStringGetTextDatum(sched->timezone);
			values[5] = CStringGetTextDatum("worker");
		}
		else
		{
			const char *expr = (j == SO_JOB_CLEANUP) ? so_cleanup_schedule : so_vacuum_schedule;
			CronSchedule cron;
			char		errbuf[256];

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
			values[4] = CStringGetTextDatum(pg_get_timezone_name(tz));
			values[5] = CStringGetTextDatum("settings");
		}
		if (j == SO_JOB_CLEANUP && held_why != NULL)
		{
			values[6] = CStringGetTextDatum(held_why);
			nulls[6] = false;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * snapshot_ops.job_schedules() of version 1.0: job, schedule, enabled,
 * next_run.
 */
Datum
snapshot_ops_job_schedules(PG_FUNCTION_ARGS)
{
	so_job_schedule_rows(fcinfo, 4);
	return (Datum) 0;
}

/*
 * snapshot_ops.job_schedules() of version 1.1: the columns of 1.0, the
 * zone the schedule is evaluated in, where the figures come from, and for
 * the cleanup job the retention hold that makes it delete nothing.
 */
Datum
snapshot_ops_job_schedules_1_1(PG_FUNCTION_ARGS)
{
	so_job_schedule_rows(fcinfo, 7);
	return (Datum) 0;
}
