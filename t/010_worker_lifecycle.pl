# The worker's life cycle: CREATE EXTENSION starts a worker in that database
# without a restart, two databases have one each, DROP EXTENSION stops it,
# snapshot_ops.databases restricts the set, a terminated worker comes back,
# and the worker never blocks DROP DATABASE.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('lifecycle');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
max_worker_processes = 12
});
$node->start;

sub workers_in
{
	my ($db) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT count(*) FROM pg_stat_activity
		 WHERE backend_type = 'snapshot_ops worker' AND datname = '$db'});
}

sub worker_pid
{
	my ($db) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT pid FROM pg_stat_activity
		 WHERE backend_type = 'snapshot_ops worker' AND datname = '$db'});
}

ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity
		 WHERE backend_type = 'snapshot_ops launcher' AND datname IS NULL}),
	'the launcher runs, connected to no database');

$node->safe_psql('postgres', 'CREATE DATABASE app1');
$node->safe_psql('postgres', 'CREATE DATABASE app2');
is(workers_in('app1'), '0', 'no worker in a database without the extension');

# CREATE EXTENSION starts the worker, no restart needed
my $t0 = time;
$node->safe_psql('app1', 'CREATE EXTENSION snapshot_ops');
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity
		 WHERE backend_type = 'snapshot_ops worker' AND datname = 'app1'}),
	'CREATE EXTENSION starts a worker in app1');
my $elapsed = time - $t0;
diag(sprintf('CREATE EXTENSION to worker in pg_stat_activity: %.3f s', $elapsed));
cmp_ok($elapsed, '<', 5, 'the worker appears within seconds');

my $pid1 = worker_pid('app1');
is( $node->safe_psql('app1', q{
		SELECT loaded, running, pid, database, state, reason IS NULL
		  FROM snapshot_ops.worker_status()}),
	"t|t|$pid1|app1|idle|t",
	'worker_status() shows the running worker');
is( $node->safe_psql('postgres', qq{
		SELECT application_name, state FROM pg_stat_activity WHERE pid = $pid1}),
	'snapshot_ops worker|idle',
	'the worker shows as idle in pg_stat_activity');

# a second database at the same time
$node->safe_psql('app2', 'CREATE EXTENSION snapshot_ops');
ok( $node->poll_query_until('postgres', q{
		SELECT count(DISTINCT datname) = 2 FROM pg_stat_activity
		 WHERE backend_type = 'snapshot_ops worker' AND datname IN ('app1', 'app2')}),
	'two databases have a worker each');
my $id1 = $node->safe_psql('app1', q{SELECT snapshot_ops.run_job('vacuum', true)});
my $id2 = $node->safe_psql('app2', q{SELECT snapshot_ops.run_job('cleanup', true)});
is( $node->safe_psql('app1', qq{
		SELECT job, status, worker_pid = $pid1 FROM snapshot_ops.job_runs}),
	'vacuum|succeeded|t',
	"app1's job ran in app1's worker");
is($node->safe_psql('app2', q{SELECT job, status FROM snapshot_ops.job_runs}),
	'cleanup|succeeded', "app2's job ran in app2, recorded there only");

# DROP EXTENSION stops the worker; the other database keeps its own
$node->safe_psql('app1', 'DROP EXTENSION snapshot_ops');
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 0 FROM pg_stat_activity
		 WHERE backend_type = 'snapshot_ops worker' AND datname = 'app1'}),
	'DROP EXTENSION stops the worker of app1');
is(workers_in('app2'), '1', 'the worker of app2 keeps running');

# snapshot_ops.databases restricts the set of databases
$node->safe_psql('app1', 'CREATE EXTENSION snapshot_ops');
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity
		 WHERE backend_type = 'snapshot_ops worker' AND datname = 'app1'}),
	'CREATE EXTENSION again starts a worker again');
$node->safe_psql('postgres', q{ALTER SYSTEM SET snapshot_ops.databases = 'app2'});
$node->reload;
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 0 FROM pg_stat_activity
		 WHERE backend_type = 'snapshot_ops worker' AND datname = 'app1'}),
	'a database removed from snapshot_ops.databases loses its worker');
is( $node->safe_psql('app1', q{SELECT running, reason FROM snapshot_ops.worker_status()}),
	'f|The database is not listed in snapshot_ops.databases ("app2").',
	'worker_status() says why');
my ($ret, $stdout, $stderr) =
  $node->psql('app1', q{SELECT snapshot_ops.run_job('vacuum')});
like($stderr, qr/no snapshot_ops worker is running in database "app1"/,
	'run_job() without a worker fails');
like($stderr, qr/not listed in snapshot_ops.databases/, '... and says why');
$node->safe_psql('postgres', q{ALTER SYSTEM RESET snapshot_ops.databases});
$node->reload;
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity
		 WHERE backend_type = 'snapshot_ops worker' AND datname = 'app1'}),
	'listed again, app1 gets its worker back');

# a worker that dies is started again (after a pause, not in a loop)
$pid1 = worker_pid('app1');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid1)");
ok( $node->poll_query_until('postgres', qq{
		SELECT count(*) = 1 FROM pg_stat_activity
		 WHERE backend_type = 'snapshot_ops worker' AND datname = 'app1'
		   AND pid <> $pid1}),
	'a terminated worker is started again');
is($node->safe_psql('app1', q{SELECT failures FROM snapshot_ops.worker_status()}), '0',
	'pg_terminate_backend() of a worker is not counted as a failure');

# the worker does not block DROP DATABASE (nor CREATE DATABASE ... TEMPLATE)
$t0 = time;
$node->safe_psql('postgres', 'CREATE DATABASE app3 TEMPLATE app2');
$node->safe_psql('postgres', 'DROP DATABASE app2');
$elapsed = time - $t0;
pass('CREATE DATABASE ... TEMPLATE and DROP DATABASE succeed with a worker connected');
diag(sprintf('CREATE DATABASE TEMPLATE + DROP DATABASE: %.3f s', $elapsed));
is(workers_in('app2'), '0', 'no worker left for the dropped database');
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity
		 WHERE backend_type = 'snapshot_ops worker' AND datname = 'app3'}),
	'the copy made from the template gets a worker once it is started');

# errors of background processes have no application name before the level
ok(!$node->log_contains('\\] (ERROR|PANIC):'),
	'no error from the launcher or the workers in the server log');

$node->stop;
done_testing();
