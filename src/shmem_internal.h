/*-------------------------------------------------------------------------
 *
 * shmem_internal.h
 *		The layout of snapshot_ops' shared state, private to shmem.c (set-up,
 *		backends' requests) and shmem_worker.c (the launcher's and the
 *		workers' side).  No other file includes it: everything else goes
 *		through the functions of shmem.h.  The protocol is described at the
 *		top of shmem.c.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/shmem_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_SHMEM_INTERNAL_H
#define SNAPSHOT_OPS_SHMEM_INTERNAL_H

#include "storage/condition_variable.h"
#include "storage/lwlock.h"

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

/* The shared state; NULL when the library is not preloaded. */
extern SoShared *so_shared;

/* The slot of a database's worker (any state but free), or NULL; lock held. */
extern SoWorkerSlot *so_find_slot(Oid dboid);

/*
 * The launcher's entry for a database; with create, a new one (reusing
 * the least useful entry when the table is full).  Exclusive lock held.
 */
extern SoDbEntry *so_db_entry(Oid dboid, bool create);

/* Where the outcome of a job's run of generation gen is kept. */
extern SoOutcome *so_outcome(SoJobState *js, uint64 gen);

#endif							/* SNAPSHOT_OPS_SHMEM_INTERNAL_H */
