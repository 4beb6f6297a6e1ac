# common.sh: logging, the throwaway cluster, psql and pgbench helpers, and
# the results file every phase appends to.  Sourced by run.sh.
#
# Globals set by run.sh: BINDIR PORT WORK (scratch: cluster, logs, sockets)
# OUT (results directory) and the option values.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$WORK/run.log" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Run a command as the user the server runs as (PostgreSQL refuses root).
as_server() {
	if [ "$(id -u)" -eq 0 ]; then
		su postgres -s /bin/bash -c "$*"
	else
		bash -c "$*"
	fi
}

# --- the throwaway cluster --------------------------------------------------

cluster_init() {
	DATA=$WORK/data
	SOCK=$WORK/sock
	mkdir -p "$SOCK"
	[ "$(id -u)" -eq 0 ] && chown postgres "$WORK" "$SOCK"
	as_server "'$BINDIR/initdb' -D '$DATA' -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync" \
		>"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log"; die "initdb failed"; }
	# Tuned as the brief says; durability as in production: fsync and
	# synchronous_commit stay on.
	cat >>"$DATA/postgresql.conf" <<EOC
listen_addresses = ''
port = $PORT
unix_socket_directories = '$SOCK'
max_connections = 50
shared_buffers = '$SHARED_BUFFERS'
max_wal_size = '4GB'
min_wal_size = '1GB'
checkpoint_timeout = '15min'
checkpoint_completion_target = 0.9
wal_compression = off
fsync = on
synchronous_commit = on
effective_cache_size = '8GB'
maintenance_work_mem = '512MB'
random_page_cost = 1.1
shared_preload_libraries = 'snapshot_ops'
# the worker serves only the soak database; the databases measured for
# throughput must not be cleaned up or vacuumed behind the benchmark's back
snapshot_ops.databases = 'bench_soak'
log_line_prefix = '%m [%p] %q%a '
log_checkpoints = on
log_autovacuum_min_duration = 0
lc_messages = 'C'
EOC
}

# disk_flush_cost: what one WAL flush costs on this disk (pg_test_fsync,
# fdatasync, the Linux default wal_sync_method), in the work directory,
# which is on the data directory's file system
disk_flush_cost() {
	local f=$WORK/pg_test_fsync.out
	timeout 15 "$BINDIR/pg_test_fsync" -s 1 -f "$WORK/fsync.test" >"$f" 2>&1
	rm -f "$WORK/fsync.test"
	record info fdatasync_one_8k_us - - value \
		"$(awk '/one 8kB write/ { s = 1 } /two 8kB writes/ { s = 2 } s && $1 == "fdatasync" { print $(NF - 1); exit }' "$f")"
	record info fdatasync_two_8k_us - - value \
		"$(awk '/two 8kB writes/ { s = 1 } s && $1 == "fdatasync" { print $(NF - 1); exit }' "$f")"
}

cluster_start() {
	as_server "'$BINDIR/pg_ctl' -D '$DATA' -l '$WORK/server.log' -w -t 120 start" >/dev/null ||
		{ tail -30 "$WORK/server.log"; die "server did not start"; }
	STARTED=1
}

cluster_stop() {
	[ "${STARTED:-0}" = 1 ] || return 0
	as_server "'$BINDIR/pg_ctl' -D '$DATA' -m fast -w -t 60 stop" >/dev/null 2>&1 ||
		as_server "'$BINDIR/pg_ctl' -D '$DATA' -m immediate stop" >/dev/null 2>&1
	STARTED=0
}

# psql DB [psql args]: quiet, stops on the first error
psqlx() {
	local db=$1
	shift
	"$BINDIR/psql" -h "$SOCK" -p "$PORT" -U postgres -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# q DB SQL: one value (or rows, |-separated), no decoration
q() { psqlx "$1" -At -c "$2"; }

# --- results ----------------------------------------------------------------

# record SECTION VARIANT SCALE CLIENTS METRIC VALUE
# One line per measured figure in $OUT/data/results.tsv; the report is
# generated from this file only.
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$OUT/data/results.tsv"
}

# get SECTION VARIANT SCALE CLIENTS METRIC: a recorded value (empty if none)
get() {
	awk -F'\t' -v s="$1" -v v="$2" -v sc="$3" -v c="$4" -v m="$5" \
		'$1 == s && $2 == v && $3 == sc && $4 == c && $5 == m { x = $6 } END { print x }' \
		"$OUT/data/results.tsv"
}

# --- pgbench ----------------------------------------------------------------

# latency_stats FILES...: "n p50_ms p99_ms mean_ms max_ms" from pgbench
# per-transaction logs (third field: latency in microseconds)
latency_stats() {
	cat "$@" 2>/dev/null | awk '{ print $3 }' | sort -n | awk '
		{ v[NR] = $1; s += $1 }
		END {
			if (NR == 0) { print "0 NaN NaN NaN NaN"; exit }
			i50 = int(NR * 0.50 + 0.5); if (i50 < 1) i50 = 1
			i99 = int(NR * 0.99 + 0.5); if (i99 < 1) i99 = 1; if (i99 > NR) i99 = NR
			printf "%d %.3f %.3f %.3f %.3f\n", NR, v[i50] / 1000, v[i99] / 1000, s / NR / 1000, v[NR] / 1000
		}'
}

# pgb NAME DB SCRIPT CLIENTS DURATION (20s, or t100: transactions per client) [more pgbench args]
# Runs pgbench -M simple with per-transaction logging into $WORK/pgb/NAME;
# sets PGB_TPS PGB_N PGB_P50 PGB_P99 PGB_MEAN PGB_MAX PGB_ERR.
pgb() {
	local name=$1 db=$2 script=$3 clients=$4 secs=$5
	shift 5
	local dir=$WORK/pgb/$name threads=$clients
	[ "$threads" -gt "$PGB_THREADS" ] && threads=$PGB_THREADS
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && "$BINDIR/pgbench" -n -M simple -h "$SOCK" -p "$PORT" -U postgres \
		-c "$clients" -j "$threads" $(duration_args "$secs") -D nsessions="$NSESSIONS" \
		-f "$script" --log --log-prefix="$dir/tx" "$@" "$db") >"$dir/out" 2>&1
	PGB_ERR=$?
	PGB_TPS=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$dir/out")
	read -r PGB_N PGB_P50 PGB_P99 PGB_MEAN PGB_MAX < <(latency_stats "$dir"/tx.*)
	if [ "$PGB_ERR" -ne 0 ] || grep -q 'error' "$dir/out"; then
		log "pgbench $name: exit $PGB_ERR: $(grep -m3 -i error "$dir/out" | tr '\n' ' ')"
		PGB_ERR=1
	fi
	[ -n "$PGB_TPS" ] || PGB_TPS=NaN
}

# points SECTION SCALE CLIENTS MARK VARIANT=DB=SCRIPT...: one measured point
# per variant, in ROUNDS interleaved rounds (variant A, B, C, A, B, C ...)
# so that drift in what the machine does meanwhile is shared by all the
# variants instead of falling on one.  Each round starts after a
# CHECKPOINT; with MARK set, the rows a round added are deleted before the
# next (trim).  Throughput is all transactions over all rounds' time,
# latency percentiles are over every transaction of every round.
points() {
	local sec=$1 scale=$2 c=$3 mark=$4 r spec var db script lsn0 lsn1 dur
	shift 4
	dur=$(round_duration "$DURATION_OF_POINTS")
	declare -A n_tot t_tot wal_tot err_tot
	for ((r = 1; r <= ROUNDS; r++)); do
		for spec in "$@"; do
			IFS='=' read -r var db script <<<"$spec"
			q "$db" "CHECKPOINT" >/dev/null
			lsn0=$(q "$db" "SELECT pg_current_wal_insert_lsn()")
			pgb "$sec.$var.$scale.c$c.r$r" "$db" "$script" "$c" "$dur"
			lsn1=$(q "$db" "SELECT pg_current_wal_insert_lsn()")
			n_tot[$var]=$(( ${n_tot[$var]:-0} + PGB_N ))
			t_tot[$var]=$(awk -v t="${t_tot[$var]:-0}" -v n="$PGB_N" -v tps="$PGB_TPS" 'BEGIN { printf "%.6f", t + (tps > 0 ? n / tps : 0) }')
			wal_tot[$var]=$(( ${wal_tot[$var]:-0} + $(q "$db" "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')::bigint") ))
			err_tot[$var]=$(( ${err_tot[$var]:-0} + PGB_ERR ))
			[ -n "$mark" ] && trim "$db" "$mark"
		done
	done
	for spec in "$@"; do
		IFS='=' read -r var db script <<<"$spec"
		local tps p50 p99 n
		tps=$(awk -v n="${n_tot[$var]}" -v t="${t_tot[$var]}" 'BEGIN { if (t > 0) printf "%.1f", n / t; else print "NaN" }')
		read -r n p50 p99 _ _ < <(latency_stats "$WORK/pgb/$sec.$var.$scale.c$c".r*/tx.*)
		record "$sec" "$var" "$scale" "$c" tps "$tps"
		record "$sec" "$var" "$scale" "$c" p50_ms "$p50"
		record "$sec" "$var" "$scale" "$c" p99_ms "$p99"
		record "$sec" "$var" "$scale" "$c" n "$n"
		record "$sec" "$var" "$scale" "$c" errors "${err_tot[$var]}"
		# WAL written per transaction (the server's own background writes
		# included, which over a point are noise)
		record "$sec" "$var" "$scale" "$c" wal_bytes_per_tx \
			"$(awk -v w="${wal_tot[$var]}" -v n="$n" 'BEGIN { printf "%.0f", w / (n > 0 ? n : 1) }')"
		log "  $sec $var scale=$scale clients=$c: $tps tps, p50 $p50 ms, p99 $p99 ms (n=$n, $ROUNDS rounds)"
	done
}

# round_duration D: one round's share of a point's duration (20s over 2
# rounds: 10; t100: 100 transactions per client in every round)
round_duration() {
	case $1 in
		t*) echo "$1" ;;
		*) echo "$(( ($(parse_seconds "$1") + ROUNDS - 1) / ROUNDS ))" ;;
	esac
}

# scale_label N: 10000 -> 10k, 1000000 -> 1M
scale_label() {
	local n=$1
	if [ $((n % 1000000)) -eq 0 ]; then echo "$((n / 1000000))M"
	elif [ $((n % 1000)) -eq 0 ]; then echo "$((n / 1000))k"
	else echo "$n"; fi
}

# parse_count 10k|100k|1M|2500 -> integer
parse_count() {
	case $1 in
		*[kK]) echo $((${1%[kK]} * 1000)) ;;
		*[mM]) echo $((${1%[mM]} * 1000000)) ;;
		*) echo "$1" ;;
	esac
}

# parse_seconds 20s|2m|90 -> seconds
parse_seconds() {
	case $1 in
		*s) echo "${1%s}" ;;
		*m) echo $((${1%m} * 60)) ;;
		*) echo "$1" ;;
	esac
}
