# snapshot_ops.run_cleanup() commits after every batch: while one batch is
# blocked (a row lock held by another session), a third session already sees
# the earlier batches' deletes; cancelling the procedure keeps them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('run_cleanup');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'snapshot_ops'");
# the worker must not run a cleanup of its own during the test
$node->append_conf('postgresql.conf', "snapshot_ops.enable_scheduler = off");
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION snapshot_ops');

# 100 expired stopped snapshots, one second apart (oldest first), two
# positions each, and 5 recent ones that must stay.
my $fill = q{
	WITH s AS (
		INSERT INTO session_snapshots (session_id, status, created_at)
		SELECT 'old_' || g, 'stopped', now() - interval '40 days' - g * interval '1 second'
		  FROM generate_series(1, 100) g
		UNION ALL
		SELECT 'new_' || g, 'stopped', now() - interval '1 day'
		  FROM generate_series(1, 5) g
		RETURNING snapshot_id)
	INSERT INTO position_snapshots (snapshot_id, position_key)
	SELECT snapshot_id, k FROM s, (VALUES ('BTC'), ('ETH')) v(k);
};
$node->safe_psql('postgres', $fill);

my $expired_sql =
  q{SELECT count(*) FROM session_snapshots WHERE created_at < now() - interval '30 days'};
is($node->safe_psql('postgres', $expired_sql), '100', '100 expired snapshots');

# The 55th oldest snapshot: the sixth batch of ten will wait for its lock.
my $victim = $node->safe_psql('postgres', q{
	SELECT snapshot_id FROM session_snapshots
	 WHERE created_at < now() - interval '30 days'
	 ORDER BY created_at OFFSET 54 LIMIT 1});

my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN');
$locker->query_safe("SELECT 1 FROM session_snapshots WHERE snapshot_id = $victim FOR UPDATE");

my $cleaner = $node->background_psql('postgres', on_error_stop => 0);
$cleaner->query_safe(q{SET snapshot_ops.retention_mode = 'finished'});
my $cleaner_pid = $cleaner->query_safe('SELECT pg_backend_pid()');
$cleaner->{stdin} .= "CALL snapshot_ops.run_cleanup('30 days', 10);\n\\echo cleanup-finished\n";
$cleaner->{run}->pump_nb();

# wait until the procedure is blocked on the row lock
ok( $node->poll_query_until(
		'postgres', qq{
	SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $cleaner_pid}),
	'run_cleanup waits for the locked row');

# five batches are committed and visible to everybody else
is($node->safe_psql('postgres', $expired_sql),
	'50', 'five committed batches of ten are visible while the sixth waits');
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM position_snapshots p
	  JOIN session_snapshots s USING (snapshot_id)
	 WHERE s.created_at < now() - interval '30 days'}),
	'100',
	'their positions went with them');

# release the lock: the procedure finishes the remaining batches
$locker->query_safe('ROLLBACK');
$cleaner->query_until(qr/cleanup-finished/, '');
like(
	$cleaner->{stderr},
	qr/deleted snapshots: 100, positions: 200, metrics rows: 0, risk_guard rows: 0; batches: 10/,
	'summary NOTICE counts every row');
is($node->safe_psql('postgres', $expired_sql), '0', 'no expired snapshot left');
is($node->safe_psql('postgres', 'SELECT count(*) FROM session_snapshots'),
	'5', 'recent snapshots kept');
$cleaner->{stderr} = '';

# Cancelled in its sixth batch: the five committed batches stay deleted, the
# interrupted one is rolled back.
$node->safe_psql('postgres', $fill);
$victim = $node->safe_psql('postgres', q{
	SELECT snapshot_id FROM session_snapshots
	 WHERE created_at < now() - interval '30 days'
	 ORDER BY created_at OFFSET 54 LIMIT 1});
$locker->query_safe('BEGIN');
$locker->query_safe("SELECT 1 FROM session_snapshots WHERE snapshot_id = $victim FOR UPDATE");
$cleaner->{stdin} .= "CALL snapshot_ops.run_cleanup('30 days', 10);\n\\echo cleanup-cancelled\n";
$cleaner->{run}->pump_nb();
ok( $node->poll_query_until(
		'postgres', qq{
	SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $cleaner_pid}),
	'second run waits for the locked row');
$node->safe_psql('postgres', "SELECT pg_cancel_backend($cleaner_pid)");
$cleaner->query_until(qr/cleanup-cancelled/, '');
like($cleaner->{stderr}, qr/canceling statement due to user request/,
	'run_cleanup is cancelled');
$locker->query_safe('ROLLBACK');
is($node->safe_psql('postgres', $expired_sql),
	'50', 'batches committed before the cancel stay deleted');

$locker->quit;
$cleaner->quit;
$node->stop;
done_testing();
