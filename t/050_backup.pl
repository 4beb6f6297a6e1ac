# Copyright (c) 2026, snapshot_ops developers
#
# snapshot_ops_backup: backup, restore and verify against a real server.
#
# Backs up a database holding rows in the four snapshot tables, restores it
# into a new database and compares counts and content; checks that restore
# refuses a non-empty target and changes nothing, that --clean replaces the
# extension atomically, that damaged backups fail verify and restore, that a
# failing pg_dump or a full disk leave no file behind, the file modes, and
# that a password never reaches pg_dump's command line.

use strict;
use warnings;

use File::Path qw(make_path);
use File::Copy qw(copy);
use IO::Compress::Gzip qw(gzip $GzipError);
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use Digest::SHA;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# The tool: from PATH, else next to pg_config's binaries.
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
note "using $tool";

# Run the tool at $bin; returns (exit code, stdout, stderr).
sub run_tool
{
	my ($bin, @args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $bin, @args ], '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	note "$bin @args => $rc\n$out$err";
	return ($rc, $out, $err);
}

# Run the installed tool.
sub tool
{
	return run_tool($tool, @_);
}

# The installation's own programs (PATH and pg_config point at it); the
# fake programs below hand "-V" to them, which the tool's version check runs.
my $pgbin = `pg_config --bindir` =~ s/\s+$//r;

my $node = PostgreSQL::Test::Cluster->new('backup');
$node->init;
$node->start;

my $tmp = PostgreSQL::Test::Utils::tempdir;
my $dir = "$tmp/nested/backups";

# Source data: rows in all four tables, with values that need escaping in
# COPY (newlines, tabs, backslashes) and NULLs.
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql(
	'src', q{
CREATE EXTENSION snapshot_ops;
INSERT INTO session_snapshots (session_id, status, config, loop_count)
SELECT 'sess_' || g % 7, CASE WHEN g % 3 = 0 THEN 'stopped' ELSE 'running' END,
       jsonb_build_object('n', g, 'text', E'a\nb\tc\\d'), g
  FROM generate_series(1, 120) g;
INSERT INTO position_snapshots (snapshot_id, position_key, trade_data)
SELECT s.snapshot_id, 'pos_' || p, jsonb_build_object('symbol', 'BTC', 'qty', p)
  FROM session_snapshots s, generate_series(1, 5) p
 WHERE s.snapshot_id % 4 <> 0;
INSERT INTO metrics_snapshots (snapshot_id, total_trades_opened, total_pnl_usd)
SELECT snapshot_id, snapshot_id, snapshot_id * 1.25 FROM session_snapshots;
INSERT INTO risk_guard_snapshots (snapshot_id, daily_loss_usd)
SELECT snapshot_id, 3 FROM session_snapshots WHERE snapshot_id % 2 = 0;
});

my @tables = qw(session_snapshots position_snapshots metrics_snapshots risk_guard_snapshots);

# counts and a digest of every row of the four tables (in $schema, default
# public), one line per table
sub fingerprint
{
	my ($db, $schema) = @_;
	$schema //= 'public';
	return join(
		"\n",
		map {
			$node->safe_psql($db,
				"SELECT '$_', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM $schema.$_ t"
			  )
		} @tables);
}
my $src_fp = fingerprint('src');
like($src_fp, qr/^position_snapshots\|450\|/m, 'source has 450 positions');

my $src = $node->connstr('src');

# --- backup ---------------------------------------------------------------
my ($rc, $out, $err) = tool('backup', '-d', $src, '--dir', $dir);
is($rc, 0, 'backup succeeds');
like($out, qr/Compressed: .* \(\d+\.\d% reduction\)/, 'backup reports the reduction');
like($out, qr/public\.position_snapshots 450/, 'backup reports the rows it dumped');

opendir(my $dh, $dir) or die;
my @files = sort grep { !/^\./ } readdir($dh);
closedir($dh);
is(scalar(@files), 2, 'backup wrote exactly two files') or diag("@files");
my ($backup) = grep { /^src_backup_\d{8}_\d{6}\.sql\.gz$/ } @files;
ok(defined $backup, 'backup file named <db>_backup_YYYYMMDD_HHMMSS.sql.gz');
$backup = "$dir/$backup";
ok(-f "$backup.sha256", 'checksum file beside the backup');
is((stat($backup))[2] & 07777, 0600, 'backup file has mode 0600');
is((stat("$backup.sha256"))[2] & 07777, 0600, 'checksum file has mode 0600');
is((stat($dir))[2] & 07777, 0700, 'new backup directory has mode 0700');
is((stat("$tmp/nested"))[2] & 07777, 0700, 'new parent directory has mode 0700');

# the checksum file is in sha256sum's format and right
my $digest = Digest::SHA->new(256)->addfile($backup)->hexdigest;
my $sumline = slurp_file("$backup.sha256");
my $bname = $backup =~ s{.*/}{}r;
is($sumline, "$digest  $bname\n", 'checksum file holds the SHA-256 as sha256sum writes it');

# plain SQL: gunzip | psql would restore it
my $sql;
gunzip($backup => \$sql) or die $GunzipError;
like($sql, qr/^CREATE EXTENSION IF NOT EXISTS snapshot_ops /m, 'the dump is plain SQL with CREATE EXTENSION');

# --- list -----------------------------------------------------------------
($rc, $out) = tool('list', '--dir', $dir);
is($rc, 0, 'list succeeds');
like($out, qr/^src_backup_\S+\.sql\.gz\s+\S+ \S+\s+\d+m\s+ok$/m, 'list shows size, age and checksum ok');
like($out, qr/^database "src": 1 backup$/m, 'list names the database of the backup');
my $gzhead = IO::Uncompress::Gunzip->new($backup) or die $GunzipError;
is($gzhead->getHeaderInfo()->{Comment}, 'snapshot_ops_backup database: src',
	'the gzip header records the database\'s name');
$gzhead->close;

# Databases "x y" and "x_y" share the file name prefix x_y; each keeps its
# newest backup although the other one's is newer
$node->safe_psql('postgres', 'CREATE DATABASE "x y"; CREATE DATABASE x_y');
my $same = "$tmp/same_prefix";
($rc) = tool('backup', '-d', $node->connstr('x y'), '--dir', $same);
is($rc, 0, 'backup of database "x y" succeeds');
opendir($dh, $same) or die;
my ($xy_space) = grep { /^x_y_backup_.*\.gz$/ } readdir($dh);
closedir($dh);
my $old_time = time() - 40 * 86400;
utime($old_time, $old_time, "$same/$xy_space", "$same/$xy_space.sha256");
($rc) = tool('backup', '-d', $node->connstr('x_y'), '--dir', $same);
is($rc, 0, 'backup of database x_y into the same directory succeeds');
($rc, $out) = tool('list', '--dir', $same);
like($out, qr/^database "x_y": 1 backup\n.*\ndatabase "x y": 1 backup\n\Q$xy_space\E /m,
	'list shows them as two databases');
($rc, $out) = tool('rotate', '--dir', $same, '--keep-days', '30');
is($rc, 0, 'rotate succeeds');
ok(-e "$same/$xy_space", 'rotate keeps the only backup of "x y", 40 days old');
like($out, qr/database "x y": newest good backup: \Q$xy_space\E/, 'as the newest good backup of its database');

# Three backups started at once (two cron lines, a timer and a manual run):
# each takes its own name (a lock file claims it), none is lost
my $together = "$tmp/together";
my @runs;
foreach my $db ('x y', 'x_y', 'x_y')
{
	my ($o, $e) = ('', '');
	my $h = IPC::Run::start([ $tool, 'backup', '-d', $node->connstr($db), '--dir', $together ],
		'>', \$o, '2>', \$e);
	push @runs, [ $h, \$e ];
}
my @codes = map { $_->[0]->finish; $? >> 8 } @runs;
is(join(',', @codes), '0,0,0', 'three backups started at once all succeed');
is(scalar(grep { /\.sql\.gz$/ } split / /, files_in($together)), 3, 'as three backups with three names');
is(scalar(grep { /\.lock$/ } split / /, files_in($together)), 0, 'leaving no lock file behind');

# --- restore into a new database --------------------------------------------
($rc, $out) = tool('restore', '--restore-file', $backup, '--create', '-d', $node->connstr('dst'));
is($rc, 0, 'restore --create succeeds');
like($out, qr/public\.position_snapshots\s+450\s+450\s+ok/, 'restore reports row counts');
is(fingerprint('dst'), $src_fp, 'restored tables equal the source, row for row');
is( $node->safe_psql(
		'dst',
		q{INSERT INTO public.session_snapshots (session_id) VALUES ('new') RETURNING snapshot_id > 120}),
	't',
	'new keys after a restore do not collide with restored ones');

# --- restore refuses a non-empty target and changes nothing -----------------
$node->safe_psql('postgres', 'CREATE DATABASE busy');
$node->safe_psql('busy',
	q{CREATE EXTENSION snapshot_ops; INSERT INTO session_snapshots (session_id) VALUES ('mine')});
my $busy_fp = fingerprint('busy');
($rc, $out, $err) = tool('restore', '--restore-file', $backup, '-d', $node->connstr('busy'));
is($rc, 4, 'restore into a database with the extension is refused (exit 4)');
like($err, qr/already has the snapshot_ops extension/, 'and says why');
is(fingerprint('busy'), $busy_fp, 'the refused target is unchanged');

$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE TABLE app_table (a int)');
($rc, undef, $err) = tool('restore', '--restore-file', $backup, '-d', $node->connstr('other'));
is($rc, 4, 'restore into a database with other tables is refused');
like($err, qr/not empty: it has 1 relation, such as public\.app_table/, 'and names one');

($rc, undef, $err) = tool('restore', '--restore-file', $backup, '--create', '-d', $node->connstr('busy'));
is($rc, 4, 'restore --create into an existing database is refused');

# --clean that cannot drop the extension (a view depends on it) rolls back
$node->safe_psql('busy', 'CREATE VIEW my_view AS SELECT session_id FROM public.session_snapshots');
($rc, undef, $err) = tool('restore', '--restore-file', $backup, '--clean', '-d', $node->connstr('busy'));
is($rc, 2, 'restore --clean fails when user objects depend on the extension');
like($err, qr/cannot drop extension snapshot_ops because other objects depend on it/,
	'with the server\'s reason');
is(fingerprint('busy'), $busy_fp, 'the failed --clean restore changed nothing');

# --clean replaces the extension and its data in one transaction
$node->safe_psql('busy', 'DROP VIEW my_view');
($rc, $out) = tool('restore', '--restore-file', $backup, '--clean', '-d', $node->connstr('busy'));
is($rc, 0, 'restore --clean succeeds');
is(fingerprint('busy'), $src_fp, 'after --clean the target holds exactly the backup');

# --clean with the extension in a schema of its own: DROP EXTENSION leaves
# the schema, which the backup creates again, so --clean drops it too
$node->safe_psql('postgres', 'CREATE DATABASE src_trading');
$node->safe_psql(
	'src_trading', q{
CREATE SCHEMA trading;
CREATE EXTENSION snapshot_ops SCHEMA trading;
INSERT INTO trading.session_snapshots (session_id, config)
SELECT 'sess_' || g % 5, jsonb_build_object('n', g) FROM generate_series(1, 40) g;
INSERT INTO trading.position_snapshots (snapshot_id, position_key, trade_data)
SELECT snapshot_id, 'pos', '{"qty": 1}' FROM trading.session_snapshots;
INSERT INTO trading.metrics_snapshots (snapshot_id, total_trades_opened)
SELECT snapshot_id, 1 FROM trading.session_snapshots;
INSERT INTO trading.risk_guard_snapshots (snapshot_id, daily_loss_usd)
SELECT snapshot_id, 2 FROM trading.session_snapshots WHERE snapshot_id % 2 = 0;
});
my $trading_fp = fingerprint('src_trading', 'trading');
($rc) = tool('backup', '-d', $node->connstr('src_trading'), '--dir', "$tmp/trading");
is($rc, 0, 'backup of a database with the extension in schema trading succeeds');
opendir($dh, "$tmp/trading") or die;
my ($trading_backup) = map { "$tmp/trading/$_" } grep { /\.sql\.gz$/ } readdir($dh);
closedir($dh);

$node->safe_psql('postgres', 'CREATE DATABASE live_trading');
$node->safe_psql('live_trading',
	q{CREATE SCHEMA trading; CREATE EXTENSION snapshot_ops SCHEMA trading;
	  INSERT INTO trading.session_snapshots (session_id) VALUES ('live')});
($rc, $out, $err) =
  tool('restore', '--restore-file', $trading_backup, '--clean', '-d', $node->connstr('live_trading'));
is($rc, 0, 'restore --clean succeeds with the extension in a schema of its own');
like($out, qr/--clean: the extension's schema "trading" is dropped with it/, 'saying that it drops the schema');
is(fingerprint('live_trading', 'trading'), $trading_fp, 'and brings back every row of the backup');

# the extension's schema also holds a table of the user: refused, nothing changed
$node->safe_psql('live_trading', q{CREATE TABLE trading.mine (a int); INSERT INTO trading.mine VALUES (42)});
($rc, $out, $err) =
  tool('restore', '--restore-file', $trading_backup, '--clean', '-d', $node->connstr('live_trading'));
is($rc, 4, 'restore --clean is refused when the extension\'s schema holds a table of the user (exit 4)');
like($err,
	qr/schema "trading" of the snapshot_ops extension in database "live_trading" holds 1 other object, such as table trading\.mine/,
	'naming the table');
unlike($out, qr/Running psql/, 'before psql runs');
is(fingerprint('live_trading', 'trading'), $trading_fp, 'the extension\'s data is unchanged');
is($node->safe_psql('live_trading', 'SELECT a FROM trading.mine'), '42', 'and so is the user\'s table');

# ... and a table that appears after that check still makes DROP SCHEMA
# (never CASCADE) fail: the restore is rolled back, the table kept.  A
# psql wrapper creates it just before the restore's psql starts.
$node->safe_psql('live_trading', 'DROP TABLE trading.mine');
my $latebin = "$tmp/latebin";
make_path($latebin);
open(my $lfh, '>', "$latebin/psql") or die;
print $lfh "#!/bin/sh\n[ \"\$1\" = -V ] && exec '$pgbin/psql' -V\n"
  . "'$pgbin/psql' -X -q -d '"
  . $node->connstr('live_trading')
  . "' -c 'CREATE TABLE trading.late (a int)' || exit 1\n"
  . "exec '$pgbin/psql' \"\$@\"\n";
close($lfh);
chmod(0755, "$latebin/psql");
{
	local $ENV{SNAPSHOT_OPS_PG_BINDIR} = $latebin;
	($rc, $out, $err) =
	  tool('restore', '--restore-file', $trading_backup, '--clean', '-d', $node->connstr('live_trading'));
}
is($rc, 2, 'restore --clean fails when a table appears in the schema meanwhile (exit 2)');
like($err, qr/cannot drop schema trading because other objects depend on it/, 'on DROP SCHEMA');
like($err, qr/the restore was rolled back; database "live_trading" is unchanged/, 'and rolls back');
is(fingerprint('live_trading', 'trading'), $trading_fp, 'the extension\'s data is unchanged');
is($node->safe_psql('live_trading', q{SELECT to_regclass('trading.late') IS NOT NULL}), 't',
	'and the late table is still there');

# --- verify -----------------------------------------------------------------
($rc, $out) = tool('verify', '--dir', $dir, '-d', $node->connstr('postgres'));
is($rc, 0, 'verify of the newest backup succeeds');
like($out, qr/Checksum: ok.*gzip stream: ok.*Created database "snapshot_ops_verify_\d+".*public\.risk_guard_snapshots\s+60\s+60\s+ok.*Dropped database/s,
	'verify checks, test-restores, compares counts and drops its database');
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_database WHERE datname LIKE 'snapshot_ops\_verify\_%'}),
	'0', 'no verify database is left');

# --- damaged backups ----------------------------------------------------------
my $bad = "$tmp/bad";
make_path($bad);

# Write $content gzip'ed as $path with a correct checksum file.
sub write_backup
{
	my ($path, $content) = @_;
	gzip(\$content => $path) or die $GzipError;
	my $d = Digest::SHA->new(256)->addfile($path)->hexdigest;
	my $n = $path =~ s{.*/}{}r;
	open(my $fh, '>', "$path.sha256") or die;
	print $fh "$d  $n\n";
	close($fh);
}

$node->safe_psql('postgres', 'CREATE DATABASE empty_target');

# truncated, with and without its checksum file
my $raw = slurp_file($backup);
my $trunc = "$bad/trunc_backup_20200101_000000.sql.gz";
open(my $fh, '>', $trunc) or die;
binmode $fh;
print $fh substr($raw, 0, int(length($raw) * 2 / 3));
close($fh);
copy("$backup.sha256", "$trunc.sha256");
($rc, undef, $err) = tool('verify', '--restore-file', $trunc, '--no-restore');
is($rc, 3, 'verify of a truncated backup fails (exit 3)');
like($err, qr/checksum mismatch/, 'on the checksum');
($rc, undef, $err) = tool('verify', '--restore-file', $trunc, '--no-checksum', '--no-restore');
is($rc, 3, 'verify --no-checksum of a truncated backup fails');
unlike($err, qr/checksum mismatch/, '--no-checksum does not compare the checksum file there is');
like($err, qr/is truncated/, '... and the gzip check finds the damage');
unlink("$trunc.sha256");
($rc, undef, $err) = tool('verify', '--restore-file', $trunc, '--no-checksum', '--no-restore');
is($rc, 3, 'verify of a truncated backup without checksum fails');
like($err, qr/is truncated/, 'on the gzip stream');
($rc, undef, $err) =
  tool('restore', '--restore-file', $trunc, '--no-checksum', '-d', $node->connstr('empty_target'));
is($rc, 3, 'restore of a truncated backup fails');

# one flipped bit in the middle
my $flip = "$bad/flip_backup_20200101_000000.sql.gz";
my $flipped = $raw;
my $pos = int(length($flipped) / 2);
substr($flipped, $pos, 1) = chr(ord(substr($flipped, $pos, 1)) ^ 0x10);
open($fh, '>', $flip) or die;
binmode $fh;
print $fh $flipped;
close($fh);
copy("$backup.sha256", "$flip.sha256");
($rc, undef, $err) = tool('verify', '--restore-file', $flip, '-d', $node->connstr('postgres'));
is($rc, 3, 'verify of a bit-flipped backup fails');
($rc, undef, $err) = tool('restore', '--restore-file', $flip, '-d', $node->connstr('empty_target'));
is($rc, 3, 'restore of a bit-flipped backup fails');
unlink("$flip.sha256");
($rc, undef, $err) =
  tool('restore', '--restore-file', $flip, '--no-checksum', '-d', $node->connstr('empty_target'));
is($rc, 3, 'restore of a bit-flipped backup fails on the gzip check too');
like($err, qr/is damaged/, 'reporting the damage');
is($node->safe_psql('empty_target', q{SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace}),
	'0', 'the failed restores left the target empty');

# a well-formed backup whose SQL fails half-way: psql stops, nothing is
# committed, and verify still drops its database
(my $failing = $sql) =~ s/^(SELECT pg_catalog\.setval)/SELECT 1 \/ 0;\n$1/m;
write_backup("$bad/fail_backup_20200101_000000.sql.gz", $failing);
($rc, undef, $err) = tool('restore', '--restore-file', "$bad/fail_backup_20200101_000000.sql.gz",
	'-d', $node->connstr('empty_target'));
is($rc, 2, 'restore stops at the first SQL error (exit 2)');
like($err, qr/division by zero/, 'psql reports the error');
is($node->safe_psql('empty_target', q{SELECT count(*) FROM pg_extension WHERE extname = 'snapshot_ops'}),
	'0', 'the failed restore was rolled back entirely');
($rc) = tool('verify', '--restore-file', "$bad/fail_backup_20200101_000000.sql.gz",
	'-d', $node->connstr('postgres'));
is($rc, 2, 'verify fails on the SQL error');
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_database WHERE datname LIKE 'snapshot_ops\_verify\_%'}),
	'0', 'verify dropped its database after the failure');

# a backup whose restored counts differ from the COPY rows it holds
(my $lossy = $sql) =~ s/^(SELECT pg_catalog\.setval)/DELETE FROM public.position_snapshots WHERE snapshot_id = 1;\n$1/m;
write_backup("$bad/lossy_backup_20200101_000000.sql.gz", $lossy);
($rc, $out) = tool('verify', '--restore-file', "$bad/lossy_backup_20200101_000000.sql.gz",
	'-d', $node->connstr('postgres'));
is($rc, 3, 'verify detects restored row counts that differ from the backup');
like($out, qr/public\.position_snapshots\s+445\s+450\s+MISMATCH/, 'and shows which table');

# --- a backup changed after its checksum was written ---------------------------
# restore reads the file once: the checksum is known only when psql has
# read all of the SQL, and a mismatch must roll back what psql ran.

# everything of a backup in a database: relations outside the system
# schemas, and the extension
sub leftovers
{
	my ($db) = @_;
	return $node->safe_psql($db,
		q{SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		           WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
		             AND n.nspname !~ '^pg_(toast|temp_)')
		       || ' relations, '
		       || (SELECT count(*) FROM pg_extension WHERE extname = 'snapshot_ops') || ' extension'});
}
my $nothing = '0 relations, 0 extension';

# Write $content as a gzip file of stored (level 0) blocks with a minimal
# header, so that changing a byte of $content changes the same byte of the
# file: the same size, and a valid gzip stream.
sub write_stored
{
	my ($path, $content) = @_;
	gzip(\$content => $path, Level => 0, Minimal => 1) or die $GzipError;
}

# one byte changed in a row of session_snapshots' COPY block
my $copy_at = index($sql, "COPY public.session_snapshots ");
my $sess_at = index($sql, "\tsess_", index($sql, "\n", $copy_at)) + 1;
ok($copy_at > 0 && $sess_at > $copy_at, 'the dump has a session_snapshots row to alter');
(my $altered_sql = $sql);
substr($altered_sql, $sess_at, 1) = 'S';

my $alt_name = 'altered_backup_20200101_000000.sql.gz';
my $alt = "$bad/$alt_name";
write_stored($alt, $sql);
open($fh, '>', "$alt.sha256") or die;
print $fh Digest::SHA->new(256)->addfile($alt)->hexdigest . "  $alt_name\n";
close($fh);
($rc) = tool('restore', '--restore-file', $alt, '--create', '-d', $node->connstr('altered_control'));
is($rc, 0, 'the stored-blocks backup restores before it is altered');
$node->safe_psql('postgres', 'DROP DATABASE altered_control');

my $alt_size = -s $alt;
write_stored($alt, $altered_sql);
is(-s $alt, $alt_size, 'the altered backup has the size of the original');
my $regunzipped;
ok(gunzip($alt => \$regunzipped) && $regunzipped eq $altered_sql, 'and is a valid gzip stream');

($rc, $out, $err) = tool('restore', '--restore-file', $alt, '-d', $node->connstr('empty_target'));
is($rc, 3, 'restore of a backup altered after its checksum was written fails (exit 3)');
like($out, qr/Running psql/, 'after psql had read it');
like($err, qr/checksum mismatch: ".*\Q$alt_name\E" has sha256/, 'on the checksum');
like($err, qr/the restore was rolled back; database "empty_target" is unchanged/, 'and says it rolled back');
is(leftovers('empty_target'), $nothing, 'the target holds nothing of it, no table and no row');

($rc, undef, $err) = tool('restore', '--restore-file', $alt, '--create', '-d', $node->connstr('altered_new'));
is($rc, 3, 'restore --create of the altered backup fails');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_database WHERE datname = 'altered_new'}),
	'0', 'and drops the database it created');
($rc, undef, $err) = tool('verify', '--restore-file', $alt, '-d', $node->connstr('postgres'));
is($rc, 3, 'verify of the altered backup fails');

# A backup whose SQL commits by itself: the checksum must still decide.
(my $committing = $sql) =~ s/^(SELECT pg_catalog\.setval)/COMMIT;\n$1/m;
my $commit_name = 'commit_backup_20200101_000000.sql.gz';
write_backup("$bad/$commit_name", $sql);
gzip(\$committing => "$bad/$commit_name") or die $GzipError;
($rc, undef, $err) = tool('restore', '--restore-file', "$bad/$commit_name",
	'-d', $node->connstr('empty_target'));
is($rc, 3, 'restore of an altered backup that runs COMMIT itself fails (exit 3)');
like($err, qr/checksum mismatch/, 'on the checksum');
is(leftovers('empty_target'), $nothing, 'and its COMMIT committed nothing');

# A backup changed while restore reads it.  The file is two gzip members, a
# filler table of more than 2 MB compressed, then the dump.  A psql wrapper
# rewrites the second member in place before it reads any of its input.
# Until psql reads, the tool can have read no more than psql's pipe (1 MB
# of SQL) and one 256 kB block take, so it is still in the first member:
# it reads the new second member, which gzip finds valid.  Only the
# checksum over the bytes it actually read can catch that.
my $filler = "CREATE TABLE public.filler (t text);\nCOPY public.filler (t) FROM stdin;\n";
$filler .= Digest::SHA::sha1_hex($_) . "\n" for (1 .. 160000);
$filler .= "\\.\n\n";
my ($member1, $member2, $member2_new);
gzip(\$filler => \$member1) or die $GzipError;
gzip(\$sql => \$member2) or die $GzipError;
gzip(\$altered_sql => \$member2_new) or die $GzipError;
cmp_ok(length($member1), '>', 2 * 1024 * 1024, 'the first member is over 2 MB compressed');
my $race_name = 'race_backup_20200101_000000.sql.gz';
my $race = "$bad/$race_name";
open($fh, '>', $race) or die;
binmode $fh;
print $fh $member1 . $member2;
close($fh);
open($fh, '>', "$race.sha256") or die;
print $fh Digest::SHA->new(256)->addfile($race)->hexdigest . "  $race_name\n";
close($fh);
open($fh, '>', "$tmp/member2_new") or die;
binmode $fh;
print $fh $member2_new;
close($fh);

my $psqlbin = "$tmp/psqlbin";
make_path($psqlbin);
open($fh, '>', "$psqlbin/psql") or die;
print $fh <<"EOS";
#!/usr/bin/perl
exec('$pgbin/psql', '-V') if (\@ARGV && \$ARGV[0] eq '-V');
open(my \$t, '<', '$tmp/member2_new') or die;
binmode \$t;
my \$new = do { local \$/; <\$t> };
open(my \$f, '+<', '$race') or die;
binmode \$f;
seek(\$f, ${\ length($member1)}, 0);
print \$f \$new;
truncate(\$f, ${\ length($member1)} + length(\$new));
close(\$f) or die;
open(my \$m, '>', '$tmp/race_changed') and close(\$m);
exec('$pgbin/psql', \@ARGV);
EOS
close($fh);
chmod(0755, "$psqlbin/psql");
{
	local $ENV{SNAPSHOT_OPS_PG_BINDIR} = $psqlbin;
	($rc, $out, $err) = tool('restore', '--restore-file', $race, '-d', $node->connstr('empty_target'));
}
ok(-e "$tmp/race_changed", 'the backup was changed while restore read it');
is($rc, 3, 'restore of a backup changed while it is read fails (exit 3)');
like($err, qr/checksum mismatch/, 'on the checksum over the bytes it read');
is(leftovers('empty_target'), $nothing, 'and leaves nothing in the target, not even the filler');

# --- signals while psql runs the dump's post-data part ----------------------------
# Once restore has read the whole backup, psql may still build indexes for
# hours.  A psql wrapper reads all of its input first, so that the tool has
# read the whole file and sent the confirmation, then runs the real psql on
# it with a long statement before the dump's end: the deterministic form
# of a long post-data part.
my $sleepbin = "$tmp/sleepbin";
make_path($sleepbin);
open(my $sfh, '>', "$sleepbin/psql") or die;
print $sfh <<"EOS";
#!/usr/bin/perl
exec('$pgbin/psql', '-V') if (\@ARGV && \$ARGV[0] eq '-V');
my \$in = do { local \$/; <STDIN> };
\$in =~ s/^(-- PostgreSQL database dump complete)/SELECT pg_sleep(60);\\n\$1/m or die;
open(my \$f, '>', '$tmp/sleep_input.sql') or die;
print \$f \$in;
close(\$f);
open(STDIN, '<', '$tmp/sleep_input.sql') or die;
exec('$pgbin/psql', \@ARGV);
EOS
close($sfh);
chmod(0755, "$sleepbin/psql");

# Start the tool with @args and the psql of $bin, in a process group of its
# own; returns the harness, its stdout and stderr, and the process id.
sub start_tool
{
	my ($bin, @args) = @_;
	my ($o, $e) = ('', '');
	my $pidfile = "$tmp/tool.pid";
	unlink($pidfile);
	local $ENV{SNAPSHOT_OPS_PG_BINDIR} = $bin;
	my $h = IPC::Run::start(
		[
			'perl', '-e', 'setpgrp(0, 0); open(my $f, ">", shift) or die; print $f $$; close($f); exec(@ARGV) or die',
			$pidfile, $tool, @args
		],
		'>', \$o, '2>', \$e);
	select(undef, undef, undef, 0.05) until -s $pidfile;
	return ($h, \$o, \$e, slurp_file($pidfile));
}

# Wait until the restore's psql runs pg_sleep in $db.
sub wait_for_sleep
{
	my ($db) = @_;
	return $node->poll_query_until('postgres',
		qq{SELECT count(*) = 1 FROM pg_stat_activity WHERE datname = '$db' AND query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'});
}

# SIGTERM to the tool alone: it stops psql, whose transaction rolls back
$node->safe_psql('postgres', 'CREATE DATABASE sig_target');
$node->safe_psql('sig_target',
	q{CREATE EXTENSION snapshot_ops; INSERT INTO session_snapshots (session_id) VALUES ('before')});
my $sig_fp = fingerprint('sig_target');
my ($sh, $sout, $serr, $spid) =
  start_tool($sleepbin, 'restore', '--restore-file', $backup, '--clean', '-d', $node->connstr('sig_target'));
ok(wait_for_sleep('sig_target'), 'the restore\'s psql runs its long statement after the whole backup was read');
my $t0 = time();
kill('TERM', $spid);
$sh->finish;
my $src_rc = $? >> 8;
note "restore after SIGTERM => $src_rc\n$$sout$$serr";
like($$sout, qr/gzip stream: ok/, 'the tool had read and checked the whole backup');
is($src_rc, 6, 'SIGTERM while psql runs the post-data part: exit 6');
cmp_ok(time() - $t0, '<', 30, 'at once, not when psql would have finished');
like($$serr, qr/interrupted by signal 15; psql was stopped/, 'saying that it stopped psql');
like($$serr, qr/the restore was rolled back; database "sig_target" is unchanged/, 'and rolled back');
unlike($$serr, qr/psql failed/, 'without a second error about psql');
unlike($$sout, qr/Restore of "sig_target" complete/, 'and never claims the restore complete');
is(fingerprint('sig_target'), $sig_fp, 'the target holds its old data');
ok( $node->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = 'sig_target'}),
	'and the server runs nothing of the restore any more');

# Ctrl-C: SIGINT to the whole process group, psql included
($sh, $sout, $serr, $spid) =
  start_tool($sleepbin, 'restore', '--restore-file', $backup, '--create', '-d', $node->connstr('sig_new'));
ok(wait_for_sleep('sig_new'), 'a restore --create runs its long statement');
kill('INT', -$spid);
$sh->finish;
$src_rc = $? >> 8;
note "restore after SIGINT to its process group => $src_rc\n$$sout$$serr";
is($src_rc, 6, 'Ctrl-C while psql runs the post-data part: exit 6, although psql stopped by itself');
like($$serr, qr/interrupted by signal 2; psql was stopped/, 'saying so');
unlike($$serr, qr/psql failed with exit status/, 'not as a failure of psql');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_database WHERE datname = 'sig_new'}),
	'0', 'and drops the database it created');

# A psql that ignores its cancel request is killed; a second signal does
# not wait for the grace period.  Then the tool cannot know whether a
# COMMIT was under way, and says so.
my $deafbin = "$tmp/deafbin";
make_path($deafbin);
open($sfh, '>', "$deafbin/psql") or die;
print $sfh "#!/usr/bin/perl\nexec('$pgbin/psql', '-V') if (\@ARGV && \$ARGV[0] eq '-V');\n"
  . "my \$in = do { local \$/; <STDIN> };\n\$SIG{INT} = 'IGNORE';\n"
  . "open(my \$m, '>', '$tmp/deaf_read') and close(\$m);\nsleep(60);\n";
close($sfh);
chmod(0755, "$deafbin/psql");
($sh, $sout, $serr, $spid) =
  start_tool($deafbin, 'restore', '--restore-file', $backup, '--clean', '-d', $node->connstr('sig_target'));
select(undef, undef, undef, 0.05) until -e "$tmp/deaf_read";
$t0 = time();
kill('TERM', $spid);
sleep(1);
kill('TERM', $spid);
$sh->finish;
$src_rc = $? >> 8;
note "restore after two SIGTERMs => $src_rc\n$$sout$$serr";
is($src_rc, 6, 'a psql that ignores SIGINT: exit 6 after a second SIGTERM');
cmp_ok(time() - $t0, '<', 8, 'which does not wait for the grace period');
like($$serr, qr/psql did not stop on its cancel request and was killed/, 'psql was killed');
like($$serr, qr/If its COMMIT was already under way, the restore into database "sig_target" may have committed; otherwise it was rolled back/,
	'and the tool says what it cannot know');

# --- pg_dump failures leave no file -------------------------------------------
my $faildir = "$tmp/fail";
($rc, undef, $err) = tool('backup', '-d', $node->connstr('no_such_db'), '--dir', $faildir);
is($rc, 2, 'backup of a nonexistent database fails (exit 2)');
like($err, qr/database "no_such_db" does not exist/, 'with the server\'s message');

# fake pg_dump programs, found through SNAPSHOT_OPS_PG_BINDIR; "-V" goes to
# the real pg_dump unless $version says what to print instead
my $fakebin = "$tmp/fakebin";
make_path($fakebin, $faildir);
sub fake_pg_dump
{
	my ($body, $version) = @_;
	my $v = defined $version ? "echo '$version'; exit 0" : "exec '$pgbin/pg_dump' -V";
	open(my $f, '>', "$fakebin/pg_dump") or die;
	print $f "#!/bin/sh\nif [ \"\$1\" = -V ]; then $v; fi\n$body\n";
	close($f);
	chmod(0755, "$fakebin/pg_dump");
}
{
	local $ENV{SNAPSHOT_OPS_PG_BINDIR} = $fakebin;

	fake_pg_dump("echo '-- PostgreSQL database dump'; echo 'COPY public.x (a) FROM stdin;'; echo 'pg_dump: error: query failed' >&2; exit 1");
	($rc, undef, $err) = tool('backup', '-d', $src, '--dir', $faildir);
	is($rc, 2, 'backup fails when pg_dump exits with an error');
	like($err, qr/pg_dump failed with exit status 1/, 'and says so');

	fake_pg_dump("echo '-- PostgreSQL database dump'; kill -9 \$\$");
	($rc, undef, $err) = tool('backup', '-d', $src, '--dir', $faildir);
	is($rc, 2, 'backup fails when pg_dump is killed');

	fake_pg_dump("echo '-- PostgreSQL database dump'; echo 'SET x = 1;'; exit 0");
	($rc, undef, $err) = tool('backup', '-d', $src, '--dir', $faildir);
	is($rc, 2, 'backup fails when pg_dump\'s output is incomplete despite exit 0');

	# Ctrl-C during a backup: pg_dump dies of it too, which is no second error
	fake_pg_dump("echo '-- PostgreSQL database dump'; touch '$tmp/dump_started'; exec sleep 30");
	my ($bh, $bout, $berr, $bpid) = start_tool($fakebin, 'backup', '-d', $src, '--dir', $faildir);
	select(undef, undef, undef, 0.05) until -e "$tmp/dump_started";
	kill('INT', -$bpid);
	$bh->finish;
	$rc = $? >> 8;
	note "backup after SIGINT to its process group => $rc\n$$bout$$berr";
	is($rc, 6, 'Ctrl-C during a backup: exit 6');
	like($$berr, qr/interrupted by signal 2/, 'saying so');
	unlike($$berr, qr/pg_dump failed/, 'without an error about pg_dump, which the same Ctrl-C stopped');

	# A write error while pg_dump writes on and on: the tool stops pg_dump,
	# and that is no second error (a file size limit, see "local write
	# failures" below; it does not apply to pg_dump's pipe)
	fake_pg_dump("echo '-- PostgreSQL database dump'; exec od -An -tx8 /dev/urandom");
	my ($fo, $fe) = ('', '');
	IPC::Run::run(
		[ 'sh', '-c', 'ulimit -f 64 && exec "$0" "$@"', $tool, 'backup', '-d', $src, '--dir', $faildir ],
		'>', \$fo, '2>', \$fe);
	$rc = $? >> 8;
	note "backup with endless pg_dump output and a file size limit => $rc\n$fo$fe";
	is($rc, 5, 'backup whose write fails while pg_dump still writes: exit 5');
	like($fe, qr/could not write .*File too large/, 'with the write error');
	unlike($fe, qr/pg_dump failed|Broken pipe|terminated/, 'and no second error about the pg_dump it stopped');

	# pg_dump must fit the server: at least its major version
	my $server_major = int($node->safe_psql('postgres', 'SHOW server_version_num') / 10000);
	my $old = $server_major - 1;
	fake_pg_dump("touch '$tmp/old_pg_dump_ran'; exit 1", "pg_dump (PostgreSQL) $old.9");
	($rc, undef, $err) = tool('backup', '-d', $src, '--dir', $faildir);
	is($rc, 2, 'a pg_dump older than the server is refused (exit 2)');
	like($err,
		qr/pg_dump at "\Q$fakebin\E\/pg_dump" is too old for the server: pg_dump \(PostgreSQL\) $old\.9, server major version $server_major/,
		'naming it, its version and the server\'s');
	ok(!-e "$tmp/old_pg_dump_ran", 'and it is never run to dump');

	fake_pg_dump("exit 1", "pg_dump 1.0 (some other program)");
	($rc, undef, $err) = tool('backup', '-d', $src, '--dir', $faildir);
	is($rc, 2, 'a pg_dump that is not PostgreSQL\'s is refused');
	like($err, qr/is not a usable pg_dump: its -V printed no PostgreSQL version/,
		'and says why');

	# psql likewise, for restore: refused before the target is touched
	open(my $f, '>', "$fakebin/psql") or die;
	print $f "#!/bin/sh\nif [ \"\$1\" = -V ]; then echo 'psql (PostgreSQL) $old.2'; exit 0; fi\nexit 1\n";
	close($f);
	chmod(0755, "$fakebin/psql");
	($rc, undef, $err) = tool('restore', '--restore-file', $backup, '--create', '-d', $node->connstr('old_psql'));
	is($rc, 2, 'restore with a psql older than the server is refused (exit 2)');
	like($err, qr/psql at "\Q$fakebin\E\/psql" is too old for the server/, 'naming the psql');
	is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_database WHERE datname = 'old_psql'}),
		'0', 'and --create left no database behind');
	unlink("$fakebin/psql");

	my $newer = $server_major + 1;
	fake_pg_dump("exec '$pgbin/pg_dump' \"\$@\"", "pg_dump (PostgreSQL) $newer.0");
	($rc) = tool('backup', '-d', $src, '--dir', "$tmp/newer");
	is($rc, 0, 'a pg_dump of a newer major version than the server is used');
}
{
	local $ENV{SNAPSHOT_OPS_PG_BINDIR} = "$tmp/nobin";
	make_path("$tmp/nobin");
	($rc, undef, $err) = tool('backup', '-d', $src, '--dir', $faildir);
	is($rc, 2, 'backup fails when there is no pg_dump to run');
	like($err, qr/program "pg_dump" is needed by snapshot_ops_backup but was not found in "\Q$tmp\E\/nobin"/,
		'and says where it looked');
}

# Without SNAPSHOT_OPS_PG_BINDIR, the tool runs the pg_dump next to its own
# executable, as PostgreSQL's programs find each other: a copy of the tool
# in a directory with a pg_dump of its own uses that one ...
my $otherbin = "$tmp/otherbin";
make_path($otherbin);
copy($tool, "$otherbin/snapshot_ops_backup") or die;
chmod(0755, "$otherbin/snapshot_ops_backup");
open($fh, '>', "$otherbin/pg_dump") or die;
print $fh "#!/bin/sh\n[ \"\$1\" = -V ] || touch '$tmp/otherbin_used'\nexec '$pgbin/pg_dump' \"\$@\"\n";
close($fh);
chmod(0755, "$otherbin/pg_dump");
($rc, $out) = run_tool("$otherbin/snapshot_ops_backup", 'backup', '-d', $src, '--dir', "$tmp/other");
is($rc, 0, 'a copy of the tool elsewhere makes a backup');
like($out, qr/Running pg_dump \(\Q$otherbin\E\/pg_dump\)/, 'with the pg_dump beside it');
ok(-e "$tmp/otherbin_used", 'which is the one that ran');
# ... and without one beside it, the pg_dump of the installation it was built for
my $lonebin = "$tmp/lonebin";
make_path($lonebin);
copy($tool, "$lonebin/snapshot_ops_backup") or die;
chmod(0755, "$lonebin/snapshot_ops_backup");
($rc, $out) = run_tool("$lonebin/snapshot_ops_backup", 'backup', '-d', $src, '--dir', "$tmp/lone");
is($rc, 0, 'a copy of the tool alone in a directory makes a backup');
like($out, qr/Running pg_dump \(\Q$pgbin\E\/pg_dump\)/, 'with the pg_dump of the installation it was built for');
opendir($dh, $faildir) or die;
my @left = grep { !/^\.\.?$/ } readdir($dh);
closedir($dh);
is_deeply(\@left, [], 'failed backups left no file, not even a temporary one');

# --- a password never reaches pg_dump's command line ---------------------------
$node->safe_psql('postgres', q{CREATE ROLE pwuser LOGIN SUPERUSER PASSWORD 'Secret-pw-123'});
my $hba = $node->data_dir . '/pg_hba.conf';
my $hba_orig = slurp_file($hba);
open($fh, '>', $hba) or die;
print $fh "local all pwuser scram-sha-256\n$hba_orig";
close($fh);
$node->reload;
{
	local $ENV{SNAPSHOT_OPS_PG_BINDIR} = $fakebin;
	# record argv and whether PGPASSWORD is set, then run the real pg_dump
	my $real = `pg_config --bindir` =~ s/\s+$//r;
	fake_pg_dump(
		"printf '%s\\n' \"\$@\" > $tmp/argv.txt; echo \"pw=\${PGPASSWORD:+set}\" >> $tmp/argv.txt; exec '$real/pg_dump' \"\$@\""
	);
	($rc) = tool('backup', '-d', $node->connstr('src') . " user=pwuser password=Secret-pw-123",
		'--dir', "$tmp/pw");
	is($rc, 0, 'backup with a password in the connection string succeeds');
	my $argv = slurp_file("$tmp/argv.txt");
	unlike($argv, qr/Secret-pw-123/, 'the password is not on pg_dump\'s command line');
	like($argv, qr/^pw=set$/m, 'pg_dump got it through PGPASSWORD');
}
# a wrong password: one error, about the password, not a retry with
# another database
($rc, undef, $err) = tool('restore', '--restore-file', $backup, '--create',
	'-d', $node->connstr('pw_target') . " user=pwuser password=wrong");
is($rc, 2, 'restore --create with a wrong password fails (exit 2)');
like($err, qr/password authentication failed for user "pwuser"/, 'with the server\'s reason');
unlike($err, qr/template1/, 'and does not try database template1 instead');
open($fh, '>', $hba) or die;
print $fh $hba_orig;
close($fh);
$node->reload;

# --- local write failures -------------------------------------------------------
# a database whose backup is some 500 kB even compressed (hex digests do not
# compress much)
$node->safe_psql('postgres', 'CREATE DATABASE big');
$node->safe_psql(
	'big', q{
CREATE EXTENSION snapshot_ops;
INSERT INTO session_snapshots (session_id, config)
SELECT 's' || g, jsonb_build_object('blob',
       (SELECT string_agg(md5(g::text || '/' || x::text), '') FROM generate_series(1, 16) x))
  FROM generate_series(1, 2000) g;
});
my $bigsrc = $node->connstr('big');

# a directory without write permission (meaningless for root, who may write
# anywhere)
SKIP:
{
	skip 'running as root: permissions do not stop writes', 3 if $> == 0;
	my $ro = "$tmp/readonly";
	make_path($ro);
	chmod(0500, $ro);
	($rc, undef, $err) = tool('backup', '-d', $bigsrc, '--dir', $ro);
	is($rc, 5, 'backup into a read-only directory fails (exit 5)');
	like($err, qr/Permission denied/, 'with the system\'s reason');
	opendir($dh, $ro) or die;
	@left = grep { !/^\.\.?$/ } readdir($dh);
	closedir($dh);
	is_deeply(\@left, [], 'and leaves nothing behind');
	chmod(0700, $ro);
}

# A full disk: a file size limit (ulimit -f) makes write() fail with EFBIG
# exactly as ENOSPC would, half-way through the backup; no root needed.
{
	my $full = "$tmp/full";
	($rc, undef, $err) = ('', '', '');
	my ($o, $e) = ('', '');
	IPC::Run::run([ 'sh', '-c', 'ulimit -f 64 && exec "$0" "$@"', $tool, 'backup', '-d', $bigsrc, '--dir', $full ],
		'>', \$o, '2>', \$e);
	$rc = $? >> 8;
	note $o . $e;
	is($rc, 5, 'backup that hits the file size limit fails (exit 5)');
	like($e, qr/could not write .*File too large/, 'with the system\'s reason');
	unlike($e, qr/pg_dump failed|Broken pipe|terminated by user/,
		'and no second error about the pg_dump the tool had to stop');
	opendir($dh, $full) or die;
	@left = grep { !/^\.\.?$/ } readdir($dh);
	closedir($dh);
	is_deeply(\@left, [], 'and leaves no partial file');
}

# a real small file system: the one test/run-all.sh mounts (as root) and
# names in SOB_TEST_FULL_FS, or one mounted here when running as root
SKIP:
{
	my $mnt = $ENV{SOB_TEST_FULL_FS};
	my $mounted_here = 0;
	if (!defined $mnt || !-d $mnt)
	{
		skip 'no small file system: mounting a tmpfs needs root, and SOB_TEST_FULL_FS names none', 4
		  if $> != 0;
		$mnt = "$tmp/tmpfs";
		make_path($mnt);
		skip 'could not mount a tmpfs', 4
		  if system('mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', $mnt) != 0;
		$mounted_here = 1;
	}
	($rc, undef, $err) = tool('backup', '-d', $bigsrc, '--dir', $mnt);
	is($rc, 5, 'backup onto a full tmpfs fails (exit 5)');
	like($err, qr/No space left on device/, 'with ENOSPC');
	unlike($err, qr/pg_dump failed|Broken pipe|terminated by user/, 'and no second error about pg_dump');
	opendir($dh, $mnt) or die;
	@left = grep { !/^\.\.?$/ } readdir($dh);
	closedir($dh);
	system('umount', $mnt) if $mounted_here;
	is_deeply(\@left, [], 'and leaves no partial file');
}

# --- system calls that fail at the worst moment ------------------------------------
# A small LD_PRELOAD library makes close(), unlink() or open() fail for the
# paths a test names (fnmatch patterns in SOB_FAULT_CLOSE, SOB_FAULT_UNLINK,
# SOB_FAULT_OPEN), in the tool's own process only, and at exit lists the
# descriptors the tool still holds on paths matching SOB_FAULT_WATCH.
my $shim_c = <<'EOC';
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int	active;

__attribute__((constructor)) static void
shim_init(void)
{
	active = strcmp(program_invocation_short_name, "snapshot_ops_backup") == 0;
}

static int
shim_match(const char *var, const char *path)
{
	const char *pattern = getenv(var);

	return active && pattern && path && fnmatch(pattern, path, 0) == 0;
}

int
unlink(const char *path)
{
	static int	(*real) (const char *);

	if (!real)
		real = dlsym(RTLD_NEXT, "unlink");
	if (shim_match("SOB_FAULT_UNLINK", path))
	{
		errno = EBUSY;
		return -1;
	}
	return real(path);
}

int
close(int fd)
{
	static int	(*real) (int);
	char		link[64];
	char		target[4096];
	ssize_t		n;

	if (!real)
		real = dlsym(RTLD_NEXT, "close");
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n > 0)
	{
		target[n] = '\0';
		if (shim_match("SOB_FAULT_CLOSE", target))
		{
			real(fd);			/* Linux frees the descriptor even then */
			errno = EIO;
			return -1;
		}
	}
	return real(fd);
}

static int
shim_open(const char *sym, const char *path, int flags, va_list ap)
{
	int			(*real) (const char *, int, ...) = dlsym(RTLD_NEXT, sym);
	mode_t		mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, int) : 0;

	if (shim_match("SOB_FAULT_OPEN", path))
	{
		errno = EACCES;
		return -1;
	}
	return real(path, flags, mode);
}

int
open(const char *path, int flags, ...)
{
	va_list		ap;
	int			fd;

	va_start(ap, flags);
	fd = shim_open("open", path, flags, ap);
	va_end(ap);
	return fd;
}

int
open64(const char *path, int flags, ...)
{
	va_list		ap;
	int			fd;

	va_start(ap, flags);
	fd = shim_open("open64", path, flags, ap);
	va_end(ap);
	return fd;
}

__attribute__((destructor)) static void
shim_report(void)
{
	const char *report = getenv("SOB_FAULT_REPORT");
	DIR		   *d;
	struct dirent *de;
	FILE	   *out;

	if (!active || !report || !getenv("SOB_FAULT_WATCH"))
		return;
	out = fopen(report, "a");
	d = opendir("/proc/self/fd");
	while (out && d && (de = readdir(d)) != NULL)
	{
		char		link[300];
		char		target[4096];
		ssize_t		n;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (shim_match("SOB_FAULT_WATCH", target))
			fprintf(out, "descriptor %s still open on %s\n", de->d_name, target);
	}
	if (d)
		closedir(d);
	if (out)
		fclose(out);
}
EOC
my $shim = "$tmp/fault_shim.so";
{
	open(my $f, '>', "$tmp/fault_shim.c") or die;
	print $f $shim_c;
	close($f);
}
my $have_shim = system('cc', '-shared', '-fPIC', '-o', $shim, "$tmp/fault_shim.c", '-ldl') == 0;

# Run the tool with the faults in %faults; returns (exit code, stdout,
# stderr, what the shim reported).
sub tool_with_faults
{
	my ($faults, @args) = @_;
	my $report = "$tmp/fault_report";
	unlink($report);
	local $ENV{LD_PRELOAD} = $shim;
	local $ENV{SOB_FAULT_REPORT} = $report;
	local @ENV{ keys %$faults } = values %$faults;
	my ($rc, $out, $err) = tool(@args);
	my $reported = -e $report ? slurp_file($report) : '';
	return ($rc, $out, $err, $reported);
}

# the files in a directory, as one string
sub files_in
{
	my ($d) = @_;
	opendir(my $h, $d) or die;
	my @n = sort grep { !/^\.\.?$/ } readdir($h);
	closedir($h);
	return join(' ', @n);
}

SKIP:
{
	skip 'no C compiler to build the fault library', 16 unless $have_shim;

	# close() of the backup fails after it was published: both descriptors
	# are still closed, and the backup is withdrawn with its checksum
	my $cdir = "$tmp/fault_close";
	make_path($cdir);
	my ($frc, $fout, $ferr, $frep) = tool_with_faults(
		{ SOB_FAULT_CLOSE => '*.sql.gz.tmp.*', SOB_FAULT_WATCH => "$cdir/*" },
		'backup', '-d', $src, '--dir', $cdir);
	is($frc, 5, 'backup whose close() fails exits 5');
	like($ferr, qr/could not close ".*\.sql\.gz": Input\/output error/, 'saying which file');
	is($frep, '', 'and leaves no descriptor open, the checksum file\'s included');
	is(files_in($cdir), '', 'nor any file');
	like($ferr, qr/no backup file was left behind/, 'as it says');

	# ... and the backup cannot be removed either: it keeps its checksum file
	my $udir = "$tmp/fault_close_unlink";
	make_path($udir);
	($frc, $fout, $ferr) = tool_with_faults(
		{ SOB_FAULT_CLOSE => '*.sql.gz.tmp.*', SOB_FAULT_UNLINK => '*.sql.gz' },
		'backup', '-d', $src, '--dir', $udir);
	is($frc, 5, 'backup whose close() and then unlink() fail exits 5');
	my ($left) = grep { /\.sql\.gz$/ } split(/ /, files_in($udir));
	ok(defined $left, 'the backup that could not be removed is still there');
	ok(defined $left && -e "$udir/$left.sha256", 'with its checksum file');
	like($ferr, qr/could not be removed and keeps its checksum file/, 'and says so');

	# the temporary name of a published backup cannot be removed: the backup
	# is complete, with its checksum, and the extra name is only a warning
	my $tdir = "$tmp/fault_unlink_tmp";
	make_path($tdir);
	($frc, $fout, $ferr) = tool_with_faults({ SOB_FAULT_UNLINK => '*.sql.gz.tmp.*' },
		'backup', '-d', $src, '--dir', $tdir);
	is($frc, 0, 'backup whose temporary name cannot be removed succeeds');
	like($ferr, qr/warning: could not remove temporary file ".*\.sql\.gz\.tmp\.\d+"/, 'with a warning');
	($left) = grep { /\.sql\.gz$/ } split(/ /, files_in($tdir));
	ok(defined $left && -e "$tdir/$left.sha256", 'the backup has its checksum file');
	($frc) = tool('verify', '--restore-file', "$tdir/$left", '--no-restore');
	is($frc, 0, 'which matches it');

	# /dev/null cannot be opened for psql's output: restore stops before
	# psql starts instead of letting psql write to the terminal
	($frc, $fout, $ferr) = tool_with_faults({ SOB_FAULT_OPEN => '/dev/null' },
		'restore', '--restore-file', $backup, '--create', '-d', $node->connstr('devnull_target'));
	is($frc, 5, 'restore without /dev/null exits 5');
	like($ferr, qr/could not open "\/dev\/null": Permission denied/, 'saying why');
	is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_database WHERE datname = 'devnull_target'}),
		'0', 'and leaves no database behind');
}

# --- with the background worker loaded ---------------------------------------------
# The worker connects to every database that has the extension, the verify
# database included: verify must still drop it, and restore must work.
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'snapshot_ops'");
$node->restart;
($rc, $out) = tool('verify', '--restore-file', $backup, '-d', $node->connstr('postgres'));
is($rc, 0, 'verify succeeds with the worker loaded');
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_database WHERE datname LIKE 'snapshot_ops\_verify\_%'}),
	'0', 'and drops its database although the worker may be connected to it');
($rc) = tool('restore', '--restore-file', $backup, '--create', '-d', $node->connstr('dst_worker'));
is($rc, 0, 'restore --create succeeds with the worker loaded');
is(fingerprint('dst_worker'), $src_fp, 'and restores the same rows');

# --- command line ------------------------------------------------------------------
($rc, $out) = tool('--help');
is($rc, 0, '--help exits 0');
like($out, qr/Exit status:/, '--help documents the exit codes');
($rc, $out) = tool('--version');
like($out, qr/^snapshot_ops_backup \(snapshot_ops\) \d/, '--version');
($rc) = tool('frobnicate');
is($rc, 1, 'an unknown command is a usage error');
($rc) = tool('restore');
is($rc, 1, 'restore without --restore-file is a usage error');
($rc) = tool('list', '--clean');
is($rc, 1, 'an option of another command is a usage error');
($rc) = tool('rotate', '--keep-days', '-1');
is($rc, 1, 'a negative --keep-days is a usage error');

$node->stop('immediate');
done_testing();
