#!/bin/sh
# bench/backup_bench.sh - snapshot_ops_backup against the same work done by hand
#
# Fills a database with 100k snapshots (1M positions, 100k metrics and risk
# rows) with generate_series, then times, in the same run:
#
#   backup:   snapshot_ops_backup backup            vs  pg_dump | gzip -6 > file
#   restore:  snapshot_ops_backup restore --create  vs  createdb && gunzip -c | psql --single-transaction
#   hashing:  snapshot_ops_backup list              vs  the hand-written SHA-256 of 1.0
#
# and prints each figure beside its baseline with the ratio (goal for backup
# and restore: <= 1.2).  Both sides use gzip level 6 (gzip's default) and the
# same pg_dump and psql.  The tool's restore also checks the checksum and
# the whole gzip stream, in the same read that feeds psql, and counts the
# rows afterwards; that is part of what is measured.
#
# Hashing: list, rotate and verify hash whole backups.  Both sides hash the
# same file, the dump's SQL (some 286 MB at the default size), from the page
# cache: the tool through "list" (pg_cryptohash, OpenSSL's SHA-256 on this
# build), the baseline with bench/baseline/sha256_handwritten.c, the tool's
# own SHA-256 up to 1.0, compiled here with the server's CFLAGS as the tool
# was.  Needs a C compiler (cc).
#
# Usage: bench/backup_bench.sh
#   Connection through the usual libpq variables (PGHOST, PGPORT, PGUSER);
#   the user must be allowed to CREATE EXTENSION snapshot_ops and CREATE
#   DATABASE.  Environment:
#     SESSIONS=100000      snapshots to create
#     POSITIONS=10         positions per snapshot
#     REPEAT=1             runs of each measurement (the median is shown)
#     HASH_REPEAT=5        runs of the hashing measurement (seconds each)
#     KEEP=0               1: keep the bench databases and files
#     BENCH_DIR=$(mktemp -d)
#
# Copyright (c) 2026, snapshot_ops developers

set -eu

SESSIONS=${SESSIONS:-100000}
POSITIONS=${POSITIONS:-10}
REPEAT=${REPEAT:-1}
HASH_REPEAT=${HASH_REPEAT:-5}
KEEP=${KEEP:-0}
DB=snapshot_ops_bench
BENCH_DIR=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/snapshot_ops_bench.XXXXXX")}
mkdir -p "$BENCH_DIR"
BENCH_SRC=$(cd "$(dirname "$0")" && pwd)

# the binaries of one installation: pg_config's, else PATH
BINDIR=$(pg_config --bindir 2>/dev/null || true)
tool() {
	for b in "$BINDIR/$1" "$(command -v "$1" 2>/dev/null || true)"; do
		if [ -n "$b" ] && [ -x "$b" ]; then echo "$b"; return; fi
	done
	echo "backup_bench.sh: $1 not found" >&2; exit 1
}
PG_DUMP=$(tool pg_dump)
PSQL=$(tool psql)
CREATEDB=$(tool createdb)
DROPDB=$(tool dropdb)
SOB=$(tool snapshot_ops_backup)

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

cleanup() {
	if [ "$KEEP" != 1 ]; then
		for d in "$DB" "${DB}_r1" "${DB}_r2"; do
			"$DROPDB" --if-exists "$d" >/dev/null 2>&1 || true
		done
		rm -rf "$BENCH_DIR"
	fi
}
trap cleanup EXIT

echo "backup_bench: $SESSIONS snapshots x $POSITIONS positions; pg_dump $("$PG_DUMP" --version | sed 's/^.*) //'), $(nproc) CPUs, files in $BENCH_DIR"

"$DROPDB" --if-exists "$DB" 2>/dev/null
"$CREATEDB" "$DB"
t0=$(now)
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
CREATE EXTENSION snapshot_ops;
INSERT INTO session_snapshots (session_id, session_start_time, mode, config, loop_count, status, snapshot_type, created_at)
SELECT 'session_' || (g % 500),
       timestamptz '2026-01-01' + (g % 500) * interval '1 hour',
       'paper',
       jsonb_build_object('symbols', jsonb_build_array('BTCUSDT', 'ETHUSDT'), 'max_positions', 10, 'spread_bps', g % 17),
       g,
       CASE WHEN g % 10 = 0 THEN 'stopped' ELSE 'running' END,
       CASE WHEN g % 100 = 0 THEN 'on_trade' ELSE 'periodic' END,
       timestamptz '2026-01-01' + g * interval '10 seconds'
  FROM generate_series(1, $SESSIONS) g;
INSERT INTO position_snapshots (snapshot_id, position_key, trade_data, order_a_data, order_b_data, position_open_time, created_at)
SELECT s.snapshot_id, 'SYM' || p || '_' || (s.snapshot_id % 97),
       jsonb_build_object('symbol', 'SYM' || p, 'side', CASE WHEN p % 2 = 0 THEN 'long' ELSE 'short' END,
                          'qty', (s.snapshot_id % 13) + p, 'entry_price', 100 + p * 1.5 + (s.snapshot_id % 1000) / 100.0),
       jsonb_build_object('order_id', 'a' || s.snapshot_id || '_' || p, 'status', 'filled', 'price', 100 + p),
       jsonb_build_object('order_id', 'b' || s.snapshot_id || '_' || p, 'status', 'open', 'price', 101 + p),
       s.created_at - interval '5 minutes', s.created_at
  FROM session_snapshots s, generate_series(1, $POSITIONS) p;
INSERT INTO metrics_snapshots (snapshot_id, total_trades_opened, total_trades_closed, total_winning_trades, total_pnl_usd, max_dd_usd, portfolio_initial_capital, portfolio_equity, per_symbol_pnl, created_at)
SELECT snapshot_id, loop_count % 1000, loop_count % 900, loop_count % 500, (loop_count % 10000) / 7.0, 150.5, 10000, 10000 + (loop_count % 10000) / 7.0,
       jsonb_build_object('BTCUSDT', loop_count % 300, 'ETHUSDT', loop_count % 200), created_at
  FROM session_snapshots;
INSERT INTO risk_guard_snapshots (snapshot_id, session_start_time, daily_loss_usd, per_symbol_loss, created_at)
SELECT snapshot_id, session_start_time, (loop_count % 500) / 3.0, jsonb_build_object('BTCUSDT', loop_count % 50), created_at
  FROM session_snapshots;
SQL
t1=$(now)
"$PSQL" -X -q -d "$DB" -c "VACUUM ANALYZE" >/dev/null
echo "filled in $(printf '%.1f' "$(elapsed "$t0" "$t1")") s; database size $("$PSQL" -X -At -d "$DB" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"

# --- backup ---------------------------------------------------------------
base_b=""; sob_b=""
i=0
while [ $i -lt "$REPEAT" ]; do
	i=$((i + 1))
	rm -f "$BENCH_DIR/manual.sql.gz"
	t0=$(now)
	"$PG_DUMP" --format=plain --no-password --dbname="$DB" | gzip -6 > "$BENCH_DIR/manual.sql.gz"
	t1=$(now)
	base_b="$base_b $(elapsed "$t0" "$t1")"

	rm -rf "$BENCH_DIR/sob"
	t0=$(now)
	"$SOB" backup -d "dbname=$DB" --dir "$BENCH_DIR/sob" > "$BENCH_DIR/backup.log"
	t1=$(now)
	sob_b="$sob_b $(elapsed "$t0" "$t1")"
done
SOB_FILE=$(ls "$BENCH_DIR"/sob/*.sql.gz)
grep -E "Backup created|Compressed" "$BENCH_DIR/backup.log" | sed 's/^ */  /'

# --- restore ----------------------------------------------------------------
base_r=""; sob_r=""
i=0
while [ $i -lt "$REPEAT" ]; do
	i=$((i + 1))
	"$DROPDB" --if-exists "${DB}_r1" 2>/dev/null
	t0=$(now)
	"$CREATEDB" "${DB}_r1"
	gunzip -c "$BENCH_DIR/manual.sql.gz" | "$PSQL" -X -q -v ON_ERROR_STOP=1 --single-transaction -d "${DB}_r1" > /dev/null
	t1=$(now)
	base_r="$base_r $(elapsed "$t0" "$t1")"

	"$DROPDB" --if-exists "${DB}_r2" 2>/dev/null
	t0=$(now)
	"$SOB" restore --create --restore-file "$SOB_FILE" -d "dbname=${DB}_r2" > "$BENCH_DIR/restore.log"
	t1=$(now)
	sob_r="$sob_r $(elapsed "$t0" "$t1")"
done

# the two restores must hold the same rows
for t in session_snapshots position_snapshots metrics_snapshots risk_guard_snapshots; do
	a=$("$PSQL" -X -At -d "${DB}_r1" -c "SELECT count(*) FROM public.$t")
	b=$("$PSQL" -X -At -d "${DB}_r2" -c "SELECT count(*) FROM public.$t")
	if [ "$a" != "$b" ]; then
		echo "backup_bench: $t has $a rows after gunzip | psql but $b after snapshot_ops_backup restore" >&2
		exit 1
	fi
done

# --- hashing ----------------------------------------------------------------
HASH_DIR="$BENCH_DIR/hash"
HASH_NAME=hash_backup_20000101_000000.sql.gz	# named like a backup for list
HASH_FILE="$HASH_DIR/$HASH_NAME"
mkdir -p "$HASH_DIR"
gunzip -c "$BENCH_DIR/manual.sql.gz" > "$HASH_FILE"
(cd "$HASH_DIR" && sha256sum "$HASH_NAME" > "$HASH_NAME.sha256")
BASELINE="$BENCH_DIR/sha256_handwritten"
# shellcheck disable=SC2046 # pg_config's flags are several words
cc $(pg_config --cflags) -o "$BASELINE" "$BENCH_SRC/baseline/sha256_handwritten.c"
# both must compute the same SHA-256 as sha256sum
if [ "$("$BASELINE" "$HASH_FILE" | cut -c1-64)" != "$(cut -c1-64 "$HASH_DIR/$HASH_NAME.sha256")" ]; then
	echo "backup_bench: the baseline SHA-256 differs from sha256sum's" >&2
	exit 1
fi
if ! "$SOB" list --dir "$HASH_DIR" | grep -q " ok$"; then
	echo "backup_bench: snapshot_ops_backup list does not find the hash file's checksum ok" >&2
	exit 1
fi
cat "$HASH_FILE" > /dev/null	# both read it from the page cache
base_h=""; sob_h=""
i=0
while [ $i -lt "$HASH_REPEAT" ]; do
	i=$((i + 1))
	t0=$(now)
	"$BASELINE" "$HASH_FILE" > /dev/null
	t1=$(now)
	base_h="$base_h $(elapsed "$t0" "$t1")"

	t0=$(now)
	"$SOB" list --dir "$HASH_DIR" > /dev/null
	t1=$(now)
	sob_h="$sob_h $(elapsed "$t0" "$t1")"
done
HASH_MB=$(echo "$(wc -c < "$HASH_FILE") / 1048576" | bc -l)

report() {
	base=$(echo "$2" | tr ' ' '\n' | grep . | median)
	mine=$(echo "$3" | tr ' ' '\n' | grep . | median)
	printf '%-8s snapshot_ops_backup %7.2f s   baseline (%s) %7.2f s   ratio %.2f (goal <= 1.20)\n' \
		"$1" "$mine" "$4" "$base" "$(echo "$mine / $base" | bc -l)"
}
echo "median of $REPEAT run(s):"
report backup "$base_b" "$sob_b" "pg_dump | gzip -6"
report restore "$base_r" "$sob_r" "createdb; gunzip | psql -1"
printf 'sizes    snapshot_ops_backup %s bytes, pg_dump | gzip -6 %s bytes\n' \
	"$(wc -c < "$SOB_FILE")" "$(wc -c < "$BENCH_DIR/manual.sql.gz")"
base=$(echo "$base_h" | tr ' ' '\n' | grep . | median)
mine=$(echo "$sob_h" | tr ' ' '\n' | grep . | median)
echo "median of $HASH_REPEAT run(s), $(printf '%.1f' "$HASH_MB") MB from the page cache:"
printf 'hashing  snapshot_ops_backup list %6.0f MB/s (%.2f s)   baseline (hand-written SHA-256 of 1.0) %6.0f MB/s (%.2f s)   %.1fx faster\n' \
	"$(echo "$HASH_MB / $mine" | bc -l)" "$mine" "$(echo "$HASH_MB / $base" | bc -l)" "$base" \
	"$(echo "$base / $mine" | bc -l)"
