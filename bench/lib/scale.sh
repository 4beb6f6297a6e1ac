# scale.sh: the two databases measured side by side at each scale, their
# bulk load, and the throughput, latency and probe points.  Sourced by
# run.sh.
#
#   bench_so       CREATE EXTENSION snapshot_ops
#   bench_report   the report's schema, 19 indexes (sql/report_schema.sql)
#
# Both get the same rows from sql/load.sql and the bench helpers.

DBS="bench_so bench_report"

setup_databases() {
	local db
	for db in $DBS; do
		q postgres "CREATE DATABASE $db" >/dev/null
	done
	psqlx bench_so -c "CREATE EXTENSION snapshot_ops" -f "$BENCH/sql/bench_helpers.sql" >/dev/null
	psqlx bench_report -f "$BENCH/sql/report_schema.sql" -f "$BENCH/sql/bench_helpers.sql" >/dev/null
	record info index_count bench_so - count \
		"$(q bench_so "SELECT count(*) FROM pg_index WHERE indrelid IN ('session_snapshots'::regclass, 'position_snapshots'::regclass, 'metrics_snapshots'::regclass, 'risk_guard_snapshots'::regclass)")"
	record info index_count bench_report - count \
		"$(q bench_report "SELECT count(*) FROM pg_index WHERE indrelid IN ('session_snapshots'::regclass, 'position_snapshots'::regclass, 'metrics_snapshots'::regclass, 'risk_guard_snapshots'::regclass)")"
	# created_at of the bulk rows spreads over the 20 days before now, the
	# largest scale filling them (nothing is past the 30-day retention)
	LOAD_T0=$(q postgres "SELECT now() - interval '20 days'")
	LOAD_STEP_MS=$((20 * 86400 * 1000 / MAX_SCALE))
}

# load_range DB FROM TO: bulk load, then VACUUM ANALYZE as a DBA would
load_range() {
	local db=$1 from=$2 to=$3 t0 t1
	t0=$(date +%s.%N)
	psqlx "$db" -v from="$from" -v to="$to" -v nsessions="$NSESSIONS" -v npos="$NPOS" \
		-v t0="$LOAD_T0" -v step_ms="$LOAD_STEP_MS" -v stopped_upto=0 \
		-f "$BENCH/sql/load.sql" >/dev/null || die "loading $db failed"
	psqlx "$db" -c "VACUUM (ANALYZE) session_snapshots, position_snapshots, metrics_snapshots, risk_guard_snapshots" ||
		die "vacuum of $db failed"
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }'
}

# record_sizes DB SCALE: table, index and toast bytes of the four tables
record_sizes() {
	local db=$1 scale=$2 rel live dead heap idx toast total
	while IFS='|' read -r rel live dead heap idx toast total; do
		record size "$db" "$scale" "$rel" heap_bytes "$heap"
		record size "$db" "$scale" "$rel" index_bytes "$idx"
		record size "$db" "$scale" "$rel" toast_bytes "$toast"
		record size "$db" "$scale" "$rel" rows "$live"
	done < <(q "$db" "SELECT * FROM bench.sizes()")
}

# trim DB MARK: remove what a save point added, so that every point runs
# against the same number of snapshots
trim() {
	local db=$1 mark=$2
	q "$db" "DELETE FROM session_snapshots WHERE snapshot_id > $mark" >/dev/null
	q "$db" "TRUNCATE bench.ceiling" >/dev/null
	q "$db" "VACUUM session_snapshots, position_snapshots, metrics_snapshots, risk_guard_snapshots, bench.ceiling" >/dev/null
}

# condense_plans: auto_explain output (NOTICE blocks) with each distinct
# statement's last plan shown once, headed by how often it ran and its
# total time
condense_plans() {
	sed 's/^psql:<stdin>:[0-9]*: //' | awk '
		function flush() {
			if (key == "") return
			if (!(key in n)) order[++nk] = key
			plan[key] = block
			n[key]++; total[key] += dur
			key = ""; block = ""
		}
		/^NOTICE:  duration: [0-9.]+ ms  plan:/ { flush(); dur = $3; inblock = 1; next }
		inblock && /^Query Text: / {
			key = substr($0, 13)
			block = (length($0) > 240 ? substr($0, 1, 240) " ..." : $0) "\n"
			next
		}
		inblock && /^(  |[A-Z])/ && key != "" { block = block $0 "\n"; next }
		{ flush(); inblock = 0; other = other $0 "\n" }
		END {
			flush()
			for (i = 1; i <= nk; i++)
				printf "-- ran %d time(s), %.3f ms in all\n%s\n", n[order[i]], total[order[i]], plan[order[i]]
			printf "%s", other
		}'
}

# explain_hot_paths SCALE: the plans of the statements save_snapshot() and
# load_snapshot() run inside, with timings (auto_explain, nested
# statements, including the foreign key checks), and the report path's
# load queries, for the appendix
explain_hot_paths() {
	local scale=$1 f=$OUT/data/explain_$1.txt
	{
		echo "== snapshot_ops: three save_snapshot() and three load_snapshot() calls in one session; the last plan of each statement (auto_explain, nested statements)"
		psqlx bench_so 2>&1 <<EOSQL | condense_plans
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_analyze = on;
SET auto_explain.log_buffers = on;
SET auto_explain.log_timing = on;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_level = notice;
SET client_min_messages = notice;
\set doc '$(state_document | sed 's/:sid/1/g; s/:loop/42/g; s/:px/500/g')'
BEGIN;
SELECT save_snapshot(:'doc') IS NOT NULL AS saved \gset
SELECT save_snapshot(:'doc') IS NOT NULL AS saved \gset
SELECT save_snapshot(:'doc') IS NOT NULL AS saved \gset
ROLLBACK;
SELECT load_snapshot('bench_1') IS NOT NULL AS loaded \gset
SELECT load_snapshot('bench_2') IS NOT NULL AS loaded \gset
SELECT load_snapshot('bench_3') IS NOT NULL AS loaded \gset
EOSQL
		echo
		echo "== report: its four load SELECTs"
		psqlx bench_report 2>&1 <<'EOSQL'
SELECT snapshot_id AS sid FROM session_snapshots WHERE session_id = 'bench_1' ORDER BY created_at DESC LIMIT 1 \gset
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM session_snapshots WHERE session_id = 'bench_1' ORDER BY created_at DESC LIMIT 1;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM position_snapshots WHERE snapshot_id = :sid;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM metrics_snapshots WHERE snapshot_id = :sid;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM risk_guard_snapshots WHERE snapshot_id = :sid;
EOSQL
		for db in $DBS; do
			echo
			echo "== $db: the report's probes"
			psqlx "$db" 2>&1 <<'EOSQL'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM session_snapshots WHERE session_id = 'bench_1' ORDER BY created_at DESC LIMIT 1;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT snapshot_id, position_key, trade_data->>'symbol' FROM position_snapshots WHERE trade_data ? 'liquidation';
EOSQL
		done
	} >"$f" 2>&1
}

# profile_point NAME DB SCRIPT MARK: a CPU profile of the server backends
# serving 4 clients of SCRIPT for PROFILE_SECS (perf, call graphs off in
# the summary: the functions where the time goes), into data/perf_NAME.txt.
# Needs perf and the right to trace the server's processes (root).
profile_point() {
	local name=$1 db=$2 script=$3 mark=$4 pids bg
	local pdir=$WORK/pgb/profile_$name
	mkdir -p "$pdir"
	(cd "$pdir" && "$BINDIR/pgbench" -n -M simple -h "$SOCK" -p "$PORT" -U postgres \
		-c 4 -j "$PGB_THREADS" -T $((PROFILE_SECS + 3)) -D nsessions="$NSESSIONS" -f "$script" "$db") >"$pdir/out" 2>&1 &
	bg=$!
	sleep 1.5
	pids=$(q "$db" "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE application_name = 'pgbench'")
	if [ -n "$pids" ]; then
		perf record -F 999 -g -p "$pids" -o "$WORK/perf.$name.data" -- sleep "$PROFILE_SECS" >/dev/null 2>&1
	fi
	wait "$bg"
	{
		echo "perf record -F 999 -g, $PROFILE_SECS s, the backends of 4 pgbench clients running $(basename "$script"); $(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$pdir/out") tps"
		echo "-- self time, by function (over 0.7%)"
		perf report -i "$WORK/perf.$name.data" --stdio --no-children --sort dso,symbol -g none \
			--percent-limit 0.7 2>/dev/null | grep -v '^#' | grep -v '^$' | head -30
		echo "-- inclusive time (the function and what it calls), named functions over 3%"
		perf report -i "$WORK/perf.$name.data" --stdio --children --sort symbol -g none \
			--percent-limit 3 2>/dev/null | grep -v '^#' | grep -v '^$' | grep -v '\] 0x0000' | head -40
	} >"$OUT/data/perf_$name.txt"
	[ -n "$mark" ] && trim "$db" "$mark"
}

# run_scale N: bring both databases to N snapshots and measure
run_scale() {
	local n=$1 label secs db c var
	label=$(scale_label "$n")
	secs=$DURATION
	log "scale $label: loading snapshots $((LOADED + 1)) .. $n into both databases"
	for db in $DBS; do
		record load "$db" "$label" - seconds "$(load_range "$db" $((LOADED + 1)) "$n")"
		record_sizes "$db" "$label"
	done
	LOADED=$n

	log "scale $label: probes and views, 1 client, $PROBE_LABEL each"
	DURATION_OF_POINTS=$PROBE_DURATION
	for var in probe_latest probe_jsonb view_latest_one view_history view_details view_latest_all; do
		points probe "$label" 1 "" "$var.bench_so=bench_so=$BENCH/pgbench/$var.sql" \
			"$var.bench_report=bench_report=$BENCH/pgbench/$var.sql"
	done
	# the product's own probe function, as a DBA would call it
	psqlx bench_so -c "SELECT * FROM test_query_performance('bench_1', 20)" \
		>"$OUT/data/test_query_performance_$label.txt" 2>&1

	DURATION_OF_POINTS=$DURATION
	log "scale $label: load (read) throughput, $DURATION_LABEL per point"
	for c in $CLIENTS; do
		points load "$label" "$c" "" "snapshot_ops=bench_so=$BENCH/pgbench/load_so.sql" \
			"report=bench_report=$BENCH/pgbench/load_report.sql"
	done

	log "scale $label: save throughput, $DURATION_LABEL per point"
	for c in $CLIENTS; do
		points save "$label" "$c" "$n" "snapshot_ops=bench_so=$WORK/scripts/save_so.sql" \
			"report=bench_report=$WORK/scripts/save_report.sql" \
			"ceiling=bench_so=$WORK/scripts/save_ceiling.sql"
	done
	explain_hot_paths "$label"
	if [ "$label" = "$PROFILE_SCALE" ] && [ "$PROFILE" = 1 ]; then
		log "scale $label: CPU profiles of the save and load paths, ${PROFILE_SECS}s each"
		profile_point save_so bench_so "$WORK/scripts/save_so.sql" "$n"
		profile_point save_report bench_report "$WORK/scripts/save_report.sql" "$n"
		profile_point load_so bench_so "$BENCH/pgbench/load_so.sql" ""
		profile_point load_report bench_report "$BENCH/pgbench/load_report.sql" ""
	fi
}
