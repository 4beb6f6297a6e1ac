# Copyright (c) 2026, snapshot_ops developers
#
# t/090_bench_smoke.pl: the benchmark driver's smoke run.  Runs
# "bench/run.sh --smoke" against the installed extension (it starts its own
# throwaway cluster) and checks that the report and its plots are produced
# and carry measured, numeric figures.  The benchmark itself never runs in
# CI; this only proves that the one documented command still works.

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = File::Spec->rel2abs(dirname(__FILE__) . '/..');
my $runner = "$root/bench/run.sh";

plan skip_all => 'gnuplot is not installed'
  if system('command -v gnuplot >/dev/null 2>&1') != 0;
plan skip_all => 'pgbench is not installed'
  if system('command -v pgbench >/dev/null 2>&1') != 0;

my $out = PostgreSQL::Test::Utils::tempdir('bench_smoke');
my $port = PostgreSQL::Test::Cluster::get_free_port();

my $t0 = time();
my ($stdout, $stderr);
my $ok = IPC::Run::run([ $runner, '--smoke', '--port', $port, '--out', $out ],
	'>', \$stdout, '2>', \$stderr);
my $elapsed = time() - $t0;
ok($ok, "bench/run.sh --smoke exits 0")
  or diag("stderr:\n$stderr");
note("smoke run took $elapsed s");
cmp_ok($elapsed, '<', 120, 'the smoke run stays short');

my $report = "$out/report.md";
ok(-s $report, 'report.md is written');
my $md = -e $report ? slurp_file($report) : '';

like($md, qr/^# snapshot_ops benchmark, \d{4}-\d\d-\d\d/m, 'report carries the date');
like($md, qr/PostgreSQL 1\d\.\d+/, 'report carries the server version');
like($md, qr/synchronous_commit=on/, 'report states that synchronous_commit stays on');

# Goal lines: a numeric measurement and a verdict each.
for my $goal ('save throughput', 'load throughput', 'save latency p99',
	'retention rate', 'longest cleanup transaction', 'steady-state growth',
	'backend memory')
{
	like($md, qr/^\| \Q$goal\E[^|]*\| [^|]+ \| [^|]*\d[^|]* \| \*\*(PASS|MISS)\*\*/m,
		"goal \"$goal\" has a figure and a verdict");
}

# The throughput table: a data row with positive numbers for all three
# save paths.
ok($md =~ /^\| 2 \| (\d+) \| ([\d.]+) \| ([\d.]+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| (\d+) \|/m
	  && $1 > 0 && $4 > 0 && $7 > 0,
	'save table has throughput for snapshot_ops, report and ceiling');

# results.tsv: the raw figures the report is made from.
my %r;
for my $line (split /\n/, slurp_file("$out/data/results.tsv"))
{
	my ($sec, $var, $scale, $clients, $metric, $value) = split /\t/, $line;
	$r{"$sec/$var/$scale/$clients/$metric"} = $value;
}
for my $v ('snapshot_ops', 'report', 'ceiling')
{
	cmp_ok($r{"save/$v/1k/2/tps"} // 0, '>', 0, "save tps of $v is measured");
	is($r{"save/$v/1k/2/errors"}, 0, "save through $v raised no error");
}
cmp_ok($r{"load/snapshot_ops/1k/2/tps"} // 0, '>', 0, 'load tps is measured');
is($r{"load/snapshot_ops/1k/2/errors"}, 0, 'load_snapshot raised no error');
is($r{"load/report/1k/2/errors"}, 0, 'the report load path raised no error');

# Both retention methods delete exactly the expired snapshots.
my $expired = $r{'retention/info/-/-/expired_snapshots'};
cmp_ok($expired // 0, '>', 0, 'the retention data set has expired snapshots');
is($r{'retention/run_cleanup/-/-/deleted_snapshots'}, $expired,
	'run_cleanup deletes every expired snapshot');
is($r{'retention/big_delete/-/-/deleted_snapshots'}, $expired,
	'the big DELETE deletes the same snapshots');

cmp_ok($r{'soak/bench_soak/-/-/saves'} // 0, '>', 0, 'the soak saved snapshots');
like($r{'memory/snapshot_ops/-/-/context_bytes_last'} // '', qr/^\d+$/,
	'backend memory is measured');

for my $png ('save_tps', 'save_p99', 'load_tps', 'probes', 'retention',
	'soak_sizes', 'memory')
{
	my $f = "$out/$png.png";
	my $sig = '';
	if (open my $fh, '<:raw', $f)
	{
		read $fh, $sig, 8;
		close $fh;
	}
	is($sig, "\x89PNG\r\n\x1a\n", "$png.png is a PNG");
}

done_testing();
