/*-------------------------------------------------------------------------
 *
 * jobrec.h
 *		The history of job runs in snapshot_ops.job_runs: bookkeeping that
 *		can delay a record but never fail, roll back or hide a job.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/jobrec.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_JOBREC_H
#define SNAPSHOT_OPS_JOBREC_H

#include "shmem.h"

/* lock_timeout of every bookkeeping statement, in milliseconds */
#define SO_RECORD_LOCK_TIMEOUT_MS	1000

/* seconds between two attempts to write records that could not be written */
#define SO_RECORD_RETRY_SECONDS		5

typedef struct SoRunRecord SoRunRecord;

/*
 * Start the record of a run and attempt to write its "running" row, with
 * a run id from job_runs' identity sequence.  Outside a transaction (the
 * worker) each write is a transaction of its own; inside one (CALL
 * run_cleanup(), between its commits) a subtransaction, run as the
 * extension's owner.  When the write fails the record is kept and written
 * later (its run id, if the sequence could not be used either, is then
 * assigned at that first successful write: so_rec_run_id() returns 0
 * until then).  Throws only a query cancel (in a subtransaction), and then
 * no run starts.
 */
extern SoRunRecord *so_rec_begin(SoJob job, SoTrigger trigger);

/* The run id; 0 while none could be had. */
extern int64 so_rec_run_id(SoRunRecord *rec);

/* Progress of a running run (rows so far, message); written at once if it can be. */
/* Throws only a query cancel, in a subtransaction. */
extern void so_rec_progress(SoRunRecord *rec, int64 rows, const char *message);

/*
 * The end of a run; written at once if it can be, otherwise kept and
 * written later by so_rec_flush(), with a note on the delay.  The record
 * belongs to this module afterwards.  Returns the run id (0 when none
 * could be had yet).  Throws only a query cancel, in a subtransaction.
 */
extern int64 so_rec_end(SoRunRecord *rec, SoRunStatus status, int64 rows,
						const char *message);

/* Write what is kept, unless the last attempt was too recent. */
extern void so_rec_flush(bool force);

/* Are records waiting to be written? */
extern bool so_rec_pending(void);

/*
 * Start-up bookkeeping of a worker, retried until it succeeds: mark the
 * runs a previous worker left "running" as interrupted and read when each
 * job last ran: the later of its last run's start and end, since a run
 * covers the scheduled times it lasts past (0: never).  True when done.
 */
extern bool so_rec_startup(uint64 *interrupted, TimestampTz *last_ran);

/* Has the database's SQL the 1.1 statuses and triggers ('skipped', 'call')? */
extern bool so_rec_has_1_1(void);

#endif							/* SNAPSHOT_OPS_JOBREC_H */
