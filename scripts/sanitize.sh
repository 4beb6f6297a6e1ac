#!/bin/bash
#
# sanitize.sh: run the pg_regress suites against snapshot_ops built with
# AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   sudo bash scripts/sanitize.sh            # as root (servers run as postgres)
#
# The module is compiled with -fsanitize=address,undefined
# -fno-omit-frame-pointer and installed into a private copy of the
# PostgreSQL installation (the system one is left alone); the pg_regress
# suites then run against a temporary instance that preloads it.
#
# PostgreSQL itself is not instrumented, and the ASan runtime cannot be
# LD_PRELOADed into the Debian postgres binary: the process deadlocks in
# glibc's bindtextdomain() before main() gets anywhere (the known
# uninstrumented-binary problem, e.g. google/sanitizers#1096).  Loaded
# instead as a dependency of snapshot_ops.so (verify_asan_link_order=0),
# ASan does not intercept siglongjmp, so every ereport(ERROR) leaves stale
# poison on the stack and stack checks report false overflows.  The build
# therefore uses --param asan-stack=0: ASan checks global buffers, UBSan
# checks everything it can (signed overflow, shifts, bounds of arrays of
# known size, misaligned and null pointers, invalid enum and bool values),
# both in the module's code.  Heap blocks are not checked by ASan here
# (malloc stays glibc's, and palloc chunks live inside large blocks), so
# the second phase runs the same suites under Valgrind memcheck
# (--trace-children=yes, every backend) and reports each error whose stack
# has a snapshot_ops frame: uninitialised values, invalid reads and writes
# of malloc'ed memory, bad frees.  SANITIZE_PRELOAD=1 tries the LD_PRELOAD
# of libasan (with stack checks) on systems where it works; VALGRIND=0 skips
# the second phase.
#
# Leak detection is off: PostgreSQL frees memory by resetting memory
# contexts and at process exit.  Sanitizer reports go to per-process files
# under the work directory (ASAN_OPTIONS/UBSAN_OPTIONS log_path) and, for
# anything written to stderr, into the server log; both are searched for
# "ERROR: AddressSanitizer" and "runtime error:".
#
# Exit status: 0 when the suites pass and no sanitizer finding was reported,
# 1 on a finding or a failed suite, 2 on a setup problem.  KEEP=1 keeps the
# work directory; REGRESS="a b" limits the suites; PORT sets the port of the
# temporary instance (default 57490).
#
# Valgrind is the fallback where ASan cannot run: see "Sanitizer run" in README.md.

set -u

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${PORT:-57490}

if [ "$(id -u)" -ne 0 ]; then
	echo "sanitize.sh: run as root (the server runs as the postgres user)" >&2
	exit 2
fi
"$SRC/scripts/install-deps.sh" || exit 2

SYS_PGC=$(command -v pg_config) || { echo "sanitize.sh: pg_config not found" >&2; exit 2; }
PGVER=$("$SYS_PGC" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
LIBASAN=$(gcc -print-file-name=libasan.so)
if [ ! -e "$LIBASAN" ] || [ "$LIBASAN" = libasan.so ]; then
	echo "sanitize.sh: gcc has no libasan.so (install libasan8 or equivalent)" >&2
	exit 2
fi
LIBASAN=$(readlink -f "$LIBASAN")

WORK=$(mktemp -d /tmp/snapshot_ops-sanitize.XXXXXX)
chmod 755 "$WORK"
PG="$WORK/pg"
cleanup() {
	for pidfile in $(find "$WORK" -name postmaster.pid 2>/dev/null); do
		su postgres -s /bin/sh -c "'$PG/usr/lib/postgresql/$PGVER/bin/pg_ctl' -D '$(dirname "$pidfile")' -m immediate stop" >/dev/null 2>&1
	done
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- a private PostgreSQL installation (pg_config is relocatable) ----------
mkdir -p "$PG/usr/lib/postgresql" "$PG/usr/share/postgresql" "$PG/usr/include/postgresql"
cp -a "/usr/lib/postgresql/$PGVER" "$PG/usr/lib/postgresql/"
cp -a "/usr/share/postgresql/$PGVER" "$PG/usr/share/postgresql/"
for f in /usr/include/postgresql/*; do ln -s "$f" "$PG/usr/include/postgresql/"; done
PGC="$PG/usr/lib/postgresql/$PGVER/bin/pg_config"
[ "$("$PGC" --pkglibdir)" = "$PG/usr/lib/postgresql/$PGVER/lib" ] ||
	{ echo "sanitize.sh: pg_config is not relocatable here" >&2; exit 2; }

# --- the tree, built with the sanitizers ----------------------------------
mkdir "$WORK/src" "$WORK/reports"
tar -C "$SRC" --exclude=./.git --exclude='./tmp_check*' --exclude=./test/results_dir \
	--exclude=./demo -cf - . | tar -C "$WORK/src" -xf -
chown -R postgres:postgres "$WORK"
as_pg() { su postgres -s /bin/bash -c "$*"; }

SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer"
[ "${SANITIZE_PRELOAD:-0}" = 1 ] || SAN_FLAGS="$SAN_FLAGS --param asan-stack=0"
echo "=== build with $SAN_FLAGS"
if ! as_pg "cd '$WORK/src' && make clean >/dev/null 2>&1; make PG_CONFIG='$PGC' \
		COPT='$SAN_FLAGS' >'$WORK/build.log' 2>&1"; then
	tail -30 "$WORK/build.log"
	echo "sanitize.sh: build failed"
	exit 2
fi
nwarn=$(grep -c 'warning:' "$WORK/build.log")
echo "build: ok, $nwarn warnings"
if ! as_pg "cd '$WORK/src' && make PG_CONFIG='$PGC' install >'$WORK/install.log' 2>&1"; then
	tail -30 "$WORK/install.log"
	echo "sanitize.sh: install into the private copy failed"
	exit 2
fi
# the module really is instrumented
if ! nm -D "$PG/usr/lib/postgresql/$PGVER/lib/snapshot_ops.so" | grep -q __asan_report; then
	echo "sanitize.sh: snapshot_ops.so carries no ASan instrumentation" >&2
	exit 2
fi

# --- the suites, every server process with the ASan runtime ----------------
# abort_on_error=0 keeps a finding in
# one backend from taking the instance down, so every finding of the run is
# collected; halt_on_error=0 lets UBSan go on after a report.
ASAN_OPTS="detect_leaks=0:abort_on_error=0:halt_on_error=0:detect_odr_violation=0:verify_asan_link_order=0"
ASAN_OPTS="$ASAN_OPTS:allocator_may_return_null=1:log_path=$WORK/reports/asan"
UBSAN_OPTS="print_stacktrace=1:halt_on_error=0:log_path=$WORK/reports/ubsan"
regress_arg=""
[ -n "${REGRESS:-}" ] && regress_arg="REGRESS='$REGRESS'"

preload=""
if [ "${SANITIZE_PRELOAD:-0}" = 1 ]; then
	preload="LD_PRELOAD='$LIBASAN'"
	echo "=== pg_regress with LD_PRELOAD=$LIBASAN"
else
	echo "=== pg_regress, ASan and UBSan runtimes loaded with snapshot_ops.so"
fi
as_pg "cd '$WORK/src' && $preload ASAN_OPTIONS='$ASAN_OPTS' UBSAN_OPTIONS='$UBSAN_OPTS' \
	timeout 1800 make PG_CONFIG='$PGC' installcheck TAP_TESTS= REGRESS_PORT=$PORT $regress_arg" \
	>"$WORK/regress.log" 2>&1
regress_rc=$?
grep -E '^(ok|not ok|test) ' "$WORK/regress.log" | sed 's/^/  /'
np=$(grep -cE '^(ok|test) .*\.\.\. +ok' "$WORK/regress.log")
nf=$(grep -cE '\.\.\. +FAILED|^not ok' "$WORK/regress.log")

# --- findings --------------------------------------------------------------
SERVER_LOG="$WORK/src/test/results_dir/log/postmaster.log"
findings="$WORK/findings.txt"
: >"$findings"
for f in "$WORK"/reports/asan* "$WORK"/reports/ubsan* "$SERVER_LOG"; do
	[ -f "$f" ] || continue
	grep -HnE 'ERROR: AddressSanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer' "$f" \
		>>"$findings"
done
nfind=$(grep -cE 'ERROR: AddressSanitizer|runtime error:' "$findings")

# keep phase 1's results apart from phase 2's
mv "$WORK/src/test/results_dir" "$WORK/results-sanitizers" 2>/dev/null
SERVER_LOG="$WORK/results-sanitizers/log/postmaster.log"

# --- phase 2: the suites under Valgrind memcheck --------------------------
vg_errors=0
vg_reached=0
vg_np=0
vg_nf=0
if [ "${VALGRIND:-1}" = 1 ]; then
	if ! command -v valgrind >/dev/null; then
		echo "sanitize.sh: valgrind not installed; phase 2 skipped (apt-get install valgrind)"
		VALGRIND=0
	else
		echo "=== pg_regress under valgrind --trace-children=yes (normal build)"
		# a normal build of the module, in the same private installation
		as_pg "cd '$WORK/src' && make clean >/dev/null 2>&1 && make PG_CONFIG='$PGC' >'$WORK/build-vg.log' 2>&1 \
			&& make PG_CONFIG='$PGC' install >>'$WORK/build-vg.log' 2>&1" ||
			{ tail -20 "$WORK/build-vg.log"; echo "sanitize.sh: build for valgrind failed"; exit 2; }
		# postgres becomes a wrapper: the postmaster and every backend run
		# under memcheck; initdb's bootstrap and single-user runs and
		# "postgres -V" do not (they do not load the module)
		BIN="$PG/usr/lib/postgresql/$PGVER/bin"
		mv "$BIN/postgres" "$BIN/postgres.real"
		{
			echo '#!/bin/sh'
			echo 'case " $* " in'
			echo '	*" --boot "*|*" --single "*|*" -V "*|*" --version "*|*" -C "*|*" --describe-config "*)'
			echo "		exec '$BIN/postgres.real' \"\$@\" ;;"
			echo 'esac'
			echo "exec valgrind --quiet --tool=memcheck --trace-children=yes --error-limit=no \\"
			echo "	--num-callers=30 --track-origins=no --leak-check=no \\"
			echo "	--log-file='$WORK/reports/valgrind.%p' '$BIN/postgres.real' \"\$@\""
		} >"$BIN/postgres"
		chmod 755 "$BIN/postgres"
		rm -rf "$WORK/src/tmp_check_regress"
		as_pg "cd '$WORK/src' && timeout 3600 make PG_CONFIG='$PGC' installcheck TAP_TESTS= \
			REGRESS_PORT=$PORT $regress_arg" >"$WORK/regress-vg.log" 2>&1
		grep -E '^(ok|not ok|test) ' "$WORK/regress-vg.log" | sed 's/^/  /'
		vg_np=$(grep -cE '^(ok|test) .*\.\.\. +ok' "$WORK/regress-vg.log")
		vg_nf=$(grep -cE '\.\.\. +FAILED|^not ok' "$WORK/regress-vg.log")
		# Every memcheck error record whose innermost frame outside libc
		# and valgrind is the module's (functions so_* and snapshot_ops_*,
		# or snapshot_ops.so): an error in the module's own code.  Errors
		# inside PostgreSQL that merely have the module further down the
		# stack (the padding bytes of WAL records written at a commit the
		# worker asked for, the regex cache's overlapping memcpy) are
		# PostgreSQL's known noise (its src/tools/valgrind.supp) and are
		# listed separately, for information.
		for f in "$WORK"/reports/valgrind.*; do
			[ -f "$f" ] || continue
			awk -v file="$f" -v own="$WORK/valgrind-findings.txt" -v other="$WORK/valgrind-reached.txt" '
				function flush() {
					if (rec != "" && where == "module") printf "%s", rec >> own;
					else if (rec != "" && reached) printf "%s", rec >> other;
					rec = ""; where = ""; reached = 0 }
				/^==[0-9]+== (Invalid|Conditional|Use of uninitialised|Mismatched|Syscall param|Source and destination overlap|Argument)/ {
					flush(); rec = file ": " $0 "\n"; next }
				/^==[0-9]+== *$/ { flush(); next }
				rec != "" {
					rec = rec $0 "\n"
					if ($0 ~ /: (so_|snapshot_ops_)|snapshot_ops\.so/) {
						reached = 1
						if (where == "" && $0 ~ /(at|by) 0x/) where = "module"
					} else if (where == "" && $0 ~ /postgres\.real|\/lib\/postgresql\//)
						where = "postgres"
				}
				END { flush() }' "$f"
		done
		touch "$WORK/valgrind-findings.txt" "$WORK/valgrind-reached.txt"
		vg_errors=$(grep -c ': ==' "$WORK/valgrind-findings.txt")
		vg_reached=$(grep -c ': ==' "$WORK/valgrind-reached.txt")
		echo "valgrind: $(ls "$WORK"/reports/valgrind.* 2>/dev/null | wc -l) processes traced;" \
			"$vg_errors error(s) in snapshot_ops code, $vg_reached in PostgreSQL below a snapshot_ops frame:"
		grep -h ': ==' "$WORK/valgrind-reached.txt" | sed 's/.*== /    /' | sort | uniq -c
	fi
fi

echo
echo "=== summary"
echo "pg_regress: $np passed, $nf failed (make exit status $regress_rc)"
echo "sanitizer findings: $nfind"
[ "${VALGRIND:-1}" = 1 ] && echo "valgrind phase: pg_regress $vg_np passed, $vg_nf failed; memcheck errors in snapshot_ops: $vg_errors"
[ "$vg_errors" -gt 0 ] && head -200 "$WORK/valgrind-findings.txt"
if [ "$nfind" -gt 0 ]; then
	cat "$findings"
	for f in "$WORK"/reports/asan* "$WORK"/reports/ubsan*; do
		[ -f "$f" ] && { echo "--- $f"; head -60 "$f"; }
	done
fi
if [ "$nf" -gt 0 ] || [ "$np" -eq 0 ]; then
	for d in "$WORK/results-sanitizers" "$WORK/src/test/results_dir"; do
		[ -f "$d/regression.diffs" ] && head -100 "$d/regression.diffs"
	done
	tail -20 "$WORK/regress.log"
fi
for log in "$SERVER_LOG" "$WORK/src/test/results_dir/log/postmaster.log"; do
	grep -q 'terminated by signal' "$log" 2>/dev/null &&
		{ echo "server log: a backend was terminated by a signal"; grep 'terminated by signal' "$log"; nfind=$((nfind + 1)); }
done

[ "$nfind" -eq 0 ] && [ "$nf" -eq 0 ] && [ "$np" -gt 0 ] && [ "$vg_errors" -eq 0 ] && [ "$vg_nf" -eq 0 ]
