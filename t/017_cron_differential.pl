# Cron schedules against an independent oracle.
#
# A deterministic generator (seed printed; CRON_DIFF_SEED and
# CRON_DIFF_EXPRESSIONS override it) makes a few thousand cron expressions:
# lists, ranges, steps, names, both day fields restricted, Sunday as 0 and
# 7, macros, jobs at the hours clocks change, some never-firing and some
# invalid ones.  Each is paired with five time zones with unusual rules
# (America/New_York, Europe/London, Australia/Lord_Howe with its 30-minute
# shift, Asia/Kolkata, Pacific/Chatham changing at :45) and a start instant
# around a clock change, a month end, a leap day or at random, and the next
# five runs from snapshot_ops.cron_next_runs() are compared with those of
# t/cron_oracle.py, which shares no code with snapshot_ops: it parses the
# expression from the crontab(5) rules and simulates Vixie cron's main loop
# minute by minute on Python's zoneinfo (the system tzdata, which Debian's
# PostgreSQL uses as well).
#
# Accepted differences between snapshot_ops and Vixie cron, each a rule
# stated in the README:
#
#  1. A forward clock jump that skips several times of one fixed-time job
#     ("0,30 2 * * *" on the night 02:00 becomes 03:00): Vixie cron runs
#     the job once per skipped time, back to back, at the jump; the worker
#     runs a job once per instant.  The oracle records one run per wake-up
#     and flags the case "multi".
#  2. "N/step" without a range ("5/15"): Vixie cron and pg_cron refuse it;
#     snapshot_ops reads it as N to the end of the field (5-59/15), as
#     croniter and cron-parser do.  The oracle's parser follows snapshot_ops.
#  3. A schedule that names no date that exists ("0 2 30 2 *"): Vixie cron
#     accepts it and never runs it; snapshot_ops refuses it, naming the
#     date.  The oracle expects the refusal ("NEVER").
#  4. Clock changes Vixie cron does not take for daylight-saving time: one
#     of over 3 hours (a clock reset: skipped fixed-time jobs do not run,
#     repeated ones run again) or of up to 5 minutes (a late wake-up:
#     wildcard jobs run for the skipped minutes too).  snapshot_ops applies
#     the daylight-saving rules to every change, whatever its size.  The
#     oracle flags a case that meets one ("large", "small"); a difference
#     there is counted and accepted.  None of the five zones has such a
#     change in the years tested, so the count is expected to be 0.
#  5. Shorthands are case-insensitive ("@DAILY") and @reboot is refused
#     (the worker has no start-up jobs); the oracle follows snapshot_ops.
#
# Every other difference fails the test.  The second part checks that the
# zone of cron_next_runs() without a zone, or with '', is the worker's (the
# server's TimeZone from postgresql.conf), whatever the session's TimeZone.
use strict;
use warnings;
use FindBin;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $seed = $ENV{CRON_DIFF_SEED} // 20260413;
my $nexpr = $ENV{CRON_DIFF_EXPRESSIONS} // 3000;
my $nruns = 5;
diag("cron differential test: seed $seed, $nexpr expressions x 5 zones, next $nruns runs"
	  . " (CRON_DIFF_SEED=$seed reproduces it)");

# --- the oracle ----------------------------------------------------------------
my $oracle = "$FindBin::RealBin/cron_oracle.py";
my ($out, $err);
my $t0 = time;
IPC::Run::run([ 'python3', $oracle, 'generate', $seed, $nexpr, $nruns ],
	'>', \$out, '2>', \$err)
  or BAIL_OUT("the oracle failed (python3 $oracle): $err");
my @cases;
for my $line (split /\n/, $out)
{
	my ($id, $expr, $zone, $after, $count, $expected, $flags) = split /\t/, $line, -1;
	die "bad oracle line: $line" unless defined $flags;
	$expr =~ s/\\t/\t/g;
	push @cases,
	  {
		id => $id,
		expr => $expr,
		zone => $zone,
		after => $after,
		count => $count,
		expected => $expected,
		flags => { map { $_ => 1 } grep { $_ ne '-' } split /,/, $flags },
	  };
}
note(sprintf('oracle: %d cases in %d s', scalar @cases, time - $t0));
cmp_ok(scalar @cases, '>=', 5 * $nexpr, 'the oracle produced every case');

# --- the cluster ---------------------------------------------------------------
my $node = PostgreSQL::Test::Cluster->new('cron_diff');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
timezone = 'America/New_York'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION snapshot_ops;
	-- the runs as Unix seconds, or the detail of the error
	CREATE FUNCTION cron_case(e text, z text, a bigint, n integer) RETURNS text
	LANGUAGE plpgsql AS $$
	DECLARE
		d text;
	BEGIN
		RETURN coalesce((SELECT string_agg(extract(epoch FROM r)::bigint::text, ',' ORDER BY i)
						   FROM snapshot_ops.cron_next_runs(e, to_timestamp(a), n, z)
								WITH ORDINALITY AS x(r, i)), '');
	EXCEPTION WHEN invalid_parameter_value THEN
		GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
		RETURN 'ERROR: ' || d;
	END
	$$;
});

# --- compare, in batches ---------------------------------------------------------
my %got;
$t0 = time;
for (my $i = 0; $i < @cases; $i += 1500)
{
	my $last = $i + 1499 < $#cases ? $i + 1499 : $#cases;
	my @rows = map {
		my $e = $_->{expr};
		$e =~ s/'/''/g;
		"($_->{id}, '$e', '$_->{zone}', $_->{after}, $_->{count})"
	} @cases[ $i .. $last ];
	my $res = $node->safe_psql('postgres',
		"SELECT id, cron_case(e, z, a, n) FROM (VALUES "
		  . join(",\n", @rows)
		  . ") v(id, e, z, a, n) ORDER BY id");
	for my $line (split /\n/, $res)
	{
		my ($id, $r) = split /\|/, $line, 2;
		$got{$id} = $r;
	}
}
note(sprintf('snapshot_ops: %d cases in %d s', scalar keys %got, time - $t0));

my (%kinds, @mismatches, @accepted);
my %dst_by_zone;
for my $c (@cases)
{
	my $got = $got{ $c->{id} } // '(no row)';
	my $exp = $c->{expected};
	my $ok;
	if ($exp eq 'INVALID')
	{
		$kinds{invalid}++;
		$ok = $got =~ /^ERROR: / && $got !~ /never fires/;
	}
	elsif ($exp eq 'NEVER')
	{
		$kinds{never}++;
		$ok = $got =~ /^ERROR: The schedule never fires: .* no day \d+/;
	}
	else
	{
		$kinds{runs}++;
		$kinds{dst}++ if $c->{flags}{dst};
		$dst_by_zone{ $c->{zone} }++ if $c->{flags}{dst};
		$kinds{multi}++ if $c->{flags}{multi};
		if ($c->{flags}{horizon})
		{
			# the oracle's zone table ends before the fifth run: compare
			# the runs it found
			$kinds{horizon}++;
			my $n = () = $exp =~ /\d+/g;
			my @g = split /,/, $got;
			$ok = join(',', @g[ 0 .. ($n ? $n - 1 : -1) ]) eq $exp;
		}
		else
		{
			$ok = $got eq $exp;
		}
	}
	next if $ok;
	if ($c->{flags}{small} || $c->{flags}{large})
	{
		push @accepted, $c;    # difference 4
		next;
	}
	push @mismatches, { %$c, got => $got };
}

note(sprintf('%d cases: %d with runs (%d where daylight-saving rules matter, '
	  . '%d with several skipped times at one jump), %d invalid, %d never firing, '
	  . '%d compared up to the end of the oracle\'s table',
	scalar @cases, $kinds{runs} // 0, $kinds{dst} // 0, $kinds{multi} // 0,
	$kinds{invalid} // 0, $kinds{never} // 0, $kinds{horizon} // 0));
note("cases where daylight-saving rules matter, by zone: "
	  . join(', ', map { "$_ $dst_by_zone{$_}" } sort keys %dst_by_zone));

# the test is only as good as what it covers
cmp_ok($kinds{dst} // 0, '>=', 200,
	'at least 200 cases where the daylight-saving rules change the runs');
for my $zone ('America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Pacific/Chatham')
{
	cmp_ok($dst_by_zone{$zone} // 0, '>=', 20,
		"at least 20 such cases in $zone");
}
cmp_ok($kinds{multi} // 0, '>=', 5,
	'cases with several times of one job skipped by one jump');
cmp_ok($kinds{invalid} // 0, '>=', 30, 'invalid expressions');
cmp_ok($kinds{never} // 0, '>=', 30, 'never-firing expressions');

is(scalar @accepted, 0,
	'no clock change that Vixie cron would not take for daylight-saving time (accepted difference 4)');
for my $c (@accepted)
{
	note("accepted (difference 4): [$c->{expr}] in $c->{zone} after $c->{after}");
}

is(scalar @mismatches, 0, 'snapshot_ops agrees with the oracle on every case');
my $shown = 0;
for my $m (@mismatches)
{
	last if ++$shown > 20;
	my $after = $node->safe_psql('postgres',
		"SELECT to_timestamp($m->{after}) AT TIME ZONE 'UTC'");
	diag("case $m->{id}: [$m->{expr}] in $m->{zone} after $after UTC"
		  . " (flags: " . join(',', sort keys %{ $m->{flags} }) . ")\n"
		  . "  oracle:       $m->{expected}\n"
		  . "  snapshot_ops: $m->{got}\n"
		  . "  reproduce: python3 t/cron_oracle.py explain '$m->{expr}' $m->{zone} $m->{after} $m->{count}");
}

# --- '' and no zone mean the worker's zone -------------------------------------
# The server's TimeZone is America/New_York; sessions in other zones, a
# database default, and snapshot_ops.timezone = '' change nothing.
my $q = q{
	SET TimeZone = 'Asia/Tokyo';
	SELECT string_agg(to_char(r AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), ' ')
	  FROM snapshot_ops.cron_next_runs('16 18 * * *', '2026-01-01 00:00+00', 2) r;
};
is($node->safe_psql('postgres', $q), '2026-01-01 23:16 2026-01-02 23:16',
	'without a zone: 18:16 in the server\'s zone (New York), not the session\'s');
is( $node->safe_psql('postgres', q{
		SET TimeZone = 'Asia/Tokyo';
		SELECT string_agg(to_char(r AT TIME ZONE 'UTC', 'HH24:MI'), ' ')
		  FROM snapshot_ops.cron_next_runs('16 18 * * *', '2026-07-01 00:00+00', 1,
										   current_setting('snapshot_ops.timezone')) r}),
	'22:16',
	"current_setting('snapshot_ops.timezone') at its default '' is accepted and means the same");
$node->safe_psql('postgres', q{ALTER DATABASE postgres SET TimeZone = 'Asia/Kolkata'});
is($node->safe_psql('postgres', $q), '2026-01-01 23:16 2026-01-02 23:16',
	'a database default of TimeZone changes nothing');
is( $node->safe_psql('postgres', q{
		SET TimeZone = 'Asia/Tokyo';
		SELECT bool_and(j.next_run = (SELECT r FROM snapshot_ops.cron_next_runs(j.schedule, now(), 1) r))
		  FROM snapshot_ops.jobs j}),
	't', 'the jobs view shows the same instants as cron_next_runs()');
is( $node->safe_psql('postgres', q{
		SET snapshot_ops.timezone = '+03';
		SELECT to_char(r AT TIME ZONE 'UTC', 'HH24:MI')
		  FROM snapshot_ops.cron_next_runs('0 12 * * *', '2026-01-01 00:00+00', 1) r}),
	'09:00', "snapshot_ops.timezone = '+03' is three hours east of UTC, as TimeZone = '+03'");

# a new server TimeZone reaches every session after a reload
$node->safe_psql('postgres', q{ALTER SYSTEM SET timezone = 'Europe/London'});
$node->reload;
ok( $node->poll_query_until('postgres', q{
		SELECT to_char(r AT TIME ZONE 'UTC', 'HH24:MI') = '18:16'
		  FROM snapshot_ops.cron_next_runs('16 18 * * *', '2026-01-01 00:00+00', 1) r}),
	'after ALTER SYSTEM SET timezone and a reload, the new server zone is used');

$node->stop;
done_testing();
