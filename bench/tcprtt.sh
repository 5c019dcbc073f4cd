#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tcprtt against tshark's tcp.analysis.ack_rtt on the same pcap file (pping
# is not packaged for Debian). The file: dumpcap on c (to-r1, 128-octet
# snap) during an iperf3 TCP transfer c -> s over the lab's line with
# mp-wire delaying c-r1 by 5 ms each way (10 ms RTT), TSO/GSO off on c so
# that every segment is a packet. Prints, per tool, the wall time to read
# the file (best of 3, one job at a time), packets per second, and the
# RTT each reports for the transfer (tcprtt: the median of the half to s;
# tshark: the median of ack_rtt on s's ACKs), then the time ratio.
#
#   BUILD=build bench/tcprtt.sh [SECONDS]   (root; a Markdown table to stdout)

set -e
export LANG=C LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/lab/lab.sh
. "$TOP/tests/lab/lab.sh"
case ${BUILD:-build} in
/*) TR=$BUILD/bin/tcprtt ;;
*) TR=$TOP/${BUILD:-build}/bin/tcprtt ;;
esac
SECS=${1:-8}
S4=10.200.3.2
OUT=$(mktemp -d)
LAB_EXIT_HOOK=$BASHPID:"rm -rf $OUT"

for c in tshark dumpcap iperf3 jq python3 ethtool; do
	command -v "$c" >/dev/null || { echo "bench/tcprtt.sh: missing $c" >&2; exit 4; }
done
if [[ ! -x $TR || ! -x $LAB_WIRE ]]; then
	echo "bench/tcprtt.sh: build tcprtt and the lab first" >&2
	exit 4
fi

lab_new
lab_line >/dev/null
lab_delay c-r1 5ms 5ms
lab_exec c ethtool -K to-r1 tso off gso off gro off >/dev/null
lab_spawn s iperf iperf3 -s -1 -B "$S4"
lab_wait 5 lab_listening s tcp 5201
lab_spawn c dumpcap dumpcap -q -i to-r1 -s 128 -B 64 -w "$OUT/bench.pcap" -P -f "tcp port 5201"
lab_wait 5 test -s "$OUT/bench.pcap"
lab_exec c iperf3 -c "$S4" -t "$SECS" >/dev/null
lab_stop c dumpcap
lab_down

PKTS=$(capinfos -c -M "$OUT/bench.pcap" | awk '/Number of packets/ { print $NF }')

# best TOOL CMD...: the least wall time of 3 runs, in s, into $OUT/TOOL.s
best()
{
	local who=$1 i t0 t1 b=
	shift
	for i in 1 2 3; do
		t0=${EPOCHREALTIME/./}
		"$@" >"$OUT/$who.out"
		t1=${EPOCHREALTIME/./}
		if [[ -z $b ]] || ((t1 - t0 < b)); then b=$((t1 - t0)); fi
	done
	awk -v u="$b" 'BEGIN { printf "%.3f", u / 1e6 }' >"$OUT/$who.s"
}

best tcprtt "$TR" -r "$OUT/bench.pcap" -j
best tshark tshark -n -r "$OUT/bench.pcap" -Y "tcp.analysis.ack_rtt && ip.src == $S4" \
	-T fields -e tcp.analysis.ack_rtt
TR_MS=$(jq '[.flows[] | select(.dst_port == 5201)] | max_by(.src_to_dst.bytes)
	| .src_to_dst.rtt_ms.median' "$OUT/tcprtt.out")
TR_N=$(jq '[.flows[] | select(.dst_port == 5201)] | max_by(.src_to_dst.bytes)
	| .src_to_dst.rtt_ms.count' "$OUT/tcprtt.out")
read -r TS_MS TS_N < <(sort -g "$OUT/tshark.out" | awk '{ v[NR] = $1 * 1000 }
	END { printf "%.3f %d\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, NR }')

echo "file: $PKTS packets ($SECS s of iperf3 at 10 ms RTT, captured on c)"
echo
echo "| tool | wall time (s) | packets/s | RTT median (ms) | samples |"
echo "|---|---|---|---|---|"
for t in tcprtt tshark; do
	secs=$(<"$OUT/$t.s")
	if [[ $t == tcprtt ]]; then m=$TR_MS n=$TR_N; else m=$TS_MS n=$TS_N; fi
	printf '| %s | %s | %s | %.3f | %s |\n' "$t" "$secs" \
		"$(awk -v p="$PKTS" -v s="$secs" 'BEGIN { printf "%.0f", p / s }')" "$m" "$n"
done
echo
awk -v a="$(<"$OUT/tshark.s")" -v b="$(<"$OUT/tcprtt.s")" \
	'BEGIN { printf "tcprtt reads the file %.1f times as fast as tshark\n", a / b }'
