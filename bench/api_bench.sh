#!/bin/bash
#
# api_bench.sh -- the SQL API against the report's client-side paths, measured
# in one run on a throwaway cluster:
#
#   save_snapshot()   vs the report's StateStore write (BEGIN, 13 INSERTs,
#                        COMMIT: 15 round trips) and a single-row INSERT
#                        (the ceiling of any one-statement write)
#   load_snapshot()   vs the report's four SELECTs
#   run_cleanup       rows/s vs one big DELETE (cascade), and its longest batch
#
# pgbench, 4 clients, 10 positions per snapshot, over 100,000 snapshots of
# 10,000 sessions.  Run as root (the server runs as postgres) or as an
# ordinary user, after "make install":
#
#   bench/api_bench.sh [-T seconds per pgbench run] [-n expired snapshots]
#
# Environment: PG_CONFIG (default pg_config), BENCH_PORT (default 55411),
# BENCH_DIR (default a new directory under /tmp, removed at the end).
#
set -euo pipefail

DURATION=15
NEXPIRED=20000
NSNAP=${BENCH_NSNAP:-100000}
NSESSIONS=10000
CLIENTS=4
while getopts "T:n:" opt; do
	case $opt in
		T) DURATION=$OPTARG ;;
		n) NEXPIRED=$OPTARG ;;
		*) echo "usage: $0 [-T seconds] [-n expired snapshots]" >&2; exit 2 ;;
	esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/standalone.sh"
PG_CONFIG=${PG_CONFIG:-pg_config}
BIN=$($PG_CONFIG --bindir)
PORT=${BENCH_PORT:-55411}
standalone_dir snapshot_ops_api_bench
PSQL=(as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -d bench)

echo "== snapshot_ops API benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $($BIN/postgres --version)"
echo "   synchronous_commit = ${BENCH_SYNC_COMMIT:-off}: with it on, every path is capped by the disk's flush rate, not by its own work"
echo "   pgbench: $CLIENTS clients, ${DURATION}s per run; $NSNAP snapshots x 10 positions; retention on $NEXPIRED expired snapshots"

standalone_cluster "$DIR/data" "$BIN" "$PORT" \
	"shared_preload_libraries = 'snapshot_ops'" \
	"snapshot_ops.enable_scheduler = off" \
	"shared_buffers = 256MB" \
	"max_wal_size = 4GB" \
	"synchronous_commit = ${BENCH_SYNC_COMMIT:-off}"
as_pg "$BIN/createdb" -h "$DIR" -p "$PORT" bench
"${PSQL[@]}" -c 'CREATE EXTENSION snapshot_ops'

# the state document and the pgbench scripts built from it
DOC=$("${PSQL[@]}" -At -v npos=10 -f "$HERE/api/gen_doc.sql")
SCRIPTS="$DIR/scripts"
mkdir -p "$SCRIPTS"
cp "$HERE"/api/load_function.sql "$HERE"/api/load_client.sql "$HERE"/api/insert_ceiling.sql "$SCRIPTS/"
[ ${#RUNAS[@]} -gt 0 ] && chown -R postgres "$SCRIPTS"
"${PSQL[@]}" -v doc="$DOC" -v outdir="$SCRIPTS" -v nsessions=$NSESSIONS -f "$HERE/api/client_scripts.sql"

# 100,000 snapshots of 10,000 sessions, written by save_snapshot itself
t0=$(date +%s.%N)
for ((b = 0; b < NSNAP; b += 10000)); do
	"${PSQL[@]}" -c "SELECT count(save_snapshot(replace(\$doc\$$DOC\$doc\$, 'SESSION', 'sess_' || (g % $NSESSIONS + 1))::jsonb))
					  FROM generate_series($b + 1, $b + 10000) g" >/dev/null
done
t1=$(date +%s.%N)
"${PSQL[@]}" -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
printf '   loaded %d snapshots with save_snapshot in %.1f s (one statement per 10,000)\n' $NSNAP "$(echo "$t1 - $t0" | bc)"

# tps of one pgbench run
tps() {
	local script=$1
	as_pg "$BIN/pgbench" -h "$DIR" -p "$PORT" -n -c $CLIENTS -j 2 -T "$DURATION" -f "$SCRIPTS/$script" bench 2>&1 |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
ratio() { echo "scale=2; $1 / $2" | bc; }

echo
echo "== writes (tps, one snapshot = 1 session + 10 positions + metrics + risk_guard row)"
SAVE_FN=$(tps save_function.sql)
SAVE_CLIENT=$(tps save_client.sql)
CEILING=$(tps insert_ceiling.sql)
printf '   %-46s %10.1f tps\n' "save_snapshot (1 statement)" "$SAVE_FN"
printf '   %-46s %10.1f tps   save_snapshot / this = %sx\n' "client path (BEGIN, 13 INSERTs, COMMIT)" "$SAVE_CLIENT" "$(ratio "$SAVE_FN" "$SAVE_CLIENT")"
printf '   %-46s %10.1f tps   save_snapshot / this = %sx\n' "ceiling: single-row INSERT (session only)" "$CEILING" "$(ratio "$SAVE_FN" "$CEILING")"

# the ceiling runs left extra session rows; they have no children and do not matter to loads
echo
echo "== reads (tps, the latest snapshot of a random session)"
LOAD_FN=$(tps load_function.sql)
LOAD_CLIENT=$(tps load_client.sql)
printf '   %-46s %10.1f tps\n' "load_snapshot (1 statement)" "$LOAD_FN"
printf '   %-46s %10.1f tps   load_snapshot / this = %sx\n' "client path (4 SELECTs)" "$LOAD_CLIENT" "$(ratio "$LOAD_FN" "$LOAD_CLIENT")"

# retention: the same expired set twice, once for each method
fill_expired() {
	# two statements: an UPDATE does not see rows its own statement's
	# functions insert
	"${PSQL[@]}" -c "CREATE TEMP TABLE s AS
			SELECT save_snapshot(replace(\$doc\$$DOC\$doc\$, 'SESSION', 'exp_' || (g % 1000))::jsonb) AS id
			  FROM generate_series(1, $NEXPIRED) g" \
		-c "UPDATE session_snapshots t SET status = 'stopped',
			   created_at = now() - interval '40 days' - t.snapshot_id * interval '1 ms'
		  FROM s WHERE t.snapshot_id = s.id" >/dev/null
	"${PSQL[@]}" -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
}
ROWS=$((NEXPIRED * 13))

echo
echo "== retention ($NEXPIRED expired snapshots = $ROWS rows with children, among $NSNAP kept)"
# Autovacuum off while timing: the batches commit as they go, so autovacuum
# would start on their dead rows during run_cleanup (on a 2-core machine it
# takes a core from it) but only after the single DELETE's clock stopped.
"${PSQL[@]}" -c 'ALTER SYSTEM SET autovacuum = off' -c 'SELECT pg_reload_conf()' >/dev/null
echo "   (autovacuum off while timing, so that neither method is charged for the other's dead rows)"
# two rounds, alternating, as this machine's speed drifts
DEL_S=0
RUN_S=0
LONGEST=0
for round in 1 2; do
	fill_expired
	t0=$(date +%s.%N)
	"${PSQL[@]}" -c "DELETE FROM session_snapshots WHERE created_at < now() - interval '30 days' AND status IN ('stopped', 'crashed')"
	t1=$(date +%s.%N)
	d=$(echo "$t1 - $t0" | bc)
	"${PSQL[@]}" -c 'VACUUM'

	fill_expired
	t0=$(date +%s.%N)
	NOTICE=$(PGOPTIONS='-c snapshot_ops.retention_mode=finished' "${PSQL[@]}" -c "CALL snapshot_ops.run_cleanup('30 days', 1000)" 2>&1)
	t1=$(date +%s.%N)
	r=$(echo "$t1 - $t0" | bc)
	"${PSQL[@]}" -c 'VACUUM'
	l=$(echo "$NOTICE" | sed -n 's/.*longest batch \([0-9]*\) ms.*/\1/p')
	[ "$l" -gt "$LONGEST" ] && LONGEST=$l
	printf '   round %d: one big DELETE %.2f s, run_cleanup %.2f s (longest batch %s ms)\n' $round "$d" "$r" "$l"
	DEL_S=$(echo "$DEL_S + $d" | bc)
	RUN_S=$(echo "$RUN_S + $r" | bc)
done
"${PSQL[@]}" -c 'ALTER SYSTEM RESET autovacuum' -c 'SELECT pg_reload_conf()' >/dev/null
ROWS=$((ROWS * 2))
LEFT=$("${PSQL[@]}" -At -c "SELECT count(*) FROM session_snapshots WHERE created_at < now() - interval '30 days'")
DEL_RATE=$(echo "$ROWS / $DEL_S" | bc)
RUN_RATE=$(echo "$ROWS / $RUN_S" | bc)
printf '   %-46s %10d rows/s  (%.2f s for both rounds)\n' "run_cleanup, batches of 1000, commit each" "$RUN_RATE" "$RUN_S"
printf '   %-46s %10d rows/s  (%.2f s for both rounds)   run_cleanup / this = %sx\n' "one big DELETE (cascade), one transaction" "$DEL_RATE" "$DEL_S" "$(ratio "$RUN_RATE" "$DEL_RATE")"
printf '   %-46s %10s ms   (expired snapshots left: %s)\n' "run_cleanup longest batch" "$LONGEST" "$LEFT"
echo "   $(echo "$NOTICE" | grep -m1 'run_cleanup:' | sed 's/^.*NOTICE: *//')"
