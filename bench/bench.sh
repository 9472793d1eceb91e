#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/bench.sh BUILD_DIR -- `make bench`: zonekeeper against ldns-signzone,
# dnssec-signzone and kzonesign on generated zones, in the same run, through the shared
# peer harness (../shared/bench/peers.sh), then a report of ratios.
#
# Environment (all optional; passed on to peers.sh):
#   BENCH_DIR=/tmp/zonekeeper-bench  scratch directory (zones, keys, outputs, logs)
#   SIZES="10000 100000 1000000"     REPEATS=3   MODES="nsec nsec3"
#   PEERS="ldns bind-n1 bind-n2 knot-t1 knot-t2"
#   INC_SIZES="100000 1000000" CHANGES=10   the incremental (daemon) benchmark
#   API_SIZES="100000"               the record API benchmark (bench/api.sh: writes/s with 1
#                                    and 8 clients, POST-to-published latency; its own
#                                    variables WRITES CLIENTS LAT_WRITES MAX_SECONDS... pass on)
#   ONLY=peers|incremental|api       run only that part (default: all three, in that order)
# zonekeeper runs twice per zone: at its default verification level ("zk") and with
# every signature verified ("zk-full").
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
B=${1:-build}
ZK=$(cd "$B" && pwd)/zonekeeper
PEERS_SH=${PEERS_SH:-$REPO/../shared/bench/peers.sh}
W=${BENCH_DIR:-/tmp/zonekeeper-bench}

ONLY=${ONLY:-}
case "$ONLY" in ""|peers|incremental|api) ;; *) echo "bench: ONLY=peers|incremental|api" >&2; exit 2;; esac
want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

if want peers && [ ! -f "$PEERS_SH" ]; then
	echo "bench: the peer harness $PEERS_SH is missing (set PEERS_SH)" >&2
	exit 1
fi
for t in /usr/bin/time python3; do
	command -v "$t" >/dev/null || { echo "bench: missing $t" >&2; exit 1; }
done
mkdir -p "$W"
export SIZES=${SIZES:-"10000 100000 1000000"} REPEATS=${REPEATS:-3}
export MODES=${MODES:-"nsec nsec3"}

if want peers; then
echo "== zonekeeper (standard verification) and the peers" >&2
SIGNER_NAME=zk \
SIGNER_CMD="$HERE/zk-sign.sh $ZK standard {in} {out} {keydir} {zsk} {ksk} {origin} {denial}" \
	bash "$PEERS_SH" "$W" | tee "$W/table-peers.txt"
cp "$W/results.tsv" "$W/results-peers.tsv"

echo "== zonekeeper (full verification)" >&2
rates=$(sed -n 's/^ECDSAP256SHA256 sign rate (openssl speed): \([0-9]*\)\/s on 1 core, \([0-9]*\)\/s on all cores/\1 \2/p' "$W/table-peers.txt")
PEERS=zk-full SIGNER_NAME=zk-full SPEED=0 SIGN_RATE_1=${rates%% *} SIGN_RATE_2=${rates##* } \
SIGNER_CMD="$HERE/zk-sign.sh $ZK full {in} {out} {keydir} {zsk} {ksk} {origin} {denial}" \
	bash "$PEERS_SH" "$W" > "$W/table-full.txt"
cp "$W/results.tsv" "$W/results-full.tsv"

python3 "$HERE/report.py" "$W" ${rates}
fi

# the daemon: from an input edit to the new signed file, against Knot's incremental signing
if want incremental; then
for n in ${INC_SIZES:-100000 1000000}; do
	echo
	echo "== incremental: $n names"
	bash "$HERE/incremental.sh" "$(dirname "$ZK")" "$W" "$n" "${CHANGES:-10}" \
		| tee "$W/incremental-$n.txt"
done
fi

# the record API: acknowledged writes/s and POST-to-published latency. Knot's figure for
# one change comes from the incremental run above when it covered the size; else api.sh
# runs Knot itself (KNOT=0 skips it).
if want api; then
for n in ${API_SIZES:-100000}; do
	echo
	echo "== record API: $n names"
	knot=$( (want incremental && [ "${KNOT:-1}" = 1 ] &&
		sed -n 's/^median disk_s \([0-9.]*\) .*/\1/p' "$W/incremental-$n.txt" 2>/dev/null) || true)
	if [ -n "$knot" ]; then
		KNOT=0 KNOT_DISK_S=$knot bash "$HERE/api.sh" "$(dirname "$ZK")" "$W" "$n"
	else
		KNOT=${KNOT:-1} bash "$HERE/api.sh" "$(dirname "$ZK")" "$W" "$n"
	fi
done
fi
