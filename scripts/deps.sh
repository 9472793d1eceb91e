#!/bin/sh
# SPDX-License-Identifier: MIT
#
# scripts/deps.sh -- make sure the Debian packages zonekeeper needs are present.
#
#   sh scripts/deps.sh build   what `make` and `make install` need: the compiler and the
#                              libraries' development packages; never a test tool
#   sh scripts/deps.sh all     that, plus what the tests, the demo, the fuzzers and the
#                              benchmarks need (validators, name servers, clang, pytest,
#                              systemd-container, debootstrap, ...); the default
#
# On Debian as root: installs what is missing with apt-get (services that packages would
# start, such as nsd, unbound and knot, are kept from starting with a temporary
# policy-rc.d). Anywhere else: names what is missing and how to get it, and fails.
# The Makefile calls it before building, with `build` when every goal is a build or an
# install and `all` otherwise; with everything present it only asks dpkg.
#
# A host that only runs zonekeeper needs none of these: README.md ("Install") lists the
# runtime packages.
set -eu

BUILD_PKGS="build-essential pkg-config libldns-dev libssl-dev libconfig-dev libsystemd-dev \
libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev"
# libcmocka-dev: the unit tests. clang and libclang-rt-14-dev (libFuzzer, ASan and UBSan
# runtimes): make fuzz, check-fuzz. groff-base: the manual pages' check.
TEST_PKGS="libcmocka-dev ldnsutils bind9-utils bind9-dnsutils knot knot-dnsutils knot-dnssecutils \
nsd unbound python3 python3-pytest python3-dnspython python3-cryptography curl clang \
libclang-rt-14-dev systemd systemd-container debootstrap iproute2 time procps openssl \
pdns-server pdns-backend-bind bind9 dnsviz groff-base"

case "${1:-all}" in
build) want=$BUILD_PKGS ;;
all) want="$BUILD_PKGS $TEST_PKGS" ;;
*)
	echo "usage: sh scripts/deps.sh [build|all]" >&2
	exit 2
	;;
esac

missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done

[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
	echo "zonekeeper: missing packages:$missing" >&2
	echo "zonekeeper: install them with: sudo apt-get install$missing" >&2
	exit 1
fi

echo "zonekeeper: installing:$missing" >&2
prc=/usr/sbin/policy-rc.d
own_prc=0
if [ ! -e "$prc" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$prc"
	chmod 0755 "$prc"
	own_prc=1
fi
cleanup() { if [ "$own_prc" = 1 ]; then rm -f "$prc"; fi; }  # a false test would be the exit status
trap cleanup EXIT INT TERM

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
