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
-- 02:30 does not exist that day and the run is skipped.
SELECT snapshot_ops.cron_next_runs('30 2 * * *', '2026-03-27 12:00', 3, 'Europe/Berlin');
-- The time zone comes from snapshot_ops.timezone when not given
SET snapshot_ops.timezone = 'Asia/Tokyo';
SELECT snapshot_ops.cron_next_runs('0 9 * * *', '2026-01-01 00:00', 1);
SET snapshot_ops.timezone = 'UTC';
-- On 2026-10-25 clocks go back from 03:00 to 02:00 in Berlin; a run at
-- 03:15 local time happens once, at 02:15 UTC.
SELECT snapshot_ops.cron_next_runs('15 3 * * *', '2026-10-24 12:00', 2, 'Europe/Berlin');

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
-- a good value is accepted and shown by the jobs view
SET snapshot_ops.cleanup_schedule = '0 3 * * mon-fri';
SELECT job, schedule, enabled FROM snapshot_ops.jobs ORDER BY job;
SET snapshot_ops.enable_scheduler = off;
SELECT job, enabled, next_run IS NULL AS no_next_run FROM snapshot_ops.jobs ORDER BY job;
RESET snapshot_ops.enable_scheduler;
-- next_run is the first scheduled time after now, by the same code
SET snapshot_ops.cleanup_schedule = '0 0 1 1 *';
SELECT next_run = date_trunc('year', now()) + interval '1 year' AS next_new_year
  FROM snapshot_ops.jobs WHERE job = 'cleanup';
RESET snapshot_ops.cleanup_schedule;

DROP EXTENSION snapshot_ops;
