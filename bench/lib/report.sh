# report.sh: report.md and the PNG plots, generated from $OUT/data only
# (results.tsv and the per-phase files).  Sourced by run.sh; also usable
# alone to regenerate a report: run.sh --report-only DIR.

TABLES="session_snapshots position_snapshots metrics_snapshots risk_guard_snapshots"

# arithmetic on recorded values; NaN when an input is missing
calc() { awk "BEGIN { a = \"$2\"; b = \"$3\"; if (a == \"\" || b == \"\" || a == \"NaN\" || b == \"NaN\" || (\"$1\" ~ /\\// && b + 0 == 0)) { print \"NaN\"; exit } a += 0; b += 0; printf \"%.${4:-2}f\", ($1) }"; }
fmt() { awk -v x="$1" -v d="${2:-1}" 'BEGIN { if (x == "" || x == "NaN") print "n/a"; else printf "%.*f", d, x }'; }
mb() { awk -v x="$1" 'BEGIN { if (x == "") print "n/a"; else printf "%.1f", x / 1048576 }'; }

# verdict MEASURED OP TARGET: PASS, or MISS with the shortfall
verdict() {
	awk -v m="$1" -v op="$2" -v t="$3" 'BEGIN {
		if (m == "" || m == "NaN") { print "not measured"; exit }
		m += 0; t += 0
		if (op == ">=") ok = (m >= t); else ok = (m < t)
		if (ok) { print "**PASS**"; exit }
		if (op == ">=") printf "**MISS** by %.0f%% (%.2f of %.2f)", (t - m) * 100 / t, m, t
		else printf "**MISS** by %.0f%% (%.2f over %.2f)", (m - t) * 100 / t, m, t
	}'
}

# verdict_growth BYTES: PASS when a session's memory did not grow
verdict_growth() {
	awk -v m="$1" 'BEGIN {
		if (m == "" || m == "NaN") print "not measured"
		else if (m + 0 <= 0) print "**PASS**"
		else printf "**MISS** (grew %d bytes)", m
	}'
}

# perf_inclusive NAME FUNCTION: a function's inclusive share of the
# backends' CPU in the profile NAME ("" when not profiled)
perf_inclusive() {
	awk -v f="$2" '/^-- inclusive/ { s = 1; next } s && $4 == f { print $1; exit }' \
		"$OUT/data/perf_$1.txt" 2>/dev/null
}

# why_missed: for each missed goal, the facts of this run that explain it
why_missed() {
	local s=$GOAL_SCALE c=$GOAL_CLIENTS so rep ceil a b
	so=$(get save snapshot_ops "$s" "$c" tps)
	rep=$(get save report "$s" "$c" tps)
	ceil=$(get save ceiling "$s" "$c" tps)
	echo "What this run shows about the goals it misses:"
	echo
	if [ "$(calc 'a/b >= 3' "$so" "$rep" 0)" = 0 ]; then
		echo "- **Save throughput.** Every save commits, so a save cannot be faster than the ceiling, one single-row INSERT of the same document per transaction: $(fmt "$ceil" 0) saves/s at $c clients and $s, $(calc a/b "$ceil" "$rep")x the report's path. No design that commits each save can reach 3x here; snapshot_ops reaches $(calc 'a*100/b' "$so" "$ceil" 0)% of the ceiling. It writes $(calc a/1024 "$(get save snapshot_ops "$s" "$c" wal_bytes_per_tx)" 1 1) kB of WAL per save against the report's $(calc a/1024 "$(get save report "$s" "$c" wal_bytes_per_tx)" 1 1) kB (fewer indexes), and one WAL flush costs $(get info fdatasync_one_8k_us - - value) µs on this disk. The gap to the ceiling is CPU: see the save profiles in the appendix."
	fi
	if [ "$(calc 'a < 5' "$(get save snapshot_ops "$s" "$c" p99_ms)" 0 0)" = 0 ]; then
		echo "- **Save latency p99.** The ceiling's own p99 at $c clients and $s is $(fmt "$(get save ceiling "$s" "$c" p99_ms)" 2) ms and its median $(fmt "$(get save ceiling "$s" "$c" p50_ms)" 2) ms: with fsync and synchronous_commit on, the disk's flush time and the 2 shared cores set the floor, not the store."
	fi
	so=$(get load snapshot_ops "$s" "$c" tps)
	rep=$(get load report "$s" "$c" tps)
	if [ "$(calc 'a/b >= 2' "$so" "$rep" 0)" = 0 ]; then
		a=$(perf_inclusive load_so jsonb_build_object)
		b=$(perf_inclusive load_so jsonb_object_agg_transfn)
		echo -n "- **Load throughput.** load_snapshot() assembles the whole document as one jsonb on the server, from the jsonb columns, and sends it; the report's path sends the stored columns as they are, in four round trips that cost little on a unix socket. With server and clients on 2 cores, CPU decides."
		[ -n "$a" ] && echo -n " In the profile of load_snapshot() at $PROFILE_SCALE (appendix), jsonb_build_object takes $a of the backends' CPU and jsonb_object_agg ${b:-n/a} (inclusive): each stored jsonb value is decoded and encoded again into the result."
		echo
	fi
	a=$(get retention run_cleanup - - seconds)
	b=$(get retention big_delete - - seconds)
	if [ "$(calc 'a/b >= 0.8' "$(get retention run_cleanup - - rows_per_s)" "$(get retention big_delete - - rows_per_s)" 0)" = 0 ]; then
		echo "- **Retention rate.** run_cleanup took $(fmt "$a" 2) s in $(get retention run_cleanup - - xacts) transactions against $(fmt "$b" 2) s for one DELETE of the same rows: $(awk -v a="$a" -v b="$b" -v n="$(get retention run_cleanup - - xacts)" 'BEGIN { if (n > 0) printf "%.1f", (a - b) * 1000 / n; else print "n/a" }') ms more per batch (finding the next batch, keeping the latest snapshot of each running session, one commit and WAL flush each). Its longest transaction was $(fmt "$(get retention run_cleanup - - longest_xact_ms)" 0) ms for $(get retention info - - batch_size) snapshots, so a larger snapshot_ops.cleanup_batch_size would buy rate within the 200 ms budget."
	fi
	if [ "$(calc 'a < 5' "$(get soak bench_soak - - growth_pct)" 0 0)" = 0 ]; then
		echo "- **Steady-state growth.** The index that grew most over the second half is $(get soak index_growth - - top_index): $(mb "$(get soak index_growth - - top_bytes_half)") MB to $(mb "$(calc 'a+b' "$(get soak index_growth - - top_bytes_half)" "$(get soak index_growth - - top_growth_bytes)" 0)") MB (+$(mb "$(get soak index_growth - - top_growth_bytes)") MB); soak_tables.png shows heap against indexes per table, and the job runs below show whether cleanup and VACUUM ran. A GIN index never deletes keys from its entry tree, so a GIN over jsonb values that are unique per row (trade ids, order ids) grows for as long as new values arrive, whatever the retention."
	fi
	echo
}

# series_file SECTION VARIANTS METRIC FILE: clients x (variant, scale)
series_file() {
	local sec=$1 vars=$2 metric=$3 f=$4 c v s
	{
		printf 'clients'
		for s in $SCALE_LABELS; do for v in $vars; do printf '\t%s %s' "$v" "$s"; done; done
		printf '\n'
		for c in $CLIENTS; do
			printf '%s' "$c"
			for s in $SCALE_LABELS; do for v in $vars; do printf '\t%s' "$(get "$sec" "$v" "$s" "$c" "$metric")"; done; done
			printf '\n'
		done
	} >"$f"
}

# ncols FILE: columns of the header row of a tab-separated plot file
ncols() { head -1 "$1" | awk -F'\t' '{ print NF }'; }

gp() {	# gp SCRIPT VAR=VALUE...: run a gnuplot script of plot/
	local script=$1 e="dir='$BENCH/plot';"
	shift
	for a in "$@"; do e+="${a%%=*}=${a#*=};"; done
	gnuplot -e "$e" "$BENCH/plot/$script" 2>>"$WORK/gnuplot.log" || log "gnuplot $script failed (see gnuplot.log)"
}

make_plots() {
	local d=$OUT/data s v db
	if ! grep -q "^save	" "$d/results.tsv"; then
		log "no throughput figures: no throughput or probe plots"
	else
		series_file save "snapshot_ops report ceiling" tps "$d/plot_save_tps.tsv"
		series_file save "snapshot_ops report ceiling" p99_ms "$d/plot_save_p99.tsv"
		series_file load "snapshot_ops report" tps "$d/plot_load_tps.tsv"
		series_file load "snapshot_ops report" p99_ms "$d/plot_load_p99.tsv"
		gp clients.gp "datafile='$d/plot_save_tps.tsv'" "ncols=$(ncols "$d/plot_save_tps.tsv")" nvariants=3 "outfile='$OUT/save_tps.png'" \
			"plottitle='Save throughput (higher is better)'" "ylabel='saves per second'" logy=0
		gp clients.gp "datafile='$d/plot_save_p99.tsv'" "ncols=$(ncols "$d/plot_save_p99.tsv")" nvariants=3 "outfile='$OUT/save_p99.png'" \
			"plottitle='Save latency p99 (lower is better)'" "ylabel='ms'" logy=1
		gp clients.gp "datafile='$d/plot_load_tps.tsv'" "ncols=$(ncols "$d/plot_load_tps.tsv")" nvariants=2 "outfile='$OUT/load_tps.png'" \
			"plottitle='Load throughput (higher is better)'" "ylabel='loads per second'" logy=0
		gp clients.gp "datafile='$d/plot_load_p99.tsv'" "ncols=$(ncols "$d/plot_load_p99.tsv")" nvariants=2 "outfile='$OUT/load_p99.png'" \
			"plottitle='Load latency p99 (lower is better)'" "ylabel='ms'" logy=1

		{
			printf 'scale'
			for v in $PROBES; do for db in $DBS; do printf '\t%s %s' "$v" "${db#bench_}"; done; done
			printf '\n'
			for s in $SCALE_LABELS; do
				printf '%s' "$s"
				for v in $PROBES; do for db in $DBS; do printf '\t%s' "$(get probe "$v.$db" "$s" 1 p50_ms)"; done; done
				printf '\n'
			done
		} >"$d/plot_probes.tsv"
		gp scales.gp "datafile='$d/plot_probes.tsv'" "ncols=$(ncols "$d/plot_probes.tsv")" "outfile='$OUT/probes.png'" \
			"plottitle='Probes and views, median latency (solid: snapshot\\_ops, dashed: report)'" "ylabel='ms (log scale)'"
	fi

	if [ -s "$d/retention_writer_run_cleanup.tsv" ]; then
		gp retention.gp "file_a='$d/retention_writer_run_cleanup.tsv'" "file_b='$d/retention_writer_big_delete.tsv'" \
			"end_a=$(get retention run_cleanup - - seconds)" "end_b=$(get retention big_delete - - seconds)" \
			"title_a='snapshot\\_ops.run\\_cleanup(): batches of $(get retention info - - batch_size), committed one by one'" \
			"title_b='one DELETE of the same rows, as the report cleanup does'" "outfile='$OUT/retention.png'"
	fi

	if [ -s "$d/soak_sizes.tsv" ]; then
		for db in bench_soak bench_soak_report; do
			awk -F'\t' -v db="$db" '$2 == db { tot[$1] += $9 } END { for (t in tot) print t "\t" tot[t] }' "$d/soak_sizes.tsv" |
				sort -n >"$d/plot_soak_total_$db.tsv"
		done
		gp soak_sizes.gp "file_so='$d/plot_soak_total_bench_soak.tsv'" "file_report='$d/plot_soak_total_bench_soak_report.tsv'" \
			"half=$((SOAK_SECS / 2))" "outfile='$OUT/soak_sizes.png'"
		{
			printf 'seconds'
			for t in $TABLES; do printf '\t%s heap\t%s indexes' "$t" "$t"; done
			printf '\n'
			awk -F'\t' '$2 == "bench_soak" { print $1 }' "$d/soak_sizes.tsv" | sort -n -u | while read -r t; do
				printf '%s' "$t"
				for rel in $TABLES; do
					awk -F'\t' -v t="$t" -v r="$rel" '$1 == t && $2 == "bench_soak" && $3 == r { printf "\t%s\t%s", $6, $7 }' "$d/soak_sizes.tsv"
				done
				printf '\n'
			done
		} >"$d/plot_soak_tables.tsv"
		gp soak_tables.gp "datafile='$d/plot_soak_tables.tsv'" "ncols=$(ncols "$d/plot_soak_tables.tsv")" "outfile='$OUT/soak_tables.png'" \
			"plottitle='snapshot\\_ops tables over the soak (solid: heap, dashed: indexes)'"
		gp soak_latency.gp "file_so='$d/soak_latency_bench_soak.tsv'" "file_report='$d/soak_latency_bench_soak_report.tsv'" \
			"outfile='$OUT/soak_latency.png'"
		[ -s "$d/soak_worker.tsv" ] &&
			gp soak_worker.gp "datafile='$d/soak_worker.tsv'" "outfile='$OUT/soak_worker.png'"
	fi
	[ -s "$d/memory_snapshot_ops.tsv" ] &&
		gp memory.gp "file_so='$d/memory_snapshot_ops.tsv'" "file_report='$d/memory_report.tsv'" "outfile='$OUT/memory.png'"
}

# throughput_table SECTION VARIANTS SCALE
throughput_table() {
	local sec=$1 vars=$2 s=$3 c v hdr="| clients |" sep="|---:|"
	for v in $vars; do hdr+=" $v tps | p50 ms | p99 ms |"; sep+="---:|---:|---:|"; done
	[ "$sec" = save ] && { hdr+=" WAL per save, kB (snapshot_ops/report) |"; sep+="---:|"; }
	hdr+=" snapshot_ops / report |"
	sep+="---:|"
	case " $vars " in *" ceiling "*) hdr+=" snapshot_ops / ceiling |"; sep+="---:|" ;; esac
	echo "$hdr"
	echo "$sep"
	for c in $CLIENTS; do
		printf '| %s |' "$c"
		for v in $vars; do
			printf ' %s | %s | %s |' "$(fmt "$(get "$sec" "$v" "$s" "$c" tps)" 0)" \
				"$(fmt "$(get "$sec" "$v" "$s" "$c" p50_ms)" 2)" "$(fmt "$(get "$sec" "$v" "$s" "$c" p99_ms)" 2)"
		done
		[ "$sec" = save ] && printf ' %s/%s |' "$(calc a/1024 "$(get "$sec" snapshot_ops "$s" "$c" wal_bytes_per_tx)" 1 1)" \
			"$(calc a/1024 "$(get "$sec" report "$s" "$c" wal_bytes_per_tx)" 1 1)"
		printf ' %sx |' "$(calc a/b "$(get "$sec" snapshot_ops "$s" "$c" tps)" "$(get "$sec" report "$s" "$c" tps)")"
		case " $vars " in *" ceiling "*)
			printf ' %s%% |' "$(calc 'a*100/b' "$(get "$sec" snapshot_ops "$s" "$c" tps)" "$(get "$sec" ceiling "$s" "$c" tps)" 0)" ;;
		esac
		printf '\n'
	done
}

write_report() {
	local f=$OUT/report.md s c v db m goal_scale r
	# the goals are stated at 4 clients and (for latency) 100k snapshots;
	# when a run leaves those out, the nearest measured point stands in
	# and the table says so
	GOAL_CLIENTS=4
	case " $CLIENTS " in *" 4 "*) ;; *) GOAL_CLIENTS=$(echo "$CLIENTS" | awk '{ print $NF }') ;; esac
	GOAL_SCALE=100k
	case " $SCALE_LABELS " in *" 100k "*) ;; *) GOAL_SCALE=$(echo "$SCALE_LABELS" | awk '{ print $NF }') ;; esac
	LAST_SCALE=$(echo "$SCALE_LABELS" | awk '{ print $NF }')
	MEMN=$(get memory snapshot_ops - - saves)
	MEMN=${MEMN:-0}
	SOAKN=$(get soak info - - seconds)

	{
		echo "# snapshot_ops benchmark, $(get info date - - value)"
		echo
		echo "snapshot_ops $(get info extension_version - - value) (tree at commit $(get info commit - - value)) on $(get info server_version - - value), host $(get info host - - value): $(get info cores - - value) cores, $(get info memory_gb - - value) GB RAM."
		echo "Generated by \`$(get info command - - value)\` in $(get info run_minutes - - value) minutes; nothing in this directory is edited by hand."
		echo
		if [ "$(get info deviations - - value)" != none ]; then
			echo "**Reduced run.** Flags that differ from the default full run: \`$(get info deviations - - value)\`."
			echo "Figures at the omitted scales or durations were not measured."
			echo
		fi
		echo "- Server: a throwaway cluster started by the command (unix socket), \`shared_buffers=$SHARED_BUFFERS\`, \`max_wal_size=4GB\`, \`checkpoint_timeout=15min\`; **\`fsync=on\` and \`synchronous_commit=on\`**: every save waits for its WAL flush, as in production."
		echo "- Clients: pgbench on the same machine, \`-M simple\` (values sent as literals, as the report's psycopg2 client does), $NSESSIONS sessions, $NPOS positions per snapshot, documents of about $(get info doc_bytes - - value) bytes; each point runs $DURATION_LABEL in $ROUNDS rounds that alternate the variants, each round after a CHECKPOINT, and the rows a round adds are deleted before the next."
		echo "- Baseline, in a second database of the same server: the report's design, its schema with $(get info index_count bench_report - count) indexes (snapshot_ops: $(get info index_count bench_so - count)) and its client path: one INSERT per row in a transaction per save ($((NPOS + 3)) INSERTs), four SELECTs per load. Ceiling: one single-row INSERT of the same document per transaction."
		echo "- The machine has $(get info cores - - value) cores shared by server and clients, so 4 and 8 clients measure contention as much as the store. Load average (1, 5, 15 min) at the start: $(get info loadavg_start - - value); at the end: $(get info loadavg_end - - value) (anything above the benchmark's own load is other work on the machine)."
		[ -n "$(get info fdatasync_one_8k_us - - value)" ] &&
			echo "- The disk: one WAL flush (pg_test_fsync, fdatasync) takes $(get info fdatasync_one_8k_us - - value) µs for one 8 kB write and $(get info fdatasync_two_8k_us - - value) µs for two; a commit cannot be faster, whatever the design."
		echo
		echo "## Goals"
		echo
		echo "| goal | target | measured | verdict |"
		echo "|---|---|---|---|"
		for s in $SCALE_LABELS; do
			r=$(calc a/b "$(get save snapshot_ops "$s" "$GOAL_CLIENTS" tps)" "$(get save report "$s" "$GOAL_CLIENTS" tps)")
			echo "| save throughput, $GOAL_CLIENTS clients, $s | >= 3x the report's path | ${r}x ($(fmt "$(get save snapshot_ops "$s" "$GOAL_CLIENTS" tps)" 0) vs $(fmt "$(get save report "$s" "$GOAL_CLIENTS" tps)" 0) saves/s; ceiling $(fmt "$(get save ceiling "$s" "$GOAL_CLIENTS" tps)" 0), so at most $(calc a/b "$(get save ceiling "$s" "$GOAL_CLIENTS" tps)" "$(get save report "$s" "$GOAL_CLIENTS" tps)")x is possible with one commit per save) | $(verdict "$r" '>=' 3) |"
		done
		for s in $SCALE_LABELS; do
			r=$(calc a/b "$(get load snapshot_ops "$s" "$GOAL_CLIENTS" tps)" "$(get load report "$s" "$GOAL_CLIENTS" tps)")
			echo "| load throughput, $GOAL_CLIENTS clients, $s | >= 2x the report's path | ${r}x ($(fmt "$(get load snapshot_ops "$s" "$GOAL_CLIENTS" tps)" 0) vs $(fmt "$(get load report "$s" "$GOAL_CLIENTS" tps)" 0) loads/s) | $(verdict "$r" '>=' 2) |"
		done
		m=$(get save snapshot_ops "$GOAL_SCALE" "$GOAL_CLIENTS" p99_ms)
		echo "| save latency p99, $GOAL_CLIENTS clients, $GOAL_SCALE | < 5 ms | $(fmt "$m" 2) ms (report's path: $(fmt "$(get save report "$GOAL_SCALE" "$GOAL_CLIENTS" p99_ms)" 2) ms, ceiling: $(fmt "$(get save ceiling "$GOAL_SCALE" "$GOAL_CLIENTS" p99_ms)" 2) ms) | $(verdict "$m" '<' 5) |"
		r=$(calc 'a/b' "$(get retention run_cleanup - - rows_per_s)" "$(get retention big_delete - - rows_per_s)")
		echo "| retention rate | >= 0.8 of one big DELETE | $(fmt "$(get retention run_cleanup - - rows_per_s)" 0) vs $(fmt "$(get retention big_delete - - rows_per_s)" 0) rows/s = $r | $(verdict "$r" '>=' 0.8) |"
		m=$(get retention run_cleanup - - longest_xact_ms)
		echo "| longest cleanup transaction | <= 200 ms | $(fmt "$m" 0) ms (one big DELETE: $(fmt "$(get retention big_delete - - longest_xact_ms)" 0) ms) | $(verdict "$m" '<' 200.001) |"
		m=$(get soak bench_soak - - growth_pct)
		echo "| steady-state growth, second half of the soak | < 5% | $(fmt "$m" 1)% (report's design: $(fmt "$(get soak bench_soak_report - - growth_pct)" 1)%) | $(verdict "$m" '<' 5) |"
		m=$(calc 'a-b' "$(get memory snapshot_ops - - context_bytes_last)" "$(get memory snapshot_ops - - context_bytes_half)" 0)
		r=$(calc 'a-b' "$(get memory report - - context_bytes_last)" "$(get memory report - - context_bytes_half)" 0)
		echo "| backend memory over $(get memory snapshot_ops - - saves) saves | no growth | memory contexts grew $(fmt "$m" 0) bytes over the second half (saves $((MEMN / 2)) to $(get memory snapshot_ops - - saves); the report path's session: $(fmt "$r" 0) bytes); $(fmt "$(calc 'a-b' "$(get memory snapshot_ops - - context_bytes_last)" "$(get memory snapshot_ops - - context_bytes_first)" 0)" 0) bytes from save $((MEMN / 10)) to the end | $(verdict_growth "$m") |"
		echo
		why_missed
		echo "## Save"
		echo
		echo "![save throughput](save_tps.png)"
		echo "![save latency](save_p99.png)"
		echo
		for s in $SCALE_LABELS; do
			echo "**$s snapshots**"
			echo
			throughput_table save "snapshot_ops report ceiling" "$s"
			echo
		done
		echo "## Load"
		echo
		echo "![load throughput](load_tps.png)"
		echo "![load latency](load_p99.png)"
		echo
		for s in $SCALE_LABELS; do
			echo "**$s snapshots**"
			echo
			throughput_table load "snapshot_ops report" "$s"
			echo
		done
		echo "## Probes and views as the tables grow"
		echo
		echo "One client, ${PROBE_LABEL} per probe. The report's probes: latest snapshot of a session; JSONB key search (\`trade_data ? key\`, a key one position in 1000 carries). Views: the extension's against the report's (as printed, GROUP BY lists completed)."
		echo
		echo "![probes](probes.png)"
		echo
		echo "| probe | scale | snapshot_ops p50 ms | p99 ms | report p50 ms | p99 ms | runs (snapshot_ops/report) |"
		echo "|---|---|---:|---:|---:|---:|---:|"
		for v in $PROBES; do
			for s in $SCALE_LABELS; do
				echo "| $v | $s | $(fmt "$(get probe "$v.bench_so" "$s" 1 p50_ms)" 2) | $(fmt "$(get probe "$v.bench_so" "$s" 1 p99_ms)" 2) | $(fmt "$(get probe "$v.bench_report" "$s" 1 p50_ms)" 2) | $(fmt "$(get probe "$v.bench_report" "$s" 1 p99_ms)" 2) | $(get probe "$v.bench_so" "$s" 1 n)/$(get probe "$v.bench_report" "$s" 1 n) |"
			done
		done
		echo
		echo "Sizes after each bulk load (MB):"
		echo
		echo "| scale | table | rows | snapshot_ops heap | indexes | TOAST | report heap | indexes | TOAST |"
		echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
		for s in $SCALE_LABELS; do
			for t in $TABLES; do
				echo "| $s | $t | $(get size bench_so "$s" "$t" rows) | $(mb "$(get size bench_so "$s" "$t" heap_bytes)") | $(mb "$(get size bench_so "$s" "$t" index_bytes)") | $(mb "$(get size bench_so "$s" "$t" toast_bytes)") | $(mb "$(get size bench_report "$s" "$t" heap_bytes)") | $(mb "$(get size bench_report "$s" "$t" index_bytes)") | $(mb "$(get size bench_report "$s" "$t" toast_bytes)") |"
			done
		done
		echo
		for s in $SCALE_LABELS; do
			echo "Bulk load to $s, with VACUUM ANALYZE: snapshot_ops $(get load bench_so "$s" - seconds) s, report $(get load bench_report "$s" - seconds) s."
		done
		echo
		echo "## Retention"
		echo
		echo "$(get retention info - - snapshots) snapshots over the last 60 days, $(get retention info - - expired_snapshots) of them stopped and older than 30 days; each method runs on its own copy of that database while one client saves at $RET_RATE saves/s. run_cleanup uses the product default batch size ($(get retention info - - batch_size) snapshots); the longest transaction is sampled from pg_stat_activity every $RET_SAMPLE_MS ms (so it is at most $RET_SAMPLE_MS ms short)."
		echo
		echo "| method | snapshots deleted | rows deleted (4 tables) | seconds | rows/s | transactions | longest transaction ms | writer p99 before ms | writer p50 during ms | writer p99 during ms | writer max during ms |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for m in run_cleanup big_delete; do
			echo "| $m | $(get retention "$m" - - deleted_snapshots) | $(get retention "$m" - - deleted_rows) | $(fmt "$(get retention "$m" - - seconds)" 2) | $(fmt "$(get retention "$m" - - rows_per_s)" 0) | $(get retention "$m" - - xacts) | $(fmt "$(get retention "$m" - - longest_xact_ms)" 0) | $(fmt "$(get retention "$m" - - writer_before_p99_ms)" 2) | $(fmt "$(get retention "$m" - - writer_during_p50_ms)" 2) | $(fmt "$(get retention "$m" - - writer_during_p99_ms)" 2) | $(fmt "$(get retention "$m" - - writer_during_max_ms)" 2) |"
		done
		echo
		echo "![retention](retention.png)"
		echo
		echo "## Steady state"
		echo
		echo "$(( ${SOAKN:-0} / 60 )) minutes ($(get soak info - - seconds) s) at $(get soak info - - rate) saves/s into each database at once, $(get soak info - - sessions) running sessions. snapshot_ops: its worker runs cleanup (retention $(get soak info - - retention), retention_mode = bounded) and VACUUM ANALYZE every minute. Report: its cleanup function every minute with the same age, plus autovacuum with its settings. Sizes are heap + indexes + TOAST of the four tables, sampled every ${SOAK_SAMPLE_SECS} s; growth is from the sample nearest the second half's start to the last."
		echo
		echo "| database | saves | save p50 ms | save p99 ms | MB at half | MB at end | growth in second half | snapshots at end |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|"
		for db in bench_soak bench_soak_report; do
			echo "| $db | $(get soak "$db" - - saves) | $(fmt "$(get soak "$db" - - save_p50_ms)" 2) | $(fmt "$(get soak "$db" - - save_p99_ms)" 2) | $(mb "$(get soak "$db" - - bytes_half)") | $(mb "$(get soak "$db" - - bytes_end)") | $(fmt "$(get soak "$db" - - growth_pct)" 1)% | $(get soak "$db" - - rows_end) |"
		done
		echo
		if [ -s "$OUT/data/soak_index_growth.tsv" ]; then
			echo "Indexes of snapshot_ops over the second half (MB at its start, growth):"
			echo
			echo "| index | MB at half | growth MB |"
			echo "|---|---:|---:|"
			awk -F'\t' '{ printf "| %s | %.1f | %+.2f |\n", $1, $2 / 1048576, $3 / 1048576 }' "$OUT/data/soak_index_growth.tsv"
			echo
		fi
		echo "Worker jobs during the soak: $(get soak bench_soak - - cleanup_runs) cleanup runs and $(get soak bench_soak - - vacuum_runs) VACUUM runs succeeded, $(get soak bench_soak - - failed_runs) did not (snapshot_ops.job_runs):"
		echo
		echo '```'
		cat "$OUT/data/soak_job_runs.txt" 2>/dev/null
		echo '```'
		echo
		echo "![soak sizes](soak_sizes.png)"
		echo "![soak tables](soak_tables.png)"
		echo "![soak latency](soak_latency.png)"
		echo
		echo "Worker memory ($(get soak worker - - processes) snapshot_ops processes sampled): private memory (RssAnon) $(get soak worker - - anon_kb_first) kB at the first sample, $(get soak worker - - anon_kb_last) kB at the last, $(get soak worker - - anon_kb_max) kB at most (one process)."
		echo
		[ -s "$OUT/data/soak_worker.tsv" ] && echo "![worker memory](soak_worker.png)"
		echo
		echo "## Backend memory"
		echo
		echo "One session, $(get memory snapshot_ops - - saves) saves, reading its own \`pg_backend_memory_contexts\` and \`/proc/self/status\` every tenth; the same through the report's path in another session."
		echo
		echo "| path | seconds | memory contexts at save $((MEMN / 10)) | at save $((MEMN / 2)) | at the end | RssAnon kB at save $((MEMN / 10)) | at the end |"
		echo "|---|---:|---:|---:|---:|---:|---:|"
		for m in snapshot_ops report; do
			echo "| $m | $(get memory "$m" - - seconds) | $(get memory "$m" - - context_bytes_first) | $(get memory "$m" - - context_bytes_half) | $(get memory "$m" - - context_bytes_last) | $(get memory "$m" - - anon_kb_first) | $(get memory "$m" - - anon_kb_last) |"
		done
		echo
		echo "![memory](memory.png)"
		echo
		echo "## Appendix: evidence"
		echo
		echo "### Plans of the hot paths at $LAST_SCALE (auto_explain, nested statements, with timing)"
		echo
		echo '```'
		cat "$OUT/data/explain_$LAST_SCALE.txt" 2>/dev/null
		echo '```'
		echo
		if ls "$OUT"/data/perf_*.txt >/dev/null 2>&1; then
			echo "### CPU profiles at $PROFILE_SCALE (perf, server backends only, functions over 0.7%)"
			echo
			for m in save_so save_report load_so load_report; do
				[ -s "$OUT/data/perf_$m.txt" ] || continue
				echo "$m:"
				echo
				echo '```'
				cat "$OUT/data/perf_$m.txt"
				echo '```'
				echo
			done
		fi
		echo "### test_query_performance('bench_1', 20), the product's own probe"
		echo
		for s in $SCALE_LABELS; do
			echo "$s:"
			echo
			echo '```'
			cat "$OUT/data/test_query_performance_$s.txt" 2>/dev/null
			echo '```'
		done
		echo
		echo "### Worker status at the start and end of the soak"
		echo
		echo '```'
		cat "$OUT/data/soak_worker_status_start.txt" "$OUT/data/soak_worker_status_end.txt" 2>/dev/null
		echo '```'
		echo
		echo "Raw figures: \`data/results.tsv\` (section, variant, scale, clients, metric, value) and the per-phase files in \`data/\`."
	} >"$f"
}
