# retention.sh: batched retention (snapshot_ops.run_cleanup, committing
# every batch) against one big DELETE of the same rows, each with a
# concurrent writer whose save latency is measured before, during and
# after.  Sourced by run.sh.
#
# One source database is loaded once (RET_SNAPSHOTS snapshots over the last
# 60 days, the older half stopped, so past the 30-day retention) and copied
# for each method, so both delete exactly the same rows.

RET_METHODS="run_cleanup big_delete"

# writer_start DB NAME: save_snapshot() at RET_RATE per second, one client,
# in one-second pgbench runs until writer_stop (a killed pgbench loses its
# log; a one-second run never has to be killed)
writer_start() {
	local db=$1 name=$2 dir=$WORK/pgb/$2
	rm -rf "$dir"
	mkdir -p "$dir"
	touch "$dir/running"
	(
		i=0
		while [ -e "$dir/running" ]; do
			i=$((i + 1))
			(cd "$dir" && "$BINDIR/pgbench" -n -M simple -h "$SOCK" -p "$PORT" -U postgres \
				-c 1 -j 1 -T 1 -R "$RET_RATE" -D nsessions="$NSESSIONS" \
				-f "$WORK/scripts/save_so.sql" --log --log-prefix="$dir/tx$i" "$db") >>"$dir/out" 2>&1
		done
	) &
	WRITER_PID=$!
}

writer_stop() {
	rm -f "$WORK/pgb/$1/running"
	wait "$WRITER_PID"
}

# window_stats DIR FROM TO: latency stats of transactions that ended
# between epoch seconds FROM and TO
window_stats() {
	cat "$1"/tx* 2>/dev/null |
		awk -v a="$2" -v b="$3" '{ t = $5 + $6 / 1e6; if (t >= a && t <= b) print }' >"$1/window.tmp"
	latency_stats "$1/window.tmp"
}

run_retention() {
	local n=$RET_SNAPSHOTS m db out t0 t1 pid before after deleted_rows
	log "retention: loading $n snapshots (older half stopped and past 30 days)"
	q postgres "CREATE DATABASE bench_ret_src" >/dev/null
	psqlx bench_ret_src -c "CREATE EXTENSION snapshot_ops" -f "$BENCH/sql/bench_helpers.sql" >/dev/null
	psqlx bench_ret_src -v from=1 -v to="$n" -v nsessions="$NSESSIONS" -v npos="$NPOS" \
		-v t0="$(q postgres "SELECT now() - interval '60 days'")" \
		-v step_ms=$((59 * 86400 * 1000 / n)) -v stopped_upto=$((n / 2)) \
		-f "$BENCH/sql/load.sql" >/dev/null || die "loading bench_ret_src failed"
	psqlx bench_ret_src -c "VACUUM (ANALYZE)" >/dev/null
	record retention info - - snapshots "$n"
	record retention info - - expired_snapshots \
		"$(q bench_ret_src "SELECT count(*) FROM session_snapshots WHERE created_at < now() - interval '30 days' AND status IN ('stopped', 'crashed')")"
	record retention info - - batch_size "$(q bench_ret_src "SHOW snapshot_ops.cleanup_batch_size")"

	for m in $RET_METHODS; do
		db=bench_ret_$m
		q postgres "CREATE DATABASE $db TEMPLATE bench_ret_src STRATEGY FILE_COPY" >/dev/null
		psqlx "$db" -c "VACUUM (ANALYZE)" >/dev/null
		q "$db" "CHECKPOINT" >/dev/null
		before=$(q "$db" "SELECT (SELECT count(*) FROM session_snapshots) || ' ' || (SELECT count(*) FROM position_snapshots) || ' ' || (SELECT count(*) FROM metrics_snapshots) || ' ' || (SELECT count(*) FROM risk_guard_snapshots)")

		log "retention: $m, with a writer at $RET_RATE saves/s"
		writer_start "$db" "ret_writer_$m"
		sleep "$RET_QUIET_SECS"
		out=$WORK/ret_$m.out
		rm -f "$WORK/ret_$m.pid"
		# the deleting session: its pid first, so that the sampler can follow it
		psqlx "$db" -At >"$out" 2>&1 <<EOSQL &
SELECT pg_backend_pid() \g $WORK/ret_$m.pid
SELECT pg_sleep(0.5);
SET snapshot_ops.retention_mode = 'finished';
SELECT 'T0', extract(epoch FROM clock_timestamp());
$(if [ "$m" = run_cleanup ]; then
	echo "CALL snapshot_ops.run_cleanup('30 days');"
else
	echo "DELETE FROM session_snapshots WHERE created_at < now() - interval '30 days' AND status IN ('stopped', 'crashed');"
fi)
SELECT 'T1', extract(epoch FROM clock_timestamp());
EOSQL
		local deleter=$!
		while [ ! -s "$WORK/ret_$m.pid" ]; do sleep 0.05; done
		pid=$(tr -d ' \n' <"$WORK/ret_$m.pid")
		psqlx "$db" -c "CALL bench.sample_xacts('$m', $pid, 3600, $RET_SAMPLE_MS)" >/dev/null 2>&1 &
		local sampler=$!
		wait "$deleter" || { cat "$out"; die "retention $m failed"; }
		wait "$sampler"
		sleep "$RET_QUIET_SECS"
		writer_stop "ret_writer_$m"

		t0=$(awk -F'|' '$1 == "T0" { print $2 }' "$out")
		t1=$(awk -F'|' '$1 == "T1" { print $2 }' "$out")
		after=$(q "$db" "SELECT (SELECT count(*) FROM session_snapshots WHERE snapshot_id <= $n) || ' ' || (SELECT count(*) FROM position_snapshots WHERE snapshot_id <= $n) || ' ' || (SELECT count(*) FROM metrics_snapshots WHERE snapshot_id <= $n) || ' ' || (SELECT count(*) FROM risk_guard_snapshots WHERE snapshot_id <= $n)")
		read -r s0 p0 m0 r0 <<<"$before"
		read -r s1 p1 m1 r1 <<<"$after"
		deleted_rows=$(((s0 - s1) + (p0 - p1) + (m0 - m1) + (r0 - r1)))
		record retention "$m" - - seconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
		record retention "$m" - - deleted_snapshots "$((s0 - s1))"
		record retention "$m" - - deleted_rows "$deleted_rows"
		record retention "$m" - - rows_per_s "$(awk -v r="$deleted_rows" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", r / (b - a) }')"
		record retention "$m" - - snapshots_per_s "$(awk -v r="$((s0 - s1))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", r / (b - a) }')"
		# transactions of the deleting session that started inside the run
		record retention "$m" - - longest_xact_ms "$(q "$db" "SELECT coalesce(round(max(extract(epoch FROM last_seen - xact_start)) * 1000, 1), 0) FROM bench.xact_samples WHERE xact_start > to_timestamp($t0)")"
		record retention "$m" - - xacts "$(q "$db" "SELECT count(*) FROM bench.xact_samples WHERE xact_start > to_timestamp($t0)")"
		q "$db" "COPY (SELECT extract(epoch FROM xact_start) - $t0, round(extract(epoch FROM last_seen - xact_start) * 1000, 1) FROM bench.xact_samples WHERE xact_start > to_timestamp($t0) ORDER BY 1) TO STDOUT" \
			>"$OUT/data/retention_xacts_$m.tsv"
		# the writer: before, during and after
		local w=$WORK/pgb/ret_writer_$m
		read -r wn w50 w99 _ wmax < <(window_stats "$w" $(awk -v a="$t0" -v q="$RET_QUIET_SECS" 'BEGIN { printf "%.3f %.3f", a - q + 0.5, a }') )
		record retention "$m" - - writer_before_p99_ms "$w99"
		record retention "$m" - - writer_before_n "$wn"
		read -r wn w50 w99 _ wmax < <(window_stats "$w" "$t0" "$t1")
		record retention "$m" - - writer_during_p50_ms "$w50"
		record retention "$m" - - writer_during_p99_ms "$w99"
		record retention "$m" - - writer_during_max_ms "$wmax"
		record retention "$m" - - writer_during_n "$wn"
		# writer latency over time, for the plot (seconds from T0, ms)
		cat "$w"/tx* | awk -v a="$t0" '{ printf "%.3f\t%.3f\n", $5 + $6 / 1e6 - a, $3 / 1000 }' | sort -n \
			>"$OUT/data/retention_writer_$m.tsv"
		log "retention: $m deleted $((s0 - s1)) snapshots ($deleted_rows rows) in $(get retention "$m" - - seconds) s; longest transaction $(get retention "$m" - - longest_xact_ms) ms; writer p99 $(get retention "$m" - - writer_during_p99_ms) ms"
		q postgres "DROP DATABASE $db" >/dev/null
	done
	q postgres "DROP DATABASE bench_ret_src" >/dev/null
}
