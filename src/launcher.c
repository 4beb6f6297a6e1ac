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
 * as soon as one of the snapshot_ops.max_workers slots and one of the
 * postmaster's max_worker_processes slots are free.  A worker that finds
 * no extension in its database exits at once and frees its slot.  When a
 * worker exits, it says whether it wants to be started again (settings or
 * version changed), never (extension or database gone, database not
 * listed), or, after a failure, after a pause that doubles with each
 * failure in a row (10 s up to 5 min), so that no setting or error can
 * turn it into a crash loop.  What stops a database from having a worker
 * (a slot shortage, with the arithmetic, or the last failure and its
 * error) is published for snapshot_ops.worker_status() and logged once
 * per change, not at every retry.
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

/* Longest pause before a failing worker is started again, in seconds. */
#define SO_RETRY_MAX_SECONDS	300

/* A worker that served this long before failing starts a new series. */
#define SO_STABLE_SECONDS	60

/* How often a database that does not accept connections is looked at. */
#define SO_CLOSED_RECHECK_SECONDS	60

/* What the launcher remembers of a database whose worker failed. */
typedef struct SoTrack
{
	Oid			dboid;
	int			failures;		/* in a row */
	TimestampTz retry_at;		/* 0: no retry pending */
	bool		had_worker;		/* stopped, not failed: queued first again */
} SoTrack;

/* Launcher-local state, in TopMemoryContext. */
static List *so_queue = NIL;	/* database OIDs waiting for a worker */
static List *so_tracks = NIL;	/* SoTrack entries */
static BackgroundWorkerHandle **so_handles = NULL;	/* per slot */
static char *so_databases_seen = NULL;
static int	so_no_slot_logged = -1; /* queue length last logged, per cause */
static int	so_no_bgw_logged = -1;
static bool so_bgw_shortage = false;

static void so_launcher_on_exit(int code, Datum arg);
static void so_queue_database(Oid dboid);
static void so_queue_all_databases(void);
static void so_launcher_collect(void);
static void so_launcher_start_queued(void);
static bool so_database_eligible(Oid dboid, char *name, Size namelen,
								 bool *listed, bool *closed);
static char *so_database_name(Oid dboid);
static bool so_start_worker(Oid dboid, const char *dbname, int slotno);
static long so_launcher_timeout(void);
static SoTrack *so_track(Oid dboid, bool create);
static void so_worker_gone(int slotno, const SoSlotExit *ex);

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
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* No database: only shared catalogs are read. */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	SetConfigOption("application_name", "snapshot_ops launcher",
					PGC_USERSET, PGC_S_SESSION);

	if (!so_shmem_loaded())
		elog(FATAL, "snapshot_ops shared memory is not initialized");

	so_handles = MemoryContextAllocZero(TopMemoryContext,
										sizeof(BackgroundWorkerHandle *) * so_slot_count());
	so_databases_seen = MemoryContextStrdup(TopMemoryContext,
											so_databases ? so_databases : "");

	so_launcher_attach(MyLatch);
	so_publish_server_timezone();
	before_shmem_exit(so_launcher_on_exit, (Datum) 0);

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

/* before_shmem_exit callback: no launcher to wake any more. */
static void
so_launcher_on_exit(int code, Datum arg)
{
	so_launcher_detach();
}

static void
so_queue_database(Oid dboid)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);

	so_queue = list_append_unique_oid(so_queue, dboid);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Queue a database whose worker stopped for a reason other than a failure
 * (a settings change, an update, a command, SIGTERM) ahead of those that
 * wait: with fewer slots than databases, a worker that restarts for a
 * setting would otherwise give its slot to the next database for good.
 */
static void
so_queue_database_first(Oid dboid)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);

	so_queue = list_delete_oid(so_queue, dboid);
	so_queue = lcons_oid(dboid, so_queue);
	MemoryContextSwitchTo(oldcxt);
}

/* The launcher's memory of a database; with create, a new entry. */
static SoTrack *
so_track(Oid dboid, bool create)
{
	ListCell   *lc;
	SoTrack    *t;

	foreach(lc, so_tracks)
	{
		t = lfirst(lc);
		if (t->dboid == dboid)
			return t;
	}
	if (!create)
		return NULL;
	t = MemoryContextAllocZero(TopMemoryContext, sizeof(SoTrack));
	t->dboid = dboid;
	so_tracks = lappend(so_tracks, t);
	return t;
}

/*
 * Queue every database that may have the extension: not a template (a
 * worker connected to a template would make CREATE DATABASE fail), and
 * listed in snapshot_ops.databases.  A database that refuses connections
 * is queued too: so_launcher_start_queued() looks at it again every
 * SO_CLOSED_RECHECK_SECONDS until it accepts them.
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

		if (db->datistemplate)
			continue;
		if (so_database_listed(NameStr(db->datname)))
			so_queue_database(db->oid);
		else
			so_db_set_state(db->oid, SO_DB_NOT_LISTED);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);

	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * A worker is gone: start it again now (settings or version changed),
 * never (nothing to do in its database), or, after a failure, after a
 * pause that doubles with every failure in a row, up to
 * SO_RETRY_MAX_SECONDS; a worker that had served for SO_STABLE_SECONDS
 * starts a new series.  Each failure is logged once, with its error.
 */
static void
so_worker_gone(int slotno, const SoSlotExit *ex)
{
	SoTrack    *t = so_track(ex->dboid, true);
	TimestampTz now = GetCurrentTimestamp();
	const char *error;
	char	   *dbname;
	int			delay;

	/* stopped so that DROP/ALTER DATABASE can run: no failure */
	if (ex->stopped_for_command)
	{
		dbname = so_database_name(ex->dboid);
		if (dbname == NULL)
		{
			/* dropped */
			so_db_forget(ex->dboid);
			t->retry_at = 0;
			t->failures = 0;
			return;
		}
		t->retry_at = TimestampTzPlusMilliseconds(now, SO_RETRY_SECONDS * 1000);
		t->had_worker = true;
		so_db_set_pause(ex->dboid, SO_DB_STOPPED, t->retry_at);
		ereport(LOG,
				(errmsg("snapshot_ops worker for database \"%s\" stopped for a command on the database or the extension",
						dbname),
				 errdetail("It starts again in %d seconds.", SO_RETRY_SECONDS)));
		return;
	}
	/*
	 * SIGTERM: pg_terminate_backend(), or a shutdown (the postmaster sends
	 * it to the workers and the launcher at once, so the launcher may see
	 * its workers go first): no failure
	 */
	if (ex->action == SO_EXIT_TERMINATED)
	{
		dbname = so_database_name(ex->dboid);
		t->retry_at = TimestampTzPlusMilliseconds(now, SO_RETRY_SECONDS * 1000);
		t->had_worker = true;
		so_db_set_pause(ex->dboid, SO_DB_TERMINATED, t->retry_at);
		ereport(LOG,
				(errmsg("snapshot_ops worker for database \"%s\" was terminated",
						dbname ? dbname : "?"),
				 errdetail("It starts again in %d seconds unless the server is shutting down.",
						   SO_RETRY_SECONDS)));
		return;
	}
	if (ex->action == SO_EXIT_RESTART)
	{
		t->failures = 0;
		t->retry_at = 0;
		so_db_clear_failures(ex->dboid);
		so_queue_database_first(ex->dboid);
		return;
	}
	if (ex->action == SO_EXIT_DONE)
	{
		t->failures = 0;
		t->retry_at = 0;
		so_db_clear_failures(ex->dboid);
		return;
	}

	if (ex->ready &&
		TimestampDifferenceExceeds(ex->ready_at, now, SO_STABLE_SECONDS * 1000))
		t->failures = 1;
	else
		t->failures++;
	delay = SO_RETRY_SECONDS;
	for (int i = 1; i < t->failures && delay < SO_RETRY_MAX_SECONDS; i++)
		delay *= 2;
	delay = Min(delay, SO_RETRY_MAX_SECONDS);
	t->retry_at = TimestampTzPlusMilliseconds(now, delay * 1000);

	if (ex->error[0] != '\0')
		error = ex->error;
	else if (ex->attached)
		error = "the worker exited unexpectedly";
	else
		error = "the worker process ended before it could start";
	so_db_set_failure(ex->dboid, t->failures, error, t->retry_at);

	dbname = so_database_name(ex->dboid);
	ereport(WARNING,
			(errmsg("snapshot_ops worker for database \"%s\" failed: %s",
					dbname ? dbname : "?", error),
			 errdetail("Failure %d in a row; the next attempt is in %d seconds.",
					   t->failures, delay),
			 errhint("SELECT * FROM snapshot_ops.worker_status() in that database shows the state.")));
}

/*
 * Take the requests from shared memory, reap the slots of exited workers
 * and queue the retries that are due.
 */
static void
so_launcher_collect(void)
{
	List	   *requested;
	bool		rescan;
	ListCell   *lc;
	TimestampTz now = GetCurrentTimestamp();

	/*
	 * At a shutdown the postmaster sends SIGTERM to the launcher and the
	 * workers at once: end here rather than log the workers' exits as
	 * failures.
	 */
	CHECK_FOR_INTERRUPTS();
	requested = so_launcher_take_requests(&rescan);

	for (int i = 0; i < so_slot_count(); i++)
	{
		SoSlotExit	ex;
		bool		gone = false;
		pid_t		pid;

		if (so_handles[i] != NULL)
			gone = (GetBackgroundWorkerPid(so_handles[i], &pid) == BGWH_STOPPED);
		if (!so_slot_reap(i, gone, &ex))
			continue;
		if (so_handles[i] != NULL)
		{
			pfree(so_handles[i]);
			so_handles[i] = NULL;
		}
		so_worker_gone(i, &ex);
		so_no_slot_logged = -1;
	}

	if (rescan)
		so_queue_all_databases();
	foreach(lc, requested)
	{
		/* a request (CREATE EXTENSION, start_worker()) is worth a try now */
		SoTrack    *t = so_track(lfirst_oid(lc), false);

		if (t != NULL)
			t->retry_at = 0;
		so_queue_database(lfirst_oid(lc));
	}
	list_free(requested);

	foreach(lc, so_tracks)
	{
		SoTrack    *t = lfirst(lc);

		if (t->retry_at != 0 && t->retry_at <= now)
		{
			t->retry_at = 0;
			if (t->had_worker)
				so_queue_database_first(t->dboid);
			else
				so_queue_database(t->dboid);
			t->had_worker = false;
		}
	}
}

/*
 * Start workers for queued databases while slots are free.
 */
static void
so_launcher_start_queued(void)
{
	ListCell   *lc;

	so_bgw_shortage = false;
	while (so_queue != NIL)
	{
		Oid			dboid = linitial_oid(so_queue);
		char		dbname[NAMEDATALEN];
		SoTrack    *t = so_track(dboid, false);
		bool		listed;
		bool		closed;
		int			slotno;

		/* a worker exists already (it checks the extension itself) */
		if (so_slot_exists(dboid) || (t != NULL && t->retry_at != 0))
		{
			so_queue = list_delete_first(so_queue);
			continue;
		}
		if (!so_database_eligible(dboid, dbname, sizeof(dbname), &listed, &closed))
		{
			if (!listed)
				so_db_set_state(dboid, SO_DB_NOT_LISTED);
			else if (closed)
			{
				/* ALTER DATABASE ... ALLOW_CONNECTIONS false, for a while */
				t = so_track(dboid, true);
				t->retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														  SO_CLOSED_RECHECK_SECONDS * 1000);
				so_db_set_pause(dboid, SO_DB_CLOSED, t->retry_at);
			}
			so_queue = list_delete_first(so_queue);
			continue;
		}

		slotno = so_slot_reserve(dboid);
		if (slotno < 0)
		{
			foreach(lc, so_queue)
				so_db_set_state(lfirst_oid(lc), SO_DB_NO_SLOT);
			if (so_no_slot_logged != list_length(so_queue))
				ereport(LOG,
						(errmsg("snapshot_ops launcher has no free worker slot"),
						 errdetail("%d database%s wait%s for a worker; all %d slot%s of snapshot_ops.max_workers %s in use.",
								   list_length(so_queue), list_length(so_queue) == 1 ? "" : "s",
								   list_length(so_queue) == 1 ? "s" : "",
								   so_slot_count(), so_slot_count() == 1 ? "" : "s",
								   so_slot_count() == 1 ? "is" : "are"),
						 errhint("Raise snapshot_ops.max_workers (and max_worker_processes); both need a restart.")));
			so_no_slot_logged = list_length(so_queue);
			return;
		}
		if (!so_start_worker(dboid, dbname, slotno))
			return;
		so_queue = list_delete_first(so_queue);
	}
	so_no_bgw_logged = -1;
}

/*
 * May a worker run in this database?  It must exist, accept connections
 * (*closed when it is a listed database that does not), not be a template
 * and be listed in snapshot_ops.databases (*listed).
 */
static bool
so_database_eligible(Oid dboid, char *name, Size namelen, bool *listed,
					 bool *closed)
{
	HeapTuple	tup;
	bool		ok = false;

	*listed = true;
	*closed = false;
	StartTransactionCommand();
	tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(dboid));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		strlcpy(name, NameStr(db->datname), namelen);
		*listed = so_database_listed(name);
		ok = db->datallowconn && !db->datistemplate && *listed;
		*closed = !db->datallowconn && !db->datistemplate && *listed;
		ReleaseSysCache(tup);
	}
	else
		so_db_forget(dboid);
	CommitTransactionCommand();
	return ok;
}

/* A database's name (palloc'd in TopMemoryContext), NULL if it is gone. */
static char *
so_database_name(Oid dboid)
{
	HeapTuple	tup;
	char	   *name = NULL;

	StartTransactionCommand();
	tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(dboid));
	if (HeapTupleIsValid(tup))
	{
		name = MemoryContextStrdup(TopMemoryContext,
								   NameStr(((Form_pg_database) GETSTRUCT(tup))->datname));
		ReleaseSysCache(tup);
	}
	CommitTransactionCommand();
	return name;
}

/*
 * Register a worker for the reserved slot.  On failure (no free background
 * worker slot in the postmaster, max_worker_processes) the slot is given
 * back, every queued database is marked as waiting for one with the
 * arithmetic worker_status() shows, the shortage is logged once per change
 * (not at every retry), and false is returned: the queue is tried again in
 * SO_RETRY_SECONDS.
 */
static bool
so_start_worker(Oid dboid, const char *dbname, int slotno)
{
	BackgroundWorker bgw;
	BackgroundWorkerHandle *handle;
	ListCell   *lc;
	int			ours = 0;

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

	if (RegisterDynamicBackgroundWorker(&bgw, &handle))
	{
		so_handles[slotno] = handle;
		so_db_set_state(dboid, SO_DB_STARTING);
		return true;
	}

	so_slot_unreserve(slotno);
	for (int i = 0; i < so_slot_count(); i++)
		ours += (so_handles[i] != NULL);
	/* the launcher itself holds one background worker slot too */
	foreach(lc, so_queue)
		so_db_set_bgworker_shortage(lfirst_oid(lc), ours + 1, list_length(so_queue));
	if (so_no_bgw_logged != list_length(so_queue))
		ereport(WARNING,
				(errmsg("could not start the snapshot_ops worker for database \"%s\": no background worker slot is free",
						dbname),
				 errdetail("max_worker_processes is %d, of which snapshot_ops uses %d (its launcher and %d worker%s) and other background workers %d; %d database%s wait%s to be looked at by a worker.",
						   max_worker_processes, ours + 1, ours, ours == 1 ? "" : "s",
						   Max(max_worker_processes - ours - 1, 0),
						   list_length(so_queue), list_length(so_queue) == 1 ? "" : "s",
						   list_length(so_queue) == 1 ? "s" : ""),
				 errhint("Each waiting database that has snapshot_ops installed needs one more: raise max_worker_processes (needs a restart) to at most %d; the launcher retries every %d seconds meanwhile.",
						 max_worker_processes + list_length(so_queue), SO_RETRY_SECONDS)));
	so_no_bgw_logged = list_length(so_queue);
	so_bgw_shortage = true;
	return false;
}

/*
 * Sleep until the next retry is due (or SO_RETRY_SECONDS while background
 * worker slots are short), at most SO_LAUNCHER_NAP_MS; the latch wakes
 * the launcher for everything else.
 */
static long
so_launcher_timeout(void)
{
	TimestampTz now = GetCurrentTimestamp();
	long		timeout = SO_LAUNCHER_NAP_MS;
	ListCell   *lc;

	if (so_bgw_shortage)
		timeout = SO_RETRY_SECONDS * 1000L;
	foreach(lc, so_tracks)
	{
		SoTrack    *t = (SoTrack *) lfirst(lc);

		if (t->retry_at != 0)
			timeout = Min(timeout, Max(TimestampDifferenceMilliseconds(now, t->retry_at), 1));
	}
	return timeout;
}
