/*-------------------------------------------------------------------------
 *
 * shmem_worker.c
 *		The launcher's and the workers' side of snapshot_ops' shared state:
 *		slots, the launcher's per-database notes, and a worker's runs.
 *
 * Part of the shared-state module (shmem.h); the protocol and its state
 * machines are described at the top of shmem.c.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/shmem_worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "guc.h"
#include "shmem_internal.h"

/* The slot of this worker process. */
static SoWorkerSlot *so_my_slot = NULL;

static void so_finish_work(SoJobState *js, SoRunStatus status, int64 rows,
						   int64 ms, const char *message);

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
