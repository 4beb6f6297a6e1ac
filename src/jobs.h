/*-------------------------------------------------------------------------
 *
 * jobs.h
 *		The jobs a snapshot_ops worker runs: cleanup and vacuum.
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
 * Run a job now, in a background worker, outside any transaction: the run
 * is recorded in snapshot_ops.job_runs (jobrec.c) and its progress and
 * outcome published to the backends that asked for it (shmem.c).  A
 * failure of the job is recorded, logged and swallowed, leaving no
 * transaction open; only SIGTERM (FATAL) ends the process.  Returns the
 * run's status; SO_RUN_NONE when a manual run found its requests all
 * withdrawn and did not start.
 */
extern SoRunStatus so_job_run(SoJob job, SoTrigger trigger);

#endif							/* SNAPSHOT_OPS_JOBS_H */
