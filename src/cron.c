/*-------------------------------------------------------------------------
 *
 * cron.c
 *		Cron expressions for the job schedules.
 *
 * The five classic fields (minute hour day-of-month month day-of-week) with
 * lists, ranges, steps and month/weekday names, plus the @hourly, @daily,
 * @weekly, @monthly and @yearly shorthands.  Schedules are evaluated in a
 * time zone chosen by the caller (snapshot_ops.timezone), never silently in
 * GMT.  Also the SQL function snapshot_ops.cron_next_runs(), which lets a DBA
 * (and the regression tests) see what an expression means.
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

#include "compat.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "cron.h"
#include "guc.h"
#include "spi_util.h"

/* Search horizon of cron_next_after: five years of hours and minutes. */
#define CRON_HORIZON_DAYS	(5 * 366)

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

static const CronField cron_fields[5] = {
	{"minute", 0, 59, NULL},
	{"hour", 0, 23, NULL},
	{"day-of-month", 1, 31, NULL},
	{"month", 1, 12, cron_month_names},
	{"day-of-week", 0, 7, cron_weekday_names}
};

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
			v = v * 10 + (*s - '0');
			if (v > 1000)
				break;
			s++;
		}
		if (v < field->min || v > field->max)
		{
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

	snprintf(errbuf, errlen, "%s field: unexpected \"%.10s\".", field->name, s);
	return false;
}

/*
 * Parse one field (text up to the next blank) into a bit mask.  *star is set
 * when the field is an unrestricted "*".
 */
static bool
cron_parse_field(const char *text, const CronField *field, uint64 *bits,
				 bool *star, char *errbuf, size_t errlen)
{
	const char *p = text;

	*bits = 0;
	*star = (strcmp(text, "*") == 0);

	for (;;)
	{
		int			lo,
					hi,
					step = 1;

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
			while (isdigit((unsigned char) *p) && s <= 1000)
				s = s * 10 + (*p++ - '0');
			if (s < 1 || s > field->max)
			{
				snprintf(errbuf, errlen, "%s step %ld is out of range 1-%d.",
						 field->name, s, field->max);
				return false;
			}
			step = (int) s;
			/* "5/15" means "5-max/15", as in Vixie cron */
			if (lo == hi)
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
		snprintf(errbuf, errlen, "%s field: unexpected \"%.10s\".", field->name, p);
		return false;
	}
	return true;
}

/*
 * Parse a cron expression.  See cron.h.
 */
bool
cron_parse(const char *expr, CronSchedule *schedule, char *errbuf, size_t errlen)
{
	char		buf[256];
	char	   *fields[5];
	int			nfields = 0;
	char	   *p;
	uint64		bits[5];
	bool		star[5];

	memset(schedule, 0, sizeof(CronSchedule));

	if (expr == NULL)
	{
		snprintf(errbuf, errlen, "A schedule must not be null.");
		return false;
	}
	while (isspace((unsigned char) *expr))
		expr++;
	if (strlen(expr) >= sizeof(buf))
	{
		snprintf(errbuf, errlen, "A schedule is at most %d characters long.",
				 (int) sizeof(buf) - 1);
		return false;
	}

	if (expr[0] == '@')
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

		strlcpy(buf, expr, sizeof(buf));
		for (p = buf + strlen(buf); p > buf && isspace((unsigned char) p[-1]); p--)
			p[-1] = '\0';
		for (int i = 0; i < (int) lengthof(aliases); i++)
			if (pg_strcasecmp(buf, aliases[i].alias) == 0)
				return cron_parse(aliases[i].expansion, schedule, errbuf, errlen);
		snprintf(errbuf, errlen,
				 "Unknown shorthand \"%s\"; use @hourly, @daily, @weekly, @monthly or @yearly.",
				 buf);
		return false;
	}

	strlcpy(buf, expr, sizeof(buf));
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
		if (!cron_parse_field(fields[i], &cron_fields[i], &bits[i], &star[i],
							  errbuf, errlen))
			return false;

	schedule->minutes = bits[0];
	schedule->hours = (uint32) bits[1];
	schedule->days = (uint32) bits[2];
	schedule->months = (uint32) bits[3];
	/* 7 is another name for Sunday */
	schedule->weekdays = (uint32) ((bits[4] | (bits[4] >> 7)) & 0x7F);
	schedule->days_restricted = !star[2];
	schedule->weekdays_restricted = !star[4];
	return true;
}

/*
 * Does a broken-down local time fall on the schedule?  See cron.h.
 */
bool
cron_matches(const CronSchedule *schedule, const struct pg_tm *tm)
{
	bool		day_ok;
	bool		mday = (schedule->days & (((uint32) 1) << tm->tm_mday)) != 0;
	bool		wday = (schedule->weekdays & (((uint32) 1) << tm->tm_wday)) != 0;

	if (schedule->days_restricted && schedule->weekdays_restricted)
		day_ok = mday || wday;
	else
		day_ok = mday && wday;

	return day_ok &&
		(schedule->months & (((uint32) 1) << (tm->tm_mon + 1))) != 0 &&
		(schedule->hours & (((uint32) 1) << tm->tm_hour)) != 0 &&
		(schedule->minutes & (UINT64CONST(1) << tm->tm_min)) != 0;
}

/*
 * Next matching minute after "after".  Walks forward in UTC, looking at the
 * local time of each candidate, so that daylight-saving changes are handled
 * by the time zone library: a local time that does not exist is skipped, and
 * no minute is visited twice.  Non-matching hours are skipped whole.
 */
TimestampTz
cron_next_after(const CronSchedule *schedule, TimestampTz after, pg_tz *tz)
{
	TimestampTz ts;
	TimestampTz limit;

	if (TIMESTAMP_NOT_FINITE(after))
		return DT_NOEND;

	/* first whole minute strictly after "after" */
	ts = after - (after % USECS_PER_MINUTE);
	if (after < 0 && after % USECS_PER_MINUTE != 0)
		ts -= USECS_PER_MINUTE;
	ts += USECS_PER_MINUTE;
	limit = ts + (TimestampTz) CRON_HORIZON_DAYS * USECS_PER_DAY;

	while (ts < limit)
	{
		pg_time_t	t = timestamptz_to_time_t(ts);
		struct pg_tm *tm = pg_localtime(&t, tz);
		struct pg_tm day_tm;

		if (tm == NULL)
			return DT_NOEND;

		if (cron_matches(schedule, tm))
			return ts;

		/* Is any minute of this local hour a candidate? */
		day_tm = *tm;
		day_tm.tm_min = 0;
		if (schedule->minutes != 0 && (schedule->hours & (((uint32) 1) << tm->tm_hour)) != 0)
		{
			bool		hour_possible;
			CronSchedule any_minute = *schedule;

			any_minute.minutes = ~UINT64CONST(0);
			hour_possible = cron_matches(&any_minute, &day_tm);
			if (hour_possible)
			{
				ts += USECS_PER_MINUTE;
				continue;
			}
		}
		/* skip to the start of the next local hour */
		ts += (TimestampTz) (60 - tm->tm_min) * USECS_PER_MINUTE;
	}
	return DT_NOEND;
}

PG_FUNCTION_INFO_V1(snapshot_ops_cron_next_runs);

/*
 * snapshot_ops.cron_next_runs(schedule text, after timestamptz, count integer,
 *							   timezone text)
 *		RETURNS SETOF timestamptz
 *
 * The next "count" run times of a schedule after a given time, in the given
 * time zone (default: snapshot_ops.timezone).  Raises an error that says
 * what is wrong with an invalid expression.
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

	if (PG_ARGISNULL(3))
		tz = so_schedule_timezone();
	else
	{
		char	   *tzname = text_to_cstring(PG_GETARG_TEXT_PP(3));

		tz = pg_tzset(tzname);
		if (tz == NULL || !pg_tz_acceptable(tz))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("time zone \"%s\" is not recognized", so_clip(tzname, -1))));
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
