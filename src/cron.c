/*-------------------------------------------------------------------------
 *
 * cron.c
 *		Cron expressions for the job schedules.
 *
 * The five classic fields (minute hour day-of-month month day-of-week) with
 * lists, ranges, steps and month/weekday names, plus the @hourly, @daily,
 * @weekly, @monthly and @yearly shorthands, with Vixie cron's meaning,
 * daylight-saving changes included (see cron.h for the rules).  Schedules
 * are evaluated in a time zone chosen by the caller, never silently in GMT.
 * Also the SQL function snapshot_ops.cron_next_runs(), which shows a DBA
 * (and the tests) the instants the worker will use.
 *
 * The next firing is found without walking minute by minute: the time line
 * is cut into periods of constant UTC offset (pg_next_dst_boundary()), and
 * within each period a calendar search over local wall-clock time skips
 * whole months, days and hours that the schedule does not name.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/cron.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "compat.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "cron.h"
#include "guc.h"
#include "spi_util.h"

/*
 * Search horizon of cron_next_after, in years: the Gregorian calendar and
 * the zone rules extrapolated beyond the tz database's table both repeat
 * every 400 years, so a schedule that fires at all fires within any 401.
 */
#define CRON_HORIZON_YEARS	401

/*
 * How far back cron_next_after looks for a clock change whose repeated
 * local times still cover its start (the latest local time shown before
 * the start).  The largest backward jump in the tz database is about a day
 * (Alaska, 1867).
 */
#define CRON_LOOKBACK_SECS	(3 * SECS_PER_DAY)

/* Seconds between the Unix and the PostgreSQL epochs. */
#define CRON_EPOCH_DIFF \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/* Bit n of a 32-bit mask. */
#define CRON_BIT32(n)		(((uint32) 1) << (n))

typedef struct CronField
{
	const char *name;			/* for error messages */
	int			min;
	int			max;
	const char *const *names;	/* three-letter names, index = value - min */
} CronField;

static const char *const cron_month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL
};

static const char *const cron_weekday_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

static const char *const cron_month_full_names[] = {
	"January", "February", "March", "April", "May", "June",
	"July", "August", "September", "October", "November", "December"
};

/* Longest month, February counted with its leap day. */
static const int cron_month_max_days[] = {
	31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
};

static const CronField cron_fields[5] = {
	{"minute", 0, 59, NULL},
	{"hour", 0, 23, NULL},
	{"day-of-month", 1, 31, NULL},
	{"month", 1, 12, cron_month_names},
	{"day-of-week", 0, 7, cron_weekday_names}
};

static bool cron_parse_value(const char **p, const CronField *field,
							 int *value, char *errbuf, size_t errlen);
static bool cron_parse_field(const char *text, const CronField *field,
							 uint64 *bits, char *errbuf, size_t errlen);
static bool cron_check_fires(const CronSchedule *schedule,
							 char *errbuf, size_t errlen);
static bool cron_day_matches(const CronSchedule *schedule, int mday, int wday);
static int	cron_next_bit(uint64 mask, int from);
static bool cron_next_local(const CronSchedule *schedule, int64 from,
							int64 to, int64 *result);
static bool cron_utc_offset(pg_time_t t, pg_tz *tz, long *offset);

/*
 * At most maxbytes of s for an error message, cut at a character boundary
 * of the database encoding (a cut character would make the message invalid
 * in that encoding).
 */
static char *
cron_excerpt(const char *s, int maxbytes)
{
	int			len = strlen(s);

	if (len > maxbytes)
		len = pg_mbcliplen(s, len, maxbytes);
	return pnstrdup(s, len);
}

/*
 * Read one value of a field (a number or, where the field has them, a
 * three-letter name) at *p; advance *p past it.
 */
static bool
cron_parse_value(const char **p, const CronField *field, int *value,
				 char *errbuf, size_t errlen)
{
	const char *s = *p;

	if (isdigit((unsigned char) *s))
	{
		long		v = 0;

		while (isdigit((unsigned char) *s))
		{
			if (v <= 1000)
				v = v * 10 + (*s - '0');
			s++;
		}
		if (v < field->min || v > field->max)
		{
			if (v > 1000)
				snprintf(errbuf, errlen, "%s value %.*s is out of range %d-%d.",
						 field->name, (int) Min(s - *p, 20), *p,	/* digits */
						 field->min, field->max);
			else
				snprintf(errbuf, errlen, "%s value %ld is out of range %d-%d.",
						 field->name, v, field->min, field->max);
			return false;
		}
		*value = (int) v;
		*p = s;
		return true;
	}

	if (field->names != NULL && isalpha((unsigned char) *s))
	{
		for (int i = 0; field->names[i] != NULL; i++)
		{
			if (pg_strncasecmp(s, field->names[i], 3) == 0 &&
				!isalpha((unsigned char) s[3]))
			{
				*value = field->min + i;
				*p = s + 3;
				return true;
			}
		}
	}

	snprintf(errbuf, errlen, "%s field: unexpected \"%s\".", field->name,
			 cron_excerpt(s, 10));
	return false;
}

/*
 * Parse one field (text up to the next blank) into a bit mask.
 *
 * An element is "*", a value, or a range "a-b", optionally followed by
 * "/step".  As in Vixie cron a step may exceed the range ("*\/60" is
 * minute 0 alone).  "N/step" (no range) means N to the end of the field,
 * as in croniter and cron-parser; "N-N/step" is the one value N.
 */
static bool
cron_parse_field(const char *text, const CronField *field, uint64 *bits,
				 char *errbuf, size_t errlen)
{
	const char *p = text;

	*bits = 0;

	for (;;)
	{
		int			lo,
					hi,
					step = 1;
		bool		single = false;

		if (*p == '*')
		{
			lo = field->min;
			hi = field->max;
			p++;
		}
		else
		{
			if (!cron_parse_value(&p, field, &lo, errbuf, errlen))
				return false;
			hi = lo;
			single = true;
			if (*p == '-')
			{
				p++;
				if (!cron_parse_value(&p, field, &hi, errbuf, errlen))
					return false;
				if (hi < lo)
				{
					snprintf(errbuf, errlen,
							 "%s range %d-%d is backwards.", field->name, lo, hi);
					return false;
				}
				single = false;
			}
		}

		if (*p == '/')
		{
			long		s = 0;

			p++;
			if (!isdigit((unsigned char) *p))
			{
				snprintf(errbuf, errlen, "%s field: a step must be a number.",
						 field->name);
				return false;
			}
			/* any step beyond the field's span means the same: saturate */
			while (isdigit((unsigned char) *p))
			{
				if (s <= 1000)
					s = s * 10 + (*p - '0');
				p++;
			}
			if (s < 1)
			{
				snprintf(errbuf, errlen, "%s step must be at least 1.",
						 field->name);
				return false;
			}
			step = (int) Min(s, 1000);
			/* "5/15" means "5-max/15" */
			if (single)
				hi = field->max;
		}

		for (int v = lo; v <= hi; v += step)
			*bits |= UINT64CONST(1) << v;

		if (*p == ',')
		{
			p++;
			continue;
		}
		if (*p == '\0')
			break;
		snprintf(errbuf, errlen, "%s field: unexpected \"%s\".", field->name,
				 cron_excerpt(p, 10));
		return false;
	}
	return true;
}

/*
 * Can the schedule ever fire?  Only a day-of-month restriction that no
 * month of the schedule satisfies makes it impossible: when neither day
 * field is star a day may match by its weekday instead, every month has
 * every weekday, and every date exists on every weekday within 400 years
 * (29 February included).  If it cannot, write a sentence naming the
 * impossible date.
 */
static bool
cron_check_fires(const CronSchedule *schedule, char *errbuf, size_t errlen)
{
	char		msg[256] = "The schedule never fires: ";
	char		num[16];
	int			nmonths = 0;
	int			ndays = 0;
	int			seen;

	if (!schedule->dom_star && !schedule->dow_star)
		return true;
	for (int m = 1; m <= MONTHS_PER_YEAR; m++)
	{
		/* bits 1..(longest length of month m) */
		uint32		valid = (uint32) ((UINT64CONST(1) << (cron_month_max_days[m - 1] + 1)) - 2);

		if ((schedule->months & CRON_BIT32(m)) && (schedule->days & valid))
			return true;
	}

	for (int m = 1; m <= MONTHS_PER_YEAR; m++)
		if (schedule->months & CRON_BIT32(m))
			nmonths++;
	for (int d = 1; d <= 31; d++)
		if (schedule->days & CRON_BIT32(d))
			ndays++;

	/* "February and April have no day 30 or 31." */
	seen = 0;
	for (int m = 1; m <= MONTHS_PER_YEAR; m++)
	{
		if (!(schedule->months & CRON_BIT32(m)))
			continue;
		if (++seen > 1)
			strlcat(msg, seen == nmonths ? " and " : ", ", sizeof(msg));
		strlcat(msg, cron_month_full_names[m - 1], sizeof(msg));
	}
	strlcat(msg, nmonths == 1 ? " has no day " : " have no day ", sizeof(msg));
	seen = 0;
	for (int d = 1; d <= 31; d++)
	{
		if (!(schedule->days & CRON_BIT32(d)))
			continue;
		if (++seen > 1)
			strlcat(msg, seen == ndays ? " or " : ", ", sizeof(msg));
		snprintf(num, sizeof(num), "%d", d);
		strlcat(msg, num, sizeof(msg));
	}
	strlcat(msg, ".", sizeof(msg));
	strlcpy(errbuf, msg, errlen);
	return false;
}

/*
 * Parse a cron expression.  See cron.h.
 */
bool
cron_parse(const char *expr, CronSchedule *schedule, char *errbuf, size_t errlen)
{
	char		buf[CRON_MAX_LENGTH + 1];
	char	   *fields[5];
	int			nfields = 0;
	char	   *p;
	size_t		len;
	uint64		bits[5];

	memset(schedule, 0, sizeof(CronSchedule));

	if (expr == NULL)
	{
		snprintf(errbuf, errlen, "A schedule must not be null.");
		return false;
	}

	/* surrounding blanks mean nothing and do not count toward the limit */
	while (isspace((unsigned char) *expr))
		expr++;
	len = strlen(expr);
	while (len > 0 && isspace((unsigned char) expr[len - 1]))
		len--;
	if (len > CRON_MAX_LENGTH)
	{
		snprintf(errbuf, errlen, "A schedule is at most %d characters long.",
				 CRON_MAX_LENGTH);
		return false;
	}
	memcpy(buf, expr, len);
	buf[len] = '\0';

	if (buf[0] == '@')
	{
		static const struct
		{
			const char *alias;
			const char *expansion;
		}			aliases[] = {
			{"@yearly", "0 0 1 1 *"},
			{"@annually", "0 0 1 1 *"},
			{"@monthly", "0 0 1 * *"},
			{"@weekly", "0 0 * * 0"},
			{"@daily", "0 0 * * *"},
			{"@midnight", "0 0 * * *"},
			{"@hourly", "0 * * * *"}
		};

		for (int i = 0; i < (int) lengthof(aliases); i++)
			if (pg_strcasecmp(buf, aliases[i].alias) == 0)
				return cron_parse(aliases[i].expansion, schedule, errbuf, errlen);
		if (pg_strcasecmp(buf, "@reboot") == 0)
			snprintf(errbuf, errlen,
					 "@reboot is not supported: the jobs run on a clock, and a run missed while the server was down runs once after start-up.");
		else
			snprintf(errbuf, errlen,
					 "Unknown shorthand \"%s\"; use @hourly, @daily, @weekly, @monthly or @yearly.",
					 cron_excerpt(buf, 20));
		return false;
	}

	p = buf;
	while (*p != '\0')
	{
		while (isspace((unsigned char) *p))
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (nfields == 5)
		{
			snprintf(errbuf, errlen,
					 "A schedule has exactly five fields (minute hour day-of-month month day-of-week).");
			return false;
		}
		fields[nfields++] = p;
		while (*p != '\0' && !isspace((unsigned char) *p))
			p++;
	}
	if (nfields != 5)
	{
		snprintf(errbuf, errlen,
				 "A schedule has exactly five fields (minute hour day-of-month month day-of-week); found %d.",
				 nfields);
		return false;
	}

	for (int i = 0; i < 5; i++)
		if (!cron_parse_field(fields[i], &cron_fields[i], &bits[i],
							  errbuf, errlen))
			return false;

	schedule->minutes = bits[0];
	schedule->hours = (uint32) bits[1];
	schedule->days = (uint32) bits[2];
	schedule->months = (uint32) bits[3];
	/* 7 is another name for Sunday */
	schedule->weekdays = (uint32) ((bits[4] | (bits[4] >> 7)) & 0x7F);
	/* Vixie cron: a field is "star" when it starts with '*' */
	schedule->minute_star = (fields[0][0] == '*');
	schedule->hour_star = (fields[1][0] == '*');
	schedule->dom_star = (fields[2][0] == '*');
	schedule->dow_star = (fields[4][0] == '*');

	return cron_check_fires(schedule, errbuf, errlen);
}

/*
 * Fixed-time or wildcard?  See cron.h.
 */
bool
cron_is_fixed_time(const CronSchedule *schedule)
{
	return !schedule->minute_star && !schedule->hour_star;
}

/*
 * Does a day (day of month 1..31, weekday 0..6) fall on the schedule?  When
 * either day field is star both must match, otherwise either (Vixie cron).
 */
static bool
cron_day_matches(const CronSchedule *schedule, int mday, int wday)
{
	bool		mday_ok = (schedule->days & CRON_BIT32(mday)) != 0;
	bool		wday_ok = (schedule->weekdays & CRON_BIT32(wday)) != 0;

	if (schedule->dom_star || schedule->dow_star)
		return mday_ok && wday_ok;
	return mday_ok || wday_ok;
}

/*
 * Does a broken-down local time fall on the schedule?  See cron.h.
 */
bool
cron_matches(const CronSchedule *schedule, const struct pg_tm *tm)
{
	return cron_day_matches(schedule, tm->tm_mday, tm->tm_wday) &&
		(schedule->months & CRON_BIT32(tm->tm_mon + 1)) != 0 &&
		(schedule->hours & CRON_BIT32(tm->tm_hour)) != 0 &&
		(schedule->minutes & (UINT64CONST(1) << tm->tm_min)) != 0;
}

/*
 * The lowest bit set in mask at position "from" or above; -1 if none.
 */
static int
cron_next_bit(uint64 mask, int from)
{
	if (from >= 64)
		return -1;
	mask &= ~((UINT64CONST(1) << from) - 1);
	if (mask == 0)
		return -1;
	return pg_rightmost_one_pos64(mask);
}

/*
 * Calendar search in local wall-clock time: the first whole minute m with
 * from <= m < to that the schedule names, where times are seconds since
 * 1970-01-01 00:00 of the local calendar (as if local time were UTC).
 * Months, days and hours that the schedule does not name are skipped
 * whole, so the cost grows with the number of named days searched, not
 * with the length of the interval.
 */
static bool
cron_next_local(const CronSchedule *schedule, int64 from, int64 to,
				int64 *result)
{
	bool		and_days = schedule->dom_star || schedule->dow_star;
	int64		minute_no;
	int64		day;
	int			hour;
	int			minute;
	int			year,
				month,
				mday;

	if (from >= to)
		return false;

	/* the first whole minute at or after "from" */
	minute_no = from / SECS_PER_MINUTE;
	if (minute_no * SECS_PER_MINUTE < from)
		minute_no++;
	day = minute_no / MINS_PER_HOUR / HOURS_PER_DAY;
	if (day * MINS_PER_HOUR * HOURS_PER_DAY > minute_no)
		day--;
	hour = (int) ((minute_no - day * MINS_PER_HOUR * HOURS_PER_DAY) / MINS_PER_HOUR);
	minute = (int) ((minute_no - day * MINS_PER_HOUR * HOURS_PER_DAY) % MINS_PER_HOUR);
	j2date((int) (day + UNIX_EPOCH_JDATE), &year, &month, &mday);

	for (;;)
	{
		int			next;

		if (((day * HOURS_PER_DAY + hour) * MINS_PER_HOUR + minute) * SECS_PER_MINUTE >= to)
			return false;

		if (!(schedule->months & CRON_BIT32(month)))
		{
			/* first day of the next month */
			if (++month > MONTHS_PER_YEAR)
			{
				month = 1;
				year++;
			}
			mday = 1;
			day = date2j(year, month, 1) - UNIX_EPOCH_JDATE;
			hour = minute = 0;
			continue;
		}

		if (!cron_day_matches(schedule, mday, j2day((int) (day + UNIX_EPOCH_JDATE))))
		{
			/* when the day of month must match, go straight to the next one */
			if (and_days)
				next = cron_next_bit(schedule->days, mday + 1);
			else
				next = mday + 1;
			if (next < 0 || next > day_tab[isleap(year)][month - 1])
			{
				if (++month > MONTHS_PER_YEAR)
				{
					month = 1;
					year++;
				}
				next = 1;
			}
			mday = next;
			day = date2j(year, month, mday) - UNIX_EPOCH_JDATE;
			hour = minute = 0;
			continue;
		}

		next = cron_next_bit(schedule->hours, hour);
		if (next != hour)
		{
			if (next < 0)
			{
				/* the next day */
				day++;
				j2date((int) (day + UNIX_EPOCH_JDATE), &year, &month, &mday);
				hour = minute = 0;
				continue;
			}
			hour = next;
			minute = 0;
		}

		next = cron_next_bit(schedule->minutes, minute);
		if (next < 0)
		{
			/* the next hour */
			minute = 0;
			if (++hour == HOURS_PER_DAY)
			{
				day++;
				j2date((int) (day + UNIX_EPOCH_JDATE), &year, &month, &mday);
				hour = 0;
			}
			continue;
		}
		minute = next;

		*result = ((day * HOURS_PER_DAY + hour) * MINS_PER_HOUR + minute) * SECS_PER_MINUTE;
		return *result < to;
	}
}

/*
 * The UTC offset (seconds east) of time zone tz at instant t; false when
 * t is beyond what the time zone library can convert.
 */
static bool
cron_utc_offset(pg_time_t t, pg_tz *tz, long *offset)
{
	struct pg_tm *tm = pg_localtime(&t, tz);

	if (tm == NULL)
		return false;
	*offset = tm->tm_gmtoff;
	return true;
}

/*
 * The first firing instant strictly after "after".  See cron.h for the
 * rules; here is how they are applied.
 *
 * The time line from the first whole second after "after" is cut into
 * periods [start, end) of constant UTC offset "off", where the local time
 * runs from start + off to end + off.  "hwm" is the latest local time shown
 * before the period (P(start) in cron.h).  In a period:
 *
 *	- a wildcard schedule fires at m - off for the first named minute m in
 *	  [start + off, end + off);
 *	- a fixed-time schedule fires for the first named minute m in
 *	  (hwm, end + off): at m - off, or at "start" itself when m lies before
 *	  start + off, that is in the local times a forward jump skipped.  Local
 *	  times at or before hwm were shown before (the clock went back over
 *	  them), so they do not fire again.
 */
TimestampTz
cron_next_after(const CronSchedule *schedule, TimestampTz after, pg_tz *tz)
{
	bool		fixed = cron_is_fixed_time(schedule);
	pg_time_t	start;
	pg_time_t	limit;
	pg_time_t	t;
	int64		hwm;
	long		off;

	if (TIMESTAMP_NOT_FINITE(after))
		return DT_NOEND;

	/* the first whole second strictly after "after" */
	start = after / USECS_PER_SEC;
	if (start * USECS_PER_SEC > after)
		start--;
	start += CRON_EPOCH_DIFF + 1;
	limit = start + (pg_time_t) CRON_HORIZON_YEARS * DAYS_PER_YEAR * SECS_PER_DAY;

	/*
	 * The latest local time before "start": that of the second before it,
	 * or the last second before a recent backward jump.
	 */
	if (!cron_utc_offset(start - 1, tz, &off))
		return DT_NOEND;
	hwm = start - 1 + off;
	t = start - CRON_LOOKBACK_SECS;
	for (;;)
	{
		long		before_off,
					after_off;
		int			before_isdst,
					after_isdst;
		pg_time_t	boundary;

		if (pg_next_dst_boundary(&t, &before_off, &before_isdst, &boundary,
								 &after_off, &after_isdst, tz) != 1 ||
			boundary >= start)
			break;
		if (!cron_utc_offset(boundary - 1, tz, &off))
			return DT_NOEND;
		hwm = Max(hwm, boundary - 1 + off);
		t = boundary;
	}

	/* period by period */
	while (start < limit)
	{
		long		before_off,
					after_off;
		int			before_isdst,
					after_isdst;
		pg_time_t	boundary;
		pg_time_t	end = limit;
		int64		m;

		CHECK_FOR_INTERRUPTS();

		if (!cron_utc_offset(start, tz, &off))
			return DT_NOEND;
		if (pg_next_dst_boundary(&start, &before_off, &before_isdst, &boundary,
								 &after_off, &after_isdst, tz) == 1 &&
			boundary < limit)
			end = boundary;

		if (fixed ?
			cron_next_local(schedule, hwm + 1, end + off, &m) :
			cron_next_local(schedule, start + off, end + off, &m))
		{
			pg_time_t	fire = Max(start, m - off);
			TimestampTz result;

			result = (TimestampTz) (fire - CRON_EPOCH_DIFF) * USECS_PER_SEC;
			if (!IS_VALID_TIMESTAMP(result))
				return DT_NOEND;
			return result;
		}

		hwm = Max(hwm, end - 1 + off);
		start = end;
	}
	return DT_NOEND;
}

char *
cron_trimmed(const char *expr)
{
	size_t		len;

	while (isspace((unsigned char) *expr))
		expr++;
	len = strlen(expr);
	while (len > 0 && isspace((unsigned char) expr[len - 1]))
		len--;
	return pnstrdup(expr, len);
}

/*
 * Look up a time zone the way the TimeZone setting does.  See cron.h.
 */
pg_tz *
cron_timezone(const char *name)
{
	pg_tz	   *tz;
	char	   *end;
	double		hours;

	if (name == NULL || name[0] == '\0')
		return NULL;

	/*
	 * SET TimeZone reads "INTERVAL '+03:00'" as an SQL interval, pg_tzset()
	 * as a POSIX zone of the opposite sign: refused rather than misread.
	 */
	while (isspace((unsigned char) *name))
		name++;
	if (pg_strncasecmp(name, "interval", 8) == 0)
		return NULL;

	/* a number of hours, east of UTC positive (SQL, not POSIX, sign) */
	hours = strtod(name, &end);
	if (end != name && *end == '\0')
	{
		if (!isfinite(hours) || fabs(hours) >= 168)
			return NULL;
		return pg_tzset_offset((long) (-hours * SECS_PER_HOUR));
	}

	tz = pg_tzset(name);
	if (tz == NULL || !pg_tz_acceptable(tz))
		return NULL;
	return tz;
}

PG_FUNCTION_INFO_V1(snapshot_ops_cron_next_runs);

/*
 * snapshot_ops.cron_next_runs(schedule text, after timestamptz, count integer,
 *							   timezone text)
 *		RETURNS SETOF timestamptz
 *
 * The next "count" firing instants of a schedule after a given time, in the
 * given time zone; NULL or '' means the zone the worker uses
 * (so_schedule_timezone()).  These are the instants the worker runs a job
 * at.  Raises an error that says what is wrong with an invalid expression
 * or one that can never fire.
 */
Datum
snapshot_ops_cron_next_runs(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *expr;
	TimestampTz after;
	int32		count;
	pg_tz	   *tz;
	CronSchedule schedule;
	char		errbuf[256];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("schedule, start time and count must not be null")));

	expr = text_to_cstring(PG_GETARG_TEXT_PP(0));
	after = PG_GETARG_TIMESTAMPTZ(1);
	count = PG_GETARG_INT32(2);

	if (count < 0 || count > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("count must be between 0 and 1000")));

	if (PG_ARGISNULL(3) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(3)) == 0)
		tz = so_schedule_timezone();
	else
	{
		char	   *tzname = text_to_cstring(PG_GETARG_TEXT_PP(3));

		tz = cron_timezone(tzname);
		if (tz == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("time zone \"%s\" is not recognized", so_clip(tzname, -1)),
					 errhint("Use a name from pg_timezone_names, a number of hours east of UTC such as \"+03\", or an empty string for the zone the worker uses (the INTERVAL form of TimeZone is not accepted).")));
	}

	if (!cron_parse(expr, &schedule, errbuf, sizeof(errbuf)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid cron schedule \"%s\"", so_clip(expr, -1)),
				 errdetail("%s", errbuf),
				 errhint("A schedule is five fields, minute hour day-of-month month day-of-week, for example \"0 2 * * *\".")));

	so_init_materialized_srf(fcinfo, MAT_SRF_USE_EXPECTED_DESC | MAT_SRF_BLESS);

	for (int i = 0; i < count; i++)
	{
		Datum		value;
		bool		isnull = false;

		CHECK_FOR_INTERRUPTS();
		after = cron_next_after(&schedule, after, tz);
		if (after == DT_NOEND)
			break;
		value = TimestampTzGetDatum(after);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	return (Datum) 0;
}
