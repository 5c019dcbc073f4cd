#!/bin/bash
# SPDX-License-Identifier: MIT
#
# perfc --diff and --nodes on large documents, main's binary (before)
# against this tree's (after), in the same run:
#
#   diff:     a lab node holding ROUTES (default 200000) IPv4 routes of
#             protocol 201; its `perfc -j` snapshot (about 37 MiB); then
#             1,000 routes deleted, 1,000 added and 1,000 replaced with
#             another gateway; `perfc -j --diff snapshot.json`
#   nodes-2:  `perfc -j --nodes` over 2 generated node documents of ROUTES
#             routes each (IPv4 /32s, IPv6 /64s, multipath /24s)
#   nodes-many: `perfc -j --nodes` over MANY (200) generated documents of 5,000
#             routes, about 1 MB each
#
# Each is run RUNS times (default 3) per binary, alternating; the table
# gives the median wall time, the median CPU time (user + system: this VM
# is shared, wall time is not all ours) and the largest peak RSS (GNU time
# %e %U %S %M), and the document bytes. The outputs of both binaries are
# compared byte for byte (the "time" field aside) on every case: the bench
# fails if they differ.
#
#   BEFORE=/path/to/main/build BUILD=build bench/perfc-diff.sh   (root)
#
# Without BEFORE, main is built in a temporary git worktree (removed after).

set -e
export LANG=C LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/lab/lab.sh
. "$TOP/tests/lab/lab.sh"
case ${BUILD:-build} in
/*) NEW=$BUILD/bin/perfc ;;
*) NEW=$TOP/${BUILD:-build}/bin/perfc ;;
esac
ROUTES=${ROUTES:-200000}
RUNS=${RUNS:-3}
MANY=${MANY:-200}	# documents of about 1 MB in nodes-many
LAB_TIMEOUT=1800
OUT=$(mktemp -d)
WT=
cleanup()
{
	[[ -z $WT ]] || git -C "$TOP" worktree remove --force "$WT"
	rm -rf "$OUT"
}
LAB_EXIT_HOOK=$BASHPID:cleanup

for c in python3 /usr/bin/time git; do
	command -v "$c" >/dev/null || { echo "bench/perfc-diff.sh: missing $c" >&2; exit 4; }
done
[[ -x $NEW ]] || { echo "bench/perfc-diff.sh: build perfc first ($NEW)" >&2; exit 4; }
((EUID == 0)) || { echo "bench/perfc-diff.sh: not root" >&2; exit 4; }
lab_new		# from here on, the EXIT trap cleans up
if [[ -n $BEFORE ]]; then
	OLD=$BEFORE/bin/perfc
else
	WT=$OUT/main
	git -C "$TOP" worktree add -q --detach "$WT" main
	echo "building main ($(git -C "$WT" log --oneline -1)) in $WT" >&2
	make -C "$WT" -j2 tools >"$OUT/build.log" 2>&1 || { tail "$OUT/build.log" >&2; exit 1; }
	OLD=$WT/build/bin/perfc
fi
[[ -x $OLD ]] || { echo "bench/perfc-diff.sh: no perfc at $OLD" >&2; exit 4; }

# gen DIR NODES ROUTES: node documents DIR/nK.json, each with a /32 route to
# every other node's address through that node, filled up to ROUTES routes
gen()
{
	mkdir -p "$1"
	python3 - "$@" <<'EOF'
import json, sys
d, nodes, routes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for k in range(nodes):
    out = open("%s/n%d.json" % (d, k), "w")
    out.write('{"tool":"perfc","version":"0.1.0","schema":"perfc/2",'
              '"time":"2026-12-03T00:00:00Z","node":"n%d","site":"%d",'
              '"addresses":["10.201.%d.%d"],"routes":[\n' % (k, k, k >> 8, k & 255))
    rows = []
    def route(dst, gw, dev="wg0", proto="meshctl", metric=0, nh=None):
        rows.append(json.dumps({
            "family": "inet6" if ":" in dst else "inet", "route_type": "unicast",
            "dst": dst, "table": "main", "protocol": proto, "scope": "global",
            "metric": metric, "gateway": "" if nh else gw, "dev": "" if nh else dev,
            "prefsrc": "", "flags": [], "nexthops": nh or []}, separators=(",", ":")))
    for j in range(nodes):
        if j != k:
            a = "10.201.%d.%d" % (j >> 8, j & 255)
            route(a + "/32", a, dev="wg%d" % j)
    for i in range(max(0, routes - nodes)):
        if i % 50 == 7:
            route("fd%02x:%x:%x::/64" % (k & 255, i >> 16, i & 0xffff), "fe80::1",
                  dev="eth0", proto="bird", metric=1024)
        elif i % 97 == 3:
            route("172.%d.%d.0/24" % (16 + (i >> 16 & 15), i >> 8 & 255), "",
                  nh=[{"gateway": "192.168.0.2", "dev": "eth0", "weight": 1, "flags": []},
                      {"gateway": "192.168.1.2", "dev": "eth1", "weight": 2,
                       "flags": ["onlink"]}], proto="static", metric=i % 7)
        else:
            route("10.%d.%d.%d/32" % (i >> 16 & 255, i >> 8 & 255, i & 255),
                  "192.168.0.2", dev="v1", metric=i % 3)
    out.write(",\n".join(rows))
    out.write("\n],\"route_count\":%d}\n" % len(rows))
EOF
}

# measure CASE WHICH BYTES CMD...: appends "CASE WHICH BYTES wall user sys maxrss_kb";
# the output goes to $OUT/CASE.WHICH.out, without its "time" field
measure()
{
	local name=$1 which=$2 bytes=$3 rc=0
	shift 3
	"$@" >"$OUT/raw" || rc=$?
	((rc <= 1)) || { echo "$name $which: exit $rc" >&2; exit 1; }
	sed 's/"time":"[^"]*"//' "$OUT/raw" >"$OUT/$name.$which.out"
	mv "$OUT/raw" "$OUT/$name.$which.json"
	echo "$name $which $bytes $(tail -n 1 "$OUT/t")" >>"$OUT/times"
}

# run CASE BYTES [lab NODE] ARGS...: both binaries RUNS times, outputs compared
run()
{
	local name=$1 bytes=$2 pre=() run
	shift 2
	if [[ $1 == lab ]]; then
		pre=(lab_exec "$2")
		shift 2
	fi
	for ((run = 0; run < RUNS; run++)); do
		for which in before after; do
			local bin=$OLD
			[[ $which == after ]] && bin=$NEW
			measure "$name" "$which" "$bytes" "${pre[@]}" /usr/bin/time \
				-f '%e %U %S %M' -o "$OUT/t" "$bin" "$@"
		done
		cmp "$OUT/$name.before.out" "$OUT/$name.after.out" ||
			{ echo "$name: the outputs differ" >&2; exit 1; }
	done
	echo "$name: outputs identical ($(wc -c <"$OUT/$name.after.out") bytes)" >&2
}

# --nodes: generated documents
gen "$OUT/two" 2 "$ROUTES"
gen "$OUT/many" "$MANY" 5000
run nodes-2 "$(cat "$OUT"/two/*.json | wc -c)" -j --nodes "$OUT"/two/*.json
run nodes-many "$(cat "$OUT"/many/*.json | wc -c)" -j --nodes "$OUT"/many/*.json

# --diff: a lab node's own table against its snapshot
lab_node_add big
lab_ip big link add v0 type veth peer name v1
lab_ip big addr add 192.168.0.1/24 dev v0
lab_ip big link set v0 up
lab_ip big link set v1 up
python3 - "$ROUTES" >"$OUT/load.batch" <<'EOF'
import sys
for i in range(int(sys.argv[1])):
    print("route add 10.%d.%d.%d/32 via 192.168.0.2 proto 201" % (i >> 16 & 255, i >> 8 & 255,
                                                                 i & 255))
EOF
lab_ip big -force -batch "$OUT/load.batch"
lab_exec big "$NEW" -j >"$OUT/snap.json"
python3 - "$ROUTES" >"$OUT/change.batch" <<'EOF'
import sys
n = int(sys.argv[1])
a = lambda i: "10.%d.%d.%d/32" % (i >> 16 & 255, i >> 8 & 255, i & 255)
for i in range(1000):
    print("route del %s proto 201" % a(i))
    print("route replace %s via 192.168.0.3 proto 201" % a(n // 2 + i))
    print("route add 10.250.%d.%d/32 via 192.168.0.2 proto 201" % (i >> 8, i & 255))
EOF
lab_ip big -force -batch "$OUT/change.batch"
run diff "$(wc -c <"$OUT/snap.json")" lab big -j --diff "$OUT/snap.json"
jq -c '{added, removed, changed, unchanged}' "$OUT/diff.after.json" >&2

python3 - "$OUT/times" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, which, size, wall, user, sys_, rss = line.split()
    rows.setdefault((name, which), []).append((float(wall), float(user) + float(sys_),
                                               int(rss), int(size)))
print("| case | documents (MiB) | binary | wall (s, median) | CPU (s, median) "
      "| peak RSS (MiB) | RSS / documents |")
print("|---|---|---|---|---|---|---|")
for name in ("diff", "nodes-2", "nodes-many"):
    for which in ("before", "after"):
        v = rows[(name, which)]
        size = v[0][3] / 1048576
        rss = max(r for _, _, r, _ in v) / 1024
        print("| %s | %.1f | %s | %.2f | %.2f | %.1f | %.2f |" % (
            name, size, which, statistics.median(w for w, _, _, _ in v),
            statistics.median(c for _, c, _, _ in v), rss, rss / size))
EOF
