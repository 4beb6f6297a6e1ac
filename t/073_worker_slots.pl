# Copyright (c) 2026, snapshot_ops developers
#
# t/073_worker_slots.pl: when background worker slots run out, the
# databases left without a worker say why, with the arithmetic, and the
# log says it once per change, not at every retry.
#
# max_worker_processes = 3: the logical replication launcher, the
# snapshot_ops launcher and one snapshot_ops worker.  Three databases have
# the extension: one gets the worker, two wait.  Then the same with
# snapshot_ops.max_workers = 1 and enough background worker slots.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('slots');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
max_worker_processes = 3
max_parallel_workers = 0
snapshot_ops.enable_scheduler = off
});
$node->start;

foreach my $db ('app1', 'app2', 'app3')
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION snapshot_ops');
}
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'snapshot_ops worker'}),
	'one database gets the one worker the slots allow');
my $served = $node->safe_psql('postgres', q{
	SELECT datname FROM pg_stat_activity WHERE backend_type = 'snapshot_ops worker'});
my @starved = grep { $_ ne $served } ('app1', 'app2', 'app3');
is(scalar(@starved), 2, "$served is served, @starved wait");

foreach my $db (@starved)
{
	ok( $node->poll_query_until($db, q{SELECT state = 'waiting for a slot' FROM snapshot_ops.worker_status()}),
		"$db: worker_status() says it waits for a slot");
	my $reason = $node->safe_psql($db, q{SELECT reason FROM snapshot_ops.worker_status()});
	like($reason,
		qr/^No background worker slot is free: max_worker_processes is 3, of which snapshot_ops uses 2 \(its launcher and 1 worker\) and other background workers 1, and 2 databases wait to be looked at by a worker\. Each waiting database that has snapshot_ops installed needs one more: raise max_worker_processes \(needs a restart\) to at most 5;/,
		"$db: the reason gives the max_worker_processes arithmetic");
	my ($ret, $out, $err) = $node->psql($db, q{SELECT snapshot_ops.run_job('vacuum')});
	like($err, qr/no snapshot_ops worker is running in database "$db".*DETAIL:\s+No background worker slot is free: max_worker_processes is 3/s,
		"$db: run_job() fails with the same reason");
}

# the launcher keeps retrying every 10 s; the log says it once per change
my $log_offset = -s $node->logfile;
sleep 25;
my $log = slurp_file($node->logfile, $log_offset);
my $repeats = () = $log =~ /no background worker slot is free/g;
is($repeats, 0, 'no repeated warning while nothing changes (25 s, two retries)');
$log = slurp_file($node->logfile);
my $total = () = $log =~ /could not start the snapshot_ops worker for database "\w+": no background worker slot is free/g;
cmp_ok($total, '<=', 2, "the shortage was logged once per change ($total)");

# the served database's worker goes away: one waiting database gets the slot
$node->safe_psql($served, 'DROP EXTENSION snapshot_ops');
ok( $node->poll_query_until('postgres', qq{
		SELECT count(*) = 1 FROM pg_stat_activity
		 WHERE backend_type = 'snapshot_ops worker' AND datname <> '$served'}),
	'a freed slot goes to a waiting database');

# --- snapshot_ops.max_workers -----------------------------------------------
$node->safe_psql($served, 'CREATE EXTENSION snapshot_ops');
$node->append_conf('postgresql.conf', qq{
max_worker_processes = 8
snapshot_ops.max_workers = 1
});
$node->restart;
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'snapshot_ops worker'}),
	'snapshot_ops.max_workers = 1: one worker');
$served = $node->safe_psql('postgres', q{
	SELECT datname FROM pg_stat_activity WHERE backend_type = 'snapshot_ops worker'});
@starved = grep { $_ ne $served } ('app1', 'app2', 'app3');
foreach my $db (@starved)
{
	ok( $node->poll_query_until($db, q{SELECT state = 'waiting for a slot' FROM snapshot_ops.worker_status()}),
		"$db: waits for a slot");
	like($node->safe_psql($db, q{SELECT reason FROM snapshot_ops.worker_status()}),
		qr/^All 1 slot of snapshot_ops.max_workers is used by other databases\. Raise snapshot_ops.max_workers/,
		"$db: the reason names snapshot_ops.max_workers");
}

$node->stop;
done_testing();
