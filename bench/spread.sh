#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/spread.sh BUILD_DIR OUT_DIR [ZONES] [DAYS]
#
# When signatures are refreshed: ZONES (200) small zones, all first signed at the same
# simulated instant T0 (`zonekeeper sign` on a clock stopped at T0), then zonekeeperd
# from T0 for DAYS (30) days on the fake clock, and the publications per simulated hour
# and per zone per week (bench/spread_report.py). About 20 records a zone, NSEC3 and ECDSA
# P-256: the default policy, with `serial = "unixtime"` so that every publication's serial
# is the simulated time it was made at (the log says zone, serial and signatures).
# Environment: SPEED=1000 (simulated seconds per real second: a job of 10 ms takes 10
# simulated seconds, so zones due at once are published over some minutes), HOLD=0 (1:
# the clock holds while a job runs; with many zones due at one instant it crawls, each
# due timer firing early while another zone's job holds the clock), T0=1795737600
# (2026-11-27T00:00:00Z), KEEP=1 keeps OUT_DIR's zones, state and log.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
ZKD=$(cd "$1" && pwd)/zonekeeperd
ZK=$(cd "$1" && pwd)/zonekeeper
mkdir -p "$2"; W=$(cd "$2" && pwd)
N=${3:-200}; DAYS=${4:-30}
SPEED=${SPEED:-1000}; T0=${T0:-1795737600}
FAKE="$T0@$SPEED"; [ "${HOLD:-0}" = 1 ] && FAKE="$FAKE,hold"
PY=/usr/bin/python3

rm -rf "$W/in" "$W/out" "$W/state" "$W/zonekeeperd.log" "$W/sign.log" "$W/api.sock"
mkdir -p "$W/in" "$W/out" "$W/state"
zones=""
for i in $(seq 1 "$N"); do
	z=$(printf 'z%04d.spread.test' "$i")
	zones="$zones  { name = \"$z.\"; },"$'\n'
	{
		printf '$TTL 3600\n@ SOA ns1.example.net. hostmaster 1 1h 15m 6d 1h\n'
		printf '@ A 192.0.2.%d\n@ AAAA 2001:db8::%x\n@ MX 10 mail\n' $((i % 250 + 1)) "$i"
		printf '@ TXT "v=spf1 mx -all"\nwww CNAME @\nmail A 198.51.100.%d\n' $((i % 250 + 1))
		printf '_dmarc TXT "v=DMARC1; p=none"\n'
		for h in $(seq 1 12); do printf 'h%d A 203.0.113.%d\n' "$h" $(((i + h) % 250 + 1)); done
	} > "$W/in/$z.zone"
done
cat > "$W/zk.conf" <<CONF
paths = { state_dir = "$W/state"; input_dir = "$W/in"; output_dir = "$W/out"; };
api = { socket = "$W/api.sock"; };
policies = ( { name = "default"; serial = "unixtime";
  nameservers = [ "ns1.example.net.", "ns2.example.net." ]; } );
zones = (
${zones%,$'\n'}
);
CONF

ZONEKEEPER_FAKE_TIME="$T0@0" "$ZK" sign --config "$W/zk.conf" > "$W/sign.log" 2>&1 ||
	{ echo "zonekeeper sign failed:" >&2; tail "$W/sign.log" >&2; exit 1; }
ZONEKEEPER_FAKE_TIME="$FAKE" "$ZKD" --config "$W/zk.conf" > "$W/zonekeeperd.log" 2>&1 &
ZPID=$!
trap 'kill $ZPID 2>/dev/null || true; wait $ZPID 2>/dev/null || true' EXIT
zone_time() {
	curl -s --max-time 5 --unix-socket "$W/api.sock" http://zk/v1/health 2>/dev/null |
		sed -n 's/.*"unixtime":\([0-9]*\).*/\1/p'
}
end=$((T0 + DAYS * 86400))
t_start=$(date +%s)
while :; do
	if ! kill -0 $ZPID 2>/dev/null; then
		echo "zonekeeperd died:" >&2; tail "$W/zonekeeperd.log" >&2; exit 1
	fi
	t=$(zone_time || true)
	[ -n "$t" ] && [ "$t" -ge "$end" ] && break
	sleep 1
done
kill $ZPID; wait $ZPID 2>/dev/null || true; trap - EXIT
echo "zonekeeperd $ZKD: $N zones, $DAYS simulated days in $(( $(date +%s) - t_start )) s"
"$PY" "$HERE/spread_report.py" "$W/zonekeeperd.log" "$T0" "$DAYS" "$N" "$W/sign.log"
[ "${KEEP:-0}" = 1 ] || rm -rf "$W/in" "$W/out" "$W/state" "$W/api.sock"
