# The vacuum job keeps the GIN indexes bounded: GIN never removes a key
# whose rows are gone, so after a retention round of documents with unique
# values the entry tree is mostly empty keys.  The job sees that
# (snapshot_ops.gin_index_bloat()), rebuilds the index concurrently, drops
# the invalid index an unfinished rebuild leaves behind, records a rebuild
# that times out on a lock as a failure without leaving anything, releases a
# waiting caller before rebuilding (its snapshot would block the rebuild),
# and does nothing when snapshot_ops.gin_rebuild_threshold is 0.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('gin');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
snapshot_ops.enable_scheduler = off
snapshot_ops.vacuum_lock_timeout = '300ms'
autovacuum = off
});
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', 'CREATE EXTENSION snapshot_ops');
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'the worker runs');

# n snapshots of 10 positions whose trade data holds values unique to the
# snapshot (ids, prices), as a trading engine's do
sub save_unique
{
	my ($from, $to) = @_;
	$node->safe_psql('app', qq{
		SELECT count(save_snapshot(jsonb_build_object(
			'session', jsonb_build_object('session_id', 's' || (g % 50), 'status', 'stopped'),
			'positions', jsonb_build_object('active_orders', (
				SELECT jsonb_object_agg('SYM' || p, jsonb_build_object('trade', jsonb_build_object(
					'symbol', 'SYM' || p, 'trade_id', 'T-' || g || '-' || p,
					'entry_px', g * 10 + p + 0.25, 'qty', p)))
				  FROM generate_series(1, 10) p))),
			'periodic'))
		  FROM generate_series($from, $to) g});
}

my $gin = 'idx_position_snapshots_trade_data_gin';
my $bloat_sql = qq{
	SELECT empty_entries > 0, empty_fraction, rebuild_due, index_bytes
	  FROM snapshot_ops.gin_index_bloat() WHERE index_name = '$gin'};

save_unique(1, 3000);
is( $node->safe_psql('app', q{SELECT count(*) FROM snapshot_ops.gin_index_bloat()}),
	'5', 'gin_index_bloat() lists the five GIN indexes');
my ($has_empty, $fraction, $due, $bytes) =
  split /\|/, $node->safe_psql('app', $bloat_sql);
is("$has_empty|$due", 'f|f', 'a freshly filled index has no empty entries');

# a retention round: the first 2000 snapshots go, 1000 new ones come
$node->safe_psql('app', q{DELETE FROM session_snapshots WHERE snapshot_id <= 2000});
save_unique(3001, 4000);
my $live = $node->safe_psql('app', q{SELECT count(*) FROM position_snapshots});
is($live, '20000', '2000 snapshots of 10 positions are left');

# threshold 0: the job vacuums and rebuilds nothing
$node->safe_psql('app', q{ALTER SYSTEM SET snapshot_ops.gin_rebuild_threshold = 0});
$node->reload;
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'the worker runs after the reload');
my $run = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('vacuum', true)});
my $msg = $node->safe_psql('app', qq{SELECT message FROM snapshot_ops.job_runs WHERE run_id = $run});
unlike($msg, qr/rebuilt/, 'with the threshold at 0 nothing is rebuilt');
($has_empty, $fraction, $due, $bytes) = split /\|/, $node->safe_psql('app', $bloat_sql);
is($has_empty, 't', 'after VACUUM the keys of the deleted rows are left, empty');
cmp_ok($fraction, '>', 0.4, "much of the entry tree is empty keys ($fraction)");
is($due, 'f', 'no rebuild is due while the threshold is 0');

$node->safe_psql('app', q{ALTER SYSTEM RESET snapshot_ops.gin_rebuild_threshold});
$node->reload;
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'the worker runs after the reload');
is($node->safe_psql('app', qq{SELECT rebuild_due FROM snapshot_ops.gin_index_bloat() WHERE index_name = '$gin'}),
	't', 'at the default threshold a rebuild is due');

# a caller that joins a run already in progress is released with the
# VACUUM's outcome before the concurrent rebuild starts, so it never holds
# the snapshot the rebuild waits for: hold the run in its VACUUM of
# risk_guard_snapshots, join it, then let it go on
$node->safe_psql('app', q{ALTER SYSTEM SET snapshot_ops.vacuum_lock_timeout = '30s'});
$node->reload;
ok($node->poll_query_until('app', q{SELECT current_setting('snapshot_ops.vacuum_lock_timeout') = '30s'}),
	'the lock timeout is long for the joining case');
my $hold = $node->background_psql('app');
$hold->query_safe(q{BEGIN; LOCK TABLE risk_guard_snapshots IN SHARE UPDATE EXCLUSIVE MODE});
my $held_run = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('vacuum')});
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity
		 WHERE backend_type = 'snapshot_ops worker' AND wait_event_type = 'Lock'}),
	'the run waits for its lock on risk_guard_snapshots');
my ($jout, $jerr) = ('', '');
my $joiner = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('app'), '-c', 'SELECT vacuum_snapshot_tables()' ],
	'>', \$jout, '2>', \$jerr);
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity
		 WHERE query = 'SELECT vacuum_snapshot_tables()' AND wait_event = 'Extension'}),
	'a caller waits in vacuum_snapshot_tables()');
$hold->query_safe('COMMIT');
$hold->quit;
$joiner->finish;
like($jout, qr/^VACUUM ANALYZE completed for 4 tables: .*; GIN upkeep of 1 indexes follows in the same run \(run $held_run,/,
	'the caller joined the run in progress and was released after its VACUUMs');
ok($node->poll_query_until('app', qq{SELECT status <> 'running' FROM snapshot_ops.job_runs WHERE run_id = $held_run}),
	'the joined run ends');
like($node->safe_psql('app', qq{SELECT status || ': ' || message FROM snapshot_ops.job_runs WHERE run_id = $held_run}),
	qr/^succeeded: .*; rebuilt $gin/,
	'and its concurrent rebuild succeeds: the joiner did not hold it up');
$node->safe_psql('app', q{ALTER SYSTEM RESET snapshot_ops.vacuum_lock_timeout});
$node->reload;
ok($node->poll_query_until('app', q{SELECT current_setting('snapshot_ops.vacuum_lock_timeout') = '300ms'}),
	'the lock timeout is back');
# bloat the index again for the cases below
$node->safe_psql('app', q{
	INSERT INTO session_snapshots (session_id, status, created_at)
	SELECT 'join' || g, 'stopped', now() - interval '40 days' FROM generate_series(1, 20000) g;
	INSERT INTO position_snapshots (snapshot_id, position_key, trade_data)
	SELECT snapshot_id, 'P', jsonb_build_object('trade_id', 'join-' || snapshot_id, 'price', random())
	  FROM session_snapshots WHERE session_id LIKE 'join%';
	DELETE FROM session_snapshots WHERE session_id LIKE 'join%';
});
$node->safe_psql('app', 'VACUUM position_snapshots');
is($node->safe_psql('app', qq{SELECT rebuild_due FROM snapshot_ops.gin_index_bloat() WHERE index_name = '$gin'}),
	't', 'a rebuild is due again');

# a rebuild that cannot get its lock fails, leaves nothing, and is retried
my $locker = $node->background_psql('app');
$locker->query_safe(q{BEGIN; LOCK TABLE position_snapshots IN SHARE UPDATE EXCLUSIVE MODE});
$run = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('vacuum')});
ok( $node->poll_query_until('app', qq{SELECT status <> 'running' FROM snapshot_ops.job_runs WHERE run_id = $run}),
	'the run with the lock held ends');
$msg = $node->safe_psql('app', qq{SELECT status || ': ' || message FROM snapshot_ops.job_runs WHERE run_id = $run});
like($msg, qr/^failed: .*rebuilding $gin \(\d+% of its entries empty\) failed: canceling statement due to lock timeout/,
	'the rebuild that timed out on its lock is recorded as failed');
$locker->query_safe('ROLLBACK');
$locker->quit;
is( $node->safe_psql('app', q{
		SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		 WHERE i.indrelid = 'position_snapshots'::regclass AND NOT i.indisvalid}),
	'0', 'the failed rebuild left no invalid index');

# a run somebody waits for releases the caller after the VACUUMs and then
# rebuilds: the waiting caller's snapshot would otherwise hold up REINDEX
# CONCURRENTLY until the lock timeout
my ($wout, $werr);
my $waited = $node->psql('app', q{SELECT vacuum_snapshot_tables()}, stdout => \$wout, stderr => \$werr);
like($wout, qr/^VACUUM ANALYZE completed for 4 tables: .*; GIN upkeep of 1 indexes follows in the same run \(run (\d+),/,
	'a waiting caller gets the VACUUM outcome and is told the GIN upkeep follows');
$run = ($wout =~ /\(run (\d+),/)[0];
$node->poll_query_until('app', qq{SELECT status <> 'running' FROM snapshot_ops.job_runs WHERE run_id = $run})
  or die "run $run did not end";
$msg = $node->safe_psql('app', qq{SELECT status || ': ' || message FROM snapshot_ops.job_runs WHERE run_id = $run});
like($msg, qr/^succeeded: VACUUM ANALYZE completed for 4 tables: .*; rebuilt $gin \(\d+% of its entries empty\): [\d.]+ MB -> [\d.]+ MB/,
	'the run the caller waited for rebuilds the index once the caller is released');

# bloat it again for the unwaited run below
$node->safe_psql('app', q{
	INSERT INTO session_snapshots (session_id, status, created_at)
	SELECT 'again' || g, 'stopped', now() - interval '40 days' FROM generate_series(1, 20000) g;
	INSERT INTO position_snapshots (snapshot_id, position_key, trade_data)
	SELECT snapshot_id, 'P', jsonb_build_object('trade_id', 'again-' || snapshot_id, 'price', random())
	  FROM session_snapshots WHERE session_id LIKE 'again%';
	DELETE FROM session_snapshots WHERE session_id LIKE 'again%';
});
$node->safe_psql('app', 'VACUUM position_snapshots');

# a run nobody waits for (scheduled, or run_job without wait) rebuilds it
sub run_unwaited
{
	my $id = $node->safe_psql('app', q{SELECT snapshot_ops.run_job('vacuum')});
	$node->poll_query_until('app', qq{SELECT status <> 'running' FROM snapshot_ops.job_runs WHERE run_id = $id})
	  or die "run $id did not end";
	return $node->safe_psql('app', qq{SELECT status || ': ' || message FROM snapshot_ops.job_runs WHERE run_id = $id});
}
$msg = run_unwaited();
like($msg, qr/^succeeded: VACUUM ANALYZE completed for 4 tables: .*; rebuilt $gin \(\d+% of its entries empty\): [\d.]+ MB -> [\d.]+ MB/,
	'the next run rebuilds the index and says by how much it shrank');
my ($has_empty2, $fraction2, $due2, $bytes2) = split /\|/, $node->safe_psql('app', $bloat_sql);
is("$has_empty2|$due2", 'f|f', 'the rebuilt index has no empty keys');
cmp_ok($bytes2, '<', $bytes * 0.75, "the index is smaller ($bytes -> $bytes2 bytes)");
is( $node->safe_psql('app', qq{
		SELECT i.indisvalid AND i.indisready, pg_get_indexdef(i.indexrelid) LIKE '%USING gin (trade_data)'
		  FROM pg_index i WHERE i.indexrelid = '$gin'::regclass}),
	't|t', 'the index keeps its name and definition and is valid');
is( $node->safe_psql('app', q{
		SELECT count(*) FROM position_snapshots WHERE trade_data ? 'trade_id'}),
	$live, 'the index answers the report\'s key search with every live row');
like( $node->safe_psql('app', q{
		SET enable_seqscan = off;
		EXPLAIN (COSTS OFF) SELECT count(*) FROM position_snapshots WHERE trade_data ? 'trade_id'}),
	qr/$gin/, 'and the planner uses it');

# an invalid index left by an unfinished rebuild (a crash, a cancel) is
# dropped by the next run; made here by hand, as a crash would leave it
$node->safe_psql('app', qq{
	CREATE INDEX ${gin}_ccnew ON position_snapshots USING gin (trade_data);
	UPDATE pg_index SET indisvalid = false WHERE indexrelid = '${gin}_ccnew'::regclass;
	-- a user's invalid index of another name is none of the job's business
	CREATE INDEX my_gin ON position_snapshots USING gin (order_a_data);
	UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'my_gin'::regclass});
$msg = run_unwaited();
like($msg, qr/^succeeded: .*; dropped invalid index ${gin}_ccnew left by an unfinished rebuild/,
	'the leftover of an unfinished rebuild is dropped');
is( $node->safe_psql('app', q{
		SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		 WHERE i.indrelid = 'position_snapshots'::regclass AND NOT i.indisvalid}),
	'my_gin', 'and only that one');
unlike($msg, qr/rebuilt/, 'nothing needed rebuilding this time');

$node->stop;
done_testing();
