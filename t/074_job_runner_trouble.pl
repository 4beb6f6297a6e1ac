# Copyright (c) 2026, snapshot_ops developers
#
# t/074_job_runner_trouble.pl: the fixes of commit 40d1bbf (the job runner
# under trouble), each forced deterministically with locks held by other
# sessions rather than timing.
#
#  1. A cancel (pg_cancel_backend(), statement_timeout) of CALL
#     run_cleanup() while its bookkeeping waits for a lock on job_runs ends
#     the CALL at once with SQLSTATE 57014: nothing deleted, no run left
#     half-written.
#  3. A GIN rebuild gives way to a caller waiting for the next vacuum run:
#     the run is recorded as succeeded with the rebuild postponed, and the
#     next run rebuilds.
#  4. job_runs' identity sequence locked: run_job() returns NULL with the
#     NOTICE "the vacuum run has no run id yet"; the run is recorded with
#     an id once the lock goes.
#  5. DROP DATABASE and ALTER DATABASE RENAME stop the worker without a
#     failure: the log says "stopped for a command", worker_status() says
#     "waiting to restart", failures stay 0, and the renamed database gets
#     its worker back.
#  6. A database closed with ALLOW_CONNECTIONS false when its worker
#     restarts is "waiting for connections" and gets its worker back within
#     SO_CLOSED_RECHECK_SECONDS (60 s) of being opened again; so does one
#     closed while the server starts.
#  7. A reload while pg_db_role_setting is locked: the configuration file
#     applies at once though the catalog read fails, and after that failed
#     read the worker applies the database settings once the lock goes
#     (it used to crash or hang: error_context_stack left dangling).
#  8. Runs left 'running' by a dead process are marked interrupted by the
#     next worker, also when the dead worker had the new worker's pid (a
#     restarted container); runs of live processes are left alone.
#  9. With snapshot_ops.enable_scheduler off for the worker, worker_status()
#     says so whatever the reader's session sets; on for the worker, no
#     reason whatever the reader's session sets.
# 10. CALL run_cleanup() in a read-only transaction or on a standby fails
#     with SQLSTATE 25006 naming the command.
# 11. Too few background worker slots: the launcher's log gives the
#     max_worker_processes arithmetic, "to at most 5" for 3 databases.
#
# Case 2 (a withdrawn request never runs) is t/072_job_runner.pl case 5.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('trouble');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
snapshot_ops.enable_scheduler = off
snapshot_ops.vacuum_lock_timeout = '2s'
autovacuum = off
fsync = off
});
$node->start;

my @dbs = ('app', 'x1', 'x2', 'ren', 'gone');
foreach my $db (@dbs)
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION snapshot_ops');
}
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 5 FROM pg_stat_activity WHERE backend_type = 'snapshot_ops worker'}),
	'every database gets its worker');
my $pid = $node->safe_psql('app', q{SELECT pid FROM snapshot_ops.worker_status()});

# psql with SQLSTATEs in its error messages: (exit code, stdout, stderr)
sub psql_verbose
{
	my ($n, $db, $sql) = @_;
	my ($ret, $out, $err) = $n->psql($db, "\\set VERBOSITY verbose\n$sql");
	return ($ret, $out, $err);
}

# wait for a pattern to appear in the server log after $offset
sub wait_for_log
{
	my ($offset, $re, $count, $timeout) = @_;
	$count //= 1;
	my $deadline = time + ($timeout // $PostgreSQL::Test::Utils::timeout_default);
	while (time < $deadline)
	{
		my $n = () = slurp_file($node->logfile, $offset) =~ /$re/g;
		return 1 if $n >= $count;
		usleep(100_000);
	}
	return 0;
}

# poll a query in an open session (new connections may be blocked) until 't'
sub bg_poll
{
	my ($session, $sql) = @_;
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
	while (time < $deadline)
	{
		return 1 if $session->query($sql) eq 't';
		usleep(100_000);
	}
	return 0;
}

# --- 9. the worker's scheduler is off -------------------------------------------
my $scheduler_off = q{The worker's scheduler is off (snapshot_ops.enable_scheduler, as the worker's database and role settings make it): jobs run only on request.};
is($node->safe_psql('app', q{SELECT reason FROM snapshot_ops.worker_status()}),
	$scheduler_off, 'scheduler off: worker_status() gives the reason');
is($node->safe_psql('app', q{SET snapshot_ops.enable_scheduler = on;
		SELECT reason FROM snapshot_ops.worker_status()}),
	$scheduler_off, "the reader's own session setting does not change it");
is($node->safe_psql('app', q{SET snapshot_ops.enable_scheduler = on;
		SELECT string_agg(job || ':' || enabled || ':' || source, ',' ORDER BY job) FROM snapshot_ops.job_schedules()}),
	'cleanup:false:worker,vacuum:false:worker', 'job_schedules() shows both jobs disabled in the worker');

# --- 10. read-only ----------------------------------------------------------------
my ($ret, $out, $err) = psql_verbose($node, 'app', q{
	SET default_transaction_read_only = on;
	CALL snapshot_ops.run_cleanup();});
like($err, qr/ERROR:  25006: cannot execute CALL snapshot_ops\.run_cleanup\(\) in a read-only transaction/,
	'default_transaction_read_only: CALL run_cleanup() fails with 25006 naming the command');

# --- 1. a cancel reaches CALL run_cleanup() during its bookkeeping ---------------------
$node->safe_psql('app', q{
	INSERT INTO session_snapshots (session_id, status, created_at)
	SELECT 'old' || g, 'stopped', now() - interval '40 days' FROM generate_series(1, 5) g;});
my $calls_sql = q{SELECT count(*) FROM snapshot_ops.job_runs WHERE trigger = 'call'};
my $calls = $node->safe_psql('app', $calls_sql);
my $locker = $node->background_psql('app');
$locker->set_query_timer_restart();
$locker->query_safe('BEGIN; LOCK TABLE snapshot_ops.job_runs IN ACCESS EXCLUSIVE MODE;');
my ($call_out, $call_err) = ('', '');
my $call = IPC::Run::start(
	[ 'psql', '-XAtq', '-v', 'VERBOSITY=verbose',
	  '-d', $node->connstr('app') . ' application_name=t074call',
	  '-c', 'CALL snapshot_ops.run_cleanup()' ],
	'>', \$call_out, '2>', \$call_err,
	IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
# cancel the CALL from inside the server as soon as it waits for job_runs
# (the bookkeeping's lock timeout is 1 s; a poll from outside could miss it)
my $cancelled = $node->safe_psql('app', q{
	DO $$
	DECLARE p int;
	BEGIN
		FOR i IN 1 .. 18000 LOOP
			PERFORM pg_stat_clear_snapshot();
			SELECT a.pid INTO p FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
			 WHERE a.application_name = 't074call' AND NOT l.granted
			   AND l.relation = 'snapshot_ops.job_runs'::regclass;
			IF p IS NOT NULL THEN
				PERFORM pg_cancel_backend(p);
				RAISE NOTICE 'cancelled';
				RETURN;
			END IF;
			PERFORM pg_sleep(0.01);
		END LOOP;
		RAISE EXCEPTION 'the CALL never waited for job_runs';
	END $$;
	SELECT 'ok'});
my $t0 = time;
$call->finish;
my $elapsed = time - $t0;
is($cancelled, 'ok', 'the CALL waited for its bookkeeping on job_runs and was cancelled there');
like($call_err, qr/ERROR:  57014: canceling statement due to user request/,
	'the cancel ends CALL run_cleanup() with SQLSTATE 57014');
cmp_ok($elapsed, '<', 5, sprintf('promptly (%.1f s after the cancel)', $elapsed));

# statement_timeout lands in the same wait: the CALL ends instead of going on
my $start = time;
($ret, $out, $err) = psql_verbose($node, 'app', q{
	SET statement_timeout = '500ms';
	CALL snapshot_ops.run_cleanup();});
$elapsed = time - $start;
like($err, qr/ERROR:  57014: canceling statement due to statement timeout/,
	'statement_timeout during the bookkeeping ends the CALL with 57014');
cmp_ok($elapsed, '<', 5, sprintf('within its limit, not after the run (%.1f s)', $elapsed));
$locker->query_safe('COMMIT');
is($node->safe_psql('app', q{SELECT count(*) FROM session_snapshots WHERE session_id LIKE 'old%'}), '5',
	'the cancelled CALLs deleted nothing');
is($node->safe_psql('app', $calls_sql), $calls, 'and left no run in job_runs, half-written or other');
is($node->safe_psql('app', q{CALL snapshot_ops.run_cleanup();
		SELECT status || ' ' || rows_affected FROM snapshot_ops.job_runs WHERE trigger = 'call' ORDER BY run_id DESC LIMIT 1}),
	'succeeded 5', 'once the lock is gone, a CALL runs and is recorded');

# --- 4. job_runs' sequence locked -------------------------------------------------------
my $seq = $node->safe_psql('app', q{SELECT pg_get_serial_sequence('snapshot_ops.job_runs', 'run_id')});
my $max_id = $node->safe_psql('app', q{SELECT max(run_id) FROM snapshot_ops.job_runs});
my $log_offset = -s $node->logfile;
# ALTER SEQUENCE holds ShareRowExclusiveLock: nextval() waits for it
$locker->query_safe("BEGIN; ALTER SEQUENCE $seq CACHE 1;");
($ret, $out, $err) = psql_verbose($node, 'app', q{SELECT snapshot_ops.run_job('vacuum') IS NULL});
is($out, 't', 'with the sequence locked, run_job() returns NULL');
like($err, qr/NOTICE:  00000: the vacuum run has no run id yet\nDETAIL:  snapshot_ops.job_runs could not be written when the run started; the run is recorded, with an id, once it can be\./,
	'with the NOTICE that the run has no id yet');
ok(wait_for_log($log_offset, qr/WARNING:  snapshot_ops: could not write snapshot_ops\.job_runs: canceling statement due to lock timeout/),
	'the worker logs that it cannot write job_runs');
$locker->query_safe('COMMIT');
ok( $node->poll_query_until('app', qq{
		SELECT count(*) = 1 FROM snapshot_ops.job_runs WHERE job = 'vacuum' AND run_id > $max_id AND status = 'succeeded'}),
	'once the lock goes, the run is recorded with an id');
like($node->safe_psql('app', qq{SELECT message FROM snapshot_ops.job_runs WHERE job = 'vacuum' AND run_id > $max_id}),
	qr/^VACUUM ANALYZE completed for 4 tables.*recorded \d+ s late: snapshot_ops.job_runs could not be written: canceling statement due to lock timeout/s,
	'with its real outcome and a note on the delay');
like($node->safe_psql('app', q{SELECT snapshot_ops.run_job('vacuum', true)}), qr/^\d+$/,
	'afterwards run_job() returns an id again');
is($node->safe_psql('app', q{SELECT pid FROM snapshot_ops.worker_status()}), $pid, 'the same worker goes on');

# --- 8. runs left 'running' are marked interrupted ------------------------------------
# job_runs locked while the worker restarts: its start-up bookkeeping waits,
# and the rows are inserted with the new worker's pid meanwhile
$locker->query_safe('BEGIN; LOCK TABLE snapshot_ops.job_runs IN ACCESS EXCLUSIVE MODE;');
$node->safe_psql('postgres', q{
	ALTER DATABASE app SET snapshot_ops.cleanup_batch_size = 500;
	SELECT pg_reload_conf();});
ok($node->poll_query_until('app', qq{SELECT running AND pid <> $pid FROM snapshot_ops.worker_status()}),
	'the worker restarted for the database setting, job_runs still locked');
$pid = $node->safe_psql('app', q{SELECT pid FROM snapshot_ops.worker_status()});
$log_offset = -s $node->logfile;
$locker->query_safe(qq{
	INSERT INTO snapshot_ops.job_runs (job, trigger, started_at, status, message, worker_pid) VALUES
	  ('cleanup', 'schedule', now() - interval '1 hour', 'running', 'A', $pid),
	  ('cleanup', 'schedule', clock_timestamp(), 'running', 'B', $pid),
	  ('vacuum', 'manual', now() - interval '1 hour', 'running', 'C', 2147483000),
	  ('cleanup', 'call', clock_timestamp(), 'running', 'D', pg_backend_pid());
	COMMIT;});
ok( $node->poll_query_until('app', q{
		SELECT status = 'interrupted' FROM snapshot_ops.job_runs WHERE message LIKE 'A%'}),
	'a run of an earlier process with the new worker\'s pid is marked interrupted');
is($node->safe_psql('app', q{
		SELECT status || ', ' || (finished_at IS NOT NULL) || ', ' || message FROM snapshot_ops.job_runs WHERE message LIKE 'A%'}),
	'interrupted, true, A; the run ended without recording its end (its process exited or the server stopped)',
	'with its end and the reason');
is($node->safe_psql('app', q{SELECT status FROM snapshot_ops.job_runs WHERE message LIKE 'C%'}),
	'interrupted', 'so is a run of a process that is gone');
is($node->safe_psql('app', q{SELECT string_agg(status, ',' ORDER BY message) FROM snapshot_ops.job_runs WHERE message IN ('B', 'D')}),
	'running,running', 'runs of live processes started after them are left running');
ok(wait_for_log($log_offset, qr/LOG:  snapshot_ops: marked 2 unfinished runs in database "app" as interrupted/),
	'the log counts the two');
$node->safe_psql('app', q{DELETE FROM snapshot_ops.job_runs WHERE message IN ('B', 'D')});

# --- 3. a GIN rebuild gives way to a waiting caller --------------------------------------
my $gin = 'idx_position_snapshots_trade_data_gin';
$node->safe_psql('app', q{
	INSERT INTO session_snapshots (session_id, status, created_at)
	SELECT 'gin' || g, 'stopped', now() FROM generate_series(1, 40000) g;
	INSERT INTO position_snapshots (snapshot_id, position_key, trade_data)
	SELECT snapshot_id, 'P', jsonb_build_object('trade_id', 'gin-' || snapshot_id, 'price', snapshot_id * 1.5 + 0.25)
	  FROM session_snapshots WHERE session_id LIKE 'gin%';
	DELETE FROM session_snapshots WHERE session_id LIKE 'gin%';});
$node->safe_psql('app', 'VACUUM position_snapshots');
is($node->safe_psql('app', qq{SELECT rebuild_due FROM snapshot_ops.gin_index_bloat() WHERE index_name = '$gin'}),
	't', 'a rebuild of the trade_data index is due');
# a leftover of an unfinished rebuild, whose DROP INDEX CONCURRENTLY waits
# for a transaction that has used the table
$node->safe_psql('app', qq{
	CREATE INDEX ${gin}_ccnew ON position_snapshots USING gin (trade_data);
	UPDATE pg_index SET indisvalid = false WHERE indexrelid = '${gin}_ccnew'::regclass;
	ALTER SYSTEM SET snapshot_ops.vacuum_lock_timeout = '10min';
	SELECT pg_reload_conf();});
$locker->query_safe('BEGIN; SELECT count(*) FROM position_snapshots;');
my $r1 = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('vacuum')});
ok( $node->poll_query_until('app', q{
		SELECT count(*) > 0 FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
		 WHERE a.backend_type = 'snapshot_ops worker' AND a.datname = 'app'
		   AND a.query LIKE 'DROP INDEX CONCURRENTLY%'}),
	'the run waits in its GIN upkeep (dropping the leftover)');
my ($caller_out, $caller_err) = ('', '');
my $caller = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('app') . ' application_name=t074caller',
	  '-c', q{SELECT snapshot_ops.run_job('vacuum')} ],
	'>', \$caller_out, '2>', \$caller_err,
	IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
ok( $node->poll_query_until('app', q{
		SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 't074caller' AND wait_event = 'Extension'}),
	'a caller waits for the next vacuum run');
$locker->query_safe('COMMIT');
$caller->finish;
my $r2 = $caller_out;
chomp $r2;
like($r2, qr/^\d+$/, 'the caller gets the next run');
cmp_ok($r2, '>', $r1, 'a later run than the one in its GIN upkeep');
ok($node->poll_query_until('app', qq{SELECT status <> 'running' FROM snapshot_ops.job_runs WHERE run_id = $r1}),
	'the first run ends');
like($node->safe_psql('app', qq{SELECT status || ': ' || message FROM snapshot_ops.job_runs WHERE run_id = $r1}),
	qr/^succeeded: VACUUM ANALYZE completed for 4 tables.*; dropped invalid index ${gin}_ccnew left by an unfinished rebuild; rebuild of $gin \(\d+% of its entries empty\) postponed: a caller is waiting for the next vacuum run/s,
	'its rebuild is postponed for the waiting caller, and the run is not recorded as failed');
ok($node->poll_query_until('app', qq{SELECT status <> 'running' FROM snapshot_ops.job_runs WHERE run_id = $r2}),
	'the caller\'s run ends');
like($node->safe_psql('app', qq{SELECT status || ': ' || message FROM snapshot_ops.job_runs WHERE run_id = $r2}),
	qr/^succeeded: .*; rebuilt $gin \(\d+% of its entries empty\)/s,
	'and rebuilds the index');
$node->safe_psql('app', q{ALTER SYSTEM SET snapshot_ops.vacuum_lock_timeout = '2s'; SELECT pg_reload_conf();});

# --- 7. a reload while pg_db_role_setting is locked ----------------------------------------
# new connections read pg_db_role_setting: everything below goes through
# sessions opened before the lock, or the server log
my $reader = $node->background_psql('app');
my $admin = $node->background_psql('postgres');
$node->safe_psql('postgres', q{ALTER DATABASE app SET snapshot_ops.cleanup_batch_size = 700});
$log_offset = -s $node->logfile;
$locker->query_safe('BEGIN; LOCK TABLE pg_catalog.pg_db_role_setting IN ACCESS EXCLUSIVE MODE;');
$admin->query_safe(q{ALTER SYSTEM SET snapshot_ops.cleanup_schedule = '17 3 * * *'});
$admin->query_safe(q{SELECT pg_reload_conf()});
ok(bg_poll($reader, q{SELECT schedule = '17 3 * * *' AND source = 'worker' FROM snapshot_ops.job_schedules() WHERE job = 'cleanup'}),
	'the reloaded file applies in the worker at once, though it cannot read pg_db_role_setting');
ok(wait_for_log($log_offset, qr/\[$pid\] ERROR:  canceling statement due to lock timeout/),
	'the worker\'s read of the settings catalog fails on its lock timeout');
# the lock goes before the worker's next attempt (a second later); the
# sessions may be gone by then (a crash would end them)
eval { $locker->query('COMMIT'); };
# worker.c, so_worker_main(): the error recovery once left
# error_context_stack pointing into the stack frames of the failed SPI
# call; the next message the worker reported walked it (a segfault, a crash
# restart of the whole server, or an endless loop in errfinish() that
# ignored SIGTERM)
ok(wait_for_log($log_offset, qr/snapshot_ops worker for database "app" restarting to apply changed database settings/, 1, 15),
	'once the lock goes, the worker restarts for the changed database setting');
unlike(slurp_file($node->logfile, $log_offset), qr/was terminated by signal/,
	'no worker crashed');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'snapshot_ops worker' AND datname = 'app'}),
	'1', 'app still has one worker');
eval { $reader->quit; };
eval { $admin->quit; };
eval { $locker->quit; };
# a fast stop: a worker stuck in an error loop would ignore it
my $stop_offset = -s $node->logfile;
$node->stop('fast');
unlike(slurp_file($node->logfile, $stop_offset), qr/snapshot_ops worker for database "[^"]*" failed/,
	'a fast shutdown is not logged as the workers\' failure');
$node->start;
$node->safe_psql('postgres', q{ALTER SYSTEM RESET snapshot_ops.cleanup_schedule; SELECT pg_reload_conf();});
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'after an immediate restart app has its worker');

# --- 6b. a database closed while the server starts -------------------------------------------
$node->safe_psql('postgres', 'ALTER DATABASE x2 ALLOW_CONNECTIONS false');
$node->restart;
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'after the restart app has its worker: the launcher has looked at every database');
$node->safe_psql('postgres', 'ALTER DATABASE x2 ALLOW_CONNECTIONS true');
my $restarted = time;
# launcher.c, so_queue_all_databases() once skipped a database with
# datallowconn false without tracking it: it was never looked at again
is($node->safe_psql('x2', q{SELECT state FROM snapshot_ops.worker_status()}),
	'waiting for connections', 'x2, closed while the server started: waiting for connections');

# --- 6. a database closed when its worker restarts -------------------------------------------
$node->safe_psql('postgres', 'ALTER DATABASE x1 ALLOW_CONNECTIONS false');
# the worker restarts for a changed database setting: the launcher finds x1 closed
$node->safe_psql('postgres', q{
	ALTER DATABASE x1 SET snapshot_ops.enable_scheduler = on;
	SELECT pg_reload_conf();});
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'snapshot_ops worker' AND datname = 'x1'}),
	'x1, closed, loses its worker');
# the launcher reaps the worker when it is signalled of its exit; give it a moment
sleep 2;
$node->safe_psql('postgres', 'ALTER DATABASE x1 ALLOW_CONNECTIONS true');
my $reopened = time;
is($node->safe_psql('x1', q{SELECT state || ' ' || failures FROM snapshot_ops.worker_status()}),
	'waiting for connections 0', 'worker_status() says it waits for connections, no failure');
like($node->safe_psql('x1', q{SELECT reason FROM snapshot_ops.worker_status()}),
	qr/^The database does not accept connections \(ALLOW_CONNECTIONS false\); the launcher looks at it again at \d{4}-/,
	'and when the launcher looks again');
is($node->safe_psql('x1', q{
		SELECT next_attempt_at BETWEEN now() AND now() + interval '60 s' FROM snapshot_ops.worker_status()}),
	't', 'within 60 s');
my $x1_retry = $node->safe_psql('x1', q{SELECT next_attempt_at FROM snapshot_ops.worker_status()});

# --- 5. DROP DATABASE and ALTER DATABASE RENAME ----------------------------------------------
$log_offset = -s $node->logfile;
$node->safe_psql('postgres', 'DROP DATABASE gone');
pass('DROP DATABASE of a database with a worker succeeds');
$node->safe_psql('postgres', 'ALTER DATABASE ren RENAME TO ren2');
pass('ALTER DATABASE RENAME of a database with a worker succeeds');
ok( $node->poll_query_until('ren2', q{SELECT state = 'waiting to restart' FROM snapshot_ops.worker_status()}),
	'worker_status() of the renamed database: waiting to restart');
is($node->safe_psql('ren2', q{SELECT failures || ' ' || coalesce(last_error, 'none') FROM snapshot_ops.worker_status()}),
	'0 none', 'no failure, no error');
like($node->safe_psql('ren2', q{SELECT reason FROM snapshot_ops.worker_status()}),
	qr/^The worker was stopped for a command on the database or the extension \(DROP, ALTER or CREATE DATABASE; DROP or ALTER EXTENSION\); it starts again at \d{4}-/,
	'the reason says it was stopped for a command');
ok(wait_for_log($log_offset,
		qr/LOG:  snapshot_ops worker for database "ren2?" stopped for a command on the database or the extension\n.*DETAIL:  It starts again in 10 seconds\./),
	'the launcher logs the stop for a command');
ok( $node->poll_query_until('ren2', q{SELECT running FROM snapshot_ops.worker_status()}),
	'the renamed database gets its worker back');
is($node->safe_psql('ren2', q{SELECT failures FROM snapshot_ops.worker_status()}), '0',
	'still no failure counted');
my $log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/snapshot_ops worker for database "(gone|ren2?|\?)" failed/,
	'neither stop is logged as a worker failure');

# --- 10b. a standby ------------------------------------------------------------------------
$node->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'bk', has_streaming => 1);
$standby->start;
$node->wait_for_catchup($standby);
($ret, $out, $err) = psql_verbose($standby, 'app', q{CALL snapshot_ops.run_cleanup();});
like($err, qr/ERROR:  25006: cannot execute CALL snapshot_ops\.run_cleanup\(\) (in a read-only transaction|during recovery)/,
	'on a standby CALL run_cleanup() fails with 25006 naming the command');
$standby->stop;

# --- 6 (continued): x1 gets its worker back ---------------------------------------------------
ok( $node->poll_query_until('x1', q{SELECT running FROM snapshot_ops.worker_status()}),
	'x1, opened again, gets its worker back');
diag sprintf('x1 came back %.0f s after it was opened again', time - $reopened);
is($node->safe_psql('x1', qq{
		SELECT started_at >= '$x1_retry'::timestamptz - interval '1 s' FROM snapshot_ops.worker_status()}),
	't', 'at the launcher\'s next look, not before');
is($node->safe_psql('x1', q{SELECT failures FROM snapshot_ops.worker_status()}), '0', 'with no failure counted');

# --- 9 (continued): the worker's scheduler on ----------------------------------------------------
is($node->safe_psql('x1', q{SET snapshot_ops.enable_scheduler = off;
		SELECT reason IS NULL FROM snapshot_ops.worker_status()}),
	't', 'the scheduler on for the worker (database setting): no reason, whatever the reader sets');

cmp_ok(time - $restarted, '>', 60, 'more than 60 s since x2 was opened again');
ok($node->poll_query_until('x2', q{SELECT running FROM snapshot_ops.worker_status()}),
	'x2 got its worker back');

# --- 11. too few background worker slots ---------------------------------------------------------
$node->append_conf('postgresql.conf', qq{
max_worker_processes = 3
max_parallel_workers = 0
snapshot_ops.databases = 'app,x1,ren2'
});
$log_offset = -s $node->logfile;
$node->restart;
ok(wait_for_log($log_offset, qr/no background worker slot is free/), 'the launcher runs short of slots');
$log = slurp_file($node->logfile, $log_offset);
like($log,
	qr/WARNING:  could not start the snapshot_ops worker for database "(app|x1|ren2)": no background worker slot is free\n.*DETAIL:  max_worker_processes is 3, of which snapshot_ops uses 2 \(its launcher and 1 worker\) and other background workers 1; 2 databases wait to be looked at by a worker\.\n.*HINT:  Each waiting database that has snapshot_ops installed needs one more: raise max_worker_processes \(needs a restart\) to at most 5; the launcher retries every 10 seconds meanwhile\./,
	'the log says: raise max_worker_processes to at most 5 (3 + the 2 waiting databases)');

$node->stop;
done_testing();
