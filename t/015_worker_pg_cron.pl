# pg_cron as the scheduler: schedule_with_pg_cron() creates the two jobs as
# single top-level statements, turns the worker's scheduler off for the
# database, pg_cron runs them (VACUUM included), and unschedule_pg_cron()
# gives scheduling back to the worker.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('pgcron');
$node->init;
my $host = $node->host;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops,pg_cron'
cron.database_name = 'postgres'
cron.host = '$host'
max_worker_processes = 16
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_cron;
	CREATE EXTENSION snapshot_ops;
	INSERT INTO session_snapshots (session_id, status, created_at)
	SELECT 's' || g, 'stopped', now() - interval '45 days' FROM generate_series(1, 5) g;
});
ok( $node->poll_query_until('postgres', q{SELECT running FROM snapshot_ops.worker_status()}),
	'the worker runs');
my $pid = $node->safe_psql('postgres', q{SELECT pid FROM snapshot_ops.worker_status()});

is( $node->safe_psql('postgres', q{
		SELECT jobname, schedule, command
		  FROM snapshot_ops.schedule_with_pg_cron('* * * * *', '* * * * *')
		 ORDER BY jobname}),
	"snapshot_ops_cleanup|* * * * *|CALL snapshot_ops.run_cleanup()\n"
	  . "snapshot_ops_vacuum|* * * * *|VACUUM (ANALYZE) public.session_snapshots, public.position_snapshots, public.metrics_snapshots, public.risk_guard_snapshots",
	'schedule_with_pg_cron() returns the two jobs');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(jobname || '@' || database, ',' ORDER BY jobname) FROM cron.job}),
	'snapshot_ops_cleanup@postgres,snapshot_ops_vacuum@postgres',
	'pg_cron has the jobs, in this database');

# scheduling twice updates the jobs instead of adding more
$node->safe_psql('postgres', q{SELECT * FROM snapshot_ops.schedule_with_pg_cron('* * * * *', '* * * * *')});
is($node->safe_psql('postgres', q{SELECT count(*) FROM cron.job}), '2', 'no duplicate jobs');

# the worker's own scheduler is off for this database
is( $node->safe_psql('postgres', q{
		SELECT setconfig FROM pg_db_role_setting
		 WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = 'postgres') AND setrole = 0}),
	'{snapshot_ops.enable_scheduler=off}', 'enable_scheduler is off for the database');
ok( $node->poll_query_until('postgres', qq{
		SELECT running AND pid <> $pid FROM snapshot_ops.worker_status()}),
	'the worker restarted to apply it');
is($node->safe_psql('postgres', q{SELECT bool_or(enabled) FROM snapshot_ops.jobs}), 'f',
	'the jobs view shows the worker scheduler disabled');

# pg_cron runs both commands
ok( $node->poll_query_until('postgres', q{
		SELECT count(DISTINCT j.jobname) = 2
		  FROM cron.job_run_details d JOIN cron.job j USING (jobid)
		 WHERE d.status = 'succeeded'}),
	'pg_cron ran both jobs successfully');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM pg_stat_user_tables
		 WHERE relname IN ('session_snapshots', 'position_snapshots', 'metrics_snapshots',
						   'risk_guard_snapshots')
		   AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL}),
	'4', "pg_cron's VACUUM ANALYZE covered the four tables");
is($node->safe_psql('postgres', q{SELECT count(*) FROM session_snapshots}), '0',
	"pg_cron's run_cleanup deleted the expired snapshots");
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM snapshot_ops.job_runs WHERE trigger IN ('schedule', 'catch_up')}),
	'0', 'the worker scheduled nothing meanwhile');
cmp_ok( $node->safe_psql('postgres', q{
		SELECT count(*) FROM snapshot_ops.job_runs WHERE trigger = 'call' AND status = 'succeeded'}),
	'>=', 1, "pg_cron's CALL run_cleanup() runs are in snapshot_ops.job_runs as trigger call");

# unscheduling removes the jobs and gives scheduling back
is($node->safe_psql('postgres', q{SELECT snapshot_ops.unschedule_pg_cron()}), '2',
	'unschedule_pg_cron() removes two jobs');
is($node->safe_psql('postgres', q{SELECT count(*) FROM cron.job}), '0', 'pg_cron has no job left');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM pg_db_role_setting
		 WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = 'postgres')}),
	'0', 'the database setting is gone');
# the worker applies the removed database setting when it restarts for it,
# a moment after the reload unschedule_pg_cron() asks for
ok($node->poll_query_until('postgres', q{SELECT bool_and(enabled) FROM snapshot_ops.jobs}),
	'the worker schedules again');

# invalid schedules are refused before anything changes
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	q{SELECT * FROM snapshot_ops.schedule_with_pg_cron('61 * * * *')});
like($stderr, qr/invalid cron schedule "61 \* \* \* \*"/, 'a bad schedule is refused');
is($node->safe_psql('postgres', q{SELECT count(*) FROM cron.job}), '0', 'and nothing was scheduled');

$node->stop;
done_testing();
