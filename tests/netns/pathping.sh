#!/bin/bash
# SPDX-License-Identifier: MIT
#
# pathping in the lab: hop RTTs against injected delays and against mtr on
# the same path in the same run (IPv4, IPv6; ICMP, UDP, TCP probes); the loss
# split (random link loss, a router silent on ICMP, a router rate-limiting
# ICMP); Paris-style constant flows on a capture; streaming, formats and
# unprivileged sockets.
#
#   tests/netns/pathping.sh [-v] [-p] [-t] [test...]      (-h lists the tests)
#
# Topology "line" (tests/lab/lab.sh; every [A-B] is a wire namespace: a
# bridge, or mp-wire when delayed). pathping and mtr run on c, towards s.
#
#   c ====[c-r1]==== r1 ====[r1-r2]==== r2 ====[r2-s]==== s
#     .1  10.200.1.0/24  .2  10.200.2.0/24  .1  10.200.3.0/24  .2
#     ::1 fdac:c8:1::/64 ::2 fdac:c8:2::/64 ::1 fdac:c8:3::/64 ::2
#     MTU 1500 on every link; delay test: 5, 10, 20 ms one way per link
#
# Tolerances, stated once and never widened:
#  - delay: hop RTTs 10/30/70 ms: min never below; median at most 0.5 ms
#    above the truth, the set RTT plus the lateness the wires crossed
#    measured over the run (mp-wire's own count: the mean of (sent - due)
#    over its frames, per direction; mean 0.1 ms idle, ms on a loaded
#    machine, where mtr sees the same); each hop's mean no further from the set RTT
#    than mtr's mean for the same hop + 0.5 ms, both run at once over the
#    same path: |pp - t| <= |mtr - t| + 0.5. The issue asks |pp - mtr| <=
#    0.5, which implies this, but also fails pathping when mtr is the one
#    off (CI: hop 1, set 10, pathping 10.54, mtr 11.16); the truth decides;
#  - random loss p per direction on r1-r2: hops 2 and 3 lose 1 - (1 - p)^2
#    within 4 binomial sigma (sqrt(q(1-q)/n)); hop 1 loses nothing; the
#    link losses add up to the target's loss exactly; node loss at hop 2 and
#    link loss at hop 3 at most 4 sigma of a difference (sqrt(2) sigma);
#  - silent router r1: hop 1 loss = node loss = 100 %, every link loss 0;
#  - rate-limiting router r1: hop 1 flagged ratelimited, node loss > 0,
#    every link loss 0, hops 2 and 3 lose nothing; no hop flagged otherwise;
#  - DSCP: probes sent with --dscp ef; r1 rewrites EF to CS0 in its forward
#    hook, after its own TTL check, so r1's time-exceeded quotes ef and
#    every later quote cs0 (exactly: a header byte, no tolerance); ECN 0
#    throughout; without the rule every hop quotes ef;
#  - names: every hop's name is the one c's hosts file gives its address,
#    in text and JSON (name and addr), IPv4 and IPv6; a name with an escape
#    octet (outside input that could drive a terminal) shows it as '?';
#    with -n no name at all and no lookup (strace: /etc/hosts never opened,
#    while a run without -n opens it);
#  - live: on a pseudo-terminal (script(1)), -c 0 enters the alternate
#    screen, draws the report from the top at least 5 times in 1.5 s at
#    -i 100ms, ends on 'q' (and on SIGINT) well before the 10 s guard,
#    leaves the alternate screen, then prints the final report; stty -g is
#    the same before and after; --live to a pipe is refused (exit 2);
#  - ECMP (a lab of its own): r1 hashes L4 over a1/a2, r2 over b1/b2/b3;
#    --all-paths (udp and tcp) finds exactly {a1, a2} at hop 2 and
#    {b1, b2, b3} at hop 4, one responder at the other hops, r1 followed
#    by both a's and r2 by all three b's; 3 to 6 paths (the MDA finds
#    every next hop, not every combination of them) that take them all;
#    the stopping rule met, and says how many probes it took; the same
#    with an 80 ms RTT and a flow every 50 ms (no loss: replies to an
#    earlier round are matched); the default flow meets one responder
#    per hop (5 hops); an ICMP --all-paths is refused (exit 2);
#  - targets: r1, r2 and s (1, 2 and 3 hops, 10 ms each way on r1-r2) in
#    one run: one JSON document, each target reached at its depth with its
#    RTT; the run takes less than twice the slowest target alone (in turn
#    it would take three times);
#  - Paris: exactly one flow tuple on the capture (addresses, protocol,
#    ports or ICMP identifier, ICMP/UDP checksum, IPv6 flow label), and one
#    distinct probe id per probe.

T_REQUIRE=(ip nft jq mtr tshark dumpcap promtool setpriv timeout file strace script setcap perl)
T_TESTS=(
	"delay       line  5/10/20 ms links: RTT 10/30/70 ms, mean no further off than mtr's +0.5 ms, 4/6 x icmp/udp/tcp"
	"link_loss   line  random loss on r1-r2: hops 2, 3 within 4 sigma, charged to the link"
	"node_loss   line  r1 silent on ICMP but forwarding: node loss only, link loss 0"
	"ratelimit   line  kernel ICMP rate limiting on r1: hop flagged, not path loss"
	"paris       line  capture: one flow identifier for every probe (icmp/udp/tcp, 4/6)"
	"stream      line  -c 0: NDJSON round records as they happen, summary on SIGINT"
	"formats     line  csv rows per hop, prom passes promtool, text, --plot PNG"
	"unpriv      line  as nobody: ICMP datagram and UDP IP_RECVERR sockets; tcp refused; setcap: no caps left"
	"dscp        line  r1 remarks EF to CS0 when forwarding: hop 1 quotes ef, hops 2- cs0 (icmp/udp/tcp, 4/6)"
	"names       line  hop names from c's /etc/netns/NAME/hosts (4/6); -n: none looked up"
	"live        line  -c 0 on a pty: redrawn in place, q or SIGINT ends it, terminal as found"
	"ecmp        none  L4-hashing routers over 2 and 3 next hops: --all-paths finds exactly them; --flow keeps one"
	"targets     line  r1, r2 and s at once: one document, each right, none reads another's replies"
	"via         line  --via against a stand-in meshctl socket: segments, prom, a path not taken, errors"
)

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

case ${BUILD:-build} in
/*) PP=$BUILD/bin/pathping ;;
*) PP=$LAB_TOP/${BUILD:-build}/bin/pathping ;;
esac
declare -A S=([4]=10.200.3.2 [6]=fdac:c8:3::2)
declare -A C=([4]=10.200.1.1 [6]=fdac:c8:1::1)

[[ -x $PP ]] || t_skip "pathping not built ($PP)"

# warm: resolve ARP/ND along the line so no measured probe waits for it.
warm()
{
	lab_ping c -c 1 -W 2 "${S[4]}" >/dev/null & lab_ping c -c 1 -W 2 "${S[6]}" >/dev/null
	wait $!
}

# pp OUT.json ARGS...: pathping on c, JSON into OUT.json.
pp() { local out=$1; shift; n c "$PP" -j "$@" >"$out"; }

# ---------------------------------------------------------------- delay

mtr_args() { case $1 in icmp) ;; udp) echo -u ;; tcp) echo -T -P 80 ;; esac; }

WIRES=(c-r1 r1-r2 r2-s)

# wire_snap FILE: every counter of the line's wires, "LINK KEY VALUE" per line.
wire_snap()
{
	local w
	for w in "${WIRES[@]}"; do
		lab_wire_stats "$w" | sed "s/^/$w /" || return
	done >"$1"
}

# wire_late BEFORE AFTER: per wire, the mean lateness in ms of the frames it
# sent between two snapshots, both directions added (a round trip crosses
# each once): "LATE_c-r1 LATE_r1-r2 LATE_r2-s".
wire_late()
{
	awk -v wires="${WIRES[*]}" 'NR == FNR { b[$1 " " $2] = $3; next }
		{ d[$1 " " $2] = $3 - b[$1 " " $2] }
		END { n = split(wires, w, " ")
			for (i = 1; i <= n; i++) {
				l = 0
				for (r = 0; r < 2; r++) {
					k = w[i] " " (r ? "ba" : "ab")
					if (d[k "_frames"] > 0)
						l += d[k "_late_sum_ns"] / d[k "_frames"]
				}
				printf "%s%.3f", (i > 1 ? " " : ""), l / 1e6
			}
			print "" }' "$1" "$2"
}

test_delay()
{
	local fam p out mo i set=(0 10 30 70) pm mm med mn late lt
	t_require_wire
	lab_delay c-r1 5ms 5ms && lab_delay r1-r2 10ms 10ms && lab_delay r2-s 20ms 20ms
	# real-time priorities, so that other load on the machine delays neither
	# the wires' frames nor mtr's user-space timestamps: mtr (30) above the
	# wires (20) above pathping (10), whose timestamps are the kernel's
	for i in c-r1 r1-r2 r2-s; do
		chrt -f -p 20 "$(<"$LAB_DIR/$i/wire.pid")" >/dev/null
	done
	warm
	for fam in 4 6; do
		for p in icmp udp tcp; do
			out=$LAB_DIR/delay-$fam-$p.json mo=$LAB_DIR/mtr-$fam-$p.json
			# shellcheck disable=SC2046
			wire_snap "$LAB_DIR/wires0"
			n c chrt -f 30 mtr --report --json -n $(mtr_args $p) -c 200 -i 0.01 -G 1 \
				"${S[$fam]}" >"$mo" &
			n c chrt -f 10 "$PP" -j -P "$p" -c 200 -i 10ms "${S[$fam]}" >"$out"
			wait $!
			wire_snap "$LAB_DIR/wires1"
			read -ra late < <(wire_late "$LAB_DIR/wires0" "$LAB_DIR/wires1")
			lt=0
			# every probe and reply timed by the kernel
			t_json "$out" '.reached and .dest_ttl == 3 and (.hops | length) == 3 and
				.tx_kernel_stamps >= ([.hops[].sent] | add) and
				.rx_kernel_stamps >= ([.hops[].received] | add)'
			[[ $(jq '.report.hubs | length' "$mo") == 3 ]]
			for i in 1 2 3; do
				read -r pm med mn < <(jq -r ".hops[$((i - 1))] |
					[.rtt_ms.mean, .rtt_ms.median, .rtt_ms.min] | @tsv" "$out")
				mm=$(jq ".report.hubs[$((i - 1))].Avg" "$mo")
				lt=$(awk -v a="$lt" -v b="${late[i - 1]}" 'BEGIN { print a + b }')
				t_note "IPv$fam $p hop $i: pathping mean $pm median $med min $mn ms," \
					"mtr mean $mm ms (set ${set[i]}, wires late $lt)"
				jq -e ".hops[$((i - 1))] | .sent == 200 and .received == 200" "$out"
				awk -v pm="$pm" -v mm="$mm" -v med="$med" -v mn="$mn" -v t="${set[i]}" \
					-v lt="$lt" 'function abs(x) { return x < 0 ? -x : x }
					BEGIN { d = abs(pm - t) - abs(mm - t)
						exit !(d <= 0.5 && mn >= t && med <= t + lt + 0.5) }'
			done
		done
	done
}

# ---------------------------------------------------------------- loss split

test_link_loss()
{
	local fam out permille=100 count=300
	lab_loss r1-r2 both random "$permille"
	warm
	for fam in 4 6; do
		out=$LAB_DIR/link-$fam.json
		pp "$out" -c "$count" -i 10ms "${S[$fam]}"
		t_note "IPv$fam 10 %/direction on r1-r2: $(jq -c '[.hops[] | {sent, received,
			loss_pct, node_loss_pct, link_loss_pct, ratelimited}]' "$out")"
		# q = 1 - 0.9^2 = 0.19; sigma over n probes; 4 sigma (and 4 sqrt(2) sigma)
		jq -e --argjson n "$count" '
			(0.19 * 0.81 / $n | sqrt * 100) as $s |
			.reached and (.hops | length) == 3 and
			(.hops[0] | .loss_pct == 0 and .node_loss_pct == 0 and .link_loss_pct == 0) and
			([.hops[1, 2] | .loss_pct - 19 | fabs <= 4 * $s] | all) and
			((.hops[1].link_loss_pct - 19) | fabs <= 4 * $s) and
			(.hops[1].node_loss_pct <= 4 * 1.4143 * $s) and
			(.hops[2].link_loss_pct <= 4 * 1.4143 * $s) and
			(.hops[2].node_loss_pct == 0) and
			(([.hops[].link_loss_pct] | add) - .hops[2].loss_pct | fabs < 1e-9) and
			([.hops[].ratelimited] | any | not)' "$out"
	done
	(($(lab_counter r1-r2 drop_ab) > 0 && $(lab_counter r1-r2 drop_ba) > 0))
}

test_node_loss()
{
	local fam out
	# r1 forwards, but drops the time-exceeded messages it sends itself
	n r1 nft -f - <<-'EOF'
		table inet pp_silent {
			counter te { }
			chain output {
				type filter hook output priority 0;
				icmp type time-exceeded counter name te drop
				icmpv6 type time-exceeded counter name te drop
			}
		}
	EOF
	warm
	for fam in 4 6; do
		out=$LAB_DIR/node-$fam.json
		pp "$out" -c 50 -i 10ms "${S[$fam]}"
		t_note "IPv$fam r1 silent: $(jq -c '[.hops[] |
			{addr, loss_pct, node_loss_pct, link_loss_pct}]' "$out")"
		jq -e '.reached and (.hops | length) == 3 and
			(.hops[0] | .received == 0 and .loss_pct == 100 and
				.node_loss_pct == 100 and .link_loss_pct == 0 and
				(.ratelimited | not)) and
			([.hops[1, 2] | .loss_pct == 0 and .node_loss_pct == 0 and
				.link_loss_pct == 0] | all)' "$out"
	done
	(($(n r1 nft -j list counter inet pp_silent te |
		jq '.nftables[] | select(.counter) | .counter.packets') >= 100))
	n r1 nft delete table inet pp_silent
}

test_ratelimit()
{
	local fam out
	lab_icmp_ratelimit r1 on
	warm
	for fam in 4 6; do
		out=$LAB_DIR/rl-$fam.json
		pp "$out" -c 60 -i 20ms "${S[$fam]}"
		t_note "IPv$fam r1 rate-limited: $(jq -c '[.hops[] | {sent, received,
			node_loss_pct, link_loss_pct, ratelimited}]' "$out")"
		jq -e '.reached and (.hops | length) == 3 and
			(.hops[0] | .ratelimited and .node_loss_pct > 0 and .received > 0) and
			([.hops[] | .link_loss_pct == 0] | all) and
			([.hops[1, 2] | .loss_pct == 0 and (.ratelimited | not)] | all)' "$out"
	done
}

# ---------------------------------------------------------------- Paris

# flows PCAP MAC FAM PROTO: "tuples ids probes" of c's outgoing probes (frames
# from c's MAC: ICMP errors coming back quote the probes' headers too).
flows()
{
	local pcap=$1 mac=$2 fam=$3 p=$4 ip=ip filter f id
	[[ $fam == 6 ]] && ip=ipv6
	f=(-e "$ip.src" -e "$ip.dst")
	[[ $fam == 6 ]] && f+=(-e ipv6.flow)
	case $fam$p in
	4icmp) filter="icmp.type == 8" f+=(-e icmp.ident -e icmp.checksum) id=icmp.seq ;;
	6icmp) filter="icmpv6.type == 128" f+=(-e icmpv6.echo.identifier -e icmpv6.checksum)
		id=icmpv6.echo.sequence_number ;;
	4udp) filter="udp" f+=(-e udp.srcport -e udp.dstport -e udp.checksum) id=ip.id ;;
	6udp) filter="udp" f+=(-e udp.srcport -e udp.dstport -e udp.checksum) id=udp.payload ;;
	*tcp) filter="tcp.flags.syn == 1 && tcp.flags.ack == 0"
		f+=(-e tcp.srcport -e tcp.dstport) id=tcp.seq_raw ;;
	esac
	filter="eth.src == $mac && $ip.src == ${C[$fam]} && frame.len < 1000 && $filter"
	tshark -r "$pcap" -Y "$filter" -T fields -E occurrence=f "${f[@]}" -e "$id" 2>/dev/null |
		awk -F'\t' '{ k = $1; for (i = 2; i < NF; i++) k = k "|" $i
			t[k]; d[$NF]; n++ }
			END { for (k in t) nt++; for (k in d) nd++; print nt + 0, nd + 0, n + 0 }'
}

cap_ready() { [[ -s $1 ]]; }

# marker_seen PCAP: the marker ping (an ICMP echo over 1000 bytes from c) is
# in the file, so dumpcap has written everything sent before it.
marker_seen()
{
	[[ $(tshark -r "$1" -Y "ip.src == ${C[4]} && frame.len > 1000" 2>/dev/null | wc -l) -gt 0 ]]
}

test_paris()
{
	local pcap=$LAB_DIR/paris.pcapng fam p tuples ids probes mac
	warm
	mac=$(n c cat /sys/class/net/to-r1/address)
	rm -f "$pcap"
	# dumpcap writes the file header once the interface is capturing
	lab_spawn c dumpcap dumpcap -q -i to-r1 -w "$pcap" \
		-f "src host ${C[4]} or src host ${C[6]}"
	busywait 5000 cap_ready "$pcap"
	for fam in 4 6; do
		for p in icmp udp tcp; do
			n c "$PP" -q -P "$p" -c 10 -i 10ms "${S[$fam]}" >/dev/null
		done
	done
	lab_ping c -c 1 -s 1200 -W 2 "${S[4]}" >/dev/null
	busywait 10000 marker_seen "$pcap"
	lab_stop c dumpcap
	for fam in 4 6; do
		for p in icmp udp tcp; do
			read -r tuples ids probes < <(flows "$pcap" "$mac" "$fam" "$p")
			t_note "IPv$fam $p: $probes probes, $tuples flow tuple(s), $ids probe ids"
			((tuples == 1 && probes >= 30 && ids == probes))
		done
	done
}

# ---------------------------------------------------------------- output

test_stream()
{
	local log=$LAB_DIR/c/stream.log pid rounds
	warm
	lab_spawn c stream "$PP" -c 0 -i 20ms -f ndjson "${S[4]}"
	busywait 5000 awk 'END { exit NR < 30 }' "$log"
	read -r pid <"$LAB_DIR/c/stream.pid"
	kill -INT "$pid"
	busywait 5000 _lab_gone "$pid"
	rounds=$(jq -s '[.[] | select(.type == "round")] | length' "$log")
	t_note "$rounds round records streamed before SIGINT"
	((rounds >= 30))
	# rounds in order, then one summary, the last line
	jq -s -e '([.[] | select(.type == "round") | .round] | . == sort) and
		(.[-1] | .type == "summary" and .reached and .interrupted and
			(.hops | length) == 3 and .hops[2].received > 0) and
		([.[] | select(.type == "summary")] | length == 1)' "$log"
}

test_formats()
{
	local d=$LAB_DIR hdr
	warm
	n c "$PP" -f csv -c 5 -i 10ms "${S[4]}" >"$d/pp.csv"
	hdr=$(head -1 "$d/pp.csv")
	[[ $hdr == hop,ttl,addr,name,responders,loss_pct,node_loss_pct,link_loss_pct,sent,received,* ]]
	(($(wc -l <"$d/pp.csv") == 4))
	n c "$PP" -f prom -c 5 -i 10ms "${S[6]}" >"$d/pp.prom"
	promtool check metrics <"$d/pp.prom"
	grep -q "^meshperf_pathping_hops_loss_ratio{dst=\"${S[6]}\",hop=\"3\"} 0\$" "$d/pp.prom"
	n c "$PP" -c 5 -i 10ms --plot "$d/pp.png" "${S[4]}" >"$d/pp.txt"
	# text: mtr's columns, every line within 80 columns on this IPv4 path
	grep -qx 'pathping to 10.200.3.2 (10.200.3.2), icmp probes' "$d/pp.txt"
	grep -q '^reached in 3 hops, 5 rounds, in ' "$d/pp.txt"
	grep -q '^ 3\.  10\.200\.3\.2  ' "$d/pp.txt"
	(($(wc -L <"$d/pp.txt") <= 80))
	file "$d/pp.png" | grep -q 'PNG image'
	# usage errors: exit 2, the bad value quoted
	! n c "$PP" -c -3 "${S[4]}" 2>"$d/err" || false
	grep -q "invalid count '-3'" "$d/err"
	n c "$PP" -V | grep -q '^pathping meshperf '
}

test_dscp()
{
	local fam p out want
	warm
	for fam in 4 6; do
		for p in icmp udp tcp; do
			out=$LAB_DIR/dscp-$fam-$p-plain.json
			pp "$out" -P "$p" --dscp ef -c 3 -i 10ms "${S[$fam]}"
			# every error message quotes ef; echo replies and SYN-ACKs quote nothing
			jq -e '.dscp == 46 and ([.hops[] | select(.quoted > 0) |
				.quoted_dscp == 46 and .dscp_changed == 0] | all) and
				(.hops[1].quoted > 0)' "$out" >/dev/null
		done
	done
	n r1 nft -f - <<-'EOF'
		table inet pp_remark {
			chain forward {
				type filter hook forward priority 0;
				ip dscp ef ip dscp set cs0
				ip6 dscp ef ip6 dscp set cs0
			}
		}
	EOF
	for fam in 4 6; do
		for p in icmp udp tcp; do
			out=$LAB_DIR/dscp-$fam-$p.json
			pp "$out" -P "$p" --dscp ef -c 3 -i 10ms "${S[$fam]}"
			t_note "IPv$fam $p: quoted DSCP per hop $(jq -c '[.hops[] | .quoted_dscp]' "$out")"
			# hop 1 quotes ef; hop 2 and the target's unreachable (udp) quote cs0
			want='.hops[0].quoted == 3 and .hops[0].quoted_dscp == 46 and
				.hops[0].dscp_changed == 0 and
				.hops[1].quoted == 3 and .hops[1].quoted_dscp == 0 and
				.hops[1].dscp_changed == 3 and
				([.hops[] | select(.quoted > 0) | .quoted_ecn == 0] | all)'
			[[ $p == udp ]] && want+=' and .hops[2].quoted_dscp == 0'
			jq -e "$want" "$out" >/dev/null
		done
	done
	n c "$PP" -P udp --dscp ef -c 3 -i 10ms "${S[4]}" >"$LAB_DIR/dscp.txt"
	grep -q '^ 2\.  *DSCP ef sent, cs0 quoted from here on$' "$LAB_DIR/dscp.txt" ||
		{ cat "$LAB_DIR/dscp.txt"; false; }
	n r1 nft delete table inet pp_remark
}

test_names()
{
	local fam out
	printf '%s\n' '127.0.0.1 localhost' '10.200.1.2 r1-a.lab.example' \
		'10.200.2.2 r2-a.lab.example' '10.200.3.2 s.lab.example' \
		'fdac:c8:1::2 r1-a6.lab.example' 'fdac:c8:2::2 r2-a6.lab.example' \
		$'fdac:c8:3::2 s6\e[31m.lab.example' | lab_hosts c
	warm
	for fam in 4 6; do
		out=$LAB_DIR/names-$fam.json
		pp "$out" -c 2 -i 10ms "${S[$fam]}"
		t_note "IPv$fam names: $(jq -c '[.hops[] | .name]' "$out")"
		if [[ $fam == 4 ]]; then
			jq -e '[.hops[] | .name] == ["r1-a.lab.example", "r2-a.lab.example", "s.lab.example"]
				and .hops[0].addr == "10.200.1.2" and
				.hops[0].addrs[0].name == "r1-a.lab.example"' "$out" >/dev/null
		else
			jq -e '[.hops[] | .name] == ["r1-a6.lab.example", "r2-a6.lab.example", "s6?[31m.lab.example"]
				and .hops[2].addr == "fdac:c8:3::2"' "$out" >/dev/null
		fi
	done
	n c "$PP" -c 2 -i 10ms "${S[4]}" >"$LAB_DIR/names.txt"
	grep -q '^ 2\.  r2-a\.lab\.example  ' "$LAB_DIR/names.txt" || { cat "$LAB_DIR/names.txt"; false; }
	# -n: no name, and the resolver never runs (it would read the hosts file)
	n c strace -f -qq -e trace=openat -o "$LAB_DIR/names.strace" \
		"$PP" -n -j -c 2 -i 10ms "${S[4]}" >"$LAB_DIR/names-n.json"
	jq -e '[.hops[] | .name == "" and (.addrs | map(.name == "") | all)] | all' \
		"$LAB_DIR/names-n.json" >/dev/null
	! grep -q 'hosts' "$LAB_DIR/names.strace" || { grep hosts "$LAB_DIR/names.strace"; false; }
	n c strace -f -qq -e trace=openat -o "$LAB_DIR/names.strace" \
		"$PP" -j -c 2 -i 10ms "${S[4]}" >/dev/null
	grep -q '/etc/hosts' "$LAB_DIR/names.strace"
}

# live_run OUT STOP: pathping -c 0 on a pty in c, stopped by STOP (q: the
# key after 1.5 s, TERM=xterm; int: SIGINT after 1.5 s, NO_COLOR=1); OUT
# gets what the terminal saw, OUT.before / OUT.after its stty -g.
live_run()
{
	local out=$1 cmd
	cmd="stty -g >$out.before; TERM=xterm $PP -c 0 -i 100ms ${S[4]}; echo rc=\$?; stty -g >$out.after"
	if [[ $2 == q ]]; then
		(sleep 1.5; printf q) | n c timeout 10 script -qfec "$cmd" /dev/null >"$out"
	else
		cmd="stty -g >$out.before; NO_COLOR=1 timeout --foreground --preserve-status -s INT 1.5 $PP -c 0 -i 100ms ${S[4]};"
		cmd+=" echo rc=\$?; stty -g >$out.after"
		n c timeout 10 script -qfec "$cmd" /dev/null </dev/null >"$out"
	fi
}

test_live()
{
	local out stop draws
	warm
	for stop in q int; do
		out=$LAB_DIR/live-$stop
		live_run "$out" "$stop"
		draws=$(grep -o $'\e\[H' "$out" | wc -l)
		t_note "stopped by $stop: $draws drawings; $(grep -ao 'rc=[0-9]*' "$out")"
		((draws >= 5))
		cmp -s "$out.before" "$out.after"
		# the alternate screen entered, left, and then the final report
		grep -aq $'\e\[?1049h' "$out"
		sed -n $'/\e\[?1049l/,$p' "$out" | grep -aq 'reached in 3 hops'
		grep -aq 'rc=0' "$out"
		# drawn in colour (a bold header) as the final report, not with NO_COLOR
		if [[ $stop == q ]]; then
			perl -0ne 'print $1 if /\e\[\?1049h(.*?)\e\[\?1049l/s' "$out" |
				grep -aq $'\e\[1m'
		else
			! grep -aq $'\e\[1m' "$out" || false
		fi
	done
	! n c "$PP" --live -c 5 "${S[4]}" >/dev/null 2>"$LAB_DIR/live.err" || false
	grep -q 'live draws one HOST' "$LAB_DIR/live.err"
}

# ecmp_lab: c - r1 = {a1, a2} = r2 = {b1, b2, b3} = s, r1 and r2 hashing
# L4 (fib_multipath_hash_policy 1); link k is 10.210.k.0/24 (A of "A-B"
# .1, B .2); the target is s's 10.210.99.1. Replies come back over a1 and
# b1 only.
ECMP_LINKS=(c-r1 r1-a1 r1-a2 a1-r2 a2-r2 r2-b1 r2-b2 r2-b3 b1-s b2-s b3-s)
ecmp_lab()
{
	local k=0 l a b
	lab_new
	lab_node_add c r1 a1 a2 r2 b1 b2 b3 s
	lab_link_add "${ECMP_LINKS[@]}"
	for l in "${ECMP_LINKS[@]}"; do
		k=$((k + 1)) a=${l%-*} b=${l#*-}
		lab_addr "$a" "to-$b" "10.210.$k.1/24"
		lab_addr "$b" "to-$a" "10.210.$k.2/24"
	done
	lab_addr s lo 10.210.99.1/32
	n r1 sysctl -qw net.ipv4.fib_multipath_hash_policy=1
	n r2 sysctl -qw net.ipv4.fib_multipath_hash_policy=1
	ipn c route add default via 10.210.1.2
	ipn r1 route add default nexthop via 10.210.2.2 nexthop via 10.210.3.2
	ipn a1 route add default via 10.210.4.2
	ipn a1 route add 10.210.1.0/24 via 10.210.2.1
	ipn a2 route add default via 10.210.5.2
	ipn a2 route add 10.210.1.0/24 via 10.210.3.1
	ipn r2 route add default nexthop via 10.210.6.2 nexthop via 10.210.7.2 \
		nexthop via 10.210.8.2
	ipn r2 route add 10.210.1.0/24 via 10.210.4.1
	for k in 1 2 3; do
		ipn "b$k" route add default via "10.210.$((8 + k)).2"
		ipn "b$k" route add 10.210.1.0/24 via "10.210.$((5 + k)).1"
	done
	ipn s route add 10.210.1.0/24 via 10.210.9.1
	lab_ping c -c 1 -W 2 10.210.99.1 >/dev/null
}

test_ecmp()
{
	local p out d=$LAB_DIR f a b paths
	ecmp_lab
	for p in udp tcp; do
		out=$d/ecmp-$p.json
		pp "$out" -P "$p" -p 7 --all-paths "10.210.99.1"
		t_note "$p: $(jq -r '.all_paths | "\(.flows) flows, \(.probes) probes, " +
			"\(.paths | length) paths"' "$out"); per hop: $(jq -c '[.hops[] |
			[.addrs[].addr] | sort]' "$out")"
		jq -e '.reached and (.hops | length) == 5 and .all_paths.complete and
			([.hops[] | [.addrs[].addr] | sort] == [["10.210.1.2"],
				["10.210.2.2", "10.210.3.2"], ["10.210.4.2"],
				["10.210.6.2", "10.210.7.2", "10.210.8.2"], ["10.210.99.1"]]) and
			(.hops[0].addrs[0].next | sort) == ["10.210.2.2", "10.210.3.2"] and
			(.hops[2].addrs[0].next | sort) == ["10.210.6.2", "10.210.7.2", "10.210.8.2"] and
			(.all_paths.paths | length) >= 3 and (.all_paths.paths | length) <= 6 and
			([.all_paths.paths[].hops[1]] | unique) == ["10.210.2.2", "10.210.3.2"] and
			([.all_paths.paths[].hops[3]] | unique) ==
				["10.210.6.2", "10.210.7.2", "10.210.8.2"] and
			([.all_paths.paths[].flows] | add) == .all_paths.flows and
			.all_paths.probes >= .all_paths.flows * 5' "$out" >/dev/null
	done
	# 40 ms each way on c-r1: every RTT is longer than the 50 ms between
	# flows, so replies of a round come after the next round has begun
	lab_delay c-r1 40ms 40ms
	pp "$d/ecmp-slow.json" -P udp --all-paths 10.210.99.1
	t_note "RTT 80 ms, a flow every 50 ms: $(jq -r '.all_paths | "\(.flows) flows, " +
		"\(.paths | length) paths"' "$d/ecmp-slow.json"), loss per hop $(jq -c \
		'[.hops[] | .loss_pct]' "$d/ecmp-slow.json")"
	jq -e '.all_paths.complete and ([.hops[] | .loss_pct == 0] | all) and
		(.hops[1].responders == 2) and (.hops[3].responders == 3)' \
		"$d/ecmp-slow.json" >/dev/null
	lab_delay c-r1 off
	# the default: one Paris flow, one responder per hop
	for p in icmp udp tcp; do
		pp "$d/ecmp-one-$p.json" -P "$p" -c 20 -i 10ms 10.210.99.1
		jq -e '.reached and (.hops | length) == 5 and ([.hops[] | .responders == 1] | all)' \
			"$d/ecmp-one-$p.json" >/dev/null
	done
	# --flow N: the same path in every run, and the flow is what picks it
	# (six flows over 2 x 3 paths: all on one path with p = 1e-4)
	for p in udp tcp; do
		paths=()
		for f in 40001 40002 40003 40004 40005 40006; do
			pp "$d/flow-a.json" -n -P "$p" --flow "$f" -c 3 -i 10ms 10.210.99.1
			pp "$d/flow-b.json" -n -P "$p" --flow "$f" -c 3 -i 10ms 10.210.99.1
			a=$(jq -c '[.hops[].addr]' "$d/flow-a.json")
			b=$(jq -c '[.hops[].addr]' "$d/flow-b.json")
			[[ $a == "$b" ]] || { echo "--flow $f: $a, then $b"; false; }
			jq -e ".flow == $f and .reached" "$d/flow-a.json" >/dev/null
			paths+=("$a")
		done
		t_note "$p --flow 40001..40006: $(printf '%s\n' "${paths[@]}" | sort -u | wc -l)" \
			"distinct paths, each the same in two runs"
		(($(printf '%s\n' "${paths[@]}" | sort -u | wc -l) >= 2))
	done
	! n c "$PP" --flow 40001 -P udp --all-paths 10.210.99.1 2>"$d/ecmp.err" || false
	grep -q -- '--all-paths varies the flow' "$d/ecmp.err"
	n c "$PP" -P udp --all-paths 10.210.99.1 >"$d/ecmp.txt"
	grep -q ' [3-6] paths in [0-9]* flows, [0-9]* probes (MDA, 95%)' "$d/ecmp.txt" ||
		{ cat "$d/ecmp.txt"; false; }
	! n c "$PP" --all-paths 10.210.99.1 2>"$d/ecmp.err" || false
	grep -q -- '--all-paths varies the source port' "$d/ecmp.err"
}

test_targets()
{
	local d=$LAB_DIR t0 alone=0 t all
	lab_delay r1-r2 10ms 10ms
	warm
	for t in 10.200.1.2 10.200.2.2 10.200.3.2; do
		t0=$EPOCHREALTIME
		pp "$d/alone.json" -n -c 20 -i 20ms "$t"
		t=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
		alone=$(awk -v a="$alone" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
	done
	t0=$EPOCHREALTIME
	pp "$d/all.json" -n -c 20 -i 20ms 10.200.1.2 10.200.2.2 10.200.3.2
	all=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
	t_note "three at once in $all s; the slowest alone $alone s"
	# each run's sockets read only its own flow's replies (a kernel filter):
	# none of the others' reaches it
	t_note "unmatched packets per target: $(jq -c '[.targets[] | .unmatched]' "$d/all.json")"
	jq -e '[.targets[] | [.dst, .dest_ttl, .reached]] == [["10.200.1.2", 1, true],
		["10.200.2.2", 2, true], ["10.200.3.2", 3, true]] and
		(.targets[2].hops[2].rtt_ms.min >= 20) and
		([.targets[] | .unmatched == 0] | all)' "$d/all.json" >/dev/null
	awk -v a="$all" -v s="$alone" 'BEGIN { exit !(a < 2 * s) }'
}

# A stand-in for meshctl's control socket on c (lib/ctl.h's protocol): it
# answers "paths json" and "routes json" from $LAB_DIR/ctl/. The real
# meshctl is tests/netns/meshctl.sh's via.
fake_ctl()
{
	mkdir -p "$LAB_DIR/ctl"
	lab_spawn c fakectl python3 -c '
import os, socket, sys
d = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(d + "/sock")
s.listen(8)
while True:
    c, _ = s.accept()
    what = c.recv(256).decode().split(" ")[0]
    try:
        c.sendall(open(os.path.join(d, what + ".json"), "rb").read())
    except OSError:
        c.sendall(b"error: bad request\n")
    c.close()' "$LAB_DIR/ctl"
	lab_wait 5 test -S "$LAB_DIR/ctl/sock"
}

# sites 1, 2, 3: r1, r2, s (the addresses they answer from); 2 ms each way on
# each wire: every segment adds 4 ms, +-0.5 ms (a difference of two medians)
test_via()
{
	local d=$LAB_DIR rc
	fake_ctl
	echo '{"paths":[{"site":3,"kind":"relay","path":"0>1>2>3","cost_ms":7.5,"est_ms":7.4},
		{"site":4,"kind":"none","path":"","cost_ms":null}]}' >"$d/ctl/paths.json"
	echo '{"routes":[{"dst":"10.200.1.2/32","site":1},{"dst":"10.200.2.2/32","site":2},
		{"dst":"10.200.3.0/24","site":3},{"dst":"fdac:c8:3::/64","site":3}]}' \
		>"$d/ctl/routes.json"
	for l in "${WIRES[@]}"; do lab_delay "$l" 2ms 2ms; done
	warm
	pp "$d/via.json" -n -c 20 -i 20ms --via 3 --ctl "$d/ctl/sock" "${S[4]}"
	t_note "--via 3: $(jq -c '.via | {traced, follows, added: [.segments[] | .added_ms]}' \
		"$d/via.json")"
	jq -e '.via.path == "0>1>2>3" and .via.traced == "0>1>2>3" and .via.follows and
		([.via.segments[] | "\(.from)>\(.to)"] == ["0>1", "1>2", "2>3"]) and
		([.via.segments[] | .added_ms - 4 | fabs <= 0.5] | all)' "$d/via.json" >/dev/null
	n c "$PP" -n -c 5 -i 20ms -f prom --via 3 --ctl "$d/ctl/sock" "${S[4]}" >"$d/via.prom"
	promtool check metrics <"$d/via.prom"
	(($(grep -c '^meshperf_pathping_via_segments_added_seconds{' "$d/via.prom") == 3))
	n c "$PP" -n -c 5 -i 20ms --via 3 --ctl "$d/ctl/sock" "${S[4]}" >"$d/via.txt"
	grep -q '^mesh path to site 3: 0>1>2>3 (relay, meshctl cost 7.50ms); traced 0>1>2>3:$' \
		"$d/via.txt"
	(($(wc -L <"$d/via.txt") <= 100))
	# meshctl's path skips site 1: the probes met another one, exit 1
	sed -i 's/0>1>2>3/0>2>3/' "$d/ctl/paths.json"
	rc=0
	pp "$d/via2.json" -n -c 3 -i 20ms --via 3 --ctl "$d/ctl/sock" "${S[4]}" || rc=$?
	((rc == 1))
	jq -e '.via.traced == "0>1>2>3" and (.via.follows | not)' "$d/via2.json" >/dev/null
	# no HOST: the site's first address (10.200.3.1: r2's, in site 3's net)
	rc=0
	pp "$d/via3.json" -n -c 3 -i 20ms --via 3 --ctl "$d/ctl/sock" || rc=$?
	jq -e '.dst == "10.200.3.1" and .via.traced == "0>1>3"' "$d/via3.json" >/dev/null
	((rc == 1))
	# errors: one line naming the cause, exit 2
	for args in "--via 4:no path to site 4 now (none)" "--via 5:knows no site 5" \
		"--via 3 -6 --ctl /nonexistent:no meshctl daemon at /nonexistent" \
		"--via 256:invalid site '256'"; do
		rc=0
		# shellcheck disable=SC2086
		n c "$PP" -c 1 --ctl "$d/ctl/sock" ${args%%:*} 2>"$d/err" >/dev/null || rc=$?
		((rc == 2)) || { echo "${args%%:*}: exit $rc"; false; }
		grep -q -- "${args#*:}" "$d/err" || { cat "$d/err"; false; }
	done
	echo '{"paths": [' >"$d/ctl/paths.json"
	rc=0
	n c "$PP" -c 1 --via 3 --ctl "$d/ctl/sock" 2>"$d/err" >/dev/null || rc=$?
	((rc == 2))
	grep -q "meshctl's paths: not JSON" "$d/err"
	rc=0
	n c "$PP" -c 1 --via 3 --ctl "$d/ctl/sock" "${S[4]}" 10.200.1.2 2>"$d/err" || rc=$?
	((rc == 2))
	grep -q -- '--via takes one HOST' "$d/err"
	for l in "${WIRES[@]}"; do lab_delay "$l" off; done
}

test_unpriv()
{
	local fam p out rc=0
	n c sysctl -q -w net.ipv4.ping_group_range="0 2147483647"
	warm
	for fam in 4 6; do
		for p in icmp udp; do
			out=$LAB_DIR/unpriv-$fam-$p.json
			n c setpriv --reuid=65534 --regid=65534 --clear-groups \
				"$PP" -j -P "$p" -c 10 -i 10ms "${S[$fam]}" >"$out"
			t_note "IPv$fam $p as nobody: $(jq -c '{raw_sockets, reached,
				tx_kernel_stamps, hops: [.hops[] | .received]}' "$out")"
			jq -e '(.raw_sockets | not) and .reached and .tx_kernel_stamps > 0 and
				([.hops[] | .received == 10] | all)' "$out"
		done
	done
	# --flow without raw sockets: the port bound
	n c setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$PP" -j -P udp --flow 41234 -c 2 -i 10ms "${S[4]}" >"$LAB_DIR/unpriv-flow.json"
	jq -e '(.raw_sockets | not) and .reached and .flow == 41234' \
		"$LAB_DIR/unpriv-flow.json" >/dev/null
	n c setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$PP" -P tcp -c 1 "${S[4]}" >/dev/null 2>&1 || rc=$?
	((rc == 2))
	n c sysctl -q -w net.ipv4.ping_group_range="1 0"
	# given CAP_NET_RAW as a file capability: raw sockets (tcp works), and
	# no capability left once they are open (STYLE.md M3)
	cp "$PP" "$LAB_DIR/pp-cap"
	setcap cap_net_raw+ep "$LAB_DIR/pp-cap"
	n c setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$LAB_DIR/pp-cap" -n -j -P tcp -c 2 "${S[4]}" >"$LAB_DIR/cap.json"
	jq -e '.raw_sockets and .reached' "$LAB_DIR/cap.json" >/dev/null
	lab_spawn c ppcap setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$LAB_DIR/pp-cap" -n -c 0 -f ndjson "${S[4]}"
	lab_wait 5 grep -qs '"round"' "$LAB_DIR/c/ppcap.log"
	t_note "file capability: $(grep CapEff "/proc/$(<"$LAB_DIR/c/ppcap.pid")/status" |
		tr -s '\t' ' ') while probing"
	grep -q '^CapEff:[[:space:]]*0*$' "/proc/$(<"$LAB_DIR/c/ppcap.pid")/status"
	grep -q '^CapPrm:[[:space:]]*0*$' "/proc/$(<"$LAB_DIR/c/ppcap.pid")/status"
	lab_stop c ppcap
}

t_main "$@"
