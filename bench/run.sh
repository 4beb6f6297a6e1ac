#!/bin/bash
#
# run.sh: the snapshot_ops benchmark, one command.
#
#   bench/run.sh                 the full run (66 minutes on 2 cores, 2026-11-27)
#   bench/run.sh --smoke         a ~20-second run of every phase, tiny sizes
#
# Starts its own throwaway cluster (data directory and unix socket under
# /tmp, --port), creates two databases in it, snapshot_ops and the report's
# design as the baseline, loads both with the same rows at each scale,
# measures save and load throughput and latency, probes and views,
# retention, a steady-state soak with the background worker, and backend
# memory; then writes report.md and PNG plots into the output directory.
# Runs as root (the server then runs as "postgres") or as an ordinary user.
# Needs the extension installed into the PostgreSQL that PG_CONFIG (default
# pg_config on PATH) names, pgbench and gnuplot.
#
# Options (defaults in brackets):
#   --scales LIST        snapshots per scale, ascending [10k,100k,1M]
#   --clients LIST       client counts [1,4,8]
#   --duration D         per throughput point, e.g. 20s [20s]
#   --rounds N           rounds each point is split into, interleaved
#                        across the variants [2]
#   --probe-duration D   per probe and view [5s]
#   --soak-minutes N     steady-state soak [10]
#   --soak-rate N        saves per second per database in the soak [50]
#   --retention-snapshots N   snapshots in the retention test [100k]
#   --mem-saves N        saves of the backend memory test [10000]
#   --phases LIST        scale,memory,retention,soak: run only these [all]
#                        (memory needs scale)
#   --port N             the cluster's port [55450]
#   --out DIR            output directory [bench/results/<date>]
#   --keep               keep the work directory (cluster, logs)
#   --smoke              tiny sizes and durations, for CI

set -u -o pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ARGS="$*"

SCALES=10k,100k,1M
CLIENTS_OPT=1,4,8
DURATION=20s
PROBE_DURATION=5s
SOAK_MINUTES=10
SOAK_RATE=50
SOAK_SESSIONS=100
SOAK_RETENTION='2 minutes'
SOAK_SAMPLE_SECS=10
RET_SNAPSHOTS=100k
RET_RATE=50
RET_QUIET_SECS=3
RET_SAMPLE_MS=5
MEM_SAVES=10000
NSESSIONS=1000
NPOS=10
PORT=55450
SHARED_BUFFERS=1GB
OUT=
KEEP=0
SMOKE=0
PGB_THREADS=2
PROFILE_SECS=10
ROUNDS=2
PHASES=scale,memory,retention,soak

usage() { sed -n '3,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
	case $1 in
		--scales) SCALES=$2; shift ;;
		--clients) CLIENTS_OPT=$2; shift ;;
		--duration) DURATION=$2; shift ;;
		--rounds) ROUNDS=$2; shift ;;
		--probe-duration) PROBE_DURATION=$2; shift ;;
		--soak-minutes) SOAK_MINUTES=$2; shift ;;
		--soak-rate) SOAK_RATE=$2; shift ;;
		--retention-snapshots) RET_SNAPSHOTS=$2; shift ;;
		--mem-saves) MEM_SAVES=$2; shift ;;
		--phases) PHASES=$2; shift ;;
		--port) PORT=$2; shift ;;
		--out) OUT=$2; shift ;;
		--keep) KEEP=1 ;;
		--smoke) SMOKE=1 ;;
		-h | --help) usage 0 ;;
		*) echo "run.sh: unknown option \"$1\"" >&2; usage 2 ;;
	esac
	shift
done

source "$BENCH/lib/common.sh"
source "$BENCH/lib/scripts.sh"
source "$BENCH/lib/scale.sh"
source "$BENCH/lib/memory.sh"
source "$BENCH/lib/retention.sh"
source "$BENCH/lib/soak.sh"
source "$BENCH/lib/report.sh"

if [ "$SMOKE" = 1 ]; then
	# every phase once, in about 20 seconds: transaction counts instead of
	# durations, one client count, a soak too short for a scheduled job
	SCALES=1000
	CLIENTS_OPT=2
	DURATION=t100
	PROBE_DURATION=t10
	SOAK_SECS_OVERRIDE=4
	SOAK_SAMPLE_SECS=1
	RET_SNAPSHOTS=500
	RET_QUIET_SECS=0.5
	MEM_SAVES=100
	SHARED_BUFFERS=128MB
	ROUNDS=1
fi

# --- inputs -----------------------------------------------------------------
PG_CONFIG=${PG_CONFIG:-pg_config}
BINDIR=$("$PG_CONFIG" --bindir) || { echo "run.sh: $PG_CONFIG not found" >&2; exit 2; }
[ -f "$("$PG_CONFIG" --sharedir)/extension/snapshot_ops.control" ] ||
	{ echo "run.sh: snapshot_ops is not installed in $("$PG_CONFIG" --sharedir) (make install)" >&2; exit 2; }
for tool in "$BINDIR/pgbench" "$BINDIR/psql" "$BINDIR/initdb"; do
	[ -x "$tool" ] || { echo "run.sh: $tool not found" >&2; exit 2; }
done
command -v gnuplot >/dev/null || { echo "run.sh: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 2; }

SCALE_LIST=
for s in ${SCALES//,/ }; do SCALE_LIST+=" $(parse_count "$s")"; done
SCALE_LABELS=
for s in $SCALE_LIST; do SCALE_LABELS+=" $(scale_label "$s")"; done
MAX_SCALE=$(echo "$SCALE_LIST" | tr ' ' '\n' | sort -n | tail -1)
CLIENTS=${CLIENTS_OPT//,/ }
RET_SNAPSHOTS=$(parse_count "$RET_SNAPSHOTS")
SOAK_SECS=${SOAK_SECS_OVERRIDE:-$((SOAK_MINUTES * 60))}
# CPU profiles (perf) at the scale the latency goal names, when perf can
# trace the server (root)
PROFILE=0
if [ "$SMOKE" = 0 ] && [ "$(id -u)" -eq 0 ] && command -v perf >/dev/null; then PROFILE=1; fi
PROFILE_SCALE=100k
case " $SCALE_LABELS " in *" 100k "*) ;; *) PROFILE_SCALE=$(echo "$SCALE_LABELS" | awk '{ print $NF }') ;; esac
PROBES="probe_latest probe_jsonb view_latest_one view_history view_details view_latest_all"
# durations: "20s" / "2m" run for a time, "t100" runs 100 transactions per client
duration_args() { case $1 in t*) echo "-t ${1#t}" ;; *) echo "-T $(parse_seconds "$1")" ;; esac; }
DURATION_LABEL=$(case $DURATION in t*) echo "${DURATION#t} transactions per client" ;; *) echo "$(parse_seconds "$DURATION") s" ;; esac)
PROBE_LABEL=$(case $PROBE_DURATION in t*) echo "${PROBE_DURATION#t} runs" ;; *) echo "$(parse_seconds "$PROBE_DURATION") s" ;; esac)

# --- directories ------------------------------------------------------------
# the work directory holds the cluster and its socket: a short path
WORK=$(mktemp -d /tmp/sobench.XXXXXX)
chmod 755 "$WORK"
if [ -z "$OUT" ]; then
	OUT=$BENCH/results/$(date +%Y-%m-%d)
	[ "$SMOKE" = 1 ] && OUT=$WORK/results
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT/data" "$OUT"/*.png "$OUT/report.md"
mkdir -p "$OUT/data"
: >"$OUT/data/results.tsv"

cleanup() {
	cluster_stop
	if [ "$KEEP" = 1 ]; then
		echo "run.sh: kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- run --------------------------------------------------------------------
T_START=$(date +%s)
log "snapshot_ops benchmark: scales$SCALE_LABELS; clients $CLIENTS; $DURATION_LABEL per point; soak ${SOAK_SECS}s; output $OUT"
write_save_scripts "$WORK/scripts"
cluster_init
cluster_start

record info date - - value "$(date -u '+%Y-%m-%d %H:%M UTC')"
record info server_version - - value "$(q postgres "SELECT split_part(version(), ',', 1)")"
record info host - - value "$(hostname)"
record info cores - - value "$(nproc)"
record info memory_gb - - value "$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)"
record info doc_bytes - - value "$(state_document | sed 's/:sid/1/g; s/:loop/42/g; s/:px/500/g' | wc -c)"
record info command - - value "bench/run.sh${ARGS:+ $ARGS}"
record info commit - - value "$(git -C "$BENCH" log -1 --format='%h %cd' --date=format:'%Y-%m-%d %H:%M' 2>/dev/null || echo unknown)"
record info extension_version - - value "$(q postgres "SELECT default_version FROM pg_available_extensions WHERE name = 'snapshot_ops'")"
# the options that change what is measured, where they differ from the
# defaults (--port, --out and --keep do not)
DEVIATIONS=
deviate() { [ "$2" = "$3" ] || DEVIATIONS="${DEVIATIONS:+$DEVIATIONS }$1 $2"; }
deviate --scales "$SCALES" 10k,100k,1M
deviate --clients "$CLIENTS_OPT" 1,4,8
deviate --duration "$DURATION" 20s
deviate --rounds "$ROUNDS" 2
deviate --probe-duration "$PROBE_DURATION" 5s
deviate --soak-minutes "$SOAK_MINUTES" 10
deviate --soak-rate "$SOAK_RATE" 50
deviate --retention-snapshots "$RET_SNAPSHOTS" 100k
deviate --mem-saves "$MEM_SAVES" 10000
deviate --phases "$PHASES" scale,memory,retention,soak
[ "$SMOKE" = 1 ] && DEVIATIONS="--smoke"
record info deviations - - value "${DEVIATIONS:-none}"
record info loadavg_start - - value "$(cut -d' ' -f1-3 /proc/loadavg)"

[ "$SMOKE" = 1 ] || disk_flush_cost
phase() { case ",$PHASES," in *",$1,"*) return 0 ;; esac; return 1; }
if phase scale; then
	setup_databases
	LOADED=0
	for n in $SCALE_LIST; do
		run_scale "$n"
	done
	phase memory && run_memory
fi
phase retention && run_retention
phase soak && run_soak

record info loadavg_end - - value "$(cut -d' ' -f1-3 /proc/loadavg)"
record info run_minutes - - value "$(( ($(date +%s) - T_START + 30) / 60 ))"
cluster_stop
log "writing the report"
make_plots
write_report
log "done: $OUT/report.md"
