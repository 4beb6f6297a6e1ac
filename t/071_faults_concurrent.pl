# Saves under maintenance: four pgbench clients save snapshots for ~20 s
# while another client runs snapshot_ops.run_cleanup() and
# vacuum_snapshot_tables() over and over.  No save fails, and the
# arithmetic is exact: the cleanup may only remove the 5000 old finished
# snapshots that existed before (new saves are recent, status running), so
# at the end the store holds exactly one snapshot per committed save, and
# the old ones deleted plus the old ones left make 5000.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $duration = $ENV{FAULTS_DURATION} // 20;

my $node = PostgreSQL::Test::Cluster->new('concurrent');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
snapshot_ops.timezone = 'UTC'
snapshot_ops.cleanup_batch_size = 50
max_connections = 20
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', 'CREATE EXTENSION snapshot_ops');
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'the worker runs');

# the old, finished snapshots the cleanup is allowed to remove
$node->safe_psql('app', q{
	WITH s AS (
		INSERT INTO session_snapshots (session_id, status, created_at)
		SELECT 'old_' || g, CASE WHEN g % 2 = 0 THEN 'stopped' ELSE 'crashed' END,
			   now() - interval '45 days' - g * interval '1 minute'
		  FROM generate_series(1, 5000) g
		RETURNING snapshot_id),
	p AS (
		INSERT INTO position_snapshots (snapshot_id, position_key)
		SELECT snapshot_id, 'P' FROM s),
	m AS (
		INSERT INTO metrics_snapshots (snapshot_id) SELECT snapshot_id FROM s)
	INSERT INTO risk_guard_snapshots (snapshot_id) SELECT snapshot_id FROM s});

my $dir = $node->basedir;
PostgreSQL::Test::Utils::append_to_file("$dir/save.sql", q{
\set sid random(1, 40)
\set n random(0, 1000000)
SELECT save_snapshot(('{"session": {"session_id": "bench_' || :sid || '", "status": "running", "loop_count": ' || :n || '}, "positions": {"active_orders": {"BTC": {"trade": {"qty": ' || :n || '}}, "ETH": {"trade": {}}}}, "metrics": {"total_trades_opened": ' || :n || ', "per_symbol_pnl": {"BTC": 1.5}}, "risk_guard": {"daily_loss_usd": 0}}')::jsonb);
});
PostgreSQL::Test::Utils::append_to_file("$dir/maintain.sql", q{
CALL snapshot_ops.run_cleanup('30 days', 50);
SELECT vacuum_snapshot_tables();
});

my @conn = ('-h', $node->host, '-p', $node->port, '-d', 'app', '-n');
my ($save_out, $save_err, $maint_out, $maint_err);
my $saves = IPC::Run::start(
	[ 'pgbench', @conn, '-c', '4', '-j', '2', '-T', $duration, '-f', "$dir/save.sql" ],
	'>', \$save_out, '2>', \$save_err);
my $maint = IPC::Run::start(
	[ 'pgbench', @conn, '-c', '1', '-T', $duration, '-f', "$dir/maintain.sql" ],
	'>', \$maint_out, '2>', \$maint_err);
my $saves_ok = $saves->finish;
my $maint_ok = $maint->finish;
note "save clients:\n$save_out$save_err";
note "maintenance client:\n$maint_out";
# what each run_cleanup deleted, from its NOTICE
my $deleted_by_calls = 0;
$deleted_by_calls += $1 while $maint_err =~ /run_cleanup: deleted snapshots: (\d+)/g;
$maint_err =~ s/^(NOTICE|DETAIL):.*\n//mg;

ok($saves_ok, 'pgbench (saves) exited successfully');
ok($maint_ok, 'pgbench (run_cleanup, vacuum_snapshot_tables) exited successfully');
unlike($save_err . $maint_err, qr/aborted|ERROR/, 'no client aborted, no error');
my ($committed) = $save_out =~ /number of transactions actually processed: (\d+)/;
my ($failed) = $save_out =~ /number of failed transactions: (\d+)/;
my ($maint_runs) = $maint_out =~ /number of transactions actually processed: (\d+)/;
is($failed, 0, 'pgbench reports 0 failed saves');
cmp_ok($committed // 0, '>', 0, 'saves were committed');
cmp_ok($maint_runs // 0, '>', 1, 'the cleanup and vacuum ran repeatedly meanwhile');
diag sprintf('%d saves committed in %d s with %d cleanup+vacuum rounds alongside',
	$committed // 0, $duration, $maint_runs // 0);

is($node->safe_psql('app', q{SELECT count(*) FROM session_snapshots WHERE session_id LIKE 'bench_%'}),
	$committed, 'exactly one snapshot per committed save');
is($node->safe_psql('app', q{
	SELECT count(*) FROM session_snapshots s
	  JOIN metrics_snapshots m USING (snapshot_id)
	  JOIN risk_guard_snapshots r USING (snapshot_id)
	 WHERE s.session_id LIKE 'bench_%'
	   AND (SELECT count(*) FROM position_snapshots p WHERE p.snapshot_id = s.snapshot_id) = 2}),
	$committed, 'each saved snapshot is whole');

my $old_left = $node->safe_psql('app',
	q{SELECT count(*) FROM session_snapshots WHERE session_id LIKE 'old_%'});
my $deleted = $node->safe_psql('app', q{
	SELECT coalesce(sum(rows_affected), 0) FROM snapshot_ops.job_runs WHERE job = 'cleanup' AND trigger <> 'call'});
is($node->safe_psql('app', q{
	SELECT coalesce(sum(rows_affected), 0) FROM snapshot_ops.job_runs WHERE job = 'cleanup' AND trigger = 'call'}),
	$deleted_by_calls, 'each CALL run_cleanup() is recorded with the snapshots it deleted');
diag "old snapshots left $old_left; deleted by run_cleanup calls $deleted_by_calls, by the worker's runs $deleted";
is($old_left + $deleted_by_calls + $deleted, 5000, 'old snapshots left plus deleted make 5000');
is($old_left, 0, 'the repeated cleanups removed all 5000 old snapshots');
is($node->safe_psql('app', q{
	SELECT (SELECT count(*) FROM position_snapshots)
		 - (SELECT count(*) FROM position_snapshots p JOIN session_snapshots s USING (snapshot_id))}),
	0, 'no orphan positions');
is($node->safe_psql('app', q{SELECT count(*) FROM snapshot_ops.job_runs WHERE job = 'vacuum' AND trigger = 'manual' AND status = 'succeeded'}),
	$maint_runs, 'every vacuum request was served and succeeded');
is($node->safe_psql('app', q{SELECT count(*) FROM snapshot_ops.job_runs WHERE status <> 'succeeded'}),
	0, 'no job run failed');
unlike(slurp_file($node->logfile), qr/terminated by signal|TRAP:|PANIC:|deadlock detected/,
	'no crash and no deadlock in the server log');

$node->stop;
done_testing();
