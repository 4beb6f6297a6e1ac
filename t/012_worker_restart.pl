# Restarts: a scheduled run missed while the server was down runs once after
# start-up (a job without history does not catch up), and a crash in the
# middle of a cleanup leaves committed batches, no orphan child rows and a
# run marked interrupted.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('restart');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
snapshot_ops.timezone = 'UTC'
});
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', 'CREATE EXTENSION snapshot_ops');
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'the worker runs');

# --- missed run --------------------------------------------------------
# The vacuum job last ran two days ago; its daily 00:00 schedule has passed
# since.  The cleanup job has no history.
$node->safe_psql('app', q{
	INSERT INTO snapshot_ops.job_runs (job, trigger, started_at, finished_at, status, rows_affected)
	VALUES ('vacuum', 'schedule', now() - interval '2 days',
			now() - interval '2 days' + interval '1 second', 'succeeded', 4)});
$node->append_conf('postgresql.conf', qq{
snapshot_ops.vacuum_schedule = '0 0 * * *'
snapshot_ops.cleanup_schedule = '0 0 * * *'
});
$node->restart;
ok( $node->poll_query_until('app', q{
		SELECT count(*) = 1 FROM snapshot_ops.job_runs
		 WHERE job = 'vacuum' AND trigger = 'catch_up' AND status = 'succeeded'}),
	'the missed vacuum runs once after start-up');
# the worker checks cleanup before vacuum in each round, so a cleanup
# catch-up would be recorded by now
is( $node->safe_psql('app', q{SELECT count(*) FROM snapshot_ops.job_runs WHERE job = 'cleanup'}),
	'0', 'the cleanup job without history does not catch up');
is( $node->safe_psql('app', q{
		SELECT count(*) FROM pg_stat_user_tables
		 WHERE relname IN ('session_snapshots', 'position_snapshots', 'metrics_snapshots',
						   'risk_guard_snapshots')
		   AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL}),
	'4', 'the catch-up run vacuumed the four tables');

# restarting again does not repeat it: the last run is now after the last
# scheduled time
$node->restart;
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'the worker runs after another restart');
# one full round of the worker's loop: a manual run is served after any
# catch-up run would have been
$node->safe_psql('app', q{SELECT snapshot_ops.run_job('cleanup', true)});
is( $node->safe_psql('app', q{
		SELECT count(*) FROM snapshot_ops.job_runs WHERE trigger = 'catch_up'}),
	'1', 'no second catch-up');

# --- crash in the middle of a cleanup ----------------------------------
$node->safe_psql('app', q{
	INSERT INTO session_snapshots (session_id, status, created_at)
	SELECT 's' || g, 'crashed', now() - interval '90 days' FROM generate_series(1, 20000) g;
	-- and 100 recent ones that no cleanup may touch
	INSERT INTO session_snapshots (session_id, status, created_at)
	SELECT 'recent' || g, 'crashed', now() FROM generate_series(1, 100) g;
	INSERT INTO position_snapshots (snapshot_id, position_key)
	SELECT snapshot_id, k FROM session_snapshots, (VALUES ('BTC'), ('ETH')) v(k);
	INSERT INTO metrics_snapshots (snapshot_id) SELECT snapshot_id FROM session_snapshots;
	INSERT INTO risk_guard_snapshots (snapshot_id) SELECT snapshot_id FROM session_snapshots;
});
# one snapshot per transaction: the run takes a while
$node->safe_psql('app', q{ALTER DATABASE app SET snapshot_ops.cleanup_batch_size = 1});
$node->reload;
ok( $node->poll_query_until('app', q{
		SELECT EXISTS (SELECT 1 FROM pg_stat_activity
					   WHERE backend_type = 'snapshot_ops worker' AND datname = 'app'
						 AND backend_start > (SELECT max(finished_at) FROM snapshot_ops.job_runs))}),
	'the worker restarted with the new batch size');
my $run = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('cleanup')});
ok( $node->poll_query_until('app', qq{
		SELECT rows_affected >= 20 FROM snapshot_ops.job_runs
		 WHERE run_id = $run AND status = 'running'}),
	'the cleanup is under way');
$node->stop('immediate');
$node->start;
ok( $node->poll_query_until('app', qq{
		SELECT status = 'interrupted' FROM snapshot_ops.job_runs WHERE run_id = $run}),
	'the run cut short by the crash is marked interrupted');
my $left = $node->safe_psql('app', q{
	SELECT count(*) FROM session_snapshots WHERE created_at < now() - interval '30 days'});
cmp_ok($left, '<', 20000, 'batches committed before the crash stay deleted');
cmp_ok($left, '>', 0, 'the run did not finish');
# each batch records its progress in its own transaction: what the run says
# it deleted is exactly what is gone
is($node->safe_psql('app', qq{SELECT rows_affected FROM snapshot_ops.job_runs WHERE run_id = $run}),
	20000 - $left, 'exactly the snapshots of the committed batches are gone, no more, no fewer');
is($node->safe_psql('app', q{SELECT count(*) FROM session_snapshots WHERE session_id LIKE 'recent%'}),
	'100', 'the recent snapshots survived the crash');
is( $node->safe_psql('app', q{
		SELECT (SELECT count(*) FROM position_snapshots p
				 WHERE NOT EXISTS (SELECT 1 FROM session_snapshots s WHERE s.snapshot_id = p.snapshot_id))
			 + (SELECT count(*) FROM metrics_snapshots m
				 WHERE NOT EXISTS (SELECT 1 FROM session_snapshots s WHERE s.snapshot_id = m.snapshot_id))
			 + (SELECT count(*) FROM risk_guard_snapshots r
				 WHERE NOT EXISTS (SELECT 1 FROM session_snapshots s WHERE s.snapshot_id = r.snapshot_id))}),
	'0', 'no orphan child rows');
is( $node->safe_psql('app', q{
		SELECT (SELECT count(*) FROM position_snapshots) = 2 * count(*)
		   AND (SELECT count(*) FROM metrics_snapshots) = count(*)
		   AND (SELECT count(*) FROM risk_guard_snapshots) = count(*)
		  FROM session_snapshots}),
	't', 'every remaining snapshot has all its children');

# the next run finishes the job
$node->safe_psql('app', q{ALTER DATABASE app RESET snapshot_ops.cleanup_batch_size});
my $pid = $node->safe_psql('app', q{SELECT pid FROM snapshot_ops.worker_status()});
$node->reload;
ok( $node->poll_query_until('app', qq{
		SELECT running AND pid <> $pid FROM snapshot_ops.worker_status()}),
	'the worker restarted with the default batch size');
$run = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('cleanup', true)});
is( $node->safe_psql('app', qq{
		SELECT status, rows_affected = $left FROM snapshot_ops.job_runs WHERE run_id = $run}),
	'succeeded|t', 'the next run deletes the rest');
is($node->safe_psql('app', q{SELECT count(*) FROM session_snapshots WHERE created_at < now() - interval '30 days'}), '0',
	'nothing expired is left');
is($node->safe_psql('app', q{SELECT count(*) FROM session_snapshots WHERE session_id LIKE 'recent%'}), '100',
	'the recent snapshots are all there');

$node->stop;
done_testing();
