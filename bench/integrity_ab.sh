#!/bin/bash
#
# integrity_ab.sh -- the cost of snapshot_ops' referential integrity, A
# against B in one run: two installations of the extension (say main, with
# declarative foreign keys, and a branch with the trigger-based integrity of
# src/refint.c), each in its own throwaway cluster with the same settings,
# measured alternately (A B, B A, A B, ...) so that the machine's drift
# hits both alike.
#
#   save_snapshot()   pgbench tps, 4 clients, 10 positions per snapshot;
#                     and the time of 3000 saves in one statement (one
#                     backend: the CPU cost per save, less noisy)
#   run_cleanup       batches of 1000 expired snapshots (13 rows each):
#                     time per batch and rows/s
#
#   bench/integrity_ab.sh PG_CONFIG_A PG_CONFIG_B [-T seconds] [-r rounds] [-n expired]
#
# Each PG_CONFIG names an installation the extension is installed into
# (test/run-all.sh's PRIVATE_PG block makes such copies).  Run as root (the
# servers run as postgres) or as an ordinary user.  Environment: BENCH_PORT
# (default 55421; B uses the next port), BENCH_SYNC_COMMIT (default off).
#
set -euo pipefail

DURATION=15
ROUNDS=3
NEXPIRED=10000
PG_CONFIG_A=${1:?usage: $0 PG_CONFIG_A PG_CONFIG_B [-T seconds] [-r rounds] [-n expired]}
PG_CONFIG_B=${2:?usage: $0 PG_CONFIG_A PG_CONFIG_B [-T seconds] [-r rounds] [-n expired]}
shift 2
while getopts "T:r:n:" opt; do
	case $opt in
		T) DURATION=$OPTARG ;;
		r) ROUNDS=$OPTARG ;;
		n) NEXPIRED=$OPTARG ;;
		*) echo "usage: $0 PG_CONFIG_A PG_CONFIG_B [-T seconds] [-r rounds] [-n expired]" >&2; exit 2 ;;
	esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/standalone.sh"
PORT=${BENCH_PORT:-55421}
standalone_dir snapshot_ops_integrity_ab

declare -A BIN PRT
BIN[A]=$("$PG_CONFIG_A" --bindir)
BIN[B]=$("$PG_CONFIG_B" --bindir)
PRT[A]=$PORT
PRT[B]=$((PORT + 1))

q() {
	local v=$1
	shift
	as_pg "${BIN[$v]}/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "${PRT[$v]}" -d bench "$@"
}

echo "== snapshot_ops integrity A/B: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
echo "   A: $PG_CONFIG_A"
echo "   B: $PG_CONFIG_B"
echo "   $ROUNDS rounds; saves: pgbench 4 clients ${DURATION}s; cleanup: $NEXPIRED expired snapshots in batches of 1000; synchronous_commit = ${BENCH_SYNC_COMMIT:-off}"

for v in A B; do
	standalone_cluster "$DIR/$v" "${BIN[$v]}" "${PRT[$v]}" \
		"shared_preload_libraries = 'snapshot_ops'" "snapshot_ops.enable_scheduler = off" \
		"shared_buffers = 256MB" "max_wal_size = 4GB" "autovacuum = off" \
		"synchronous_commit = ${BENCH_SYNC_COMMIT:-off}"
	as_pg "${BIN[$v]}/createdb" -h "$DIR" -p "${PRT[$v]}" bench
	q $v -c 'CREATE EXTENSION snapshot_ops'
	echo "   $v: snapshot_ops $(q $v -At -c "SELECT extversion FROM pg_extension WHERE extname = 'snapshot_ops'"), $(q $v -At -c "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = 'session_snapshots'::regclass") foreign keys, $(q $v -At -c "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = 'session_snapshots'::regclass") triggers on session_snapshots"
done

DOC=$(q A -At -v npos=10 -f "$HERE/api/gen_doc.sql")
cat >"$DIR/save.sql" <<EOF
\\set s random(1, 10000)
SELECT save_snapshot(replace(\$doc\$$DOC\$doc\$, 'SESSION', 'sess_' || :s)::jsonb);
EOF
[ ${#RUNAS[@]} -gt 0 ] && chown postgres "$DIR/save.sql"

# 20,000 snapshots to start with, so that the indexes are not trivially small
for v in A B; do
	q $v -c "SELECT count(save_snapshot(replace(\$doc\$$DOC\$doc\$, 'SESSION', 'sess_' || (g % 10000))::jsonb))
			   FROM generate_series(1, 20000) g" >/dev/null
	q $v -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
done

fill_expired() {
	local v=$1
	q $v -c "CREATE TEMP TABLE s AS
			SELECT save_snapshot(replace(\$doc\$$DOC\$doc\$, 'SESSION', 'exp_' || (g % 1000))::jsonb) AS id
			  FROM generate_series(1, $NEXPIRED) g" \
		-c "UPDATE session_snapshots t SET status = 'stopped',
			   created_at = now() - interval '40 days' - t.snapshot_id * interval '1 ms'
		  FROM s WHERE t.snapshot_id = s.id" >/dev/null
	q $v -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
}

declare -A TPS BULK BATCH RATE LONGEST
for v in A B; do TPS[$v]=""; BULK[$v]=""; BATCH[$v]=""; RATE[$v]=""; LONGEST[$v]=0; done
for ((r = 1; r <= ROUNDS; r++)); do
	order="A B"
	[ $((r % 2)) = 0 ] && order="B A"
	for v in $order; do
		t=$(as_pg "${BIN[$v]}/pgbench" -h "$DIR" -p "${PRT[$v]}" -n -c 4 -j 2 -T "$DURATION" -f "$DIR/save.sql" bench 2>&1 |
			sed -n 's/^tps = \([0-9.]*\).*/\1/p')
		TPS[$v]="${TPS[$v]} $t"
		q $v -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
		t0=$(date +%s.%N)
		q $v -c "SELECT count(save_snapshot(replace(\$doc\$$DOC\$doc\$, 'SESSION', 'bulk_' || (g % 100))::jsonb))
				   FROM generate_series(1, 3000) g" >/dev/null
		t1=$(date +%s.%N)
		BULK[$v]="${BULK[$v]} $(echo "($t1 - $t0) * 1000000 / 3000" | bc)"
		q $v -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
	done
	for v in $order; do
		fill_expired $v
		t0=$(date +%s.%N)
		notice=$(PGOPTIONS='-c snapshot_ops.retention_mode=finished' q $v -c "CALL snapshot_ops.run_cleanup('30 days', 1000)" 2>&1)
		t1=$(date +%s.%N)
		batches=$(echo "$notice" | sed -n 's/.*batches: \([0-9]*\).*/\1/p')
		took=$(echo "$notice" | sed -n 's/.*Took \([0-9]*\) ms.*/\1/p')
		longest=$(echo "$notice" | sed -n 's/.*longest batch \([0-9]*\) ms.*/\1/p')
		deleted=$(echo "$notice" | sed -n 's/.*deleted snapshots: \([0-9]*\).*/\1/p')
		[ "$deleted" = "$NEXPIRED" ] || { echo "round $r $v: run_cleanup deleted $deleted snapshots, not $NEXPIRED: $notice" >&2; exit 1; }
		BATCH[$v]="${BATCH[$v]} $(echo "scale=1; $took / $batches" | bc)"
		RATE[$v]="${RATE[$v]} $(echo "$NEXPIRED * 13 * 1000 / $took" | bc)"
		[ "$longest" -gt "${LONGEST[$v]}" ] && LONGEST[$v]=$longest
		q $v -c 'VACUUM' -c 'CHECKPOINT'
	done
	printf '   round %d (%s): save tps A %s B %s; us per save in one statement A %s B %s; cleanup ms per batch A %s B %s\n' \
		$r "$order" "${TPS[A]##* }" "${TPS[B]##* }" "${BULK[A]##* }" "${BULK[B]##* }" "${BATCH[A]##* }" "${BATCH[B]##* }"
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
declare -A MT MS MB MR
for v in A B; do
	MT[$v]=$(echo "${TPS[$v]}" | median)
	MS[$v]=$(echo "${BULK[$v]}" | median)
	MB[$v]=$(echo "${BATCH[$v]}" | median)
	MR[$v]=$(echo "${RATE[$v]}" | median)
done
echo
echo "== medians of $ROUNDS rounds"
printf '   %-44s %10s %10s %8s\n' "" "A" "B" "B/A"
printf '   %-44s %10.1f %10.1f %8.2f\n' "save_snapshot tps (4 clients)" "${MT[A]}" "${MT[B]}" "$(echo "scale=3; ${MT[B]} / ${MT[A]}" | bc)"
printf '   %-44s %10.1f %10.1f %8.2f\n' "us per save, 3000 in one statement" "${MS[A]}" "${MS[B]}" "$(echo "scale=3; ${MS[B]} / ${MS[A]}" | bc)"
printf '   %-44s %10.1f %10.1f %8.2f\n' "run_cleanup ms per batch of 1000 snapshots" "${MB[A]}" "${MB[B]}" "$(echo "scale=3; ${MB[B]} / ${MB[A]}" | bc)"
printf '   %-44s %10d %10d %8.2f\n' "run_cleanup rows/s (13 rows per snapshot)" "${MR[A]}" "${MR[B]}" "$(echo "scale=3; ${MR[B]} / ${MR[A]}" | bc)"
printf '   %-44s %10d %10d\n' "run_cleanup longest batch, ms" "${LONGEST[A]}" "${LONGEST[B]}"
