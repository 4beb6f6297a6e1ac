/*-------------------------------------------------------------------------
 *
 * cron.h
 *		Cron expressions: parsing, matching and next-run computation.
 *
 * The rules are Vixie cron's (crontab(5) and cron.c), the ones the README
 * states with examples:
 *
 *	- A field is "star" when its text starts with '*' ("*", "*\/2", "*,5").
 *	  When either day field is star, a day must match both day fields; when
 *	  neither is, it must match either.
 *	- A schedule is "fixed-time" when neither its minute nor its hour field
 *	  is star (0 2 * * *, 30 1 * * 0, @daily); otherwise it is "wildcard"
 *	  (*\/15 * * * *, 0 * * * *, @hourly).
 *	- Wildcard schedules follow the local clock: they fire at every instant
 *	  whose local time is one of their minutes, so twice for a local time
 *	  that repeats and never for one that is skipped.
 *	- Fixed-time schedules fire once per local time: at its first
 *	  occurrence, not again when the clock goes back over it, and, when the
 *	  clock jumps over it, once at the instant of the jump.
 *
 * Formally, with local(u) the local wall-clock time of the instant u (in
 * whole seconds) and P(u) = max{ local(v) : v < u } the latest local time
 * the clock has shown before u, a schedule fires at u when
 *
 *	wildcard:	local(u) is a whole minute the schedule names;
 *	fixed-time: some minute m the schedule names has P(u) < m <= local(u).
 *
 * So the set of firing instants is a pure function of the schedule and the
 * time zone: it does not depend on when or how often anyone asks.  A
 * forward jump that skips several times of a fixed-time schedule gives one
 * firing (Vixie cron runs the job once per skipped time, back to back).
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

/* Longest schedule accepted, leading and trailing blanks not counted. */
#define CRON_MAX_LENGTH		255

/*
 * A parsed five-field cron expression: one bit per allowed value, and
 * which fields started with '*' (Vixie cron's MIN_STAR, HR_STAR, DOM_STAR
 * and DOW_STAR flags).
 */
typedef struct CronSchedule
{
	uint64		minutes;		/* bits 0..59 */
	uint32		hours;			/* bits 0..23 */
	uint32		days;			/* bits 1..31 */
	uint32		months;			/* bits 1..12 */
	uint32		weekdays;		/* bits 0..6, Sunday = 0 */
	bool		minute_star;	/* minute field started with '*' */
	bool		hour_star;		/* hour field started with '*' */
	bool		dom_star;		/* day-of-month field started with '*' */
	bool		dow_star;		/* day-of-week field started with '*' */
} CronSchedule;

/*
 * Parse expr into *schedule.  On failure returns false and writes a
 * sentence describing the problem into errbuf: a syntax error, or a
 * schedule that names no date that exists ("The schedule never fires:
 * February has no day 30.").  Leading and trailing blanks are ignored.
 */
extern bool cron_parse(const char *expr, CronSchedule *schedule,
					   char *errbuf, size_t errlen);

/* expr without leading and trailing blanks, as cron_parse() reads it (palloc'd). */
extern char *cron_trimmed(const char *expr);

/* Is the schedule fixed-time (neither minute nor hour field star)? */
extern bool cron_is_fixed_time(const CronSchedule *schedule);

/*
 * Does a broken-down local time (from pg_localtime) fall on one of the
 * schedule's minutes?  Seconds are ignored.
 */
extern bool cron_matches(const CronSchedule *schedule, const struct pg_tm *tm);

/*
 * The first firing instant of the schedule in time zone tz strictly after
 * "after", by the rules at the top of this file.  Because the firing
 * instants do not depend on "after", cron_next_after(s, f, tz) for the
 * previous firing f equals cron_next_after(s, now, tz) whenever no firing
 * lies in (f, now]: a caller that computes each next run from the previous
 * scheduled instant (not from the time a run ended) never runs a job twice
 * for one firing and never skips one.  Firings are whole seconds; they are
 * whole local minutes except a fixed-time firing at a forward jump, which
 * is the instant of the jump.
 *
 * Returns DT_NOEND only when "after" is not finite, when the next firing
 * lies beyond the timestamptz range, or for a wildcard schedule every one
 * of whose minutes falls in local times that tz skips (such as
 * "* 1 25-31 3 *\/7" in Europe/London: hour 01 of the last Sunday of March,
 * which British Summer Time skips every year).  The search covers 401
 * years, a whole cycle of the Gregorian calendar and of the zone's
 * extrapolated rules, so no schedule that cron_parse() accepts is lost to
 * the horizon (29 February on a Sunday comes 40 years after 2088).  Cost:
 * a handful of time zone lookups per daylight-saving period searched.
 */
extern TimestampTz cron_next_after(const CronSchedule *schedule,
								   TimestampTz after, pg_tz *tz);

/*
 * Look up a time zone as PostgreSQL's TimeZone setting reads it: a number
 * is hours east of UTC ("+03", "-4.5", as SET TimeZone = '+03'), anything
 * else a zone name or POSIX zone specification for pg_tzset().  NULL when
 * the zone is unknown, out of range, or uses leap seconds, and for the
 * "INTERVAL '...'" form, which SET TimeZone reads as an SQL interval (east
 * positive) and pg_tzset() would read as a POSIX string (west positive).
 */
extern pg_tz *cron_timezone(const char *name);

#endif							/* SNAPSHOT_OPS_CRON_H */
