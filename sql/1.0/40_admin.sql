/*
 * The background worker's SQL side: job history, job overview, requests to
 * the worker, its status, and pg_cron as an alternative scheduler.
 */

/*
 * One row per job run, written by the worker: inserted when the run starts
 * (status running), updated when it ends.  A run cut short by a crash or
 * shutdown is marked interrupted when the worker next starts.  Pruned after
 * every run by snapshot_ops.job_history_retention (the latest run of each
 * job is always kept).  Registered for pg_dump: the history is operational
 * data an operator wants to keep across a dump and restore.
 */
CREATE TABLE snapshot_ops.job_runs (
	run_id bigint GENERATED ALWAYS AS IDENTITY,
	job text NOT NULL,
	trigger text NOT NULL,
	started_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	finished_at timestamptz,
	status text NOT NULL DEFAULT 'running',
	rows_affected bigint,
	message text,
	worker_pid integer,
	CONSTRAINT job_runs_pkey PRIMARY KEY (run_id),
	CONSTRAINT job_runs_job_check
		CHECK (job OPERATOR(pg_catalog.=) ANY (ARRAY['cleanup', 'vacuum'])),
	CONSTRAINT job_runs_trigger_check
		CHECK (trigger OPERATOR(pg_catalog.=) ANY (ARRAY['schedule', 'manual', 'catch_up'])),
	CONSTRAINT job_runs_status_check
		CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['running', 'succeeded', 'failed', 'interrupted'])),
	CONSTRAINT job_runs_finished_check
		CHECK ((status OPERATOR(pg_catalog.=) 'running') OPERATOR(pg_catalog.=) (finished_at IS NULL))
);

/* The latest run of a job: the worker's catch-up check and the jobs view. */
CREATE INDEX job_runs_job_started_idx
	ON snapshot_ops.job_runs (job, started_at DESC);

COMMENT ON TABLE snapshot_ops.job_runs IS 'one row per run of the worker''s cleanup and vacuum jobs';
COMMENT ON COLUMN snapshot_ops.job_runs.trigger IS 'schedule, manual (run_job, vacuum_snapshot_tables) or catch_up (a scheduled time passed while the server was down)';
COMMENT ON COLUMN snapshot_ops.job_runs.rows_affected IS 'cleanup: session snapshots deleted; vacuum: tables vacuumed';

SELECT pg_catalog.pg_extension_config_dump('snapshot_ops.job_runs', '');
SELECT pg_catalog.pg_extension_config_dump(
	pg_catalog.pg_get_serial_sequence('snapshot_ops.job_runs', 'run_id'), '');

/* Ask the launcher to start this database's worker once this transaction commits. */
CREATE FUNCTION snapshot_ops.start_worker()
RETURNS boolean
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_start_worker';

COMMENT ON FUNCTION snapshot_ops.start_worker()
	IS 'ask the launcher to start (or re-check) this database''s worker at commit; false when snapshot_ops is not in shared_preload_libraries';

CREATE FUNCTION snapshot_ops.run_job(job text, wait boolean DEFAULT false)
RETURNS bigint
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_run_job';

COMMENT ON FUNCTION snapshot_ops.run_job(text, boolean)
	IS 'ask this database''s worker to run the cleanup or vacuum job now; returns the run id (snapshot_ops.job_runs); with wait, returns when it has finished and raises an error if it failed';

CREATE FUNCTION vacuum_snapshot_tables()
RETURNS text
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_vacuum_snapshot_tables';

COMMENT ON FUNCTION vacuum_snapshot_tables()
	IS 'VACUUM ANALYZE the four snapshot tables through the background worker (VACUUM cannot run in a function) and wait for it, at most snapshot_ops.vacuum_wait_timeout';

CREATE FUNCTION snapshot_ops.worker_status(
	OUT loaded boolean,
	OUT running boolean,
	OUT pid integer,
	OUT database name,
	OUT state text,
	OUT reason text,
	OUT started_at timestamptz,
	OUT launcher_pid integer)
RETURNS SETOF record
LANGUAGE C VOLATILE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'snapshot_ops_worker_status';

COMMENT ON FUNCTION snapshot_ops.worker_status()
	IS 'whether the library is preloaded and this database''s worker runs, its pid and state, and why not when it does not';

/*
 * The GIN indexes' entry trees: how many keys they hold and how many of
 * those belong to no row any more (GIN never removes such keys; the vacuum
 * job rebuilds an index past snapshot_ops.gin_rebuild_threshold).  Reads
 * every page of the GIN indexes.
 */
CREATE FUNCTION snapshot_ops.gin_index_bloat(
	OUT table_name text,
	OUT index_name text,
	OUT index_bytes bigint,
	OUT entries bigint,
	OUT empty_entries bigint,
	OUT empty_fraction double precision,
	OUT rebuild_due boolean)
RETURNS SETOF record
LANGUAGE C VOLATILE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'snapshot_ops_gin_index_bloat';

COMMENT ON FUNCTION snapshot_ops.gin_index_bloat()
	IS 'keys in each GIN index of the snapshot tables, and how many of them no longer belong to any row; rebuild_due when the vacuum job would rebuild the index';

CREATE FUNCTION snapshot_ops.job_schedules(
	OUT job text,
	OUT schedule text,
	OUT enabled boolean,
	OUT next_run timestamptz)
RETURNS SETOF record
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_job_schedules';

COMMENT ON FUNCTION snapshot_ops.job_schedules()
	IS 'each job''s schedule under this session''s settings and its next scheduled run (NULL when snapshot_ops.enable_scheduler is off)';

CREATE VIEW snapshot_ops.jobs AS
SELECT s.job,
	   s.schedule,
	   s.enabled,
	   r.started_at AS last_started,
	   r.finished_at AS last_finished,
	   r.status AS last_status,
	   r.message AS last_message,
	   s.next_run
  FROM snapshot_ops.job_schedules() s
  LEFT JOIN LATERAL (
		SELECT jr.started_at, jr.finished_at, jr.status, jr.message
		  FROM snapshot_ops.job_runs jr
		 WHERE jr.job OPERATOR(pg_catalog.=) s.job
		 ORDER BY jr.started_at DESC, jr.run_id DESC
		 LIMIT 1) r ON true;

COMMENT ON VIEW snapshot_ops.jobs IS 'each job of the worker: schedule, last run and its result, next scheduled run';

/*
 * pg_cron as the scheduler instead of the worker.  The jobs are single
 * top-level statements (pg_cron runs a job's command as one query string,
 * and VACUUM must be alone in it).  Scheduling them turns the worker's own
 * scheduler off for this database (ALTER DATABASE ... SET
 * snapshot_ops.enable_scheduler = off, then a configuration reload so that
 * the worker sees it), so the two never both run; unschedule_pg_cron()
 * turns it back on.  Both need a superuser (or a role allowed to set the
 * parameter and reload the configuration), and must run in the database
 * where pg_cron is installed (cron.database_name).
 */
CREATE FUNCTION snapshot_ops.schedule_with_pg_cron(
	cleanup_schedule text DEFAULT NULL,
	vacuum_schedule text DEFAULT NULL)
RETURNS TABLE(jobname text, jobid bigint, schedule text, command text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	ext_schema text;
	vacuum_command text;
	cleanup_command constant text := 'CALL snapshot_ops.run_cleanup()';
BEGIN
	IF pg_catalog.to_regprocedure('cron.schedule_in_database(text,text,text,text,text,boolean)') IS NULL THEN
		RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Install pg_cron 1.4 or later (shared_preload_libraries = ''snapshot_ops,pg_cron'', CREATE EXTENSION pg_cron in the database named by cron.database_name) and call this function there, or keep the built-in scheduler.';
	END IF;

	cleanup_schedule := coalesce(cleanup_schedule, pg_catalog.current_setting('snapshot_ops.cleanup_schedule'));
	vacuum_schedule := coalesce(vacuum_schedule, pg_catalog.current_setting('snapshot_ops.vacuum_schedule'));
	-- refuse what the worker's parser refuses, with its message
	PERFORM snapshot_ops.cron_next_runs(cleanup_schedule, count => 1);
	PERFORM snapshot_ops.cron_next_runs(vacuum_schedule, count => 1);

	SELECT pg_catalog.quote_ident(n.nspname) INTO ext_schema
	  FROM pg_catalog.pg_extension e
	  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
	 WHERE e.extname OPERATOR(pg_catalog.=) 'snapshot_ops';
	vacuum_command := pg_catalog.format(
		'VACUUM (ANALYZE) %1$s.session_snapshots, %1$s.position_snapshots, %1$s.metrics_snapshots, %1$s.risk_guard_snapshots',
		ext_schema);

	EXECUTE pg_catalog.format('ALTER DATABASE %I SET snapshot_ops.enable_scheduler = off',
							  pg_catalog.current_database());
	PERFORM pg_catalog.pg_reload_conf();

	jobname := 'snapshot_ops_cleanup';
	schedule := cleanup_schedule;
	command := cleanup_command;
	EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, $4)'
		INTO jobid USING jobname, schedule, command, pg_catalog.current_database();
	RETURN NEXT;

	jobname := 'snapshot_ops_vacuum';
	schedule := vacuum_schedule;
	command := vacuum_command;
	EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, $4)'
		INTO jobid USING jobname, schedule, command, pg_catalog.current_database();
	RETURN NEXT;
END
$fn$;

COMMENT ON FUNCTION snapshot_ops.schedule_with_pg_cron(text, text)
	IS 'schedule cleanup and vacuum of this database with pg_cron (jobs snapshot_ops_cleanup and snapshot_ops_vacuum) and turn the worker''s scheduler off for it';

CREATE FUNCTION snapshot_ops.unschedule_pg_cron()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	removed integer;
BEGIN
	IF pg_catalog.to_regprocedure('cron.unschedule(bigint)') IS NULL THEN
		RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Nothing was scheduled with pg_cron here; the built-in scheduler is in charge.';
	END IF;

	EXECUTE 'SELECT pg_catalog.count(cron.unschedule(j.jobid))::integer
			   FROM cron.job j
			  WHERE j.jobname OPERATOR(pg_catalog.=) ANY (ARRAY[''snapshot_ops_cleanup'', ''snapshot_ops_vacuum''])
				AND j.database OPERATOR(pg_catalog.=) pg_catalog.current_database()'
		INTO removed;

	EXECUTE pg_catalog.format('ALTER DATABASE %I RESET snapshot_ops.enable_scheduler',
							  pg_catalog.current_database());
	PERFORM pg_catalog.pg_reload_conf();
	RETURN removed;
END
$fn$;

COMMENT ON FUNCTION snapshot_ops.unschedule_pg_cron()
	IS 'remove the pg_cron jobs of schedule_with_pg_cron() for this database and give scheduling back to the worker';

/* Start this database's worker when CREATE EXTENSION commits. */
SELECT snapshot_ops.start_worker();
