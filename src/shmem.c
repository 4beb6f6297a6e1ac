/*-------------------------------------------------------------------------
 *
 * shmem.c
 *		The shared state of snapshot_ops and the only code that touches it.
 *
 * One small struct, guarded by one LWLock, exists when the library is
 * preloaded: the launcher's inbox, the server's TimeZone, what the
 * launcher knows about each database, and one slot per per-database
 * worker.  Backends, the launcher and the workers read and change it only
 * through the functions below, a few times per job: never in a hot path.
 *
 * A slot:
 *
 *	FREE --so_slot_reserve (launcher)--> STARTING
 *	STARTING --so_worker_attach (worker)--> STARTING, pid set
 *	STARTING --so_worker_ready (worker)--> READY (serving requests)
 *	STARTING/READY --so_worker_detach (worker exit)--> STOPPED
 *	STOPPED, or STARTING whose process is gone --so_slot_reap--> FREE
 *	STARTING --so_slot_unreserve (registration failed)--> FREE
 *
 * Each reservation gets a new generation number, so that a request made
 * to one worker is never mistaken for a request to the next one in the
 * same slot.
 *
 * A job of a READY slot has at most one pending request and one run:
 *
 *	request:  none --post--> pending (requesters > 0) --withdraw by the last
 *			  requester--> none; pending --so_run_begin--> taken
 *	run:	  NONE --so_run_begin--> WORK --so_run_work_done--> UPKEEP
 *			  --so_run_end--> NONE;  WORK --so_run_end--> NONE
 *
 * so_run_begin takes the requests under the lock, so a manual run whose
 * last requester withdrew before it does not start; the run's id (from
 * job_runs, written after so_run_begin) is published by so_run_set_id,
 * and only then do requesters see the run as started.
 *
 * A backend's request (SoTicket) names the run that serves it: the run in
 * WORK when it posts (it joins that run), else the next run, which takes
 * every pending request when it begins, whatever started it (a schedule
 * serves a manual request as well).  A backend that waits counts as a
 * waiter of that run until the run's work is done: then the waiters are
 * released with the outcome, before the upkeep that follows (REINDEX
 * CONCURRENTLY waits for every snapshot older than itself, a waiter's
 * included).  A backend that gives up (timeout, cancel, error) withdraws:
 * a pending request nobody wants any more never runs.  When a worker
 * exits, its runs end as interrupted and every waiter is woken.  Outcomes
 * are kept for the last SO_OUTCOMES runs of each job, so a waiter that
 * slept through two runs still finds its own.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/shmem.c (set-up, backends' requests); src/shmem_worker.c (the
 *	  launcher's and the workers' side); src/shmem_internal.h (the layout)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "guc.h"
#include "shmem_internal.h"

SoShared   *so_shared = NULL;

const char *const so_job_names[SO_NUM_JOBS] = {"cleanup", "vacuum"};
const char *const so_trigger_names[] = {"schedule", "manual", "catch_up", "call"};
const char *const so_run_status_names[] = {
	"none", "running", "succeeded", "failed", "interrupted", "skipped"
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

/* ---------------------------------------------------------------------
 * Set-up
 * ---------------------------------------------------------------------
 */

static Size
so_shmem_size(void)
{
	return add_size(offsetof(SoShared, slots),
					mul_size(sizeof(SoWorkerSlot), so_max_workers));
}

/* Reserve the shared memory and the lock (shmem_request_hook). */
static void
so_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(so_shmem_size());
	RequestNamedLWLockTranche("snapshot_ops", 1);
}

/* Create or attach to the shared state. */
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
		so_shared->next_gen = 1;
		/* the postmaster has read postgresql.conf and no other setting */
		strlcpy(so_shared->server_timezone,
				pg_get_timezone_name(session_timezone),
				sizeof(so_shared->server_timezone));
	}
	LWLockRelease(AddinShmemInitLock);
}

void
so_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = so_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = so_shmem_startup;
}

bool
so_shmem_loaded(void)
{
	return so_shared != NULL;
}

/*
 * strlcpy() that never cuts a multibyte character in the database
 * encoding: text copied here ends up in error details and views.
 */
void
so_clip_copy(char *dst, const char *src, size_t dstsize)
{
	int			len;

	if (dstsize == 0)
		return;
	len = strlen(src);
	if (len >= (int) dstsize)
		len = pg_mbcliplen(src, len, dstsize - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

int
so_job_from_name(const char *name)
{
	for (int i = 0; i < SO_NUM_JOBS; i++)
	{
		if (strcmp(name, so_job_names[i]) == 0)
			return i;
	}
	return -1;
}

SoWorkerSlot *
so_find_slot(Oid dboid)
{
	for (int i = 0; i < so_shared->nslots; i++)
	{
		SoWorkerSlot *slot = &so_shared->slots[i];

		if (slot->state != SO_SLOT_FREE && slot->dboid == dboid)
			return slot;
	}
	return NULL;
}

SoDbEntry  *
so_db_entry(Oid dboid, bool create)
{
	SoDbEntry  *free_entry = NULL;
	SoDbEntry  *victim = NULL;

	for (int i = 0; i < SO_MAX_DBS; i++)
	{
		SoDbEntry  *e = &so_shared->dbs[i];

		if (e->dboid == dboid)
			return e;
		if (!OidIsValid(e->dboid) && free_entry == NULL)
			free_entry = e;
		if (victim == NULL && OidIsValid(e->dboid) &&
			(e->state == SO_DB_NO_EXTENSION || e->state == SO_DB_NOT_LISTED ||
			 e->state == SO_DB_UNKNOWN))
			victim = e;
	}
	if (!create)
		return NULL;
	if (free_entry == NULL)
		free_entry = victim ? victim : &so_shared->dbs[dboid % SO_MAX_DBS];
	memset(free_entry, 0, sizeof(SoDbEntry));
	free_entry->dboid = dboid;
	return free_entry;
}

SoOutcome  *
so_outcome(SoJobState *js, uint64 gen)
{
	return &js->outcomes[gen % SO_OUTCOMES];
}

/* ---------------------------------------------------------------------
 * Server time zone
 * ---------------------------------------------------------------------
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

/* ---------------------------------------------------------------------
 * Backends
 * ---------------------------------------------------------------------
 */

/*
 * Queue a database for the launcher and wake it.  A full queue makes the
 * launcher look at every database instead, so no request is lost.
 */
void
so_request_worker(Oid dboid)
{
	Latch	   *latch;
	bool		queued = false;

	if (so_shared == NULL)
		return;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < so_shared->npending; i++)
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

bool
so_request_post(Oid dboid, SoJob job, bool wait, SoTicket *ticket)
{
	SoWorkerSlot *slot;
	SoJobState *js;
	Latch	   *wake = NULL;

	memset(ticket, 0, sizeof(SoTicket));
	if (so_shared == NULL)
		return false;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	slot = so_find_slot(dboid);
	if (slot == NULL || slot->state != SO_SLOT_READY)
	{
		LWLockRelease(so_shared->lock);
		return false;
	}
	js = &slot->jobs[job];
	ticket->slotno = slot - so_shared->slots;
	ticket->slot_gen = slot->gen;
	ticket->job = job;
	ticket->wait = wait;
	ticket->active = true;
	if (js->phase == SO_PHASE_WORK)
	{
		/* join the run in progress */
		ticket->target = js->runs_started;
		if (wait)
			js->run_waiters++;
	}
	else
	{
		ticket->target = js->runs_started + 1;
		js->requesters++;
		if (wait)
			js->request_waiters++;
		wake = slot->latch;
	}
	LWLockRelease(so_shared->lock);

	if (wake)
		SetLatch(wake);
	return true;
}

SoPoll
so_request_poll(SoTicket *ticket, SoOutcome *out)
{
	SoWorkerSlot *slot;
	SoJobState *js;
	SoPoll		result;

	memset(out, 0, sizeof(SoOutcome));
	LWLockAcquire(so_shared->lock, LW_SHARED);
	slot = &so_shared->slots[ticket->slotno];
	js = &slot->jobs[ticket->job];
	if (slot->gen != ticket->slot_gen)
		result = SO_POLL_LOST;
	else if (js->runs_worked >= ticket->target)
	{
		SoOutcome  *o = so_outcome(js, ticket->target);

		if (o->gen == ticket->target)
			memcpy(out, o, sizeof(SoOutcome));
		else
		{
			/* overwritten by later runs: only job_runs knows */
			out->gen = ticket->target;
			out->status = SO_RUN_NONE;
		}
		result = SO_POLL_DONE;
	}
	else if (slot->state != SO_SLOT_READY)
	{
		/* say whether the run had started before the worker went */
		if (js->runs_started >= ticket->target)
		{
			out->gen = ticket->target;
			out->run_id = js->run_id;
		}
		result = SO_POLL_LOST;
	}
	else if (js->runs_started > ticket->target ||
			 (js->runs_started == ticket->target && js->run_id_known))
	{
		out->gen = ticket->target;
		out->run_id = js->runs_started == ticket->target ? js->run_id :
			so_outcome(js, ticket->target)->run_id;
		out->status = SO_RUN_RUNNING;
		result = SO_POLL_STARTED;
	}
	else
	{
		/* taken, but its id is being recorded: it has started */
		if (js->runs_started == ticket->target)
			out->gen = ticket->target;
		result = SO_POLL_PENDING;
	}
	LWLockRelease(so_shared->lock);
	return result;
}

void
so_request_withdraw(SoTicket *ticket)
{
	SoWorkerSlot *slot;
	SoJobState *js;

	if (so_shared == NULL || !ticket->active)
		return;
	ticket->active = false;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	slot = &so_shared->slots[ticket->slotno];
	js = &slot->jobs[ticket->job];
	if (slot->gen == ticket->slot_gen && slot->state == SO_SLOT_READY)
	{
		if (js->runs_started < ticket->target)
		{
			/* not taken yet: the request goes when nobody wants it */
			js->requesters = Max(js->requesters - 1, 0);
			if (ticket->wait)
				js->request_waiters = Max(js->request_waiters - 1, 0);
		}
		else if (ticket->wait && js->runs_started == ticket->target &&
				 js->runs_worked < ticket->target)
			js->run_waiters = Max(js->run_waiters - 1, 0);
	}
	LWLockRelease(so_shared->lock);
}

void
so_request_sleep(long timeout_ms)
{
	(void) ConditionVariableTimedSleep(&so_shared->cv, timeout_ms,
									   PG_WAIT_EXTENSION);
}

void
so_request_sleep_done(void)
{
	ConditionVariableCancelSleep();
}

void
so_worker_info(Oid dboid, SoWorkerInfo *info)
{
	SoWorkerSlot *slot;
	SoDbEntry  *e;

	memset(info, 0, sizeof(SoWorkerInfo));
	if (so_shared == NULL)
		return;
	info->loaded = true;

	LWLockAcquire(so_shared->lock, LW_SHARED);
	info->launcher_pid = so_shared->launcher_pid;
	info->nslots = so_shared->nslots;
	for (int i = 0; i < so_shared->nslots; i++)
		info->slots_used += (so_shared->slots[i].state != SO_SLOT_FREE);
	slot = so_find_slot(dboid);
	if (slot != NULL)
	{
		info->has_slot = true;
		info->ready = (slot->state == SO_SLOT_READY);
		info->pid = slot->pid;
		info->started_at = slot->ready_at;
		info->sql_version = slot->sql_version;
		for (int j = 0; j < SO_NUM_JOBS; j++)
		{
			info->running[j] = (slot->jobs[j].phase != SO_PHASE_NONE);
			info->busy |= info->running[j];
			info->run_id[j] = slot->jobs[j].run_id;
			info->schedules[j] = slot->jobs[j].schedule;
		}
	}
	for (int i = 0; i < SO_MAX_DBS; i++)
	{
		e = &so_shared->dbs[i];
		if (e->dboid != dboid)
			continue;
		info->db_state = e->state;
		info->failures = e->failures;
		info->last_error_at = e->last_error_at;
		info->retry_at = e->retry_at;
		info->bgw_busy = e->bgw_busy;
		info->bgw_waiting = e->bgw_waiting;
		strlcpy(info->last_error, e->last_error, SO_MESSAGE_LEN);
		break;
	}
	LWLockRelease(so_shared->lock);
}

pid_t
so_worker_stop_for_command(Oid dboid)
{
	SoWorkerSlot *slot;
	pid_t		pid = 0;

	if (so_shared == NULL)
		return 0;
	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	slot = so_find_slot(dboid);
	if (slot != NULL && slot->pid != 0)
	{
		pid = slot->pid;
		slot->stop_requested = true;
	}
	LWLockRelease(so_shared->lock);
	return pid;
}
