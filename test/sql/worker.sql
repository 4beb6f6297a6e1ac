--
-- The worker's SQL side: job history constraints, request validation, the
-- jobs view and worker_status(), and one VACUUM through the worker of the
-- temporary instance (which preloads the library).
--
CREATE EXTENSION snapshot_ops;

CREATE FUNCTION pg_temp.expect_error(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- job_runs accepts what the worker writes and nothing else
SELECT pg_temp.expect_error($$INSERT INTO snapshot_ops.job_runs (job, trigger) VALUES ('compact', 'manual')$$);
SELECT pg_temp.expect_error($$INSERT INTO snapshot_ops.job_runs (job, trigger) VALUES ('vacuum', 'cron')$$);
SELECT pg_temp.expect_error($$INSERT INTO snapshot_ops.job_runs (job, trigger, status, finished_at) VALUES ('vacuum', 'manual', 'done', now())$$);
-- a finished run has a finish time, a running one has none
SELECT pg_temp.expect_error($$INSERT INTO snapshot_ops.job_runs (job, trigger, status) VALUES ('vacuum', 'manual', 'succeeded')$$);
SELECT pg_temp.expect_error($$INSERT INTO snapshot_ops.job_runs (job, trigger, finished_at) VALUES ('vacuum', 'manual', now())$$);
SELECT pg_temp.expect_error($$INSERT INTO snapshot_ops.job_runs (run_id, job, trigger) VALUES (1, 'vacuum', 'manual')$$);

-- invalid input: requests are checked before the worker is asked
SELECT pg_temp.expect_error($$SELECT snapshot_ops.run_job('compact')$$);
SELECT pg_temp.expect_error($$SELECT snapshot_ops.run_job(NULL)$$);
SELECT pg_temp.expect_error($$SELECT snapshot_ops.run_job('vacuum', NULL)$$);

-- the jobs view: one row per job, no run yet
SELECT job, last_started IS NULL AS never_ran, last_status
  FROM snapshot_ops.jobs ORDER BY job;

-- the history is dumped with the database
SELECT c.relname
  FROM pg_extension e, unnest(e.extconfig) AS cfg(oid)
  JOIN pg_class c ON c.oid = cfg.oid
 WHERE e.extname = 'snapshot_ops' AND c.relname LIKE 'job_runs%'
 ORDER BY 1;

-- the library is preloaded here; the worker may still be starting
SELECT loaded, database FROM snapshot_ops.worker_status();

-- VACUUM ANALYZE through the worker (the call waits for it to start)
SELECT regexp_replace(vacuum_snapshot_tables(), '\(run \d+, \d+ ms\)$', '(run N, N ms)');
SELECT job, trigger, status, rows_affected FROM snapshot_ops.job_runs;
SELECT relname, last_vacuum IS NOT NULL AS vacuumed, last_analyze IS NOT NULL AS analyzed
  FROM pg_stat_user_tables
 WHERE relname LIKE '%snapshots' ORDER BY relname COLLATE "C";
SELECT job, last_status FROM snapshot_ops.jobs ORDER BY job;
SELECT running, state, reason FROM snapshot_ops.worker_status();

DROP EXTENSION snapshot_ops;
