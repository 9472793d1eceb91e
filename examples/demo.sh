#!/bin/sh
# SPDX-License-Identifier: MIT
#
# examples/demo.sh BUILD_DIR -- what `make demo` shows: the bundled example zone signed
# with the bundled configuration, the DS records for the parent, the verdicts of three
# independent validators; then the service, zonekeeperd, started in the foreground on the
# same example, picking up an edit of the zone and publishing it.
# Everything happens in BUILD_DIR/demo, recreated on each run.
set -eu

B=${1:-build}
ZK="$(pwd)/$B/zonekeeper"
D="$(pwd)/$B/demo"

rm -rf "$D"
mkdir -p "$D"
cp examples/zonekeeper.conf examples/example.com.zone "$D/"
cd "$D"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "zonekeeper sign --config zonekeeper.conf (state under $D/state)"
"$ZK" sign --config zonekeeper.conf

OUT=state/signed/example.com.zone
say "the published signed zone: $D/$OUT"
cat "$OUT"

say "DS records to give to the parent zone (zonekeeper ds)"
"$ZK" ds --config zonekeeper.conf --zone example.com.

say "keys (zonekeeper keys)"
"$ZK" keys --config zonekeeper.conf --zone example.com.

say "validators"
verdict() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		line=$(printf '%s\n' "$out" | grep -E 'verified|fully signed|valid' | tail -n 1)
		printf '  %-22s VALID    %s\n' "$name" "${line:-(no errors)}"
	else
		printf '  %-22s INVALID\n%s\n' "$name" "$out"
		exit 1
	fi
}
verdict "ldns-verify-zone" ldns-verify-zone "$OUT"
verdict "dnssec-verify (BIND)" dnssec-verify -o example.com. "$OUT"
verdict "kzonecheck (Knot)" kzonecheck -o example.com. -d on "$OUT"
verdict "zonekeeper verify" "$ZK" verify --origin example.com. "$OUT"

say "edit the zone (add shop.example.com) and sign again: only the change is signed"
printf 'shop    IN A    192.0.2.42\n' >> example.com.zone
"$ZK" sign --config zonekeeper.conf
verdict "ldns-verify-zone" ldns-verify-zone "$OUT"
grep -E '^shop\.example\.com\.' "$OUT" | cut -c1-100

say "sign again with nothing changed: nothing is published"
"$ZK" sign --config zonekeeper.conf

# ---------------------------------------------------------------- the service
ZKD="$(dirname "$ZK")/zonekeeperd"
api() { curl -s --max-time 5 --unix-socket state/api.sock "http://zonekeeper$1"; }
serial() { api /v1/zones/example.com. | sed -n 's/.*"serial": *\([0-9]*\).*/\1/p'; }

say "zonekeeperd --config zonekeeper.conf (in the foreground; its log follows)"
"$ZKD" --config zonekeeper.conf &
ZPID=$!
trap 'kill $ZPID 2>/dev/null; wait $ZPID 2>/dev/null' EXIT
for i in $(seq 100); do [ -n "$(serial)" ] && break; sleep 0.1; done
before=$(serial)
echo "  serving; API: curl --unix-socket $D/state/api.sock http://zonekeeper/v1/zones"
api /v1/zones/example.com. | python3 -m json.tool | sed 's/^/  /'

say "edit the zone file while the service runs (add api.example.com)"
printf 'api     IN AAAA 2001:db8::443\n' >> example.com.zone
for i in $(seq 100); do [ "$(serial)" != "$before" ] && break; sleep 0.1; done
echo "  serial $before -> $(serial); the new record, signed:"
grep -E '^api\.example\.com\.' "$OUT" | cut -c1-100 | sed 's/^/  /'
verdict "ldns-verify-zone" ldns-verify-zone "$OUT"

say "the record API: add a record, waiting for its publication"
"$ZK" record add example.com. demo A 192.0.2.80 --ttl 300 --wait --socket state/api.sock | sed 's/^/  /'
grep -E '^demo\.example\.com\.' "$OUT" | cut -c1-100 | sed 's/^/  /'

say "the record API refuses writes to the records zonekeeper owns"
rc=0
"$ZK" record add example.com. @ SOA "ns1 h 1 2 3 4 5" --socket state/api.sock 2>&1 || rc=$?
echo "  exit status $rc (3: refused by the daemon)"
curl -s --unix-socket state/api.sock -X POST -d '{"name":"@","type":"DNSKEY","content":"257 3 13 AAAA"}' \
  http://zonekeeper/v1/zones/example.com./records | sed 's/^/  /'; echo
verdict "ldns-verify-zone" ldns-verify-zone "$OUT"

say "a ZSK rollover on request (no DS at a parent yet, so the successor may sign at once; with one it waits until its DNSKEY is in every cache)"
"$ZK" key rollover example.com. --type zsk --socket state/api.sock | sed 's/^/  /'
verdict "ldns-verify-zone" ldns-verify-zone "$OUT"

say "stop the service (SIGTERM)"
kill $ZPID
wait $ZPID
trap - EXIT
