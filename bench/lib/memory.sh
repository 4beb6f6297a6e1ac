# memory.sh: backend memory of one session over MEM_SAVES saves, through
# snapshot_ops (one save_snapshot() per save) and through the report's path
# (one INSERT per row), each in one psql session that reads its own
# pg_backend_memory_contexts and /proc/self/status every MEM_SAVES/10
# saves.  Sourced by run.sh.

# the document with fixed values: session bench_S, loop L
_doc() { state_document | sed "s/:sid/$1/g; s/:loop/$2/g; s/:px/500/g"; }

_mem_probe() {
	# $1 = saves so far; output: MEM|saves|context bytes|RssAnon kB|VmRSS kB
	printf "SELECT 'MEM', %d, (SELECT sum(total_bytes) FROM pg_backend_memory_contexts), (regexp_match(pg_read_file('/proc/self/status'), 'RssAnon:\\\\s+(\\\\d+)'))[1], (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\\\\s+(\\\\d+)'))[1] \\\\g |cat >>%s\n" "$1" "$2"
}

# mem_script_so FILE RESULT: psql script for the extension's path
mem_script_so() {
	local f=$1 res=$2 i
	{
		for i in 0 1 2 3 4 5 6 7 8 9; do printf "\\\\set d%d '%s'\n" "$i" "$(_doc $((i + 1)) $i)"; done
		_mem_probe 0 "$res"
		for ((i = 1; i <= MEM_SAVES; i++)); do
			printf "SELECT save_snapshot(:'d%d') \\\\g /dev/null\n" $((i % 10))
			[ $((i % (MEM_SAVES / 10))) -eq 0 ] && _mem_probe "$i" "$res"
		done
	} >"$f"
}

# mem_script_report FILE RESULT: psql script for the report's client path:
# the pgbench transaction itself (psql fills in :snapshot_id from \gset as
# pgbench does), with fixed values for the pgbench variables
mem_script_report() {
	local f=$1 res=$2 i body
	body=$(grep -v '^\\set' "$WORK/scripts/save_report.sql" | sed "s/:loop/42/g; s/:px/500/g")
	{
		_mem_probe 0 "$res"
		for ((i = 1; i <= MEM_SAVES; i++)); do
			printf '%s\n' "${body//bench_:sid/bench_$((i % 10 + 1))}"
			[ $((i % (MEM_SAVES / 10))) -eq 0 ] && _mem_probe "$i" "$res"
		done
	} >"$f"
}

run_memory() {
	local db path res t0 t1
	for path in snapshot_ops report; do
		db=bench_so
		[ "$path" = report ] && db=bench_report
		res=$WORK/mem_$path.out
		: >"$res"
		log "memory: $MEM_SAVES saves in one session through $path"
		if [ "$path" = snapshot_ops ]; then mem_script_so "$WORK/mem_$path.sql" "$res"; else mem_script_report "$WORK/mem_$path.sql" "$res"; fi
		t0=$(date +%s.%N)
		psqlx "$db" -At -f "$WORK/mem_$path.sql" >"$WORK/mem_$path.log" 2>&1 || { tail -5 "$WORK/mem_$path.log"; die "memory run $path failed"; }
		t1=$(date +%s.%N)
		tr '|' '\t' <"$res" | cut -f2- >"$OUT/data/memory_$path.tsv"
		record memory "$path" - - seconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
		# growth from the first tenth (caches warm) to the end
		record memory "$path" - - context_bytes_first "$(awk -F'\t' 'NR == 2 { print $2 }' "$OUT/data/memory_$path.tsv")"
		record memory "$path" - - context_bytes_last "$(awk -F'\t' 'END { print $2 }' "$OUT/data/memory_$path.tsv")"
		# a leak grows with the saves; a cache fills once: the second half
		# tells them apart
		record memory "$path" - - context_bytes_half "$(awk -F'\t' -v h=$((MEM_SAVES / 2)) '$1 == h { print $2 }' "$OUT/data/memory_$path.tsv")"
		record memory "$path" - - anon_kb_first "$(awk -F'\t' 'NR == 2 { print $3 }' "$OUT/data/memory_$path.tsv")"
		record memory "$path" - - anon_kb_last "$(awk -F'\t' 'END { print $3 }' "$OUT/data/memory_$path.tsv")"
		record memory "$path" - - saves "$MEM_SAVES"
		trim "$db" "$LOADED"
	done
}
