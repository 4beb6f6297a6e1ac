# Copyright (c) 2026, snapshot_ops developers
#
# snapshot_ops_backup rotate and list: ages from modification times, the
# newest good backup always kept, --keep-min, both per database when one
# directory holds the backups of several, stale temporary files removed but
# never the one a running backup is writing.

use strict;
use warnings;

use File::Path qw(make_path remove_tree);
use IO::Compress::Gzip qw(gzip $GzipError);
use Digest::SHA;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

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

sub tool
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $tool, @args ], '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	note "snapshot_ops_backup @args => $rc\n$out$err";
	return ($rc, $out, $err);
}

my $tmp = PostgreSQL::Test::Utils::tempdir;
my $now = time();

# A backup file aged $days days, with a good checksum file unless $bad
# ('corrupt': wrong checksum, 'nosum': none), recording database $db in its
# gzip header as the tool does if $db is given.
sub make_backup
{
	my ($dir, $name, $days, $bad, $db) = @_;
	my $path = "$dir/$name";
	my $sql = "-- backup $name\n-- PostgreSQL database dump complete\n";
	gzip(\$sql => $path, defined $db ? (Comment => "snapshot_ops_backup database: $db") : ())
	  or die $GzipError;
	my $digest = Digest::SHA->new(256)->addfile($path)->hexdigest;
	$digest = '0' x 64 if defined $bad && $bad eq 'corrupt';
	if (!defined $bad || $bad ne 'nosum')
	{
		open(my $fh, '>', "$path.sha256") or die;
		print $fh "$digest  $name\n";
		close($fh);
		utime($now - $days * 86400, $now - $days * 86400, "$path.sha256");
	}
	utime($now - $days * 86400, $now - $days * 86400, $path);
	return $path;
}

sub names_in
{
	my ($dir) = @_;
	opendir(my $dh, $dir) or die;
	my @n = sort grep { !/^\.\.?$/ } readdir($dh);
	closedir($dh);
	return join(' ', @n);
}

sub fresh_dir
{
	my ($name) = @_;
	my $d = "$tmp/$name";
	remove_tree($d);
	make_path($d);
	return $d;
}

my $b = sub { sprintf('db_backup_202001%02d_030000.sql.gz', $_[0]) };

# --- old and new backups ------------------------------------------------------
my $d = fresh_dir('mixed');
make_backup($d, $b->(1), 40);
make_backup($d, $b->(2), 35);
make_backup($d, $b->(3), 31);
make_backup($d, $b->(4), 29);
make_backup($d, $b->(5), 1);
# an unrelated file must never be touched
open(my $fh, '>', "$d/notes.txt") or die;
close($fh);
utime($now - 90 * 86400, $now - 90 * 86400, "$d/notes.txt");

my ($rc, $out) = tool('list', '--dir', $d);
is($rc, 0, 'list succeeds');
my @order = ($out =~ /^(db_backup_\S+)/mg);
is_deeply(\@order, [ map { $b->($_) } (5, 4, 3, 2, 1) ], 'list shows the newest first');
like($out, qr/^\Q${\$b->(1)}\E\s+\S+ \S+\s+40d 00h\s+ok$/m, 'list shows the age in days');

($rc, $out) = tool('rotate', '--dir', $d, '--keep-days', '30');
is($rc, 0, 'rotate succeeds');
is(names_in($d),
	join(' ', 'db_backup_20200104_030000.sql.gz', 'db_backup_20200104_030000.sql.gz.sha256',
		'db_backup_20200105_030000.sql.gz', 'db_backup_20200105_030000.sql.gz.sha256', 'notes.txt'),
	'rotate removed the three backups older than 30 days with their checksum files, nothing else');
like($out, qr/removed \Q${\$b->(1)}\E .*age 40d 00h/, 'rotate prints what it removed');
($rc, $out) = tool('rotate', '--dir', $d, '--keep-days', '30');
like($out, qr/0 files removed/, 'a second rotate removes nothing');

# --- every backup is old: the newest good one stays -----------------------------
$d = fresh_dir('allold');
make_backup($d, $b->($_), 50 - $_) for (1 .. 4);
($rc, $out) = tool('rotate', '--dir', $d, '--keep-days', '30');
is($rc, 0, 'rotate of an all-old set succeeds');
is(names_in($d), join(' ', $b->(4), $b->(4) . '.sha256'),
	'only the newest backup is left when all are old');

# the newest is damaged: it stays (keep-min 1) and so does the newest good one
$d = fresh_dir('badnewest');
make_backup($d, $b->(1), 45);
make_backup($d, $b->(2), 44);
make_backup($d, $b->(3), 43);
make_backup($d, $b->(4), 42, 'corrupt');
($rc, $out) = tool('list', '--dir', $d);
like($out, qr/^\Q${\$b->(4)}\E.*MISMATCH$/m, 'list flags the checksum mismatch');
($rc, $out) = tool('rotate', '--dir', $d, '--keep-days', '30');
is(names_in($d), join(' ', $b->(3), $b->(3) . '.sha256', $b->(4), $b->(4) . '.sha256'),
	'rotate keeps the newest good backup even when a damaged one is newer');
like($out, qr/newest good backup: \Q${\$b->(3)}\E/, 'and names it');

# --keep-min 0 still keeps the newest good backup
$d = fresh_dir('keepzero');
make_backup($d, $b->(1), 45);
make_backup($d, $b->(2), 44, 'nosum');
($rc, $out) = tool('list', '--dir', $d);
like($out, qr/^\Q${\$b->(2)}\E.*missing$/m, 'list shows a missing checksum');
($rc) = tool('rotate', '--dir', $d, '--keep-days', '0', '--keep-min', '0');
is(names_in($d), join(' ', $b->(1), $b->(1) . '.sha256'),
	'--keep-min 0 removes all but the newest backup with a good checksum');

# --keep-min
$d = fresh_dir('keepmin');
make_backup($d, $b->($_), 50 - $_) for (1 .. 5);
($rc) = tool('rotate', '--dir', $d, '--keep-days', '30', '--keep-min', '3');
is(names_in($d) =~ tr/ //, 5, '--keep-min 3 keeps three old backups (six files)');
like(names_in($d), qr/^\Q${\$b->(3)}\E/, 'the three newest');

# --- one directory, several databases ------------------------------------------
# Database a stopped getting backups 40 days ago, b is backed up daily: a's
# only backups are not b's to outvote.
$d = fresh_dir('multi');
make_backup($d, 'a_backup_20200101_030000.sql.gz', 41);
make_backup($d, 'a_backup_20200102_030000.sql.gz', 40);
make_backup($d, "b_backup_2020020${_}_030000.sql.gz", 4 - $_) for (1 .. 3);
($rc, $out) = tool('list', '--dir', $d);
like($out, qr/^database "b" \(from the file names\): 3 backups\n(b_backup_\S+ .*\n){3}database "a" \(from the file names\): 2 backups\n(a_backup_\S+ .*\n){2}5 backups of 2 databases in /m,
	'list groups the backups by database, the most recently backed up first');
($rc, $out) = tool('rotate', '--dir', $d, '--keep-days', '30', '--keep-min', '2');
is($rc, 0, 'rotate of a directory of two databases succeeds');
is(names_in($d) =~ tr/ //, 9, '--keep-min 2 keeps both old backups of a, whose only backups they are');
like($out, qr/database "a": newest good backup: a_backup_20200102_030000\.sql\.gz/,
	'rotate names the newest good backup of a');
like($out, qr/database "b": newest good backup: b_backup_20200203_030000\.sql\.gz/, 'and of b');
($rc, $out) = tool('rotate', '--dir', $d, '--keep-days', '30');
is(names_in($d),
	join(' ', map { ($_, "$_.sha256") } 'a_backup_20200102_030000.sql.gz',
		map { "b_backup_2020020${_}_030000.sql.gz" } (1 .. 3)),
	'with --keep-min 1, a keeps its newest backup although b has newer ones');

# --keep-min counts the backups of each database
$d = fresh_dir('multi_keepmin');
make_backup($d, "a_backup_2020010${_}_030000.sql.gz", 50 - $_) for (1 .. 5);
make_backup($d, "b_backup_2020020${_}_030000.sql.gz", 4 - $_) for (1 .. 3);
($rc) = tool('rotate', '--dir', $d, '--keep-days', '30', '--keep-min', '3');
is(join(' ', grep { /^a_.*gz$/ } split(/ /, names_in($d))),
	join(' ', map { "a_backup_2020010${_}_030000.sql.gz" } (3 .. 5)),
	'--keep-min 3 keeps the three newest of a, not only the three newest in the directory');

# the newest good backup is per database too
$d = fresh_dir('multi_good');
make_backup($d, 'a_backup_20200101_030000.sql.gz', 45);
make_backup($d, 'a_backup_20200102_030000.sql.gz', 44, 'corrupt');
make_backup($d, 'b_backup_20200201_030000.sql.gz', 1);
($rc, $out, my $err) = tool('rotate', '--dir', $d, '--keep-days', '30');
is(names_in($d) =~ tr/ //, 5, 'a keeps its newest backup and its newest good one');
ok(-e "$d/a_backup_20200101_030000.sql.gz", 'the newest good backup of a is kept although b has a newer one');

# "a b" and "a_b" share the file name prefix a_b; the name recorded in each
# backup tells them apart
$d = fresh_dir('same_prefix');
make_backup($d, 'a_b_backup_20200101_030000.sql.gz', 41, undef, 'a b');
make_backup($d, 'a_b_backup_20200102_030000.sql.gz', 40, undef, 'a b');
make_backup($d, 'a_b_backup_20200201_030000.sql.gz', 2, undef, 'a_b');
make_backup($d, 'a_b_backup_20200202_030000.sql.gz', 1, undef, 'a_b');
($rc, $out) = tool('list', '--dir', $d);
like($out, qr/^database "a_b": 2 backups\na_b_backup_20200202_.*\na_b_backup_20200201_.*\ndatabase "a b": 2 backups\na_b_backup_20200102_.*\na_b_backup_20200101_/m,
	'list tells apart two databases whose names give the same file name prefix');
($rc, $out) = tool('rotate', '--dir', $d, '--keep-days', '30');
is(names_in($d) =~ tr/ //, 5, 'rotate removes only the older backup of "a b"');
ok(-e "$d/a_b_backup_20200102_030000.sql.gz", 'and keeps its newest, the only one left of it');
like($out, qr/database "a b": newest good backup: a_b_backup_20200102_030000\.sql\.gz/, 'naming it');

# a backup of an earlier version records no name: it counts as the
# database its prefix spells, with the backups that record that name
$d = fresh_dir('unrecorded');
make_backup($d, 'db_backup_20200101_030000.sql.gz', 40);
make_backup($d, 'db_backup_20200102_030000.sql.gz', 1, undef, 'db');
($rc, $out) = tool('rotate', '--dir', $d, '--keep-days', '30');
is(names_in($d), join(' ', 'db_backup_20200102_030000.sql.gz', 'db_backup_20200102_030000.sql.gz.sha256'),
	'an old backup without a recorded name rotates with the newer backups of its database');

# verify without --restore-file says which database's backup it picked;
# --backup-of picks the newest of one database
$d = fresh_dir('verify_pick');
make_backup($d, 'a_backup_20200101_030000.sql.gz', 2, undef, 'a');
make_backup($d, 'a_b_backup_20200101_030000.sql.gz', 3, undef, 'a b');
make_backup($d, 'a_b_backup_20200102_030000.sql.gz', 1, undef, 'a_b');
($rc, $out) = tool('verify', '--dir', $d, '--no-restore');
is($rc, 0, 'verify --no-restore of the newest backup in a directory succeeds');
like($out, qr/newest backup in \Q$d\E, of database "a_b"; the directory holds backups of 3 databases \(--backup-of picks one\)/,
	'and says which database it is of');
($rc, $out) = tool('verify', '--dir', $d, '--no-restore', '--backup-of', 'a b');
like($out, qr/^\[VERIFY\] \Q$d\E\/a_b_backup_20200101_030000\.sql\.gz\n  The newest backup of database "a b" in /m,
	'--backup-of picks the newest backup of that database');
($rc, undef, $err) = tool('verify', '--dir', $d, '--no-restore', '--backup-of', 'c');
is($rc, 5, '--backup-of a database without backups fails (exit 5)');
like($err, qr/no backups of database "c" in/, 'and says so');

# --- stale temporary files and orphaned checksum files ---------------------------
$d = fresh_dir('stale');
make_backup($d, $b->(1), 1);
my $stale = "$d/" . $b->(2) . '.tmp.999999';
open($fh, '>', $stale) or die;
print $fh 'partial';
close($fh);
utime($now - 3600, $now - 3600, $stale);
my $young = "$d/" . $b->(3) . '.sha256.tmp.999998';
open($fh, '>', $young) or die;
close($fh);
open($fh, '>', "$d/" . $b->(4) . '.sha256') or die;
close($fh);
($rc, $out) = tool('rotate', '--dir', $d);
is($rc, 0, 'rotate with stale files succeeds');
ok(!-e $stale, 'an unlocked temporary file an hour old is removed');
ok(-e $young, 'a temporary file younger than a minute is left alone');
ok(!-e "$d/" . $b->(4) . '.sha256', 'a checksum file without its backup is removed');
ok(-e "$d/" . $b->(1), 'the backup is kept');

# the temporary file of a running backup is locked: rotate leaves it
my $node = PostgreSQL::Test::Cluster->new('rotate');
$node->init;
$node->start;
$d = fresh_dir('running');
my $fakebin = "$tmp/fakebin";
make_path($fakebin);
# "-V" (the tool's version check) goes to the real pg_dump
my $pgbin = `pg_config --bindir` =~ s/\s+$//r;
open($fh, '>', "$fakebin/pg_dump") or die;
print $fh "#!/bin/sh\n[ \"\$1\" = -V ] && exec '$pgbin/pg_dump' -V\necho '-- PostgreSQL database dump'\nexec sleep 5\n";
close($fh);
chmod(0755, "$fakebin/pg_dump");
my ($bout, $berr) = ('', '');
my $h;
{
	local $ENV{SNAPSHOT_OPS_PG_BINDIR} = $fakebin;
	$h = IPC::Run::start([ $tool, 'backup', '-d', $node->connstr('postgres'), '--dir', $d ],
		'>', \$bout, '2>', \$berr);
}
my $tmpfile;
for (1 .. 100)
{
	($tmpfile) = grep { /\.tmp\.\d+$/ } split(/ /, names_in($d));
	last if defined $tmpfile;
	select(undef, undef, undef, 0.05);
}
ok(defined $tmpfile, 'a running backup writes a temporary file');
utime($now - 3600, $now - 3600, "$d/$tmpfile") if defined $tmpfile;
($rc, $out) = tool('rotate', '--dir', $d);
ok(defined $tmpfile && -e "$d/$tmpfile", 'rotate leaves the locked temporary file of a running backup');
$h->signal('TERM');
$h->finish;
is($? >> 8, 6, 'a backup stopped by SIGTERM exits 6');
unlike($berr, qr/pg_dump failed/, 'without a second error about the pg_dump it stopped');
is(names_in($d), '', 'and removes its temporary file');

$node->stop('immediate');
done_testing();
