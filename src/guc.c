/*-------------------------------------------------------------------------
 *
 * guc.c
 *		Configuration parameters of snapshot_ops.
 *
 * Every parameter is checked when it is set: a bad cron expression, time
 * zone or interval is refused with a message that says what is wrong, so a
 * typo in postgresql.conf or ALTER DATABASE ... SET cannot silently stop the
 * maintenance.  The scheduling parameters are PGC_SUSET: settable per
 * database by a superuser, never by an ordinary role.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "compat.h"
#include "cron.h"
#include "guc.h"
#include "shmem.h"
#include "spi_util.h"

/* Longest interval accepted by the interval parameters. */
#define SO_MAX_INTERVAL_YEARS	100

char	   *so_databases = NULL;
int			so_max_workers = 8;
bool		so_enable_scheduler = true;
char	   *so_cleanup_schedule = NULL;
char	   *so_vacuum_schedule = NULL;
char	   *so_timezone = NULL;
char	   *so_retention_period = NULL;
int			so_retention_mode = SO_RETENTION_BOUNDED;
int			so_cleanup_batch_size = 1000;
char	   *so_job_history_retention = NULL;
int			so_vacuum_wait_timeout = 600000;
int			so_vacuum_lock_timeout = 5000;
double		so_gin_rebuild_threshold = 0.3;

static const struct config_enum_entry so_retention_mode_options[] = {
	{"finished", SO_RETENTION_FINISHED, false},
	{"bounded", SO_RETENTION_BOUNDED, false},
	{NULL, 0, false}
};

static bool so_check_schedule(char **newval, void **extra, GucSource source);
static bool so_check_timezone(char **newval, void **extra, GucSource source);
static bool so_check_interval(char **newval, void **extra, GucSource source);
static bool so_check_databases(char **newval, void **extra, GucSource source);

/*
 * Parse an interval with the server's interval syntax, without throwing.
 */
bool
so_parse_interval(const char *str, Interval *result)
{
	char		workbuf[256];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	int			dterr;
	struct pg_itm_in itm_in;

	if (str == NULL || strlen(str) >= sizeof(workbuf))
		return false;

	dterr = ParseDateTime(str, workbuf, sizeof(workbuf), field, ftype,
						  MAXDATEFIELDS, &nf);
	if (dterr == 0)
		dterr = DecodeInterval(field, ftype, nf, INTERVAL_FULL_RANGE,
							   &dtype, &itm_in);
	if (dterr == DTERR_BAD_FORMAT)
		dterr = DecodeISO8601Interval(unconstify(char *, str), &dtype, &itm_in);
	if (dterr != 0 || dtype != DTK_DELTA)
		return false;
	return itmin2interval(&itm_in, result) == 0;
}

/*
 * Length of an interval in seconds, months counted as 30 days (the rule the
 * interval comparison operators use).
 */
static double
so_interval_seconds(const Interval *span)
{
	return (double) span->time / USECS_PER_SEC +
		(double) span->day * SECS_PER_DAY +
		(double) span->month * DAYS_PER_MONTH * SECS_PER_DAY;
}

bool
so_interval_is_positive(const Interval *span)
{
	return so_interval_seconds(span) > 0;
}

/*
 * Check hook of the cron schedule parameters: the expression parses and
 * names a date that exists (cron_parse() refuses "0 2 30 2 *").
 */
static bool
so_check_schedule(char **newval, void **extra, GucSource source)
{
	CronSchedule schedule;
	char		errbuf[256];

	if (!cron_parse(*newval, &schedule, errbuf, sizeof(errbuf)))
	{
		GUC_check_errmsg("invalid cron schedule \"%s\"", so_clip(*newval ? *newval : "", -1));
		GUC_check_errdetail("%s", errbuf);
		GUC_check_errhint("A schedule is five fields, minute hour day-of-month month day-of-week, for example \"0 2 * * *\".");
		return false;
	}
	return true;
}

/*
 * Check hook of snapshot_ops.timezone: empty (the server's TimeZone) or a
 * time zone as the TimeZone setting reads it (cron_timezone(): a name, or
 * a number of hours east of UTC).
 */
static bool
so_check_timezone(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (cron_timezone(*newval) == NULL)
	{
		GUC_check_errmsg("time zone \"%s\" is not recognized", so_clip(*newval, -1));
		GUC_check_errhint("Use a name from pg_timezone_names, such as \"UTC\" or \"Europe/Berlin\", a number of hours east of UTC such as \"+03\", or an empty string for the server's TimeZone (the INTERVAL form of TimeZone is not accepted).");
		return false;
	}
	return true;
}

/*
 * Check hook of the interval parameters: a positive interval of at most
 * SO_MAX_INTERVAL_YEARS years.
 */
static bool
so_check_interval(char **newval, void **extra, GucSource source)
{
	Interval	span;

	if (*newval == NULL || !so_parse_interval(*newval, &span))
	{
		GUC_check_errmsg("invalid interval \"%s\"", so_clip(*newval ? *newval : "", -1));
		GUC_check_errhint("Use an interval such as \"30 days\" or \"12 hours\".");
		return false;
	}
	if (!so_interval_is_positive(&span))
	{
		GUC_check_errmsg("interval \"%s\" must be longer than zero", *newval);
		return false;
	}
	if (so_interval_seconds(&span) > (double) SO_MAX_INTERVAL_YEARS * DAYS_PER_YEAR * SECS_PER_DAY)
	{
		GUC_check_errmsg("interval \"%s\" is too long", *newval);
		GUC_check_errdetail("The longest accepted interval is %d years.",
							SO_MAX_INTERVAL_YEARS);
		return false;
	}
	return true;
}

/*
 * Check hook of snapshot_ops.databases: a comma-separated list of database
 * names (empty: every database that has the extension).
 */
static bool
so_check_databases(char **newval, void **extra, GucSource source)
{
	char	   *copy;
	List	   *names;
	bool		ok;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	copy = pstrdup(*newval);
	ok = SplitIdentifierString(copy, ',', &names);
	list_free(names);
	pfree(copy);
	if (!ok)
	{
		GUC_check_errmsg("invalid list of databases \"%s\"", so_clip(*newval, -1));
		GUC_check_errhint("Give database names separated by commas; double-quote names that need it.");
		return false;
	}
	return true;
}

void
so_get_retention_period(Interval *result)
{
	if (!so_parse_interval(so_retention_period, result))
		elog(ERROR, "snapshot_ops.retention_period \"%s\" does not parse",
			 so_retention_period);
}

void
so_get_job_history_retention(Interval *result)
{
	if (!so_parse_interval(so_job_history_retention, result))
		elog(ERROR, "snapshot_ops.job_history_retention \"%s\" does not parse",
			 so_job_history_retention);
}

/*
 * The time zone the worker evaluates the schedules in, and so the one every
 * next run shown to a user must use: snapshot_ops.timezone when set, else
 * the server's TimeZone as postgresql.conf sets it (published by the
 * launcher, so that no database, role or session setting of TimeZone
 * changes it).  Only when the library is not preloaded (no launcher, no
 * worker) does the session's TimeZone stand in for the server's.
 */
pg_tz *
so_schedule_timezone(void)
{
	char		name[TZ_STRLEN_MAX + 1];
	pg_tz	   *tz;

	if (so_timezone != NULL && so_timezone[0] != '\0')
	{
		/* the check hook accepted it, so it loads */
		tz = cron_timezone(so_timezone);
		if (tz != NULL)
			return tz;
	}
	if (so_server_timezone(name, sizeof(name)))
	{
		/* a name PostgreSQL itself produced for its TimeZone, so it loads */
		tz = pg_tzset(name);
		if (tz != NULL)
			return tz;
	}
	return session_timezone;
}

/*
 * Define the parameters.  snapshot_ops.max_workers sizes shared memory, so
 * it exists only when the library is preloaded.
 */
void
so_guc_init(void)
{
	DefineCustomStringVariable("snapshot_ops.databases",
							   "Databases whose snapshot_ops worker runs; empty means every database with the extension.",
							   NULL,
							   &so_databases,
							   "",
							   PGC_SIGHUP,
							   0,
							   so_check_databases, NULL, NULL);

	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("snapshot_ops.max_workers",
								"Maximum number of per-database snapshot_ops workers.",
								"Each needs a slot of max_worker_processes as well.",
								&so_max_workers,
								8, 1, 128,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);

	DefineCustomBoolVariable("snapshot_ops.enable_scheduler",
							 "Runs the cleanup and vacuum jobs on their schedules from the background worker.",
							 "Turn off when pg_cron schedules the jobs (snapshot_ops.schedule_with_pg_cron()).",
							 &so_enable_scheduler,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("snapshot_ops.cleanup_schedule",
							   "When the cleanup job runs, in cron syntax.",
							   "minute hour day-of-month month day-of-week, evaluated in snapshot_ops.timezone.",
							   &so_cleanup_schedule,
							   "0 2 * * *",
							   PGC_SUSET,
							   0,
							   so_check_schedule, NULL, NULL);

	DefineCustomStringVariable("snapshot_ops.vacuum_schedule",
							   "When the vacuum job runs, in cron syntax.",
							   "minute hour day-of-month month day-of-week, evaluated in snapshot_ops.timezone.",
							   &so_vacuum_schedule,
							   "0 1 * * 0",
							   PGC_SUSET,
							   0,
							   so_check_schedule, NULL, NULL);

	DefineCustomStringVariable("snapshot_ops.timezone",
							   "Time zone the job schedules are evaluated in.",
							   "Empty means the server's TimeZone setting.",
							   &so_timezone,
							   "",
							   PGC_SUSET,
							   0,
							   so_check_timezone, NULL, NULL);

	DefineCustomStringVariable("snapshot_ops.retention_period",
							   "Age after which snapshots are removed by the cleanup job.",
							   NULL,
							   &so_retention_period,
							   "30 days",
							   PGC_SUSET,
							   0,
							   so_check_interval, NULL, NULL);

	DefineCustomEnumVariable("snapshot_ops.retention_mode",
							 "Which old snapshots the cleanup job removes.",
							 "finished: stopped and crashed sessions only, as the original report; "
							 "bounded: also running sessions' snapshots, except the latest of each session.",
							 &so_retention_mode,
							 SO_RETENTION_BOUNDED,
							 so_retention_mode_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("snapshot_ops.cleanup_batch_size",
							"Snapshots deleted per transaction by the cleanup job.",
							NULL,
							&so_cleanup_batch_size,
							1000, 1, 100000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("snapshot_ops.job_history_retention",
							   "Age after which rows of snapshot_ops.job_runs are removed.",
							   NULL,
							   &so_job_history_retention,
							   "30 days",
							   PGC_SUSET,
							   0,
							   so_check_interval, NULL, NULL);

	DefineCustomIntVariable("snapshot_ops.vacuum_wait_timeout",
							"How long vacuum_snapshot_tables() and run_job(..., wait => true) wait for the worker.",
							NULL,
							&so_vacuum_wait_timeout,
							600000, 1000, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("snapshot_ops.vacuum_lock_timeout",
							"lock_timeout of the worker's VACUUM and cleanup statements.",
							"A job that cannot get its lock in time fails and is retried at its next run instead of queueing behind the application.",
							&so_vacuum_lock_timeout,
							5000, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomRealVariable("snapshot_ops.gin_rebuild_threshold",
							 "Share of empty entries at which the vacuum job rebuilds a GIN index of the snapshot tables.",
							 "GIN never removes a key whose rows are gone; the vacuum job rebuilds such an index with REINDEX INDEX CONCURRENTLY. 0 turns this off.",
							 &so_gin_rebuild_threshold,
							 0.3, 0.0, 1.0,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	so_mark_guc_prefix_reserved("snapshot_ops");
}
