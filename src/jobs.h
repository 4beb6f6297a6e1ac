/*-------------------------------------------------------------------------
 *
 * jobs.h
 *		The jobs a snapshot_ops worker runs (cleanup, vacuum) and their
 *		history in snapshot_ops.job_runs.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/jobs.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_JOBS_H
#define SNAPSHOT_OPS_JOBS_H

#include "shmem.h"

/* The four tables, in the order the vacuum job processes them. */
#define SO_NUM_TABLES	4
extern const char *const so_table_names[SO_NUM_TABLES];

/*
 * Run a job now, in a background worker, outside any transaction: records
 * the run in job_runs and publishes its progress in *slot.  A failure of
 * the job is recorded, logged and swallowed; only an interrupt (SIGTERM)
 * ends the process.
 */
extern void so_job_run(SoWorkerSlot *slot, SoJob job, SoTrigger trigger);

/* The following need a transaction, an active snapshot and SPI. */

/* Mark runs left "running" by a previous worker as interrupted. */
extern uint64 so_jobs_mark_interrupted(void);

/* When the latest recorded run of a job started; 0 when there is none. */
extern TimestampTz so_jobs_last_started(SoJob job);

#endif							/* SNAPSHOT_OPS_JOBS_H */
