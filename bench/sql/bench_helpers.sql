/*
 * bench_helpers.sql: objects the benchmark needs in every database it
 * measures (schema "bench"; nothing here is part of the product).
 */
CREATE SCHEMA bench;

/* The symbol of a position: 50 symbols S00USDT .. S49USDT. */
CREATE FUNCTION bench.sym(n bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 'S' || lpad((n % 50)::text, 2, '0') || 'USDT';

/* A per-symbol map over the 10 symbols of snapshot i, values from a and b. */
CREATE FUNCTION bench.symbol_map(i bigint, a integer, b integer, npos integer DEFAULT 10)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT jsonb_object_agg(bench.sym(i + k), ((i * a + k * b) % 1000))
		  FROM generate_series(0, npos - 1) k);

/* The ceiling: one single-row INSERT per transaction of the same document. */
CREATE TABLE bench.ceiling (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	doc jsonb NOT NULL
);

/* Sizes of the four snapshot tables, for the growth plots. */
CREATE FUNCTION bench.sizes(
	OUT relname text, OUT live_rows bigint, OUT dead_rows bigint,
	OUT heap_bytes bigint, OUT index_bytes bigint, OUT toast_bytes bigint,
	OUT total_bytes bigint)
RETURNS SETOF record
LANGUAGE sql STABLE
AS $$
	SELECT c.relname::text, s.n_live_tup, s.n_dead_tup,
		   pg_relation_size(c.oid),
		   pg_indexes_size(c.oid),
		   pg_total_relation_size(c.oid) - pg_relation_size(c.oid) - pg_indexes_size(c.oid),
		   pg_total_relation_size(c.oid)
	  FROM pg_class c
	  JOIN pg_stat_user_tables s ON s.relid = c.oid
	 WHERE c.relname IN ('session_snapshots', 'position_snapshots',
						 'metrics_snapshots', 'risk_guard_snapshots')
	   AND c.relnamespace <> 'bench'::regnamespace
	 ORDER BY 1
$$;

/*
 * Transaction lengths of another backend, sampled: every interval_ms, one
 * short transaction of our own reads the target's xact_start (a procedure
 * that commits, so each sample sees a fresh pg_stat_activity).  A
 * transaction's length is its last sighting minus its start: it is
 * underestimated by at most one interval.  The samples are kept in
 * variables and written once at the end, so that sampling writes nothing
 * while it runs.  Stops after max_seconds, or 500 ms after the target was
 * last seen in a transaction.
 */
CREATE TABLE bench.xact_samples (
	label text,
	xact_start timestamptz,
	last_seen timestamptz
);

CREATE PROCEDURE bench.sample_xacts(label text, target_pid integer,
									max_seconds float8, interval_ms integer DEFAULT 5)
LANGUAGE plpgsql
AS $$
DECLARE
	t_end timestamptz := clock_timestamp() + max_seconds * interval '1 second';
	xs timestamptz;
	starts timestamptz[] := '{}';
	lasts timestamptz[] := '{}';
	n integer := 0;
	idle_since timestamptz;
BEGIN
	WHILE clock_timestamp() < t_end LOOP
		SELECT a.xact_start INTO xs
		  FROM pg_stat_activity a WHERE a.pid = target_pid;
		IF xs IS NOT NULL THEN
			idle_since := NULL;
			IF n > 0 AND starts[n] = xs THEN
				lasts[n] := clock_timestamp();
			ELSE
				n := n + 1;
				starts[n] := xs;
				lasts[n] := clock_timestamp();
			END IF;
		ELSIF n > 0 THEN
			idle_since := coalesce(idle_since, clock_timestamp());
			EXIT WHEN clock_timestamp() - idle_since > interval '500 ms';
		END IF;
		COMMIT;
		PERFORM pg_sleep(interval_ms / 1000.0);
	END LOOP;
	INSERT INTO bench.xact_samples
		SELECT label, s, l FROM unnest(starts, lasts) AS u(s, l);
	COMMIT;
END
$$;
