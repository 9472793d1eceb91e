#!/bin/sh
# SPDX-License-Identifier: MIT
#
# examples/demo.sh BUILD_DIR -- what `make demo` shows: the bundled example zone signed
# with the bundled configuration, the DS records for the parent, the verdicts of three
# independent validators, then an edit of the zone re-signed incrementally.
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
