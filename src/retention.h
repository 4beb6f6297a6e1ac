/*-------------------------------------------------------------------------
 *
 * retention.h
 *		Retention of old snapshots: batched deletes for the worker and the
 *		SQL functions cleanup_old_snapshots*() and snapshot_ops.run_cleanup().
 *
 * Which snapshots expire: created_at < cutoff, status among the selected
 * ones, and never the latest snapshot (by created_at, snapshot_id) of a
 * session whose status is "running", so that every running session keeps
 * the snapshot it resumes from.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/retention.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_RETENTION_H
#define SNAPSHOT_OPS_RETENTION_H

#include "datatype/timestamp.h"

/* Rows deleted (or, for a dry run, that would be deleted), per table. */
typedef struct SoCleanupCounts
{
	int64		sessions;
	int64		positions;
	int64		metrics;
	int64		risk_guard;
} SoCleanupCounts;

/*
 * Delete at most batch_size expired snapshots (rule above; include_running
 * selects the bounded status set running, stopped, crashed instead of
 * stopped, crashed) with their children in the caller's transaction; adds to
 * *counts and returns the number of session snapshots deleted (0 = nothing
 * left).  Connects to SPI itself; needs an active snapshot and a database
 * where the extension exists (ERROR otherwise).
 */
extern int64 so_cleanup_batch(TimestampTz cutoff, bool include_running,
							  int batch_size, SoCleanupCounts *counts);

/*
 * The same, for a run of batches with one cutoff: set *resume to
 * DT_NOBEGIN (TIMESTAMP_NOBEGIN) before the first batch and pass it back
 * each time; each batch then starts where the previous one stopped instead
 * of walking again over the index entries of rows already deleted (not yet
 * vacuumed) or kept.  Reuse *resume only after the batch's transaction
 * committed; start again from DT_NOBEGIN otherwise.
 */
extern int64 so_cleanup_batch_resume(TimestampTz cutoff, bool include_running,
									 int batch_size, SoCleanupCounts *counts,
									 TimestampTz *resume);

#endif							/* SNAPSHOT_OPS_RETENTION_H */
