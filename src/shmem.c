/*-------------------------------------------------------------------------
 *
 * shmem.c
 *		Shared memory of snapshot_ops: the launcher's inbox and one slot per
 *		running per-database worker.
 *
 * The state is one small struct guarded by a single LWLock: the launcher,
 * the workers and the backends that request runs touch it a few times per
 * job, never in a hot path.  It exists only when the library is loaded
 * through shared_preload_libraries; so_shared is NULL otherwise, which is
 * how the SQL functions tell that no worker can exist.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/shmem.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/memutils.h"

#include "compat.h"
#include "guc.h"
#include "shmem.h"

SoShared   *so_shared = NULL;

const char *const so_job_names[SO_NUM_JOBS] = {"cleanup", "vacuum"};
const char *const so_trigger_names[] = {"schedule", "manual", "catch_up"};
const char *const so_run_status_names[] = {
	"none", "running", "succeeded", "failed", "interrupted"
};

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Databases to announce to the launcher when this transaction commits. */
static List *so_commit_requests = NIL;
static bool so_xact_callback_registered = false;

static void so_xact_callback(XactEvent event, void *arg);
static Size so_shmem_size(void);
static void so_shmem_request(void);
static void so_shmem_startup(void);

static Size
so_shmem_size(void)
{
	return add_size(offsetof(SoShared, slots),
					mul_size(sizeof(SoWorkerSlot), so_max_workers));
}

/*
 * Reserve the shared memory and the lock (shmem_request_hook).
 */
static void
so_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(so_shmem_size());
	RequestNamedLWLockTranche("snapshot_ops", 1);
}

/*
 * Create or attach to the shared state.
 */
static void
so_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	so_shared = ShmemInitStruct("snapshot_ops", so_shmem_size(), &found);
	if (!found)
	{
		memset(so_shared, 0, so_shmem_size());
		so_shared->lock = &(GetNamedLWLockTranche("snapshot_ops"))->lock;
		ConditionVariableInit(&so_shared->cv);
		so_shared->nslots = so_max_workers;
		/* the postmaster has read postgresql.conf and no other setting */
		strlcpy(so_shared->server_timezone,
				pg_get_timezone_name(session_timezone),
				sizeof(so_shared->server_timezone));
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Publish this process's TimeZone as the server's: called by the launcher,
 * which connects to no database, so no database or role setting applies.
 */
void
so_publish_server_timezone(void)
{
	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	strlcpy(so_shared->server_timezone, pg_get_timezone_name(session_timezone),
			sizeof(so_shared->server_timezone));
	LWLockRelease(so_shared->lock);
}

bool
so_server_timezone(char *buf, size_t len)
{
	if (so_shared == NULL)
		return false;
	LWLockAcquire(so_shared->lock, LW_SHARED);
	strlcpy(buf, so_shared->server_timezone, len);
	LWLockRelease(so_shared->lock);
	return buf[0] != '\0';
}

/*
 * Install the hooks; called from _PG_init while shared_preload_libraries is
 * being processed.
 */
void
so_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = so_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = so_shmem_startup;
}

SoWorkerSlot *
so_find_slot(Oid dboid)
{
	int			i;

	for (i = 0; i < so_shared->nslots; i++)
	{
		SoWorkerSlot *slot = &so_shared->slots[i];

		if (slot->state != SO_SLOT_FREE && slot->dboid == dboid)
			return slot;
	}
	return NULL;
}

/*
 * Queue a database for the launcher and wake it.  A full queue makes the
 * launcher look at every database instead, so no request is lost.
 */
void
so_request_worker(Oid dboid)
{
	Latch	   *latch;
	int			i;
	bool		queued = false;

	if (so_shared == NULL)
		return;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < so_shared->npending; i++)
	{
		if (so_shared->pending[i] == dboid)
			queued = true;
	}
	if (!queued)
	{
		if (so_shared->npending < SO_MAX_PENDING)
			so_shared->pending[so_shared->npending++] = dboid;
		else
			so_shared->rescan = true;
	}
	latch = so_shared->launcher_latch;
	LWLockRelease(so_shared->lock);

	if (latch)
		SetLatch(latch);
}

/*
 * At commit, announce the databases of so_request_worker_at_commit(): only
 * then can a worker see the extension (or the database) they concern.
 */
static void
so_xact_callback(XactEvent event, void *arg)
{
	ListCell   *lc;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
			foreach(lc, so_commit_requests)
				so_request_worker(lfirst_oid(lc));
			/* FALLTHROUGH */
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			list_free(so_commit_requests);
			so_commit_requests = NIL;
			break;
		default:
			break;
	}
}

void
so_request_worker_at_commit(Oid dboid)
{
	MemoryContext oldcxt;

	if (so_shared == NULL)
		return;
	if (!so_xact_callback_registered)
	{
		RegisterXactCallback(so_xact_callback, NULL);
		so_xact_callback_registered = true;
	}
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	so_commit_requests = list_append_unique_oid(so_commit_requests, dboid);
	MemoryContextSwitchTo(oldcxt);
}

int
so_job_from_name(const char *name)
{
	int			i;

	for (i = 0; i < SO_NUM_JOBS; i++)
	{
		if (strcmp(name, so_job_names[i]) == 0)
			return i;
	}
	return -1;
}
