/*-------------------------------------------------------------------------
 *
 * shmem.h
 *		The shared state of snapshot_ops and the protocol around it: the
 *		launcher's inbox, one slot per per-database worker, the requests
 *		and runs of each worker's jobs, and what the launcher knows about
 *		every database.
 *
 * Every read and write of this state goes through the functions declared
 * here (src/shmem.c); the state machine is described at the top of that
 * file.  The structures are visible only so that shmem.c can size them.
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
#include "nodes/pg_list.h"
#include "pgtime.h"
#include "storage/latch.h"

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
	SO_TRIGGER_MANUAL,			/* run_job(), vacuum_snapshot_tables() */
	SO_TRIGGER_CATCH_UP,		/* a scheduled time passed while down */
	SO_TRIGGER_CALL				/* CALL snapshot_ops.run_cleanup() (1.1) */
} SoTrigger;

/* Outcome of a run (snapshot_ops.job_runs.status). */
typedef enum SoRunStatus
{
	SO_RUN_NONE,				/* no run yet in this worker's life */
	SO_RUN_RUNNING,
	SO_RUN_SUCCEEDED,
	SO_RUN_FAILED,
	SO_RUN_INTERRUPTED,
	SO_RUN_SKIPPED				/* retention on hold (1.1) */
} SoRunStatus;

/* What the launcher does after a worker exits. */
typedef enum SoExitAction
{
	SO_EXIT_RETRY,				/* unexpected exit: start again after a pause */
	SO_EXIT_RESTART,			/* start again now (settings or version changed) */
	SO_EXIT_DONE,				/* nothing to do here: no restart */
	SO_EXIT_TERMINATED			/* SIGTERM (pg_terminate_backend(), shutdown):
								 * start again after a pause, no failure */
} SoExitAction;

/* What the launcher knows about a database (worker_status().reason). */
typedef enum SoDbState
{
	SO_DB_UNKNOWN,				/* never looked at, or forgotten */
	SO_DB_STARTING,				/* a worker was registered */
	SO_DB_RUNNING,				/* its worker is attached */
	SO_DB_NO_SLOT,				/* snapshot_ops.max_workers slots all used */
	SO_DB_NO_BGWORKER,			/* max_worker_processes exhausted */
	SO_DB_BACKOFF,				/* the worker failed; next attempt later */
	SO_DB_NOT_LISTED,			/* not in snapshot_ops.databases */
	SO_DB_NO_EXTENSION,			/* the worker found no extension */
	SO_DB_UNSUPPORTED,			/* the extension's SQL is newer than the library */
	SO_DB_STOPPED,				/* stopped for DROP/ALTER DATABASE; restarts later */
	SO_DB_CLOSED,				/* ALLOW_CONNECTIONS false; looked at again later */
	SO_DB_TERMINATED			/* its worker got SIGTERM; restarts later */
} SoDbState;

#define SO_MESSAGE_LEN		512
#define SO_SCHEDULE_LEN		256	/* CRON_MAX_LENGTH and a terminator */
#define SO_MAX_PENDING		32
#define SO_MAX_DBS			256
#define SO_OUTCOMES			4

/* The end of a run, as a backend that asked for it sees it. */
typedef struct SoOutcome
{
	uint64		gen;			/* which run of the job (runs_started) */
	int64		run_id;			/* snapshot_ops.job_runs.run_id */
	SoRunStatus status;
	int64		rows;
	int64		ms;
	char		message[SO_MESSAGE_LEN];
} SoOutcome;

/* A job's schedule as the worker uses it, for the jobs view. */
typedef struct SoSchedule
{
	bool		enabled;
	TimestampTz next_run;		/* 0 when disabled */
	char		schedule[SO_SCHEDULE_LEN];
	char		timezone[TZ_STRLEN_MAX + 1];
} SoSchedule;

/* A request of a backend (so_request_post() and friends). */
typedef struct SoTicket
{
	int			slotno;
	uint64		slot_gen;		/* which worker of that slot */
	SoJob		job;
	uint64		target;			/* the run (gen) that serves the request */
	bool		wait;			/* waits for the run's work, not just its start */
	bool		active;			/* not yet withdrawn */
} SoTicket;

/* So far, for a ticket. */
typedef enum SoPoll
{
	SO_POLL_PENDING,			/* the run has not started */
	SO_POLL_STARTED,			/* started; run_id known (0: none yet) */
	SO_POLL_DONE,				/* its work is done; outcome known */
	SO_POLL_LOST				/* the worker exited first */
} SoPoll;

/* The launcher's view of an exited worker (so_slot_reap()). */
typedef struct SoSlotExit
{
	Oid			dboid;
	SoExitAction action;
	bool		attached;		/* got as far as attaching to the slot */
	bool		ready;			/* got as far as serving its database */
	TimestampTz ready_at;
	bool		stopped_for_command;	/* so_worker_stop_for_command() */
	char		error[SO_MESSAGE_LEN];	/* the error that ended it, if any */
} SoSlotExit;

/* A copy of a database's worker and status, for reporting. */
typedef struct SoWorkerInfo
{
	bool		loaded;			/* shared memory exists */
	pid_t		launcher_pid;
	bool		has_slot;
	bool		ready;			/* attached and serving */
	bool		busy;
	pid_t		pid;
	TimestampTz started_at;
	int			sql_version;
	bool		running[SO_NUM_JOBS];
	int64		run_id[SO_NUM_JOBS];
	SoSchedule	schedules[SO_NUM_JOBS];
	/* the launcher's record of the database */
	SoDbState	db_state;
	int			failures;		/* consecutive failed starts */
	TimestampTz last_error_at;
	TimestampTz retry_at;
	char		last_error[SO_MESSAGE_LEN];
	int			slots_used;		/* snapshot_ops.max_workers slots in use */
	int			nslots;
	int			bgw_busy;		/* when NO_BGWORKER: workers of ours running */
	int			bgw_waiting;	/* when NO_BGWORKER: databases waiting */
} SoWorkerInfo;

extern const char *const so_job_names[SO_NUM_JOBS];
extern const char *const so_trigger_names[];
extern const char *const so_run_status_names[];

/* Parse a job name; -1 when unknown. */
extern int	so_job_from_name(const char *name);

/* Set up; from _PG_init during shared_preload_libraries. */
extern void so_shmem_init(void);

/* Is the shared state there (library preloaded)? */
extern bool so_shmem_loaded(void);

/* Copy clipped on a character boundary (never a partial character). */
extern void so_clip_copy(char *dst, const char *src, size_t dstsize);

/* --- server time zone ------------------------------------------------- */

/*
 * The server's TimeZone (as postgresql.conf sets it, without any database
 * or role setting), which schedules use when snapshot_ops.timezone is
 * empty.  Published at start-up and by the launcher on every reload; false
 * when the library is not preloaded.
 */
extern bool so_server_timezone(char *buf, size_t len);
extern void so_publish_server_timezone(void);

/* --- backends ----------------------------------------------------------- */

/* Ask the launcher to start (or check) the worker of a database. */
extern void so_request_worker(Oid dboid);

/* The same, when the current transaction commits. */
extern void so_request_worker_at_commit(Oid dboid);

/*
 * Ask the worker of dboid for a run of job.  A run of the job whose work
 * is in progress is joined; otherwise a request is posted (joining a
 * pending one) and the worker woken.  False when the database has no
 * worker serving it.
 */
extern bool so_request_post(Oid dboid, SoJob job, bool wait, SoTicket *ticket);

/*
 * Where the request stands; fills *out for STARTED (run_id), DONE, and LOST
 * when the run had started (gen != 0) before its worker exited.  PENDING
 * with out->gen set: the worker took the request and is recording the run.
 */
extern SoPoll so_request_poll(SoTicket *ticket, SoOutcome *out);

/*
 * Withdraw a request: a pending request that nobody else wants is dropped
 * and never runs; a waiter of a started run stops counting as one.  Safe
 * to call twice and after the worker exited.
 */
extern void so_request_withdraw(SoTicket *ticket);

/* Sleep until the shared state changes or timeout_ms passed. */
extern void so_request_sleep(long timeout_ms);
extern void so_request_sleep_done(void);

/* A copy of what is known about the worker of dboid. */
extern void so_worker_info(Oid dboid, SoWorkerInfo *info);

/*
 * The worker of dboid is about to be stopped (SIGTERM) for a command that
 * needs the database to itself: its exit is then no failure.  Returns its
 * pid, 0 if none.
 */
extern pid_t so_worker_stop_for_command(Oid dboid);

/* --- the launcher ----------------------------------------------------- */

extern void so_launcher_attach(Latch *latch);
extern void so_launcher_detach(void);

/* Requests from backends: a list of database OIDs; *rescan when it overflowed. */
extern List *so_launcher_take_requests(bool *rescan);

/* Does dboid have a slot (in any state)? */
extern bool so_slot_exists(Oid dboid);

/* Reserve a free slot for dboid; -1 when all snapshot_ops.max_workers are used. */
extern int	so_slot_reserve(Oid dboid);

/* Give back a slot whose worker could not be registered. */
extern void so_slot_unreserve(int slotno);

/*
 * Free a slot whose worker is gone (it detached, or its process ended
 * before attaching: never_attached_gone) and describe how it ended.  False
 * when the slot is still in use.
 */
extern bool so_slot_reap(int slotno, bool never_attached_gone, SoSlotExit *out);

/* Number of slots. */
extern int	so_slot_count(void);

/* Record the launcher's view of a database. */
extern void so_db_set_state(Oid dboid, SoDbState state);
extern void so_db_set_state_note(Oid dboid, SoDbState state, const char *note);
extern void so_db_set_failure(Oid dboid, int failures, const char *error,
							  TimestampTz retry_at);
/* A state that ends at retry_at (STOPPED, CLOSED); no failure. */
extern void so_db_set_pause(Oid dboid, SoDbState state, TimestampTz retry_at);
extern void so_db_clear_failures(Oid dboid);
extern void so_db_set_bgworker_shortage(Oid dboid, int busy, int waiting);
extern void so_db_forget(Oid dboid);

/* --- a worker ----------------------------------------------------------- */

/* Attach to the slot the launcher reserved; InvalidOid when it was given up. */
extern Oid	so_worker_attach(int slotno, Latch *latch);

/* Serving now: sql_version is the installed version it serves. */
extern void so_worker_ready(int sql_version);

/* How the launcher should react to this worker's exit, and why. */
extern void so_worker_set_exit(SoExitAction action);
extern void so_worker_set_exit_error(const char *error);

/*
 * before_shmem_exit: mark the slot stopped, end runs in progress as
 * interrupted, wake waiting backends and the launcher.
 */
extern void so_worker_detach(void);

/* Is a run of job requested? */
extern bool so_worker_requested(SoJob job);

/*
 * A run of job starts: pending requests become its waiters.  Returns the
 * run's generation; 0, and no run starts, for a manual run whose requests
 * were all withdrawn since so_worker_requested().  Waiters see the run as
 * started once so_run_set_id() gave its id (0: job_runs gave none yet).
 */
extern uint64 so_run_begin(SoJob job, SoTrigger trigger);
extern void so_run_set_id(SoJob job, int64 run_id);

/*
 * The part of the run that requesters asked for is done: publish its
 * outcome and release the waiters.  The run goes on with upkeep that no
 * backend waits for (and that must not wait for any of them).
 */
extern void so_run_work_done(SoJob job, SoRunStatus status, int64 rows,
							 int64 ms, const char *message);

/* The run is over (implies so_run_work_done() if not called yet). */
extern void so_run_end(SoJob job, SoRunStatus status, int64 rows,
					   int64 ms, const char *message);

/* Publish a job's schedule as the worker uses it. */
extern void so_worker_publish_schedule(SoJob job, const SoSchedule *schedule);

#endif							/* SNAPSHOT_OPS_SHMEM_H */
