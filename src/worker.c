/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The per-database snapshot_ops worker: runs the cleanup and vacuum
 *		jobs on their schedules and on request.
 *
 * The launcher starts one worker per database, passing the number of the
 * shared-memory slot it reserved.  The worker connects (as the bootstrap
 * superuser), pins the settings it depends on, exits at once when the
 * database has no snapshot_ops extension, is not listed in
 * snapshot_ops.databases or has SQL newer than this library, and then
 * loops: wait on its latch until the next scheduled run but at most
 * SO_WORKER_NAP_MS, check that the extension is still there and at the
 * same version (a catalog lookup in a short transaction; DROP EXTENSION
 * makes it exit, ALTER EXTENSION UPDATE restart, within a second), write
 * job records that could not be written before, run what is due.
 *
 * Settings: a database or role setting (ALTER DATABASE/ROLE ... SET) must
 * never turn the worker into a restart loop, so the worker overrides the
 * ones its work depends on: read-write transactions at READ COMMITTED, no
 * statement, idle or transaction timeouts, its own lock_timeout
 * (snapshot_ops.vacuum_lock_timeout), a search_path of pg_catalog only,
 * session_replication_role = origin (the cascade triggers must fire), no
 * SET ROLE, exit_on_error off, DateStyle ISO for its messages.  Other
 * settings (work_mem, maintenance_work_mem, vacuum cost settings, ...)
 * are the DBA's and apply as set.
 *
 * Errors: a job's own error is recorded and the worker goes on (jobs.c).
 * Any other error in the loop is caught at its top, as autovacuum's
 * launcher does: the transaction is aborted, the error logged, and the
 * loop goes on after a pause; after SO_WORKER_MAX_ERRORS errors in a row
 * the worker exits and the launcher retries with a growing delay.  The
 * error that ends a worker (a FATAL at connection, say) is captured by an
 * emit_log_hook and handed to the launcher, which shows it in
 * snapshot_ops.worker_status().
 *
 * Schedules are cron expressions evaluated in the zone of
 * so_schedule_timezone().  After a scheduled run the next run is the
 * schedule's next instant after the one that started the run (instants
 * that passed during a long run are skipped, never queued); a run of any
 * kind also stands for a scheduled instant that passed while it ran.  A
 * job whose latest recorded run started before a scheduled instant that
 * has passed (the server was down) runs once right after start-up; a
 * database without history waits for the next scheduled time.  Jobs of
 * one database run one at a time in this one process.
 *
 * On SIGHUP the configuration file is re-read.  Settings made with ALTER
 * DATABASE/ROLE ... SET are applied at connection start; when they have
 * changed, the worker asks the launcher to start it again at once, which
 * applies them exactly as a new session would (including RESET).
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <setjmp.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "cron.h"
#include "guc.h"
#include "jobrec.h"
#include "jobs.h"
#include "launcher.h"
#include "shmem.h"
#include "spi_util.h"
#include "version.h"
#include "worker.h"

/* Errors in a row, outside jobs, before the worker gives up and exits. */
#define SO_WORKER_MAX_ERRORS	5

static char *so_dbname = NULL;
static Oid	so_extoid = InvalidOid;
static int	so_version = 0;
static char *so_settings_seen = NULL;
static bool so_settings_check_pending = false;	/* after a reload */
static MemoryContext so_loop_cxt = NULL;

/* The last error message reported in this process (emit_log_hook). */
static char so_last_error[SO_MESSAGE_LEN];

/* This worker is ending because of SIGTERM, not of a failure. */
static bool so_terminated = false;
static emit_log_hook_type prev_emit_log_hook = NULL;

/* Start-up bookkeeping (job_runs) not done yet: retried from the loop. */
static bool so_startup_pending = true;
static TimestampTz so_startup_retry_at = 0;

/* Schedule state per job. */
static CronSchedule so_cron[SO_NUM_JOBS];
static bool so_cron_ok[SO_NUM_JOBS];
static TimestampTz so_next_run[SO_NUM_JOBS];
static bool so_catch_up[SO_NUM_JOBS];
static char *so_schedule_seen[SO_NUM_JOBS];	/* in TopMemoryContext */
static char so_zone_seen[TZ_STRLEN_MAX + 1];

static void so_worker_on_exit(int code, Datum arg);
static void so_worker_log_hook(ErrorData *edata);
static void so_worker_exit(SoExitAction action) pg_attribute_noreturn();
static void so_worker_pin_settings(void);
static void so_worker_startup(void);
static char *so_worker_settings(void);
static void so_worker_reload(void);
static void so_worker_plan(bool force);
static void so_worker_publish(void);
static void so_worker_check_extension(void);
static void so_worker_startup_bookkeeping(void);
static void so_worker_check_settings(void);
static void so_worker_after_run(SoJob job, SoTrigger trigger,
								TimestampTz scheduled, SoRunStatus status);

/*
 * before_shmem_exit: hand the launcher the error that ended this worker,
 * give the slot back and wake anybody waiting for a run of this worker.
 */
static void
so_worker_on_exit(int code, Datum arg)
{
	if (so_terminated)
		so_worker_set_exit(SO_EXIT_TERMINATED);
	else if (code != 0)
		so_worker_set_exit_error(so_last_error[0] ? so_last_error :
								 "the worker exited with an error");
	so_worker_detach();
}

/* Keep the text of every error, the one that ends the process included. */
static void
so_worker_log_hook(ErrorData *edata)
{
	if (edata->elevel >= ERROR && edata->message != NULL)
		so_clip_copy(so_last_error, edata->message, sizeof(so_last_error));
	/* die(): pg_terminate_backend(), or the postmaster shutting down */
	if (edata->elevel == FATAL && edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
		so_terminated = true;
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/*
 * Exit, telling the launcher what to do about this database, after a last
 * attempt to write the job records still kept.
 */
static void
so_worker_exit(SoExitAction action)
{
	so_rec_flush(true);
	so_worker_set_exit(action);
	proc_exit(0);
}

/*
 * Set a setting as a SET command in the session would: above every
 * database, role and configuration-file setting, and still changeable
 * locally by a transaction (PGC_S_OVERRIDE would also rewrite the values
 * that SET LOCAL restores).
 */
static void
so_pin(const char *name, const char *value)
{
	SetConfigOption(name, value, PGC_SUSET, PGC_S_SESSION);
}

/* The settings the worker depends on (see the file header). */
static void
so_worker_pin_settings(void)
{
	char		lock_timeout[32];

	so_pin("search_path", "pg_catalog, pg_temp");
	so_pin("default_transaction_read_only", "off");
	so_pin("default_transaction_isolation", "read committed");
	so_pin("default_transaction_deferrable", "off");
	so_pin("statement_timeout", "0");
	so_pin("idle_in_transaction_session_timeout", "0");
	so_pin("idle_session_timeout", "0");
	so_pin("session_replication_role", "origin");
	so_pin("role", "none");
	so_pin("exit_on_error", "off");
	so_pin("DateStyle", "ISO, YMD");
	snprintf(lock_timeout, sizeof(lock_timeout), "%d", so_vacuum_lock_timeout);
	so_pin("lock_timeout", lock_timeout);
	SetConfigOption("application_name", "snapshot_ops worker",
					PGC_USERSET, PGC_S_SESSION);
}

/*
 * The database and role settings that apply to this worker, as one string
 * to compare (pg_db_role_setting rows of this database and role).  Needs
 * SPI.
 */
static char *
so_worker_settings(void)
{
	Oid			argtypes[2] = {OIDOID, OIDOID};
	Datum		values[2];
	bool		isnull;
	Datum		d;
	int			ret;

	values[0] = ObjectIdGetDatum(MyDatabaseId);
	values[1] = ObjectIdGetDatum(GetSessionUserId());
	ret = SPI_execute_with_args(
								"SELECT pg_catalog.string_agg("
								"  s.setdatabase::pg_catalog.text OPERATOR(pg_catalog.||) '/' "
								"  OPERATOR(pg_catalog.||) s.setrole::pg_catalog.text "
								"  OPERATOR(pg_catalog.||) '=' "
								"  OPERATOR(pg_catalog.||) s.setconfig::pg_catalog.text, "
								"  ';' ORDER BY s.setdatabase, s.setrole) "
								"FROM pg_catalog.pg_db_role_setting s "
								"WHERE s.setdatabase OPERATOR(pg_catalog.=) ANY (ARRAY[0, $1]::pg_catalog.oid[]) "
								"  AND s.setrole OPERATOR(pg_catalog.=) ANY (ARRAY[0, $2]::pg_catalog.oid[])",
								2, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read pg_db_role_setting: %s",
			 SPI_result_code_string(ret));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return MemoryContextStrdup(TopMemoryContext,
							   isnull ? "" : TextDatumGetCString(d));
}

/*
 * Parse the schedules and compute the next run of each job from now when
 * a schedule or the zone changed (or force).  A job whose schedule is
 * unchanged keeps its next run.
 */
static void
so_worker_plan(bool force)
{
	TimestampTz now = GetCurrentTimestamp();
	pg_tz	   *tz = so_schedule_timezone();
	const char *zone = pg_get_timezone_name(tz);
	bool		zone_changed = strcmp(zone, so_zone_seen) != 0;

	strlcpy(so_zone_seen, zone, sizeof(so_zone_seen));
	for (int j = 0; j < SO_NUM_JOBS; j++)
	{
		const char *expr = (j == SO_JOB_CLEANUP) ? so_cleanup_schedule : so_vacuum_schedule;
		char		errbuf[256];

		if (!force && !zone_changed && so_schedule_seen[j] != NULL &&
			strcmp(expr, so_schedule_seen[j]) == 0)
			continue;
		if (so_schedule_seen[j] != NULL)
			pfree(so_schedule_seen[j]);
		so_schedule_seen[j] = MemoryContextStrdup(TopMemoryContext, expr);
		so_cron_ok[j] = cron_parse(expr, &so_cron[j], errbuf, sizeof(errbuf));
		if (!so_cron_ok[j])
		{
			/* the check hook makes this impossible; never run rather than loop */
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid cron schedule \"%s\" for the %s job", expr, so_job_names[j]),
					 errdetail("%s", errbuf)));
			so_next_run[j] = DT_NOEND;
			continue;
		}
		so_next_run[j] = cron_next_after(&so_cron[j], now, tz);
		if (TIMESTAMP_NOT_FINITE(so_next_run[j]))
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the %s schedule \"%s\" of database \"%s\" never fires in time zone \"%s\"",
							so_job_names[j], expr, so_dbname ? so_dbname : "?", zone),
					 errdetail("Every time it names falls in an hour the clock skips when daylight-saving time starts."),
					 errhint("Choose a time outside the skipped hour, or set snapshot_ops.timezone.")));
	}
	so_worker_publish();
}

/* Publish the schedules as this worker uses them (jobs view). */
static void
so_worker_publish(void)
{
	for (int j = 0; j < SO_NUM_JOBS; j++)
	{
		SoSchedule	sched;

		memset(&sched, 0, sizeof(sched));
		sched.enabled = so_enable_scheduler && so_cron_ok[j];
		sched.next_run = sched.enabled && !TIMESTAMP_NOT_FINITE(so_next_run[j]) ?
			so_next_run[j] : 0;
		/* as cron_parse() reads it: without surrounding blanks */
		so_clip_copy(sched.schedule, cron_trimmed(so_schedule_seen[j] ? so_schedule_seen[j] : ""),
					 SO_SCHEDULE_LEN);
		strlcpy(sched.timezone, so_zone_seen, sizeof(sched.timezone));
		so_worker_publish_schedule(j, &sched);
	}
}

/*
 * After a run: no catch-up is due any more, and a scheduled instant that
 * the run covered moves on.  From a scheduled run, the next instant is the
 * schedule's next after the one that started it; instants that passed
 * while the run lasted are skipped, not queued.  A manual run that failed
 * covers nothing: the catch-up or scheduled run it met still runs.
 */
static void
so_worker_after_run(SoJob job, SoTrigger trigger, TimestampTz scheduled,
					SoRunStatus status)
{
	pg_tz	   *tz = so_schedule_timezone();
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz next;
	int			skipped = 0;

	if (trigger == SO_TRIGGER_MANUAL && status == SO_RUN_FAILED)
		return;
	so_catch_up[job] = false;
	if (!so_cron_ok[job])
		return;
	if (trigger == SO_TRIGGER_SCHEDULE)
		next = cron_next_after(&so_cron[job], scheduled, tz);
	else if (so_next_run[job] <= now)
		next = so_next_run[job];	/* fell due during the run: covered */
	else
		return;
	while (next <= now && !TIMESTAMP_NOT_FINITE(next))
	{
		next = cron_next_after(&so_cron[job], next, tz);
		skipped++;
	}
	if (skipped > (trigger == SO_TRIGGER_SCHEDULE ? 0 : 1))
		ereport(LOG,
				(errmsg("snapshot_ops: the %s run in database \"%s\" lasted past %d scheduled times, which are skipped",
						so_job_names[job], so_dbname,
						skipped - (trigger == SO_TRIGGER_SCHEDULE ? 0 : 1))));
	so_next_run[job] = next;
	so_worker_publish();
}

/*
 * SIGHUP: re-read the configuration file, re-pin the settings and
 * recompute the schedules, then (so_worker_check_settings()) restart if
 * the database or role settings changed.
 */
static void
so_worker_reload(void)
{
	ConfigReloadPending = false;
	ProcessConfigFile(PGC_SIGHUP);

	if (!so_database_listed(so_dbname))
	{
		ereport(LOG,
				(errmsg("snapshot_ops worker for database \"%s\" exiting: the database is not in snapshot_ops.databases",
						so_dbname)));
		so_db_set_state(MyDatabaseId, SO_DB_NOT_LISTED);
		so_worker_exit(SO_EXIT_DONE);
	}

	/* what the file changed applies at once, whatever follows */
	so_worker_pin_settings();
	so_worker_plan(false);
	so_settings_check_pending = true;
}

/*
 * After a reload: restart when the database or role settings changed
 * (ALTER DATABASE/ROLE ... SET sends no signal; a reload is the cue).
 * The catalog read can fail (a lock held on pg_db_role_setting past the
 * worker's lock_timeout); it is then tried again on the next loop.
 */
static void
so_worker_check_settings(void)
{
	char	   *settings;

	if (!so_settings_check_pending)
		return;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	settings = so_worker_settings();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(so_loop_cxt);
	so_settings_check_pending = false;

	if (strcmp(settings, so_settings_seen) != 0)
	{
		ereport(LOG,
				(errmsg("snapshot_ops worker for database \"%s\" restarting to apply changed database settings",
						so_dbname)));
		so_worker_exit(SO_EXIT_RESTART);
	}
	pfree(settings);
}

/*
 * Exit when the extension was dropped (or dropped and created again), and
 * restart when its version changed (ALTER EXTENSION ... UPDATE).  A
 * lookup in a transaction of its own, so that invalidations are seen.
 */
static void
so_worker_check_extension(void)
{
	SoExtension ext;

	StartTransactionCommand();
	so_extension_lookup(&ext);
	CommitTransactionCommand();
	MemoryContextSwitchTo(so_loop_cxt);

	if (ext.oid != so_extoid)
	{
		ereport(LOG,
				(errmsg("snapshot_ops worker for database \"%s\" exiting: the extension was dropped",
						so_dbname)));
		if (!OidIsValid(ext.oid))
			so_db_set_state(MyDatabaseId, SO_DB_NO_EXTENSION);
		/* dropped and created again: start afresh */
		so_worker_exit(OidIsValid(ext.oid) ? SO_EXIT_RESTART : SO_EXIT_DONE);
	}
	if (ext.version != so_version)
	{
		ereport(LOG,
				(errmsg("snapshot_ops worker for database \"%s\" restarting: the extension is now version %s",
						so_dbname, ext.version_text)));
		so_worker_exit(SO_EXIT_RESTART);
	}
}

/*
 * The start-up reading of the job history: mark interrupted runs, find
 * missed runs.  Retried every few seconds until job_runs can be read.
 */
static void
so_worker_startup_bookkeeping(void)
{
	TimestampTz last_started[SO_NUM_JOBS];
	uint64		interrupted = 0;
	TimestampTz now = GetCurrentTimestamp();
	pg_tz	   *tz = so_schedule_timezone();

	if (now < so_startup_retry_at)
		return;
	if (!so_rec_startup(&interrupted, last_started))
	{
		so_startup_retry_at = TimestampTzPlusMilliseconds(now, SO_RECORD_RETRY_SECONDS * 1000);
		return;
	}
	so_startup_pending = false;
	MemoryContextSwitchTo(so_loop_cxt);
	if (interrupted > 0)
		ereport(LOG,
				(errmsg_plural("snapshot_ops: marked " UINT64_FORMAT " unfinished run in database \"%s\" as interrupted",
							   "snapshot_ops: marked " UINT64_FORMAT " unfinished runs in database \"%s\" as interrupted",
							   interrupted, interrupted, so_dbname)));
	for (int j = 0; j < SO_NUM_JOBS; j++)
	{
		if (so_cron_ok[j] && last_started[j] != 0 &&
			cron_next_after(&so_cron[j], last_started[j], tz) <= now)
			so_catch_up[j] = true;
	}
}

/*
 * Connect-time work: check that this database wants a worker and that
 * this library serves its SQL, then announce the worker ready.
 */
static void
so_worker_startup(void)
{
	SoExtension ext;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "snapshot_ops worker starting");

	so_dbname = MemoryContextStrdup(TopMemoryContext,
									get_database_name(MyDatabaseId));
	if (!so_database_listed(so_dbname))
	{
		CommitTransactionCommand();
		ereport(DEBUG1,
				(errmsg_internal("snapshot_ops: database \"%s\" is not in snapshot_ops.databases",
								 so_dbname)));
		so_db_set_state(MyDatabaseId, SO_DB_NOT_LISTED);
		so_worker_exit(SO_EXIT_DONE);
	}
	so_extension_lookup(&ext);
	if (!OidIsValid(ext.oid))
	{
		CommitTransactionCommand();
		ereport(DEBUG1,
				(errmsg_internal("snapshot_ops: no extension in database \"%s\"",
								 so_dbname)));
		so_db_set_state(MyDatabaseId, SO_DB_NO_EXTENSION);
		so_worker_exit(SO_EXIT_DONE);
	}
	if (ext.version < 0)
	{
		CommitTransactionCommand();
		ereport(WARNING,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("snapshot_ops worker for database \"%s\" cannot serve extension version \"%s\"",
						so_dbname, ext.version_text),
				 errdetail("The installed library serves versions 1.0 to %s.",
						   so_version_name(SO_SQL_NEWEST)),
				 errhint("Install the snapshot_ops package that provides version \"%s\" and restart the server.",
						 ext.version_text)));
		so_db_set_state_note(MyDatabaseId, SO_DB_UNSUPPORTED,
							 psprintf("the database has snapshot_ops version %s, newer than the installed library (1.0 to %s)",
									  so_clip(ext.version_text, -1), so_version_name(SO_SQL_NEWEST)));
		so_worker_exit(SO_EXIT_DONE);
	}
	so_extoid = ext.oid;
	so_version = ext.version;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	so_settings_seen = so_worker_settings();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(so_loop_cxt);

	so_worker_plan(true);
	so_worker_startup_bookkeeping();
	so_worker_ready(so_version);

	ereport(LOG,
			(errmsg("snapshot_ops worker started for database \"%s\" (extension version %s)",
					so_dbname, ext.version_text)));
}

/*
 * Entry point of a per-database worker; main_arg is its slot number.
 */
void
so_worker_main(Datum main_arg)
{
	int			slotno = DatumGetInt32(main_arg);
	Oid			dboid;
	sigjmp_buf	local_sigjmp_buf;
	int			errors_in_row = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/*
	 * The postmaster ignores SIGHUP in a new background worker until its
	 * main function sets a handler, and the configuration this process
	 * inherited is the postmaster's at fork: a reload in between would be
	 * lost.  Read the file once more now, before start-up uses it.
	 */
	ProcessConfigFile(PGC_SIGHUP);

	/* attach to the slot, unless the launcher gave it up meanwhile */
	dboid = so_worker_attach(slotno, MyLatch);
	if (!OidIsValid(dboid))
		proc_exit(0);
	before_shmem_exit(so_worker_on_exit, (Datum) 0);
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = so_worker_log_hook;

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	so_worker_pin_settings();

	so_loop_cxt = AllocSetContextCreate(TopMemoryContext,
										"snapshot_ops worker loop",
										ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(so_loop_cxt);

	/*
	 * An error outside a job comes back here: undo what it left, log it
	 * and go on after a pause (see the file header).
	 */
	if (sigsetjmp(local_sigjmp_buf, 1) != 0)
	{
		/* as autovacuum does: the error's context frames are gone */
		error_context_stack = NULL;
		HOLD_INTERRUPTS();
		/* forget a pending cancel or timeout of the failed statement */
		disable_all_timeouts(false);
		QueryCancelPending = false;
		EmitErrorReport();
		AbortOutOfAnyTransaction();
		FlushErrorState();
		debug_query_string = NULL;
		MemoryContextSwitchTo(so_loop_cxt);
		MemoryContextReset(so_loop_cxt);
		pgstat_report_activity(STATE_IDLE, NULL);
		RESUME_INTERRUPTS();

		if (++errors_in_row >= SO_WORKER_MAX_ERRORS)
		{
			so_worker_set_exit_error(so_last_error);
			ereport(LOG,
					(errmsg("snapshot_ops worker for database \"%s\" exiting after %d errors in a row",
							so_dbname ? so_dbname : "?", errors_in_row)));
			so_rec_flush(true);
			proc_exit(1);
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L * errors_in_row, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	PG_exception_stack = &local_sigjmp_buf;

	if (so_extoid == InvalidOid)
		so_worker_startup();
	pgstat_report_activity(STATE_IDLE, NULL);

	for (;;)
	{
		long		timeout = SO_WORKER_NAP_MS;
		TimestampTz now;

		CHECK_FOR_INTERRUPTS();

		if (ConfigReloadPending)
			so_worker_reload();
		so_worker_check_settings();
		/* the server's TimeZone, published by the launcher, may change */
		so_worker_plan(false);
		so_worker_check_extension();
		if (so_startup_pending)
			so_worker_startup_bookkeeping();
		so_rec_flush(false);

		for (int j = 0; j < SO_NUM_JOBS && !RecoveryInProgress(); j++)
		{
			SoTrigger	trigger;
			SoRunStatus status;
			TimestampTz scheduled = 0;

			now = GetCurrentTimestamp();
			if (so_worker_requested(j))
				trigger = SO_TRIGGER_MANUAL;
			else if (so_enable_scheduler && so_catch_up[j])
				trigger = SO_TRIGGER_CATCH_UP;
			else if (so_enable_scheduler && so_cron_ok[j] && now >= so_next_run[j])
			{
				trigger = SO_TRIGGER_SCHEDULE;
				scheduled = so_next_run[j];
			}
			else
				continue;

			status = so_job_run(j, trigger);
			MemoryContextSwitchTo(so_loop_cxt);
			if (status != SO_RUN_NONE)
				so_worker_after_run(j, trigger, scheduled, status);
		}
		errors_in_row = 0;
		MemoryContextReset(so_loop_cxt);

		/* a background worker reports its statistics itself */
		pgstat_report_stat(false);

		now = GetCurrentTimestamp();
		for (int j = 0; j < SO_NUM_JOBS && so_enable_scheduler; j++)
		{
			if (so_cron_ok[j])
				timeout = Min(timeout, TimestampDifferenceMilliseconds(now, so_next_run[j]));
		}

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
