# Copyright (c) 2026, snapshot_ops developers
#
# t/075_dba_break_fixes.pl: what DBAs' break tests of the worker and of
# the restore paths found, each as the behaviour it must have now.
#
#  1. DROP EXTENSION snapshot_ops while the worker runs a cleanup: the
#     command stops the worker first (a batch locks retention_holds, then
#     the snapshot tables; DROP EXTENSION the other way round: a deadlock),
#     and the next installation's job history starts empty (the dropped
#     worker's kept run record is not written into it).
#     So does DROP SCHEMA ... CASCADE of the extension's schema.
#  2. ALTER EXTENSION snapshot_ops UPDATE (1.0 to 1.1) while the worker
#     runs a cleanup: no deadlock; the worker comes back serving 1.1.  An
#     update that changes nothing does not stop the worker.
#  3. Fewer slots (snapshot_ops.max_workers) than databases: a worker that
#     restarts for a changed database setting keeps its slot instead of
#     giving it to a waiting database for good.
#  4. A selective data-only restore (pg_restore -t position_snapshots):
#     the key sequence moves past the loaded keys, so a new snapshot never
#     gets the key of a restored child row (it would load that row as its
#     own), and save_snapshot() does not fail on the primary key.  A loaded
#     key at the sequence's maximum is refused: no save could follow.
#  5. A parallel data-only restore by the database's owner (not a
#     superuser, not the tables' owner): loaded unchecked under retention
#     holds, every row kept, the key sequence past the loaded keys.
#  6. A job run that was running when the dump was taken is restored as
#     interrupted, not left running.
#  7. While retention is held, the job history is not pruned: restored runs
#     older than snapshot_ops.job_history_retention stay.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('breakfix');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
snapshot_ops.enable_scheduler = off
snapshot_ops.cleanup_batch_size = 100
autovacuum = off
fsync = off
});
$node->start;

sub backlog
{
	my ($db, $n) = @_;
	$node->safe_psql($db, qq{
		INSERT INTO session_snapshots (session_id, status, created_at)
		SELECT 's' || g, 'stopped', now() - interval '40 days' FROM generate_series(1, $n) g});
}

sub wait_running
{
	my ($db, $what) = @_;
	ok($node->poll_query_until($db, q{SELECT running FROM snapshot_ops.worker_status()}), $what);
}

# --- 1. DROP EXTENSION during a cleanup ------------------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE dropper');
$node->safe_psql('dropper', 'CREATE EXTENSION snapshot_ops');
wait_running('dropper', 'dropper has its worker');
backlog('dropper', 150000);
$node->safe_psql('dropper', q{SELECT snapshot_ops.run_job('cleanup')});
ok($node->poll_query_until('dropper', q{SELECT count(*) > 0 FROM snapshot_ops.job_runs WHERE status = 'running'}),
	'a cleanup runs');
my ($ret, $out, $err) = $node->psql('dropper', 'DROP EXTENSION snapshot_ops CASCADE');
is($ret, 0, 'DROP EXTENSION during the cleanup succeeds');
unlike($err, qr/deadlock/, '... without a deadlock');
$node->safe_psql('dropper', 'CREATE EXTENSION snapshot_ops');
wait_running('dropper', 'a new installation gets its worker');
is($node->safe_psql('dropper', q{SELECT count(*) FROM snapshot_ops.job_runs}), '0',
	'its job history starts empty: no record of the dropped installation\'s run');

# --- 2. ALTER EXTENSION UPDATE during a cleanup -----------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE updater');
$node->safe_psql('updater', q{CREATE EXTENSION snapshot_ops VERSION '1.0'});
wait_running('updater', 'the 1.0 database has its worker');
backlog('updater', 150000);
$node->safe_psql('updater', q{SELECT snapshot_ops.run_job('cleanup')});
ok($node->poll_query_until('updater', q{SELECT count(*) > 0 FROM snapshot_ops.job_runs WHERE status = 'running'}),
	'a cleanup runs under 1.0');
($ret, $out, $err) = $node->psql('updater', q{SET lock_timeout = '30s'; ALTER EXTENSION snapshot_ops UPDATE});
is($ret, 0, 'ALTER EXTENSION UPDATE during the cleanup succeeds');
unlike($err, qr/deadlock/, '... without a deadlock');
ok($node->poll_query_until('updater', q{SELECT running AND sql_version = '1.1' FROM snapshot_ops.worker_status()}),
	'the worker comes back serving 1.1');
is($node->safe_psql('updater', q{SELECT count(*) FROM snapshot_ops.job_runs WHERE status = 'running'}), '0',
	'no run is left running');

# --- 1b. DROP SCHEMA ... CASCADE of the extension's schema during a cleanup ----------
$node->safe_psql('postgres', 'CREATE DATABASE schemadrop');
$node->safe_psql('schemadrop', 'CREATE SCHEMA app; CREATE EXTENSION snapshot_ops SCHEMA app');
wait_running('schemadrop', 'schemadrop has its worker');
$node->safe_psql('schemadrop', q{
	INSERT INTO app.session_snapshots (session_id, status, created_at)
	SELECT 's' || g, 'stopped', now() - interval '40 days' FROM generate_series(1, 150000) g});
$node->safe_psql('schemadrop', q{SELECT snapshot_ops.run_job('cleanup')});
ok($node->poll_query_until('schemadrop', q{SELECT count(*) > 0 FROM snapshot_ops.job_runs WHERE status = 'running'}),
	'a cleanup runs');
($ret, $out, $err) = $node->psql('schemadrop', 'DROP SCHEMA app CASCADE');
is($ret, 0, 'DROP SCHEMA ... CASCADE of the extension\'s schema during the cleanup succeeds');
unlike($err, qr/deadlock/, '... without a deadlock');

# --- 2b. an update that changes nothing leaves the worker alone --------------------
my $upid = $node->safe_psql('updater', q{SELECT pid FROM snapshot_ops.worker_status()});
($ret, $out, $err) = $node->psql('updater', 'ALTER EXTENSION snapshot_ops UPDATE');
like($err, qr/version "1\.1" of extension "snapshot_ops" is already installed/, 'an update at 1.1 is a no-op');
is($node->safe_psql('updater', q{SELECT pid FROM snapshot_ops.worker_status()}), $upid,
	'... and the worker was not stopped for it');

# --- 4 to 7. restore paths ---------------------------------------------------------
$node->safe_psql('postgres', q{
	CREATE ROLE appowner LOGIN;
	CREATE DATABASE src; CREATE DATABASE sel; CREATE DATABASE owned OWNER appowner; CREATE DATABASE full1});
$node->safe_psql('src', 'CREATE EXTENSION snapshot_ops');
# after the worker's start-up, which marks runs of dead processes interrupted
wait_running('src', 'the source database has its worker');
$node->safe_psql('src', q{
	INSERT INTO session_snapshots (session_id, status, created_at)
	SELECT 's' || g, 'stopped', now() - interval '40 days' FROM generate_series(1, 400) g;
	INSERT INTO position_snapshots (snapshot_id, position_key, trade_data)
	SELECT snapshot_id, 'SYM' || k, '{}' FROM session_snapshots, generate_series(1, 5) k;
	INSERT INTO snapshot_ops.job_runs (job, trigger, status, started_at, finished_at, worker_pid)
	VALUES ('cleanup', 'schedule', 'succeeded', now() - interval '20 days', now() - interval '20 days', 1),
		   ('cleanup', 'schedule', 'running', now() - interval '1 hour', NULL, 2);
});
my $dump = $node->basedir . '/src.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, $node->connstr('src') ], 'pg_dump -Fc of the source');

# 4. only the positions
$node->safe_psql('sel', 'CREATE EXTENSION snapshot_ops');
$node->command_ok([ 'pg_restore', '--data-only', '-t', 'position_snapshots', '-d', $node->connstr('sel'), $dump ],
	'pg_restore --data-only -t position_snapshots');
is($node->safe_psql('sel', q{SELECT count(*), max(snapshot_id) FROM position_snapshots}), '2000|400',
	'2000 positions of snapshots 1 to 400 loaded, without their parents');
my $new = $node->safe_psql('sel', q{SELECT save_snapshot('{"session": {"session_id": "new", "status": "running"},
	"positions": {"active_orders": {"BTC": {"trade": {"qty": 1}}}}}')});
cmp_ok($new, '>', 400, 'a new snapshot gets a key above every loaded one');
is($node->safe_psql('sel', q{SELECT string_agg(k, ',') FROM jsonb_object_keys(load_snapshot('new') -> 'positions' -> 'active_orders') k}),
	'BTC', '... and loads only its own position');

# a loaded key at the sequence's maximum would stop every save: refused
($ret, $out, $err) = $node->psql('sel', qq{\\set VERBOSITY verbose
COPY risk_guard_snapshots (snapshot_id) FROM stdin;
9223372036854775807
\\.
});
like($err, qr/ERROR:  22003: snapshot_id 9223372036854775807 is not below the maximum of the key sequence of session_snapshots/,
	'a bulk load of a key at the key sequence\'s maximum is refused (22003)');
cmp_ok($node->safe_psql('sel', q{SELECT save_snapshot('{"session": {"session_id": "after", "status": "running"}}')}),
	'>', $new, 'and saves go on');

# 5. the database's owner, in parallel
$node->safe_psql('owned', q{
	CREATE EXTENSION snapshot_ops;
	SELECT count(*) FROM snapshot_ops.grant_access('appowner', 'admin')});
$node->command_checks_all(
	[ 'pg_restore', '--data-only', '-j', '4', '-U', 'appowner', '-d', $node->connstr('owned'), $dump ],
	1, [qr/^$/],
	[ qr/permission denied for table job_runs/ ],
	'pg_restore -j 4 --data-only by the database owner: the job history needs a superuser, the rest loads');
is($node->safe_psql('owned', q{
	SELECT (SELECT count(*) FROM session_snapshots) || ' ' || (SELECT count(*) FROM position_snapshots)}),
	'400 2000', 'every snapshot and position is loaded');
cmp_ok($node->safe_psql('owned', q{SELECT count(*) FROM snapshot_ops.retention_holds WHERE source = 'bulk_load'}),
	'>=', 2, 'under retention holds');
cmp_ok($node->safe_psql('owned', q{SELECT last_value FROM session_snapshots_snapshot_id_seq}),
	'>=', 400, 'and the key sequence is past the loaded keys');
$node->safe_psql('owned', q{SELECT snapshot_ops.run_job('cleanup', true)});
is($node->safe_psql('owned', q{SELECT count(*) FROM session_snapshots}), '400',
	'a cleanup deletes none of the restored snapshots');

# 6 and 7. a full restore by a superuser, history older than its retention
$node->command_ok([ 'pg_restore', '-d', $node->connstr('full1'), $dump ], 'pg_restore of the whole dump');
is($node->safe_psql('full1', q{
	SELECT status || ' ' || (finished_at IS NOT NULL) || ' ' || message FROM snapshot_ops.job_runs WHERE worker_pid = 2}),
	'interrupted true it was running when the dump was taken',
	'the run that was running when the dump was taken is restored as interrupted');
wait_running('full1', 'the restored database has its worker');
my $fpid = $node->safe_psql('full1', q{SELECT pid FROM snapshot_ops.worker_status()});
$node->safe_psql('full1', q{ALTER DATABASE full1 SET snapshot_ops.job_history_retention = '1 day'});
$node->safe_psql('full1', q{SELECT pg_reload_conf()});
ok($node->poll_query_until('full1', qq{SELECT running AND pid <> $fpid FROM snapshot_ops.worker_status()}),
	'the worker restarts with a job history retention of one day');
$node->safe_psql('full1', q{SELECT snapshot_ops.run_job('cleanup', true)});
is($node->safe_psql('full1', q{SELECT count(*) FROM snapshot_ops.job_runs WHERE worker_pid IN (1, 2)}), '2',
	'while retention is held, the restored runs older than the history retention stay');
is($node->safe_psql('full1', q{SELECT count(*) FROM session_snapshots}), '400',
	'and so do the restored snapshots');

$node->stop;

# --- 3. fewer slots than databases ---------------------------------------------------
my $slots = PostgreSQL::Test::Cluster->new('slots');
$slots->init;
$slots->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
snapshot_ops.max_workers = 2
snapshot_ops.enable_scheduler = off
fsync = off
});
$slots->start;
foreach my $db ('s1', 's2', 's3')
{
	$slots->safe_psql('postgres', "CREATE DATABASE $db");
	$slots->safe_psql($db, 'CREATE EXTENSION snapshot_ops');
	# one at a time, so that s1 and s2 hold the slots
	$slots->poll_query_until($db, q{SELECT running OR state = 'waiting for a slot' FROM snapshot_ops.worker_status()});
}
is($slots->safe_psql('postgres', q{
	SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_stat_activity WHERE backend_type = 'snapshot_ops worker'}),
	's1,s2', 's1 and s2 hold the two slots, s3 waits');
my $old = $slots->safe_psql('s1', q{SELECT pid FROM snapshot_ops.worker_status()});
$slots->safe_psql('postgres', q{ALTER DATABASE s1 SET snapshot_ops.cleanup_batch_size = 500; SELECT pg_reload_conf();});
ok($slots->poll_query_until('s1', qq{SELECT running AND pid <> $old FROM snapshot_ops.worker_status()}),
	's1\'s worker restarts for its changed setting and keeps its slot');
is($slots->safe_psql('postgres', q{
	SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_stat_activity WHERE backend_type = 'snapshot_ops worker'}),
	's1,s2', 's3 still waits');
$slots->stop;

done_testing();
