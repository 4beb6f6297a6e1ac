# Without shared_preload_libraries every SQL object works, but requests to
# the worker fail with a hint; bad parameter values are refused per
# database and per session.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('nopreload');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', 'CREATE EXTENSION snapshot_ops');
is($node->safe_psql('app', 'SELECT snapshot_ops.start_worker()'), 'f',
	'start_worker() reports that no worker can run');

my ($ret, $stdout, $stderr) = $node->psql('app', 'SELECT vacuum_snapshot_tables()',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/ERROR:  55000: the snapshot_ops background worker is not running/,
	'vacuum_snapshot_tables() fails with SQLSTATE 55000');
like($stderr, qr/HINT:  Add snapshot_ops to shared_preload_libraries and restart the server\./,
	'... and the hint');
($ret, $stdout, $stderr) = $node->psql('app', q{SELECT snapshot_ops.run_job('cleanup')});
like($stderr, qr/HINT:  Add snapshot_ops to shared_preload_libraries/, 'run_job() too');
($ret, $stdout, $stderr) = $node->psql('app', q{SELECT snapshot_ops.run_job('compact')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/22023: unknown snapshot_ops job "compact"/,
	'an unknown job is refused first, with SQLSTATE 22023');
is( $node->safe_psql('app', q{SELECT loaded, running, pid IS NULL, reason FROM snapshot_ops.worker_status()}),
	'f|f|t|snapshot_ops is not in shared_preload_libraries.',
	'worker_status() says why');
is($node->safe_psql('app', q{SELECT count(*) FROM snapshot_ops.jobs}), '2',
	'the jobs view works');
($ret, $stdout, $stderr) = $node->psql('app', q{SELECT * FROM snapshot_ops.schedule_with_pg_cron()},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/55000: pg_cron is not installed in database "app"/,
	'schedule_with_pg_cron() without pg_cron fails with 55000');
like($stderr, qr/HINT:  Install pg_cron/, '... and a hint');

# bad values: per database and per session (postgresql.conf: 011)
($ret, $stdout, $stderr) = $node->psql('app', q{
	LOAD 'snapshot_ops';
	ALTER DATABASE app SET snapshot_ops.retention_period = '-5 days'});
like($stderr, qr/interval "-5 days" must be longer than zero/, 'ALTER DATABASE refuses a negative interval');
($ret, $stdout, $stderr) = $node->psql('app', q{
	LOAD 'snapshot_ops';
	ALTER DATABASE app SET snapshot_ops.vacuum_schedule = '0 0 * * 9'});
like($stderr, qr/invalid cron schedule "0 0 \* \* 9"/, 'ALTER DATABASE refuses a bad schedule');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = 'app')}),
	'0', 'nothing was stored');
($ret, $stdout, $stderr) = $node->psql('app', q{LOAD 'snapshot_ops'; SET snapshot_ops.timezone = 'Nowhere/Special'});
like($stderr, qr/time zone "Nowhere\/Special" is not recognized/, 'SET refuses an unknown time zone');

$node->stop;
done_testing();
