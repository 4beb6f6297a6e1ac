# Copyright (c) 2026, snapshot_ops developers
#
# t/020_upgrade.pl: the upgrade path from 1.0.
#
# Database "upgraded" is created at version 1.0, holds data and the grants
# of grant_access(), and is updated with ALTER EXTENSION snapshot_ops
# UPDATE; database "fresh" gets the default version and the same grants.
# Everything the extension owns must then be identical in both, compared
# with catalog queries (pg_dump does not print extension members).  Also:
# the released 1.0 script is unchanged, the library serves a 1.0 database
# (saves, loads, the worker's jobs) until it is updated, data saved under
# 1.0 loads under 1.1, and a dump of a 1.0 database restores into a server
# whose default is 1.1 with every row.
use strict;
use warnings;

use Digest::SHA;
use File::Basename qw(dirname);
use File::Spec;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = File::Spec->rel2abs(dirname(__FILE__) . '/..');

# --- the released 1.0 script is frozen -----------------------------------
my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
my %released;
open(my $sums, '<', "$root/sql/released.sha256") or die "sql/released.sha256: $!";
while (<$sums>)
{
	$released{$2} = $1 if /^([0-9a-f]{64})\s+\*?(\S+)$/;
}
close $sums;
ok(exists $released{'snapshot_ops--1.0.sql'}, 'sql/released.sha256 records the 1.0 install script');
foreach my $script (sort keys %released)
{
	my $file = "$sharedir/extension/$script";
	ok(-f $file, "$script is installed");
	is(Digest::SHA->new(256)->addfile($file)->hexdigest, $released{$script},
		"installed $script is byte for byte the released one");
}

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'snapshot_ops'
snapshot_ops.vacuum_lock_timeout = '2s'
});
$node->start;

is($node->safe_psql('postgres',
		q{SELECT default_version FROM pg_available_extensions WHERE name = 'snapshot_ops'}),
	'1.1', 'the default version is 1.1');
is($node->safe_psql('postgres', q{
	SELECT string_agg(version, ',' ORDER BY version)
	  FROM pg_available_extension_versions WHERE name = 'snapshot_ops'}),
	'1.0,1.1', 'versions 1.0 and 1.1 can be installed');

$node->safe_psql('postgres', q{
	CREATE ROLE so_reader; CREATE ROLE so_writer; CREATE ROLE so_admin;
	CREATE DATABASE upgraded; CREATE DATABASE fresh; CREATE DATABASE restored;
});

my $doc = q{'{"session": {"session_id": "s1", "start_time": 1764000000.5, "mode": "paper",
	"paper_campaign_id": "c1", "config": {"a": [1, 2, {"b": null}]}, "loop_count": 42, "status": "running"},
	"positions": {"active_orders": {"BTC-USD": {"trade": {"symbol": "BTC", "qty": 0.5},
		"order_a": {"id": "a1"}, "order_b": null, "position_open_time": 1764000100}}},
	"metrics": {"total_trades_opened": 3, "total_pnl_usd": 12.75, "per_symbol_pnl": {"BTC": 12.75}},
	"risk_guard": {"daily_loss_usd": 1.5, "per_symbol_trades_rejected": {"ETH": 2}}}'};

# --- version 1.0 under the new library ---------------------------------------
$node->safe_psql('upgraded', q{
	CREATE SCHEMA trading;
	CREATE EXTENSION snapshot_ops VERSION '1.0' SCHEMA trading;
	SELECT count(*) FROM snapshot_ops.grant_access('so_reader', 'reader');
	SELECT count(*) FROM snapshot_ops.grant_access('so_writer', 'writer');
	SELECT count(*) FROM snapshot_ops.grant_access('so_admin', 'admin');
	-- expired snapshots for the cleanup before and after the update
	INSERT INTO trading.session_snapshots (session_id, status, created_at)
	SELECT 'old' || g, 'stopped', now() - interval '40 days' FROM generate_series(1, 20) g;
	INSERT INTO trading.metrics_snapshots (snapshot_id) SELECT snapshot_id FROM trading.session_snapshots;
	INSERT INTO trading.risk_guard_snapshots (snapshot_id) SELECT snapshot_id FROM trading.session_snapshots;
});
is($node->safe_psql('upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'snapshot_ops'}),
	'1.0', 'database "upgraded" runs version 1.0');
my $id10 = $node->safe_psql('upgraded', "SELECT trading.save_snapshot($doc, 'initial')");
like($id10, qr/^\d+$/, 'the new library saves into a 1.0 database');
my $loaded10 = $node->safe_psql('upgraded',
	"SELECT trading.load_snapshot('s1') - 'created_at' - 'snapshot_id'");
like($loaded10, qr/"loop_count": 42/, 'and loads from it');

ok($node->poll_query_until('upgraded', q{SELECT running FROM snapshot_ops.worker_status()}),
	'the worker runs in the 1.0 database');
is($node->safe_psql('upgraded', q{SELECT count(*) FROM snapshot_ops.worker_status()}), '1',
	"the 1.0 worker_status() is served by the new library");
is($node->safe_psql('upgraded', q{SELECT count(*) FROM snapshot_ops.jobs WHERE next_run IS NOT NULL}), '2',
	'the 1.0 jobs view is served by the new library');
like($node->safe_psql('upgraded', q{SELECT trading.vacuum_snapshot_tables()}),
	qr/^VACUUM ANALYZE completed for 4 tables/, 'the worker vacuums the 1.0 database');
my $run = $node->safe_psql('upgraded', q{SELECT snapshot_ops.run_job('cleanup', true)});
is($node->safe_psql('upgraded', qq{SELECT status, rows_affected FROM snapshot_ops.job_runs WHERE run_id = $run}),
	'succeeded|20', 'the worker cleans up the 1.0 database');

# a dump of the 1.0 database, for the restore into the 1.1 default below
$node->safe_psql('upgraded', q{
	INSERT INTO trading.session_snapshots (session_id, status)
	SELECT 'keep' || g, 'running' FROM generate_series(1, 30) g;
	INSERT INTO trading.position_snapshots (snapshot_id, position_key, trade_data)
	SELECT snapshot_id, 'K' || k, jsonb_build_object('symbol', 'K' || k)
	  FROM trading.session_snapshots, generate_series(1, 3) k WHERE session_id LIKE 'keep%';
	INSERT INTO trading.metrics_snapshots (snapshot_id)
	SELECT snapshot_id FROM trading.session_snapshots WHERE session_id LIKE 'keep%';
	INSERT INTO trading.risk_guard_snapshots (snapshot_id)
	SELECT snapshot_id FROM trading.session_snapshots WHERE session_id LIKE 'keep%';
});
my $rows_sql = q{
	SELECT (SELECT count(*) FROM trading.session_snapshots) || ',' ||
		   (SELECT count(*) FROM trading.position_snapshots) || ',' ||
		   (SELECT count(*) FROM trading.metrics_snapshots) || ',' ||
		   (SELECT count(*) FROM trading.risk_guard_snapshots) || ',' ||
		   (SELECT md5(string_agg(s::text, '|' ORDER BY snapshot_id)) FROM trading.session_snapshots s) || ',' ||
		   (SELECT md5(string_agg(p::text, '|' ORDER BY snapshot_id, position_key)) FROM trading.position_snapshots p)};
my $rows10 = $node->safe_psql('upgraded', $rows_sql);
like($rows10, qr/^31,91,31,31,/, 'the 1.0 database holds the sample rows');
my $dump = $node->basedir . '/upgraded-1.0.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('upgraded'), '-f', $dump ],
	'pg_dump of the 1.0 database');

# --- the update ---------------------------------------------------------------
$node->safe_psql('upgraded', 'ALTER EXTENSION snapshot_ops UPDATE');
is($node->safe_psql('upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'snapshot_ops'}),
	'1.1', 'ALTER EXTENSION snapshot_ops UPDATE moves to 1.1');
is($node->safe_psql('upgraded', "SELECT trading.load_snapshot_by_id($id10) - 'created_at' - 'snapshot_id'"),
	$loaded10, 'a snapshot saved under 1.0 loads the same under 1.1');

ok($node->poll_query_until('upgraded', q{SELECT running AND sql_version = '1.1' FROM snapshot_ops.worker_status()}),
	'the worker restarts to serve version 1.1 after the update');
like($node->safe_psql('upgraded', q{SELECT trading.vacuum_snapshot_tables()}),
	qr/^VACUUM ANALYZE completed for 4 tables/, 'the worker vacuums after the update');
$node->safe_psql('upgraded', q{
	INSERT INTO trading.session_snapshots (session_id, status, created_at)
	SELECT 'old2_' || g, 'crashed', now() - interval '40 days' FROM generate_series(1, 5) g});
$run = $node->safe_psql('upgraded', q{SELECT snapshot_ops.run_job('cleanup', true)});
is($node->safe_psql('upgraded', qq{SELECT status, rows_affected FROM snapshot_ops.job_runs WHERE run_id = $run}),
	'succeeded|5', 'the worker cleans up after the update');

# --- the same grants on a fresh install of the default version ----------------
$node->safe_psql('fresh', q{
	CREATE SCHEMA trading;
	CREATE EXTENSION snapshot_ops SCHEMA trading;
	SELECT count(*) FROM snapshot_ops.grant_access('so_reader', 'reader');
	SELECT count(*) FROM snapshot_ops.grant_access('so_writer', 'writer');
	SELECT count(*) FROM snapshot_ops.grant_access('so_admin', 'admin');
});

# Everything the extension owns, one line per fact, with no OIDs that
# differ between databases (role OIDs are cluster-wide and the same).
my %catalog = (
	'extension' => q{
		SELECT e.extname || ' ' || e.extversion || ' schema ' || n.nspname || ' relocatable '
			   || e.extrelocatable || ' owner ' || e.extowner::regrole
		  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		 WHERE e.extname = 'snapshot_ops'},
	'members' => q{
		SELECT pg_describe_object(d.classid, d.objid, d.objsubid)
		  FROM pg_depend d
		 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
		   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops')
		 ORDER BY 1},
	'dump registrations' => q{
		SELECT c::regclass::text || ' ' || coalesce(nullif(f, ''), '(all rows)')
		  FROM pg_extension e,
			   unnest(e.extconfig, coalesce(e.extcondition, array_fill(''::text, ARRAY[cardinality(e.extconfig)]))) AS u(c, f)
		 WHERE e.extname = 'snapshot_ops'
		 ORDER BY 1},
	'columns and defaults' => q{
		SELECT c.oid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
			   || ' notnull=' || a.attnotnull || ' identity=' || a.attidentity::text
			   || ' generated=' || a.attgenerated::text || ' collation=' || a.attcollation::regcollation
			   || ' default=' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '-')
			   || ' comment=' || coalesce(col_description(c.oid, a.attnum), '-')
		  FROM pg_class c
		  JOIN pg_namespace n ON n.oid = c.relnamespace
		  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		  LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
		 WHERE n.nspname IN ('trading', 'snapshot_ops') AND c.relkind IN ('r', 'v', 'p', 'm')
		 ORDER BY c.oid::regclass::text, a.attnum},
	'constraints' => q{
		SELECT conrelid::regclass || ' ' || conname || ' ' || contype::text || ' '
			   || coalesce(pg_get_constraintdef(oid), '') || ' deferrable=' || condeferrable
			   || ' deferred=' || condeferred || ' valid=' || convalidated
		  FROM pg_constraint
		 WHERE connamespace IN ('trading'::regnamespace, 'snapshot_ops'::regnamespace)
		 ORDER BY 1},
	'indexes' => q{
		SELECT pg_get_indexdef(i.indexrelid) || ' valid=' || i.indisvalid
		  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		 WHERE c.relnamespace IN ('trading'::regnamespace, 'snapshot_ops'::regnamespace)
		 ORDER BY 1},
	'triggers' => q{
		SELECT t.tgrelid::regclass || ' '
			   || CASE WHEN t.tgisinternal THEN 'internal ' || t.tgfoid::regproc || ' type ' || t.tgtype
					   ELSE pg_get_triggerdef(t.oid) END
			   || ' enabled=' || t.tgenabled::text
		  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		 WHERE c.relnamespace IN ('trading'::regnamespace, 'snapshot_ops'::regnamespace)
		 ORDER BY 1},
	'relations' => q{
		SELECT c.oid::regclass || ' kind=' || c.relkind::text || ' owner=' || c.relowner::regrole
			   || ' options=' || coalesce(array_to_string(c.reloptions, ','), '-')
			   || ' acl=' || coalesce(c.relacl::text, '-')
			   || ' rls=' || c.relrowsecurity
			   || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '-')
		  FROM pg_class c
		 WHERE c.relnamespace IN ('trading'::regnamespace, 'snapshot_ops'::regnamespace)
		 ORDER BY 1},
	'sequences' => q{
		SELECT s.seqrelid::regclass || ' ' || format_type(s.seqtypid, NULL) || ' start=' || s.seqstart
			   || ' inc=' || s.seqincrement || ' min=' || s.seqmin || ' max=' || s.seqmax
			   || ' cache=' || s.seqcache || ' cycle=' || s.seqcycle
		  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
		 WHERE c.relnamespace IN ('trading'::regnamespace, 'snapshot_ops'::regnamespace)
		 ORDER BY 1},
	'views' => q{
		SELECT c.oid::regclass || E'\n' || pg_get_viewdef(c.oid)
		  FROM pg_class c
		 WHERE c.relkind = 'v'
		   AND c.relnamespace IN ('trading'::regnamespace, 'snapshot_ops'::regnamespace)
		 ORDER BY 1},
	'routines' => q{
		SELECT pg_get_functiondef(p.oid) || E'\nacl=' || coalesce(p.proacl::text, '-')
			   || ' comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
			   || ' owner=' || p.proowner::regrole
		  FROM pg_proc p
		 WHERE p.pronamespace IN ('trading'::regnamespace, 'snapshot_ops'::regnamespace)
		 ORDER BY p.oid::regprocedure::text},
	'schemas' => q{
		SELECT n.nspname || ' owner=' || n.nspowner::regrole || ' acl=' || coalesce(n.nspacl::text, '-')
			   || ' comment=' || coalesce(obj_description(n.oid, 'pg_namespace'), '-')
		  FROM pg_namespace n WHERE n.nspname IN ('trading', 'snapshot_ops')
		 ORDER BY 1},
	'initial privileges' => q{
		SELECT pg_describe_object(i.classoid, i.objoid, i.objsubid) || ' ' || i.privtype::text
			   || ' ' || i.initprivs::text
		  FROM pg_init_privs i
		  JOIN pg_depend d ON d.classid = i.classoid AND d.objid = i.objoid
		   AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
		   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops')
		 ORDER BY 1},
	'policies and rules' => q{
		SELECT 'policy ' || polrelid::regclass || ' ' || polname FROM pg_policy
		 WHERE polrelid IN (SELECT oid FROM pg_class
							 WHERE relnamespace IN ('trading'::regnamespace, 'snapshot_ops'::regnamespace))
		UNION ALL
		SELECT 'rule ' || ev_class::regclass || ' ' || rulename FROM pg_rewrite
		 WHERE rulename <> '_RETURN'
		   AND ev_class IN (SELECT oid FROM pg_class
							 WHERE relnamespace IN ('trading'::regnamespace, 'snapshot_ops'::regnamespace))
		 ORDER BY 1},
	'access levels' => q{
		SELECT level || ' ' || schema_kind || ' ' || function_name
		  FROM snapshot_ops.access_level_functions ORDER BY 1},
);

foreach my $what (sort keys %catalog)
{
	my $a = $node->safe_psql('upgraded', $catalog{$what});
	my $b = $node->safe_psql('fresh', $catalog{$what});
	ok(length($b) > 0, "fresh install has $what") unless $what eq 'policies and rules';
	if ($a eq $b)
	{
		pass("updated and fresh databases have the same $what");
	}
	else
	{
		my @a = split /\n/, $a;
		my @b = split /\n/, $b;
		my %in_b = map { $_ => 1 } @b;
		my %in_a = map { $_ => 1 } @a;
		fail("updated and fresh databases have the same $what");
		diag("only after the update: $_") foreach grep { !$in_b{$_} } @a;
		diag("only in a fresh install: $_") foreach grep { !$in_a{$_} } @b;
	}
}

# the levels work after the update as after a fresh install
foreach my $db ('upgraded', 'fresh')
{
	is( $node->safe_psql($db, q{
			SET ROLE so_admin;
			SELECT (SELECT count(*) FROM snapshot_ops.jobs) || ',' ||
				   ((SELECT count(*) FROM trading.v_latest_snapshots) >= 0)}),
		'2,true', "$db: the admin level reads the jobs view and the views");
	my ($ret, $out, $err) = $node->psql($db, q{SET ROLE so_reader; SELECT trading.save_snapshot('{"session": {"session_id": "x"}}')});
	like($err, qr/permission denied for function save_snapshot/, "$db: the reader level may not save");
}

# --- a 1.0 dump restored where the default is 1.1 -------------------------
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
	'pg_restore of the 1.0 dump into a new database');
is($node->safe_psql('restored', q{SELECT extversion FROM pg_extension WHERE extname = 'snapshot_ops'}),
	'1.1', 'the restored database runs the default version');
is($node->safe_psql('restored', $rows_sql), $rows10, 'every row of the 1.0 dump is restored');
my $next = $node->safe_psql('restored', "SELECT trading.save_snapshot($doc)");
my $max = $node->safe_psql('upgraded', q{SELECT max(snapshot_id) FROM trading.session_snapshots});
cmp_ok($next, '>', $max, 'keys handed out after the restore follow the restored ones');

# --- what a DBA changed by hand survives the update ---------------------------
# The extension belongs to a superuser whose name needs quoting and another
# superuser runs the update.  Grants by hand on the objects 1.1 drops and
# creates again (worker_status(), job_schedules(), the jobs view) are kept:
# column privileges, grant options, and a grant made by a holder of a grant
# option, by that holder (so that REVOKE ... CASCADE still reaches it);
# PUBLIC's EXECUTE is not kept, with a WARNING.  An admin whose level a DBA
# narrowed (on an object the update keeps, or on one it creates again)
# gets nothing new and a WARNING.  New objects belong to the extension's
# owner.  An autovacuum setting a DBA changed is kept with a WARNING, one a
# DBA reset fails the update with the statement that fixes it (55000).
$node->safe_psql('postgres', q{
	CREATE ROLE "So Owner" SUPERUSER; CREATE ROLE so_monitor; CREATE ROLE so_narrow;
	CREATE ROLE so_narrow2; CREATE ROLE so_column; CREATE ROLE so_delegate; CREATE ROLE so_delegated;
	CREATE DATABASE handmade});
$node->safe_psql('handmade', q{
	SET ROLE "So Owner";
	CREATE EXTENSION snapshot_ops VERSION '1.0';
	RESET ROLE;
	SELECT count(*) FROM snapshot_ops.grant_access('so_admin', 'admin');
	SELECT count(*) FROM snapshot_ops.grant_access('so_narrow', 'admin');
	SELECT count(*) FROM snapshot_ops.grant_access('so_narrow2', 'admin');
	REVOKE EXECUTE ON FUNCTION snapshot_ops.run_job(text, boolean) FROM so_narrow;
	REVOKE EXECUTE ON FUNCTION snapshot_ops.worker_status() FROM so_narrow2;
	GRANT SELECT ON snapshot_ops.jobs TO so_monitor;
	GRANT EXECUTE ON FUNCTION snapshot_ops.worker_status() TO so_monitor WITH GRANT OPTION;
	GRANT EXECUTE ON FUNCTION snapshot_ops.job_schedules() TO so_monitor;
	GRANT EXECUTE ON FUNCTION snapshot_ops.worker_status() TO PUBLIC;
	GRANT SELECT (job, next_run) ON snapshot_ops.jobs TO so_column;
	GRANT USAGE ON SCHEMA snapshot_ops TO so_delegate;
	GRANT EXECUTE ON FUNCTION snapshot_ops.worker_status() TO so_delegate WITH GRANT OPTION;
	SET ROLE so_delegate;
	GRANT EXECUTE ON FUNCTION snapshot_ops.worker_status() TO so_delegated;
	RESET ROLE;
	ALTER TABLE session_snapshots RESET (autovacuum_vacuum_cost_delay);
});
my ($ret, $out, $err) = $node->psql('handmade', 'ALTER EXTENSION snapshot_ops UPDATE',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'the update refuses a snapshot table whose autovacuum setting was reset');
like($err, qr/ERROR:  55000: the snapshot tables lack autovacuum settings of snapshot_ops/,
	'... with SQLSTATE 55000');
like($err, qr/HINT:  Run ALTER TABLE public\.session_snapshots SET \(autovacuum_vacuum_cost_delay=10\); then ALTER EXTENSION snapshot_ops UPDATE again\./,
	'... and a hint with the statement that fixes it');
is($node->safe_psql('handmade', q{SELECT extversion FROM pg_extension WHERE extname = 'snapshot_ops'}),
	'1.0', '... leaving the database at 1.0');

$node->safe_psql('handmade', q{ALTER TABLE session_snapshots SET (autovacuum_vacuum_cost_delay = 5)});
($ret, $out, $err) = $node->psql('handmade', 'ALTER EXTENSION snapshot_ops UPDATE');
is($ret, 0, 'the update runs as another superuser than the owner "So Owner" once the setting is back');
like($err, qr/WARNING:  table public\.session_snapshots has the storage parameter autovacuum_vacuum_cost_delay=5 instead of autovacuum_vacuum_cost_delay=10/,
	'a setting the DBA changed is kept, with a WARNING');
is($node->safe_psql('handmade', q{SELECT 'autovacuum_vacuum_cost_delay=5' = ANY (reloptions) FROM pg_class WHERE oid = 'session_snapshots'::regclass}),
	't', '... and stays as the DBA set it');
foreach my $r ('so_narrow', 'so_narrow2')
{
	like($err, qr/WARNING:  role "$r" holds access level "admin" of snapshot_ops only in part/,
		"an admin whose level was narrowed by hand is warned about ($r)");
}
like($err, qr/HINT:  To give it the whole level, run SELECT snapshot_ops\.grant_access\('so_narrow', 'admin'\)\./,
	'... with the call that gives the whole level');
unlike($err, qr/"so_admin"/, 'an admin holding the whole level is not warned about');
like($err, qr/WARNING:  the privilege EXECUTE on snapshot_ops\.worker_status\(\) to PUBLIC was not kept/,
	'PUBLIC\'s EXECUTE on a routine created again is not kept, with a WARNING');
is($node->safe_psql('handmade', q{
	SELECT string_agg(r || ':' || f || '=' || has_function_privilege(r, f, 'EXECUTE'), ' ' ORDER BY r, f)
	  FROM unnest(ARRAY['so_admin', 'so_narrow', 'so_narrow2']) r,
		   unnest(ARRAY['snapshot_ops.hold_retention(text)', 'snapshot_ops.run_job(text,boolean)',
						'snapshot_ops.worker_status()']) f}),
	'so_admin:snapshot_ops.hold_retention(text)=true so_admin:snapshot_ops.run_job(text,boolean)=true '
	. 'so_admin:snapshot_ops.worker_status()=true '
	. 'so_narrow:snapshot_ops.hold_retention(text)=false so_narrow:snapshot_ops.run_job(text,boolean)=false '
	. 'so_narrow:snapshot_ops.worker_status()=true '
	. 'so_narrow2:snapshot_ops.hold_retention(text)=false so_narrow2:snapshot_ops.run_job(text,boolean)=true '
	. 'so_narrow2:snapshot_ops.worker_status()=false',
	'the full admin gets the new functions; the narrowed ones keep what they had and get nothing new');
is($node->safe_psql('handmade', q{
	SELECT has_table_privilege('so_monitor', 'snapshot_ops.jobs', 'SELECT'),
		   has_function_privilege('so_monitor', 'snapshot_ops.worker_status()', 'EXECUTE WITH GRANT OPTION'),
		   has_function_privilege('so_monitor', 'snapshot_ops.job_schedules()', 'EXECUTE'),
		   has_function_privilege('so_monitor', 'snapshot_ops.run_job(text,boolean)', 'EXECUTE'),
		   has_column_privilege('so_column', 'snapshot_ops.jobs', 'next_run', 'SELECT'),
		   has_column_privilege('so_column', 'snapshot_ops.jobs', 'last_status', 'SELECT')}),
	't|t|t|f|t|f', 'grants by hand on the objects the update drops and creates again are kept: grant option, columns');
is($node->safe_psql('handmade', q{
	SELECT a.grantor::regrole FROM pg_proc p, aclexplode(p.proacl) a
	 WHERE p.oid = 'snapshot_ops.worker_status()'::regprocedure AND a.grantee = 'so_delegated'::regrole}),
	'so_delegate', 'a grant made by a holder of the grant option is made again by that holder');
$node->safe_psql('handmade', q{REVOKE EXECUTE ON FUNCTION snapshot_ops.worker_status() FROM so_delegate CASCADE});
is($node->safe_psql('handmade', q{SELECT has_function_privilege('so_delegated', 'snapshot_ops.worker_status()', 'EXECUTE')}),
	'f', '... so that REVOKE ... CASCADE still reaches it');
is($node->safe_psql('handmade', q{
	SELECT count(*) FROM pg_init_privs i
	 WHERE i.privtype = 'e' AND EXISTS (SELECT FROM aclexplode(i.initprivs) a
										 WHERE a.grantee IN ('so_monitor'::regrole, 'so_admin'::regrole,
															 'so_narrow'::regrole, 'so_column'::regrole,
															 'so_delegated'::regrole))}),
	'0', 'the kept and added grants are ordinary grants (pg_dump keeps them), not initial privileges');
is($node->safe_psql('handmade', q{
	SELECT string_agg(o, ', ' ORDER BY o) FROM (
		SELECT c.oid::regclass::text AS o FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
		 WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
		   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops')
		   AND c.relowner <> (SELECT extowner FROM pg_extension WHERE extname = 'snapshot_ops')
		UNION ALL
		SELECT p.oid::regprocedure::text FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
		 WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
		   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops')
		   AND p.proowner <> (SELECT extowner FROM pg_extension WHERE extname = 'snapshot_ops')) x}),
	'', 'every object belongs to the extension\'s owner after an update run by another superuser');
is($node->safe_psql('handmade', q{SELECT extowner::regrole FROM pg_extension WHERE extname = 'snapshot_ops'}),
	'"So Owner"', '... who is "So Owner"');
is($node->safe_psql('handmade', q{SELECT to_regclass('pg_temp.snapshot_ops_kept_privileges') IS NULL
	AND NOT EXISTS (SELECT FROM pg_class WHERE relname = 'snapshot_ops_kept_privileges')}),
	't', 'the update leaves no table of kept privileges behind');

$node->stop;
done_testing();
