# Hostile input for save_snapshot(): thousands of state documents, made by
# mutating valid ones with a deterministic generator, are fed to the server.
#
#   - no backend crashes (the postmaster stays up, no "terminated by signal"
#     in the server log);
#   - every accepted document round-trips: load_snapshot_by_id(id) @> the
#     canonical form of what was saved (the three output-only keys removed,
#     epoch seconds rounded to the microsecond, as sql/1.0/30_api.sql
#     documents);
#   - every rejected document leaves the four tables exactly as they were
#     (row counts and a checksum of every row version) and fails with an
#     SQLSTATE of class 22 (data exception) or 23 (integrity constraint);
#     anything else, XX000 above all, is reported.
#
# FUZZ_SEED and FUZZ_DOCS override the seed (printed) and the number of
# documents.
use strict;
use warnings;
use utf8;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $seed = $ENV{FUZZ_SEED} // 20261126;
my $ndocs = $ENV{FUZZ_DOCS} // 5000;
my $batch = 250;
note "fuzz seed $seed, $ndocs documents";
diag "fuzz seed $seed (FUZZ_SEED=$seed reproduces this run)";

# --- a deterministic generator (xorshift32), independent of Perl's rand ----
my $state = ($seed % 4294967291) || 2463534242;
sub rnd
{
	$state ^= ($state << 13) & 0xFFFFFFFF;
	$state ^= $state >> 17;
	$state ^= ($state << 5) & 0xFFFFFFFF;
	return $state;
}
sub rint { my $n = shift; return $n <= 0 ? 0 : rnd() % $n; }
sub pick { return $_[ rint(scalar @_) ]; }
sub chance { return rint(1000) < $_[0] * 1000; }

# JSON values: plain scalars are strings, undef is null; numbers, booleans
# and verbatim fragments are tagged.
sub num { my $t = shift; return bless \$t, 'Num'; }
sub raw { my $t = shift; return bless \$t, 'Raw'; }         # verbatim JSON text
sub rawstr { my $t = shift; return bless \$t, 'RawStr'; }   # verbatim inside quotes
my $TRUE = bless \(my $true_v = 1), 'Bool';
my $FALSE = bless \(my $false_v = 0), 'Bool';

sub enc_str
{
	my $s = shift;
	$s =~ s/(["\\])/\\$1/g;
	$s =~ s/([\x00-\x1f])/sprintf('\\u%04x', ord($1))/ge;
	# non-ASCII characters: raw UTF-8 or escaped, astral ones as a
	# surrogate pair
	$s =~ s/([^\x00-\x7f])/esc_char($1)/ge;
	return '"' . $s . '"';
}

sub esc_char
{
	my $o = ord(shift);
	if ($o > 0xFFFF && chance(0.5))
	{
		my $v = $o - 0x10000;
		return sprintf('\\u%04x\\u%04x', 0xD800 + ($v >> 10), 0xDC00 + ($v & 0x3FF));
	}
	return sprintf('\\u%04x', $o) if $o <= 0xFFFF && chance(0.3);
	return chr($o);
}

sub encode
{
	my $v = shift;
	return 'null' unless defined $v;
	my $r = ref $v;
	return $$v if $r eq 'Num' || $r eq 'Raw';
	return '"' . $$v . '"' if $r eq 'RawStr';
	return $$v ? 'true' : 'false' if $r eq 'Bool';
	return '[' . join(',', map { encode($_) } @$v) . ']' if $r eq 'ARRAY';
	if ($r eq 'HASH')
	{
		my @k = sort keys %$v;
		# key order must not matter
		@k = reverse @k if chance(0.5);
		return '{' . join(',', map { enc_str($_) . ':' . encode($v->{$_}) } @k) . '}';
	}
	return enc_str($v);
}

# --- valid documents -------------------------------------------------------
my @ids = ('s', 'sess_1', 'BTC/USDT', "o'brien", 'a"b', 'back\\slash', '세션', "emoji_\x{1F600}",
	"rtl_\x{202E}_x", "comb_e\x{301}", "bom_\x{FEFF}", '; DROP TABLE session_snapshots; --',
	'%s%n%x', ' ', "tab\tnl\n", "\x{10FFFF}", 'x' x 200);
my @symbols = ('BTC', 'ETH', 'SOL', '', 'btc', "\x{1F4B0}", 'a.b', 'a"b', 'x' x 100);

sub epoch
{
	my $c = rint(4);
	return num(1700000000 + rint(100000000)) if $c == 0;
	return num(sprintf('%d.%06d', 1600000000 + rint(100000000), rint(1000000))) if $c == 1;
	return num(rint(2000000000)) if $c == 2;
	return undef;
}

sub count_val { return num(pick(0, 1, 7, rint(1000000), '9223372036854775807', '5.0')); }
sub number_val
{
	return num(pick('0', '-1.5', '125.75', '1e10', '-0.000001', rint(100000) . '.' . rint(100),
			'123456789012345678901234567890.123456789'));
}

sub free_object
{
	my $depth = shift // 0;
	my %o;
	for (1 .. rint(4))
	{
		my $k = pick('k', 'symbol', 'qty', 'side', 'id', "키", '', 'nested', 'n' . rint(50));
		my $c = rint(8);
		$o{$k} =
			$c == 0 ? undef
		  : $c == 1 ? pick($TRUE, $FALSE)
		  : $c == 2 ? number_val()
		  : $c == 3 && $depth < 3 ? free_object($depth + 1)
		  : $c == 4 ? [ map { number_val() } 1 .. rint(4) ]
		  : pick(@ids, @symbols);
	}
	return \%o;
}

sub map_of { my $gen = shift; my %m; $m{ pick(@symbols) } = $gen->() for 1 .. rint(4); return \%m; }

sub valid_doc
{
	my %s = (session_id => pick(@ids));
	$s{start_time} = epoch() if chance(0.8);
	$s{mode} = pick('live', 'paper', undef, 'x') if chance(0.7);
	$s{paper_campaign_id} = pick('c1', undef, "캠페인") if chance(0.5);
	$s{config} = pick(undef, free_object()) if chance(0.7);
	$s{loop_count} = count_val() if chance(0.8);
	$s{status} = pick('running', 'stopped', 'crashed') if chance(0.8);
	my %d = (session => \%s);
	if (chance(0.7))
	{
		my %ao;
		for (1 .. rint(5))
		{
			my %p;
			$p{trade} = pick(undef, free_object()) if chance(0.8);
			$p{order_a} = pick(undef, free_object()) if chance(0.8);
			$p{order_b} = pick(undef, free_object()) if chance(0.8);
			$p{position_open_time} = epoch() if chance(0.8);
			$ao{ pick(grep { $_ ne '' } @symbols, @ids) . '-' . rint(10) } = \%p;
		}
		$d{positions} = { active_orders => \%ao };
	}
	if (chance(0.7))
	{
		my %m;
		for my $k (qw(total_trades_opened total_trades_closed total_winning_trades))
		{
			$m{$k} = count_val() if chance(0.7);
		}
		for my $k (qw(total_pnl_usd max_dd_usd portfolio_initial_capital portfolio_equity))
		{
			$m{$k} = pick(undef, number_val()) if chance(0.7);
		}
		$m{per_symbol_pnl} = pick(undef, map_of(\&number_val)) if chance(0.6);
		for my $k (qw(per_symbol_trades_opened per_symbol_trades_closed per_symbol_winning_trades))
		{
			$m{$k} = pick(undef, map_of(\&count_val)) if chance(0.6);
		}
		$d{metrics} = \%m;
	}
	if (chance(0.7))
	{
		my %r;
		$r{session_start_time} = epoch() if chance(0.7);
		$r{daily_loss_usd} = pick(undef, number_val()) if chance(0.7);
		for my $k (qw(per_symbol_loss per_symbol_capital_used))
		{
			$r{$k} = pick(undef, map_of(\&number_val)) if chance(0.6);
		}
		for my $k (qw(per_symbol_trades_rejected per_symbol_trades_allowed per_symbol_position_count))
		{
			$r{$k} = pick(undef, map_of(\&count_val)) if chance(0.6);
		}
		$d{risk_guard} = \%r;
	}
	return \%d;
}

# --- mutations ---------------------------------------------------------------
# every container (hash or array) of a document, with a way to reach it
sub containers
{
	my ($v, $acc) = @_;
	my $r = ref $v;
	if ($r eq 'HASH') { push @$acc, $v; containers($v->{$_}, $acc) for sort keys %$v; }
	elsif ($r eq 'ARRAY') { push @$acc, $v; containers($_, $acc) for @$v; }
	return $acc;
}

my @odd_numbers = ('1e308', '-1e308', '-0', '0.0', '1e-320', '9223372036854775808',
	'9223372036854775807', '-9223372036854775808', '18446744073709551616', '1e400', '-1e400',
	'1.0000000000000000000000000001', '3.14159265358979323846264338327950288', '-1', '0.5',
	'1E+2', '1e-7', '100000000000000000000000000000000000000000000000000');
my @odd_strings = ('NaN', 'Infinity', '-Infinity', '', ' ', '1', 'true', 'null', '{}',
	"\x{1F600}\x{1F4A9}\x{10000}", "\x{202E}\x{200B}\x{FEFF}", "e\x{301}\x{302}\x{303}",
	'running ', 'RUNNING', 'stopped\u0000');
my @odd_raw_strings = ('a\\u0000b', '\\ud800', '\\udfff\\ud800', '\\u00e9\\u0301', '\\uFFFF', '\\ud83d\\ude00');

sub random_value
{
	my $c = rint(9);
	return undef if $c == 0;
	return pick($TRUE, $FALSE) if $c == 1;
	return num(pick(@odd_numbers)) if $c == 2;
	return pick(@odd_strings) if $c == 3;
	return rawstr(pick(@odd_raw_strings)) if $c == 4;
	return {} if $c == 5;
	return [] if $c == 6;
	return [ num(1), 'two', undef ] if $c == 7;
	return free_object();
}

my %mutation_count;
my $huge_left = 40;
my $random_mb;

sub mutate
{
	my $d = shift;
	my @c = @{ containers($d, []) };
	my $target = pick(@c);
	my $kind = pick(qw(drop_key add_key change_type change_type odd_number odd_string
		empty huge_string deep_config replace_section));
	$mutation_count{$kind}++;
	if (ref $target eq 'ARRAY')
	{
		push @$target, random_value();
		return;
	}
	my @keys = sort keys %$target;
	if ($kind eq 'drop_key' && @keys) { delete $target->{ pick(@keys) }; }
	elsif ($kind eq 'add_key')
	{
		$target->{ pick('unknown', 'session_id', 'snapshot_id', 'created_at', 'snapshot_type',
				'extra_' . rint(9), '', "\x{1F600}") } = random_value();
	}
	elsif (($kind eq 'change_type' || $kind eq 'empty') && @keys)
	{
		$target->{ pick(@keys) } = $kind eq 'empty' ? pick({}, [], '', undef) : random_value();
	}
	elsif ($kind eq 'odd_number' && @keys) { $target->{ pick(@keys) } = num(pick(@odd_numbers)); }
	elsif ($kind eq 'odd_string' && @keys)
	{
		$target->{ pick(@keys) } = chance(0.5) ? pick(@odd_strings) : rawstr(pick(@odd_raw_strings));
	}
	elsif ($kind eq 'huge_string' && @keys)
	{
		# 1 MB, incompressible half of the time; a few per run
		if ($huge_left-- > 0)
		{
			$random_mb //= join('', map { chr(0x41 + rint(58)) } 1 .. 1048576);
			$target->{ pick(@keys) } = chance(0.5) ? 'x' x 1048576 : $random_mb;
		}
		else
		{
			$target->{ pick(@keys) } = 'y' x (1000 + rint(10000));
		}
	}
	elsif ($kind eq 'deep_config' && ref $d->{session} eq 'HASH')
	{
		my $depth = pick(100, 1000);
		$d->{session}{config} =
		  raw(('{"a":' x $depth) . '1' . ('}' x $depth));
	}
	elsif ($kind eq 'replace_section')
	{
		$d->{ pick(qw(session positions metrics risk_guard)) } = random_value();
	}
	return;
}

my @types = ('periodic', 'initial', 'on_trade', 'on_stop', 'custom_1');
my @odd_types = ('', 'Periodic', 'on trade', 'x' x 64, 'x' x 63, "\x{1F600}", '1abc', 'a;b', undef);

# one case: [document text or undef, snapshot type or undef]
sub make_case
{
	my $i = shift;
	my $c = rint(100);
	return [ undef, 'periodic' ] if $c == 0;
	return [ encode(valid_doc()), undef ] if $c == 1;
	if ($c == 2)
	{
		# depth 10000 (the jsonb parser of PostgreSQL 15 takes it, so an
		# object of that depth is saved and must round-trip) or 100000
		# (beyond the parser's stack)
		my $open = pick('[', '{"a":');
		my $close = $open eq '[' ? ']' : '}';
		my $depth = pick(10000, 100000);
		return [ '{"session": {"session_id": "deep", "config": ' . ($open x $depth) . '1'
			  . ($close x $depth) . '}}', 'periodic' ];
	}
	if ($c == 3)
	{
		my $t = encode(valid_doc());
		return [ substr($t, 0, rint(length $t)), 'periodic' ];    # truncated text
	}
	if ($c == 4)
	{
		# duplicate keys: the last one wins in jsonb
		return [ '{"session": {"session_id": "dup", "status": "paused", "status": "stopped"}, "session": '
			  . encode(valid_doc()->{session}) . '}', 'periodic' ];
	}
	if ($c == 5 || $c == 6)
	{
		# a long, incompressible session id or position key (3 kB, beyond
		# what a btree index entry can hold)
		my $long = join('', map { chr(0x41 + rint(58)) } 1 .. 3000);
		my $d = valid_doc();
		if ($c == 5) { $d->{session}{session_id} = $long; }
		else { $d->{positions} = { active_orders => { $long => {} } }; }
		return [ encode($d), 'periodic' ];
	}
	my $d = valid_doc();
	# a tenth stay valid; the rest get one to three mutations
	if ($c >= 15) { mutate($d) for 1 .. 1 + rint(3); }
	my $type = chance(0.9) ? pick(@types) : pick(@odd_types);
	return [ encode($d), $type ];
}

# --- the server ------------------------------------------------------------
my $node = PostgreSQL::Test::Cluster->new('fuzz');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'snapshot_ops'\nfsync = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION snapshot_ops');

# The harness, in SQL: fuzz_try() takes the document as text, so that a
# document the jsonb parser refuses is recorded as such, then saves it in a
# subtransaction and checks the outcome.
$node->safe_psql('postgres', q{
CREATE TABLE fuzz_results (
	case_no int PRIMARY KEY,
	outcome text NOT NULL,			-- accepted, rejected, input_rejected
	sqlstate text,
	message text,
	snapshot_id bigint,
	roundtrip_ok boolean,
	unchanged boolean);

-- row counts and a checksum of every row version of the four tables
CREATE FUNCTION fuzz_fingerprint() RETURNS text LANGUAGE sql AS $$
	SELECT concat_ws('|',
		(SELECT count(*) || ':' || coalesce(md5(string_agg(ctid::text || xmin::text, ',' ORDER BY ctid)), '') FROM session_snapshots),
		(SELECT count(*) || ':' || coalesce(md5(string_agg(ctid::text || xmin::text, ',' ORDER BY ctid)), '') FROM position_snapshots),
		(SELECT count(*) || ':' || coalesce(md5(string_agg(ctid::text || xmin::text, ',' ORDER BY ctid)), '') FROM metrics_snapshots),
		(SELECT count(*) || ':' || coalesce(md5(string_agg(ctid::text || xmin::text, ',' ORDER BY ctid)), '') FROM risk_guard_snapshots))
$$;

-- round epoch seconds at a path to the microsecond, as the store does
CREATE FUNCTION fuzz_round_time(d jsonb, path text[]) RETURNS jsonb LANGUAGE sql AS $$
	SELECT CASE WHEN jsonb_typeof(d #> path) = 'number'
				THEN jsonb_set(d, path, to_jsonb(round((d #>> path)::numeric, 6)))
				ELSE d END
$$;

-- the canonical form of a saved document: what load_snapshot_by_id must contain
CREATE FUNCTION fuzz_canonical(d jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	k text;
BEGIN
	d := d - 'snapshot_id' - 'created_at' - 'snapshot_type';
	d := fuzz_round_time(d, '{session,start_time}');
	d := fuzz_round_time(d, '{risk_guard,session_start_time}');
	IF jsonb_typeof(d #> '{positions,active_orders}') = 'object' THEN
		FOR k IN SELECT jsonb_object_keys(d #> '{positions,active_orders}') LOOP
			d := fuzz_round_time(d, ARRAY['positions', 'active_orders', k, 'position_open_time']);
		END LOOP;
	END IF;
	RETURN d;
END
$$;

CREATE FUNCTION fuzz_try(case_no int, doc_text text, stype text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	doc jsonb;
	before text;
	id bigint;
	loaded jsonb;
	ok boolean;
BEGIN
	BEGIN
		doc := doc_text::jsonb;
	EXCEPTION WHEN OTHERS THEN
		INSERT INTO fuzz_results VALUES (case_no, 'input_rejected', SQLSTATE, left(SQLERRM, 200), NULL, NULL, NULL);
		RETURN;
	END;
	before := fuzz_fingerprint();
	BEGIN
		id := save_snapshot(doc, stype);
	EXCEPTION WHEN OTHERS THEN
		INSERT INTO fuzz_results VALUES (case_no, 'rejected', SQLSTATE, left(SQLERRM, 200), NULL, NULL,
										 fuzz_fingerprint() = before);
		RETURN;
	END;
	loaded := load_snapshot_by_id(id);
	BEGIN
		ok := loaded @> fuzz_canonical(doc);
	EXCEPTION WHEN statement_too_complex THEN
		-- @> recurses per level: compare a deeply nested config for
		-- equality (iterative) and the rest by containment
		ok := loaded #> '{session,config}' = doc #> '{session,config}'
			AND (loaded #- '{session,config}') @> (fuzz_canonical(doc) #- '{session,config}');
	END;
	INSERT INTO fuzz_results VALUES (case_no, 'accepted', NULL, NULL, id,
		ok AND loaded->>'snapshot_type' IS NOT DISTINCT FROM stype, NULL);
END
$$;
});

sub sql_literal
{
	my $s = shift;
	return 'NULL' unless defined $s;
	$s =~ s/'/''/g;
	return "'$s'";
}

# run one batch of cases through psql; false when psql did not finish
sub run_batch
{
	my ($cases) = @_;
	my $sql = join('', map {
		"SELECT fuzz_try($_->[0], " . sql_literal($_->[1]) . ', ' . sql_literal($_->[2]) . ");\n"
	} @$cases);
	my $file = $node->basedir . '/batch.sql';
	open(my $fh, '>:encoding(UTF-8)', $file) or die "cannot write $file: $!";
	print $fh $sql;
	close $fh;
	my ($stdout, $stderr);
	my $ret = $node->psql('postgres', undef, extra_params => [ '-f', $file ],
		stdout => \$stdout, stderr => \$stderr, on_error_stop => 1);
	note "batch stopped: $stderr" if $ret != 0;
	return $ret == 0;
}

my $t_gen = time;
my @cases;
for my $i (1 .. $ndocs)
{
	my $c = make_case($i);
	push @cases, [ $i, $c->[0], $c->[1] ];
}
note sprintf('generated %d cases in %.1f s', scalar @cases, time - $t_gen);
my $t0 = time;
note 'mutations: ' . join(', ', map { "$_ $mutation_count{$_}" } sort keys %mutation_count);

my @crashed_cases;
for (my $i = 0; $i < @cases; $i += $batch)
{
	my @b = @cases[ $i .. ($i + $batch - 1 < $#cases ? $i + $batch - 1 : $#cases) ];
	next if run_batch(\@b);
	# the batch died: run its unrecorded cases one by one to find the culprit
	$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
	for my $c (@b)
	{
		next if $node->safe_psql('postgres', "SELECT count(*) FROM fuzz_results WHERE case_no = $c->[0]") == 1;
		push @crashed_cases, $c->[0] unless run_batch([$c]);
		$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
	}
}
my $elapsed = time - $t0;

# --- results ---------------------------------------------------------------
my $summary = $node->safe_psql('postgres', q{
	SELECT count(*), count(*) FILTER (WHERE outcome = 'accepted'),
		   count(*) FILTER (WHERE outcome = 'rejected'),
		   count(*) FILTER (WHERE outcome = 'input_rejected')
	  FROM fuzz_results});
my ($recorded, $accepted, $rejected, $input_rejected) = split /\|/, $summary;
diag sprintf('documents tried %d, accepted %d, rejected by save_snapshot %d, refused by the jsonb parser %d, '
	  . 'in %.1f s', $ndocs, $accepted, $rejected, $input_rejected, $elapsed);
diag 'save_snapshot rejections by SQLSTATE: '
  . $node->safe_psql('postgres', q{
	SELECT string_agg(sqlstate || ' ' || n, ', ' ORDER BY n DESC)
	  FROM (SELECT sqlstate, count(*) n FROM fuzz_results WHERE outcome = 'rejected' GROUP BY 1) s});
diag 'parser refusals by SQLSTATE: '
  . $node->safe_psql('postgres', q{
	SELECT string_agg(sqlstate || ' ' || n, ', ' ORDER BY n DESC)
	  FROM (SELECT sqlstate, count(*) n FROM fuzz_results WHERE outcome = 'input_rejected' GROUP BY 1) s});

is(scalar @crashed_cases, 0, 'no case killed its backend')
  or diag 'cases that killed their backend: ' . join(', ', @crashed_cases);
ok($node->safe_psql('postgres', 'SELECT 1') eq '1', 'the server is up');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|was terminated by exception|server process .* exited with exit code [^0]/,
	'no backend terminated abnormally');
unlike($log, qr/TRAP:|PANIC:/, 'no assertion failure or PANIC');
is($recorded, $ndocs, 'every case has a recorded outcome');
cmp_ok($accepted, '>=', $ndocs / 10, 'a fair share of documents was accepted');
cmp_ok($rejected, '>=', $ndocs / 10, 'a fair share of documents was rejected by save_snapshot');

my $bad_roundtrip = $node->safe_psql('postgres', q{
	SELECT count(*) FROM fuzz_results WHERE outcome = 'accepted' AND roundtrip_ok IS NOT TRUE});
is($bad_roundtrip, 0, 'every accepted document round-trips through load_snapshot_by_id')
  or diag $node->safe_psql('postgres', q{
	SELECT string_agg(case_no::text, ', ') FROM (SELECT case_no FROM fuzz_results
	 WHERE outcome = 'accepted' AND roundtrip_ok IS NOT TRUE ORDER BY 1 LIMIT 20) s});

is($node->safe_psql('postgres', q{
	SELECT count(*) FROM fuzz_results WHERE outcome = 'rejected' AND unchanged IS NOT TRUE}),
	0, 'every rejected document left the four tables unchanged');

my $other = $node->safe_psql('postgres', q{
	SELECT string_agg(format('case %s: %s %s', case_no, sqlstate, message), E'\n' ORDER BY case_no)
	  FROM (SELECT * FROM fuzz_results
			 WHERE outcome = 'rejected' AND left(sqlstate, 2) NOT IN ('22', '23')
			 ORDER BY case_no LIMIT 10) s});
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM fuzz_results
	 WHERE outcome = 'rejected' AND left(sqlstate, 2) NOT IN ('22', '23')}),
	0, 'every rejection has SQLSTATE class 22 or 23')
  or diag "rejections of another class (first 10):\n$other";
is($node->safe_psql('postgres', q{SELECT count(*) FROM fuzz_results WHERE sqlstate = 'XX000'}),
	0, 'no internal error (XX000)');

# the rows written are all there, each snapshot whole
is($node->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM session_snapshots) = (SELECT count(*) FROM fuzz_results WHERE outcome = 'accepted')
	   AND (SELECT count(*) FROM metrics_snapshots) = (SELECT count(*) FROM session_snapshots)
	   AND (SELECT count(*) FROM risk_guard_snapshots) = (SELECT count(*) FROM session_snapshots)}),
	't', 'one session, metrics and risk_guard row per accepted document, no more');

$node->stop;
done_testing();
