#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/zones.sh BUILD_DIR [N_ZONES] -- `make bench-zones`: many small zones (about 100
# records each, bench/zones_gen.py), zonekeeperd against Knot with automatic signing
# (same policy: ECDSAP256SHA256 KSK+ZSK, NSEC3 0 iterations no salt, signatures 14 d
# refreshed 7 d before expiry, CDS/CDNSKEY, date serials), on the same zone files, in the
# same run, one server at a time, the order alternating. Per server:
#   - cold start (empty state) until every zone is signed and on disk: wall s, CPU s
#     (utime+stime of the server, children excluded), peak RSS (VmHWM), open fds
#     zonekeeperd: every output file there and GET /v1/zones shows every zone "ok";
#     knotd (zonefile-sync: 0, the signed zone file is written after each change): every
#     zone file replaced by a signed one, and zone-status gives every zone a serial
#   - restart with unchanged input until ready (zonekeeperd: the API answers and every
#     zone is "ok"; knotd: the control socket answers and every zone is loaded)
#   - WRITES single A-record writes to random zones: zonekeeperd POST
#     .../records?wait=published; knotd zone-begin/zone-set/zone-commit, then until the
#     record is answered with its RRSIG on 127.0.0.1 (and until it is in the zone file)
#   - CREATES new zones: zonekeeperd POST /v1/zones?wait=published ("n/a" while the
#     endpoint is not there); knotd conf-begin/conf-set zone/conf-commit, then until the
#     SOA is answered with its RRSIG (and the signed zone file is written)
# Prints a Markdown table with the ratio zonekeeperd/Knot, writes the figures as JSON.
#
# Environment: BENCH_ZONES=1000 (when N_ZONES is not given), ROUNDS=1 (cold starts and
#   restarts per server; medians), WRITES=200, CREATES=50, SEED=42, VERIFY=5 (signed files
#   per server checked with `zonekeeper verify`), CLIENT=inproc (the bench talks HTTP,
#   Knot's control protocol through libknot and DNS itself) or cli (curl and knotc
#   processes; their start-up is then part of each latency), TIMEOUT=seconds for any one
#   wait on all zones (default 600 + N/10), BENCH_JSON=/tmp/zonekeeper-zones-N.json,
#   BENCH_KEEP=1 keeps the work directory (/tmp/zonekeeper-zones.XXXXXX; TMPDIR moves it),
#   SERVERS=zonekeeper,knot (one of them alone: e.g. 100,000 zones without Knot's hours).
# Needs knotd, knotc and libknot (Debian: knot), /usr/bin/python3 with dnspython
# (python3-dnspython), curl for CLIENT=cli. The soft limit of open files is raised to the
# hard one.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '4,35p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$1" && pwd)
N=${2:-${BENCH_ZONES:-1000}}
case "$N" in ''|*[!0-9]*) echo "zones.sh: N_ZONES must be a number" >&2; exit 2;; esac
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
for f in "$B/zonekeeperd" "$B/zonekeeper"; do
	[ -x "$f" ] || { echo "zones.sh: no $f (make first)" >&2; exit 1; }
done
for t in knotd knotc; do
	command -v "$t" >/dev/null || { echo "zones.sh: missing $t (apt-get install knot)" >&2; exit 1; }
done
"$PY" -c 'import dns.message, dns.query' 2>/dev/null ||
	{ echo "zones.sh: $PY lacks dnspython (apt-get install python3-dnspython)" >&2; exit 1; }
# the servers may hold many descriptors (Knot, older zonekeeperd): allow the hard limit
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
JSON=${BENCH_JSON:-${TMPDIR:-/tmp}/zonekeeper-zones-$N.json}

W=$(mktemp -d "${TMPDIR:-/tmp}/zonekeeper-zones.XXXXXX")
DRIVER=""
cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM HUP
	# the driver stops its servers itself; this is for when it was killed
	if [ -n "$DRIVER" ] && kill -0 "$DRIVER" 2>/dev/null; then
		kill "$DRIVER" 2>/dev/null || true
		wait "$DRIVER" 2>/dev/null || true
	fi
	# servers the driver left running: only a process whose command line names the work
	# directory is ours
	ours() { tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF "$W/"; }
	if [ -f "$W/pids" ]; then
		while read -r pid; do
			! ours "$pid" || kill "$pid" 2>/dev/null || true
		done < "$W/pids"
		sleep 1
		while read -r pid; do
			! ours "$pid" || kill -9 "$pid" 2>/dev/null || true
		done < "$W/pids"
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "zones.sh: work directory kept: $W" >&2
	else
		rm -rf "$W"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

echo "zones.sh: $N zones, work directory $W, other load (loadavg)" \
	"$(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, ulimit -n $(ulimit -n)" >&2
"$PY" "$HERE/zones_bench.py" --work "$W" --zkd "$B/zonekeeperd" --zk "$B/zonekeeper" \
	--zones "$N" --json "$JSON" --rounds "${ROUNDS:-1}" --writes "${WRITES:-200}" \
	--creates "${CREATES:-50}" --seed "${SEED:-42}" --client "${CLIENT:-inproc}" \
	--timeout "${TIMEOUT:-0}" --verify "${VERIFY:-5}" --pids "$W/pids" \
	--servers "${SERVERS:-zonekeeper,knot}" &
DRIVER=$!
rc=0; wait "$DRIVER" || rc=$?
DRIVER=""
if [ -s "$JSON" ]; then
	echo
	"$PY" "$HERE/zones_report.py" "$JSON"
	echo
	echo "JSON: $JSON"
fi
exit "$rc"
