--
-- Time zones of the schedules in the INTERVAL form of TimeZone (commit
-- 40d1bbf).  TimeZone reads the text "INTERVAL '+02:00'" (what SET TIME
-- ZONE INTERVAL '+02:00' HOUR TO MINUTE stores) as an SQL interval, two
-- hours east of UTC; pg_tzset() would read such text as a POSIX zone, of
-- the opposite sign.  snapshot_ops refuses the form wherever a schedule
-- zone is given (SQLSTATE 22023, with a hint that says so) rather than
-- misread it.
--
CREATE EXTENSION snapshot_ops;
SET timezone = 'UTC';
SET snapshot_ops.timezone = 'UTC';
\set VERBOSITY default

-- PostgreSQL's own TimeZone accepts the form, in SQL syntax and as text:
-- two hours east of UTC, which it names '<+02>-02' (POSIX)
SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE;
SHOW TimeZone;
SELECT to_char('2026-01-01 00:00+00'::timestamptz, 'YYYY-MM-DD HH24:MI TZH:TZM') AS local;
SET TimeZone = 'UTC';
SET TimeZone = 'INTERVAL ''+02:00''';
SHOW TimeZone;
SET TimeZone = 'UTC';

-- snapshot_ops.timezone refuses it, in any case and after blanks
SET snapshot_ops.timezone = 'INTERVAL ''+02:00''';
SET snapshot_ops.timezone = 'INTERVAL ''+02:00'' HOUR TO MINUTE';
SET snapshot_ops.timezone = 'interval ''-05:00'' hour to minute';
SET snapshot_ops.timezone = '   Interval ''+03'' hour';
SET snapshot_ops.timezone = 'INTERVAL';
-- the refused value changed nothing
SHOW snapshot_ops.timezone;

-- the SQLSTATE, through set_config() (what SET runs)
DO $$
DECLARE
	st text;
	msg text;
	hint text;
BEGIN
	PERFORM set_config('snapshot_ops.timezone', 'INTERVAL ''+02:00''', false);
	RAISE NOTICE 'accepted';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
	RAISE NOTICE 'SQLSTATE %: %', st, msg;
	RAISE NOTICE 'hint mentions INTERVAL: %', hint LIKE '%INTERVAL form of TimeZone is not accepted%';
END
$$;

-- refused as a database setting too; nothing is stored
DO $$
BEGIN
	EXECUTE format('ALTER DATABASE %I SET snapshot_ops.timezone = %L',
				   current_database(), 'INTERVAL ''+02:00''');
END
$$;
SELECT count(*) AS stored_settings
  FROM pg_db_role_setting s
 WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND array_to_string(s.setconfig, ',') LIKE '%snapshot_ops.timezone%';

-- and as the zone argument of cron_next_runs() (its own hint, which also says the INTERVAL form is not accepted)
SELECT snapshot_ops.cron_next_runs('0 12 * * *', '2026-01-01 00:00+00', 1,
								   'INTERVAL ''+02:00''');
SELECT snapshot_ops.cron_next_runs('0 12 * * *', '2026-01-01 00:00+00', 1,
								   ' interval ''-05:00''');

-- the forms that are accepted mean what TimeZone makes of them: '+02' is
-- two hours east (12:00 local is 10:00 UTC), as INTERVAL '+02:00' is for
-- TimeZone; 'UTC-2' (POSIX) is two hours east too, and so is '<+02>-02',
-- TimeZone's own name for INTERVAL '+02:00'
SELECT z, to_char(r AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS utc
  FROM unnest(ARRAY['+02', 'UTC-2', '<+02>-02']) z,
	   snapshot_ops.cron_next_runs('0 12 * * *', '2026-01-01 00:00+00', 1, z) r;
SET snapshot_ops.timezone = '+02';
SHOW snapshot_ops.timezone;
SELECT to_char(r AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS utc
  FROM snapshot_ops.cron_next_runs('0 12 * * *', '2026-01-01 00:00+00', 1) r;
SET snapshot_ops.timezone = 'UTC';

DROP EXTENSION snapshot_ops;
