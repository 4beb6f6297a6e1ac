/*-------------------------------------------------------------------------
 *
 * shmem.h
 *		Shared state of the launcher, the per-database workers and the
 *		backends that talk to them.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/shmem.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_SHMEM_H
#define SNAPSHOT_OPS_SHMEM_H

#include "datatype/timestamp.h"
#include "pgtime.h"
#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/lwlock.h"

/* The jobs a worker runs. */
typedef enum SoJob
{
	SO_JOB_CLEANUP = 0,
	SO_JOB_VACUUM,
	SO_NUM_JOBS
} SoJob;

/* Why a run started (snapshot_ops.job_runs.trigger). */
typedef enum SoTrigger
{
	SO_TRIGGER_SCHEDULE,
	SO_TRIGGER_MANUAL,
	SO_TRIGGER_CATCH_UP
} SoTrigger;

/* Outcome of a run (snapshot_ops.job_runs.status). */
typedef enum SoRunStatus
{
	SO_RUN_NONE,				/* no run yet in this worker's life */
	SO_RUN_RUNNING,
	SO_RUN_SUCCEEDED,
	SO_RUN_FAILED,
	SO_RUN_INTERRUPTED
} SoRunStatus;

/* Life cycle of a worker slot. */
typedef enum SoSlotState
{
	SO_SLOT_FREE,				/* unused */
	SO_SLOT_STARTING,			/* registered by the launcher, connecting */
	SO_SLOT_IDLE,				/* running, waiting for the next job */
	SO_SLOT_BUSY,				/* running a job */
	SO_SLOT_STOPPED				/* exited; the launcher reaps the slot */
} SoSlotState;

/* What the launcher does after a worker exits. */
typedef enum SoExitAction
{
	SO_EXIT_RETRY,				/* unexpected exit: start again after a pause */
	SO_EXIT_RESTART,			/* start again now (settings changed) */
	SO_EXIT_DONE				/* nothing to do here: no restart */
} SoExitAction;

#define SO_MESSAGE_LEN		256
#define SO_MAX_PENDING		32

/*
 * Per-job state of one worker.  A backend that wants a run sets "requested"
 * and waits on the condition variable until runs_started (then
 * runs_finished) passes the value it expects.  "waited" tells the worker
 * that a backend sits in a transaction until the run ends: its snapshot
 * would hold up REINDEX INDEX CONCURRENTLY, so the run leaves that out.
 */
typedef struct SoJobState
{
	bool		requested;		/* a manual run is wanted */
	bool		running;		/* a run is in progress */
	bool		wait_next;		/* a backend waits for the requested run */
	bool		waited;			/* a backend waits for the current run */
	uint64		runs_started;	/* runs started by this worker */
	uint64		runs_finished;	/* runs finished by this worker */
	int64		run_id;			/* job_runs.run_id of the current/last run */
	SoRunStatus last_status;
	int64		last_rows;
	int64		last_ms;
	char		last_message[SO_MESSAGE_LEN];
} SoJobState;

/* One per-database worker. */
typedef struct SoWorkerSlot
{
	SoSlotState state;
	Oid			dboid;
	pid_t		pid;			/* 0 until the worker has attached */
	Latch	   *latch;			/* the worker's latch, while attached */
	SoExitAction exit_action;	/* set by the worker before it exits */
	TimestampTz started_at;
	SoJobState	jobs[SO_NUM_JOBS];
} SoWorkerSlot;

typedef struct SoShared
{
	LWLock	   *lock;			/* protects everything below */
	ConditionVariable cv;		/* broadcast when a run starts or ends */
	pid_t		launcher_pid;
	Latch	   *launcher_latch;
	char		server_timezone[TZ_STRLEN_MAX + 1];	/* TimeZone of postgresql.conf */
	bool		rescan;			/* pending[] overflowed: look at every database */
	int			npending;		/* databases that asked for a worker */
	Oid			pending[SO_MAX_PENDING];
	int			nslots;			/* snapshot_ops.max_workers */
	SoWorkerSlot slots[FLEXIBLE_ARRAY_MEMBER];
} SoShared;

/* NULL unless the library was preloaded (and shared memory set up). */
extern SoShared *so_shared;

extern const char *const so_job_names[SO_NUM_JOBS];
extern const char *const so_trigger_names[];
extern const char *const so_run_status_names[];

extern void so_shmem_init(void);

/* The slot of a database's worker (any state but free), or NULL; lock held. */
extern SoWorkerSlot *so_find_slot(Oid dboid);

/* Ask the launcher to start (or check) the worker of a database. */
extern void so_request_worker(Oid dboid);

/* The same, when the current transaction commits. */
extern void so_request_worker_at_commit(Oid dboid);

/*
 * The server's TimeZone (as postgresql.conf sets it, without any database
 * or role setting), which schedules use when snapshot_ops.timezone is
 * empty.  Published at start-up and on every configuration reload; false
 * when the library is not preloaded.
 */
extern bool so_server_timezone(char *buf, size_t len);
extern void so_publish_server_timezone(void);

/* Parse a job name; -1 when unknown. */
extern int	so_job_from_name(const char *name);

#endif							/* SNAPSHOT_OPS_SHMEM_H */
