# standalone.sh: the scratch directory and the throwaway clusters of the
# standalone benchmark scripts (api_bench.sh, cleanup_paths.sh,
# integrity_ab.sh, worker_idle.sh); run.sh has its own (common.sh).
#
#   . "$HERE/lib/standalone.sh"
#   standalone_dir snapshot_ops_name       # DIR, KEEP, as_pg, cleanup on exit
#   standalone_cluster "$DIR/data" "$BIN" "$PORT" 'setting = value' ...
#
# Clusters run as postgres when the script runs as root (PostgreSQL refuses
# root), on a unix socket in $DIR only, and are stopped when the script
# exits, however it exits.  BENCH_DIR names a directory to use (and keep)
# instead of a new one under /tmp.

STANDALONE_CLUSTERS=()

# Run a command as the user the servers run as.
as_pg() { "${RUNAS[@]}" "$@"; }

# The scratch directory: $DIR, kept at the end only when BENCH_DIR named it.
standalone_dir() {
	if [ -n "${BENCH_DIR:-}" ]; then
		DIR=$BENCH_DIR
		KEEP=1
		mkdir -p "$DIR"
	else
		DIR=$(mktemp -d "/tmp/$1.XXXXXX")
		KEEP=0
	fi
	RUNAS=()
	if [ "$(id -u)" = 0 ]; then
		RUNAS=(runuser -u postgres --)
		chown postgres "$DIR"
	fi
	trap standalone_cleanup EXIT
}

# Stop every cluster started here, then remove the directory unless kept.
standalone_cleanup() {
	local c
	for c in "${STANDALONE_CLUSTERS[@]}"; do
		as_pg "${c#*|}/pg_ctl" -D "${c%%|*}" -m immediate stop >/dev/null 2>&1 || true
	done
	[ "${KEEP:-0}" = 1 ] || rm -rf "$DIR"
}

# initdb, the settings given (one per argument) and start; logs to DATADIR.log.
standalone_cluster() {
	local data=$1 bin=$2 port=$3
	shift 3
	as_pg "$bin/initdb" -D "$data" -A trust >/dev/null
	{
		echo "listen_addresses = ''"
		echo "port = $port"
		echo "unix_socket_directories = '$DIR'"
		printf '%s\n' "$@"
	} >>"$data/postgresql.conf"
	STANDALONE_CLUSTERS+=("$data|$bin")
	as_pg "$bin/pg_ctl" -D "$data" -l "$data.log" -w start >/dev/null
}
