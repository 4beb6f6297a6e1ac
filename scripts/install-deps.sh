#!/bin/bash
#
# install-deps.sh: install the Debian 12 packages snapshot_ops builds and
# tests with (gnuplot-nox for the benchmark report, python3 for the cron
# oracle of the differential test), when any is missing.  Run as root; a no-op when all are there.
#
set -u
PACKAGES="make gcc postgresql-15 postgresql-server-dev-15 postgresql-15-cron
	postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl libipc-run-perl
	zlib1g-dev libpq-dev libssl-dev gnuplot-nox python3 $*"
missing=()
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
