#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bwtest vs iperf3 -u, single stream, in the same run: the highest packet
# rate whose loss stays under 0.1 %, for 64- and 1472-byte payloads, and the
# CPU time per packet of each (sender + receiver, user + system), measured
# at that rate.
#
#   bench/bwtest.sh [SECONDS_PER_TRIAL]        (root; BUILD=build by default)
#
#   [a] 10.99.0.1 ==== veth ==== 10.99.0.2 [b]   two namespaces, MTU 1500
#   clients in a, servers (bwtest -s, iperf3 -s) in b
#
# Search, both tools alike: double the offered rate from 10,000 pps until a
# trial fails, then bisect to within 2 % (bwtest --find-max does this itself;
# the same search drives iperf3 here). A trial passes when the receiver
# reports at most 0.1 % loss AND the sender sent at least 98 % of the
# packets offered (a sender that cannot keep up loses nothing, but did not
# run at that rate). A failed trial is repeated once, for both tools (a busy
# host has hiccups). The bwtest server's rate cap is raised to 100 Gbit/s. Prints one line per payload size and a ratio.
# Then, unpaced: `iperf3 -u -b 0 -l 64` against `bwtest -b 0 -l 64` (the
# server's rate cap, 10 Gbit/s, i.e. as fast as it goes), 2 s each: packets
# per second sent and received, whatever the loss.

set -e
export LANG=C LC_ALL=C
TRIAL=${1:-1}
TOP=$(cd "$(dirname "$0")/.." && pwd)
case ${BUILD:-build} in
/*) BW=$BUILD/bin/bwtest ;;
*) BW=$TOP/${BUILD:-build}/bin/bwtest ;;
esac
((EUID == 0)) || { echo "bench/bwtest.sh: needs root" >&2; exit 4; }
for c in ip jq iperf3; do
	command -v $c >/dev/null || { echo "bench/bwtest.sh: missing $c" >&2; exit 4; }
done
[[ -x $BW ]] || { echo "bench/bwtest.sh: no $BW (make)" >&2; exit 4; }

A=bwb$$a B=bwb$$b TMP=$(mktemp -d)
SRVPID=
cleanup()
{
	[[ -z $SRVPID ]] || kill "$SRVPID" 2>/dev/null || true
	local ns pid
	for ns in $A $B; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$A" && ip netns add "$B"
ip link add bwa type veth peer name bwb
ip link set bwa netns "$A" && ip link set bwb netns "$B"
ip -n "$A" addr add 10.99.0.1/24 dev bwa && ip -n "$A" link set bwa up && ip -n "$A" link set lo up
ip -n "$B" addr add 10.99.0.2/24 dev bwb && ip -n "$B" link set bwb up && ip -n "$B" link set lo up
ip netns exec "$A" ping -c 1 -W 2 10.99.0.2 >/dev/null

(umask 077 && head -c 32 /dev/urandom | base64 >"$TMP/key")
ip netns exec "$B" "$BW" -s -k "$TMP/key" --max-rate 100G -q >/dev/null 2>&1 &
SRVPID=$!
for _ in $(seq 100); do
	ip netns exec "$B" ss -Hltn 'sport = :5121' | grep -q . && break
	read -r -t 0.05 <> <(:) || true
done

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }	# utime + stime, clock ticks
HZ=$(getconf CLK_TCK)

# iperf3_trial SIZE PPS SECONDS: prints "loss_pct received_packets cpu_s
# kept_schedule" (1 if iperf3 sent at least 98 % of the packets offered).
iperf3_trial()
{
	local size=$1 pps=$2 t=$3 TIMEFORMAT='%U %S' c s
	{ time ip netns exec "$B" iperf3 -s -1 -B 10.99.0.2 >/dev/null 2>&1; } 2>"$TMP/srv.t" &
	local w=$!
	for _ in $(seq 100); do
		ip netns exec "$B" ss -Hltn 'sport = :5201' | grep -q . && break
		read -r -t 0.02 <> <(:) || true
	done
	{ time ip netns exec "$A" iperf3 -u -c 10.99.0.2 -b $((pps * size * 8)) -l "$size" \
		-t "$t" -J >"$TMP/ip.json" 2>/dev/null; } 2>"$TMP/cli.t" || true
	wait $w || true
	read -r c s <"$TMP/cli.t"
	local cpu
	cpu=$(awk -v a="$c" -v b="$s" '{ print a + b + $1 + $2 }' "$TMP/srv.t")
	jq -r --arg cpu "$cpu" --argjson want $((pps * t * 98 / 100)) '.end |
		"\(.sum_received.lost_percent) \(.sum_received.packets - .sum_received.lost_packets)" +
		" \($cpu) \(if .sum_sent.packets >= $want then 1 else 0 end)"' "$TMP/ip.json"
}

# iperf3_pass SIZE PPS: a trial passes, or its repeat does (as bwtest
# --find-max: one hiccup of a busy host must not end the search).
iperf3_pass()
{
	local loss kept _
	for _ in 1 2; do
		read -r loss _ _ kept < <(iperf3_trial "$1" "$2" "$TRIAL")
		((kept)) && awk -v l="$loss" 'BEGIN { exit !(l <= 0.1) }' && return 0
	done
	return 1
}

iperf3_max()
{
	local size=$1 lo=0 hi=0 pps=10000
	while ((hi == 0)); do
		if iperf3_pass "$size" "$pps"; then lo=$pps pps=$((pps * 2)); else hi=$pps; fi
		((pps <= 64000000)) || break
	done
	while ((hi && hi - lo > lo / 50 && hi - lo > 1)); do
		pps=$(((lo + hi) / 2))
		if iperf3_pass "$size" "$pps"; then lo=$pps; else hi=$pps; fi
	done
	echo "$lo"
}

# bwtest_cpu SIZE PPS SECONDS: CPU seconds (client + server) and packets received.
bwtest_cpu()
{
	local size=$1 pps=$2 t=$3 TIMEFORMAT='%U %S' s0 s1 c s
	s0=$(ticks "$SRVPID")
	{ time ip netns exec "$A" "$BW" -k "$TMP/key" -j --interval-report 0 --pps "$pps" -l "$size" \
		-t "$t" 10.99.0.2 >"$TMP/bw.json"; } 2>"$TMP/cli.t" || true
	s1=$(ticks "$SRVPID")
	read -r c s <"$TMP/cli.t"
	echo "$(awk -v a="$c" -v b="$s" -v d=$((s1 - s0)) -v hz="$HZ" 'BEGIN { print a + b + d / hz }')" \
		"$(jq .forward.received "$TMP/bw.json")"
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)"
echo "trial ${TRIAL}s; loss threshold 0.1 %; single stream over a veth pair"
printf '%-6s %14s %14s %8s %16s %16s\n' payload bwtest_pps iperf3_pps ratio bwtest_ns/pkt iperf3_ns/pkt
for size in 64 1472; do
	bw=$(ip netns exec "$A" "$BW" -k "$TMP/key" -j --find-max 0.1 --pps 10000 -t "${TRIAL}s" \
		-l "$size" 10.99.0.2 | jq .find_max.max_pps)
	ip=$(iperf3_max "$size")
	[[ $size != 64 ]] || ip64=$ip
	read -r bcpu bn < <(bwtest_cpu "$size" "$bw" 2)
	read -r _ in icpu _ < <(iperf3_trial "$size" "$ip" 2)
	printf '%-6s %14d %14d %8.2f %16.0f %16.0f\n' "$size" "$bw" "$ip" \
		"$(awk -v a="$bw" -v b="$ip" 'BEGIN { print b ? a / b : 0 }')" \
		"$(awk -v c="$bcpu" -v n="$bn" 'BEGIN { print n ? c * 1e9 / n : 0 }')" \
		"$(awk -v c="$icpu" -v n="$in" 'BEGIN { print n ? c * 1e9 / n : 0 }')"
done

# without GSO (sendmmsg batches only), 64 bytes: what batching alone gives
ng=$(ip netns exec "$A" "$BW" -k "$TMP/key" -j --no-gso --find-max 0.1 --pps 10000 -t "${TRIAL}s" -l 64 \
	10.99.0.2 | jq .find_max.max_pps)
echo "bwtest --no-gso, 64 bytes: $ng pps under 0.1 % loss;" \
	"ratio to iperf3 $(awk -v a="$ng" -v b="$ip64" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"

# unpaced, 64 bytes: iperf3 -u -b 0 -l 64 vs bwtest -b 0 -l 64
ip netns exec "$B" iperf3 -s -1 -B 10.99.0.2 >/dev/null 2>&1 &
w=$!
for _ in $(seq 100); do
	ip netns exec "$B" ss -Hltn 'sport = :5201' | grep -q . && break
	read -r -t 0.02 <> <(:) || true
done
ip netns exec "$A" iperf3 -u -c 10.99.0.2 -b 0 -l 64 -t 2 -J >"$TMP/ip0.json" 2>/dev/null || true
wait $w || true
read -r isent irecv < <(jq -r '.end | "\(.sum_sent.packets / .sum_sent.seconds | floor) \((.sum_received.packets - .sum_received.lost_packets) / .sum_received.seconds | floor)"' "$TMP/ip0.json")
ip netns exec "$A" "$BW" -k "$TMP/key" -j --interval-report 0 -b 0 -l 64 -t 2 10.99.0.2 >"$TMP/bw0.json" || true
read -r bsent brecv bloss < <(jq -r '.forward | "\(.sent_pps | floor) \(.pps | floor) \(.loss_pct)"' "$TMP/bw0.json")
echo "unpaced, 64 bytes, 2 s: iperf3 -u -b 0 sent $isent pps, received $irecv pps;" \
	"bwtest -b 0 sent $bsent pps, received $brecv pps (loss $bloss %);" \
	"received ratio $(awk -v a="$brecv" -v b="$irecv" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
