#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/incremental.sh BUILD_DIR SCRATCH_DIR [N_NAMES] [CHANGES]
#
# zonekeeperd's latency from an input edit (one new A record, written to a temporary file
# and renamed over the input, as config management does) to the new signed zone file on
# disk, and the signatures made per edit; then Knot's equivalent in the same run
# (../shared/bench/knot-incremental.sh: knotc zone-commit to the flushed zone file).
# Environment: DENIAL=nsec3|nsec (default nsec3), DEBOUNCE=0 (milliseconds; an edit is
# applied this long after the last change), KNOT=1 (0 skips Knot), SEED=42.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '4,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ZKD=$(cd "$1" && pwd)/zonekeeperd
mkdir -p "$2"; W=$(cd "$2" && pwd)
N=${3:-100000}; CHANGES=${4:-10}
DENIAL=${DENIAL:-nsec3}; DEBOUNCE=${DEBOUNCE:-0}; SEED=${SEED:-42}; ORIGIN=bench.test
GEN=$REPO/../shared/bench/gen-zone.py

Z="$W/zk-inc-$N"
rm -rf "$Z"; mkdir -p "$Z/in" "$Z/out"
if [ -s "$W/zones/z$N.zone" ]; then cp "$W/zones/z$N.zone" "$Z/base.zone"
else python3 "$GEN" "$ORIGIN" "$N" "$SEED" > "$Z/base.zone" 2>/dev/null; fi
cp "$Z/base.zone" "$Z/in/$ORIGIN.zone"
cat > "$Z/zk.conf" <<CONF
paths = { state_dir = "$Z/state"; input_dir = "$Z/in"; output_dir = "$Z/out"; };
api = { socket = "$Z/api.sock"; };
policies = ( { name = "bench"; denial = "$DENIAL"; cds = false;
  nameservers = [ "ns1.$ORIGIN.", "ns2.$ORIGIN." ]; } );
zones = ( { name = "$ORIGIN."; } );
CONF

now() { echo "$EPOCHREALTIME"; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", a-b}'; }
file_serial() { head -c 200 "$Z/out/$ORIGIN.zone" 2>/dev/null | awk '/serial/{for(i=1;i<=NF;i++) if($i=="serial") print $(i+1); exit}'; }
api() { curl -s --max-time 5 --unix-socket "$Z/api.sock" "http://zk$1"; }

t_start=$(now)
"$ZKD" --config "$Z/zk.conf" --debounce "$DEBOUNCE" > "$Z/zonekeeperd.log" 2>&1 &
ZPID=$!
trap 'kill $ZPID 2>/dev/null || true; wait $ZPID 2>/dev/null || true' EXIT
until [ -n "$(file_serial)" ] && api "/v1/zones/$ORIGIN." | grep -q '"state":"ok"'; do
	kill -0 $ZPID 2>/dev/null || { echo "zonekeeperd died:"; tail "$Z/zonekeeperd.log"; exit 1; }
	sleep 0.2
done
t_ready=$(now)
printf 'zonekeeperd initial: load+sign+publish %.2f s (%s names, %s)\n' "$(sub "$t_ready" "$t_start")" "$N" "$DENIAL"
echo -e "change\tserial\tdisk_s\tsignatures"
: > "$Z/results.tsv"
for i in $(seq 1 "$CHANGES"); do
	old=$(file_serial)
	cp "$Z/base.zone" "$Z/in/.edit"
	for k in $(seq 1 "$i"); do echo "inc-test-$k 3600 IN A 192.0.2.$((k % 250 + 1))" >> "$Z/in/.edit"; done
	t0=$(now)
	mv "$Z/in/.edit" "$Z/in/$ORIGIN.zone"
	disk=""
	while [ -z "$disk" ]; do
		f=$(file_serial); [ -n "$f" ] && [ "$f" != "$old" ] && disk=$(now)
		if awk -v a="$(now)" -v b="$t0" 'BEGIN{exit !(a-b > 300)}'; then echo "timeout"; break; fi
		sleep 0.005
	done
	# the file is renamed before the API status is updated: wait for both to agree
	for w in $(seq 200); do api "/v1/zones/$ORIGIN." | grep -q "\"serial\":$(file_serial)" && break; sleep 0.01; done
	sigs=$(api "/v1/zones/$ORIGIN." | python3 -c 'import json,sys; print(json.load(sys.stdin)["zone"]["signatures_made"])')
	line=$(printf '%d\t%s\t%s\t%s' "$i" "$(file_serial)" "$(sub "${disk:-0}" "$t0")" "$sigs")
	echo "$line"; echo "$line" >> "$Z/results.tsv"
	sleep 0.5
done
rss=$(awk '/VmHWM/{print $2}' /proc/$ZPID/status)
python3 - "$Z/results.tsv" "$rss" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]) if l.strip()]
v = [float(r[2]) for r in rows]
s = [int(r[3]) for r in rows]
print("zonekeeperd: median disk_s %.3f (min %.3f, max %.3f); signatures per edit: median %d, max %d; peak RSS %d MiB"
      % (statistics.median(v), min(v), max(v), statistics.median(s), max(s), int(sys.argv[2]) // 1024))
PY
kill $ZPID; wait $ZPID 2>/dev/null || true; trap - EXIT
if [ "${KNOT:-1}" = 1 ]; then
	echo "== Knot, same zone size, same run"
	DENIAL=$DENIAL bash "$REPO/../shared/bench/knot-incremental.sh" "$W" "$N" "$CHANGES"
fi
