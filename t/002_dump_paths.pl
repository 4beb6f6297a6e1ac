# Copyright (c) 2026, snapshot_ops developers
#
# t/002_dump_paths.pl: every way a DBA dumps and restores a database that
# uses snapshot_ops keeps every row, and the restored data is not pruned.
#
# The source database holds a few thousand snapshots with their positions,
# metrics and risk_guard rows, keys with gaps (and a sequence ahead of the
# highest key), snapshots older than the retention period, and job history
# saying that the last cleanup ran 15 days ago.  It is restored into a new
# database by each path: pg_dump -Fc with a serial and a parallel
# pg_restore, pg_dump -Fd -j 4 with pg_restore -j 4, pg_dump -Ft, a plain
# dump through psql (with and without --single-transaction), a data-only
# pg_restore -j 4 into a database where CREATE EXTENSION already ran, and
# snapshot_ops_backup backup and restore.  Each must exit 0 and give the
# same rows (counts and a digest per table, the job history), the same
# identity sequence position, and one retention hold per loaded table.
#
# Then the server restarts, so that each restored database's worker starts
# with the restored history and runs its overdue cleanup at once: a minute
# later every row is still there.  Releasing the holds of one database lets
# the next cleanup delete exactly the expired rows.  A dump of a 1.0
# database restores as 1.1, and reapply_access() gives its roles the
# functions 1.1 added.  Last, child inserts racing parent deletes (read
# committed and repeatable read) never leave a child without its parent.
use strict;
use warnings;

use Time::HiRes qw(time sleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

# The backup tool: from PATH, else next to pg_config's binaries.
my $tool;
for my $dir (split(/:/, $ENV{PATH}), `pg_config --bindir 2>/dev/null` =~ s/\s+$//r)
{
	if ($dir ne '' && -x "$dir/snapshot_ops_backup")
	{
		$tool = "$dir/snapshot_ops_backup";
		last;
	}
}
BAIL_OUT('snapshot_ops_backup is not installed (not in PATH nor in pg_config --bindir)')
  unless defined $tool;

my $node = PostgreSQL::Test::Cluster->new('paths');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
max_worker_processes = 24
snapshot_ops.max_workers = 16
});
$node->start;
my $tmp = PostgreSQL::Test::Utils::tempdir;

# --- the source database ----------------------------------------------------
# Its own worker stays idle, so that nothing changes it while it is dumped.
$node->safe_psql('postgres', q{
	CREATE DATABASE src;
	ALTER DATABASE src SET snapshot_ops.enable_scheduler = off;
});
$node->safe_psql('src', q{
	CREATE SCHEMA trading;
	CREATE EXTENSION snapshot_ops SCHEMA trading;
	-- 3000 snapshots; every fourth one recent, the others 45 days old
	INSERT INTO trading.session_snapshots (session_id, status, loop_count, config, created_at)
	SELECT 'sess_' || (g % 40), (ARRAY['running', 'stopped', 'crashed'])[1 + g % 3], g,
		   jsonb_build_object('n', g, 'text', E'tab\there, newline\nand a \\ backslash'),
		   CASE WHEN g % 4 = 0 THEN now() - (g % 10) * interval '1 hour'
				ELSE now() - interval '45 days' - g * interval '1 minute' END
	  FROM generate_series(1, 3000) g;
	INSERT INTO trading.position_snapshots (snapshot_id, position_key, trade_data)
	SELECT s.snapshot_id, 'SYM' || k, jsonb_build_object('symbol', 'SYM' || k, 'qty', k)
	  FROM trading.session_snapshots s, generate_series(1, 1 + s.snapshot_id::int % 3) k;
	INSERT INTO trading.metrics_snapshots (snapshot_id, total_trades_opened, total_pnl_usd)
	SELECT snapshot_id, loop_count, loop_count * 1.5 FROM trading.session_snapshots;
	INSERT INTO trading.risk_guard_snapshots (snapshot_id, daily_loss_usd)
	SELECT snapshot_id, loop_count / 10.0 FROM trading.session_snapshots WHERE snapshot_id % 5 <> 0;
	-- keys with gaps, and none above 2990 although 3000 were handed out
	DELETE FROM trading.session_snapshots WHERE snapshot_id % 11 = 0 OR snapshot_id > 2990;
	-- the job history: the last cleanup ran 15 days ago, so one is overdue
	INSERT INTO snapshot_ops.job_runs (job, trigger, started_at, finished_at, status, rows_affected, message)
	VALUES ('cleanup', 'schedule', now() - interval '16 days', now() - interval '16 days' + interval '2 s',
			'succeeded', 120, 'deleted 120 snapshots'),
		   ('cleanup', 'schedule', now() - interval '15 days', now() - interval '15 days' + interval '1 s',
			'succeeded', 0, 'deleted 0 snapshots');
});

# Everything a restore must reproduce, one line per fact.
my $state_sql = q{
	SELECT string_agg(line, E'\n' ORDER BY ord) FROM (
	SELECT 1 AS ord, 'sessions ' || count(*) || ' ' || md5(string_agg(t::text, '|' ORDER BY snapshot_id)) AS line
	  FROM trading.session_snapshots t
	UNION ALL
	SELECT 2, 'positions ' || count(*) || ' ' || md5(string_agg(t::text, '|' ORDER BY snapshot_id, position_key))
	  FROM trading.position_snapshots t
	UNION ALL
	SELECT 3, 'metrics ' || count(*) || ' ' || md5(string_agg(t::text, '|' ORDER BY snapshot_id))
	  FROM trading.metrics_snapshots t
	UNION ALL
	SELECT 4, 'risk_guard ' || count(*) || ' ' || md5(string_agg(t::text, '|' ORDER BY snapshot_id))
	  FROM trading.risk_guard_snapshots t
	UNION ALL
	SELECT 5, 'job_runs ' || count(*) || ' ' || md5(string_agg(t::text, '|' ORDER BY run_id))
	  FROM snapshot_ops.job_runs t WHERE run_id <= 2
	UNION ALL
	SELECT 6, 'sequence ' || last_value || ' ' || is_called FROM trading.session_snapshots_snapshot_id_seq
	UNION ALL
	SELECT 7, 'orphans ' || (SELECT count(*) FROM trading.position_snapshots c
							  WHERE NOT EXISTS (SELECT FROM trading.session_snapshots s WHERE s.snapshot_id = c.snapshot_id))
			  + (SELECT count(*) FROM trading.metrics_snapshots c
				  WHERE NOT EXISTS (SELECT FROM trading.session_snapshots s WHERE s.snapshot_id = c.snapshot_id))
			  + (SELECT count(*) FROM trading.risk_guard_snapshots c
				  WHERE NOT EXISTS (SELECT FROM trading.session_snapshots s WHERE s.snapshot_id = c.snapshot_id))) x};
my $counts_sql = q{
	SELECT (SELECT count(*) FROM trading.session_snapshots) || ',' ||
		   (SELECT count(*) FROM trading.position_snapshots) || ',' ||
		   (SELECT count(*) FROM trading.metrics_snapshots) || ',' ||
		   (SELECT count(*) FROM trading.risk_guard_snapshots)};

my $source = $node->safe_psql('src', $state_sql);
like($source, qr/^sessions 2719 .*\npositions 5438 .*\nmetrics 2719 .*\nrisk_guard 2175 .*\njob_runs 2 .*\nsequence 3000 true\norphans 0$/,
	'the source database holds the sample rows');
my $source_counts = $node->safe_psql('src', $counts_sql);
note "source:\n$source";

# --- the dumps ------------------------------------------------------------------
my $src = $node->connstr('src');
$node->command_ok([ 'pg_dump', '-Fc', '-d', $src, '-f', "$tmp/src.dump" ], 'pg_dump -Fc');
$node->command_ok([ 'pg_dump', '-Fd', '-j', '4', '-d', $src, '-f', "$tmp/src.dir" ], 'pg_dump -Fd -j 4');
$node->command_ok([ 'pg_dump', '-Ft', '-d', $src, '-f', "$tmp/src.tar" ], 'pg_dump -Ft');
$node->command_ok([ 'pg_dump', '-d', $src, '-f', "$tmp/src.sql" ], 'pg_dump plain');
my ($bk_out, $bk_err) = ('', '');
ok(IPC::Run::run([ $tool, 'backup', '-d', $src, '--dir', "$tmp/backups" ], '>', \$bk_out, '2>', \$bk_err),
	'snapshot_ops_backup backup') or diag($bk_out . $bk_err);
my ($backup) = glob("$tmp/backups/*.sql.gz");

# --- the restores -----------------------------------------------------------------
# name => command; each restores into a new database of that name.
my @paths = (
	[ fc_serial => sub { [ 'pg_restore', '--exit-on-error', '-d', $node->connstr($_[0]), "$tmp/src.dump" ] } ],
	[ fc_parallel => sub { [ 'pg_restore', '--exit-on-error', '-j', '4', '-d', $node->connstr($_[0]), "$tmp/src.dump" ] } ],
	[ fd_parallel => sub { [ 'pg_restore', '--exit-on-error', '-j', '4', '-d', $node->connstr($_[0]), "$tmp/src.dir" ] } ],
	[ ft_serial => sub { [ 'pg_restore', '--exit-on-error', '-d', $node->connstr($_[0]), "$tmp/src.tar" ] } ],
	[ plain_psql => sub { [ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($_[0]), '-f', "$tmp/src.sql" ] } ],
	[ plain_psql_1 => sub {
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-d', $node->connstr($_[0]), '-f', "$tmp/src.sql" ] } ],
	[ data_only_parallel => sub {
		[ 'pg_restore', '--exit-on-error', '--data-only', '-j', '4', '-d', $node->connstr($_[0]), "$tmp/src.dump" ] } ],
);
my @restored;
foreach my $p (@paths)
{
	my ($db, $cmd) = @$p;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	# a data-only restore goes where CREATE EXTENSION already ran
	$node->safe_psql($db, 'CREATE SCHEMA trading; CREATE EXTENSION snapshot_ops SCHEMA trading')
	  if $db =~ /^data_only/;
	$node->command_ok($cmd->($db), "$db: the restore exits with status 0");
	push @restored, $db;
}
{
	my ($out, $err) = ('', '');
	ok( IPC::Run::run(
			[ $tool, 'restore', '--create', '--restore-file', $backup, '-d', $node->connstr('backup_tool') ],
			'>', \$out, '2>', \$err),
		'backup_tool: snapshot_ops_backup restore --create exits with status 0') or diag($out . $err);
	push @restored, 'backup_tool';
}

my $doc = q{'{"session": {"session_id": "after_restore", "status": "running"}}'};
my $holds_sql = q{
	SELECT string_agg(source || ': ' || reason, E'\n' ORDER BY reason) FROM snapshot_ops.list_retention_holds()};
my $expected_holds = join("\n",
	map { "bulk_load: bulk load (COPY) into trading.$_" }
	  qw(metrics_snapshots position_snapshots risk_guard_snapshots session_snapshots));
foreach my $db (@restored)
{
	is($node->safe_psql($db, $state_sql), $source,
		"$db: every row of the four tables and the job history, the sequence position, no orphan");
	my $next = $node->safe_psql($db, "BEGIN; SELECT trading.save_snapshot($doc); ROLLBACK;");
	is($next, '3001', "$db: the next save gets the key after every one handed out before the dump");
	is($node->safe_psql($db, $holds_sql), $expected_holds, "$db: each loaded table recorded a retention hold");
}

# --- a minute later, with the worker running and its catch-up due ---------------
$node->restart;
foreach my $db (@restored)
{
	# the catch-up may already have run during the restore (a serial restore
	# loads job_runs before the snapshots) or runs after the restart; either
	# way it ran, and deleted nothing
	ok( $node->poll_query_until($db, q{
			SELECT count(*) >= 1 FROM snapshot_ops.job_runs
			 WHERE job = 'cleanup' AND trigger = 'catch_up' AND run_id > 2}),
		"$db: the worker ran its overdue cleanup");
}
my $start = time;
my %changed;
while (time - $start < 65)
{
	foreach my $db (@restored)
	{
		my $now = $node->safe_psql($db, $counts_sql);
		$changed{$db} //= "$now after " . int(time - $start) . ' s' if $now ne $source_counts;
	}
	sleep 5;
}
foreach my $db (@restored)
{
	ok(!defined $changed{$db}, "$db: every row is still there a minute after the restart")
	  or diag("changed to $changed{$db}");
	# (the save above, rolled back, used key 3001)
	is($node->safe_psql($db, $state_sql), $source =~ s/^sequence 3000 true$/sequence 3001 true/mr,
		"$db: and unchanged");
	is( $node->safe_psql($db, q{
			SELECT running::text || ' ' || r.deleted
			  FROM snapshot_ops.worker_status(),
				   (SELECT coalesce(sum(rows_affected), 0) AS deleted FROM snapshot_ops.job_runs
					 WHERE job = 'cleanup' AND run_id > 2) r}),
		'true 0', "$db: the worker runs, and no cleanup since the restore deleted anything");
}

# what a DBA sees meanwhile (a cleanup now stops at the holds)
my $held_run = $node->safe_psql('fc_serial', q{SELECT snapshot_ops.run_job('cleanup', true)});
is($node->safe_psql('fc_serial', qq{
		SELECT status || ' ' || rows_affected || ' ' || (message ~ '^deleted 0 snapshots.*; stopped: Retention is held by 4 holds')::text
		  FROM snapshot_ops.job_runs WHERE run_id = $held_run}),
	'skipped 0 true', 'a cleanup run while the holds exist is recorded as skipped, and says why');
like($node->safe_psql('fc_serial', q{SELECT retention_hold FROM snapshot_ops.jobs WHERE job = 'cleanup'}),
	qr/^Retention is held by 4 holds; the oldest was recorded .* "bulk load \(COPY\) into trading\.\w+"\.$/,
	'the jobs view shows the hold on the cleanup job');
is($node->safe_psql('fc_serial', q{SELECT last_status FROM snapshot_ops.jobs WHERE job = 'cleanup'}), 'skipped',
	'and its last run as skipped');
like($node->safe_psql('fc_serial', q{SELECT reason FROM snapshot_ops.worker_status()}),
	qr/^Retention is on hold, so the cleanup deletes nothing: Retention is held by 4 holds/,
	'worker_status() names the hold');

# --- releasing the holds lets retention delete the expired rows --------------
my $db = 'fd_parallel';
my $expired = $node->safe_psql($db, q{
	SELECT deleted_sessions || ',' || deleted_positions || ',' || deleted_metrics || ',' || deleted_risk_guard
	  FROM trading.cleanup_old_snapshots('30 days', '{running,stopped,crashed}', dry_run => true)});
like($expired, qr/^[1-9]\d*,[1-9]\d*,[1-9]\d*,[1-9]\d*$/, "$db: snapshots past the retention period: $expired");
is($node->safe_psql($db, 'SELECT snapshot_ops.release_retention()'), '4', "$db: release_retention() removes the four holds");
my $run = $node->safe_psql($db, q{SELECT snapshot_ops.run_job('cleanup', true)});
my @e = split /,/, $expired;
my @before = split /,/, $source_counts;
is($node->safe_psql($db, "SELECT status || ' ' || rows_affected FROM snapshot_ops.job_runs WHERE run_id = $run"),
	"succeeded $e[0]", "$db: the next cleanup deletes the expired snapshots");
is($node->safe_psql($db, $counts_sql), join(',', map { $before[$_] - $e[$_] } 0 .. 3),
	"$db: and exactly their rows in every table");
is($node->safe_psql($db, q{SELECT count(*) FROM trading.session_snapshots WHERE created_at < now() - interval '30 days'
							  AND (status <> 'running' OR snapshot_id NOT IN (SELECT snapshot_id FROM trading.v_latest_snapshots))}),
	'0', "$db: nothing past the retention period is left but the latest snapshot of running sessions");
is($node->safe_psql('fc_parallel', $counts_sql), $source_counts, 'the other restored databases are still held');

# --- a data-only restore into a database whose worker has run jobs ----------------
# its job history already uses the run ids of the loaded one: the loaded
# runs take free ids, both histories are kept, and the restore succeeds
$node->safe_psql('postgres', 'CREATE DATABASE busy_target');
$node->safe_psql('busy_target', q{CREATE SCHEMA trading; CREATE EXTENSION snapshot_ops SCHEMA trading});
$node->safe_psql('busy_target', q{CALL snapshot_ops.run_cleanup()});
$node->safe_psql('busy_target', q{SELECT snapshot_ops.run_job('vacuum', true)});
my $local_runs = $node->safe_psql('busy_target', q{SELECT string_agg(job || '/' || trigger, ',' ORDER BY run_id) FROM snapshot_ops.job_runs});
is($local_runs, 'cleanup/call,vacuum/manual', 'busy_target: the target has run ids 1 and 2 of its own');
{
	my ($out, $err) = ('', '');
	ok( IPC::Run::run(
			[ 'pg_restore', '--exit-on-error', '--data-only', '-j', '4', '-d', $node->connstr('busy_target'), "$tmp/src.dump" ],
			'>', \$out, '2>', \$err),
		'busy_target: pg_restore --data-only --exit-on-error -j 4 exits with status 0') or diag($err);
}
is($node->safe_psql('busy_target', $counts_sql), $source_counts, 'busy_target: every snapshot row is restored');
is( $node->safe_psql('busy_target', q{
		SELECT count(*) || ' ' || count(*) FILTER (WHERE message LIKE 'deleted 120 snapshots' OR message LIKE 'deleted 0 snapshots')
		  FROM snapshot_ops.job_runs}),
	'4 2', 'busy_target: the job history holds its two runs and the two loaded ones');
is($node->safe_psql('busy_target', q{SELECT string_agg(job || '/' || trigger, ',' ORDER BY run_id) FROM snapshot_ops.job_runs WHERE run_id <= 2}),
	$local_runs, 'busy_target: its own runs keep their ids');

# --- a dump taken under 1.0, restored where the default version is 1.1 ------
# Roles keep the grants the dump carries; reapply_access() gives them the
# functions of their level that 1.1 added.
$node->safe_psql('postgres', q{
	CREATE ROLE paths_admin;
	CREATE DATABASE old10;
	ALTER DATABASE old10 SET snapshot_ops.enable_scheduler = off;
	CREATE DATABASE from10;
});
$node->safe_psql('old10', q{
	CREATE EXTENSION snapshot_ops VERSION '1.0';
	SELECT count(*) FROM snapshot_ops.grant_access('paths_admin', 'admin');
	INSERT INTO session_snapshots (session_id, status, created_at)
	SELECT 'old' || g, 'stopped', now() - interval '90 days' FROM generate_series(1, 50) g;
	INSERT INTO position_snapshots (snapshot_id, position_key) SELECT snapshot_id, 'A' FROM session_snapshots;
	INSERT INTO metrics_snapshots (snapshot_id) SELECT snapshot_id FROM session_snapshots;
});
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('old10'), '-f', "$tmp/old10.dump" ],
	'pg_dump of a 1.0 database');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-j', '4', '-d', $node->connstr('from10'), "$tmp/old10.dump" ],
	'pg_restore -j 4 of the 1.0 dump into a new database');
is( $node->safe_psql('from10', q{
		SELECT extversion || ' ' || (SELECT count(*) FROM position_snapshots) || ' '
			   || (SELECT count(*) FROM snapshot_ops.list_retention_holds())
		  FROM pg_extension WHERE extname = 'snapshot_ops'}),
	'1.1 50 4', 'the 1.0 dump restores as 1.1 with every row, and one hold per table (the empty one too)');
is( $node->safe_psql('from10', q{
		SELECT has_function_privilege('paths_admin', 'public.cleanup_old_snapshots(interval,text[],boolean)', 'EXECUTE')::text
			   || ' ' || has_function_privilege('paths_admin', 'snapshot_ops.release_retention(boolean)', 'EXECUTE')::text}),
	'true false', "the restored grants cover 1.0's functions, not those 1.1 added");
$node->safe_psql('from10', 'SELECT count(*) FROM snapshot_ops.reapply_access()');
is( $node->safe_psql('from10', q{
		SELECT has_function_privilege('paths_admin', 'snapshot_ops.release_retention(boolean)', 'EXECUTE')::text
			   || ' ' || has_function_privilege('paths_admin', 'snapshot_ops.list_retention_holds()', 'EXECUTE')::text}),
	'true true', 'after reapply_access() the admin level includes the hold functions');

# --- a child insert racing a parent delete never leaves an orphan -----------
$node->safe_psql('postgres', 'CREATE DATABASE race');
$node->safe_psql('race', q{
	CREATE EXTENSION snapshot_ops;
	INSERT INTO session_snapshots (session_id, status) SELECT 'r' || g, 'stopped' FROM generate_series(1, 6) g;
	INSERT INTO position_snapshots (snapshot_id, position_key) SELECT snapshot_id, 'A' FROM session_snapshots;
});
my $orphans_sql = q{
	SELECT count(*) FROM position_snapshots c
	 WHERE NOT EXISTS (SELECT FROM session_snapshots s WHERE s.snapshot_id = c.snapshot_id)};
my $deleter = $node->background_psql('race', on_error_stop => 0);
my $inserter = $node->background_psql('race', on_error_stop => 0);
my $inserter_pid = $inserter->query_safe('SELECT pg_backend_pid()');
my $deleter_pid = $deleter->query_safe('SELECT pg_backend_pid()');

# start a statement in a session without waiting for it; wait_done() collects it
sub start_query
{
	my ($session, $sql, $tag) = @_;
	$session->{stdin} .= "$sql;\n\\echo done-$tag\n";
	$session->{run}->pump_nb();
}

sub wait_done
{
	my ($session, $tag) = @_;
	pump_until($session->{run}, $session->{timeout}, \$session->{stdout}, qr/done-$tag/);
	my $err = $session->{stderr};
	$session->{stdout} = $session->{stderr} = '';
	return $err;
}

sub waits_for_lock
{
	my ($pid) = @_;
	return $node->poll_query_until('race',
		"SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $pid");
}

# 1. the parent's delete comes first: the insert waits for it, then fails
$deleter->query_safe('BEGIN');
$deleter->query_safe('DELETE FROM session_snapshots WHERE snapshot_id = 1');
start_query($inserter, q{INSERT INTO position_snapshots (snapshot_id, position_key) VALUES (1, 'late')}, 1);
ok(waits_for_lock($inserter_pid), 'a child insert waits for the uncommitted delete of its parent');
$deleter->query_safe('COMMIT');
like(wait_done($inserter, 1), qr/violates foreign key constraint "position_snapshots_snapshot_id_fkey"/,
	'and fails once the delete commits');

# 2. the child's insert comes first: the delete waits for it, then cascades to it
$inserter->query_safe('BEGIN');
$inserter->query_safe(q{INSERT INTO position_snapshots (snapshot_id, position_key) VALUES (2, 'late')});
start_query($deleter, 'DELETE FROM session_snapshots WHERE snapshot_id = 2', 2);
ok(waits_for_lock($deleter_pid), 'a parent delete waits for the uncommitted insert of a child');
$inserter->query_safe('COMMIT');
is(wait_done($deleter, 2), '', 'and succeeds once the insert commits');
is($node->safe_psql('race', 'SELECT count(*) FROM position_snapshots WHERE snapshot_id = 2'), '0',
	'the cascade removed the child that arrived meanwhile');

# 3. REPEATABLE READ: a child committed after the deleter's snapshot is a
# serialization failure, not an orphan
$deleter->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$deleter->query_safe('SELECT count(*) FROM session_snapshots');
$inserter->query_safe(q{INSERT INTO position_snapshots (snapshot_id, position_key) VALUES (3, 'late')});
my ($out, $failed) = $deleter->query('DELETE FROM session_snapshots WHERE snapshot_id = 3');
like($deleter->{stderr}, qr/could not serialize access/,
	'repeatable read: deleting a parent whose child committed after the snapshot fails to serialize');
$deleter->{stderr} = '';
$deleter->query('ROLLBACK');

# 4. REPEATABLE READ: a child insert whose parent was deleted after its snapshot fails
$inserter->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$inserter->query_safe('SELECT count(*) FROM session_snapshots');
$deleter->query_safe('DELETE FROM session_snapshots WHERE snapshot_id = 4');
$inserter->query(q{INSERT INTO position_snapshots (snapshot_id, position_key) VALUES (4, 'late')});
like($inserter->{stderr}, qr/could not serialize access/,
	'repeatable read: inserting a child whose parent was deleted after the snapshot fails to serialize');
$inserter->{stderr} = '';
$inserter->query('ROLLBACK');

$deleter->quit;
$inserter->quit;
is($node->safe_psql('race', $orphans_sql), '0', 'no child is left without its parent');
is($node->safe_psql('race', 'SELECT count(*) FROM position_snapshots'), '4', 'the children of the three remaining snapshots, one of them the late one');

$node->stop;
done_testing();
