#!/bin/bash
#
# run-all.sh: the complete test run of snapshot_ops, from a fresh machine.
#
#   sudo bash test/run-all.sh
#
# As root on Debian 12 it installs the packages it needs with apt, copies the
# tree to a temporary directory owned by the "postgres" user (PostgreSQL
# refuses to run as root), builds with -Wall -Wextra and fails on any
# warning, installs, and runs every suite:
#
#   build     zero compiler warnings
#   regress   pg_regress, test/sql + test/expected (make installcheck),
#             one result per test file
#   pgtap     test/pgtap/*.sql with pg_prove, each file in a fresh database of
#             a throwaway cluster that preloads snapshot_ops and pg_cron,
#             one result per assertion
#   tap       t/*.pl, Perl TAP with PostgreSQL::Test::Cluster, one result per
#             assertion (a script that dies counts as one failure)
#
# Every server it starts listens on a unix socket in the temporary directory
# only, on unusual ports, and is stopped at the end even on failure.  The
# last line is "N passed, N failed"; the exit status is non-zero on any
# failure.
#
# Environment: KEEP=1 keeps the temporary directory; TESTS="t/010_x.pl ..."
# limits the Perl TAP files; SUITES="build regress pgtap tap" picks suites.

set -u

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUITES=${SUITES:-"build regress pgtap tap"}
REGRESS_PORT=${REGRESS_PORT:-57432}
PGTAP_PORT=${PGTAP_PORT:-57433}

passed=0
failed=0
skipped=0
failures=()

pass() { passed=$((passed + $1)); }
skip() { skipped=$((skipped + $1)); }
summary() { echo "$passed passed, $failed failed, $skipped skipped"; }
fail() { failed=$((failed + $1)); failures+=("$2"); }
say() { printf '\n=== %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "run-all.sh: run as root (it installs packages and the extension, and runs servers as postgres)" >&2
	exit 2
fi

# --- packages -------------------------------------------------------------
"$SRC/scripts/install-deps.sh" ||
	{ echo "installing the packages failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

# --- a copy of the tree the postgres user can read and write ---------------
WORK=$(mktemp -d /tmp/snapshot_ops-test.XXXXXX)
chmod 755 "$WORK"
mkdir "$WORK/src"
tar -C "$SRC" --exclude=./.git --exclude=./demo --exclude='./tmp_check*' \
	--exclude=./test/results_dir -cf - . | tar -C "$WORK/src" -xf -
T="$WORK/src"

# --- the PostgreSQL installation the tests use ------------------------------
PGC=$(command -v pg_config)
if [ "${PRIVATE_PG:-0}" = 1 ]; then
	PGVER=$("$PGC" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
	P="$WORK/pg"
	mkdir -p "$P/usr/lib/postgresql" "$P/usr/share/postgresql" "$P/usr/include/postgresql"
	cp -a "/usr/lib/postgresql/$PGVER" "$P/usr/lib/postgresql/"
	cp -a "/usr/share/postgresql/$PGVER" "$P/usr/share/postgresql/"
	for f in /usr/include/postgresql/*; do ln -s "$f" "$P/usr/include/postgresql/"; done
	PGC="$P/usr/lib/postgresql/$PGVER/bin/pg_config"
	echo "private PostgreSQL installation: $("$PGC" --bindir)"
fi
PGBIN=$("$PGC" --bindir)
PGXS_PERL=$(dirname "$("$PGC" --pgxs)")/../../src/test/perl
chown -R postgres:postgres "$WORK"

cleanup() {
	# stop every server started under the work directory, whatever happened
	for pidfile in $(find "$WORK" -name postmaster.pid 2>/dev/null); do
		su postgres -c "$PGBIN/pg_ctl -D '$(dirname "$pidfile")' -m immediate stop" >/dev/null 2>&1
	done
	mountpoint -q "$WORK/fullfs" 2>/dev/null && umount "$WORK/fullfs"
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

as_pg() { su postgres -s /bin/bash -c "$*"; }

# --- build ----------------------------------------------------------------
say "build"
if (cd "$T" && make clean PG_CONFIG="$PGC" >/dev/null 2>&1; make PG_CONFIG="$PGC" 2>&1) >"$WORK/build.log"; then
	nwarn=$(grep -c 'warning:' "$WORK/build.log")
	if [ "$nwarn" -eq 0 ]; then
		echo "build: ok, 0 warnings"
		pass 1
	else
		grep 'warning:' "$WORK/build.log"
		fail 1 "build: $nwarn compiler warnings"
	fi
else
	cat "$WORK/build.log"
	fail 1 "build failed"
	summary
	exit 1
fi
if ! (cd "$T" && make install PG_CONFIG="$PGC") >"$WORK/install.log" 2>&1; then
	cat "$WORK/install.log"
	fail 1 "make install failed"
	summary
	exit 1
fi
chown -R postgres:postgres "$WORK"

# --- pg_regress -------------------------------------------------------------
case " $SUITES " in *" regress "*)
	say "pg_regress (test/sql)"
	as_pg "cd '$T' && PATH='$PGBIN':\$PATH timeout 1200 make installcheck PG_CONFIG='$PGC' TAP_TESTS= REGRESS_PORT=$REGRESS_PORT" >"$WORK/regress.log" 2>&1
	grep -E '^(not ok|ok|test) ' "$WORK/regress.log" | grep -E '\.\.\.|^(not )?ok' | sed 's/^/  /'
	np=$(grep -cE '^test .*\.\.\. +ok' "$WORK/regress.log")
	nf=$(grep -cE '^test .*\.\.\. +FAILED|^test .*\.\.\. +failed' "$WORK/regress.log")
	pass "$np"
	[ "$nf" -gt 0 ] && fail "$nf" "pg_regress: $nf test(s) failed"
	if [ "$nf" -gt 0 ] || [ "$np" -eq 0 ]; then
		[ "$np" -eq 0 ] && [ "$nf" -eq 0 ] && fail 1 "pg_regress did not run"
		tail -40 "$WORK/regress.log"
		[ -f "$T/test/results_dir/regression.diffs" ] && head -200 "$T/test/results_dir/regression.diffs"
	fi
	;;
esac

# --- pgTAP ------------------------------------------------------------------
case " $SUITES " in *" pgtap "*)
	say "pgTAP (test/pgtap)"
	D="$WORK/pgtap"
	mkdir -p "$D/sock" && chown -R postgres:postgres "$D"
	as_pg "$PGBIN/initdb -D '$D/data' -A trust -U postgres >'$D/initdb.log' 2>&1" || fail 1 "pgtap: initdb failed"
	cat >>"$D/data/postgresql.conf" <<EOF
listen_addresses = ''
port = $PGTAP_PORT
unix_socket_directories = '$D/sock'
shared_preload_libraries = 'snapshot_ops,pg_cron'
cron.database_name = 'postgres'
fsync = off
EOF
	if as_pg "$PGBIN/pg_ctl -D '$D/data' -l '$D/server.log' -w start" >/dev/null; then
		n=0
		for f in "$T"/test/pgtap/*.sql; do
			[ -e "$f" ] || continue
			n=$((n + 1))
			db="pgtap_$n"
			as_pg "$PGBIN/createdb -h '$D/sock' -p $PGTAP_PORT $db && $PGBIN/psql -X -q -h '$D/sock' -p $PGTAP_PORT -d $db -c 'CREATE EXTENSION pgtap'" >/dev/null
			out="$D/$(basename "$f").tap"
			as_pg "cd '$T' && PATH='$PGBIN':\$PATH timeout 600 pg_prove --verbose -h '$D/sock' -p $PGTAP_PORT -d $db '$f'" >"$out" 2>&1
			rc=$?
			np=$(grep -cE '^ok [0-9]+' "$out")
			nf=$(grep -cE '^not ok [0-9]+' "$out")
			echo "  $(basename "$f"): $np ok, $nf not ok"
			pass "$np"
			[ "$nf" -gt 0 ] && { grep -A6 -E '^not ok' "$out" | sed 's/^/    /'; fail "$nf" "pgtap $(basename "$f")"; }
			if [ $rc -ne 0 ] && [ "$nf" -eq 0 ]; then
				tail -20 "$out" | sed 's/^/    /'
				fail 1 "pgtap $(basename "$f") exited with status $rc"
			fi
		done
		as_pg "$PGBIN/pg_ctl -D '$D/data' -m fast stop" >/dev/null
	else
		cat "$D/server.log"
		fail 1 "pgtap: server did not start"
	fi
	;;
esac

# --- Perl TAP ---------------------------------------------------------------
case " $SUITES " in *" tap "*)
	say "Perl TAP (t/)"
	# a 64 kB file system for the backup tool's disk-full test (mounting
	# needs root, and the tests run as postgres)
	mkdir -p "$WORK/fullfs"
	if mount -t tmpfs -o size=64k,mode=0700,uid=$(id -u postgres),gid=$(id -g postgres) tmpfs "$WORK/fullfs"; then
		FULLFS="$WORK/fullfs"
	else
		FULLFS=
	fi
	files=${TESTS:-$(cd "$T" && ls t/*.pl 2>/dev/null)}
	for f in $files; do
		out="$WORK/$(basename "$f" .pl).tap"
		as_pg "cd '$T' && rm -rf tmp_check && mkdir -p tmp_check && \
			TESTDIR='$T' PATH='$PGBIN':\$PATH PGPORT=${TAP_PORT:-58432} PG_CONFIG='$PGC' \
			SOB_TEST_FULL_FS='$FULLFS' \
			PG_REGRESS='$(dirname "$("$PGC" --pgxs)")/../../src/test/regress/pg_regress' \
			timeout 1500 prove -v -I '$PGXS_PERL' '$f'" >"$out" 2>&1
		rc=$?
		# "ok N # skip ..." is a skipped test; "1..0 # SKIP ..." a skipped file
		ns=$(grep -ciE '^ *ok [0-9]+ *(- *)?[^#]*# *skip' "$out")
		np=$(( $(grep -cE '^ *ok [0-9]+' "$out") - ns ))
		nf=$(grep -cE '^ *not ok [0-9]+' "$out")
		if grep -qiE '^ *1\.\.0 *# *skip' "$out"; then
			ns=$((ns + 1))
			echo "  $f: skipped: $(grep -iE '^ *1\.\.0 *# *skip' "$out" | head -1 | sed -E 's/^ *1\.\.0 *# *[Ss][Kk][Ii][Pp] *//')"
		else
			if [ "$ns" -gt 0 ]; then
				echo "  $f: $np ok, $nf not ok, $ns skipped"
			else
				echo "  $f: $np ok, $nf not ok"
			fi
		fi
		pass "$np"
		skip "$ns"
		[ "$nf" -gt 0 ] && fail "$nf" "tap $f"
		if [ $rc -ne 0 ] && [ "$nf" -eq 0 ]; then
			fail 1 "tap $f exited with status $rc"
		fi
		if [ $rc -ne 0 ] || [ "$nf" -gt 0 ]; then
			grep -B2 -A8 -E '^ *not ok|Dubious|died|Bailout' "$out" | head -80 | sed 's/^/    /'
			for log in "$T"/tmp_check/log/regress_log_*; do
				[ -f "$log" ] && { echo "    --- tail of $log"; tail -60 "$log" | sed 's/^/    /'; }
			done
		fi
	done
	;;
esac

say "summary"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
summary
[ "$failed" -eq 0 ]
