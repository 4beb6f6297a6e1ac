# The worker's jobs: vacuum_snapshot_tables() and run_job() VACUUM ANALYZE
# the four tables and delete expired snapshots, every run is recorded in
# snapshot_ops.job_runs, a lock timeout fails one run without stopping the
# worker, an every-minute schedule fires, and old history is pruned.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('jobs');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
snapshot_ops.vacuum_lock_timeout = '500ms'
});
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', q{
	CREATE SCHEMA trading;
	CREATE EXTENSION snapshot_ops SCHEMA trading;
	-- 30 expired stopped sessions, 10 recent ones, each with children
	INSERT INTO trading.session_snapshots (session_id, status, created_at)
	SELECT 's' || g, 'stopped',
		   CASE WHEN g <= 30 THEN now() - interval '40 days' ELSE now() END
	  FROM generate_series(1, 40) g;
	INSERT INTO trading.position_snapshots (snapshot_id, position_key)
	SELECT snapshot_id, 'BTC' FROM trading.session_snapshots;
	INSERT INTO trading.metrics_snapshots (snapshot_id) SELECT snapshot_id FROM trading.session_snapshots;
	INSERT INTO trading.risk_guard_snapshots (snapshot_id) SELECT snapshot_id FROM trading.session_snapshots;
});
ok( $node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'the worker runs');
my $pid = $node->safe_psql('app', q{SELECT pid FROM snapshot_ops.worker_status()});

my $stats_sql = q{
	SELECT string_agg(relname || ':' || (last_vacuum IS NOT NULL) || ':' || (last_analyze IS NOT NULL),
					  ',' ORDER BY relname)
	  FROM pg_stat_user_tables
	 WHERE schemaname = 'trading'};
is($node->safe_psql('app', $stats_sql),
	'metrics_snapshots:false:false,position_snapshots:false:false,risk_guard_snapshots:false:false,session_snapshots:false:false',
	'never vacuumed before');

# vacuum_snapshot_tables(): VACUUM ANALYZE through the worker
my $result = $node->safe_psql('app', 'SELECT trading.vacuum_snapshot_tables()');
like($result,
	qr/^VACUUM ANALYZE completed for 4 tables: session_snapshots, position_snapshots, metrics_snapshots, risk_guard_snapshots \(run (\d+), \d+ ms\)$/,
	'vacuum_snapshot_tables() reports the four tables');
is($node->safe_psql('app', $stats_sql),
	'metrics_snapshots:true:true,position_snapshots:true:true,risk_guard_snapshots:true:true,session_snapshots:true:true',
	'all four tables have last_vacuum and last_analyze');
is( $node->safe_psql('app', q{
		SELECT job, trigger, status, rows_affected, finished_at >= started_at
		  FROM snapshot_ops.job_runs}),
	'vacuum|manual|succeeded|4|t',
	'the run is recorded');

# run_job('vacuum') again moves last_vacuum forward
my $before = $node->safe_psql('app', q{
	SELECT max(last_vacuum) FROM pg_stat_user_tables WHERE schemaname = 'trading'});
my $run = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('vacuum', wait => true)});
is( $node->safe_psql('app', qq{
		SELECT count(*) FROM pg_stat_user_tables
		 WHERE schemaname = 'trading' AND last_vacuum > '$before'}),
	'4', 'run_job(vacuum, wait) vacuums all four tables again');

# cleanup: the expired snapshots and their children go, the recent ones stay
$run = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('cleanup', true)});
is( $node->safe_psql('app', qq{
		SELECT status, trigger, rows_affected FROM snapshot_ops.job_runs WHERE run_id = $run}),
	'succeeded|manual|30', 'the cleanup run deleted the 30 expired snapshots');
is( $node->safe_psql('app', q{
		SELECT (SELECT count(*) FROM trading.session_snapshots) || ',' ||
			   (SELECT count(*) FROM trading.position_snapshots) || ',' ||
			   (SELECT count(*) FROM trading.metrics_snapshots) || ',' ||
			   (SELECT count(*) FROM trading.risk_guard_snapshots)}),
	'10,10,10,10', 'children went with their snapshots');
like( $node->safe_psql('app', qq{SELECT message FROM snapshot_ops.job_runs WHERE run_id = $run}),
	qr/^deleted 30 snapshots \(30 positions, 30 metrics, 30 risk_guard rows\)/,
	'the message counts every table');

# without wait, run_job returns the id of the run it started
$run = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('vacuum')});
ok( $node->poll_query_until('app', qq{
		SELECT status = 'succeeded' FROM snapshot_ops.job_runs WHERE run_id = $run}),
	'run_job without wait returns the id of the run');

# a lock timeout fails the run (the other tables are still vacuumed), the
# worker goes on, and the next run succeeds
my $locker = $node->background_psql('app');
$locker->query_safe('BEGIN; LOCK trading.position_snapshots IN ACCESS EXCLUSIVE MODE;');
my ($ret, $stdout, $stderr) =
  $node->psql('app', q{SELECT snapshot_ops.run_job('vacuum', true)});
isnt($ret, 0, 'run_job(wait) fails when the run fails');
like($stderr, qr/run \d+ of the vacuum job failed/, '... saying so');
like($stderr, qr/position_snapshots: canceling statement due to lock timeout/,
	'... with the table and the cause');
is( $node->safe_psql('app', q{
		SELECT status, rows_affected FROM snapshot_ops.job_runs ORDER BY run_id DESC LIMIT 1}),
	'failed|3', 'the failed run is recorded; three tables were vacuumed');
($ret, $stdout, $stderr) = $node->psql('app', 'SELECT trading.vacuum_snapshot_tables()');
like($stderr, qr/VACUUM ANALYZE of the snapshot tables failed/,
	'vacuum_snapshot_tables() reports the failure as an error');
$locker->query_safe('COMMIT');
$locker->quit;
is($node->safe_psql('app', q{SELECT pid FROM snapshot_ops.worker_status()}),
	$pid, 'the same worker goes on after failed runs');
like($node->safe_psql('app', 'SELECT trading.vacuum_snapshot_tables()'),
	qr/^VACUUM ANALYZE completed for 4 tables/, 'the next run succeeds');
is( $node->safe_psql('app', q{
		SELECT last_status FROM snapshot_ops.jobs WHERE job = 'vacuum'}),
	'succeeded', 'the jobs view shows the last result');

# history older than job_history_retention is pruned after a run, except
# the latest run of each job
$node->safe_psql('app', q{
	INSERT INTO snapshot_ops.job_runs (job, trigger, started_at, finished_at, status)
	VALUES ('cleanup', 'schedule', now() - interval '60 days', now() - interval '60 days', 'succeeded'),
		   ('vacuum', 'schedule', now() - interval '50 days', now() - interval '50 days', 'failed')});
$node->safe_psql('app', q{SELECT snapshot_ops.run_job('vacuum', true)});
is( $node->safe_psql('app', q{
		SELECT count(*) FROM snapshot_ops.job_runs WHERE started_at < now() - interval '30 days'}),
	'0', 'runs older than 30 days are pruned');

# a bad schedule in postgresql.conf is refused at reload; the worker keeps
# the valid one and keeps running
$node->append_conf('postgresql.conf', q{snapshot_ops.cleanup_schedule = '0 2 * *'});
$node->reload;
ok( $node->poll_query_until('app', q{
		SELECT count(*) > 0 FROM pg_file_settings
		 WHERE name = 'snapshot_ops.cleanup_schedule' AND error IS NOT NULL}),
	'pg_file_settings flags the bad schedule in postgresql.conf');
ok($node->log_contains('invalid cron schedule "0 2 \\* \\*"'), 'the log says what is wrong');
is($node->safe_psql('app', 'SHOW snapshot_ops.cleanup_schedule'), '0 2 * * *',
	'the valid default stays in effect');
is($node->safe_psql('app', q{SELECT pid FROM snapshot_ops.worker_status()}),
	$pid, 'the worker is not disturbed');

# an every-minute schedule fires without any request
$node->safe_psql('postgres', q{ALTER SYSTEM SET snapshot_ops.vacuum_schedule = '* * * * *'});
$node->reload;
ok( $node->poll_query_until('app', q{
		SELECT count(*) > 0 FROM snapshot_ops.job_runs
		 WHERE trigger = 'schedule' AND status = 'succeeded'}),
	'the every-minute vacuum schedule fires');
is( $node->safe_psql('app', q{
		SELECT schedule, enabled, next_run > now(), next_run <= now() + interval '1 minute'
		  FROM snapshot_ops.jobs WHERE job = 'vacuum'}),
	'* * * * *|t|t|t', 'the jobs view shows the schedule and the next run');

# enable_scheduler = off stops scheduled runs (per database), run_job still works
$node->safe_psql('postgres', q{ALTER DATABASE app SET snapshot_ops.enable_scheduler = off});
$node->reload;
# the worker restarts to apply the database setting
ok( $node->poll_query_until('app', qq{
		SELECT running AND pid <> $pid FROM snapshot_ops.worker_status()}),
	'the worker restarts to apply a changed database setting');
my $last = $node->safe_psql('app', q{SELECT max(run_id) FROM snapshot_ops.job_runs});
$run = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('cleanup', true)});
cmp_ok($run, '>', $last, 'run_job works with the scheduler off');

ok(!$node->log_contains('\\] (PANIC|FATAL):'), 'no worker crashed');

$node->stop;
done_testing();
