# soak.sh: steady state.  Writes at a fixed rate for SOAK_SECS into two
# databases at once:
#
#   bench_soak         snapshot_ops; its background worker runs cleanup and
#                      VACUUM every minute with a short retention
#                      (retention_mode = bounded, the default)
#   bench_soak_report  the report's design; the report's retention function
#                      called every minute as the report recommends (cron),
#                      with the same short age, and autovacuum
#
# and samples table and index sizes and the worker's memory every
# SOAK_SAMPLE_SECS.  Sourced by run.sh.

# proc_mem PID: "rss_kb rss_anon_kb pss_kb" of a process
proc_mem() {
	local rss anon pss
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	pss=$(awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null)
	echo "${rss:-NaN} ${anon:-NaN} ${pss:-NaN}"
}

soak_sample() {
	local t=$1 db rel live dead heap idx toast total pid bt
	for db in bench_soak bench_soak_report; do
		while IFS='|' read -r rel live dead heap idx toast total; do
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$db" "$rel" "$live" "$dead" "$heap" "$idx" "$toast" "$total" \
				>>"$OUT/data/soak_sizes.tsv"
		done < <(q "$db" "SELECT * FROM bench.sizes()")
	done
	# every index of the extension's tables, to see which one grows
	q bench_soak "SELECT $t, indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes WHERE relid IN ('session_snapshots'::regclass, 'position_snapshots'::regclass, 'metrics_snapshots'::regclass, 'risk_guard_snapshots'::regclass)" |
		tr '|' '\t' >>"$OUT/data/soak_indexes.tsv"
	while IFS='|' read -r pid bt; do
		[ -n "$pid" ] || continue
		printf '%s\t%s\t%s\t%s\n' "$t" "$pid" "$bt" "$(proc_mem "$pid" | tr ' ' '\t')" >>"$OUT/data/soak_worker.tsv"
	done < <(q postgres "SELECT pid, replace(backend_type, ' ', '_') FROM pg_stat_activity WHERE backend_type ILIKE '%snapshot_ops%'")
}

run_soak() {
	local start now t next_cleanup half end_t
	log "soak: ${SOAK_SECS}s at $SOAK_RATE saves/s per database, retention $SOAK_RETENTION, cleanup and vacuum every minute"
	q postgres "CREATE DATABASE bench_soak" >/dev/null
	q postgres "CREATE DATABASE bench_soak_report" >/dev/null
	psqlx postgres >/dev/null <<EOSQL
ALTER SYSTEM SET snapshot_ops.cleanup_schedule = '* * * * *';
ALTER SYSTEM SET snapshot_ops.vacuum_schedule = '* * * * *';
ALTER SYSTEM SET snapshot_ops.retention_period = '$SOAK_RETENTION';
ALTER SYSTEM SET snapshot_ops.retention_mode = 'bounded';
SELECT pg_reload_conf();
EOSQL
	psqlx bench_soak -c "CREATE EXTENSION snapshot_ops" -f "$BENCH/sql/bench_helpers.sql" >/dev/null
	psqlx bench_soak_report -f "$BENCH/sql/report_schema.sql" -f "$BENCH/sql/bench_helpers.sql" >/dev/null
	record soak info - - seconds "$SOAK_SECS"
	record soak info - - rate "$SOAK_RATE"
	record soak info - - retention "$SOAK_RETENTION"
	record soak info - - sessions "$SOAK_SESSIONS"

	# the worker, as the product reports it
	psqlx bench_soak -c "SELECT * FROM snapshot_ops.worker_status()" >"$OUT/data/soak_worker_status_start.txt" 2>&1 ||
		log "soak: snapshot_ops.worker_status() failed (see soak_worker_status_start.txt)"

	: >"$OUT/data/soak_sizes.tsv"
	: >"$OUT/data/soak_worker.tsv"
	: >"$OUT/data/soak_indexes.tsv"
	local wdir
	for db in bench_soak bench_soak_report; do
		wdir=$WORK/pgb/soak_$db
		rm -rf "$wdir"
		mkdir -p "$wdir"
		local script=$WORK/scripts/save_so.sql
		[ "$db" = bench_soak_report ] && script=$WORK/scripts/save_report.sql
		(cd "$wdir" && "$BINDIR/pgbench" -n -M simple -h "$SOCK" -p "$PORT" -U postgres \
			-c 2 -j 1 -T "$SOAK_SECS" -R "$SOAK_RATE" -D nsessions="$SOAK_SESSIONS" \
			-f "$script" --log --log-prefix="$wdir/tx" "$db") >"$wdir/out" 2>&1 &
	done

	start=$(date +%s)
	next_cleanup=$((start + 60))
	end_t=$((start + SOAK_SECS))
	while :; do
		now=$(date +%s)
		[ "$now" -ge "$end_t" ] && break
		soak_sample $((now - start))
		if [ "$now" -ge "$next_cleanup" ]; then
			# the report's retention, as its cron line would run it
			q bench_soak_report "SELECT * FROM cleanup_old_snapshots_30d('$SOAK_RETENTION')" >>"$WORK/soak_report_cleanup.log" 2>&1
			next_cleanup=$((next_cleanup + 60))
		fi
		sleep "$SOAK_SAMPLE_SECS"
	done
	wait
	soak_sample "$SOAK_SECS"

	psqlx bench_soak -c "SELECT * FROM snapshot_ops.worker_status()" >"$OUT/data/soak_worker_status_end.txt" 2>&1
	psqlx bench_soak -c "SELECT job, status, count(*) AS runs, sum(rows_affected) AS rows, round(max(extract(epoch FROM finished_at - started_at)) * 1000) AS longest_ms, count(*) FILTER (WHERE message LIKE '%; rebuilt %') AS gin_rebuilds FROM snapshot_ops.job_runs GROUP BY 1, 2 ORDER BY 1, 2" \
		>"$OUT/data/soak_job_runs.txt" 2>&1
	record soak bench_soak - - cleanup_runs "$(q bench_soak "SELECT count(*) FROM snapshot_ops.job_runs WHERE job = 'cleanup' AND status = 'succeeded'" 2>/dev/null || echo NaN)"
	record soak bench_soak - - vacuum_runs "$(q bench_soak "SELECT count(*) FROM snapshot_ops.job_runs WHERE job = 'vacuum' AND status = 'succeeded'" 2>/dev/null || echo NaN)"
	record soak bench_soak - - failed_runs "$(q bench_soak "SELECT count(*) FROM snapshot_ops.job_runs WHERE status <> 'succeeded'" 2>/dev/null || echo NaN)"

	# growth of the four tables together between the second half's start
	# and the end (the sample nearest each)
	half=$((SOAK_SECS / 2))
	for db in bench_soak bench_soak_report; do
		local s_half s_end
		s_half=$(awk -F'\t' -v db="$db" -v h="$half" '$2 == db { tot[$1] += $9 }
			END { for (t in tot) { d = t - h; if (d < 0) d = -d; if (best == "" || d < bd) { best = t; bd = d } } print tot[best] }' \
			"$OUT/data/soak_sizes.tsv")
		s_end=$(awk -F'\t' -v db="$db" '$2 == db { tot[$1] += $9; if ($1 + 0 > last) last = $1 + 0 } END { print tot[last] }' "$OUT/data/soak_sizes.tsv")
		record soak "$db" - - bytes_half "$s_half"
		record soak "$db" - - bytes_end "$s_end"
		record soak "$db" - - growth_pct "$(awk -v a="$s_half" -v b="$s_end" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')"
		record soak "$db" - - rows_end "$(q "$db" "SELECT count(*) FROM session_snapshots")"
		read -r n p50 p99 _ mx < <(latency_stats "$WORK/pgb/soak_$db"/tx.*)
		record soak "$db" - - saves "$n"
		record soak "$db" - - save_p50_ms "$p50"
		record soak "$db" - - save_p99_ms "$p99"
		cat "$WORK/pgb/soak_$db"/tx.* | awk -v s="$start" '{ printf "%.3f\t%.3f\n", $5 + $6 / 1e6 - s, $3 / 1000 }' | sort -n \
			>"$OUT/data/soak_latency_$db.tsv"
		log "soak: $db grew $(get soak "$db" - - growth_pct)% in the second half ($s_half -> $s_end bytes)"
	done
	# the index that grew most over the second half
	awk -F'\t' -v h="$half" '
		{ d = $1 - h; if (d < 0) d = -d; if (!($2 in bd) || d < bd[$2]) { bd[$2] = d; at[$2] = $3 } if ($1 + 0 >= last[$2]) { last[$2] = $1 + 0; end[$2] = $3 } }
		END { for (i in at) printf "%s\t%d\t%d\n", i, at[i], end[i] - at[i] }' "$OUT/data/soak_indexes.tsv" |
		sort -t"$(printf '\t')" -k3,3nr >"$OUT/data/soak_index_growth.tsv"
	record soak index_growth - - top_index "$(head -1 "$OUT/data/soak_index_growth.tsv" | cut -f1)"
	record soak index_growth - - top_bytes_half "$(head -1 "$OUT/data/soak_index_growth.tsv" | cut -f2)"
	record soak index_growth - - top_growth_bytes "$(head -1 "$OUT/data/soak_index_growth.tsv" | cut -f3)"
	# the worker's memory: first and last sample of each pid
	awk -F'\t' '{ if (!($2 in first)) first[$2] = $5; last[$2] = $5; n[$2]++ }
		END { for (p in first) print p, first[p], last[p], n[p] }' "$OUT/data/soak_worker.tsv" >"$WORK/soak_worker_summary"
	record soak worker - - processes "$(wc -l <"$WORK/soak_worker_summary")"
	record soak worker - - anon_kb_first "$(awk '{ s += $2 } END { print s + 0 }' "$WORK/soak_worker_summary")"
	record soak worker - - anon_kb_last "$(awk '{ s += $3 } END { print s + 0 }' "$WORK/soak_worker_summary")"
	record soak worker - - anon_kb_max "$(awk -F'\t' '{ print $5 }' "$OUT/data/soak_worker.tsv" | sort -n | tail -1)"
}
