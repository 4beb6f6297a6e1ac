/*-------------------------------------------------------------------------
 *
 * launcher.c
 *		The snapshot_ops launcher: one per cluster, it starts a worker in
 *		every database that has (or has just created) the extension.
 *
 * The launcher is a static background worker registered at preload time.
 * It connects to no database and reads only the shared catalog
 * pg_database.  At start-up, when snapshot_ops.databases changes and when
 * a backend asks (CREATE EXTENSION does, through so_request_worker), it
 * queues databases; each queued database gets a dynamic worker
 * ("snapshot_ops worker", BGW_NEVER_RESTART, the launcher as notify pid)
 * as soon as one of the snapshot_ops.max_workers slots is free.  A worker
 * that finds no extension in its database exits at once and frees its
 * slot.  When a worker exits, it says whether it wants to be started again
 * (settings changed), never (extension or database gone, database not
 * listed), or, after an unexpected exit, after SO_RETRY_SECONDS, so that
 * a failing worker cannot turn into a crash loop.
 *
 * Like pg_cron and TimescaleDB, the launcher starts only when recovery has
 * finished: on a hot standby nothing runs, and after promotion the
 * postmaster starts the launcher, which starts the workers.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/launcher.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "guc.h"
#include "launcher.h"
#include "shmem.h"

/* Longest sleep of an idle launcher, in milliseconds. */
#define SO_LAUNCHER_NAP_MS	60000

/* A database whose worker will be started again at a given time. */
typedef struct SoRetry
{
	Oid			dboid;
	TimestampTz at;
} SoRetry;

/* Launcher-local state, in TopMemoryContext. */
static List *so_queue = NIL;	/* database OIDs waiting for a worker */
static List *so_retries = NIL;	/* SoRetry entries */
static BackgroundWorkerHandle **so_handles = NULL;	/* per slot */
static char *so_databases_seen = NULL;
static bool so_full_logged = false;

static void so_launcher_detach(int code, Datum arg);
static void so_queue_database(Oid dboid);
static void so_queue_all_databases(void);
static void so_launcher_collect(void);
static void so_launcher_start_queued(void);
static bool so_database_eligible(Oid dboid, char *name, Size namelen);
static bool so_start_worker(Oid dboid, const char *dbname);
static long so_launcher_timeout(void);

/*
 * Register the launcher.  It restarts SO_RETRY_SECONDS after any exit but a
 * shutdown: it exits only through die(), with a non-zero code.
 */
void
so_launcher_register(void)
{
	BackgroundWorker bgw;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = SO_RETRY_SECONDS;
	strlcpy(bgw.bgw_library_name, "snapshot_ops", BGW_MAXLEN);
	strlcpy(bgw.bgw_function_name, "so_launcher_main", BGW_MAXLEN);
	strlcpy(bgw.bgw_name, "snapshot_ops launcher", BGW_MAXLEN);
	strlcpy(bgw.bgw_type, "snapshot_ops launcher", BGW_MAXLEN);
	bgw.bgw_main_arg = (Datum) 0;
	bgw.bgw_notify_pid = 0;
	RegisterBackgroundWorker(&bgw);
}

/*
 * Is dbname in snapshot_ops.databases (or is the list empty)?  Names are
 * compared as identifiers: unquoted ones are folded to lower case.
 */
bool
so_database_listed(const char *dbname)
{
	char	   *copy;
	List	   *names;
	ListCell   *lc;
	bool		found = false;

	if (so_databases == NULL || so_databases[0] == '\0')
		return true;

	copy = pstrdup(so_databases);
	if (!SplitIdentifierString(copy, ',', &names))
	{
		/* the check hook refuses such a value; be safe anyway */
		pfree(copy);
		return false;
	}
	foreach(lc, names)
	{
		if (strcmp((char *) lfirst(lc), dbname) == 0)
		{
			found = true;
			break;
		}
	}
	list_free(names);
	pfree(copy);
	return found;
}

/*
 * Entry point of the launcher.
 */
void
so_launcher_main(Datum main_arg)
{
	int			i;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* No database: only shared catalogs are read. */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	SetConfigOption("application_name", "snapshot_ops launcher",
					PGC_USERSET, PGC_S_SESSION);

	if (so_shared == NULL)
		elog(FATAL, "snapshot_ops shared memory is not initialized");

	so_handles = MemoryContextAllocZero(TopMemoryContext,
										sizeof(BackgroundWorkerHandle *) * so_shared->nslots);
	so_databases_seen = MemoryContextStrdup(TopMemoryContext,
											so_databases ? so_databases : "");

	/*
	 * Take over from a previous launcher: workers that are attached keep
	 * running (they notify us when they exit); slots that never attached
	 * are given up, and their worker, should it still start, exits.
	 */
	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	so_shared->launcher_pid = MyProcPid;
	so_shared->launcher_latch = MyLatch;
	so_shared->npending = 0;
	so_shared->rescan = false;
	for (i = 0; i < so_shared->nslots; i++)
	{
		SoWorkerSlot *slot = &so_shared->slots[i];

		if (slot->state == SO_SLOT_STOPPED ||
			(slot->state == SO_SLOT_STARTING && slot->pid == 0))
			slot->state = SO_SLOT_FREE;
	}
	LWLockRelease(so_shared->lock);
	so_publish_server_timezone();
	before_shmem_exit(so_launcher_detach, (Datum) 0);

	ereport(LOG,
			(errmsg("snapshot_ops launcher started")));

	so_queue_all_databases();

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			so_publish_server_timezone();
			if (strcmp(so_databases_seen, so_databases ? so_databases : "") != 0)
			{
				pfree(so_databases_seen);
				so_databases_seen = MemoryContextStrdup(TopMemoryContext,
														so_databases ? so_databases : "");
				so_queue_all_databases();
			}
		}

		so_launcher_collect();
		so_launcher_start_queued();

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 so_launcher_timeout(),
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * before_shmem_exit callback: no launcher to wake any more.
 */
static void
so_launcher_detach(int code, Datum arg)
{
	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	if (so_shared->launcher_pid == MyProcPid)
	{
		so_shared->launcher_pid = 0;
		so_shared->launcher_latch = NULL;
	}
	LWLockRelease(so_shared->lock);
}

static void
so_queue_database(Oid dboid)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);

	so_queue = list_append_unique_oid(so_queue, dboid);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Queue every database that may have the extension: connectable, not a
 * template (a worker connected to a template would make CREATE DATABASE
 * fail), and listed in snapshot_ops.databases.
 */
static void
so_queue_all_databases(void)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "scanning pg_database");

	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (db->datallowconn && !db->datistemplate &&
			so_database_listed(NameStr(db->datname)))
			so_queue_database(db->oid);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);

	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * Take the requests from shared memory, reap the slots of exited workers
 * and queue the retries that are due.
 */
static void
so_launcher_collect(void)
{
	List	   *requested = NIL;
	List	   *restart = NIL;
	bool		rescan;
	ListCell   *lc;
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < so_shared->npending; i++)
		requested = lappend_oid(requested, so_shared->pending[i]);
	so_shared->npending = 0;
	rescan = so_shared->rescan;
	so_shared->rescan = false;

	for (i = 0; i < so_shared->nslots; i++)
	{
		SoWorkerSlot *slot = &so_shared->slots[i];
		bool		gone = false;
		SoExitAction action = SO_EXIT_RETRY;

		if (slot->state == SO_SLOT_STOPPED)
		{
			gone = true;
			action = slot->exit_action;
		}
		else if (slot->state == SO_SLOT_STARTING && so_handles[i] != NULL)
		{
			pid_t		pid;

			/* died before attaching: could not connect, for instance */
			if (GetBackgroundWorkerPid(so_handles[i], &pid) == BGWH_STOPPED &&
				slot->pid == 0)
				gone = true;
		}

		if (!gone)
			continue;

		if (action == SO_EXIT_RESTART)
			restart = lappend_oid(restart, slot->dboid);
		else if (action == SO_EXIT_RETRY)
		{
			SoRetry    *retry = MemoryContextAlloc(TopMemoryContext, sizeof(SoRetry));

			retry->dboid = slot->dboid;
			retry->at = TimestampTzPlusMilliseconds(now, SO_RETRY_SECONDS * 1000);
			so_retries = lappend(so_retries, retry);
		}
		slot->state = SO_SLOT_FREE;
		slot->dboid = InvalidOid;
		if (so_handles[i] != NULL)
		{
			pfree(so_handles[i]);
			so_handles[i] = NULL;
		}
		so_full_logged = false;
	}
	LWLockRelease(so_shared->lock);

	if (rescan)
		so_queue_all_databases();
	foreach(lc, requested)
		so_queue_database(lfirst_oid(lc));
	foreach(lc, restart)
		so_queue_database(lfirst_oid(lc));
	list_free(requested);
	list_free(restart);

	foreach(lc, so_retries)
	{
		SoRetry    *retry = (SoRetry *) lfirst(lc);

		if (retry->at <= now)
		{
			so_queue_database(retry->dboid);
			so_retries = foreach_delete_current(so_retries, lc);
			pfree(retry);
		}
	}
}

/*
 * Start workers for queued databases while slots are free.
 */
static void
so_launcher_start_queued(void)
{
	while (so_queue != NIL)
	{
		Oid			dboid = linitial_oid(so_queue);
		char		dbname[NAMEDATALEN];
		bool		has_slot;
		bool		has_free = false;
		int			i;

		LWLockAcquire(so_shared->lock, LW_SHARED);
		has_slot = (so_find_slot(dboid) != NULL);
		for (i = 0; i < so_shared->nslots && !has_free; i++)
			has_free = (so_shared->slots[i].state == SO_SLOT_FREE);
		LWLockRelease(so_shared->lock);

		if (!has_slot && !has_free)
		{
			if (!so_full_logged)
				ereport(LOG,
						(errmsg("snapshot_ops launcher has no free worker slot"),
						 errdetail("%d databases wait for a worker.", list_length(so_queue)),
						 errhint("Raise snapshot_ops.max_workers (currently %d) and max_worker_processes.",
								 so_shared->nslots)));
			so_full_logged = true;
			return;
		}

		so_queue = list_delete_first(so_queue);

		/* a worker exists already (it checks the extension itself) */
		if (has_slot)
			continue;
		if (!so_database_eligible(dboid, dbname, sizeof(dbname)))
			continue;
		if (!so_start_worker(dboid, dbname))
			return;
	}
}

/*
 * May a worker run in this database?  It must exist, accept connections,
 * not be a template and be listed in snapshot_ops.databases.
 */
static bool
so_database_eligible(Oid dboid, char *name, Size namelen)
{
	HeapTuple	tup;
	bool		ok = false;

	StartTransactionCommand();
	tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(dboid));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		strlcpy(name, NameStr(db->datname), namelen);
		ok = db->datallowconn && !db->datistemplate &&
			so_database_listed(name);
		ReleaseSysCache(tup);
	}
	CommitTransactionCommand();
	return ok;
}

/*
 * Take a free slot and register a worker for it.  On failure (no free
 * background worker slot in the postmaster) the database is retried later
 * and false is returned.
 */
static bool
so_start_worker(Oid dboid, const char *dbname)
{
	BackgroundWorker bgw;
	BackgroundWorkerHandle *handle;
	SoWorkerSlot *slot = NULL;
	int			slotno;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	for (slotno = 0; slotno < so_shared->nslots; slotno++)
	{
		if (so_shared->slots[slotno].state == SO_SLOT_FREE)
		{
			slot = &so_shared->slots[slotno];
			break;
		}
	}
	Assert(slot != NULL);
	memset(slot, 0, sizeof(SoWorkerSlot));
	slot->state = SO_SLOT_STARTING;
	slot->dboid = dboid;
	slot->exit_action = SO_EXIT_RETRY;
	LWLockRelease(so_shared->lock);

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(bgw.bgw_library_name, "snapshot_ops", BGW_MAXLEN);
	strlcpy(bgw.bgw_function_name, "so_worker_main", BGW_MAXLEN);
	snprintf(bgw.bgw_name, BGW_MAXLEN, "snapshot_ops worker for database %s", dbname);
	strlcpy(bgw.bgw_type, "snapshot_ops worker", BGW_MAXLEN);
	bgw.bgw_main_arg = Int32GetDatum(slotno);
	bgw.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&bgw, &handle))
	{
		SoRetry    *retry = MemoryContextAlloc(TopMemoryContext, sizeof(SoRetry));

		LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
		slot->state = SO_SLOT_FREE;
		slot->dboid = InvalidOid;
		LWLockRelease(so_shared->lock);

		ereport(WARNING,
				(errmsg("could not start the snapshot_ops worker for database \"%s\"", dbname),
				 errdetail("No background worker slot is free; retrying in %d seconds.", SO_RETRY_SECONDS),
				 errhint("Raise max_worker_processes; snapshot_ops needs one slot for its launcher and one per database.")));
		retry->dboid = dboid;
		retry->at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												SO_RETRY_SECONDS * 1000);
		so_retries = lappend(so_retries, retry);
		return false;
	}
	so_handles[slotno] = handle;
	return true;
}

/*
 * Sleep until the next retry is due, at most SO_LAUNCHER_NAP_MS; the latch
 * wakes the launcher for everything else.
 */
static long
so_launcher_timeout(void)
{
	TimestampTz now = GetCurrentTimestamp();
	long		timeout = SO_LAUNCHER_NAP_MS;
	ListCell   *lc;

	foreach(lc, so_retries)
	{
		SoRetry    *retry = (SoRetry *) lfirst(lc);
		long		ms = TimestampDifferenceMilliseconds(now, retry->at);

		timeout = Min(timeout, Max(ms, 1));
	}
	return timeout;
}
