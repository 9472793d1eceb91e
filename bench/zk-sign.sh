#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench/zk-sign.sh ZONEKEEPER LEVEL IN OUT KEYDIR ZSK KSK ORIGIN DENIAL
#
# zonekeeper as a one-shot signer for ../shared/bench/peers.sh (its SIGNER_CMD): a fresh
# state directory and configuration for one zone, the given BIND-format keys imported,
# then `zonekeeper sign` with verification LEVEL (standard or full). What it measures is
# the whole command, key import and configuration included.
set -eu
[ $# -eq 9 ] || { sed -n '4,9p' "$0" >&2; exit 2; }
ZK=$1 LEVEL=$2 IN=$3 OUT=$4 KEYDIR=$5 ZSK=$6 KSK=$7 ORIGIN=${8%.} DENIAL=$9
W=$(mktemp -d "${TMPDIR:-/tmp}/zk-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
cat > "$W/zk.conf" <<CONF
paths = { state_dir = "$W/state"; input_dir = "$W"; output_dir = "$W"; };
policies = ( {
  name = "bench"; algorithm = "ECDSAP256SHA256"; denial = "$DENIAL"; cds = false;
  nameservers = [ "ns1.$ORIGIN.", "ns2.$ORIGIN." ]; verify = "$LEVEL";
} );
zones = ( { name = "$ORIGIN."; input_file = "$IN"; output_file = "$OUT"; } );
CONF
# peers.sh passes key base names with their directory already; accept bare names too
case "$KSK" in /*) ;; *) KSK=$KEYDIR/$KSK ;; esac
case "$ZSK" in /*) ;; *) ZSK=$KEYDIR/$ZSK ;; esac
"$ZK" key import --config "$W/zk.conf" --zone "$ORIGIN." "$KSK.key" >/dev/null
"$ZK" key import --config "$W/zk.conf" --zone "$ORIGIN." "$ZSK.key" >/dev/null
exec "$ZK" sign --config "$W/zk.conf" --json
