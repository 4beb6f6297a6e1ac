--
-- A hostile search_path changes nothing.  A schema "evil" placed before
-- pg_catalog holds look-alike tables, functions (now(), jsonb_build_object(),
-- count(*), to_timestamp(), set_config(), the extension's own function
-- names ...), domains shadowing jsonb, text, timestamptz and int8, and
-- operators (= on text, bigint, integer and jsonb, <, ->, ->>, @>, ?, ||)
-- that raise "decoy called".  Temporary tables shadow the extension's
-- tables too (pg_temp is searched first for relations).  Every extension
-- function, run_cleanup and the worker's jobs are run once with a clean
-- search_path and once with the hostile one: the results are identical and
-- the decoys are never reached.
--
SET client_min_messages = warning;

CREATE SCHEMA evil;
CREATE TABLE evil.decoy_log (what text, by_role name DEFAULT current_user,
							 pid int DEFAULT pg_backend_pid());
GRANT USAGE ON SCHEMA evil TO PUBLIC;
GRANT INSERT, SELECT ON evil.decoy_log TO PUBLIC;

-- log(what): a decoy records that it was called
CREATE FUNCTION evil.log(what text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog
AS $$ INSERT INTO evil.decoy_log (what) VALUES (what) $$;

-- functions that log and return a plausible value
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('now()'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION evil.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('clock_timestamp()'); RETURN pg_catalog.clock_timestamp(); END $$;
CREATE FUNCTION evil.statement_timestamp() RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('statement_timestamp()'); RETURN pg_catalog.statement_timestamp(); END $$;
CREATE FUNCTION evil.to_timestamp(double precision) RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('to_timestamp(float8)'); RETURN pg_catalog.to_timestamp($1); END $$;
CREATE FUNCTION evil.to_timestamp(numeric) RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('to_timestamp(numeric)'); RETURN pg_catalog.to_timestamp($1::float8); END $$;
CREATE FUNCTION evil.jsonb_build_object(VARIADIC pg_catalog.text[]) RETURNS pg_catalog.jsonb LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('jsonb_build_object(text[])'); RETURN pg_catalog.jsonb_object($1); END $$;
CREATE FUNCTION evil.jsonb_build_object(pg_catalog.text, pg_catalog.jsonb) RETURNS pg_catalog.jsonb LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('jsonb_build_object(text, jsonb)'); RETURN pg_catalog.jsonb_build_object($1, $2); END $$;
CREATE FUNCTION evil.jsonb_build_object(pg_catalog.text, pg_catalog.text) RETURNS pg_catalog.jsonb LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('jsonb_build_object(text, text)'); RETURN pg_catalog.jsonb_build_object($1, $2); END $$;
CREATE FUNCTION evil.jsonb_build_object(pg_catalog.text, bigint) RETURNS pg_catalog.jsonb LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('jsonb_build_object(text, int8)'); RETURN pg_catalog.jsonb_build_object($1, $2); END $$;
CREATE FUNCTION evil.jsonb_typeof(pg_catalog.jsonb) RETURNS pg_catalog.text LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('jsonb_typeof'); RETURN pg_catalog.jsonb_typeof($1); END $$;
CREATE FUNCTION evil.jsonb_object_keys(pg_catalog.jsonb) RETURNS SETOF pg_catalog.text LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('jsonb_object_keys'); RETURN QUERY SELECT pg_catalog.jsonb_object_keys($1); END $$;
CREATE FUNCTION evil.jsonb_each(pg_catalog.jsonb, OUT key pg_catalog.text, OUT value pg_catalog.jsonb) RETURNS SETOF record
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('jsonb_each'); RETURN QUERY SELECT * FROM pg_catalog.jsonb_each($1); END $$;
CREATE FUNCTION evil.to_jsonb(pg_catalog.text) RETURNS pg_catalog.jsonb LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('to_jsonb(text)'); RETURN pg_catalog.to_jsonb($1); END $$;
CREATE FUNCTION evil.lower(pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('lower'); RETURN pg_catalog.lower($1); END $$;
CREATE FUNCTION evil.length(pg_catalog.text) RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('length'); RETURN pg_catalog.length($1); END $$;
CREATE FUNCTION evil.format(pg_catalog.text, pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('format'); RETURN pg_catalog.format($1, $2); END $$;
CREATE FUNCTION evil.set_config(pg_catalog.text, pg_catalog.text, boolean) RETURNS pg_catalog.text LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('set_config'); RETURN pg_catalog.set_config($1, $2, $3); END $$;
CREATE FUNCTION evil.current_setting(pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('current_setting'); RETURN pg_catalog.current_setting($1); END $$;
CREATE FUNCTION evil.pg_relation_size(regclass) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('pg_relation_size'); RETURN pg_catalog.pg_relation_size($1); END $$;
CREATE FUNCTION evil.pg_total_relation_size(regclass) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('pg_total_relation_size'); RETURN pg_catalog.pg_total_relation_size($1); END $$;
CREATE FUNCTION evil.pg_indexes_size(regclass) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('pg_indexes_size'); RETURN pg_catalog.pg_indexes_size($1); END $$;
CREATE FUNCTION evil.pg_table_size(regclass) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('pg_table_size'); RETURN pg_catalog.pg_table_size($1); END $$;
CREATE FUNCTION evil.nextval(regclass) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('nextval'); RETURN pg_catalog.nextval($1); END $$;

-- count-like aggregates
CREATE FUNCTION evil.count_star_sfunc(bigint) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('count(*)'); RETURN $1 OPERATOR(pg_catalog.+) 1; END $$;
CREATE AGGREGATE evil.count(*) (SFUNC = evil.count_star_sfunc, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION evil.count_any_sfunc(bigint, bigint) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('count(bigint)'); RETURN $1 OPERATOR(pg_catalog.+) 1; END $$;
CREATE AGGREGATE evil.count(bigint) (SFUNC = evil.count_any_sfunc, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION evil.sum_sfunc(bigint, bigint) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('sum(bigint)'); RETURN $1 OPERATOR(pg_catalog.+) $2; END $$;
CREATE AGGREGATE evil.sum(bigint) (SFUNC = evil.sum_sfunc, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION evil.max_sfunc(timestamptz, timestamptz) RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('max(timestamptz)'); RETURN pg_catalog.timestamptz_larger($1, $2); END $$;
CREATE AGGREGATE evil.max(timestamptz) (SFUNC = evil.max_sfunc, STYPE = timestamptz);

-- the extension's own function names
CREATE FUNCTION evil.save_snapshot(pg_catalog.jsonb, pg_catalog.text DEFAULT 'periodic') RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('save_snapshot'); RETURN -1; END $$;
CREATE FUNCTION evil.load_snapshot(pg_catalog.text) RETURNS pg_catalog.jsonb
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('load_snapshot'); RETURN '{}'; END $$;
CREATE FUNCTION evil.load_snapshot_by_id(bigint) RETURNS pg_catalog.jsonb
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('load_snapshot_by_id'); RETURN '{}'; END $$;
CREATE FUNCTION evil.cleanup_old_snapshots(interval DEFAULT '30 days', pg_catalog.text[] DEFAULT '{stopped,crashed}',
	boolean DEFAULT false) RETURNS TABLE(deleted_sessions bigint, deleted_positions bigint,
	deleted_metrics bigint, deleted_risk_guard bigint)
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('cleanup_old_snapshots'); RETURN; END $$;
CREATE FUNCTION evil.vacuum_snapshot_tables() RETURNS pg_catalog.text
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('vacuum_snapshot_tables'); RETURN 'decoy'; END $$;
CREATE PROCEDURE evil.run_cleanup(interval DEFAULT NULL, integer DEFAULT NULL)
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log('run_cleanup'); END $$;

-- operators that raise: comparisons on text, bigint, integer, jsonb,
-- timestamptz, oid and name, and ->, ->>, ?, @>, || and timestamptz - interval
CREATE FUNCTION evil.decoy_raise(what pg_catalog.text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN RAISE EXCEPTION 'decoy called: %', what; END $$;
DO $do$
DECLARE
	o record;
	fn text;
	i int := 0;
BEGIN
	FOR o IN
		SELECT * FROM (VALUES
			('=', 'pg_catalog.text', 'pg_catalog.text', 'boolean'),
			('<>', 'pg_catalog.text', 'pg_catalog.text', 'boolean'),
			('=', 'bigint', 'bigint', 'boolean'),
			('<', 'bigint', 'bigint', 'boolean'),
			('>', 'bigint', 'bigint', 'boolean'),
			('>=', 'bigint', 'bigint', 'boolean'),
			('<=', 'bigint', 'bigint', 'boolean'),
			('=', 'integer', 'integer', 'boolean'),
			('=', 'pg_catalog.jsonb', 'pg_catalog.jsonb', 'boolean'),
			('@>', 'pg_catalog.jsonb', 'pg_catalog.jsonb', 'boolean'),
			('<', 'pg_catalog.timestamptz', 'pg_catalog.timestamptz', 'boolean'),
			('=', 'oid', 'oid', 'boolean'),
			('=', 'name', 'name', 'boolean'),
			('->', 'pg_catalog.jsonb', 'pg_catalog.text', 'pg_catalog.jsonb'),
			('->>', 'pg_catalog.jsonb', 'pg_catalog.text', 'pg_catalog.text'),
			('?', 'pg_catalog.jsonb', 'pg_catalog.text', 'boolean'),
			('||', 'pg_catalog.jsonb', 'pg_catalog.jsonb', 'pg_catalog.jsonb'),
			('||', 'pg_catalog.text', 'pg_catalog.text', 'pg_catalog.text'),
			('-', 'pg_catalog.timestamptz', 'interval', 'pg_catalog.timestamptz'))
			AS v(op, l, r, res)
	LOOP
		i := i + 1;
		fn := 'evil.decoy_op_' || i;
		EXECUTE format('CREATE FUNCTION %s(%s, %s) RETURNS %s LANGUAGE plpgsql SET search_path = pg_catalog '
					   'AS $$ BEGIN PERFORM evil.decoy_raise(%L); RETURN NULL; END $$',
					   fn, o.l, o.r, o.res, o.l || ' ' || o.op || ' ' || o.r);
		EXECUTE format('CREATE OPERATOR evil.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %s)',
					   o.op, o.l, o.r, fn);
	END LOOP;
END
$do$;
SELECT count(*) AS decoy_operators FROM pg_operator WHERE oprnamespace = 'evil'::regnamespace;

-- types that shadow the built-in ones: any value cast to them is reported
CREATE FUNCTION evil.domain_check(what pg_catalog.text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN RAISE EXCEPTION 'decoy called: cast to domain %', what; END $$;
CREATE DOMAIN evil.jsonb AS pg_catalog.jsonb CHECK (evil.domain_check('jsonb'));
CREATE DOMAIN evil.text AS pg_catalog.text CHECK (evil.domain_check('text'));
CREATE DOMAIN evil.timestamptz AS pg_catalog.timestamptz CHECK (evil.domain_check('timestamptz'));
CREATE DOMAIN evil.int8 AS pg_catalog.int8 CHECK (evil.domain_check('int8'));
CREATE DOMAIN evil.regclass AS pg_catalog.regclass CHECK (evil.domain_check('regclass'));
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA evil TO PUBLIC;

-- The worker reads search_path from the database's and its role's settings
-- when it connects: point them at the decoys before the extension (and so
-- the worker of this database) starts.
SELECT pg_catalog.clock_timestamp() AS settings_time \gset
DO $$
BEGIN
	EXECUTE format('ALTER DATABASE %I SET search_path = evil, pg_catalog, public', current_database());
	EXECUTE format('ALTER ROLE %I SET search_path = evil, pg_catalog, public', current_user);
END
$$;

CREATE EXTENSION snapshot_ops;

-- look-alike tables in evil; every row that reaches them is logged
CREATE FUNCTION evil.log_row() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM evil.log(TG_OP || ' on ' || TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME); RETURN NULL; END $$;
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['session_snapshots', 'position_snapshots', 'metrics_snapshots',
							 'risk_guard_snapshots'] LOOP
		EXECUTE format('CREATE TABLE evil.%I (LIKE public.%I)', t, t);
		EXECUTE format('INSERT INTO evil.%I SELECT * FROM public.%I', t, t);
		EXECUTE format('CREATE TRIGGER decoy AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON evil.%I
						FOR EACH STATEMENT EXECUTE FUNCTION evil.log_row()', t);
	END LOOP;
END
$$;
CREATE TABLE evil.job_runs (LIKE snapshot_ops.job_runs);
CREATE TRIGGER decoy AFTER INSERT OR UPDATE OR DELETE ON evil.job_runs
	FOR EACH STATEMENT EXECUTE FUNCTION evil.log_row();
GRANT ALL ON ALL TABLES IN SCHEMA evil TO PUBLIC;

-- the state documents of the scenario
\set doc_run '{"session": {"session_id": "sp_run", "start_time": 1700000000, "mode": "live", "paper_campaign_id": null, "config": {"symbols": ["BTC", "ETH"], "max_positions": 3}, "loop_count": 10, "status": "running"}, "positions": {"active_orders": {"BTC-1": {"trade": {"symbol": "BTC", "qty": 0.5}, "order_a": {"id": "a1", "side": "buy"}, "order_b": {"id": "b1", "side": "sell"}, "position_open_time": 1700000100}, "ETH-1": {"trade": {"symbol": "ETH", "qty": 2}, "order_a": {"id": "a2"}, "order_b": {"id": "b2"}, "position_open_time": 1700000200}}}, "metrics": {"total_trades_opened": 5, "total_trades_closed": 3, "total_winning_trades": 2, "total_pnl_usd": 125.75, "max_dd_usd": 40, "portfolio_initial_capital": 10000, "portfolio_equity": 10125.75, "per_symbol_pnl": {"BTC": 100.5, "ETH": 25.25}, "per_symbol_trades_opened": {"BTC": 3, "ETH": 2}, "per_symbol_trades_closed": {"BTC": 2, "ETH": 1}, "per_symbol_winning_trades": {"BTC": 1, "ETH": 1}}, "risk_guard": {"session_start_time": 1700000000, "daily_loss_usd": 12.5, "per_symbol_loss": {"BTC": 12.5}, "per_symbol_trades_rejected": {"ETH": 1}, "per_symbol_trades_allowed": {"BTC": 3}, "per_symbol_capital_used": {"BTC": 5000}, "per_symbol_position_count": {"BTC": 1, "ETH": 1}}}'
\set doc_stop '{"session": {"session_id": "sp_stop", "start_time": 1600000000, "mode": "paper", "paper_campaign_id": "camp-7", "config": {}, "loop_count": 99, "status": "stopped"}, "positions": {"active_orders": {}}, "metrics": {"total_trades_opened": 1, "total_trades_closed": 1, "total_winning_trades": 0, "total_pnl_usd": -3.5}, "risk_guard": {"daily_loss_usd": 3.5}}'
\set doc_crash '{"session": {"session_id": "sp_crash", "start_time": 1600000000, "mode": "paper", "loop_count": 7, "status": "crashed"}, "positions": {"active_orders": {"SOL-9": {"trade": {"symbol": "SOL"}, "order_a": {}, "order_b": {}, "position_open_time": 1600000500}}}, "metrics": {"total_trades_opened": 1}, "risk_guard": {}}'

CREATE TEMP TABLE docs (name pg_catalog.text PRIMARY KEY, doc pg_catalog.jsonb);
INSERT INTO docs VALUES ('run', :'doc_run'), ('stop', :'doc_stop'), ('crash', :'doc_crash');

-- The scenario: every extension function, called schema-qualified, with
-- whatever search_path is current.  The statements themselves pin their
-- operators and functions to pg_catalog, so only the extension's own code
-- can meet a decoy.  Each returns one jsonb.
CREATE TEMP TABLE scenario (step int PRIMARY KEY, op pg_catalog.text, stmt pg_catalog.text);
INSERT INTO scenario VALUES
	(1, 'save_snapshot running, initial', $q$SELECT pg_catalog.to_jsonb(public.save_snapshot(
		(SELECT d.doc FROM pg_temp.docs d WHERE d.name OPERATOR(pg_catalog.=) 'run'), 'initial'))$q$),
	(2, 'save_snapshot running, periodic', $q$SELECT pg_catalog.to_jsonb(public.save_snapshot(
		(SELECT d.doc FROM pg_temp.docs d WHERE d.name OPERATOR(pg_catalog.=) 'run')))$q$),
	(3, 'save_snapshot stopped', $q$SELECT pg_catalog.to_jsonb(public.save_snapshot(
		(SELECT d.doc FROM pg_temp.docs d WHERE d.name OPERATOR(pg_catalog.=) 'stop'), 'on_stop'))$q$),
	(4, 'save_snapshot crashed', $q$SELECT pg_catalog.to_jsonb(public.save_snapshot(
		(SELECT d.doc FROM pg_temp.docs d WHERE d.name OPERATOR(pg_catalog.=) 'crash'), 'on_stop'))$q$),
	(5, 'load_snapshot', $q$SELECT public.load_snapshot('sp_run')$q$),
	(6, 'load_snapshot_by_id', $q$SELECT public.load_snapshot_by_id(4)$q$),
	(7, 'load_snapshot unknown session', $q$SELECT pg_catalog.to_jsonb(public.load_snapshot('sp_none') IS NULL)$q$),
	(8, 'load_snapshot_by_id unknown id', $q$SELECT pg_catalog.to_jsonb(public.load_snapshot_by_id(999999) IS NULL)$q$),
	(9, 'get_snapshot_table_stats', $q$SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(s.table_name, s.total_rows)
		ORDER BY s.table_name) FROM public.get_snapshot_table_stats() s$q$),
	(10, 'test_query_performance', $q$SELECT pg_catalog.jsonb_agg(t.test_name ORDER BY t.test_name)
		FROM public.test_query_performance('sp_run', 2) t$q$),
	(11, 'snapshot_storage_projection', $q$SELECT pg_catalog.to_jsonb(pg_catalog.count(*))
		FROM public.snapshot_storage_projection(100, 10, 30)$q$),
	-- age the first running snapshot and the finished sessions
	(12, 'age snapshots', $q$WITH u AS (UPDATE public.session_snapshots
		SET created_at = pg_catalog.now() OPERATOR(pg_catalog.-) CASE
			WHEN session_id OPERATOR(pg_catalog.=) 'sp_stop' THEN interval '60 days' ELSE interval '40 days' END
		WHERE snapshot_id OPERATOR(pg_catalog.=) ANY (ARRAY[1, 3, 4]::bigint[]) RETURNING 1)
		SELECT pg_catalog.to_jsonb(pg_catalog.count(*)) FROM u$q$),
	(13, 'cleanup_old_snapshots dry run', $q$SELECT pg_catalog.to_jsonb(c)
		FROM public.cleanup_old_snapshots('30 days', '{stopped,crashed}', true) c$q$),
	(14, 'cleanup_old_snapshots 50 days', $q$SELECT pg_catalog.to_jsonb(c)
		FROM public.cleanup_old_snapshots('50 days') c$q$),
	(15, 'cleanup_old_snapshots_30d', $q$SELECT pg_catalog.to_jsonb(c)
		FROM public.cleanup_old_snapshots_30d() c$q$),
	(16, 'worker_status', $q$SELECT pg_catalog.to_jsonb(pg_catalog.count(*)) FROM snapshot_ops.worker_status()$q$),
	(17, 'cron_next_runs', $q$SELECT pg_catalog.jsonb_agg(r) FROM snapshot_ops.cron_next_runs('0 2 * * *',
		'2026-01-01 00:00+00', 2, 'UTC') r$q$),
	(18, 'v_latest_snapshot_details', $q$SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(v.session_id,
		v.status, v.total_pnl_usd, v.active_positions) ORDER BY v.session_id) FROM public.v_latest_snapshot_details v$q$);
GRANT SELECT ON docs, scenario TO PUBLIC;

CREATE TEMP TABLE res (run pg_catalog.text, step int, op pg_catalog.text, result pg_catalog.jsonb);

-- run each step, recording its result or its error
CREATE FUNCTION pg_temp.run_scenario(run pg_catalog.text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	v pg_catalog.jsonb;
BEGIN
	FOR r IN SELECT s.step, s.op, s.stmt FROM pg_temp.scenario s ORDER BY s.step LOOP
		BEGIN
			EXECUTE r.stmt INTO v;
		EXCEPTION WHEN OTHERS THEN
			v := pg_catalog.jsonb_build_object('error', SQLSTATE, 'message', SQLERRM);
		END;
		INSERT INTO pg_temp.res VALUES (run, r.step, r.op, v);
	END LOOP;
END
$$;

-- after(run): what the batched cleanup and the worker's jobs left behind
CREATE FUNCTION pg_temp.record_tables(run pg_catalog.text, step int, op pg_catalog.text) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO pg_temp.res
	SELECT run, step, op, pg_catalog.jsonb_build_array(
		(SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(s.snapshot_id, s.session_id, s.status)
									 ORDER BY s.snapshot_id) FROM public.session_snapshots s),
		(SELECT pg_catalog.count(*) FROM public.position_snapshots),
		(SELECT pg_catalog.count(*) FROM public.metrics_snapshots),
		(SELECT pg_catalog.count(*) FROM public.risk_guard_snapshots))
$$;

-- the worker's runs since a point in time: job and status, in order
CREATE FUNCTION pg_temp.record_jobs(run pg_catalog.text, step int, since timestamptz) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO pg_temp.res
	SELECT run, step, 'job_runs',
		   pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(j.job, j.trigger, j.status, j.rows_affected) ORDER BY j.started_at)
	  FROM snapshot_ops.job_runs j
	 WHERE j.started_at OPERATOR(pg_catalog.>=) since
$$;

-- a finished session, 90 days old, for the worker's cleanup to remove
CREATE FUNCTION pg_temp.old_snapshot_for_worker() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	id bigint;
BEGIN
	id := public.save_snapshot((SELECT d.doc FROM pg_temp.docs d
								 WHERE d.name OPERATOR(pg_catalog.=) 'stop'), 'on_stop');
	UPDATE public.session_snapshots
	   SET created_at = pg_catalog.now() OPERATOR(pg_catalog.-) interval '90 days'
	 WHERE snapshot_id OPERATOR(pg_catalog.=) id;
	RETURN id;
END
$$;

-- the clean run
SET search_path = public;
SELECT pg_catalog.now() AS clean_start \gset
SELECT pg_temp.run_scenario('clean');
CALL snapshot_ops.run_cleanup('30 days', 1);
SELECT pg_temp.record_tables('clean', 20, 'after run_cleanup');
SELECT pg_temp.old_snapshot_for_worker() AS old_snapshot;
SELECT snapshot_ops.run_job('cleanup', true) IS NOT NULL AS cleanup_ran;
SELECT pg_temp.record_tables('clean', 21, 'after the worker''s cleanup');
SELECT public.vacuum_snapshot_tables() IS NOT NULL AS vacuum_ran;
SELECT pg_temp.record_jobs('clean', 22, :'clean_start');

-- the same from scratch, with the decoys first in search_path
TRUNCATE public.session_snapshots, public.position_snapshots, public.metrics_snapshots,
	public.risk_guard_snapshots RESTART IDENTITY;
-- temporary look-alikes too: pg_temp is searched first for relations
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['session_snapshots', 'position_snapshots', 'metrics_snapshots',
							 'risk_guard_snapshots'] LOOP
		EXECUTE format('CREATE TEMP TABLE %I (LIKE public.%I)', t, t);
		EXECUTE format('CREATE TRIGGER decoy AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pg_temp.%I
						FOR EACH STATEMENT EXECUTE FUNCTION evil.log_row()', t);
	END LOOP;
END
$$;
SET search_path = evil, pg_catalog, public;
SELECT pg_catalog.now() AS hostile_start \gset
SELECT pg_temp.run_scenario('hostile');
CALL snapshot_ops.run_cleanup('30 days', 1);
SELECT pg_temp.record_tables('hostile', 20, 'after run_cleanup');
SELECT pg_temp.old_snapshot_for_worker() AS old_snapshot;
SELECT snapshot_ops.run_job('cleanup', true) IS NOT NULL AS cleanup_ran;
SELECT pg_temp.record_tables('hostile', 21, 'after the worker''s cleanup');
SELECT public.vacuum_snapshot_tables() IS NOT NULL AS vacuum_ran;
SELECT pg_temp.record_jobs('hostile', 22, :'hostile_start');
SET search_path = public;

-- what the hostile run produced (created_at and timings left out)
SELECT step, op,
	   CASE WHEN jsonb_typeof(result) = 'object' THEN result - 'created_at' ELSE result END AS result
  FROM res WHERE run = 'hostile' ORDER BY step;

-- and it is exactly what the clean run produced
SELECT c.step, c.op, c.result AS clean, h.result AS hostile
  FROM res c FULL JOIN res h ON h.step = c.step AND h.run = 'hostile'
 WHERE c.run = 'clean'
   AND (CASE WHEN jsonb_typeof(c.result) = 'object' THEN c.result - 'created_at' ELSE c.result END)
	   IS DISTINCT FROM
	   (CASE WHEN jsonb_typeof(h.result) = 'object' THEN h.result - 'created_at' ELSE h.result END);

-- no decoy was ever reached, by this session or by the worker
SELECT * FROM evil.decoy_log;
SELECT (SELECT count(*) FROM evil.session_snapshots) AS evil_sessions,
	   (SELECT count(*) FROM evil.position_snapshots) AS evil_positions,
	   (SELECT count(*) FROM evil.job_runs) AS evil_job_runs,
	   (SELECT count(*) FROM pg_temp.session_snapshots) AS temp_sessions,
	   (SELECT count(*) FROM pg_temp.metrics_snapshots) AS temp_metrics;

-- The worker that ran the jobs started after the settings were made, so
-- it connected with the hostile search_path; the runs above are its own.
SELECT w.started_at > :'settings_time' AS worker_started_after_settings,
	   (SELECT count(*) FROM snapshot_ops.job_runs j WHERE j.worker_pid = w.pid
		   AND j.started_at >= :'hostile_start') AS hostile_runs_by_it
  FROM snapshot_ops.worker_status() w;

-- The decoys work: a new session of this role in this database gets the
-- hostile search_path, and an unqualified now() reaches evil.now().
\c -
SET client_min_messages = warning;
SHOW search_path;
SELECT now() IS NOT NULL AS unqualified_call;
SELECT 'x'::pg_catalog.text = 'x'::pg_catalog.text AS unqualified_operator;
SET search_path = public;
SELECT what FROM evil.decoy_log;

-- the database and role settings go back; the decoys go away
DO $$
BEGIN
	EXECUTE format('ALTER DATABASE %I RESET search_path', current_database());
	EXECUTE format('ALTER ROLE %I RESET search_path', current_user);
END
$$;
DROP EXTENSION snapshot_ops;
DROP SCHEMA evil CASCADE;
