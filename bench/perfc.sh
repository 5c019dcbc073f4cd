#!/bin/bash
# SPDX-License-Identifier: MIT
#
# perfc against ip(8) listing the same large routing table in the same run:
# one lab node holding, in turn, each count of ROUTES (default "200000
# 1000000") IPv4 routes of protocol 201 via a gateway on a veth, loaded with
# `ip -force -batch` (the larger count adds to the smaller), plus the
# kernel's own routes. Each command prints every IPv4 route of every table
# to /dev/null:
#
#   text:  perfc -4              vs  ip -4 route show table all
#   json:  perfc -4 -j           vs  ip -4 -j route show table all
#   (and, for reference, perfc -4 -f ndjson, the streaming machine format,
#   and perfc -4 -q: the netlink dump and conversion, the summary only)
#
# Each is run RUNS times (default 3) alternating; the table gives the median
# wall time and the largest peak RSS (GNU time %e / %M), and the ratio
# perfc / ip (below 1: perfc is faster or smaller).
#
#   BUILD=build bench/perfc.sh        (root; a Markdown table on stdout)

set -e
export LANG=C LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/lab/lab.sh
. "$TOP/tests/lab/lab.sh"
case ${BUILD:-build} in
/*) PERFC=$BUILD/bin/perfc ;;
*) PERFC=$TOP/${BUILD:-build}/bin/perfc ;;
esac
ROUTES=${ROUTES:-200000 1000000}
RUNS=${RUNS:-3}
LAB_TIMEOUT=900
OUT=$(mktemp -d)
LAB_EXIT_HOOK=$BASHPID:"rm -rf $OUT"

for c in python3 /usr/bin/time; do
	command -v "$c" >/dev/null || { echo "bench/perfc.sh: missing $c" >&2; exit 4; }
done
[[ -x $PERFC ]] || { echo "bench/perfc.sh: build perfc first ($PERFC)" >&2; exit 4; }
((EUID == 0)) || { echo "bench/perfc.sh: not root" >&2; exit 4; }

lab_new
lab_node_add big
lab_ip big link add v0 type veth peer name v1
lab_ip big addr add 192.168.0.1/24 dev v0
lab_ip big link set v0 up
lab_ip big link set v1 up
# load N: routes 0..N-1 in the node (those below the last count are there)
loaded=0
load()
{
	local n=$1 t0 have
	python3 - "$loaded" "$n" >"$OUT/routes.batch" <<'EOF'
import sys
out = sys.stdout
for i in range(int(sys.argv[1]), int(sys.argv[2])):
    out.write("route add 10.%d.%d.%d/32 via 192.168.0.2 proto 201\n" %
              (i >> 16 & 255, i >> 8 & 255, i & 255))
EOF
	t0=${EPOCHREALTIME/./}
	lab_ip big -force -batch "$OUT/routes.batch"
	t0=$(((${EPOCHREALTIME/./} - t0) / 1000))
	loaded=$n
	have=$(lab_exec big "$PERFC" -4 --proto 201 -f csv | tail -n +2 | wc -l)
	echo "loaded $have routes (the last $((n - ${2:-0})) in $((t0 / 1000)).$(printf %03d \
		$((t0 % 1000))) s)" >&2
	((have == n))
}

# measure N NAME CMD...: appends "N NAME wall_s maxrss_kb" to $OUT/times.
measure()
{
	local n=$1 name=$2
	shift 2
	lab_exec big /usr/bin/time -f '%e %M' -o "$OUT/t" "$@" >/dev/null
	echo "$n $name $(tail -n 1 "$OUT/t")" >>"$OUT/times"
}

for n in $ROUTES; do
	load "$n" "$loaded"
	# check that both print the same number of routes once (not timed)
	lines_ip=$(lab_exec big ip -4 route show table all | wc -l)
	lines_pc=$(lab_exec big "$PERFC" -4 -f csv | tail -n +2 | wc -l)
	echo "rows: ip $lines_ip, perfc $lines_pc" >&2
	((lines_ip == lines_pc))
	for ((run = 0; run < RUNS; run++)); do
		measure "$n" ip_text ip -4 route show table all
		measure "$n" perfc_text "$PERFC" -4
		measure "$n" ip_json ip -4 -j route show table all
		measure "$n" perfc_json "$PERFC" -4 -j
		measure "$n" perfc_ndjson "$PERFC" -4 -f ndjson
		measure "$n" perfc_dump "$PERFC" -4 -q
	done
done

python3 - "$OUT/times" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    n, name, wall, rss = line.split()
    rows.setdefault((int(n), name), []).append((float(wall), int(rss)))
def fig(n, name):
    v = rows[(n, name)]
    return statistics.median(w for w, _ in v), max(r for _, r in v)
print("| routes | output | tool | wall (s, median) | peak RSS (MiB) | wall perfc/ip | RSS perfc/ip |")
print("|---|---|---|---|---|---|---|")
for n in sorted({n for n, _ in rows}):
    for fmt, ipn, pcn in (("text", "ip_text", "perfc_text"), ("json", "ip_json", "perfc_json"),
                          ("ndjson", "ip_json", "perfc_ndjson"),
                          ("none (-q)", "ip_text", "perfc_dump")):
        iw, ir = fig(n, ipn)
        pw, pr = fig(n, pcn)
        if fmt in ("text", "json"):
            print("| %d | %s | ip | %.2f | %.1f | | |" % (n, fmt, iw, ir / 1024))
        print("| %d | %s | perfc | %.2f | %.1f | %.2f | %.2f |" %
              (n, fmt, pw, pr / 1024, pw / iw, pr / ir))
EOF
