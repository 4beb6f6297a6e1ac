# pg_dump / pg_restore of a database that uses snapshot_ops keeps every row,
# and keys handed out after the restore do not collide with restored ones.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'snapshot_ops'");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', q{
	CREATE SCHEMA trading;
	CREATE EXTENSION snapshot_ops SCHEMA trading;
	INSERT INTO trading.session_snapshots (session_id, status, loop_count, config, created_at)
	SELECT 'sess_' || (g % 7), (ARRAY['running', 'stopped', 'crashed'])[1 + g % 3], g,
		   jsonb_build_object('n', g), now() - g * interval '1 hour'
	  FROM generate_series(1, 200) g;
	INSERT INTO trading.position_snapshots (snapshot_id, position_key, trade_data)
	SELECT s.snapshot_id, 'SYM' || k, jsonb_build_object('symbol', 'SYM' || k, 'qty', k)
	  FROM trading.session_snapshots s, generate_series(1, 5) k;
	INSERT INTO trading.metrics_snapshots (snapshot_id, total_trades_opened, total_pnl_usd)
	SELECT snapshot_id, loop_count, loop_count * 1.5 FROM trading.session_snapshots;
	INSERT INTO trading.risk_guard_snapshots (snapshot_id, daily_loss_usd)
	SELECT snapshot_id, loop_count / 10.0 FROM trading.session_snapshots;
	-- keys are not dense after deletes: the restored sequence must follow
	-- the sequence, not max(snapshot_id)
	DELETE FROM trading.session_snapshots WHERE snapshot_id > 190;
});

my $counts_sql = q{
	SELECT (SELECT count(*) FROM trading.session_snapshots) || ',' ||
		   (SELECT count(*) FROM trading.position_snapshots) || ',' ||
		   (SELECT count(*) FROM trading.metrics_snapshots) || ',' ||
		   (SELECT count(*) FROM trading.risk_guard_snapshots) || ',' ||
		   (SELECT md5(string_agg(s::text, '|' ORDER BY snapshot_id)) FROM trading.session_snapshots s) || ',' ||
		   (SELECT md5(string_agg(p::text, '|' ORDER BY snapshot_id, position_key)) FROM trading.position_snapshots p)
};
my $before = $node->safe_psql('app', $counts_sql);
like($before, qr/^190,950,190,190,/, 'source database holds the sample rows');

my $dump = $node->basedir . '/app.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('app'), '-f', $dump ], 'pg_dump -Fc');

$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
	'pg_restore into a new database');

is($node->safe_psql('restored', $counts_sql), $before, 'every row of all four tables restored');

is($node->safe_psql('restored', q{
	SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = 'trading.session_snapshots'::regclass}),
	'autovacuum_vacuum_scale_factor=0.05,autovacuum_analyze_scale_factor=0.02,autovacuum_vacuum_cost_delay=10',
	'autovacuum settings present after restore');

my $new_id = $node->safe_psql('restored',
	q{INSERT INTO trading.session_snapshots (session_id) VALUES ('after_restore') RETURNING snapshot_id});
cmp_ok($new_id, '>', 200, 'a key handed out after the restore follows every key used before the dump');

is($node->safe_psql('restored', q{SELECT count(*) FROM trading.v_latest_snapshots}), '8',
	'views work in the restored database');

# a plain-format dump restored with psql, as the backup tool does
my $plain = $node->basedir . '/app.sql';
$node->command_ok([ 'pg_dump', '-d', $node->connstr('app'), '-f', $plain ], 'pg_dump plain format');
$node->safe_psql('postgres', 'CREATE DATABASE restored_plain');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction',
	'-d', $node->connstr('restored_plain'), '-f', $plain ], 'plain dump restores with ON_ERROR_STOP');
is($node->safe_psql('restored_plain', $counts_sql), $before, 'plain restore keeps every row');

$node->stop;
done_testing();
