#!/bin/bash
# SPDX-License-Identifier: MIT
#
# perfc against ip(8) listing the same large routing table in the same run:
# one lab node holding ROUTES (default 1,000,000) IPv4 routes of protocol 201
# via a gateway on a veth, loaded with `ip -force -batch`, plus the kernel's
# own routes. Each command prints every route of every table to /dev/null:
#
#   text:  perfc                 vs  ip route show table all
#   json:  perfc -j              vs  ip -j route show table all
#   (and perfc -f ndjson, the streaming machine format, for reference)
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
ROUTES=${ROUTES:-1000000}
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
python3 - "$ROUTES" >"$OUT/routes.batch" <<'EOF'
import sys
n = int(sys.argv[1])
out = sys.stdout
for i in range(n):
    out.write("route add 10.%d.%d.%d/32 via 192.168.0.2 proto 201\n" %
              (i >> 16 & 255, i >> 8 & 255, i & 255))
EOF
t0=${EPOCHREALTIME/./}
lab_ip big -force -batch "$OUT/routes.batch"
t0=$(((${EPOCHREALTIME/./} - t0) / 1000))
have=$(lab_exec big "$PERFC" -q -4 --proto 201 -f csv | tail -n +2 | wc -l)
echo "loaded $have routes in $((t0 / 1000)).$(printf %03d $((t0 % 1000))) s" >&2
((have == ROUTES))

# measure NAME CMD...: appends "NAME wall_s maxrss_kb" to $OUT/times.
measure()
{
	local name=$1
	shift
	lab_exec big /usr/bin/time -f '%e %M' -o "$OUT/t" "$@" >/dev/null
	echo "$name $(tail -n 1 "$OUT/t")" >>"$OUT/times"
}

# check that both print the same number of routes once (not timed)
lines_ip=$(lab_exec big ip route show table all | wc -l)
lines_pc=$(lab_exec big "$PERFC" -q | tail -n +2 | wc -l)
echo "rows: ip $lines_ip, perfc $lines_pc" >&2
((lines_ip == lines_pc))

for ((run = 0; run < RUNS; run++)); do
	measure ip_text ip route show table all
	measure perfc_text "$PERFC"
	measure ip_json ip -j route show table all
	measure perfc_json "$PERFC" -j
	measure perfc_ndjson "$PERFC" -f ndjson
done

python3 - "$OUT/times" "$ROUTES" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, wall, rss = line.split()
    rows.setdefault(name, []).append((float(wall), int(rss)))
def fig(name):
    v = rows[name]
    return statistics.median(w for w, _ in v), max(r for _, r in v)
print("| routes | output | tool | wall (s, median) | peak RSS (MiB) | wall perfc/ip | RSS perfc/ip |")
print("|---|---|---|---|---|---|---|")
for fmt, ipn, pcn in (("text", "ip_text", "perfc_text"), ("json", "ip_json", "perfc_json"),
                      ("ndjson", "ip_json", "perfc_ndjson")):
    iw, ir = fig(ipn)
    pw, pr = fig(pcn)
    if fmt != "ndjson":
        print("| %s | %s | ip | %.2f | %.1f | | |" % (sys.argv[2], fmt, iw, ir / 1024))
    print("| %s | %s | perfc | %.2f | %.1f | %.2f | %.2f |" %
          (sys.argv[2], fmt, pw, pr / 1024, pw / iw, pr / ir))
EOF
