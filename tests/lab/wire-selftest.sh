#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wire-selftest.sh: hand-run accuracy check of the lab's delay wire, mp-wire
# (not part of the CI suite: its timing figures are for a human to read).
#
#   h1                       w (wire namespace)                    h2
#   eth0 ===== veth ===== a  [ mp-wire | bridge ]  b ===== veth ===== eth0
#   10.99.0.1/24                                                 10.99.0.2/24
#   fd99::1/64                                                   fd99::2/64
#   MTU 1500 everywhere; w has no addresses and IPv6 off (its stack stays silent).
#
# All namespaces share CLOCK_REALTIME, so irtt's one-way delays are exact.
#
# usage: wire-selftest.sh [-v] [-p] [TEST...]   (default: every test)
#   -v  echo every command    -p  pause on failure to inspect
#   env: BUILD (default build), WIRE (the binary), WIRE_OPTS (added to every
#        mp-wire, e.g. "--rt-prio 50"), KEEPTMP=1 keeps the temp dir
# tests: bridge zero delay20 asym jitter_fifo jitter_reorder tcp queue
#
# Exit: 0 all passed, 1 a check failed, 4 skipped (not root, tool missing).
set -eE
export LANG=C
exec 3>&1

TESTS="bridge zero delay20 asym jitter_fifo jitter_reorder tcp queue"
BUILD=${BUILD:-build}
WIRE=${WIRE:-$BUILD/lab/mp-wire}
WIRE_OPTS=${WIRE_OPTS:-}
H1=wt-h1-$$
W=wt-w-$$
H2=wt-h2-$$
TMP=
WPID=
VERBOSE=0
PAUSE=0
FAILED=0

cleanup()
{
	local ns pid

	trap - ERR
	for ns in $H1 $W $H2; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -TERM "$pid" 2>/dev/null || true
		done
	done
	[[ -z $WPID ]] || wait "$WPID" 2>/dev/null || true
	for ns in $H1 $W $H2; do
		ip netns del "$ns" 2>/dev/null || true
	done
	[[ -z $TMP || -n $KEEPTMP ]] || rm -rf "$TMP"
}

log() { if (( VERBOSE )); then echo "[+] $*" >&3; fi; }
n1() { log "h1: $*"; ip netns exec "$H1" "$@"; }
n2() { log "h2: $*"; ip netns exec "$H2" "$@"; }
nw() { log "w: $*"; ip netns exec "$W" "$@"; }

# busywait MS CMD...: poll CMD every 10 ms until it succeeds or MS pass.
busywait()
{
	local deadline=$(( $(date +%s%N) / 1000000 + $1 ))

	shift
	until "$@"; do
		(( $(date +%s%N) / 1000000 < deadline )) || return 1
		sleep 0.01
	done
}

# check NAME VALUE LO HI: record a figure and whether LO <= VALUE <= HI.
check()
{
	if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v >= lo && v <= hi) }'; then
		printf '  ok    %-34s %12s   (want %s .. %s)\n' "$1" "$2" "$3" "$4"
	else
		printf '  FAIL  %-34s %12s   (want %s .. %s)\n' "$1" "$2" "$3" "$4"
		FAILED=1
		if (( PAUSE )); then
			read -r -p 'paused: press Enter to go on ' _ </dev/tty || true
		fi
	fi
}

topology()
{
	ip netns add "$H1"
	ip netns add "$W"
	ip netns add "$H2"
	nw sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip link add eth0 netns "$H1" type veth peer name a netns "$W"
	ip link add eth0 netns "$H2" type veth peer name b netns "$W"
	n1 ip addr add 10.99.0.1/24 dev eth0
	n1 ip addr add fd99::1/64 dev eth0 nodad
	n2 ip addr add 10.99.0.2/24 dev eth0
	n2 ip addr add fd99::2/64 dev eth0 nodad
	nw ip link add br0 type bridge
	for l in lo a b br0; do nw ip link set dev "$l" up; done
	n1 ip link set lo up
	n1 ip link set eth0 up
	n2 ip link set lo up
	n2 ip link set eth0 up
}

bridge() { nw ip link set dev a master br0; nw ip link set dev b master br0; }
unbridge() { nw ip link set dev a nomaster; nw ip link set dev b nomaster; }

# wire_start ARGS...: run mp-wire with ARGS between a and b, wait until it runs.
wire_start()
{
	rm -f "$TMP/ready" "$TMP/stats"
	log "w: $WIRE --ready-file ready --stats-file stats $WIRE_OPTS $* a b"
	# shellcheck disable=SC2086 # WIRE_OPTS is a list of options
	ip netns exec "$W" "$WIRE" --ready-file "$TMP/ready" --stats-file "$TMP/stats" \
		$WIRE_OPTS "$@" a b &
	WPID=$!
	busywait 5000 test -e "$TMP/ready"
}

wire_stop()
{
	local n

	kill -TERM "$WPID"
	wait "$WPID"
	WPID=
	sed 's/^/    wire: /' "$TMP/stats" | grep -v ' 0$' || true
	n=$(( $(stat ab_stamp_fallback) + $(stat ba_stamp_fallback) ))
	check "wire frames timed without a kernel stamp" "$n" 0 0
}

stat() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/stats"; }

# ping_check NAME LO HI FILE: check ping's summary in FILE: min (never early) and mean.
ping_check()
{
	local min mean max

	read -r min mean max < <(awk -F'[/ =]+' '/^rtt/ { print $6, $7, $8 }' "$4")
	echo "    $(awk '/^PING/ { print $2 }' "$4"): rtt min/mean/max $min/$mean/$max ms"
	check "$1 rtt min ms" "$min" "$2" 1000
	check "$1 rtt mean ms" "$mean" "$2" "$3"
}

# ping_rtt NAME LO HI [-6]: 200 pings h1 -> h2, 10 ms apart.
ping_rtt()
{
	local dst=10.99.0.2

	[[ $4 == -6 ]] && dst=fd99::2
	# Resolve the neighbour first: its ARP/ND would cross the wire twice more.
	n1 timeout 5 ping -q -n -c 1 -W 3 "$dst" >/dev/null
	n1 timeout 20 ping -q -n -c 200 -i 0.01 "$dst" >"$TMP/ping.txt"
	ping_check "$1 ping$4" "$2" "$3" "$TMP/ping.txt"
}

# irtt_run INTERVAL DURATION: UDP probes h1 -> h2 -> h1, JSON in $TMP/irtt.json.
irtt_run()
{
	log "h2: irtt server -b 10.99.0.2 -i 0 &"
	ip netns exec "$H2" irtt server -b 10.99.0.2 -i 0 >/dev/null &
	busywait 5000 sh -c "ip netns exec $H2 ss -Hnlu | grep -q '10.99.0.2:2112'"
	n1 timeout 60 irtt client -Q -i "$1" -d "$2" -o "$TMP/irtt.json" 10.99.0.2
	kill -TERM $!
	wait $! || true
}

ij() { jq -r "$1" "$TMP/irtt.json"; }
# ijms STAT: an irtt duration statistic (ns) in ms, e.g. ijms send_delay.mean
ijms() { jq -r ".stats.$1 / 1e6 * 1000 | round / 1000" "$TMP/irtt.json"; }

irtt_summary()
{
	local d

	for d in send receive; do
		echo "    irtt: $d delay min/mean/max" \
		     "$(ijms ${d}_delay.min)/$(ijms ${d}_delay.mean)/$(ijms ${d}_delay.max) ms"
	done
	echo "    irtt: late (reordered) $(ij .stats.late_packets) of $(ij .stats.packets_received)"
}

# Baselines without the wire: what ping and irtt add by themselves.
test_bridge()
{
	bridge
	ping_rtt bridge 0 0.5
	ping_rtt bridge 0 0.5 -6
	irtt_run 10ms 3s
	irtt_summary
	check "bridge irtt send mean ms" "$(ijms send_delay.mean)" 0 0.3
	check "bridge irtt receive mean ms" "$(ijms receive_delay.mean)" 0 0.3
	unbridge
}

test_zero()
{
	wire_start
	ping_rtt zero 0 0.6
	ping_rtt zero 0 0.6 -6
	kill -USR1 "$WPID"
	busywait 2000 test -e "$TMP/stats"
	check "zero stats on SIGUSR1: ab_frames" "$(stat ab_frames)" 400 420
	irtt_run 10ms 3s
	wire_stop
	irtt_summary
	check "zero irtt send mean ms" "$(ijms send_delay.mean)" 0 0.5
	check "zero irtt receive mean ms" "$(ijms receive_delay.mean)" 0 0.5
}

test_delay20()
{
	wire_start --delay-ab 20ms --delay-ba 20ms
	ping_rtt delay20 40 40.6
	ping_rtt delay20 40 40.6 -6
	wire_stop
	check "delay20 wire late max ab ns" "$(stat ab_late_max_ns)" 0 20000000
}

test_asym()
{
	wire_start --delay-ab 30ms --delay-ba 10ms
	irtt_run 10ms 3s
	wire_stop
	irtt_summary
	check "asym irtt send (ab) min ms" "$(ijms send_delay.min)" 30 31
	check "asym irtt send (ab) mean ms" "$(ijms send_delay.mean)" 30 30.3
	check "asym irtt receive (ba) min ms" "$(ijms receive_delay.min)" 10 11
	check "asym irtt receive (ba) mean ms" "$(ijms receive_delay.mean)" 10 10.3
	check "asym irtt lost" "$(ij '.stats.packets_sent - .stats.packets_received')" 0 0
}

# Probes 1 ms apart with up to 5 ms jitter: without --reorder none may overtake.
test_jitter_fifo()
{
	wire_start --delay-ab 10ms --delay-ba 10ms --jitter-ab 5ms --jitter-ba 5ms --seed 7
	irtt_run 1ms 3s
	wire_stop
	irtt_summary
	check "jitter_fifo irtt late packets" "$(ij .stats.late_packets)" 0 0
	check "jitter_fifo irtt send min ms" "$(ijms send_delay.min)" 10 16
	check "jitter_fifo irtt receive min ms" "$(ijms receive_delay.min)" 10 16
}

test_jitter_reorder()
{
	wire_start --delay-ab 10ms --delay-ba 10ms --jitter-ab 5ms --jitter-ba 5ms --seed 7 \
		--reorder
	irtt_run 1ms 3s
	wire_stop
	irtt_summary
	check "jitter_reorder irtt late packets" "$(ij .stats.late_packets)" 1 100000
	check "jitter_reorder irtt send min ms" "$(ijms send_delay.min)" 10 16
	# 10 ms + mean of U[0, 5 ms] = 12.5 ms
	check "jitter_reorder irtt send mean ms" "$(ijms send_delay.mean)" 12.3 12.9
	check "jitter_reorder irtt receive mean ms" "$(ijms receive_delay.mean)" 12.3 12.9
}

# TCP through the wire (GSO frames via PACKET_VNET_HDR), pings alongside.
test_tcp()
{
	local pid

	wire_start --delay-ab 1ms --delay-ba 1ms
	log "h2: iperf3 -s -1 -B 10.99.0.2 &"
	ip netns exec "$H2" iperf3 -s -1 -B 10.99.0.2 >/dev/null &
	busywait 5000 sh -c "ip netns exec $H2 ss -Hnlt | grep -q ':5201'"
	n1 timeout 20 ping -q -n -c 250 -i 0.01 10.99.0.2 >"$TMP/ping-load.txt" &
	pid=$!
	n1 timeout 30 iperf3 -c 10.99.0.2 -t 3 -J >"$TMP/iperf.json"
	wait $pid
	ping_check "tcp ping under load" 2 1000 "$TMP/ping-load.txt"
	wire_stop
	check "tcp iperf3 Mbit/s (1ms/1ms)" \
		"$(jq -r '.end.sum_received.bits_per_second / 1e6 | round' "$TMP/iperf.json")" \
		300 1000000
	check "tcp iperf3 retransmits" "$(jq -r .end.sum_sent.retransmits "$TMP/iperf.json")" \
		0 1000000
}

# A queue of 4 frames and a burst of 100 pings (preload): 96 or so are dropped.
test_queue()
{
	wire_start --delay-ab 20ms --queue 4
	n1 ping -q -n -c 1 10.99.0.2 >/dev/null	# ARP now, not in the burst
	n1 timeout 20 ping -q -n -c 100 -l 100 -w 2 10.99.0.2 >"$TMP/ping.txt" || true
	wire_stop
	check "queue ab_dropped_queue_full" "$(stat ab_dropped_queue_full)" 90 97
	check "queue pings answered" "$(awk '/transmitted/ { print $4 }' "$TMP/ping.txt")" 3 8
}

while getopts vp o; do
	case $o in
	v) VERBOSE=1 ;;
	p) PAUSE=1 ;;
	*) echo "usage: $0 [-v] [-p] [TEST...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
(( $# )) && TESTS="$*"

if (( EUID != 0 )); then echo "SKIP: needs root" >&2; exit 4; fi
for t in ip jq ping irtt iperf3 ss; do
	command -v $t >/dev/null || { echo "SKIP: $t missing" >&2; exit 4; }
done
[[ -x $WIRE ]] || { echo "SKIP: $WIRE not built (make lab)" >&2; exit 4; }
WIRE=$(realpath "$WIRE")

trap cleanup EXIT
trap 'exit 1' INT TERM
trap 'echo "error: line $LINENO: $BASH_COMMAND" >&2' ERR
cleanup
TMP=$(mktemp -d)
topology
for t in $TESTS; do
	echo "== $t"
	"test_$t"
done
if (( FAILED )); then
	echo "some checks FAILED"
	exit 1
fi
echo "all passed"
