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
 * Start the record of a run: a run id from job_runs' identity sequence and
 * an attempt to insert the "running" row.  Outside a transaction (the
 * worker) each write is a transaction of its own; inside one (CALL
 * run_cleanup(), between its commits) a subtransaction, run as the
 * extension's owner.  The run id is valid even when the row could not be
 * written.  NULL, with the reason in *error, when not even a run id can be
 * had: the run then goes unrecorded.  Never throws.
 */
extern SoRunRecord *so_rec_begin(SoJob job, SoTrigger trigger, char **error);

extern int64 so_rec_run_id(SoRunRecord *rec);

/* Progress of a running run (rows so far, message); written at once if it can be. */
extern void so_rec_progress(SoRunRecord *rec, int64 rows, const char *message);

/*
 * The end of a run; written at once if it can be, otherwise kept and
 * written later by so_rec_flush(), with a note on the delay.  The record
 * belongs to this module afterwards.
 */
extern void so_rec_end(SoRunRecord *rec, SoRunStatus status, int64 rows,
					   const char *message);

/* Write what is kept, unless the last attempt was too recent. */
extern void so_rec_flush(bool force);

/* Are records waiting to be written? */
extern bool so_rec_pending(void);

/*
 * Start-up bookkeeping of a worker, retried until it succeeds: mark the
 * runs a previous worker left "running" as interrupted and read when each
 * job last started (0: never).  True when done.
 */
extern bool so_rec_startup(uint64 *interrupted, TimestampTz *last_started);

/* Has the database's SQL the 1.1 statuses and triggers ('skipped', 'call')? */
extern bool so_rec_has_1_1(void);

#endif							/* SNAPSHOT_OPS_JOBREC_H */
