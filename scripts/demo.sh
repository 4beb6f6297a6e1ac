#!/bin/bash
#
# demo.sh: the main job, from a fresh Debian 12 machine.
#
#   sudo bash scripts/demo.sh          # build, install, run the tour, stop
#   sudo KEEP=1 bash scripts/demo.sh   # leave the demo server running
#   sudo bash scripts/demo.sh stop     # stop a server left running
#
# Builds and installs snapshot_ops, starts a PostgreSQL 15 cluster in ./demo
# (owned by the postgres user, unix socket only, port 55432) with the library
# preloaded, creates the extension, and shows it at work: saves and loads
# state snapshots, retention, the perf probe, table statistics, the storage
# projection, and a VACUUM ANALYZE run by the background worker.
#
set -eu

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${DEMO_PORT:-55432}
DIR="$SRC/demo"

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: run as root (it installs packages and the extension; the server runs as postgres)" >&2
	exit 2
fi

"$SRC/scripts/install-deps.sh"
PGBIN=$(pg_config --bindir)

# The postgres user must reach the cluster directory; a clone under a
# private home directory cannot be, so fall back to /var/tmp then.
mkdir -p "$DIR"
chown postgres:postgres "$DIR"
if ! su postgres -s /bin/sh -c "test -w '$DIR'"; then
	DIR=/var/tmp/snapshot_ops-demo
	mkdir -p "$DIR" && chown postgres:postgres "$DIR"
	echo "note: $SRC is not reachable by the postgres user; the demo cluster lives in $DIR"
fi
DATA="$DIR/data"

pgctl() { su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D '$DATA' $*"; }

if [ "${1:-}" = stop ]; then
	pgctl -m fast stop
	exit 0
fi

echo "== build and install"
(cd "$SRC" && make -s && make -s install) >/dev/null
echo "installed $(pg_config --pkglibdir)/snapshot_ops.so and the extension files"

echo "== cluster in $DATA (port $PORT, socket in $DIR)"
if [ -f "$DATA/postmaster.pid" ]; then
	pgctl -m fast stop >/dev/null 2>&1 || true
fi
rm -rf "$DATA"
su postgres -s /bin/sh -c "$PGBIN/initdb -D '$DATA' -A trust -U postgres" >/dev/null
cat >>"$DATA/postgresql.conf" <<EOF
listen_addresses = ''
port = $PORT
unix_socket_directories = '$DIR'
shared_preload_libraries = 'snapshot_ops'
snapshot_ops.retention_period = '30 days'
EOF
pgctl -l "'$DIR/server.log'" -w start >/dev/null
[ "${KEEP:-0}" = 1 ] || trap 'pgctl -m fast stop >/dev/null 2>&1' EXIT

run() {
	su postgres -s /bin/sh -c "$PGBIN/psql -X -q -h '$DIR' -p $PORT -d postgres -v ON_ERROR_STOP=1 --pset=pager=off"
}

run <<'SQL'
\echo == CREATE EXTENSION snapshot_ops
CREATE EXTENSION snapshot_ops;
SELECT extname, extversion, extnamespace::regnamespace AS schema FROM pg_extension WHERE extname = 'snapshot_ops';

\echo == save_snapshot: three sessions of a trading engine, twelve state documents
SELECT count(*) AS snapshots_saved, min(id) AS first_id, max(id) AS last_id
  FROM (SELECT save_snapshot(jsonb_build_object(
	'session', jsonb_build_object(
		'session_id', 'session_' || s, 'start_time', 1764000000 + s * 3600,
		'mode', 'paper', 'paper_campaign_id', 'campaign_7',
		'config', jsonb_build_object('symbols', jsonb_build_array('BTC', 'ETH'), 'leverage', 3),
		'loop_count', l, 'status', CASE WHEN s = 3 AND l = 4 THEN 'stopped' ELSE 'running' END),
	'positions', jsonb_build_object('active_orders', jsonb_build_object(
		'BTC', jsonb_build_object('trade', jsonb_build_object('symbol', 'BTC', 'side', 'long', 'qty', 0.5, 'entry', 67000 + l),
								  'order_a', jsonb_build_object('id', 'a' || l, 'price', 67000 + l),
								  'order_b', jsonb_build_object('id', 'b' || l, 'price', 66950 + l),
								  'position_open_time', 1764000100 + l),
		'ETH', jsonb_build_object('trade', jsonb_build_object('symbol', 'ETH', 'side', 'short', 'qty', 4, 'entry', 3500),
								  'order_a', jsonb_build_object('id', 'c' || l, 'price', 3500),
								  'order_b', jsonb_build_object('id', 'd' || l, 'price', 3520),
								  'position_open_time', 1764000200 + l))),
	'metrics', jsonb_build_object(
		'total_trades_opened', 10 + l, 'total_trades_closed', 8 + l, 'total_winning_trades', 5,
		'total_pnl_usd', 152.25 + l, 'max_dd_usd', 40.5, 'portfolio_initial_capital', 10000,
		'portfolio_equity', 10152.25 + l,
		'per_symbol_pnl', jsonb_build_object('BTC', 120.25, 'ETH', 32),
		'per_symbol_trades_opened', jsonb_build_object('BTC', 6, 'ETH', 4 + l),
		'per_symbol_trades_closed', jsonb_build_object('BTC', 5, 'ETH', 3 + l),
		'per_symbol_winning_trades', jsonb_build_object('BTC', 3, 'ETH', 2)),
	'risk_guard', jsonb_build_object(
		'session_start_time', 1764000000 + s * 3600, 'daily_loss_usd', 12.5,
		'per_symbol_loss', jsonb_build_object('ETH', 12.5),
		'per_symbol_trades_rejected', jsonb_build_object('ETH', 1),
		'per_symbol_trades_allowed', jsonb_build_object('BTC', 6, 'ETH', 4),
		'per_symbol_capital_used', jsonb_build_object('BTC', 33500, 'ETH', 14000),
		'per_symbol_position_count', jsonb_build_object('BTC', 1, 'ETH', 1))),
	CASE WHEN l = 1 THEN 'initial' WHEN s = 3 AND l = 4 THEN 'on_stop' ELSE 'periodic' END) AS id
	FROM generate_series(1, 3) s, generate_series(1, 4) l
	ORDER BY s, l) saved;

\echo == load_snapshot for session_2: what the engine resumes from
SELECT jsonb_pretty(load_snapshot('session_2'));

\echo == a malformed document is refused and nothing is written
\set ON_ERROR_STOP 0
SELECT save_snapshot('{"session": {"session_id": "bad", "loop_count": -1}}');
\set ON_ERROR_STOP 1
SELECT count(*) AS snapshots_after_bad_input FROM session_snapshots;

\echo == the views
SELECT session_id, status, loop_count, created_at FROM v_latest_snapshots;
SELECT session_id, status, total_pnl_usd, portfolio_equity, daily_loss_usd, active_positions FROM v_latest_snapshot_details;

\echo == retention: age some snapshots by 40 days, then clean up
UPDATE session_snapshots SET created_at = created_at - interval '40 days'
 WHERE session_id IN ('session_1', 'session_3');
SELECT * FROM cleanup_old_snapshots('30 days', '{stopped,crashed,running}', dry_run => true);
SELECT * FROM cleanup_old_snapshots_30d();
\echo the literal report rule keeps old running snapshots; the bounded mode removes them but keeps
\echo the latest snapshot of every running session, so that it can always resume:
CALL snapshot_ops.run_cleanup();
SELECT session_id, count(*) AS snapshots_left FROM session_snapshots GROUP BY 1 ORDER BY 1;

\echo == perf probe (20 iterations)
SELECT * FROM test_query_performance('session_2', 20);

\echo == storage projection (100 snapshots a day, 10 positions, 30 days)
SELECT * FROM snapshot_storage_projection(100, 10, 30);

\echo == the background worker
SELECT * FROM snapshot_ops.worker_status();
\echo vacuum_snapshot_tables(): the worker runs VACUUM ANALYZE as top-level commands
SELECT vacuum_snapshot_tables();
SELECT relname, last_vacuum IS NOT NULL AS vacuumed, last_analyze IS NOT NULL AS analyzed
  FROM pg_stat_user_tables WHERE relname LIKE '%snapshots' ORDER BY 1;
SELECT job, trigger, status, rows_affected, message FROM snapshot_ops.job_runs ORDER BY run_id;
SELECT * FROM snapshot_ops.jobs;
\echo the GIN indexes: keys that no longer belong to any row (the vacuum job rebuilds an index past snapshot_ops.gin_rebuild_threshold)
SELECT index_name, index_bytes, entries, empty_entries, round(empty_fraction::numeric, 3) AS empty_fraction, rebuild_due
  FROM snapshot_ops.gin_index_bloat();

\echo == table statistics
SELECT * FROM get_snapshot_table_stats();
SQL

echo
if [ "${KEEP:-0}" = 1 ]; then
	echo "the demo server is running: psql -h '$DIR' -p $PORT -U postgres postgres"
	echo "stop it with: sudo bash scripts/demo.sh stop"
else
	echo "demo finished; the server is stopped (KEEP=1 leaves it running)"
fi
