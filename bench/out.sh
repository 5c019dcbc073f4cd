#!/bin/bash
# SPDX-License-Identifier: MIT
#
# lib/out's writer speed, format by format: bench/out_bench.c writes RECORDS
# (default 1,000,000) synthetic route-like records of 8 fields through
# mp_writer in text, csv, json and ndjson to /dev/null and prints the best
# of ROUNDS (default 3) runs as fields per second. No root, no network.
#
#   BUILD=build bench/out.sh [RECORDS [ROUNDS]]        (a Markdown table on stdout)

set -e
export LANG=C LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
case ${BUILD:-build} in
/*) B=$BUILD ;;
*) B=$TOP/${BUILD:-build} ;;
esac
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
PKGS=(libnl-3.0 libnl-route-3.0 libnl-genl-3.0 libpcap jansson libsodium libmicrohttpd)

command -v "$CC" >/dev/null || { echo "bench/out.sh: missing $CC" >&2; exit 4; }
[[ -f $B/libmeshperf.a ]] || { echo "bench/out.sh: no $B/libmeshperf.a (make lib)" >&2; exit 4; }

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
# the same flags and libraries as the Makefile's CFLAGS and LDLIBS
# shellcheck disable=SC2046 # pkg-config's words are separate flags
"$CC" -std=c11 -D_GNU_SOURCE -O2 -I"$TOP/lib" $("$PKG_CONFIG" --cflags "${PKGS[@]}") \
	-o "$OUT/out_bench" "$TOP/bench/out_bench.c" "$B/libmeshperf.a" \
	$("$PKG_CONFIG" --libs "${PKGS[@]}") -lcsv -lm

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "machine: $(nproc) CPUs, $cpu, Linux $(uname -r), $(date -u +%F)"
"$OUT/out_bench" "$@"
