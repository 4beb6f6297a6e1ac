/*
 * The cron parser the worker uses, exposed so that a schedule can be checked
 * and its next run times shown before it is set.
 */
CREATE FUNCTION snapshot_ops.cron_next_runs(
	schedule text,
	after timestamptz DEFAULT pg_catalog.now(),
	count integer DEFAULT 5,
	timezone text DEFAULT NULL)
RETURNS SETOF timestamptz
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_cron_next_runs';

COMMENT ON FUNCTION snapshot_ops.cron_next_runs(text, timestamptz, integer, text)
	IS 'the next run times of a cron schedule (minute hour day-of-month month day-of-week), in snapshot_ops.timezone unless a zone is given';
