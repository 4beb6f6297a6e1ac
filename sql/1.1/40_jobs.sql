/*
 * The job runner (1.1): runs stopped by a retention hold, runs of CALL
 * run_cleanup() in the history, the causes worker_status() names, and the
 * schedules the worker really uses in the jobs view.
 */

/* A run that a retention hold stopped; a run of CALL run_cleanup(). */
ALTER TABLE snapshot_ops.job_runs
	DROP CONSTRAINT job_runs_status_check,
	ADD CONSTRAINT job_runs_status_check
		CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['running', 'succeeded', 'failed', 'interrupted', 'skipped'])),
	DROP CONSTRAINT job_runs_trigger_check,
	ADD CONSTRAINT job_runs_trigger_check
		CHECK (trigger OPERATOR(pg_catalog.=) ANY (ARRAY['schedule', 'manual', 'catch_up', 'call']));

COMMENT ON TABLE snapshot_ops.job_runs IS 'one row per run of the cleanup and vacuum jobs: the worker''s and CALL snapshot_ops.run_cleanup()''s';
COMMENT ON COLUMN snapshot_ops.job_runs.trigger IS 'schedule, manual (run_job, vacuum_snapshot_tables), catch_up (a scheduled time passed while the server was down) or call (CALL snapshot_ops.run_cleanup())';
COMMENT ON COLUMN snapshot_ops.job_runs.status IS 'running, succeeded, failed, interrupted (its process ended first) or skipped (retention on hold: nothing deleted)';
COMMENT ON COLUMN snapshot_ops.job_runs.worker_pid IS 'the process that ran it: the worker, or the backend of CALL run_cleanup()';

/*
 * A restore that loads job history into a database whose worker has
 * already run jobs (a data-only restore, or a scheduled run during a long
 * restore) would fail on the primary key: a loaded run whose id is taken
 * takes the next free one (src/jobrec.c).
 */
CREATE FUNCTION snapshot_ops.job_runs_loaded()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'snapshot_ops_job_runs_loaded';

COMMENT ON FUNCTION snapshot_ops.job_runs_loaded()
	IS 'row trigger of snapshot_ops.job_runs: a run loaded by a restore (COPY FROM, owner or superuser) whose id this database already uses takes the next free id';

CREATE TRIGGER job_runs_keep_loaded_history
	BEFORE INSERT ON snapshot_ops.job_runs
	FOR EACH ROW EXECUTE FUNCTION snapshot_ops.job_runs_loaded();

COMMENT ON TRIGGER job_runs_keep_loaded_history ON snapshot_ops.job_runs
	IS 'a run loaded by a restore whose id is taken here takes the next free id, so that restored and local histories merge';

/*
 * worker_status(): from 1.1 also the version the worker serves, and what
 * ended its last failed attempt and when the launcher tries again.  Its
 * OUT parameters change, so it is dropped and created again: the
 * privileges granted on it are kept (05_keep_privileges.sql).
 */
SELECT snapshot_ops.keep_privileges('routine', 'snapshot_ops.worker_status()');
DROP FUNCTION snapshot_ops.worker_status();
CREATE FUNCTION snapshot_ops.worker_status(
	OUT loaded boolean,
	OUT running boolean,
	OUT pid integer,
	OUT database name,
	OUT state text,
	OUT reason text,
	OUT started_at timestamptz,
	OUT launcher_pid integer,
	OUT sql_version text,
	OUT failures integer,
	OUT last_error text,
	OUT last_error_at timestamptz,
	OUT next_attempt_at timestamptz)
RETURNS SETOF record
LANGUAGE C VOLATILE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'snapshot_ops_worker_status_1_1';

COMMENT ON FUNCTION snapshot_ops.worker_status()
	IS 'whether the library is preloaded and this database''s worker runs, its pid, state and extension version; why not when it does not (slot shortage with the max_worker_processes arithmetic, snapshot_ops.databases, recovery, the last failure and its error, the next attempt)';

/*
 * job_schedules() and the jobs view: the schedule, zone and next run the
 * worker of this database uses (source "worker"), or, with no worker,
 * what the current settings give (source "settings").
 */
SELECT snapshot_ops.keep_privileges('relation', 'snapshot_ops.jobs'),
	   snapshot_ops.keep_privileges('routine', 'snapshot_ops.job_schedules()');
DROP VIEW snapshot_ops.jobs;
DROP FUNCTION snapshot_ops.job_schedules();
CREATE FUNCTION snapshot_ops.job_schedules(
	OUT job text,
	OUT schedule text,
	OUT enabled boolean,
	OUT next_run timestamptz,
	OUT timezone text,
	OUT source text,
	OUT retention_hold text)
RETURNS SETOF record
LANGUAGE C STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'snapshot_ops_job_schedules_1_1';

COMMENT ON FUNCTION snapshot_ops.job_schedules()
	IS 'each job''s schedule, time zone and next run as this database''s worker uses them (source worker), or as the current settings give them when no worker runs (source settings); next_run NULL when snapshot_ops.enable_scheduler is off; retention_hold says why the cleanup deletes nothing while a retention hold exists';

CREATE VIEW snapshot_ops.jobs AS
SELECT s.job,
	   s.schedule,
	   s.enabled,
	   r.started_at AS last_started,
	   r.finished_at AS last_finished,
	   r.status AS last_status,
	   r.message AS last_message,
	   s.next_run,
	   s.timezone,
	   s.source,
	   s.retention_hold
  FROM snapshot_ops.job_schedules() s
  LEFT JOIN LATERAL (
		SELECT jr.started_at, jr.finished_at, jr.status, jr.message
		  FROM snapshot_ops.job_runs jr
		 WHERE jr.job OPERATOR(pg_catalog.=) s.job
		 ORDER BY jr.started_at DESC, jr.run_id DESC
		 LIMIT 1) r ON true;

COMMENT ON VIEW snapshot_ops.jobs IS 'each job of the worker: schedule, time zone, last run and its result, next run as the worker uses it, and the retention hold that keeps the cleanup from deleting';
