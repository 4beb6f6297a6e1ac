/*-------------------------------------------------------------------------
 *
 * guc.h
 *		Configuration parameters of snapshot_ops.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/guc.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_GUC_H
#define SNAPSHOT_OPS_GUC_H

#include "datatype/timestamp.h"
#include "pgtime.h"

/* snapshot_ops.retention_mode */
typedef enum SoRetentionMode
{
	SO_RETENTION_FINISHED,		/* stopped and crashed sessions only (report) */
	SO_RETENTION_BOUNDED		/* also superseded running snapshots */
} SoRetentionMode;

extern char *so_databases;
extern int	so_max_workers;
extern bool so_enable_scheduler;
extern char *so_cleanup_schedule;
extern char *so_vacuum_schedule;
extern char *so_timezone;
extern char *so_retention_period;
extern int	so_retention_mode;
extern int	so_cleanup_batch_size;
extern char *so_job_history_retention;
extern int	so_vacuum_wait_timeout;
extern int	so_vacuum_lock_timeout;
extern double so_gin_rebuild_threshold;

extern void so_guc_init(void);

/* Parse an interval without throwing; false when str is not an interval. */
extern bool so_parse_interval(const char *str, Interval *result);

/* True when the interval is longer than zero (months count as 30 days). */
extern bool so_interval_is_positive(const Interval *span);

/* Current values, parsed; the check hooks guarantee they parse. */
extern void so_get_retention_period(Interval *result);
extern void so_get_job_history_retention(Interval *result);

/*
 * The time zone the worker evaluates schedules in: snapshot_ops.timezone,
 * else the server's TimeZone from postgresql.conf (the session's only when
 * the library is not preloaded).
 */
extern pg_tz *so_schedule_timezone(void);

#endif							/* SNAPSHOT_OPS_GUC_H */
