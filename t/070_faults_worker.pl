# Faults in the worker's life.
#
# SIGKILL: a killed worker makes the postmaster reinitialize (crash
# recovery); the launcher and the database's worker come back by themselves
# and every committed row is intact.  The time from the kill to the new
# worker in pg_stat_activity is printed.
#
# SIGTERM in the middle of a long cleanup (many rows, small batches): the
# worker exits promptly; the batches it committed stay deleted, the batch it
# was in is rolled back whole (no position, metrics or risk_guard row
# without its session), and the run is recorded as interrupted.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('faults');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
snapshot_ops.timezone = 'UTC'
fsync = off
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', 'CREATE EXTENSION snapshot_ops');
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'the worker runs');

# the worker of database app, as pg_stat_activity shows it
my $worker_sql = q{
	SELECT pid FROM pg_stat_activity
	 WHERE backend_type = 'snapshot_ops worker' AND datname = 'app'};

# a checksum of the content of the four tables
my $checksum_sql = q{
	SELECT concat_ws(',',
		(SELECT count(*) || ':' || md5(string_agg(s::text, '|' ORDER BY snapshot_id)) FROM session_snapshots s),
		(SELECT count(*) || ':' || md5(string_agg(p::text, '|' ORDER BY snapshot_id, position_key)) FROM position_snapshots p),
		(SELECT count(*) || ':' || md5(string_agg(m::text, '|' ORDER BY snapshot_id)) FROM metrics_snapshots m),
		(SELECT count(*) || ':' || md5(string_agg(r::text, '|' ORDER BY snapshot_id)) FROM risk_guard_snapshots r))};

# --- SIGKILL -----------------------------------------------------------------
$node->safe_psql('app', q{
	SELECT save_snapshot(jsonb_build_object(
		'session', jsonb_build_object('session_id', 'k' || (g % 10), 'loop_count', g,
									  'status', 'running', 'config', jsonb_build_object('g', g)),
		'positions', jsonb_build_object('active_orders', jsonb_build_object(
			'BTC', jsonb_build_object('trade', jsonb_build_object('qty', g)),
			'ETH', jsonb_build_object('trade', jsonb_build_object('qty', -g)))),
		'metrics', jsonb_build_object('total_trades_opened', g, 'total_pnl_usd', g * 1.5),
		'risk_guard', jsonb_build_object('daily_loss_usd', g / 3.0)))
	  FROM generate_series(1, 200) g});
my $before = $node->safe_psql('app', $checksum_sql);
like($before, qr/^200:\w+,400:\w+,200:\w+,200:\w+$/, '200 snapshots saved');

my $old_pid = $node->safe_psql('app', $worker_sql);
like($old_pid, qr/^\d+$/, 'the worker is in pg_stat_activity');
my $launcher_before = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'snapshot_ops launcher'});

my $t_kill = time;
kill 'KILL', $old_pid or die "could not kill $old_pid: $!";
# poll_query_until retries while the server is reinitializing
ok( $node->poll_query_until('app',
		qq{SELECT count(*) = 1 FROM pg_stat_activity
			WHERE backend_type = 'snapshot_ops worker' AND datname = 'app' AND pid <> $old_pid}),
	'a new worker is running after the SIGKILL');
my $back_after = time - $t_kill;
diag sprintf('worker back %.2f s after SIGKILL (crash recovery included)', $back_after);

my $log = slurp_file($node->logfile);
like($log, qr/\Q$old_pid\E\) was terminated by signal 9/, 'the postmaster saw the worker killed');
like($log, qr/all server processes terminated; reinitializing/, 'and reinitialized (crash recovery)');
isnt($node->safe_psql('postgres',
		q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'snapshot_ops launcher'}),
	$launcher_before, 'the launcher was restarted too');
is($node->safe_psql('app', $checksum_sql), $before, 'every committed row is intact');
is($node->safe_psql('app', q{SELECT running FROM snapshot_ops.worker_status()}), 't',
	'worker_status() reports the new worker');

# --- SIGTERM in the middle of a cleanup ------------------------------------
$node->safe_psql('app', q{
	ALTER SYSTEM SET snapshot_ops.cleanup_batch_size = 20;
	ALTER SYSTEM SET snapshot_ops.vacuum_lock_timeout = '5min';
	SELECT pg_reload_conf()});

# 20000 stopped snapshots, 60 days old and older, oldest first by
# created_at; each with two positions, a metrics and a risk_guard row
my $n_old = 20000;
$node->safe_psql('app', qq{
	WITH s AS (
		INSERT INTO session_snapshots (session_id, status, loop_count, created_at)
		SELECT 'old_' || g, 'stopped', g, now() - interval '60 days' - ($n_old - g) * interval '1 second'
		  FROM generate_series(1, $n_old) g
		RETURNING snapshot_id, created_at),
	p AS (
		INSERT INTO position_snapshots (snapshot_id, position_key, trade_data, created_at)
		SELECT snapshot_id, k, jsonb_build_object('k', k), created_at FROM s, unnest(ARRAY['A', 'B']) k),
	m AS (
		INSERT INTO metrics_snapshots (snapshot_id, total_trades_opened, created_at)
		SELECT snapshot_id, 1, created_at FROM s)
	INSERT INTO risk_guard_snapshots (snapshot_id, daily_loss_usd, created_at)
	SELECT snapshot_id, 1, created_at FROM s});
my $recent_checksum = $node->safe_psql('app',
	$checksum_sql =~ s/FROM (\w+) (\w)\)/FROM $1 $2 WHERE snapshot_id IN (SELECT snapshot_id FROM session_snapshots WHERE session_id LIKE 'k%'))/gr);

# Hold the 100 newest old snapshots locked: the cleanup deletes oldest
# first and blocks, in the middle of its run, on the batch that reaches
# them.
my $locker = $node->background_psql('app');
$locker->query_safe(q{BEGIN});
$locker->query_safe(q{
	SELECT count(*) FROM (SELECT 1 FROM session_snapshots
	 WHERE session_id LIKE 'old_%' ORDER BY created_at DESC LIMIT 100 FOR UPDATE) l});

my $worker = $node->safe_psql('app', $worker_sql);
my $run_started = $node->safe_psql('app', q{SELECT now()});
$node->safe_psql('app', q{SELECT snapshot_ops.run_job('cleanup')});
ok( $node->poll_query_until('app', qq{
		SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $worker}),
	'the cleanup deletes in batches and blocks on the locked rows');
my $run = $node->safe_psql('app', qq{
	SELECT run_id || '|' || status FROM snapshot_ops.job_runs
	 WHERE job = 'cleanup' AND started_at >= '$run_started' ORDER BY run_id DESC LIMIT 1});
my ($run_id, $status) = split /\|/, $run;
is($status, 'running', 'the run is recorded as running');
is($node->safe_psql('app', q{SELECT count(*) FROM session_snapshots WHERE session_id LIKE 'old_%'}),
	100, 'every batch before the locked rows is committed (19900 of 20000 deleted)');

my $t_term = time;
kill 'TERM', $worker or die "could not signal $worker: $!";
ok($node->poll_query_until('app', qq{SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $worker}),
	'the worker exits on SIGTERM while its batch waits');
diag sprintf('worker gone %.2f s after SIGTERM', time - $t_term);
$locker->query_safe(q{ROLLBACK});
$locker->quit;

ok( $node->poll_query_until('app', qq{
		SELECT status <> 'running' FROM snapshot_ops.job_runs WHERE run_id = $run_id}),
	'the run is closed');
is($node->safe_psql('app', qq{SELECT status FROM snapshot_ops.job_runs WHERE run_id = $run_id}),
	'interrupted', 'the run is recorded as interrupted');
is($node->safe_psql('app', q{SELECT count(*) FROM session_snapshots WHERE session_id LIKE 'old_%'}),
	100, 'the batch cut short was rolled back whole: the locked snapshots remain');
is($node->safe_psql('app', q{
	SELECT (SELECT count(*) FROM position_snapshots p
			 WHERE NOT EXISTS (SELECT 1 FROM session_snapshots s WHERE s.snapshot_id = p.snapshot_id))
		 + (SELECT count(*) FROM metrics_snapshots m
			 WHERE NOT EXISTS (SELECT 1 FROM session_snapshots s WHERE s.snapshot_id = m.snapshot_id))
		 + (SELECT count(*) FROM risk_guard_snapshots r
			 WHERE NOT EXISTS (SELECT 1 FROM session_snapshots s WHERE s.snapshot_id = r.snapshot_id))}),
	0, 'no orphan rows');
is($node->safe_psql('app', q{
	SELECT count(*) FROM session_snapshots s
	 WHERE NOT EXISTS (SELECT 1 FROM metrics_snapshots m WHERE m.snapshot_id = s.snapshot_id)
		OR NOT EXISTS (SELECT 1 FROM risk_guard_snapshots r WHERE r.snapshot_id = s.snapshot_id)
		OR (SELECT count(*) FROM position_snapshots p WHERE p.snapshot_id = s.snapshot_id)
		   <> CASE WHEN s.session_id LIKE 'old_%' OR s.session_id LIKE 'k%' THEN 2 END}),
	0, 'every remaining snapshot is whole');
is($node->safe_psql('app',
	$checksum_sql =~ s/FROM (\w+) (\w)\)/FROM $1 $2 WHERE snapshot_id IN (SELECT snapshot_id FROM session_snapshots WHERE session_id LIKE 'k%'))/gr),
	$recent_checksum, 'the recent snapshots were not touched');

# the worker is back and finishes the job on request
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'a worker runs again after the SIGTERM');
$node->safe_psql('app', q{SELECT snapshot_ops.run_job('cleanup', true)});
is($node->safe_psql('app', q{SELECT count(*) FROM session_snapshots WHERE session_id LIKE 'old_%'}),
	0, 'the next cleanup removes the rest');
unlike(slurp_file($node->logfile), qr/TRAP:|PANIC:/, 'no assertion failure or PANIC');

$node->stop;
done_testing();
