#!/bin/bash
# SPDX-License-Identifier: MIT
#
# meshctl's best paths at full size: mc_paths_compute() (Bellman-Ford over
# one-way costs, tools/meshctl/path.c) from each source of a 256-site full
# mesh with two tunnels (outer v4 and v6) per ordered pair, 130,560 in all,
# against one all-pairs Floyd-Warshall over the same raw costs, in the same
# run. Costs are true one-way delays (1..50 ms, asymmetric) plus small
# penalties plus per-site clock offsets (+-100 ms), so many are negative.
# Every distance must match Floyd-Warshall's exactly (exit 1 if not).
# Fixed seed; no root, no network. See bench/meshctl_paths.c.
#
#   BUILD=build bench/meshctl.sh [ROUNDS]        (default 5; a table on stdout)

set -e
export LANG=C LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
case ${BUILD:-build} in
/*) B=$BUILD ;;
*) B=$TOP/${BUILD:-build} ;;
esac
ROUNDS=${1:-5}
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
PKGS=(libnl-3.0 libnl-route-3.0 libnl-genl-3.0 libpcap jansson libsodium libmicrohttpd)

command -v "$CC" >/dev/null || { echo "bench/meshctl.sh: missing $CC" >&2; exit 4; }
[[ -f $B/libmeshperf.a ]] ||
	{ echo "bench/meshctl.sh: no $B/libmeshperf.a (make lib)" >&2; exit 4; }

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
# the same flags and libraries as the Makefile's CFLAGS and LDLIBS
# shellcheck disable=SC2046 # pkg-config's words are separate flags
"$CC" -std=c11 -D_GNU_SOURCE -O2 -I"$TOP/lib" $("$PKG_CONFIG" --cflags "${PKGS[@]}") \
	-o "$OUT/meshctl_paths" "$TOP/bench/meshctl_paths.c" "$B/libmeshperf.a" \
	$("$PKG_CONFIG" --libs "${PKGS[@]}") -lcsv -lm

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "machine: $(nproc) CPUs, $cpu, Linux $(uname -r)"
"$OUT/meshctl_paths" "$ROUNDS"
