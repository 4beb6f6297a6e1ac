#!/bin/bash
#
# worker_idle.sh -- what the background worker costs when it has nothing to
# do, and how soon it runs after CREATE EXTENSION, on a throwaway cluster:
#
#   - milliseconds from running CREATE EXTENSION (psql start-up and the
#     command included) to the worker showing in pg_stat_activity, in a few
#     databases;
#   - the CPU time (utime + stime from /proc/<pid>/stat, and the kernel's
#     per-task schedstat run time) the idle worker and the launcher use over
#     a sampling window, next to the same figures for the checkpointer as
#     a baseline of an idle PostgreSQL process.
#
#   bench/worker_idle.sh [-s seconds to sample (60)] [-n databases (3)]
#
# Run as root (the server runs as postgres) or as an ordinary user, after
# "make install".  Environment: PG_CONFIG, BENCH_PORT (default 55412).
#
set -euo pipefail

SECS=60
NDB=3
while getopts "s:n:" opt; do
	case $opt in
		s) SECS=$OPTARG ;;
		n) NDB=$OPTARG ;;
		*) echo "usage: $0 [-s seconds] [-n databases]" >&2; exit 2 ;;
	esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/standalone.sh"
PG_CONFIG=${PG_CONFIG:-pg_config}
BIN=$($PG_CONFIG --bindir)
PORT=${BENCH_PORT:-55412}
standalone_dir snapshot_ops_idle
psql_db() { as_pg "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -d "$1" -c "$2"; }

standalone_cluster "$DIR/data" "$BIN" "$PORT" "shared_preload_libraries = 'snapshot_ops'"

echo "== snapshot_ops worker: start-up and idle cost, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $($BIN/postgres --version)"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "== CREATE EXTENSION to a running worker (ms, by the client: from starting psql with CREATE EXTENSION to the worker's row in pg_stat_activity, polled every 5 ms plus a psql start-up)"
for ((i = 1; i <= NDB; i++)); do
	as_pg "$BIN/createdb" -h "$DIR" -p "$PORT" "idle$i"
	t0=$(date +%s%N)
	psql_db "idle$i" 'CREATE EXTENSION snapshot_ops'
	until [ "$(psql_db "idle$i" "SELECT count(*) FROM pg_stat_activity
				WHERE backend_type = 'snapshot_ops worker' AND datname = current_database()")" = 1 ]; do
		sleep 0.005
	done
	t1=$(date +%s%N)
	printf '   database idle%d: %d ms\n' "$i" $(((t1 - t0) / 1000000))
done

# CPU ticks (utime + stime) and schedstat run time (ns) of a process
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
runns() { cut -d' ' -f1 "/proc/$1/schedstat"; }
pid_of() {
	psql_db postgres "SELECT pid FROM pg_stat_activity WHERE backend_type = '$1' ORDER BY pid LIMIT 1"
}

W=$(pid_of 'snapshot_ops worker')
L=$(pid_of 'snapshot_ops launcher')
C=$(pid_of 'checkpointer')
declare -A T0 R0
for p in $W $L $C; do
	T0[$p]=$(ticks "$p")
	R0[$p]=$(runns "$p")
done
echo
echo "== idle for $SECS s (no job due; $NDB workers; figures for one worker, the launcher, and the checkpointer as the baseline)"
sleep "$SECS"
HZ=$(getconf CLK_TCK)
for entry in "worker:$W" "launcher:$L" "checkpointer:$C"; do
	name=${entry%%:*}
	p=${entry#*:}
	dt=$(($(ticks "$p") - T0[$p]))
	dr=$(($(runns "$p") - R0[$p]))
	printf '   %-13s pid %-7s %3d ticks (1/%d s) utime+stime, %8.1f ms on CPU (schedstat), %.4f%% of one core\n' \
		"$name" "$p" "$dt" "$HZ" "$(echo "$dr / 1000000" | bc -l)" "$(echo "$dr / 10000000 / $SECS" | bc -l)"
done
