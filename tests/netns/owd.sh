#!/bin/bash
# SPDX-License-Identifier: MIT
#
# owd in the lab: one-way delay per direction against injected truth and
# against irtt on the same path in the same run, loss per direction against
# nft drop counters, authentication, interoperability with tshark's
# TWAMP-Test dissector and an independent STAMP peer, clock offsets, rate,
# streaming records and the Prometheus format.
#
#   tests/netns/owd.sh [-v] [-p] [-t] [test...]      (-h lists the tests)
#
# Topology "line" (tests/lab/lab.sh; every [A-B] is a wire namespace: a
# bridge, or mp-wire when delayed; impairments act on the port facing the
# receiving node). owd runs on c, its reflector (owd -s) and irtt's server
# on s. "ab" on c-r1 is the forward direction (c -> s).
#
#   c ====[c-r1]==== r1 ====[r1-r2]==== r2 ====[r2-s]==== s
#     .1  10.200.1.0/24  .2  10.200.2.0/24  .1  10.200.3.0/24  .2
#     ::1 fdac:c8:1::/64 ::2 fdac:c8:2::/64 ::1 fdac:c8:3::/64 ::2
#     MTU 1500 on every link
#
# Tolerances, stated once and never widened:
#  - delay: each direction's mean within +-1 ms of what the lab set, and no
#    further from it than irtt's (same path, same time) + 0.05 ms;
#  - loss: forward.lost / reverse.lost equal the nft drop counters exactly;
#  - clock offset: the raw forward (reverse) mean moves by the offset
#    +- 0.5 ms against a run without it; the estimate within its own bound;
#  - 10,000 packets/s: every probe sent, every reply counted, no loss.
#  - text: every line of the default text at most 100 columns (IPv4 and
#    IPv6); the RTT row's min cell is 40.x or 41.x ms over the 30+10 ms wire.

T_REQUIRE=(ip nft jq irtt tshark promtool python3 timeout)
T_TESTS=(
	"delay       line  30/10 ms and 10/30 ms (IPv4), 30/10 ms (IPv6): owd vs truth and irtt"
	"loss        line  forward every-Nth, reverse random loss: = nft drop counters"
	"dup         line  every packet duplicated per direction: all 50 duplicates counted"
	"reorder     line  jitter with reordering forward only: forward reordered, reverse not"
	"auth        line  authenticated mode: right key answered, wrong key dropped and counted"
	"interop     line  tshark decodes TWAMP-Test; independent STAMP sender/reflector"
	"offset      line  a known reflector clock offset: raw shift, estimate, suspect flag"
	"rate        line  10,000 packets/s: counts complete"
	"global      line  --max-pps 1000, two sources at 10,000/s: the global cap holds (GCRA bound)"
	"stream      line  --interval-report NDJSON records arrive while running (-t 0)"
	"prom        line  -f prom passes promtool check metrics"
	"text        line  default text: at most 100 columns, a table with units, no nan; no reply says so"
)

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

case ${BUILD:-build} in
/*) OWD=$BUILD/bin/owd ;;
*) OWD=$LAB_TOP/${BUILD:-build}/bin/owd ;;
esac
PEER=$T_NETNS_DIR/stamp_peer.py
declare -A S=([4]=10.200.3.2 [6]=fdac:c8:3::2)
IRTT_BIND=10.200.3.2,[fdac:c8:3::2]
O=$T_OUT/owd

[[ -x $OWD ]] || { echo "SKIP: owd not built ($OWD)" >&2; exit 4; }

# reflector [PORT [ARGS...]]: owd -s on s (tag owd-PORT), NDJSON counters
# every 100 ms in its log; waits until it listens.
reflector()
{
	local port=${1:-862}
	shift || true
	lab_running s "owd-$port" && return
	lab_spawn s "owd-$port" "$OWD" -s -p "$port" -f ndjson --interval-report 100ms "$@"
	lab_wait "$LAB_UP_TIMEOUT" lab_listening s udp "$port"
}

# refl_counter PORT KEY: the reflector's latest count of KEY.
refl_counter()
{
	local log=$LAB_DIR/s/owd-$1.log
	lab_wait 2 grep -q '"type":"interval"' "$log"
	grep '"type":"interval"' "$log" | tail -n 1 | jq -e ".$2"
}

warm()
{
	lab_ping c -c 1 -W 2 "${S[4]}" >/dev/null & lab_ping c -c 1 -W 2 "${S[6]}" >/dev/null
	wait $!
}

# owd_c ARGS...: owd on c.
owd_c() { lab_exec c "$OWD" "$@"; }

_ms() { printf '%.3f' "$1"; }

# delay_case FAM FWD_MS REV_MS: owd and irtt side by side, 200 probes each.
delay_case()
{
	local fam=$1 fwd=$2 rev=$3 host=${S[$1]} ih=${S[$1]} o=$O/owd$1.json i=$O/irtt$1.json
	local of or if ir
	[[ $fam == 4 ]] || ih="[$ih]"
	t_irtt c "$i" "$ih" -i 10ms -d 2s &
	owd_c -c 200 -i 10ms -j "$host" >"$o"
	wait $!
	read -r of or < <(jq -r '[.forward.owd_ms.mean, .reverse.owd_ms.mean] | @tsv' "$o")
	read -r if ir < <(jq -r '.stats | [.send_delay.mean, .receive_delay.mean] |
		map(. / 1e6) | @tsv' "$i")
	t_note "IPv$fam set $fwd/$rev ms: owd $(_ms "$of") / $(_ms "$or") ms," \
		"irtt $(_ms "$if") / $(_ms "$ir") ms"
	[[ $(jq '.sent == 200 and .received == 200' "$o") == true ]]
	python3 - "$fwd" "$rev" "$of" "$or" "$if" "$ir" <<-'EOF'
	import sys
	fwd, rev, of, orv, irf, irr = map(float, sys.argv[1:])
	for truth, owd, irtt in ((fwd, of, irf), (rev, orv, irr)):
	    assert abs(owd - truth) <= 1.0, (truth, owd)
	    assert abs(owd - truth) <= abs(irtt - truth) + 0.05, (truth, owd, irtt)
	EOF
}

test_delay()
{
	t_require_wire
	reflector
	t_irtt_server s "$IRTT_BIND"
	warm
	lab_delay c-r1 30ms 10ms
	delay_case 4 30 10
	delay_case 6 30 10
	lab_delay c-r1 10ms 30ms
	delay_case 4 10 30
}

# loss_case LINK DIR: run 200 probes; prints "fwd rev unknown drop".
loss_run()
{
	local o=$O/loss.json
	owd_c -c 200 -i 2ms --timeout 500ms -j "${S[4]}" >"$o" || true
	jq -r '[.forward.lost, .reverse.lost, .lost_unknown, .sent] | @tsv' "$o"
}

test_loss()
{
	local fwd rev unk sent drop try
	reflector
	warm
	# every 10th packet c -> s (IPv4 only: nothing else crosses): probes
	# 0, 10, ..., 190 go, so the last probe is answered
	lab_loss c-r1 ab nth 10 4
	read -r fwd rev unk sent < <(loss_run)
	drop=$(lab_counter c-r1 drop_ab)
	t_note "forward every 10th: owd forward.lost $fwd reverse.lost $rev, nft dropped $drop"
	((sent == 200 && fwd == drop && rev == 0 && unk == 0 && drop == 20))
	lab_loss c-r1 ab off
	# 5 % random s -> c. A reply lost after the last answered probe cannot
	# be placed by any STAMP sender (lost_unknown): then run again, at most
	# 3 times (each run has a 5 % chance of that)
	for try in 1 2 3; do
		lab_loss r2-s ba random 50 4
		read -r fwd rev unk sent < <(loss_run)
		drop=$(lab_counter r2-s drop_ba)
		((unk == 0)) && break
	done
	t_note "reverse random 5 %: owd forward.lost $fwd reverse.lost $rev, nft dropped $drop" \
		"(run $try)"
	((sent == 200 && unk == 0 && fwd == 0 && rev == drop && drop > 0))
}

test_dup()
{
	local o=$O/dup.json
	reflector
	warm
	lab_dup c-r1 ab 1000
	owd_c -c 50 -i 5ms -j "${S[4]}" >"$o"
	t_note "forward dup: $(jq -r '"\(.forward.duplicates) forward, \(.reverse.duplicates) reverse duplicates"' "$o"), nft copied $(lab_counter c-r1 dup_ab)"
	[[ $(jq '.received == 50 and .forward.duplicates == 50 and .reverse.duplicates == 0 and
		.lost == 0' "$o") == true ]]
	# the counter also copies what else crosses (ND and the like): >=
	(($(lab_counter c-r1 dup_ab) >= 50))
	lab_dup c-r1 ab off
	lab_dup r2-s ba 1000
	owd_c -c 50 -i 5ms -j "${S[4]}" >"$o"
	t_note "reverse dup: $(jq -r '"\(.forward.duplicates) forward, \(.reverse.duplicates) reverse duplicates"' "$o"), nft copied $(lab_counter r2-s dup_ba)"
	[[ $(jq '.received == 50 and .forward.duplicates == 0 and .reverse.duplicates == 50 and
		.lost == 0' "$o") == true ]]
	(($(lab_counter r2-s dup_ba) >= 50))
}

test_reorder()
{
	local o=$O/reorder.json
	t_require_wire
	reflector
	warm
	lab_delay c-r1 10ms 0ms --jitter-ab 10ms --reorder
	owd_c -c 200 -i 1ms -j "${S[4]}" >"$o"
	t_note "forward 10+10 ms jitter, reordered: $(jq -r '"forward reordered \(.forward.reordered), reverse reordered \(.reverse.reordered), lost \(.lost)"' "$o")"
	[[ $(jq '.received == 200 and .forward.reordered > 0 and .reverse.reordered == 0' \
		"$o") == true ]]
}

test_auth()
{
	local o=$O/auth.json d0 d1
	mkkey key
	mkkey wrong
	reflector 8620 -k "$O/key"
	warm
	owd_c -p 8620 -k "$O/key" -c 50 -i 5ms -j "${S[4]}" >"$o"
	[[ $(jq '.received == 50 and .lost == 0' "$o") == true ]]
	owd_c -p 8620 -k "$O/key" -c 20 -i 5ms -j "${S[6]}" >"$o"
	[[ $(jq '.received == 20' "$o") == true ]]
	d0=$(refl_counter 8620 dropped_auth)
	# wrong key and no key (44-octet packets): no reply, exit 1, counted
	! owd_c -p 8620 -k "$O/wrong" -c 20 -i 5ms --timeout 200ms -j "${S[4]}" >"$o" || false
	[[ $(jq '.received == 0 and .sent == 20' "$o") == true ]]
	! owd_c -p 8620 -c 10 -i 5ms --timeout 200ms -j "${S[4]}" >"$o" || false
	busywait 2000 counter_at_least 8620 dropped_auth $((d0 + 30))
	d1=$(refl_counter 8620 dropped_auth)
	t_note "auth: right key 70/70 answered; wrong key 20 + no key 10: dropped_auth +$((d1 - d0))"
	((d1 - d0 == 30))
}

# mkkey NAME: a random key file $O/NAME (once per run: reflectors keep
# running from test to test).
mkkey()
{
	[[ -s $O/$1 ]] && return
	(umask 077 && head -c 32 /dev/urandom | base64 >"$O/$1")
}

counter_at_least() { (($(refl_counter "$1" "$2") >= $3)); }

test_interop()
{
	local o=$O/interop.json pcap=$O/stamp.pcap fam k seqs want i
	mkkey key
	reflector
	reflector 8620 -k "$O/key"
	warm
	# tshark on s sees owd's packets as TWAMP-Test (RFC 5357 = STAMP's
	# unauthenticated layout) with sequence numbers 0..9 both ways
	lab_spawn s tshark tshark -n -i to-r2 -f "udp port 862" -c 20 -w "$pcap"
	lab_wait "$LAB_UP_TIMEOUT" test -s "$pcap"
	owd_c -c 10 -i 10ms -j "${S[4]}" >"$o"
	lab_wait 5 tshark_done
	# requests: to port 862, Sequence Number i; replies: from 862, the
	# reflector's number i and the Session-Sender Sequence Number i (in
	# any order: under load a reply may be captured after the next request)
	seqs=$(tshark -n -r "$pcap" -d udp.port==862,twamp.test -T fields -e udp.dstport \
		-e twamp.test.seq_number -e twamp.test.sender_seq_number |
		awk '$1 == 862 { print "q" $2 } $1 != 862 { print "r" $2 "," $3 }' | sort | tr '\n' ';')
	want=
	for i in {0..9}; do want+="q$i;r$i,$i;"; done
	want=$(tr ';' '\n' <<<"${want%;}" | sort | tr '\n' ';')
	t_note "tshark TWAMP-Test: $seqs"
	[[ $seqs == "$want" ]]
	# the independent sender against owd -s, unauthenticated and authenticated
	for fam in 4 6; do
		lab_exec c python3 "$PEER" send "${S[$fam]}" 862 20 >"$o"
		[[ $(jq '.received == 20 and .ok == 20' "$o") == true ]]
		lab_exec c python3 "$PEER" send "${S[$fam]}" 8620 20 "$O/key" >"$o"
		[[ $(jq '.received == 20 and .ok == 20' "$o") == true ]]
	done
	# owd against the independent reflector (no SSID, stateful numbers)
	for k in "" "$O/key"; do
		lab_spawn s peer python3 "$PEER" reflect 8630 $k
		lab_wait "$LAB_UP_TIMEOUT" lab_listening s udp 8630
		owd_c -p 8630 ${k:+-k "$k"} -c 20 -i 5ms -j "${S[4]}" >"$o"
		[[ $(jq '.received == 20 and .forward.lost == 0 and .reverse.lost == 0' "$o") == true ]]
		owd_c -p 8630 ${k:+-k "$k"} -c 20 -i 5ms -j "${S[6]}" >"$o"
		[[ $(jq '.received == 20' "$o") == true ]]
		lab_stop s peer
	done
	t_note "independent STAMP peer: sender 20/20 ok, reflector 20/20 (v4, v6, auth and not)"
}

tshark_done() { ! lab_running s tshark; }

# offset_run PORT: prints "fwd_mean rev_mean offset error suspect" (ms).
offset_run()
{
	owd_c -p "$1" -c 100 -i 5ms -j "${S[4]}" | jq -r '[.forward.owd_ms.mean,
		.reverse.owd_ms.mean, .clock.offset_ms, .clock.error_ms, .clock.suspect] | @tsv'
}

test_offset()
{
	local f0 r0 o0 e0 s0 f1 r1 o1 e1 s1
	reflector
	reflector 8621 --clock-offset 50ms
	warm
	read -r f0 r0 o0 e0 s0 < <(offset_run 862)
	read -r f1 r1 o1 e1 s1 < <(offset_run 8621)
	t_note "reflector clock +50 ms: forward $(_ms "$f0") -> $(_ms "$f1") ms, reverse" \
		"$(_ms "$r0") -> $(_ms "$r1") ms, offset $(_ms "$o1") +- $(_ms "$e1") ms," \
		"suspect $s0 -> $s1"
	[[ $s0 == false && $s1 == true ]]
	python3 - "$f0" "$r0" "$f1" "$r1" "$o1" "$e1" "$o0" "$e0" <<-'EOF'
	import sys
	f0, r0, f1, r1, o1, e1, o0, e0 = map(float, sys.argv[1:])
	assert abs((f1 - f0) - 50) <= 0.5, f1 - f0
	assert abs((r0 - r1) - 50) <= 0.5, r0 - r1
	assert abs(o1 - 50) <= e1, (o1, e1)
	assert abs(o0) <= e0, (o0, e0)
	EOF
}

test_rate()
{
	local o=$O/rate.json t0 t1
	reflector
	warm
	t0=${EPOCHREALTIME/./}
	owd_c -c 20000 -i 100us -j "${S[4]}" >"$o"
	t1=${EPOCHREALTIME/./}
	t_note "10,000/s: $(jq -r '"\(.sent) sent, \(.received) received in \(.duration_ms) ms, RTT mean \(.rtt_ms.mean) ms"' "$o") (wall $(((t1 - t0) / 1000)) ms)"
	[[ $(jq '.sent == 20000 and .received == 20000 and .forward.lost == 0 and
		.reverse.lost == 0 and .lost_unknown == 0' "$o") == true ]]
	# 20,000 probes at 100 us: about 2 s of sending, then the timeout
	[[ $(jq '.duration_ms < 4000' "$o") == true ]]
}

# Two sources, each within its own limit (10,000/s, burst 1,000), 4,000
# requests together in about 0.2 s against a global cap of 1,000/s (burst
# 1,000): in any window of T seconds the cap lets through at most
# 1,000 + 1,000 T requests (GCRA), T here the wall time of both runs; and
# at least the burst. Nothing is over a source's own limit; every request
# is counted once.
test_global()
{
	local t0 t1 refl glob rl recv
	reflector 863 --max-pps 1000
	warm
	lab_ping r1 -c 1 -W 2 "${S[4]}" >/dev/null
	t0=${EPOCHREALTIME/./}
	owd_c -c 2000 -i 100us --timeout 200ms -p 863 -j "${S[4]}" >"$O/global-c.json" &
	lab_exec r1 "$OWD" -c 2000 -i 100us --timeout 200ms -p 863 -j "${S[4]}" \
		>"$O/global-r1.json" || true
	wait $! || true
	t1=${EPOCHREALTIME/./}
	lab_wait 2 eval '(($(refl_counter 863 received) >= 4000))'
	refl=$(refl_counter 863 reflected) glob=$(refl_counter 863 dropped_global)
	rl=$(refl_counter 863 dropped_ratelimit) recv=$(refl_counter 863 received)
	t_note "4000 requests in $(((t1 - t0) / 1000)) ms: reflected $refl, over the global cap" \
		"$glob, over a source's limit $rl"
	((recv == 4000 && rl == 0 && refl + glob == recv))
	((refl >= 1000 && refl * 1000000 <= 1000 * 1000000 + 1000 * (t1 - t0)))
	(($(jq -s 'map(.received) | add' "$O/global-c.json" "$O/global-r1.json") == refl))
}

# has_intervals FILE N: FILE holds N interval records.
has_intervals() { (($(awk '/"type":"interval"/ { n++ } END { print n + 0 }' "$1") >= $2)); }

test_stream()
{
	local f=$O/stream.ndjson pid
	reflector
	warm
	lab_exec c "$OWD" -t 0 -i 10ms --interval-report 200ms -f ndjson "${S[4]}" >"$f" &
	pid=$!
	# three records while it still runs
	busywait 3000 has_intervals "$f" 3
	kill -0 "$pid"
	jq -e 'select(.type == "interval") | .sent > 0 and .received > 0' "$f" >/dev/null
	kill -INT "$(pgrep -f "^$OWD -t 0")"
	wait "$pid"
	t_note "ndjson: $(jq -s 'map(select(.type == "interval")) | length' "$f") interval records," \
		"then $(jq -r 'select(.type == "summary") | "\(.sent) sent, \(.received) received"' "$f")"
	[[ $(jq -s 'map(select(.type == "summary")) | length == 1 and .[0].interrupted' "$f") == true ]]
}

test_prom()
{
	reflector
	warm
	owd_c -c 10 -i 5ms -f prom "${S[4]}" >"$O/owd.prom"
	promtool check metrics <"$O/owd.prom"
	grep -q '^meshperf_owd_forward_owd_mean_seconds{' "$O/owd.prom"
	grep -q '^meshperf_owd_reverse_lost{' "$O/owd.prom"
	t_note "prom: $(grep -vc '^#' "$O/owd.prom") samples, promtool clean"
}

test_text()
{
	local h out=$O/text wide min
	t_require_wire
	reflector
	warm
	lab_delay c-r1 30ms 10ms
	for h in "${S[4]}" "${S[6]}"; do
		owd_c -c 20 -i 20ms -q "$h" >"$out"
		wide=$(wc -L <"$out")
		t_note "$h: $(wc -l <"$out") lines, the widest $wide columns;" \
			"$(awk '$1 == "RTT"' "$out" | tr -s ' ')"
		((wide <= 100))
		! grep -qi 'nan' "$out" || false
		grep -q '^RTT  ' "$out"
		grep -q '^forward  ' "$out"
		grep -q '^reverse  ' "$out"
		grep -qx 'loss: forward 0 (0.0%), reverse 0 (0.0%)' "$out"
		# the RTT min cell: 40.x ms (the wire's 40 ms and the stack's few µs)
		min=$(awk '$1 == "RTT" { print $2 }' "$out")
		[[ $min == 40.[0-9]ms || $min == 41.[0-9]ms ]]
	done
	# nothing answers: the counts and why, and the one line on stderr
	owd_c -c 2 -i 10ms -q -p 999 "${S[4]}" >"$out" 2>"$O/err" && return 1
	grep -q '^2 sent, 0 answered, in .*, no replies$' "$out"
	grep -qx "owd: no reply from ${S[4]}:999 (port unreachable: is 'owd -s' running there?)" \
		"$O/err"
}

# Everything the tests write goes to $O, removed at the end (-t pcaps stay).
mkdir -p "$O"
(t_main "$@") && rc=0 || rc=$?
rm -rf "$O"
rmdir "$T_OUT" 2>/dev/null || true
exit "$rc"
