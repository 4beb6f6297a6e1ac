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
 *	  src/shmem.c
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
#include "shmem.h"

typedef enum SoSlotState
{
	SO_SLOT_FREE,
	SO_SLOT_STARTING,
	SO_SLOT_READY,
	SO_SLOT_STOPPED
} SoSlotState;

typedef enum SoRunPhase
{
	SO_PHASE_NONE,
	SO_PHASE_WORK,				/* what requesters asked for */
	SO_PHASE_UPKEEP				/* afterwards, nobody waits */
} SoRunPhase;

typedef struct SoJobState
{
	int			requesters;		/* backends with a pending request */
	int			request_waiters;	/* of them, those that will wait */
	SoRunPhase	phase;
	uint64		runs_started;	/* generation of the current/last run */
	uint64		runs_worked;	/* last run whose work is done */
	int			run_waiters;	/* backends waiting for the current run */
	int64		run_id;			/* 0 while job_runs gave it none */
	bool		run_id_known;	/* so_run_set_id() was called */
	SoOutcome	outcomes[SO_OUTCOMES];	/* by generation % SO_OUTCOMES */
	SoSchedule	schedule;
} SoJobState;

typedef struct SoWorkerSlot
{
	SoSlotState state;
	Oid			dboid;
	uint64		gen;
	pid_t		pid;			/* 0 until the worker has attached */
	Latch	   *latch;
	bool		attached;
	bool		ready;
	TimestampTz ready_at;
	int			sql_version;
	SoExitAction exit_action;
	bool		stop_requested; /* stopped for a database command */
	char		exit_error[SO_MESSAGE_LEN];
	SoJobState	jobs[SO_NUM_JOBS];
} SoWorkerSlot;

typedef struct SoDbEntry
{
	Oid			dboid;			/* InvalidOid: unused */
	SoDbState	state;
	int			failures;
	TimestampTz last_error_at;
	TimestampTz retry_at;
	int			bgw_busy;
	int			bgw_waiting;
	char		last_error[SO_MESSAGE_LEN];
} SoDbEntry;

typedef struct SoShared
{
	LWLock	   *lock;			/* protects everything below */
	ConditionVariable cv;		/* broadcast whenever a run or slot changes */
	pid_t		launcher_pid;
	Latch	   *launcher_latch;
	char		server_timezone[TZ_STRLEN_MAX + 1];
	bool		rescan;			/* pending[] overflowed: look at every database */
	int			npending;
	Oid			pending[SO_MAX_PENDING];
	uint64		next_gen;
	SoDbEntry	dbs[SO_MAX_DBS];
	int			nslots;			/* snapshot_ops.max_workers */
	SoWorkerSlot slots[FLEXIBLE_ARRAY_MEMBER];
} SoShared;

static SoShared *so_shared = NULL;

/* The slot of this worker process. */
static SoWorkerSlot *so_my_slot = NULL;

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
static SoWorkerSlot *so_find_slot(Oid dboid);
static SoDbEntry *so_db_entry(Oid dboid, bool create);
static SoOutcome *so_outcome(SoJobState *js, uint64 gen);
static void so_finish_work(SoJobState *js, SoRunStatus status, int64 rows,
						   int64 ms, const char *message);

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

/* The slot of a database's worker (any state but free), or NULL; lock held. */
static SoWorkerSlot *
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

/*
 * The launcher's entry for a database; with create, a new one (reusing
 * the least useful entry when the table is full).  Exclusive lock held.
 */
static SoDbEntry *
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

static SoOutcome *
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

/* ---------------------------------------------------------------------
 * The launcher
 * ---------------------------------------------------------------------
 */

/*
 * Take over from a previous launcher: workers that are attached keep
 * running (they notify their own launcher only, so they are found by
 * their slots); slots that never attached are given up, and their worker,
 * should it still start, exits.
 */
void
so_launcher_attach(Latch *latch)
{
	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	so_shared->launcher_pid = MyProcPid;
	so_shared->launcher_latch = latch;
	so_shared->npending = 0;
	so_shared->rescan = false;
	for (int i = 0; i < so_shared->nslots; i++)
	{
		SoWorkerSlot *slot = &so_shared->slots[i];

		if (slot->state == SO_SLOT_STOPPED ||
			(slot->state == SO_SLOT_STARTING && slot->pid == 0))
			slot->state = SO_SLOT_FREE;
	}
	LWLockRelease(so_shared->lock);
}

void
so_launcher_detach(void)
{
	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	if (so_shared->launcher_pid == MyProcPid)
	{
		so_shared->launcher_pid = 0;
		so_shared->launcher_latch = NULL;
	}
	LWLockRelease(so_shared->lock);
}

List *
so_launcher_take_requests(bool *rescan)
{
	List	   *dbs = NIL;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < so_shared->npending; i++)
		dbs = lappend_oid(dbs, so_shared->pending[i]);
	so_shared->npending = 0;
	*rescan = so_shared->rescan;
	so_shared->rescan = false;
	LWLockRelease(so_shared->lock);
	return dbs;
}

bool
so_slot_exists(Oid dboid)
{
	bool		exists;

	LWLockAcquire(so_shared->lock, LW_SHARED);
	exists = (so_find_slot(dboid) != NULL);
	LWLockRelease(so_shared->lock);
	return exists;
}

int
so_slot_reserve(Oid dboid)
{
	int			slotno = -1;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < so_shared->nslots; i++)
	{
		SoWorkerSlot *slot = &so_shared->slots[i];

		if (slot->state == SO_SLOT_FREE)
		{
			memset(slot, 0, sizeof(SoWorkerSlot));
			slot->state = SO_SLOT_STARTING;
			slot->dboid = dboid;
			slot->gen = so_shared->next_gen++;
			slot->exit_action = SO_EXIT_RETRY;
			slotno = i;
			break;
		}
	}
	LWLockRelease(so_shared->lock);
	return slotno;
}

void
so_slot_unreserve(int slotno)
{
	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	so_shared->slots[slotno].state = SO_SLOT_FREE;
	so_shared->slots[slotno].dboid = InvalidOid;
	LWLockRelease(so_shared->lock);
}

bool
so_slot_reap(int slotno, bool never_attached_gone, SoSlotExit *out)
{
	SoWorkerSlot *slot = &so_shared->slots[slotno];
	bool		reaped = false;

	memset(out, 0, sizeof(SoSlotExit));
	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	if (slot->state == SO_SLOT_STOPPED ||
		(slot->state == SO_SLOT_STARTING && !slot->attached && never_attached_gone))
	{
		out->dboid = slot->dboid;
		out->action = slot->exit_action;
		out->attached = slot->attached;
		out->ready = slot->ready;
		out->ready_at = slot->ready_at;
		out->stopped_for_command = slot->stop_requested;
		strlcpy(out->error, slot->exit_error, SO_MESSAGE_LEN);
		slot->state = SO_SLOT_FREE;
		slot->dboid = InvalidOid;
		reaped = true;
	}
	LWLockRelease(so_shared->lock);
	return reaped;
}

int
so_slot_count(void)
{
	return so_shared->nslots;
}

void
so_db_set_state(Oid dboid, SoDbState state)
{
	SoDbEntry  *e;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	e = so_db_entry(dboid, true);
	e->state = state;
	LWLockRelease(so_shared->lock);
}

/* The same, with the sentence worker_status() shows for that state. */
void
so_db_set_state_note(Oid dboid, SoDbState state, const char *note)
{
	SoDbEntry  *e;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	e = so_db_entry(dboid, true);
	e->state = state;
	e->last_error_at = GetCurrentTimestamp();
	so_clip_copy(e->last_error, note, SO_MESSAGE_LEN);
	LWLockRelease(so_shared->lock);
}

void
so_db_set_failure(Oid dboid, int failures, const char *error,
				  TimestampTz retry_at)
{
	SoDbEntry  *e;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	e = so_db_entry(dboid, true);
	e->state = SO_DB_BACKOFF;
	e->failures = failures;
	e->last_error_at = GetCurrentTimestamp();
	e->retry_at = retry_at;
	so_clip_copy(e->last_error, error, SO_MESSAGE_LEN);
	LWLockRelease(so_shared->lock);
}

void
so_db_set_pause(Oid dboid, SoDbState state, TimestampTz retry_at)
{
	SoDbEntry  *e;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	e = so_db_entry(dboid, true);
	e->state = state;
	e->retry_at = retry_at;
	LWLockRelease(so_shared->lock);
}

void
so_db_clear_failures(Oid dboid)
{
	SoDbEntry  *e;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	e = so_db_entry(dboid, false);
	if (e != NULL)
	{
		e->failures = 0;
		e->retry_at = 0;
	}
	LWLockRelease(so_shared->lock);
}

void
so_db_set_bgworker_shortage(Oid dboid, int busy, int waiting)
{
	SoDbEntry  *e;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	e = so_db_entry(dboid, true);
	e->state = SO_DB_NO_BGWORKER;
	e->bgw_busy = busy;
	e->bgw_waiting = waiting;
	LWLockRelease(so_shared->lock);
}

void
so_db_forget(Oid dboid)
{
	SoDbEntry  *e;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	e = so_db_entry(dboid, false);
	if (e != NULL)
		memset(e, 0, sizeof(SoDbEntry));
	LWLockRelease(so_shared->lock);
}

/* ---------------------------------------------------------------------
 * A worker
 * ---------------------------------------------------------------------
 */

Oid
so_worker_attach(int slotno, Latch *latch)
{
	SoWorkerSlot *slot;
	Oid			dboid = InvalidOid;

	if (so_shared == NULL || slotno < 0 || slotno >= so_shared->nslots)
		return InvalidOid;
	slot = &so_shared->slots[slotno];
	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	if (slot->state == SO_SLOT_STARTING && !slot->attached)
	{
		slot->pid = MyProcPid;
		slot->latch = latch;
		slot->attached = true;
		dboid = slot->dboid;
		so_my_slot = slot;
	}
	LWLockRelease(so_shared->lock);
	return dboid;
}

void
so_worker_ready(int sql_version)
{
	SoDbEntry  *e;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	so_my_slot->state = SO_SLOT_READY;
	so_my_slot->ready = true;
	so_my_slot->ready_at = GetCurrentTimestamp();
	so_my_slot->sql_version = sql_version;
	e = so_db_entry(so_my_slot->dboid, true);
	e->state = SO_DB_RUNNING;
	e->retry_at = 0;
	/* serving again: the last error stays on record, the series is over */
	e->failures = 0;
	LWLockRelease(so_shared->lock);
	ConditionVariableBroadcast(&so_shared->cv);
}

void
so_worker_set_exit(SoExitAction action)
{
	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	so_my_slot->exit_action = action;
	LWLockRelease(so_shared->lock);
}

void
so_worker_set_exit_error(const char *error)
{
	if (so_my_slot == NULL)
		return;
	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	so_clip_copy(so_my_slot->exit_error, error, SO_MESSAGE_LEN);
	LWLockRelease(so_shared->lock);
}

void
so_worker_detach(void)
{
	Latch	   *launcher;

	if (so_my_slot == NULL)
		return;
	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	for (int j = 0; j < SO_NUM_JOBS; j++)
	{
		SoJobState *js = &so_my_slot->jobs[j];

		if (js->phase != SO_PHASE_NONE)
		{
			SoOutcome  *o = so_outcome(js, js->runs_started);

			if (js->phase == SO_PHASE_WORK)
				so_finish_work(js, SO_RUN_INTERRUPTED, o->rows, o->ms,
							   "The worker stopped before the run finished.");
			o->status = SO_RUN_INTERRUPTED;
			js->phase = SO_PHASE_NONE;
		}
		js->requesters = 0;
		js->request_waiters = 0;
	}
	so_my_slot->pid = 0;
	so_my_slot->latch = NULL;
	so_my_slot->state = SO_SLOT_STOPPED;
	launcher = so_shared->launcher_latch;
	LWLockRelease(so_shared->lock);
	so_my_slot = NULL;

	ConditionVariableBroadcast(&so_shared->cv);
	if (launcher)
		SetLatch(launcher);
}

bool
so_worker_requested(SoJob job)
{
	bool		requested;

	LWLockAcquire(so_shared->lock, LW_SHARED);
	requested = so_my_slot->jobs[job].requesters > 0;
	LWLockRelease(so_shared->lock);
	return requested;
}

uint64
so_run_begin(SoJob job, SoTrigger trigger)
{
	SoJobState *js = &so_my_slot->jobs[job];
	SoOutcome  *o;
	uint64		gen = 0;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	/* a request withdrawn since so_worker_requested() does not run */
	if (trigger != SO_TRIGGER_MANUAL || js->requesters > 0)
	{
		gen = ++js->runs_started;
		js->run_waiters = js->request_waiters;
		js->requesters = 0;
		js->request_waiters = 0;
		js->phase = SO_PHASE_WORK;
		js->run_id = 0;
		js->run_id_known = false;
		o = so_outcome(js, gen);
		memset(o, 0, sizeof(SoOutcome));
		o->gen = gen;
		o->status = SO_RUN_RUNNING;
	}
	LWLockRelease(so_shared->lock);

	if (gen != 0)
		ConditionVariableBroadcast(&so_shared->cv);
	return gen;
}

void
so_run_set_id(SoJob job, int64 run_id)
{
	SoJobState *js = &so_my_slot->jobs[job];

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	js->run_id = run_id;
	js->run_id_known = true;
	so_outcome(js, js->runs_started)->run_id = run_id;
	LWLockRelease(so_shared->lock);
	ConditionVariableBroadcast(&so_shared->cv);
}

/* Record the outcome of the current run's work; lock held. */
static void
so_finish_work(SoJobState *js, SoRunStatus status, int64 rows, int64 ms,
			   const char *message)
{
	SoOutcome  *o = so_outcome(js, js->runs_started);

	o->gen = js->runs_started;
	o->run_id = js->run_id;
	o->status = status;
	o->rows = rows;
	o->ms = ms;
	so_clip_copy(o->message, message ? message : "", SO_MESSAGE_LEN);
	js->runs_worked = js->runs_started;
	js->run_waiters = 0;
	js->phase = SO_PHASE_UPKEEP;
}

void
so_run_work_done(SoJob job, SoRunStatus status, int64 rows, int64 ms,
				 const char *message)
{
	SoJobState *js = &so_my_slot->jobs[job];

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	if (js->phase == SO_PHASE_WORK)
		so_finish_work(js, status, rows, ms, message);
	LWLockRelease(so_shared->lock);
	ConditionVariableBroadcast(&so_shared->cv);
}

void
so_run_end(SoJob job, SoRunStatus status, int64 rows, int64 ms,
		   const char *message)
{
	SoJobState *js = &so_my_slot->jobs[job];
	SoOutcome  *o;

	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	if (js->phase == SO_PHASE_WORK)
		so_finish_work(js, status, rows, ms, message);
	else
	{
		/* the final word on the run, for whoever reads it later */
		o = so_outcome(js, js->runs_started);
		o->status = status;
		o->rows = rows;
		o->ms = ms;
		so_clip_copy(o->message, message ? message : "", SO_MESSAGE_LEN);
	}
	js->phase = SO_PHASE_NONE;
	LWLockRelease(so_shared->lock);
	ConditionVariableBroadcast(&so_shared->cv);
}

void
so_worker_publish_schedule(SoJob job, const SoSchedule *schedule)
{
	LWLockAcquire(so_shared->lock, LW_EXCLUSIVE);
	so_my_slot->jobs[job].schedule = *schedule;
	LWLockRelease(so_shared->lock);
}
