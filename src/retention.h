/*-------------------------------------------------------------------------
 *
 * retention.h
 *		Retention of old snapshots: the one batch loop that the worker's
 *		cleanup job and the procedure snapshot_ops.run_cleanup() share, and
 *		the one-statement functions cleanup_old_snapshots*().
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
#include "utils/palloc.h"

/* Rows deleted (or, for a dry run, that would be deleted), per table. */
typedef struct SoCleanupCounts
{
	int64		sessions;
	int64		positions;
	int64		metrics;
	int64		risk_guard;
} SoCleanupCounts;

/*
 * A run of batches.  One cutoff for the whole run; each batch starts after
 * the last snapshot the one before it deleted (created_at, snapshot_id),
 * so a run reads each index entry about once and its cost is linear in
 * the rows it passes, however many snapshots it keeps.
 */
typedef struct SoCleanupRun
{
	TimestampTz cutoff;
	bool		include_running;	/* retention_mode bounded */
	int			batch_size;
	TimestampTz resume_at;		/* key of the last snapshot deleted */
	int64		resume_id;
	SoCleanupCounts counts;
	int64		batches;		/* batches that deleted something */
	int64		longest_ms;
	bool		done;			/* no expired snapshot left */
	bool		held;			/* stopped by a retention hold */
	char	   *held_why;		/* in cxt */
	MemoryContext cxt;			/* the caller's, at so_cleanup_start() */
} SoCleanupRun;

/*
 * Start a run: cutoff = now (the clock, once) - older_than (NULL:
 * snapshot_ops.retention_period), batch_size (<= 0: the GUC) and the
 * status set of snapshot_ops.retention_mode.  ERROR for a non-positive
 * interval or batch size.  What the run keeps (held_why) lives in the
 * current memory context, which must outlast the run's transactions.
 */
extern void so_cleanup_start(SoCleanupRun *run, const Interval *older_than,
							 int batch_size);

/*
 * One batch, in the caller's transaction (needs an active snapshot and the
 * extension): deletes at most batch_size expired snapshots and their
 * children, adds to the counts and advances the resume point; sets done
 * when nothing is left and held (deleting nothing) when retention is on
 * hold.  Returns the number of snapshots deleted.
 */
extern int64 so_cleanup_step(SoCleanupRun *run);

/* What the run did so far, as one sentence (progress and job_runs message). */
extern char *so_cleanup_describe(const SoCleanupRun *run);

#endif							/* SNAPSHOT_OPS_RETENTION_H */
