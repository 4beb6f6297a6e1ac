#!/bin/bash
#
# cleanup_paths.sh -- the worker's scheduled cleanup against CALL
# snapshot_ops.run_cleanup() on the backlog that made the worker's old batch
# loop quadratic: retention_mode finished, batches of 100, 200,000 expired
# snapshots of running sessions (kept) interleaved with 5,000 expired
# stopped ones (deleted).  Both paths run the same batch loop now; the goal
# is that they stay within 10% of each other.
#
# Each round rebuilds the backlog, then times one path; the paths alternate
# (worker, call, call, worker, ...) so that drift on a shared machine hits
# both.  The worker's run is started with run_job('cleanup', true), which
# runs exactly what a scheduled run runs (only its trigger differs); its
# time is the run's own (job_runs.finished_at - started_at), and the CALL's
# too, so neither includes client round trips.  The CALL timed is its
# session's second (see below): a session's first also loads its caches.
#
#   bench/cleanup_paths.sh [-r rounds per path] [-k kept] [-d deleted] [-b batch size]
#
# Run as root (the server runs as postgres) or as an ordinary user, after
# "make install".  Environment: PG_CONFIG (default pg_config), BENCH_PORT
# (default 55422), BENCH_DIR (default a new directory under /tmp, removed at
# the end).
#
set -euo pipefail

ROUNDS=7
KEPT=200000
DELETED=5000
BATCH=100
while getopts "r:k:d:b:" opt; do
	case $opt in
		r) ROUNDS=$OPTARG ;;
		k) KEPT=$OPTARG ;;
		d) DELETED=$OPTARG ;;
		b) BATCH=$OPTARG ;;
		*) echo "usage: $0 [-r rounds] [-k kept] [-d deleted] [-b batch size]" >&2; exit 2 ;;
	esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/standalone.sh"
PG_CONFIG=${PG_CONFIG:-pg_config}
BIN=$($PG_CONFIG --bindir)
PORT=${BENCH_PORT:-55422}
standalone_dir snapshot_ops_cleanup_bench
PSQL=(as_pg "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -d bench)

TOTAL=$((KEPT + DELETED))
EVERY=$((TOTAL / DELETED))
echo "== cleanup paths: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $($BIN/postgres --version)"
echo "   backlog: $TOTAL expired snapshots, one in $EVERY stopped (deleted), the rest running (kept, retention_mode finished); batches of $BATCH; $ROUNDS rounds per path"

standalone_cluster "$DIR/data" "$BIN" "$PORT" \
	"shared_preload_libraries = 'snapshot_ops'" \
	"snapshot_ops.enable_scheduler = off" \
	"snapshot_ops.retention_mode = finished" \
	"snapshot_ops.cleanup_batch_size = $BATCH" \
	"autovacuum = off" "shared_buffers = 256MB" "max_wal_size = 4GB"
as_pg "$BIN/createdb" -h "$DIR" -p "$PORT" bench
"${PSQL[@]}" -c 'CREATE EXTENSION snapshot_ops'
for _ in $(seq 1 100); do
	[ "$("${PSQL[@]}" -c 'SELECT running FROM snapshot_ops.worker_status()')" = t ] && break
	sleep 0.1
done

# the newest snapshot of each running session, so that only the status keeps the old ones
"${PSQL[@]}" -c "INSERT INTO session_snapshots (session_id, status) SELECT 's' || g, 'running' FROM generate_series(0, 999) g"

backlog() {
	"${PSQL[@]}" -c "DELETE FROM session_snapshots WHERE created_at < now() - interval '1 day'" \
		-c "INSERT INTO session_snapshots (session_id, status, created_at)
			SELECT 's' || (g % 1000), CASE WHEN g % $EVERY = 0 THEN 'stopped' ELSE 'running' END,
				   now() - interval '40 days' - g * interval '1 second'
			  FROM generate_series(1, $TOTAL) g" \
		-c 'VACUUM ANALYZE session_snapshots' -c 'CHECKPOINT'
}

# the time (ms) and rows of the latest recorded cleanup run (a CALL's
# warm-up run, which deletes nothing, is older)
last_run() {
	"${PSQL[@]}" -c "
		SELECT round(extract(epoch FROM finished_at - started_at) * 1000) || ' ' || rows_affected
		  FROM snapshot_ops.job_runs WHERE job = 'cleanup' ORDER BY run_id DESC LIMIT 1"
}

worker_ms=()
call_ms=()
order=(worker call)
for r in $(seq 1 "$ROUNDS"); do
	for p in "${order[@]}"; do
		backlog
		if [ "$p" = worker ]; then
			"${PSQL[@]}" -c "SELECT snapshot_ops.run_job('cleanup', true)" >/dev/null
		else
			# the worker is a long-lived process with warm caches and
			# prepared plans; a new session's first CALL also pays for its
			# catalog caches and plans (about 100 ms here).  The CALL
			# measured is the session's second, after one that deletes
			# nothing, so that the batch loops are compared.
			"${PSQL[@]}" -c "CALL snapshot_ops.run_cleanup(interval '1000 years')" \
				-c 'CALL snapshot_ops.run_cleanup()' 2>/dev/null
		fi
		read -r ms rows <<<"$(last_run)"
		[ "$rows" = "$DELETED" ] || { echo "round $r, $p: deleted $rows, expected $DELETED" >&2; exit 1; }
		printf '   round %d  %-6s  %6d ms  (%d deleted)\n' "$r" "$p" "$ms" "$rows"
		if [ "$p" = worker ]; then worker_ms+=("$ms"); else call_ms+=("$ms"); fi
	done
	order=("${order[1]}" "${order[0]}")
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
w=$(median "${worker_ms[@]}")
c=$(median "${call_ms[@]}")
echo
printf '%-44s %10s %10s\n' "" "median ms" "ratio"
printf '%-44s %10s %10s\n' "CALL snapshot_ops.run_cleanup() (baseline)" "$c" "1.00"
printf '%-44s %10s %10s\n' "the worker's cleanup (scheduled path)" "$w" "$(awk -v a="$w" -v b="$c" 'BEGIN {printf "%.2f", a / b}')"
awk -v a="$w" -v b="$c" 'BEGIN { d = (a - b) / b; if (d < 0) d = -d;
	printf "goal: within 10%%: %s (%.1f%%)\n", (d <= 0.10 ? "met" : "MISSED"), d * 100 }'
