# Copyright (c) 2026, snapshot_ops developers
#
# t/018_schedule_trouble.pl: the schedule fixes of commit 40d1bbf.
#
#  1. The server's TimeZone changes (ALTER SYSTEM SET timezone and a
#     reload) while the worker runs: the worker re-plans in place, without
#     a restart, and job_schedules() shows the next runs in the new zone
#     within seconds; a schedule zone given by snapshot_ops.timezone does
#     not follow TimeZone.
#  2. Catch-up after a restart: a scheduled instant already covered by a
#     run (one that started before it and ended after it) is not run again
#     at start-up; an instant no run covered is caught up once, and not
#     again after another restart; an instant passed during a run that
#     never recorded its end (marked interrupted at start-up) is caught
#     up.
#  4. A schedule of the full 255 characters (blanks around it not counted)
#     is published whole in job_schedules() and the jobs view, and still
#     after a restart; a very long invalid value of a schedule or zone
#     parameter is quoted clipped (64 bytes and "...") by SET, ALTER SYSTEM
#     and in the postmaster log for postgresql.conf.
#  5. The excerpts of an invalid value in error messages (the quoted value
#     and the 10- and 20-byte excerpts of the detail) are cut on a
#     character boundary of the database encoding: Cyrillic text in UTF8,
#     EUC_JP (two bytes a letter) and WIN1251 (one byte) databases gives
#     messages that are valid text, with the exact excerpts.
#  (3, the INTERVAL form of a zone, is in test/sql/cron_zones.sql.)
use strict;
use warnings;

use Encode qw(decode FB_CROAK);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

# every fixed-time schedule below fires at this hour (UTC), half a day
# away from now: no scheduled run happens during the test
my $hour = ((gmtime)[2] + 12) % 24;
my $hh = sprintf('%02d', $hour);
my $sched = "0 $hh * * *";

my $node = PostgreSQL::Test::Cluster->new('sched');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
timezone = 'UTC'
snapshot_ops.cleanup_schedule = '$sched'
snapshot_ops.vacuum_schedule = '$sched'
autovacuum = off
fsync = off
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', 'CREATE EXTENSION snapshot_ops');
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'the worker runs');

# poll $sql in database app until it returns 't', for at most $secs seconds;
# returns the seconds it took, or undef
sub poll_for
{
	my ($sql, $secs) = @_;
	my $start = time;
	while (time - $start < $secs)
	{
		return time - $start if $node->safe_psql('app', $sql) eq 't';
		usleep(200_000);
	}
	return undef;
}

sub worker_pid
{
	return $node->safe_psql('app', q{SELECT pid FROM snapshot_ops.worker_status()});
}

# --- 1. the server's TimeZone changes ------------------------------------------
# what job_schedules() says of both jobs: zone, next run as local time in
# that zone, and whether it is the next instant after now in that zone
my $jobs_sql = q{
	SELECT string_agg(format('%s %s %s %s %s', job, source, timezone,
							 to_char(next_run AT TIME ZONE timezone, 'HH24:MI'),
							 next_run = (SELECT r FROM snapshot_ops.cron_next_runs(schedule, now(), 1, timezone) r)
							 AND next_run > now() AND next_run <= now() + interval '1 day'),
					  ', ' ORDER BY job)
	  FROM snapshot_ops.job_schedules()};
is($node->safe_psql('app', $jobs_sql),
	"cleanup worker UTC $hh:00 t, vacuum worker UTC $hh:00 t",
	'F1: the worker plans in the server TimeZone, UTC');
my $pid = worker_pid();
my $utc_next = $node->safe_psql('app',
	q{SELECT next_run FROM snapshot_ops.job_schedules() WHERE job = 'cleanup'});

$node->safe_psql('app', q{ALTER SYSTEM SET timezone = 'Asia/Kolkata'; SELECT pg_reload_conf()});
my $took = poll_for(q{SELECT bool_and(timezone = 'Asia/Kolkata') FROM snapshot_ops.job_schedules()}, 20);
ok(defined $took, 'F1: job_schedules() shows the new server TimeZone within 20 s of the reload');
diag sprintf('re-planned %.1f s after the reload', $took // -1);
is($node->safe_psql('app', $jobs_sql),
	"cleanup worker Asia/Kolkata $hh:00 t, vacuum worker Asia/Kolkata $hh:00 t",
	'F1: the next runs are the next instants of the schedules in Asia/Kolkata');
# H:00 in Kolkata comes 5:30 before H:00 in UTC, and after now
is( $node->safe_psql('app', qq{
		SELECT ('$utc_next'::timestamptz - next_run)::text
		  FROM snapshot_ops.job_schedules() WHERE job = 'cleanup'}),
	'05:30:00', 'F1: the next run moved by the 5:30 between the zones');
is(worker_pid(), $pid, 'F1: the worker re-planned in place, without a restart');

# a second change, to a zone behind UTC
$node->safe_psql('app', q{ALTER SYSTEM SET timezone = 'America/Sao_Paulo'; SELECT pg_reload_conf()});
ok(defined poll_for(q{SELECT bool_and(timezone = 'America/Sao_Paulo') FROM snapshot_ops.job_schedules()}, 20),
	'F1: a second change is followed too');
is($node->safe_psql('app', $jobs_sql),
	"cleanup worker America/Sao_Paulo $hh:00 t, vacuum worker America/Sao_Paulo $hh:00 t",
	'F1: with next runs in America/Sao_Paulo');

# an explicit schedule zone does not follow TimeZone
$node->safe_psql('app', q{ALTER SYSTEM SET snapshot_ops.timezone = 'Asia/Tokyo'; SELECT pg_reload_conf()});
ok(defined poll_for(q{SELECT bool_and(timezone = 'Asia/Tokyo') FROM snapshot_ops.job_schedules()}, 20),
	'F1: snapshot_ops.timezone = Asia/Tokyo is used');
$node->safe_psql('app', q{ALTER SYSTEM SET timezone = 'Europe/Berlin'; SELECT pg_reload_conf()});
# the server zone the launcher publishes, seen by a session without a zone
ok( defined poll_for(q{
		SET snapshot_ops.timezone = '';
		SELECT to_char(r AT TIME ZONE 'UTC', 'HH24:MI') = '11:00'
		  FROM snapshot_ops.cron_next_runs('0 12 * * *', '2026-01-01 00:00+00', 1) r}, 20),
	'F1: the server TimeZone is now Europe/Berlin');
sleep 2;    # two rounds of the worker's loop
is($node->safe_psql('app', $jobs_sql),
	"cleanup worker Asia/Tokyo $hh:00 t, vacuum worker Asia/Tokyo $hh:00 t",
	'F1: the schedules with an explicit zone stay in Asia/Tokyo');
is(worker_pid(), $pid, 'F1: still the same worker');

$node->safe_psql('app', q{
	ALTER SYSTEM RESET snapshot_ops.timezone;
	ALTER SYSTEM SET timezone = 'UTC';
	SELECT pg_reload_conf()});
ok(defined poll_for(q{SELECT bool_and(timezone = 'UTC') FROM snapshot_ops.job_schedules()}, 20),
	'F1: back in UTC');

# --- 2. catch-up after a restart --------------------------------------------------
# $last: the latest scheduled instant, about 12 hours ago
my $last = $node->safe_psql('app', qq{
	SELECT r FROM snapshot_ops.cron_next_runs('$sched', now() - interval '1 day', 1, 'UTC') r});
is($node->safe_psql('app', qq{SELECT '$last'::timestamptz < now() - interval '11 hours'}), 't',
	"F2: the last scheduled instant $last is in the past");

$node->safe_psql('app', qq{
	DELETE FROM snapshot_ops.job_runs;
	INSERT INTO snapshot_ops.job_runs (job, trigger, started_at, finished_at, status, rows_affected)
	VALUES ('cleanup', 'schedule', '$last'::timestamptz - interval '1 hour',
			'$last'::timestamptz + interval '5 minutes', 'succeeded', 0),
		   ('vacuum', 'schedule', '$last'::timestamptz - interval '2 hours',
			'$last'::timestamptz - interval '1 hour', 'succeeded', 4)});
$node->restart;
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'F2: the worker runs after the restart');
ok( defined poll_for(q{
		SELECT count(*) = 1 FROM snapshot_ops.job_runs
		 WHERE job = 'vacuum' AND trigger = 'catch_up' AND status = 'succeeded'}, 30),
	'F2: the vacuum, whose last run ended before the instant, catches up');
sleep 2;
# the worker checks cleanup before vacuum in each round: a cleanup catch-up
# would have come first
is( $node->safe_psql('app', q{
		SELECT string_agg(job || ' ' || trigger || ' ' || status, ', ' ORDER BY job, run_id)
		  FROM snapshot_ops.job_runs}),
	'cleanup schedule succeeded, vacuum schedule succeeded, vacuum catch_up succeeded',
	'F2: the cleanup, whose run lasted past the instant, does not; the vacuum caught up once');
is( $node->safe_psql('app', qq{
		SELECT string_agg(job || ' ' || (next_run = '$last'::timestamptz + interval '1 day'), ', ' ORDER BY job)
		  FROM snapshot_ops.job_schedules()}),
	'cleanup true, vacuum true', 'F2: both next runs are the next instant');

# a restart after the catch-up does not repeat it
$node->restart;
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'F2: the worker runs after a second restart');
# a manual cleanup run: once it is done, the worker's round has reached
# the vacuum, whose catch-up would be recorded by now
$node->safe_psql('app', q{SELECT snapshot_ops.run_job('cleanup', true)});
sleep 1;
is( $node->safe_psql('app', q{SELECT count(*) FROM snapshot_ops.job_runs WHERE trigger = 'catch_up'}),
	'1', 'F2: no new catch-up after another restart');

# a run that never recorded its end (its process died): marked interrupted
# at start-up, which does not make it cover the instants up to the restart
$node->safe_psql('app', qq{
	DELETE FROM snapshot_ops.job_runs;
	INSERT INTO snapshot_ops.job_runs (job, trigger, started_at, status, worker_pid)
	VALUES ('cleanup', 'schedule', '$last'::timestamptz - interval '2 hours', 'running', 999999),
		   ('vacuum', 'manual', '$last'::timestamptz + interval '1 minute', 'running', 999998)});
$node->restart;
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'F2: the worker runs after a third restart');
ok( defined poll_for(q{
		SELECT count(*) = 1 FROM snapshot_ops.job_runs
		 WHERE job = 'cleanup' AND trigger = 'catch_up' AND status <> 'running'}, 30),
	'F2: the instant after an interrupted run that started before it is caught up');
sleep 2;
is( $node->safe_psql('app', q{
		SELECT string_agg(job || ' ' || trigger || ' ' || status, ', ' ORDER BY job, run_id)
		  FROM snapshot_ops.job_runs}),
	'cleanup schedule interrupted, cleanup catch_up succeeded, vacuum manual interrupted',
	'F2: both were marked interrupted; the vacuum run that started after the instant covers it');

# --- 4. long schedules, long invalid values ----------------------------------------
# 255 characters: every minute of hour $hh, then ",00" and ",0" x 37
my $long = join(',', 0 .. 59) . ',00' . (',0' x 37) . " $hh * * *";
is(length($long), 255, 'F4: a schedule of 255 characters');
is($node->safe_psql('app', qq{SET snapshot_ops.cleanup_schedule = '$long'; SHOW snapshot_ops.cleanup_schedule}),
	$long, 'F4: accepted by SET');
$node->safe_psql('app', qq{
	ALTER SYSTEM SET snapshot_ops.cleanup_schedule = '   $long   ';
	SELECT pg_reload_conf()});
ok(defined poll_for(qq{SELECT schedule = '$long' FROM snapshot_ops.job_schedules() WHERE job = 'cleanup'}, 20),
	'F4: job_schedules() shows the whole schedule, without the blanks around it');
is( $node->safe_psql('app', q{
		SELECT format('%s %s %s %s', length(schedule), source, enabled,
					  to_char(next_run AT TIME ZONE 'UTC', 'HH24:MI'))
		  FROM snapshot_ops.job_schedules() WHERE job = 'cleanup'}),
	"255 worker t $hh:00", 'F4: 255 characters, planned by the worker');
is($node->safe_psql('app', q{SELECT schedule FROM snapshot_ops.jobs WHERE job = 'cleanup'}),
	$long, 'F4: the jobs view shows it whole');
$node->restart;
ok($node->poll_query_until('app', q{SELECT running FROM snapshot_ops.worker_status()}),
	'F4: the worker runs after a restart');
is( $node->safe_psql('app', q{
		SELECT format('%s %s %s', schedule, source, to_char(next_run AT TIME ZONE 'UTC', 'HH24:MI'))
		  FROM snapshot_ops.job_schedules() WHERE job = 'cleanup'}),
	"$long worker $hh:00", 'F4: the whole schedule survives the restart');

# one character more is refused
my ($ret, $out, $err) = $node->psql('app', qq{SET snapshot_ops.cleanup_schedule = '0$long'});
like($err, qr/DETAIL:  A schedule is at most 255 characters long\./,
	'F4: 256 characters are refused');

# a very long invalid value: quoted clipped to 64 bytes and "..."
my $x = 'x' x 1000;
($ret, $out, $err) = $node->psql('app', qq{SET snapshot_ops.cleanup_schedule = '$x'});
like($err, qr/ERROR:  invalid cron schedule "x{64}\.\.\."\n/, 'F4: SET quotes the value clipped');
unlike($err, qr/x{65}/, 'F4: and nothing more of it');
($ret, $out, $err) = $node->psql('app', qq{ALTER SYSTEM SET snapshot_ops.vacuum_schedule = '$x'});
like($err, qr/ERROR:  invalid cron schedule "x{64}\.\.\."\n/, 'F4: so does ALTER SYSTEM');
unlike(slurp_file($node->data_dir . '/postgresql.auto.conf'), qr/x{64}/,
	'F4: which writes nothing');
($ret, $out, $err) = $node->psql('app', qq{SET snapshot_ops.timezone = '$x'});
like($err, qr/ERROR:  time zone "x{64}\.\.\." is not recognized\n/, 'F4: a zone is quoted clipped too');
unlike($err, qr/x{65}/, 'F4: and nothing more of it');

# in postgresql.conf: the postmaster's log line is clipped; the worker
# keeps its schedule
my $y = 'y' x 1000;
my $log_offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "snapshot_ops.vacuum_schedule = '$y'\n");
$node->reload;
my $logged;
for (1 .. 50)
{
	$logged = slurp_file($node->logfile, $log_offset);
	last if $logged =~ /invalid cron schedule/;
	usleep(100_000);
}
like($logged, qr/invalid cron schedule "y{64}\.\.\."/, 'F4: the log quotes the postgresql.conf value clipped');
unlike($logged, qr/y{65}/, 'F4: and nothing more of it');
is($node->safe_psql('app', q{SELECT schedule FROM snapshot_ops.job_schedules() WHERE job = 'vacuum'}),
	$sched, 'F4: the worker keeps the vacuum schedule it had');
$node->append_conf('postgresql.conf', "snapshot_ops.vacuum_schedule = '$sched'\n");
$node->reload;

# --- 5. excerpts of multibyte text ------------------------------------------------
# The Perl strings are UTF-8 bytes (no "use utf8"); the client encoding is
# UTF8 whatever the database's, so every message must convert.
$node->safe_psql('postgres', q{
	CREATE DATABASE db_win1251 ENCODING 'WIN1251' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
	CREATE DATABASE db_euc_jp ENCODING 'EUC_JP' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
my $P = "\xd0\x9f";    # U+041F CYRILLIC CAPITAL LETTER PE, two bytes in UTF8 and EUC_JP
my @cases = (
	# parameter, value, expected message and detail for two-byte and
	# one-byte letters
	[
		'cleanup_schedule', '0 2 * * a' . ($P x 70),
		qq{invalid cron schedule "0 2 * * a} . ($P x 27) . qq{..."},
		qq{day-of-week field: unexpected "a} . ($P x 4) . qq{".},
		qq{invalid cron schedule "0 2 * * a} . ($P x 55) . qq{..."},
		qq{day-of-week field: unexpected "a} . ($P x 9) . qq{".}
	],
	[
		'cleanup_schedule', '0 2 * * 1a' . ($P x 10),
		undef, qq{day-of-week field: unexpected "a} . ($P x 4) . qq{".},
		undef, qq{day-of-week field: unexpected "a} . ($P x 9) . qq{".}
	],
	[
		'vacuum_schedule', '@' . ($P x 30),
		undef, qq{Unknown shorthand "@} . ($P x 9) . qq{"; use},
		undef, qq{Unknown shorthand "@} . ($P x 19) . qq{"; use}
	],
	[
		'timezone', 'a' . ($P x 70),
		qq{time zone "a} . ($P x 31) . qq{..." is not recognized}, undef,
		qq{time zone "a} . ($P x 63) . qq{..." is not recognized}, undef
	]);
{
	local $ENV{PGCLIENTENCODING} = 'UTF8';
	foreach my $db ('app', 'db_euc_jp', 'db_win1251')
	{
		my $one_byte = $db eq 'db_win1251';
		foreach my $c (@cases)
		{
			my ($param, $value) = @$c[ 0, 1 ];
			my ($msg, $detail) = $one_byte ? @$c[ 4, 5 ] : @$c[ 2, 3 ];
			my ($r, $o, $e) = $node->psql($db, "SET snapshot_ops.$param = '$value'");
			my $copy = $e;    # decode() with FB_CROAK consumes its input
			my $valid = eval { decode('UTF-8', $copy, FB_CROAK); 1 };
			ok($valid && $e =~ /ERROR:  / && $e !~ /invalid byte sequence|has no equivalent/,
				"F5: $db, $param: the error is valid text")
			  or diag $e;
			ok(index($e, "ERROR:  $msg\n") >= 0, "F5: $db, $param: the quoted value is cut on a letter")
			  or diag $e
			  if defined $msg;
			ok(index($e, "DETAIL:  $detail") >= 0, "F5: $db, $param: the excerpt is cut on a letter")
			  or diag $e
			  if defined $detail;
		}
	}
}

$node->stop;
done_testing();
