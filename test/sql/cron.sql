--
-- Cron schedules: the parser and next-run computation the worker uses,
-- through snapshot_ops.cron_next_runs(), and the check of the schedule
-- parameters.
--
CREATE EXTENSION snapshot_ops;
SET timezone = 'UTC';
SET snapshot_ops.timezone = 'UTC';

-- every quarter hour: strictly after the start time
SELECT snapshot_ops.cron_next_runs('*/15 * * * *', '2026-01-01 00:07', 3);
SELECT snapshot_ops.cron_next_runs('*/15 * * * *', '2026-01-01 00:15', 1);

-- the default cleanup schedule, daily at 02:00: not at 02:00 itself
SELECT snapshot_ops.cron_next_runs('0 2 * * *', '2026-01-01 02:00', 2);

-- lists in two fields
SELECT snapshot_ops.cron_next_runs('5,10 1,13 * * *', '2026-01-01 00:00', 5);

-- a range, and a step over a range
SELECT snapshot_ops.cron_next_runs('0 9-11 * * *', '2026-01-01 00:00', 4);
SELECT snapshot_ops.cron_next_runs('0 0-12/6 * * *', '2026-01-01 00:00', 4);
-- "N/step" starts at N and runs to the end of the field
SELECT snapshot_ops.cron_next_runs('50/5 3 * * *', '2026-01-01 00:00', 3);

-- names of months and days: Mondays of January and July at midnight
-- (2026-01-01 is a Thursday)
SELECT snapshot_ops.cron_next_runs('0 0 * jan,jul mon', '2026-01-01 00:00', 5);
SELECT snapshot_ops.cron_next_runs('0 0 * JAN,JUL MON', '2026-01-01 00:00', 5)
	= snapshot_ops.cron_next_runs('0 0 * 1,7 1', '2026-01-01 00:00', 5) AS same;

-- day-of-month and day-of-week both restricted: either matches (the 13th
-- of each month, and every Friday)
SELECT snapshot_ops.cron_next_runs('0 0 13 * fri', '2026-03-01 00:00', 8);

-- only the day of month restricted: the 31st skips short months
SELECT snapshot_ops.cron_next_runs('0 0 31 * *', '2026-01-01 00:00', 3);

-- 7 and 0 are both Sunday; the default vacuum schedule is Sunday 01:00
SELECT array_agg(t) FROM snapshot_ops.cron_next_runs('0 1 * * 7', '2026-01-01', 3) t;
SELECT array_agg(t) FROM snapshot_ops.cron_next_runs('0 1 * * 0', '2026-01-01', 3) t;

-- shorthands
SELECT snapshot_ops.cron_next_runs('@daily', '2026-01-01 12:00', 2);
SELECT snapshot_ops.cron_next_runs('@hourly', '2026-01-01 12:00', 2);
SELECT snapshot_ops.cron_next_runs('@weekly', '2026-01-01 12:00', 1);

-- 29 February: only leap years
SELECT snapshot_ops.cron_next_runs('0 0 29 2 *', '2026-01-01', 2);

-- count 0 returns nothing
SELECT count(*) FROM snapshot_ops.cron_next_runs('* * * * *', '2026-01-01', 0);

-- Time zones: 02:30 local time in Berlin.  In UTC that is 01:30 in winter
-- and 00:30 in summer.  On 2026-03-29 clocks jump from 02:00 to 03:00, so
-- 02:30 does not exist that day: the job runs once, at the jump (01:00 UTC,
-- 03:00 local), as in Vixie cron.
SELECT snapshot_ops.cron_next_runs('30 2 * * *', '2026-03-27 12:00', 3, 'Europe/Berlin');
-- The time zone comes from snapshot_ops.timezone when not given
SET snapshot_ops.timezone = 'Asia/Tokyo';
SELECT snapshot_ops.cron_next_runs('0 9 * * *', '2026-01-01 00:00', 1);
SET snapshot_ops.timezone = 'UTC';
-- On 2026-10-25 clocks go back from 03:00 to 02:00 in Berlin; a run at
-- 03:15 local time happens once, at 02:15 UTC.
SELECT snapshot_ops.cron_next_runs('15 3 * * *', '2026-10-24 12:00', 2, 'Europe/Berlin');

-- Each run below as UTC and as local time in the zone asked for.
CREATE FUNCTION pg_temp.runs(expr text, after timestamptz, n integer, zone text)
RETURNS TABLE(utc text, local text) LANGUAGE sql AS $$
	SELECT to_char(r AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
		   to_char(r AT TIME ZONE zone, 'Dy YYYY-MM-DD HH24:MI')
	  FROM snapshot_ops.cron_next_runs(expr, after, n, zone) WITH ORDINALITY AS x(r, i)
	 ORDER BY i
$$;

--
-- Issue 13, finding 1: a fixed-time job (neither minute nor hour starts
-- with '*') runs once per local night.  On 2026-11-01 New York repeats
-- 01:00-01:59: 01:30 runs at its first occurrence (05:30 UTC, EDT) only.
--
SELECT * FROM pg_temp.runs('30 1 * * *', '2026-10-31 12:00-04', 4, 'America/New_York');
-- on 2026-03-08 New York skips 02:00-02:59: 02:30 runs once, at the jump
SELECT * FROM pg_temp.runs('30 2 * * *', '2026-03-07 12:00-05', 3, 'America/New_York');
-- the default cleanup (0 2 * * *) and vacuum (0 1 * * 0) in New York,
-- London and Berlin, across both changes of 2026: one run a night each
SELECT * FROM pg_temp.runs('0 2 * * *', '2026-03-07 12:00-05', 3, 'America/New_York');
SELECT * FROM pg_temp.runs('0 2 * * *', '2026-10-31 12:00-04', 3, 'America/New_York');
SELECT * FROM pg_temp.runs('0 1 * * 0', '2026-10-30 00:00+00', 2, 'America/New_York');
SELECT * FROM pg_temp.runs('0 1 * * 0', '2026-03-27 00:00+00', 2, 'Europe/London');
SELECT * FROM pg_temp.runs('0 1 * * 0', '2026-10-23 00:00+00', 2, 'Europe/London');
SELECT * FROM pg_temp.runs('0 2 * * *', '2026-03-28 12:00+00', 2, 'Europe/Berlin');
SELECT * FROM pg_temp.runs('0 2 * * *', '2026-10-24 12:00+00', 2, 'Europe/Berlin');
-- several fixed times skipped by one jump: one run at the jump (Vixie cron
-- would run the job twice, back to back)
SELECT * FROM pg_temp.runs('0,30 2 * * *', '2026-03-08 00:00-05', 3, 'America/New_York');
-- wildcard jobs follow the clock: both passes of the repeated hour...
SELECT * FROM pg_temp.runs('*/30 1 * * *', '2026-11-01 00:00-04', 5, 'America/New_York');
SELECT * FROM pg_temp.runs('30 * * * *', '2026-11-01 00:00-04', 4, 'America/New_York');
-- ... and nothing in the skipped hour
SELECT * FROM pg_temp.runs('*/30 2 * * *', '2026-03-07 12:00-05', 3, 'America/New_York');
SELECT * FROM pg_temp.runs('@hourly', '2026-03-08 00:30-05', 3, 'America/New_York');
-- the runs after a repeated local time are the same whether counted from
-- the previous run or from any instant before the next one
SELECT (SELECT r FROM snapshot_ops.cron_next_runs('30 1 * * *', '2026-11-01 05:30+00', 1, 'America/New_York') r)
	 = (SELECT r FROM snapshot_ops.cron_next_runs('30 1 * * *', '2026-11-01 06:45+00', 1, 'America/New_York') r)
	AS same_next_run;

--
-- Finding 2: zones whose clocks change at odd minutes or by 30 minutes.
-- Pacific/Chatham skips 02:45-03:44 on 2026-09-27 and repeats 02:45-03:44
-- on 2026-04-05; Australia/Lord_Howe skips 02:00-02:29 on 2026-10-04 and
-- repeats 01:30-01:59 on 2026-04-05.
--
SELECT * FROM pg_temp.runs('50 2 * * *', '2026-09-26 00:00+00', 3, 'Pacific/Chatham');
SELECT * FROM pg_temp.runs('46 3 * * *', '2026-09-26 00:00+00', 2, 'Pacific/Chatham');
SELECT * FROM pg_temp.runs('0 3 * * *', '2026-04-04 00:00+00', 2, 'Pacific/Chatham');
SELECT * FROM pg_temp.runs('*/20 3 * * *', '2026-04-04 12:00+00', 7, 'Pacific/Chatham');
SELECT * FROM pg_temp.runs('15 2 * * *', '2026-10-03 00:00+00', 3, 'Australia/Lord_Howe');
SELECT * FROM pg_temp.runs('45 1 * * *', '2026-04-04 00:00+00', 2, 'Australia/Lord_Howe');
SELECT * FROM pg_temp.runs('*/15 1 * * *', '2026-04-04 12:00+00', 7, 'Australia/Lord_Howe');

--
-- Finding 3: a day field that starts with '*' counts as unrestricted, so
-- both day fields must match: 0 0 */2 * 1 runs on odd-numbered Mondays.
--
SELECT * FROM pg_temp.runs('0 0 */2 * 1', '2026-01-01 00:00+00', 5, 'UTC');
SELECT * FROM pg_temp.runs('0 0 */1 * 1', '2026-01-01 00:00+00', 3, 'UTC');
SELECT * FROM pg_temp.runs('0 0 1 * */1', '2026-01-01 00:00+00', 3, 'UTC');
-- neither starts with '*': either matches (the 1st, and every Sunday)
SELECT * FROM pg_temp.runs('0 0 1 * 0', '2026-01-26 00:00+00', 3, 'UTC');

--
-- Finding 4: a range of one value with a step is that value.
--
SELECT * FROM pg_temp.runs('0-0/1 * * * *', '2026-01-01 00:00+00', 3, 'UTC');
SELECT * FROM pg_temp.runs('0 2-2/1 * * *', '2026-01-01 00:00+00', 3, 'UTC');
SELECT * FROM pg_temp.runs('5-5/15 3 * * *', '2026-01-01 00:00+00', 2, 'UTC');
-- while "N/step" still runs to the end of the field
SELECT * FROM pg_temp.runs('5/15 3 * * *', '2026-01-01 00:00+00', 5, 'UTC');

--
-- Finding 5: a schedule that can never fire is refused wherever a schedule
-- is accepted, naming the date.
--
SELECT snapshot_ops.cron_next_runs('0 2 30 2 *');
SELECT snapshot_ops.cron_next_runs('0 2 31 4,6,9,11 *');
SELECT snapshot_ops.cron_next_runs('0 2 30,31 feb *');
-- day-of-week starts with '*', so both day fields must match: never
SELECT snapshot_ops.cron_next_runs('0 2 30 2 */2');
SET snapshot_ops.cleanup_schedule = '0 2 30 2 *';
SET snapshot_ops.vacuum_schedule = '0 2 31 4,6,9,11 *';
DO $$
BEGIN
	EXECUTE format('ALTER DATABASE %I SET snapshot_ops.cleanup_schedule = %L',
				   current_database(), '0 2 30 2 *');
END
$$;
-- either day field may match: Mondays of February
SELECT * FROM pg_temp.runs('0 2 30 2 mon', '2026-01-01 00:00+00', 2, 'UTC');
-- 29 February across 2100 (not a leap year), and 29 February on a Sunday
-- (40 years from 2088 to 2128)
SELECT * FROM pg_temp.runs('0 0 29 2 *', '2096-03-01 00:00+00', 2, 'UTC');
SELECT * FROM pg_temp.runs('0 0 29 2 */7', '2033-01-01 00:00+00', 3, 'UTC');

--
-- Finding 6: every next run shown uses the worker's zone, whatever the
-- session's TimeZone: snapshot_ops.timezone, else the server's TimeZone
-- from postgresql.conf (no zone and '' alike).
--
RESET snapshot_ops.timezone;
SET TimeZone = 'Asia/Tokyo';
SELECT (SELECT array_agg(r) FROM snapshot_ops.cron_next_runs('16 18 * * *', '2026-01-01 00:00+00', 3) r)
	 = (SELECT array_agg(r)
		  FROM snapshot_ops.cron_next_runs('16 18 * * *', '2026-01-01 00:00+00', 3,
			   (SELECT setting FROM pg_file_settings
				 WHERE name = 'timezone' AND applied ORDER BY seqno DESC LIMIT 1)) r)
	AS server_zone;
SELECT (SELECT array_agg(r) FROM snapshot_ops.cron_next_runs('16 18 * * *', '2026-01-01 00:00+00', 3, '') r)
	 = (SELECT array_agg(r) FROM snapshot_ops.cron_next_runs('16 18 * * *', '2026-01-01 00:00+00', 3) r)
	AS empty_is_worker_zone;
SELECT count(*) FROM snapshot_ops.cron_next_runs('16 18 * * *', now(), 5,
													current_setting('snapshot_ops.timezone'));
SELECT bool_and(j.next_run = (SELECT r FROM snapshot_ops.cron_next_runs(j.schedule, now(), 1) r))
	AS jobs_view_agrees
  FROM snapshot_ops.jobs j;
SET snapshot_ops.timezone = 'America/New_York';
SELECT to_char(r AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS utc
  FROM snapshot_ops.cron_next_runs('16 18 * * *', '2026-01-01 00:00+00', 1) r;
SET TimeZone = 'UTC';
SET snapshot_ops.timezone = 'UTC';

--
-- Finding 7: decisions.
--
-- (a) a step larger than its field selects the first value, as in every
-- cron: */60 is minute 0
SELECT * FROM pg_temp.runs('*/60 * * * *', '2026-01-01 00:00+00', 3, 'UTC');
SELECT * FROM pg_temp.runs('0 */24 * * *', '2026-01-01 00:00+00', 2, 'UTC');
-- (b) blanks around a schedule are ignored and do not count toward the
-- limit of 255 characters
SELECT * FROM pg_temp.runs(repeat(' ', 300) || '0 2 * * *' || repeat(' ', 300), '2026-01-01 00:00+00', 1, 'UTC');
SET snapshot_ops.cleanup_schedule = '   0 2 * * *   ';
SELECT length('0' || repeat(',0', 123) || ' 2 * * *') AS len,
	   count(*) FROM snapshot_ops.cron_next_runs('0' || repeat(',0', 123) || ' 2 * * *', '2026-01-01', 1);
SELECT snapshot_ops.cron_next_runs(' 0' || repeat(',0', 124) || ' 2 * * * ');
RESET snapshot_ops.cleanup_schedule;
-- (c) a number is hours east of UTC, as SET TimeZone = '+03' reads it; a
-- POSIX specification such as 'UTC+3' (three hours west) reads as there
-- (AT TIME ZONE '+03' would read POSIX-style, so only UTC is shown)
SELECT z, to_char(r AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS utc
  FROM unnest(ARRAY['+03', '-4.5', 'UTC+3']) z,
	   snapshot_ops.cron_next_runs('0 12 * * *', '2026-01-01 00:00+00', 1, z) r;
SET snapshot_ops.timezone = '+03';
SET TimeZone = '+03';
SELECT (SELECT r FROM snapshot_ops.cron_next_runs('0 12 * * *', '2026-01-01 00:00+00', 1) r)
	 = '2026-01-01 12:00'::timestamptz AS same_as_timezone;
SET TimeZone = 'UTC+3';
SELECT (SELECT r FROM snapshot_ops.cron_next_runs('0 12 * * *', '2026-01-01 00:00+00', 1, 'UTC+3') r)
	 = '2026-01-01 12:00'::timestamptz AS same_as_timezone;
SET TimeZone = 'UTC';
SET snapshot_ops.timezone = 'UTC';

-- invalid input: each refused with what is wrong
\set VERBOSITY default
SELECT snapshot_ops.cron_next_runs('* * * *');
SELECT snapshot_ops.cron_next_runs('* * * * * *');
SELECT snapshot_ops.cron_next_runs('60 * * * *');
SELECT snapshot_ops.cron_next_runs('* 24 * * *');
SELECT snapshot_ops.cron_next_runs('* * 0 * *');
SELECT snapshot_ops.cron_next_runs('* * * 13 *');
SELECT snapshot_ops.cron_next_runs('* * * * 8');
SELECT snapshot_ops.cron_next_runs('5-1 * * * *');
SELECT snapshot_ops.cron_next_runs('*/0 * * * *');
SELECT snapshot_ops.cron_next_runs('* * * foo *');
SELECT snapshot_ops.cron_next_runs('@fortnightly');
SELECT snapshot_ops.cron_next_runs('');
SELECT snapshot_ops.cron_next_runs(NULL);
SELECT snapshot_ops.cron_next_runs('* * * * *', count => -1);
SELECT snapshot_ops.cron_next_runs('* * * * *', timezone => 'Mars/Olympus');
SELECT snapshot_ops.cron_next_runs('* * * * *', timezone => '+200');
SELECT snapshot_ops.cron_next_runs('@reboot');
SELECT snapshot_ops.cron_next_runs('1,,2 * * * *');
SELECT snapshot_ops.cron_next_runs('* 2/ * * *');
SELECT snapshot_ops.cron_next_runs('* * * * monday');
SELECT snapshot_ops.cron_next_runs('99999999999999999999 * * * *');

-- the schedule parameters are checked when set, in a session and per
-- database
SET snapshot_ops.cleanup_schedule = '0 25 * * *';
SET snapshot_ops.vacuum_schedule = 'sometimes';
SET snapshot_ops.timezone = 'Mars/Olympus';
SET snapshot_ops.retention_period = '-1 day';
SET snapshot_ops.retention_period = 'forever';
SET snapshot_ops.job_history_retention = '0';
SET snapshot_ops.cleanup_batch_size = 0;
SET snapshot_ops.retention_mode = 'all';
DO $$
BEGIN
	EXECUTE format('ALTER DATABASE %I SET snapshot_ops.cleanup_schedule = %L',
				   current_database(), '61 * * * *');
END
$$;
SELECT count(*) AS stored_settings
  FROM pg_db_role_setting s
 WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND array_to_string(s.setconfig, ',') LIKE '%snapshot_ops%';
-- a good value is accepted; the jobs view shows what this database's
-- worker uses (source worker), which a session's SET does not change
SET snapshot_ops.cleanup_schedule = '0 3 * * mon-fri';
SHOW snapshot_ops.cleanup_schedule;
DO $$
BEGIN
	FOR i IN 1 .. 300 LOOP
		EXIT WHEN (SELECT running FROM snapshot_ops.worker_status());
		PERFORM pg_sleep(0.1);
	END LOOP;
END
$$;
SELECT job, schedule, enabled, source FROM snapshot_ops.jobs ORDER BY job;
-- next_run is the instant the worker will use: the first run after now of
-- the worker's schedule in the worker's zone
SELECT j.job,
	   j.next_run = (SELECT n FROM snapshot_ops.cron_next_runs(j.schedule, now(), 1, j.timezone) n) AS same_instant
  FROM snapshot_ops.jobs j ORDER BY j.job;
RESET snapshot_ops.cleanup_schedule;

DROP EXTENSION snapshot_ops;
