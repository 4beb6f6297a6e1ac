--
-- Referential integrity between session_snapshots and its children, kept
-- by triggers (src/refint.c), and retention holds (src/holds.c).  A child
-- row without a parent is refused with PostgreSQL's foreign-key error,
-- deletes cascade, a key that children reference cannot change, TRUNCATE
-- of the parent alone is refused; COPY FROM loads children before their
-- parents unchecked and records a retention hold, and while a hold exists
-- retention deletes nothing; release_retention() refuses while rows
-- without a parent remain.  Also who may do what, and a hostile
-- search_path.
--
SET TimeZone = 'UTC';
CREATE EXTENSION snapshot_ops;

-- err(stmt): run a statement that must fail, and show its SQLSTATE,
-- message, detail and the constraint and table the error names
CREATE FUNCTION pg_temp.err(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	st text;
	msg text;
	det text;
	con text;
	tab text;
BEGIN
	EXECUTE stmt;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		det = PG_EXCEPTION_DETAIL, con = CONSTRAINT_NAME, tab = TABLE_NAME;
	RETURN concat_ws(E'\n', st || ': ' || msg, nullif(det, ''),
					 'constraint ' || nullif(con, '') || ' on table ' || tab);
END
$$;

-- counts(): rows in the four tables
CREATE FUNCTION pg_temp.counts() RETURNS text
LANGUAGE sql AS $$
	SELECT format('sessions %s, positions %s, metrics %s, risk_guard %s',
				  (SELECT count(*) FROM public.session_snapshots),
				  (SELECT count(*) FROM public.position_snapshots),
				  (SELECT count(*) FROM public.metrics_snapshots),
				  (SELECT count(*) FROM public.risk_guard_snapshots))
$$;

-- the declarative foreign keys are gone; the constraints are triggers
SELECT conrelid::regclass AS child, conname, contype, condeferrable
  FROM pg_constraint
 WHERE conrelid IN ('position_snapshots'::regclass, 'metrics_snapshots'::regclass,
					'risk_guard_snapshots'::regclass)
   AND contype IN ('f', 't')
 ORDER BY 1, 2;

-- four snapshots 40 days old, three positions, one metrics and one
-- risk_guard row each
INSERT INTO session_snapshots (session_id, status, created_at)
SELECT 's' || g, 'stopped', now() - interval '40 days' FROM generate_series(1, 4) g;
INSERT INTO position_snapshots (snapshot_id, position_key)
SELECT snapshot_id, k FROM session_snapshots, unnest('{A,B,C}'::text[]) k;
INSERT INTO metrics_snapshots (snapshot_id) SELECT snapshot_id FROM session_snapshots;
INSERT INTO risk_guard_snapshots (snapshot_id) SELECT snapshot_id FROM session_snapshots;
SELECT pg_temp.counts();

-- invalid input: child rows without a parent, with PostgreSQL's own error
INSERT INTO position_snapshots (snapshot_id, position_key) VALUES (999, 'X');
SELECT pg_temp.err($$INSERT INTO position_snapshots (snapshot_id, position_key) VALUES (999, 'X')$$);
SELECT pg_temp.err($$INSERT INTO metrics_snapshots (snapshot_id) VALUES (999)$$);
SELECT pg_temp.err($$INSERT INTO risk_guard_snapshots (snapshot_id) VALUES (999)$$);
-- one orphan fails the whole statement
SELECT pg_temp.err($$INSERT INTO position_snapshots (snapshot_id, position_key) VALUES (1, 'D'), (999, 'D')$$);
-- invalid input: re-keying a child to a missing parent
UPDATE metrics_snapshots SET snapshot_id = 1000 WHERE snapshot_id = 1;
SELECT pg_temp.err($$UPDATE position_snapshots SET snapshot_id = 1000 WHERE snapshot_id = 1 AND position_key = 'A'$$);
SELECT pg_temp.counts();

-- re-keying a child to an existing parent, or changing other columns, is fine
UPDATE position_snapshots SET snapshot_id = 2, position_key = 'A1' WHERE snapshot_id = 1 AND position_key = 'A';
UPDATE position_snapshots SET snapshot_id = 1, position_key = 'A' WHERE snapshot_id = 2 AND position_key = 'A1';
UPDATE risk_guard_snapshots SET daily_loss_usd = 1 WHERE snapshot_id = 1;
-- a parent and its children in one statement, as save_snapshot() writes them
WITH s AS (INSERT INTO session_snapshots (session_id, status) VALUES ('s5', 'running') RETURNING snapshot_id),
	 p AS (INSERT INTO position_snapshots (snapshot_id, position_key) SELECT snapshot_id, 'A' FROM s),
	 m AS (INSERT INTO metrics_snapshots (snapshot_id) SELECT snapshot_id FROM s)
SELECT snapshot_id FROM s;

-- invalid input: the key of a snapshot that has children cannot change
-- (NO ACTION); one without children may change it
UPDATE session_snapshots SET snapshot_id = DEFAULT WHERE snapshot_id = 1;
SELECT pg_temp.err($$UPDATE session_snapshots SET snapshot_id = DEFAULT WHERE snapshot_id = 5$$);
INSERT INTO session_snapshots (session_id) VALUES ('lonely') RETURNING snapshot_id;
UPDATE session_snapshots SET snapshot_id = DEFAULT WHERE session_id = 'lonely' RETURNING snapshot_id;
DELETE FROM session_snapshots WHERE session_id = 'lonely';

-- ON DELETE CASCADE: the deleting statement still sees the children it
-- removes (the cascade runs at its end), then they are gone
WITH d AS (DELETE FROM session_snapshots WHERE snapshot_id IN (2, 3) RETURNING snapshot_id)
SELECT (SELECT count(*) FROM d) AS deleted_sessions,
	   (SELECT count(*) FROM position_snapshots p WHERE p.snapshot_id IN (2, 3)) AS their_positions_seen;
SELECT pg_temp.counts();
SELECT count(*) AS children_of_2_and_3
  FROM (SELECT snapshot_id FROM position_snapshots UNION ALL SELECT snapshot_id FROM metrics_snapshots
		UNION ALL SELECT snapshot_id FROM risk_guard_snapshots) c
 WHERE snapshot_id IN (2, 3);
-- a delete that removes nothing cascades nothing
DELETE FROM session_snapshots WHERE snapshot_id = 12345;
-- cascade in a REPEATABLE READ transaction
BEGIN ISOLATION LEVEL REPEATABLE READ;
DELETE FROM session_snapshots WHERE snapshot_id = 5;
SELECT pg_temp.counts();
ROLLBACK;

-- invalid input: TRUNCATE of session_snapshots without all its children
SELECT pg_temp.err('TRUNCATE session_snapshots');
SELECT pg_temp.err('TRUNCATE session_snapshots CASCADE');
SELECT pg_temp.err('TRUNCATE session_snapshots, position_snapshots');
TRUNCATE session_snapshots;
-- a child alone, or the four together, may be truncated
BEGIN;
TRUNCATE position_snapshots;
SELECT pg_temp.counts();
ROLLBACK;
BEGIN;
TRUNCATE session_snapshots, position_snapshots, metrics_snapshots, risk_guard_snapshots;
SELECT pg_temp.counts();
ROLLBACK;
SELECT pg_temp.counts();

-- Bulk loads.  Nothing so far held retention: INSERTs record no hold.
SELECT count(*) AS holds FROM snapshot_ops.list_retention_holds();
-- children first, then their parents, as a parallel restore loads them:
-- accepted, and every COPY records a hold
COPY position_snapshots (snapshot_id, position_key) FROM stdin;
100	P1
100	P2
101	P1
\.
COPY metrics_snapshots (snapshot_id) FROM stdin;
100
101
\.
COPY risk_guard_snapshots (snapshot_id) FROM stdin;
100
\.
COPY session_snapshots (snapshot_id, session_id, status, created_at) FROM stdin;
100	restored	stopped	2026-01-01 00:00:00+00
\.
SELECT pg_temp.counts();
SELECT hold_id, reason, source, held_by FROM snapshot_ops.list_retention_holds();
-- COPY TO records nothing; COPY (INSERT ...) TO is checked like an INSERT
COPY (SELECT snapshot_id FROM session_snapshots ORDER BY 1) TO stdout;
COPY (INSERT INTO position_snapshots (snapshot_id, position_key) VALUES (998, 'Q') RETURNING snapshot_id) TO stdout;
-- so is a COPY run inside a function: it is not the statement being run
DO $$
BEGIN
	COPY position_snapshots (snapshot_id, position_key) FROM PROGRAM 'printf ''997\tF\n''';
END
$$;
SELECT count(*) AS holds FROM snapshot_ops.list_retention_holds();

-- While held, retention deletes nothing (a dry run still counts).  The
-- holds get a fixed time, for the message.
UPDATE snapshot_ops.retention_holds SET held_at = '2026-01-02 03:04:05+00';
SELECT * FROM cleanup_old_snapshots('30 days');
SELECT * FROM cleanup_old_snapshots_30d();
SELECT * FROM cleanup_old_snapshots('30 days', '{stopped,crashed}', dry_run => true);
\set VERBOSITY terse
CALL snapshot_ops.run_cleanup('30 days', 1);
\set VERBOSITY default
-- the worker's cleanup too: its run stops at the hold and is recorded as skipped
SELECT snapshot_ops.run_job('cleanup', true) AS run_id \gset
SELECT status, rows_affected FROM snapshot_ops.job_runs WHERE run_id = :run_id;
SELECT pg_temp.counts();

-- invalid input: release_retention() refuses while child rows lack their
-- parent, and names them per table
SELECT snapshot_ops.release_retention();
SELECT 'position' AS t, snapshot_id, position_key AS key FROM position_snapshots p
 WHERE NOT EXISTS (SELECT FROM session_snapshots s WHERE s.snapshot_id = p.snapshot_id)
UNION ALL
SELECT 'metrics', snapshot_id, NULL FROM metrics_snapshots m
 WHERE NOT EXISTS (SELECT FROM session_snapshots s WHERE s.snapshot_id = m.snapshot_id)
ORDER BY 1, 2;
-- an UPDATE that keeps the key of such a row is not checked, unless the
-- row was loaded by the same transaction
UPDATE position_snapshots SET snapshot_id = snapshot_id WHERE snapshot_id = 101;
BEGIN;
COPY risk_guard_snapshots (snapshot_id) FROM stdin;
102
\.
SELECT pg_temp.err('UPDATE risk_guard_snapshots SET snapshot_id = snapshot_id WHERE snapshot_id = 102');
ROLLBACK;
-- without the orphans the holds are released, and retention deletes again
DELETE FROM position_snapshots p WHERE NOT EXISTS (SELECT FROM session_snapshots s WHERE s.snapshot_id = p.snapshot_id);
DELETE FROM metrics_snapshots m WHERE NOT EXISTS (SELECT FROM session_snapshots s WHERE s.snapshot_id = m.snapshot_id);
SELECT snapshot_ops.release_retention() AS released;
SELECT count(*) AS holds FROM snapshot_ops.list_retention_holds();
SELECT snapshot_ops.release_retention() AS released_again;
SELECT * FROM cleanup_old_snapshots('30 days');
SELECT pg_temp.counts();

-- force: release although a row lacks its parent; the row stays
COPY metrics_snapshots (snapshot_id) FROM stdin;
200
\.
SELECT snapshot_ops.release_retention(force => true) AS released;
SELECT count(*) AS kept FROM metrics_snapshots WHERE snapshot_id = 200;
DELETE FROM metrics_snapshots WHERE snapshot_id = 200;

-- a manual hold, as before a restore that fires no triggers
SELECT snapshot_ops.hold_retention('restore of the 2026-11-01 backup with --disable-triggers') > 0 AS held;
SELECT reason, source, held_by FROM snapshot_ops.list_retention_holds();
UPDATE snapshot_ops.retention_holds SET held_at = '2026-01-02 03:04:05+00';
SELECT snapshot_ops.hold_retention('second') > 0 AS held;
SELECT * FROM cleanup_old_snapshots('1 second', '{running,stopped,crashed}');
SELECT snapshot_ops.release_retention() AS released;
-- invalid input
SELECT pg_temp.err('SELECT snapshot_ops.hold_retention(NULL)');
SELECT pg_temp.err($$SELECT snapshot_ops.hold_retention(' ')$$);
SELECT pg_temp.err('SELECT snapshot_ops.release_retention(NULL)');

-- Who may do what.  The admin level holds, releases and lists; the table
-- itself is its owner's.  A writer's bulk load records a hold in the
-- writer's name; its inserts are checked as the parent table's owner.
CREATE ROLE regress_int_reader;
CREATE ROLE regress_int_writer;
CREATE ROLE regress_int_admin;
CREATE ROLE regress_int_insert_only;
SELECT count(*) > 0 AS granted FROM snapshot_ops.grant_access('regress_int_reader', 'reader');
SELECT count(*) > 0 AS granted FROM snapshot_ops.grant_access('regress_int_writer', 'writer');
SELECT count(*) > 0 AS granted FROM snapshot_ops.grant_access('regress_int_admin', 'admin');
GRANT INSERT ON position_snapshots TO regress_int_insert_only;
SELECT p.proname,
	   has_function_privilege('regress_int_reader', p.oid, 'EXECUTE') AS reader,
	   has_function_privilege('regress_int_writer', p.oid, 'EXECUTE') AS writer,
	   has_function_privilege('regress_int_admin', p.oid, 'EXECUTE') AS admin
  FROM pg_proc p
 WHERE p.pronamespace = 'snapshot_ops'::regnamespace
   AND p.proname IN ('hold_retention', 'release_retention', 'list_retention_holds', 'refint_check_parent',
					 'refint_cascade_delete', 'refint_restrict_key_update', 'refint_check_truncate',
					 'note_bulk_load')
 ORDER BY 1;
SELECT r, has_table_privilege(r, 'snapshot_ops.retention_holds', 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE') AS any_privilege
  FROM unnest(ARRAY['regress_int_reader', 'regress_int_writer', 'regress_int_admin']) r;

SET ROLE regress_int_writer;
SELECT save_snapshot('{"session": {"session_id": "w", "status": "stopped"}, "positions": {"active_orders": {"X": {}}}}') > 0 AS saved;
SELECT pg_temp.err($$INSERT INTO position_snapshots (snapshot_id, position_key) VALUES (999, 'W')$$);
-- a writer's COPY is an INSERT like any other: checked, and no hold (only
-- the owner or a superuser, as a restore runs, loads unchecked)
COPY session_snapshots (session_id, status) FROM stdin;
bulk	stopped
\.
\set VERBOSITY terse
COPY position_snapshots (snapshot_id, position_key) FROM stdin;
999	W
\.
\set VERBOSITY default
SELECT pg_temp.err($$SELECT snapshot_ops.hold_retention('x')$$);
SELECT pg_temp.err('SELECT snapshot_ops.release_retention()');
SELECT pg_temp.err('SELECT count(*) FROM snapshot_ops.list_retention_holds()');
SET ROLE regress_int_reader;
SELECT pg_temp.err('SELECT snapshot_ops.release_retention()');
-- without SELECT, the key is not shown
SET ROLE regress_int_insert_only;
SELECT pg_temp.err($$INSERT INTO position_snapshots (snapshot_id, position_key) VALUES (999, 'I')$$);
INSERT INTO position_snapshots (snapshot_id, position_key)
VALUES (5, 'I');
SET ROLE regress_int_admin;
SELECT pg_temp.err('SELECT count(*) FROM snapshot_ops.retention_holds');
SELECT pg_temp.err('DELETE FROM snapshot_ops.retention_holds');
SELECT reason, source, held_by FROM snapshot_ops.list_retention_holds();
SELECT snapshot_ops.release_retention() AS released;
SELECT snapshot_ops.hold_retention('held by an admin') > 0 AS held;
SELECT held_by FROM snapshot_ops.list_retention_holds();
SELECT snapshot_ops.release_retention() AS released;
RESET ROLE;

-- A hostile search_path: an operator = on bigint, a count(*) and look-alike
-- tables before pg_catalog, and temporary tables named like the extension's
-- (pg_temp comes first for relations).  The triggers and the hold
-- functions never reach them.
CREATE SCHEMA evil;
CREATE TABLE evil.decoy_log (what text);
CREATE FUNCTION evil.decoy_eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN INSERT INTO evil.decoy_log VALUES ('bigint = bigint'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.decoy_eq);
CREATE FUNCTION evil.count_sfunc(bigint) RETURNS bigint LANGUAGE plpgsql
AS $$ BEGIN INSERT INTO evil.decoy_log VALUES ('count(*)'); RETURN $1 OPERATOR(pg_catalog.+) 1; END $$;
CREATE AGGREGATE evil.count(*) (SFUNC = evil.count_sfunc, STYPE = bigint, INITCOND = '0');
CREATE TABLE evil.session_snapshots (LIKE public.session_snapshots);
CREATE TABLE evil.retention_holds (LIKE snapshot_ops.retention_holds);
CREATE TEMP TABLE session_snapshots (LIKE public.session_snapshots);
CREATE TEMP TABLE position_snapshots (LIKE public.position_snapshots);
INSERT INTO pg_temp.session_snapshots (snapshot_id, session_id, loop_count, status, snapshot_type, created_at)
VALUES (999, 'decoy', 0, 'stopped', 'periodic', now());
INSERT INTO evil.session_snapshots SELECT * FROM pg_temp.session_snapshots;
SET search_path = evil, pg_catalog, public;
SELECT pg_temp.err($$INSERT INTO public.position_snapshots (snapshot_id, position_key) VALUES (999, 'E')$$);
SELECT public.save_snapshot('{"session": {"session_id": "e", "status": "stopped"}, "positions": {"active_orders": {"E": {}}}}') > 0 AS saved;
COPY public.metrics_snapshots (snapshot_id) FROM stdin;
300
\.
SELECT reason, source FROM snapshot_ops.list_retention_holds();
SELECT snapshot_ops.release_retention();
DELETE FROM public.metrics_snapshots WHERE snapshot_id OPERATOR(pg_catalog.=) 300;
SELECT snapshot_ops.release_retention() AS released;
DELETE FROM public.session_snapshots WHERE session_id OPERATOR(pg_catalog.=) 'e';
SELECT pg_temp.err('TRUNCATE public.session_snapshots');
UPDATE public.session_snapshots SET snapshot_id = DEFAULT WHERE session_id OPERATOR(pg_catalog.=) 'w';
SET search_path = public;
SELECT pg_temp.counts();
SELECT * FROM evil.decoy_log;
SELECT count(*) AS temp_sessions FROM pg_temp.session_snapshots;
SELECT count(*) AS evil_holds FROM evil.retention_holds;
DROP SCHEMA evil CASCADE;
DROP TABLE pg_temp.session_snapshots, pg_temp.position_snapshots;

DROP EXTENSION snapshot_ops;
DROP ROLE regress_int_reader, regress_int_writer, regress_int_admin, regress_int_insert_only;
