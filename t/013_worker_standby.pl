# Hot standby: reads (load_snapshot, views, stats) work on a standby; the
# worker runs nothing there (no process, no write, no error in its log, a
# clear error for a manual request), and starts working once the standby is
# promoted.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
snapshot_ops.vacuum_schedule = '* * * * *'
});
$primary->start;
$primary->safe_psql('postgres', 'CREATE DATABASE app');
$primary->safe_psql('app', 'CREATE EXTENSION snapshot_ops');
ok($primary->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'the primary runs a worker');
$primary->safe_psql('app', q{SELECT snapshot_ops.run_job('vacuum', true)});
my $doc = q{{"session": {"session_id": "engine-1", "status": "running", "loop_count": 7},
			 "positions": {"active_orders": {"BTC": {"trade": {"symbol": "BTC", "qty": 0.5}}}}}};
$primary->safe_psql('app', qq{SELECT save_snapshot('$doc')});

$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql('app', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
is( $standby->safe_psql('app', qq{
		SELECT load_snapshot('engine-1') @> '$doc',
			   (SELECT count(*) FROM v_latest_snapshot_details), (SELECT count(*) FROM get_snapshot_table_stats())}),
	't|1|4', 'load_snapshot(), the views and the stats work on the standby');
is( $standby->safe_psql('postgres', q{
		SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'snapshot_ops%'}),
	'0', 'no launcher and no worker on the standby');
is( $standby->safe_psql('app', q{SELECT loaded, running, reason FROM snapshot_ops.worker_status()}),
	't|f|The server is in recovery (a hot standby): no worker runs until it is promoted.',
	'worker_status() explains why');

# from here on only the standby would run the schedule
$primary->safe_psql('postgres', 'ALTER SYSTEM SET snapshot_ops.enable_scheduler = off');
$primary->reload;
ok( $standby->poll_query_until('postgres', q{
		SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type LIKE 'snapshot_ops%'}),
	'still nothing on the standby');
ok(!$standby->log_contains('ERROR|FATAL|PANIC'), 'no error in the standby log');

my ($ret, $stdout, $stderr) = $standby->psql('app', 'SELECT vacuum_snapshot_tables()');
like($stderr, qr/snapshot_ops jobs cannot run during recovery/,
	'a manual request on the standby is refused clearly');
($ret, $stdout, $stderr) = $standby->psql('app', qq{SELECT save_snapshot('$doc')});
like($stderr, qr/ERROR:  cannot execute save_snapshot\(\) in a read-only transaction/,
	'a save on the standby is refused, naming the function');

# after promotion the launcher starts and the jobs run
$standby->promote;
ok( $standby->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'the worker starts after promotion');
like($standby->safe_psql('app', 'SELECT vacuum_snapshot_tables()'),
	qr/^VACUUM ANALYZE completed for 4 tables/, 'jobs run on the promoted server');
ok( $standby->poll_query_until('app', qq{
		SELECT count(*) > 0 FROM snapshot_ops.job_runs
		 WHERE trigger IN ('schedule', 'catch_up') AND started_at > pg_postmaster_start_time()}),
	'the schedule runs on the promoted server');

$standby->stop;
$primary->stop;
done_testing();
