/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The per-database snapshot_ops worker: runs the cleanup and vacuum
 *		jobs on their schedules and on request.
 *
 * The launcher starts one worker per database, passing the number of the
 * shared-memory slot it reserved.  The worker connects (as the bootstrap
 * superuser, so the database's and that role's settings apply), exits at
 * once when the database has no snapshot_ops extension or is not listed in
 * snapshot_ops.databases, marks runs a previous incarnation left "running"
 * as interrupted, and then loops: wait on its latch until the next
 * scheduled run but at most SO_WORKER_NAP_MS, check that the extension is
 * still there (a syscache-backed lookup in a short transaction; DROP
 * EXTENSION makes it exit within a second), run what is due.
 *
 * Schedules are cron expressions evaluated in snapshot_ops.timezone.  A
 * job whose latest recorded run started before a scheduled time that has
 * passed (the server was down) runs once right after start-up; a database
 * without history waits for the next scheduled time.  Jobs of one
 * database run one at a time in this one process, so two runs never
 * overlap.
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

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
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
#include "utils/timestamp.h"

#include "cron.h"
#include "guc.h"
#include "jobs.h"
#include "launcher.h"
#include "shmem.h"
#include "worker.h"

static SoWorkerSlot *so_slot = NULL;
static Oid	so_extoid = InvalidOid;
static char *so_dbname = NULL;
static char *so_settings_seen = NULL;
static MemoryContext so_loop_cxt = NULL;

/* Schedule state per job. */
static CronSchedule so_cron[SO_NUM_JOBS];
static bool so_cron_ok[SO_NUM_JOBS];
static TimestampTz so_next_run[SO_NUM_JOBS];
static bool so_catch_up[SO_NUM_JOBS];

static void so_worker_detach(int code, Datum arg);
static void so_worker_exit(SoExitAction action) pg_attribute_noreturn();
static void so_worker_startup(void);
static char *so_worker_settings(void);
static void so_worker_reload(void);
static void so_worker_plan(const TimestampTz *last_started);
static void so_worker_advance(SoJob job);
static Oid	so_worker_extension(void);

/*
 * before_shmem_exit callback: give the slot back to the launcher and wake
 * anybody waiting for a run of this worker.
 */
static void
so_worker_detach(int code, Datum arg)
{
	Latch	   *launcher;
	int			j;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	so_slot->pid = 0;
	so_slot->latch = NULL;
	so_slot->state = SO_SLOT_STOPPED;
	for (j = 0; j < SO_NUM_JOBS; j++)
	{
		SoJobState *js = &so_slot->jobs[j];

		if (js->running)
		{
			js->running = false;
			js->last_status = SO_RUN_INTERRUPTED;
			js->runs_finished++;
		}
	}
	launcher = so_shared->launcher_latch;
	LWLockRelease(so_shared->lock);

	ConditionVariableBroadcast(&so_shared->cv);
	if (launcher)
		SetLatch(launcher);
}

/*
 * Exit, telling the launcher what to do about this database.
 */
static void
so_worker_exit(SoExitAction action)
{
	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	so_slot->exit_action = action;
	LWLockRelease(so_shared->lock);
	proc_exit(0);
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
 * Compute the next run of each job from now; with last_started (at
 * start-up), also which jobs missed a scheduled run.
 */
static void
so_worker_plan(const TimestampTz *last_started)
{
	TimestampTz now = GetCurrentTimestamp();
	pg_tz	   *tz = so_schedule_timezone();
	int			j;

	for (j = 0; j < SO_NUM_JOBS; j++)
	{
		const char *expr = (j == SO_JOB_CLEANUP) ? so_cleanup_schedule : so_vacuum_schedule;
		char		errbuf[256];

		so_catch_up[j] = false;
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
		if (last_started != NULL && last_started[j] != 0 &&
			cron_next_after(&so_cron[j], last_started[j], tz) <= now)
			so_catch_up[j] = true;
	}
}

/* After a run: the next scheduled time is the first one after now. */
static void
so_worker_advance(SoJob job)
{
	so_catch_up[job] = false;
	if (so_cron_ok[job])
		so_next_run[job] = cron_next_after(&so_cron[job], GetCurrentTimestamp(),
										   so_schedule_timezone());
}

/*
 * SIGHUP: re-read the configuration file; restart when the database or
 * role settings changed, otherwise recompute the schedules.
 */
static void
so_worker_reload(void)
{
	char	   *settings;

	ConfigReloadPending = false;
	ProcessConfigFile(PGC_SIGHUP);

	if (!so_database_listed(so_dbname))
	{
		ereport(LOG,
				(errmsg("snapshot_ops worker for database \"%s\" exiting: the database is not in snapshot_ops.databases",
						so_dbname)));
		so_worker_exit(SO_EXIT_DONE);
	}

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

	if (strcmp(settings, so_settings_seen) != 0)
	{
		ereport(LOG,
				(errmsg("snapshot_ops worker for database \"%s\" restarting to apply changed database settings",
						so_dbname)));
		so_worker_exit(SO_EXIT_RESTART);
	}
	pfree(settings);
	so_worker_plan(NULL);
}

/*
 * The OID of the extension in this database, InvalidOid when there is
 * none; looked up in a transaction of its own so that invalidations (DROP
 * EXTENSION) are seen.
 */
static Oid
so_worker_extension(void)
{
	Oid			extoid;

	StartTransactionCommand();
	extoid = get_extension_oid("snapshot_ops", true);
	CommitTransactionCommand();
	MemoryContextSwitchTo(so_loop_cxt);
	return extoid;
}

/*
 * Connect-time work: check that this database wants a worker, clean up
 * after a previous incarnation, find missed runs.
 */
static void
so_worker_startup(void)
{
	TimestampTz last_started[SO_NUM_JOBS];
	uint64		interrupted;
	int			j;

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
		so_worker_exit(SO_EXIT_DONE);
	}
	so_extoid = get_extension_oid("snapshot_ops", true);
	if (!OidIsValid(so_extoid))
	{
		CommitTransactionCommand();
		ereport(DEBUG1,
				(errmsg_internal("snapshot_ops: no extension in database \"%s\"",
								 so_dbname)));
		so_worker_exit(SO_EXIT_DONE);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	interrupted = so_jobs_mark_interrupted();
	for (j = 0; j < SO_NUM_JOBS; j++)
		last_started[j] = so_jobs_last_started(j);
	so_settings_seen = so_worker_settings();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(so_loop_cxt);

	so_worker_plan(last_started);

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	so_slot->state = SO_SLOT_IDLE;
	so_slot->started_at = GetCurrentTimestamp();
	LWLockRelease(so_shared->lock);
	ConditionVariableBroadcast(&so_shared->cv);

	ereport(LOG,
			(errmsg("snapshot_ops worker started for database \"%s\"", so_dbname),
			 interrupted > 0 ?
			 errdetail_plural("Marked " UINT64_FORMAT " unfinished run of a previous worker as interrupted.",
							  "Marked " UINT64_FORMAT " unfinished runs of a previous worker as interrupted.",
							  (unsigned long) interrupted, interrupted) : 0));
}

/*
 * Entry point of a per-database worker; main_arg is its slot number.
 */
void
so_worker_main(Datum main_arg)
{
	int			slotno = DatumGetInt32(main_arg);
	Oid			dboid;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (so_shared == NULL || slotno < 0 || slotno >= so_shared->nslots)
		elog(FATAL, "snapshot_ops worker started with invalid slot %d", slotno);
	so_slot = &so_shared->slots[slotno];

	/* attach to the slot, unless the launcher gave it up meanwhile */
	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	if (so_slot->state != SO_SLOT_STARTING || so_slot->pid != 0)
	{
		LWLockRelease(so_shared->lock);
		proc_exit(0);
	}
	so_slot->pid = MyProcPid;
	so_slot->latch = MyLatch;
	dboid = so_slot->dboid;
	LWLockRelease(so_shared->lock);
	before_shmem_exit(so_worker_detach, (Datum) 0);

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);

	/* nothing a user creates may be found before the catalog */
	SetConfigOption("search_path", "pg_catalog, pg_temp",
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("application_name", "snapshot_ops worker",
					PGC_USERSET, PGC_S_SESSION);

	so_loop_cxt = AllocSetContextCreate(TopMemoryContext,
										"snapshot_ops worker loop",
										ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(so_loop_cxt);

	so_worker_startup();
	pgstat_report_activity(STATE_IDLE, NULL);

	for (;;)
	{
		Oid			extoid;
		long		timeout = SO_WORKER_NAP_MS;
		TimestampTz now;
		int			j;

		CHECK_FOR_INTERRUPTS();

		if (ConfigReloadPending)
			so_worker_reload();

		extoid = so_worker_extension();
		if (extoid != so_extoid)
		{
			ereport(LOG,
					(errmsg("snapshot_ops worker for database \"%s\" exiting: the extension was dropped",
							so_dbname)));
			/* dropped and created again: start afresh */
			so_worker_exit(OidIsValid(extoid) ? SO_EXIT_RESTART : SO_EXIT_DONE);
		}

		for (j = 0; j < SO_NUM_JOBS && !RecoveryInProgress(); j++)
		{
			bool		requested;
			bool		run = false;
			SoTrigger	trigger = SO_TRIGGER_SCHEDULE;

			LWLockAcquire(so_shared->lock, LW_SHARED);
			requested = so_slot->jobs[j].requested;
			LWLockRelease(so_shared->lock);

			now = GetCurrentTimestamp();
			if (requested)
			{
				run = true;
				trigger = SO_TRIGGER_MANUAL;
			}
			else if (so_enable_scheduler && so_catch_up[j])
			{
				run = true;
				trigger = SO_TRIGGER_CATCH_UP;
			}
			else if (so_enable_scheduler && now >= so_next_run[j])
				run = true;

			if (!run)
				continue;

			so_job_run(so_slot, j, trigger);
			MemoryContextSwitchTo(so_loop_cxt);

			/*
			 * Any run also stands for a missed run and for a scheduled run
			 * that fell due meanwhile.
			 */
			so_catch_up[j] = false;
			if (trigger != SO_TRIGGER_MANUAL ||
				so_next_run[j] <= GetCurrentTimestamp())
				so_worker_advance(j);
		}
		MemoryContextReset(so_loop_cxt);

		now = GetCurrentTimestamp();
		for (j = 0; j < SO_NUM_JOBS && so_enable_scheduler; j++)
			timeout = Min(timeout, TimestampDifferenceMilliseconds(now, so_next_run[j]));

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
