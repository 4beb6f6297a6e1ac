/*-------------------------------------------------------------------------
 *
 * cron.h
 *		Cron expressions: parsing, matching and next-run computation.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/cron.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_CRON_H
#define SNAPSHOT_OPS_CRON_H

#include "datatype/timestamp.h"
#include "pgtime.h"

/*
 * A parsed five-field cron expression: one bit per allowed value.  When both
 * day-of-month and day-of-week are restricted, a day matches if either does
 * (the traditional Vixie cron rule).
 */
typedef struct CronSchedule
{
	uint64		minutes;		/* bits 0..59 */
	uint32		hours;			/* bits 0..23 */
	uint32		days;			/* bits 1..31 */
	uint32		months;			/* bits 1..12 */
	uint32		weekdays;		/* bits 0..6, Sunday = 0 */
	bool		days_restricted;	/* day-of-month field was not "*" */
	bool		weekdays_restricted;	/* day-of-week field was not "*" */
} CronSchedule;

/*
 * Parse expr into *schedule.  On failure returns false and writes a
 * sentence describing the problem into errbuf.
 */
extern bool cron_parse(const char *expr, CronSchedule *schedule,
					   char *errbuf, size_t errlen);

/* Does the local time tm (from pg_localtime) fall on the schedule? */
extern bool cron_matches(const CronSchedule *schedule, const struct pg_tm *tm);

/*
 * The first whole minute strictly after "after" that matches the schedule
 * in time zone tz; DT_NOEND when there is none within five years.
 */
extern TimestampTz cron_next_after(const CronSchedule *schedule,
								   TimestampTz after, pg_tz *tz);

#endif							/* SNAPSHOT_OPS_CRON_H */
