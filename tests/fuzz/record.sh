#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Records the seed corpora of fuzz_nl and fuzz_sock_cmsg in the lab: what the
# kernel really sends lib/nl.c (route, link and address dumps; events) and
# lib/sock.c (control messages of received datagrams; error-queue entries of
# TX stamps, ICMP and ICMPv6 errors, local EMSGSIZE), saved by
# build/lab/mp-fuzzrec as read. Needs root; run after `make`.
#
#   sudo tests/fuzz/record.sh            writes tests/fuzz/corpus/fuzz_nl/rec-*
#                                        and tests/fuzz/corpus/fuzz_sock_cmsg/rec-*
#
# On the line topology (docs/LAB.md) with r1-r2 at MTU 1400, r1 gets routes of
# every kind the decoders know: v4/v6 multipath with weights, blackhole,
# unreachable, prohibit, RTA_VIA (v4 over a v6 nexthop), table > 255,
# metrics (mtu lock, advmss, rtt, window, initcwnd), realm, tos, prefsrc,
# nexthop objects and a group, onlink, v6 preference, plus 400 routes so a
# dump spans several recv() batches; a veth pair in a bridge (IFLA_MASTER),
# a point-to-point address, a deprecated v6 address.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
REC=$PWD/$BUILD/lab/mp-fuzzrec
NL=$PWD/tests/fuzz/corpus/fuzz_nl
SK=$PWD/tests/fuzz/corpus/fuzz_sock_cmsg

if ((EUID != 0)); then
	echo "SKIP: tests/fuzz/record.sh needs root (network namespaces)"
	exit 4
fi
[[ -x $REC ]] || { echo "record.sh: $REC missing: run make first" >&2; exit 2; }
# shellcheck source=../lab/lab.sh
. tests/lab/lab.sh
lab_new && lab_line 1500 1400 1500 || exit 2
mkdir -p "$NL" "$SK"
rm -f "$NL"/rec-* "$SK"/rec-*
tmp=$LAB_DIR/rec
mkdir -p "$tmp/nl" "$tmp/sk"

stopped() { ! lab_running "$1" "$2"; }

r1_routes()
{
	cat <<'EOF'
link add vx0 type veth peer name vx1
link add br9 type bridge
link set vx1 master br9
link set vx0 up
link set vx1 up
link set br9 up mtu 1400
addr add 10.250.0.1 peer 10.250.0.2/32 dev vx0
addr add 10.200.1.9/24 dev to-c
addr add fdac:c8:9::1/64 dev to-c nodad preferred_lft 0
route add 192.0.2.0/24 nexthop via 10.200.1.1 weight 1 nexthop via 10.200.2.2 weight 3
route add blackhole 198.51.100.0/25
route add unreachable 198.51.100.128/25
route add prohibit 203.0.113.0/26
route add 203.0.113.64/26 via 10.200.2.2 proto 201 metric 50 mtu lock 1300 src 10.200.1.2 table 100
route add 203.0.113.128/25 via inet6 fdac:c8:2::2 dev to-r2
route add 10.99.0.0/16 via 10.200.2.2 table 1000
route add 10.96.0.0/16 via 10.251.0.1 dev to-r2 onlink
route add 10.95.0.0/16 tos 0x10 via 10.200.2.2 metric 7 mtu 1400 advmss 1360 rtt 10ms \
	window 65535 initcwnd 10 realm 5 proto static
nexthop add id 10 via 10.200.2.2 dev to-r2
nexthop add id 11 via 10.200.1.1 dev to-c
nexthop add id 12 group 10/11,3
route add 10.98.0.0/16 nhid 10
route add 10.97.0.0/16 nhid 12
route add 2001:db8:1::/48 nexthop via fdac:c8:1::1 weight 2 nexthop via fdac:c8:2::2
route add blackhole 2001:db8:2::/48
route add 2001:db8:3::/48 via fdac:c8:2::2 metric 1024 pref high mtu 1280
route add unreachable 2001:db8:5::/48
route add prohibit 2001:db8:6::/48
route add 2001:db8:7::/48 via fdac:c8:2::2 table 1000 proto 201
EOF
	for ((i = 0; i < 400; i++)); do
		echo "route add 10.$((100 + i / 200)).$((i % 200)).0/24 via 10.200.2.2 proto 12"
	done
}

# dumps
r1_routes | lab_ip r1 -force -b - || echo "record.sh: some routes refused (above)" >&2
lab_ip r1 -6 route add from 2001:db8:100::/56 2001:db8:4::/48 via fdac:c8:2::2 2>/dev/null
lab_exec r1 "$REC" nl-dump "$tmp/nl" || exit 2

# events: the monitor says "ready" before the changes are made
lab_spawn r1 mon "$REC" nl-monitor "$tmp/nl" 1500
lab_wait 5 grep -q ready "$LAB_DIR/r1/mon.log" || exit 2
lab_ip r1 -force -b - <<'EOF'
route replace 192.0.2.0/24 nexthop via 10.200.1.1 weight 5 nexthop via 10.200.2.2
route del blackhole 198.51.100.0/25
route add 172.31.0.0/16 via 10.200.2.2 metric 9 proto 201
route change 172.31.0.0/16 via 10.200.1.1 metric 9 proto 201
route del 172.31.0.0/16 metric 9
route add 2001:db8:8::/48 nexthop via fdac:c8:1::1 nexthop via fdac:c8:2::2
route del 2001:db8:8::/48
link set vx0 mtu 1300
link set vx0 down
link set vx0 up
addr add 10.252.0.1/24 dev vx0
addr del 10.252.0.1/24 dev vx0
addr add fdac:c8:a::1/64 dev vx0 nodad
addr del fdac:c8:a::1/64 dev vx0
link del br9
EOF
lab_wait 5 stopped r1 mon

# received datagrams: TOS, TTL, PKTINFO, stamps (v4 and v6)
for fam in 4 6; do
	dst=10.200.1.1
	((fam == 6)) && dst=fdac:c8:1::1
	lab_spawn c rx$fam "$REC" sock-rx "$tmp/sk" $fam 9000 3
	lab_wait 5 grep -q ready "$LAB_DIR/c/rx$fam.log" || exit 2
	lab_exec s "$REC" sock-send $dst 9000 184 64
	lab_exec s "$REC" sock-send $dst 9000 1 7
	lab_exec s "$REC" sock-send $dst 9000 0 255
	lab_wait 5 stopped c rx$fam || exit 2
done

# error queue: TX stamps and errors, each case in a process of its own
while read -r name addr port ttl bytes; do
	lab_ip c route flush cache
	lab_ip c -6 route flush cache
	lab_exec c "$REC" sock-err "$tmp/sk" "$name" "$addr" "$port" "$ttl" "$bytes"
done <<'EOF'
err4-port 10.200.3.2 9 64 100
err4-ttl 10.200.3.2 9 1 100
err4-fragneeded 10.200.3.2 9 64 1472
err4-local 10.200.3.2 9 64 2000
err4-unreach 198.51.100.200 9 64 64
err4-prohibit 203.0.113.1 9 64 64
err6-port fdac:c8:3::2 9 64 100
err6-hops fdac:c8:3::2 9 1 100
err6-ptb fdac:c8:3::2 9 64 1452
err6-local fdac:c8:3::2 9 64 2000
err6-unreach 2001:db8:5::1 9 64 64
err6-prohibit 2001:db8:6::1 9 64 64
EOF

for f in "$tmp"/nl/*; do cp "$f" "$NL/rec-${f##*/}"; done
for f in "$tmp"/sk/*; do cp "$f" "$SK/rec-${f##*/}"; done
# one batch of every error-queue entry: the batch reader's gap closing
cat "$tmp"/sk/err* >"$SK/rec-errq-batch"
echo "recorded: $(ls "$NL"/rec-* | wc -l) netlink batches, $(ls "$SK"/rec-* | wc -l) sock records"
