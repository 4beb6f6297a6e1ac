# Copyright (c) 2026, snapshot_ops developers
#
# t/072_job_runner.pl: the job runner under ordinary trouble.
#
#  1. The cleanup resumes where the previous batch stopped: over a backlog
#     of 200,000 expired snapshots it keeps (finished mode, running
#     sessions) and 5,000 it deletes, in batches of 100, the scheduled
#     cleanup and CALL run_cleanup() read the retention index once (index
#     entries read, not time, are compared).
#  2. A lock on snapshot_ops.job_runs held past the bookkeeping's lock
#     timeout during a cleanup: the batches go on, the worker stays, the
#     run is recorded late with its real outcome; a job that fails while
#     the table is locked is recorded with its own error.
#  3. Database and role settings that would break a session
#     (default_transaction_read_only, statement_timeout, lock_timeout,
#     idle_in_transaction_session_timeout, search_path,
#     session_replication_role, default_transaction_isolation,
#     exit_on_error, role): the worker runs its jobs, no restart loop.
#  5. A request whose caller gave up (timeout, cancel) never runs.
#  6. An error message longer than the shared-memory buffer reaches the
#     caller clipped on a character boundary, valid UTF-8.
#  +  SQL newer than the library: worker_status() and the log say why no
#     worker runs.
use strict;
use warnings;

use Encode qw(decode FB_CROAK);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('runner');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
snapshot_ops.enable_scheduler = off
snapshot_ops.vacuum_lock_timeout = '3s'
autovacuum = off
fsync = off
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', 'CREATE EXTENSION snapshot_ops');
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'the worker runs');
my $pid = $node->safe_psql('app', q{SELECT pid FROM snapshot_ops.worker_status()});

# --- 1. linear cleanup ---------------------------------------------------------
# expired snapshots of running sessions (kept in finished mode) interleaved
# with expired stopped ones (deleted); each running session has a newer
# snapshot, so that only the status keeps the old ones
sub make_backlog
{
	$node->safe_psql('app', q{
		INSERT INTO session_snapshots (session_id, status, created_at)
		SELECT 's' || (g % 1000), CASE WHEN g % 41 = 0 THEN 'stopped' ELSE 'running' END,
			   now() - interval '40 days' - g * interval '1 second'
		  FROM generate_series(1, 205000) g;
		ANALYZE session_snapshots;
	});
}
$node->safe_psql('app', q{
	ALTER DATABASE app SET snapshot_ops.retention_mode = 'finished';
	ALTER DATABASE app SET snapshot_ops.cleanup_batch_size = 100;
	SELECT pg_reload_conf();
	INSERT INTO session_snapshots (session_id, status, created_at)
	SELECT 's' || g, 'running', now() FROM generate_series(0, 999) g;
});
make_backlog();
is($node->safe_psql('app', q{SELECT count(*) FROM session_snapshots WHERE status = 'stopped'}), '5000',
	'backlog: 5,000 expired stopped snapshots');
cmp_ok($node->safe_psql('app', q{SELECT count(*) FROM session_snapshots WHERE status = 'running'}),
	'>=', 200000, 'and 200,000 expired running ones, kept in finished mode');
ok($node->poll_query_until('app', q{
		SELECT running AND pid <> } . $pid . q{ FROM snapshot_ops.worker_status()}),
	'the worker restarted with the database settings');
$pid = $node->safe_psql('app', q{SELECT pid FROM snapshot_ops.worker_status()});

# entries of the retention index read by a statement run in another
# session (the worker, or a CALL): the cumulative statistics, once the
# other process has reported them
sub index_entries_read
{
	my ($sql) = @_;
	my $read_sql = q{SELECT idx_tup_read FROM pg_stat_user_indexes
		WHERE indexrelname = 'idx_session_snapshots_retention'};
	my $before = $node->safe_psql('app', $read_sql);
	$node->safe_psql('app', $sql);
	sleep 2;
	return $node->safe_psql('app', $read_sql) - $before;
}

my $run = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('cleanup', true)});
is($node->safe_psql('app', qq{SELECT status, rows_affected FROM snapshot_ops.job_runs WHERE run_id = $run}),
	'succeeded|5000', "the worker's cleanup deletes the 5,000 expired stopped snapshots");
like($node->safe_psql('app', qq{SELECT message FROM snapshot_ops.job_runs WHERE run_id = $run}),
	qr/batches: 50 of at most 100/, 'in 50 batches of 100');
$node->safe_psql('app', q{DELETE FROM session_snapshots WHERE created_at < now() - interval '1 day'});
make_backlog();
my $worker_read = index_entries_read(q{SELECT snapshot_ops.run_job('cleanup', true)});
$node->safe_psql('app', q{DELETE FROM session_snapshots WHERE created_at < now() - interval '1 day'});
make_backlog();
my $call_read = index_entries_read(q{CALL snapshot_ops.run_cleanup()});
diag "retention index entries read: worker $worker_read, CALL run_cleanup() $call_read (backlog 205,000)";
cmp_ok($worker_read, '<', 3 * 205000,
	"the worker's run reads the index a bounded number of times per entry (a restart per batch would read ~5,000,000)");
cmp_ok($call_read, '<', 3 * 205000, 'so does CALL run_cleanup()');
cmp_ok(abs($worker_read - $call_read), '<=', 0.1 * $call_read, 'the two paths read the same');
is($node->safe_psql('app', q{SELECT count(*) FROM snapshot_ops.job_runs WHERE trigger = 'call' AND status = 'succeeded' AND rows_affected = 5000}),
	'1', 'the CALL is recorded like a worker run');
$node->safe_psql('app', q{
	DELETE FROM session_snapshots;
	ALTER DATABASE app RESET snapshot_ops.retention_mode;
	ALTER DATABASE app RESET snapshot_ops.cleanup_batch_size;
	SELECT pg_reload_conf();
});
ok($node->poll_query_until('app', qq{SELECT running AND pid <> $pid FROM snapshot_ops.worker_status()}),
	'the worker restarted with the settings reset');
$pid = $node->safe_psql('app', q{SELECT pid FROM snapshot_ops.worker_status()});

# --- 2. job_runs locked ---------------------------------------------------------
$node->safe_psql('app', q{
	ALTER DATABASE app SET snapshot_ops.cleanup_batch_size = 50;
	SELECT pg_reload_conf();
});
ok($node->poll_query_until('app', qq{SELECT running AND pid <> $pid FROM snapshot_ops.worker_status()}),
	'the worker restarted with batches of 50');
$pid = $node->safe_psql('app', q{SELECT pid FROM snapshot_ops.worker_status()});
$node->safe_psql('app', q{
	INSERT INTO session_snapshots (session_id, status, created_at)
	SELECT 'x' || g, 'stopped', now() - interval '40 days' FROM generate_series(1, 20000) g;
	INSERT INTO position_snapshots (snapshot_id, position_key)
	SELECT snapshot_id, 'P' FROM session_snapshots;
});
my $log_offset = -s $node->logfile;
my $locker = $node->background_psql('app');
$locker->query_safe('BEGIN; LOCK TABLE snapshot_ops.job_runs IN SHARE MODE;');
my $started = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('cleanup')});
like($started, qr/^\d+$/, 'run_job() gets a run id while job_runs is locked');
ok($node->poll_query_until('app', q{SELECT count(*) = 0 FROM session_snapshots WHERE session_id LIKE 'x%'}),
	'the batches go on and delete everything while job_runs is locked');
sleep 2;	# past the bookkeeping's lock timeout (1 s)
is($node->safe_psql('app', qq{SELECT count(*) FROM snapshot_ops.job_runs WHERE run_id = $started}), '0',
	'nothing could be recorded yet');
$locker->query_safe('COMMIT');
$locker->quit;
ok($node->poll_query_until('app', qq{SELECT status = 'succeeded' FROM snapshot_ops.job_runs WHERE run_id = $started}),
	'the run is recorded once the lock is gone');
is($node->safe_psql('app', qq{SELECT rows_affected FROM snapshot_ops.job_runs WHERE run_id = $started}),
	'20000', 'with the true count');
like($node->safe_psql('app', qq{SELECT message FROM snapshot_ops.job_runs WHERE run_id = $started}),
	qr/recorded \d+ s late: snapshot_ops.job_runs could not be written: canceling statement due to lock timeout/,
	'and a note saying it was recorded late, and why');
is($node->safe_psql('app', q{SELECT pid FROM snapshot_ops.worker_status()}), $pid,
	'the same worker goes on');
is($node->safe_psql('app', q{SELECT count(*) FROM position_snapshots}), '0', 'no orphan left');
my $log = slurp_file($node->logfile, $log_offset);
my $warnings = () = $log =~ /WARNING:  snapshot_ops: could not write snapshot_ops.job_runs/g;
is($warnings, 1, 'the failed write is logged once, not at every retry');
is(scalar(() = $log =~ /LOG:  snapshot_ops: snapshot_ops.job_runs can be written again; 1 kept run record is written/g), 1,
	'and its end once');

# a job that fails while job_runs is locked is recorded with its own error
$node->safe_psql('app', q{
	INSERT INTO session_snapshots (session_id, status, created_at)
	SELECT 'y' || g, 'stopped', now() - interval '40 days' FROM generate_series(1, 10) g;
	CREATE FUNCTION public.refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN RAISE EXCEPTION 'deleting % is forbidden today', OLD.session_id; END $$;
	CREATE TRIGGER refuse BEFORE DELETE ON session_snapshots FOR EACH ROW EXECUTE FUNCTION public.refuse_delete();
});
$locker = $node->background_psql('app');
$locker->query_safe('BEGIN; LOCK TABLE snapshot_ops.job_runs IN SHARE MODE;');
$started = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('cleanup')});
sleep 2;
$locker->query_safe('COMMIT');
$locker->quit;
ok($node->poll_query_until('app', qq{SELECT status = 'failed' FROM snapshot_ops.job_runs WHERE run_id = $started}),
	'a run that failed while job_runs was locked is recorded as failed');
like($node->safe_psql('app', qq{SELECT message FROM snapshot_ops.job_runs WHERE run_id = $started}),
	qr/deleting y\d+ is forbidden today.*recorded \d+ s late/,
	'with its own error, not the lock timeout of the bookkeeping');
is($node->safe_psql('app', q{SELECT pid FROM snapshot_ops.worker_status()}), $pid,
	'and the worker goes on');

# --- 6. long multibyte message -------------------------------------------------
$node->safe_psql('app', q{
	CREATE OR REPLACE FUNCTION public.refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN RAISE EXCEPTION '%', repeat('ü€', 300); END $$;
});
my ($ret, $out, $err) = $node->psql('app', q{SELECT snapshot_ops.run_job('cleanup', true)});
isnt($ret, 0, 'run_job(wait) reports the failed cleanup');
my ($detail) = $err =~ /DETAIL:\s+(.*)/s;
ok(defined $detail && length($detail) > 100, 'the error detail carries the message');
my $valid = eval { decode('UTF-8', $detail, FB_CROAK); 1 };
ok($valid, 'the detail, clipped to the shared-memory buffer, is valid UTF-8');
cmp_ok(length($detail), '<', 600, 'and clipped');
is($node->safe_psql('app', q{
		SELECT octet_length(message) >= 1500 FROM snapshot_ops.job_runs
		 WHERE job = 'cleanup' ORDER BY run_id DESC LIMIT 1}),
	't', 'job_runs keeps the whole message');
$node->safe_psql('app', q{DROP TRIGGER refuse ON session_snapshots; DELETE FROM session_snapshots;});

# --- 5. a request whose caller gave up never runs --------------------------------
# keep the worker busy: its cleanup waits for a row lock (up to 3 s)
$node->safe_psql('app', q{
	INSERT INTO session_snapshots (session_id, status, created_at)
	VALUES ('busy', 'stopped', now() - interval '40 days')});
$locker = $node->background_psql('app');
$locker->query_safe(q{BEGIN; SELECT 1 FROM session_snapshots WHERE session_id = 'busy' FOR UPDATE;});
my $busy = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('cleanup')});
ok($node->poll_query_until('app', q{SELECT state LIKE 'running cleanup%' FROM snapshot_ops.worker_status()}),
	'the worker is busy with a cleanup');
($ret, $out, $err) = $node->psql('app', q{
	SET snapshot_ops.vacuum_wait_timeout = '1s';
	SELECT snapshot_ops.run_job('vacuum')});
like($err, qr/did not start the vacuum job within 1000 ms.*request was withdrawn/s,
	'a caller that stops waiting says its request is withdrawn');
($ret, $out, $err) = $node->psql('app', q{
	SET statement_timeout = '1s';
	SELECT vacuum_snapshot_tables()});
like($err, qr/canceling statement due to statement timeout/, 'a cancelled caller');
$locker->query_safe('COMMIT');
$locker->quit;
ok($node->poll_query_until('app', qq{SELECT status <> 'running' FROM snapshot_ops.job_runs WHERE run_id = $busy}),
	'the busy run ends');
# one full round of the worker's loop
$node->safe_psql('app', q{SELECT snapshot_ops.run_job('cleanup', true)});
sleep 2;
is($node->safe_psql('app', q{SELECT count(*) FROM snapshot_ops.job_runs WHERE job = 'vacuum'}), '0',
	'neither withdrawn request ever ran');

# --- 3. settings that would break a session ---------------------------------------
$node->safe_psql('postgres', q{
	CREATE ROLE plain NOLOGIN;
	ALTER DATABASE app SET default_transaction_read_only = on;
	ALTER DATABASE app SET statement_timeout = '1ms';
	ALTER DATABASE app SET lock_timeout = '1ms';
	ALTER DATABASE app SET idle_in_transaction_session_timeout = '50ms';
	ALTER DATABASE app SET idle_session_timeout = '50ms';
	ALTER DATABASE app SET search_path = 'nowhere';
	ALTER DATABASE app SET session_replication_role = 'replica';
	ALTER DATABASE app SET default_transaction_isolation = 'serializable';
	ALTER DATABASE app SET exit_on_error = on;
	ALTER ROLE CURRENT_USER IN DATABASE app SET role = 'plain';
	SELECT pg_reload_conf();
});
# this test's own sessions undo them
my $undo = q{SET ROLE NONE; SET statement_timeout = 0; SET lock_timeout = 0; SET idle_session_timeout = 0;
	SET idle_in_transaction_session_timeout = 0; SET default_transaction_read_only = off;
	SET exit_on_error = off; SET search_path = public;
	SET default_transaction_isolation = 'read committed'; SET session_replication_role = origin;};
ok($node->poll_query_until('postgres', qq{SELECT count(*) = 1 FROM pg_stat_activity
		WHERE backend_type = 'snapshot_ops worker' AND datname = 'app' AND pid <> $pid}),
	'the worker restarts once with the new settings');
$pid = $node->safe_psql('app', $undo . q{SELECT pid FROM snapshot_ops.worker_status()});
$node->safe_psql('app', $undo . q{
	INSERT INTO session_snapshots (session_id, status, created_at)
	SELECT 'z' || g, 'stopped', now() - interval '40 days' FROM generate_series(1, 30) g;
	INSERT INTO position_snapshots (snapshot_id, position_key) SELECT snapshot_id, 'P' FROM session_snapshots;});
$run = $node->safe_psql('app', $undo . q{SELECT snapshot_ops.run_job('cleanup', true)});
is($node->safe_psql('app', $undo . qq{SELECT status, rows_affected FROM snapshot_ops.job_runs WHERE run_id = $run}),
	'succeeded|30', 'the cleanup succeeds under all of them');
is($node->safe_psql('app', $undo . q{SELECT count(*) FROM position_snapshots}), '0',
	'with its cascade (session_replication_role does not reach the worker)');
like($node->safe_psql('app', $undo . q{SELECT vacuum_snapshot_tables()}),
	qr/^VACUUM ANALYZE completed for 4 tables/, 'the vacuum succeeds under all of them');
sleep 12;	# longer than a retry period of the launcher
is($node->safe_psql('app', $undo . q{SELECT pid || ',' || failures FROM snapshot_ops.worker_status()}),
	"$pid,0", 'no restart loop: the same worker, no failure');
$node->safe_psql('postgres', q{
	ALTER DATABASE app RESET ALL;
	ALTER ROLE CURRENT_USER IN DATABASE app RESET ALL;
	SELECT pg_reload_conf();
});
ok($node->poll_query_until('app', qq{SELECT running AND pid <> $pid FROM snapshot_ops.worker_status()}),
	'and the worker applies the reset');

# --- restored history ahead of the identity sequence ---------------------------
# a restore loads job_runs before it sets the sequence: a run that starts in
# between draws ids the history already uses; it must take a free one and
# never overwrite a restored row
$node->safe_psql('app', q{
	TRUNCATE snapshot_ops.job_runs;
	ALTER TABLE snapshot_ops.job_runs ALTER COLUMN run_id RESTART WITH 1;
	INSERT INTO snapshot_ops.job_runs (run_id, job, trigger, started_at, finished_at, status, rows_affected, message)
	OVERRIDING SYSTEM VALUE
	SELECT g, 'cleanup', 'schedule', now() - interval '20 days', now() - interval '20 days', 'succeeded', g, 'restored ' || g
	  FROM generate_series(1, 5) g;
});
my $history = $node->safe_psql('app', q{SELECT string_agg(r::text, '|' ORDER BY run_id) FROM snapshot_ops.job_runs r});
$run = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('vacuum', true)});
is($node->safe_psql('app', q{SELECT string_agg(r::text, '|' ORDER BY run_id) FROM snapshot_ops.job_runs r WHERE run_id <= 5}),
	$history, 'a run whose ids the restored history uses overwrites none of its rows');
is($node->safe_psql('app', q{SELECT run_id || ' ' || job || ' ' || status FROM snapshot_ops.job_runs WHERE run_id > 5}),
	'6 vacuum succeeded', 'and is recorded under the next free id');

# --- SQL newer than the library --------------------------------------------------
$pid = $node->safe_psql('app', q{SELECT pid FROM snapshot_ops.worker_status()});
$log_offset = -s $node->logfile;
$node->safe_psql('app', q{UPDATE pg_extension SET extversion = '9.9' WHERE extname = 'snapshot_ops'});
ok($node->poll_query_until('app', q{SELECT NOT running FROM snapshot_ops.worker_status()}),
	'no worker serves a version the library does not know');
like($node->safe_psql('app', q{SELECT reason FROM snapshot_ops.worker_status()}),
	qr/The worker cannot serve this database: the database has snapshot_ops version 9\.9, newer than the installed library/,
	'worker_status() says why');
like(slurp_file($node->logfile, $log_offset), qr/cannot serve extension version "9\.9"/, 'and so does the log');
($ret, $out, $err) = $node->psql('app', q{CALL snapshot_ops.run_cleanup()});
like($err, qr/snapshot_ops version "9\.9" is not supported by the installed library/,
	'run_cleanup() refuses to delete in a schema the library does not know, naming the version');
$node->safe_psql('app', q{UPDATE pg_extension SET extversion = '1.1' WHERE extname = 'snapshot_ops';
	SELECT snapshot_ops.start_worker()});
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'back at 1.1, start_worker() brings the worker back');

$node->stop;
done_testing();
