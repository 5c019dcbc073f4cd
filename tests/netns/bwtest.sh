#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bwtest in the lab: exact loss, duplicate and reordering accounting against
# the lab's nft counters, forward, reverse and both; goodput through a rate
# limit against iperf3 in the same run; authentication, caps and 50 clients.
#
#   tests/netns/bwtest.sh [-v] [-p] [-t] [test...]      (-h lists the tests)
#
# Topology "line" (every [A-B] is a wire namespace: a bridge, or mp-wire
# when delayed; impairments act on the port facing the receiving node):
#
#   c ====[c-r1]==== r1 ====[r1-r2]==== r2 ====[r2-s]==== s
#     .1  10.200.1.0/24  .2  10.200.2.0/24  .1  10.200.3.0/24  .2
#     MTU 1500 on every link
#   bwtest client on c, `bwtest -s -k KEY` on s (10.200.3.2, TCP+UDP 5121).
#   Forward = c -> s ("ab" on every link), reverse = s -> c ("ba").
#
# Impairments, each on its own link so that their counters stay exact, loss
# before duplication along the path (a dropped copy is not a lost packet):
#   loss: every Nth UDP packet dropped (nft numgen inc; counter), forward on
#         c-r1, reverse on r1-r2
#   dup:  every Nth UDP packet duplicated (nft dup; counter), forward on
#         r1-r2, reverse on c-r1
#   reorder on r2-s: mp-wire 1 ms + uniform 0..3 ms jitter, --reorder
# The nft rules match UDP only: the TCP control connection must neither be
# counted nor lose segments (its retransmissions would shift every-Nth).
#
# Tolerances, stated once: loss and duplicates exact (== the nft counters);
# reordering: > 0 reordered and 0 lost without injected loss; goodput
# through a 10 Mbit/s tbf within 3 % of iperf3 -u's received goodput,
# measured in the same run with the same payload size and offered rate.
#
# flood (issue 16): r2 (10.200.3.1) holds 100 idle control connections to
# the key server (port 5121) and 64 session requests to a --no-auth server
# on s (port 5131), reopening each one closed (tests/netns/bwtest_flood.py);
# meanwhile c and r1 run 4 clients back to back, 2 against each server,
# with every 10th UDP packet dropped on r1-r2 (the flood does not cross it).
# Bounds: every run exact (== nft); the connections the servers hold from
# r2 (ss, owned by the server process, sampled every 100 ms) never above
# the caps (key server: 4 pending per source, no session; open server: 4
# pending + 1 session); each server's VmRSS grows < 2 MiB over the flood
# (from after one session of its own, before the flood, to the flood's end).

T_REQUIRE=(ip nft tc jq iperf3 nsenter timeout python3)
T_TESTS=(
	"loss        line  every-Nth forward loss: forward.lost == nft drops, exactly"
	"dup         line  + duplicates: forward.duplicates == nft dups, loss unchanged"
	"reorder     line  jitter that reorders: reordered > 0, lost 0"
	"reverse     line  -R with loss, dup and reordering: exact, no first-interval loss"
	"bidir       line  --bidir with loss, dup and reordering both ways: exact; its text in 100 columns"
	"rate        line  10 Mbit/s tbf: goodput within 3 % of iperf3 -u"
	"auth        line  wrong/no key refused, tokenless/spoofed data dropped and counted"
	"caps        line  server caps: rate, duration, sessions; --no-auth caps"
	"clients     line  50 clients at once: separate, exact accounting"
	"flood       line  one source: 100 idle connections + 64 --no-auth sessions; 4 others exact"
)

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

case ${BUILD:-build} in
/*) BW=$BUILD/bin/bwtest ;;
*) BW=$LAB_TOP/${BUILD:-build}/bin/bwtest ;;
esac
[[ -x $BW ]] || t_skip "bwtest not built ($BW)"
SRV=10.200.3.2
KEY=$T_OUT/key
KEY2=$T_OUT/key2

keys()
{
	[[ -s $KEY ]] && return
	(umask 077 && python3 -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())' >"$KEY" &&
		python3 -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())' >"$KEY2")
}

# server [ARGS...]: bwtest -s on s (JSON summary into its log at exit).
server()
{
	keys
	lab_stop s bwsrv
	if [[ " $* " == *" --no-auth "* ]]; then
		lab_spawn s bwsrv "$BW" -s -j "$@"
	else
		lab_spawn s bwsrv "$BW" -s -k "$KEY" -j "$@"
	fi
	lab_wait "$LAB_UP_TIMEOUT" lab_listening s tcp 5121
	lab_wait "$LAB_UP_TIMEOUT" lab_listening s udp 5121
}

# server_summary: stop the server, print its JSON document.
server_summary()
{
	lab_stop s bwsrv
	cat "$LAB_DIR/s/bwsrv.log"
}

# client OUT [ARGS...]: bwtest client on c, JSON into OUT.
client() { local out=$1; shift; n c "$BW" -k "$KEY" -j "$@" "$SRV" >"$out"; }

# Loss and duplication below judge UDP only (lab_loss ... any udp, lab_dup
# ... udp): the TCP control connection keeps its packets, and the nft
# counters equal bwtest's counts exactly.
reorder() { lab_delay r2-s 1ms 1ms --jitter-ab 3ms --jitter-ba 3ms --reorder; }

warm() { lab_ping c -c 1 -W 2 "$SRV" >/dev/null; }

# check_dir FILE DIR LOSSLINK DUPLINK NFTDIR: DIR (forward|reverse) of FILE
# agrees exactly with the nft counters (either link may be "-": none).
check_dir()
{
	local f=$1 d=$2 ll=$3 dl=$4 nd=$5 sent exp rcvd lost dup reord drop=0 seen dupc=0
	read -r sent exp rcvd lost dup reord < <(jq -r ".$d | [.sent, .expected, .received,
		.lost, .duplicates, .reordered] | @tsv" "$f")
	if [[ $ll != - ]]; then
		drop=$(lab_counter "$ll" "drop_$nd") seen=$(lab_counter "$ll" "seen_$nd")
		((seen == sent))
	fi
	[[ $dl == - ]] || dupc=$(lab_counter "$dl" "dup_$nd")
	t_note "$d: sent $sent, received $rcvd, lost $lost (nft dropped $drop)," \
		"duplicates $dup (nft duplicated $dupc), reordered $reord"
	((exp == sent && lost == drop && rcvd == sent - drop && dup == dupc))
	t_json "$f" ".$d.reconciled == true" >/dev/null
	# interval losses add up to the summary's: never netted, none taken back
	t_json "$f" "([.intervals[]? | select(.direction == \"$d\") | .lost] | add // 0) ==
		.$d.lost" >/dev/null
}

test_loss()
{
	server
	warm
	lab_loss c-r1 ab nth 10 any udp
	client "$T_OUT/loss.json" --pps 2000 -l 200 -t 2
	check_dir "$T_OUT/loss.json" forward c-r1 - ab
	(($(jq .forward.lost "$T_OUT/loss.json") == 400))
}

test_dup()
{
	server
	warm
	lab_loss c-r1 ab nth 10 any udp
	lab_dup r1-r2 ab nth 7 udp
	client "$T_OUT/dup.json" --pps 2000 -l 200 -t 2
	check_dir "$T_OUT/dup.json" forward c-r1 r1-r2 ab
	(($(jq .forward.duplicates "$T_OUT/dup.json") > 0))
}

test_reorder()
{
	t_require_wire
	server
	reorder
	warm
	client "$T_OUT/reorder.json" --pps 2000 -l 200 -t 2
	check_dir "$T_OUT/reorder.json" forward - - ab
	t_json "$T_OUT/reorder.json" '.forward.reordered > 0 and .forward.lost == 0 and
		.forward.late == 0' >/dev/null
}

test_reverse()
{
	t_require_wire
	server
	reorder
	warm
	lab_loss r1-r2 ba nth 10 any udp
	lab_dup c-r1 ba nth 7 udp
	client "$T_OUT/reverse.json" -R --pps 2000 -l 200 -t 2
	check_dir "$T_OUT/reverse.json" reverse r1-r2 c-r1 ba
	t_json "$T_OUT/reverse.json" '.reverse.reordered > 0' >/dev/null
}

test_bidir()
{
	t_require_wire
	server
	reorder
	warm
	lab_loss c-r1 ab nth 10 any udp
	lab_dup r1-r2 ab nth 7 udp
	lab_loss r1-r2 ba nth 10 any udp
	lab_dup c-r1 ba nth 7 udp
	client "$T_OUT/bidir.json" --bidir --pps 2000 -l 200 -t 2 -P 2
	check_dir "$T_OUT/bidir.json" forward c-r1 r1-r2 ab
	check_dir "$T_OUT/bidir.json" reverse r1-r2 c-r1 ba
	t_json "$T_OUT/bidir.json" '.forward.reordered > 0 and .reverse.reordered > 0' >/dev/null
	# the same as text: iperf3-like lines within 100 columns, every 10th lost
	n c "$BW" -k "$KEY" --bidir --pps 2000 -l 200 -t 2 -P 2 "$SRV" >"$T_OUT/bidir.txt"
	t_note "text: the widest of $(wc -l <"$T_OUT/bidir.txt") lines $(wc -L <"$T_OUT/bidir.txt")" \
		"columns; $(grep '^forward ' "$T_OUT/bidir.txt" | tr -s ' ')"
	(($(wc -L <"$T_OUT/bidir.txt") <= 100))
	[[ $(awk '$1 == "forward" || $1 == "reverse" { print $1, $5 }' "$T_OUT/bidir.txt" |
		tr '\n' ' ') == "forward (10%) reverse (10%) " ]]
	grep -q '^fwd  0.00-1.00 s ' "$T_OUT/bidir.txt"
}

test_rate()
{
	local ip bw
	lab_rate r1-r2 ab 10mbit
	server
	warm
	lab_spawn s iperf3 iperf3 -s -1 -B "$SRV"
	lab_wait "$LAB_UP_TIMEOUT" lab_listening s tcp 5201
	# -w 4M: socket buffers like bwtest's, so a busy host's scheduling
	# hiccups do not drop packets inside iperf3's own receiver
	n c iperf3 -u -c "$SRV" -b 20M -l 1472 -w 4M -t 3 -J >"$T_OUT/iperf3.json"
	client "$T_OUT/rate.json" -b 20M -l 1472 -t 3
	# iperf3's receiver: packets that arrived, over its receiver's time
	ip=$(jq '.end.sum_received | (.packets - .lost_packets) * 1472 * 8 / .seconds | floor' \
		"$T_OUT/iperf3.json")
	bw=$(jq '.forward.rate_bps | floor' "$T_OUT/rate.json")
	t_note "iperf3: $(jq -c '.end.sum_received | {packets, lost_packets, seconds}' \
		"$T_OUT/iperf3.json"); bwtest: $(jq -c '.forward | {sent, lost}' "$T_OUT/rate.json")"
	t_note "10 Mbit/s tbf, 20 Mbit/s offered: bwtest goodput $((bw / 1000)) kbit/s," \
		"iperf3 -u $((ip / 1000)) kbit/s"
	((bw <= 10000000 && ip <= 10000000))
	((100 * (bw - ip) <= 3 * ip && 100 * (ip - bw) <= 3 * ip))
}

test_auth()
{
	local rc=0 err=$T_OUT/auth.err
	server
	warm
	# a wrong key: refused with a clear message, exit 2, no data phase
	n c "$BW" -k "$KEY2" -j -t 1 "$SRV" >/dev/null 2>"$err" || rc=$?
	((rc == 2))
	grep -q "refused: authentication failed: wrong key" "$err"
	rc=0
	# no key at all
	n c "$BW" -j -t 1 "$SRV" >/dev/null 2>"$err" || rc=$?
	((rc == 2))
	grep -q "requires a key" "$err"
	# 300 data packets without a valid token: garbage, well-formed with a
	# random token, and a valid-looking header with token 0
	n c python3 - "$SRV" <<-'EOF'
	import os, socket, struct, sys
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	for i in range(100):
	    s.sendto(os.urandom(64)[:1] + b"x" * 63 if i % 2 else b"\x00" * 10, (sys.argv[1], 5121))
	    s.sendto(struct.pack(">BBHIQQ", 0xb1, 1, 0, i, int.from_bytes(os.urandom(8), "big"), 0) + b"\0" * 40, (sys.argv[1], 5121))
	    s.sendto(struct.pack(">BBHIQQ", 0xb1, 1, 0, i, 0, 0) + b"\0" * 40, (sys.argv[1], 5121))
	EOF
	# a good client still works next to it
	client "$T_OUT/auth.json" --pps 100 -t 1
	t_json "$T_OUT/auth.json" '.forward.lost == 0 and .forward.received == 100' >/dev/null
	server_summary >"$T_OUT/auth-srv.json"
	t_note "server: $(jq -c '{rejected_auth, sessions_accepted, udp}' "$T_OUT/auth-srv.json")"
	t_json "$T_OUT/auth-srv.json" '.rejected_auth == 1 and .sessions_accepted == 1 and
		.udp.dropped_token + .udp.dropped_malformed == 300 and
		.udp.received == 300 + 100' >/dev/null
}

# session_up: a control connection to the server is established.
session_up() { [[ -n $(lab_exec s ss -Htn state established '( sport = :5121 )') ]]; }

test_caps()
{
	local rc=0
	server --max-rate 2M --max-duration 1s --max-sessions 1
	warm
	client "$T_OUT/caps.json" -b 50M -l 1000 -t 5 &
	# a second session while the first runs: busy
	busywait 5000 session_up
	n c "$BW" -k "$KEY" -j -t 1 "$SRV" >/dev/null 2>"$T_OUT/busy.err" || rc=$?
	wait $!
	((rc == 2))
	grep -q "busy" "$T_OUT/busy.err"
	t_json "$T_OUT/caps.json" '.granted_rate_bps == 2000000 and .duration_ms < 1100 and
		.forward.sent == 250 and .forward.rate_bps <= 2000000' >/dev/null
	t_note "capped: granted $(jq .granted_rate_bps "$T_OUT/caps.json") bit/s," \
		"$(jq .duration_ms "$T_OUT/caps.json") ms, sent $(jq .forward.sent "$T_OUT/caps.json")"
	# --no-auth: 1 Mbit/s and 10 s at most
	server --no-auth
	n c "$BW" -j -b 100M -l 1000 -t 1 "$SRV" >"$T_OUT/noauth.json"
	t_json "$T_OUT/noauth.json" '.granted_rate_bps == 1000000 and .forward.sent == 125' \
		>/dev/null
}

test_clients()
{
	local i pids=() sum_lost sum_rcvd sum_sent drop seen
	# 50 clients of one host connect within milliseconds: more than the
	# default 4 unauthenticated connections per source (bwtest.1)
	server --max-pending 64 --max-pending-per-source 50
	warm
	lab_loss c-r1 ab nth 10 any udp
	for i in $(seq 1 50); do
		client "$T_OUT/cl$i.json" --pps 200 -l 100 -t 2 --interval-report 0 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	read -r sum_sent sum_rcvd sum_lost < <(jq -s -r '[(map(.forward.sent) | add),
		(map(.forward.received) | add), (map(.forward.lost) | add)] | @tsv' "$T_OUT"/cl*.json)
	drop=$(lab_counter c-r1 drop_ab) seen=$(lab_counter c-r1 seen_ab)
	t_note "50 clients: sent $sum_sent, received $sum_rcvd, lost $sum_lost (nft: $seen" \
		"seen, $drop dropped)"
	((sum_sent == 50 * 400 && seen == sum_sent && sum_lost == drop))
	((sum_rcvd == sum_sent - drop))
	(($(jq -s 'map(select(.forward.reconciled and .forward.sent == 400)) | length' \
		"$T_OUT"/cl*.json) == 50))
	server_summary >"$T_OUT/clients-srv.json"
	t_json "$T_OUT/clients-srv.json" '.sessions_completed == 50 and
		([.sessions[].rx_lost] | add) == '"$drop" >/dev/null
}

FLOOD_PY=$(cd "$(dirname "$0")" && pwd)/bwtest_flood.py
FLOODER=10.200.3.1	# r2, on the r2-s link
OPEN_PORT=5131

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# held PORT: established control connections from the flooder that the
# server on PORT holds (sockets owned by a process: not the accept queue).
held()
{
	lab_exec s ss -Htnp state established "( sport = :$1 )" dst "$FLOODER" |
		grep -c 'users:' || true
}

# flood_up: the flood holds connections to both servers.
flood_up() { (($(held 5121) > 0 && $(held $OPEN_PORT) > 0)); }

# sampler FILE STOP: "key open" held counts every 100 ms until STOP exists.
sampler()
{
	while [[ ! -e $2 ]]; do
		echo "$(held 5121) $(held $OPEN_PORT)" >>"$1"
		_lab_nap 0.1
	done
}

test_flood()
{
	local kpid opid rk0 ro0 rk1 ro1 i node port f spid mk mo
	local runs=("c 5121" "r1 $OPEN_PORT" "c $OPEN_PORT" "r1 5121")
	server
	lab_stop s bwopen
	lab_spawn s bwopen "$BW" -s -j --no-auth -p "$OPEN_PORT"
	lab_wait "$LAB_UP_TIMEOUT" lab_listening s tcp "$OPEN_PORT"
	read -r kpid <"$LAB_DIR/s/bwsrv.pid"
	read -r opid <"$LAB_DIR/s/bwopen.pid"
	warm
	lab_ping r1 -c 1 -W 2 "$SRV" >/dev/null
	lab_ping r2 -c 1 -W 2 "$SRV" >/dev/null
	# one session on each server first: the first session's receiver
	# state (about 2 MiB: delay samples, stream tables) is the server's
	# working set, not growth under the flood
	n c "$BW" -k "$KEY" -j --pps 400 -l 200 -t 1 "$SRV" >/dev/null
	n c "$BW" -j -p "$OPEN_PORT" --pps 400 -l 200 -t 1 "$SRV" >/dev/null
	rk0=$(rss_kib "$kpid") ro0=$(rss_kib "$opid")
	lab_spawn r2 flood timeout 120 python3 "$FLOOD_PY" "$SRV" 5121 100 "$OPEN_PORT" 64 40 \
		"$T_OUT/flood.stats"
	busywait 10000 flood_up || { echo "held: $(held 5121) $(held $OPEN_PORT)";
		lab_exec s ss -tnp; cat "$LAB_DIR/r2/flood.log"; false; }
	sampler "$T_OUT/held" "$T_OUT/held.stop" &
	spid=$!
	for i in "${!runs[@]}"; do
		read -r node port <<<"${runs[i]}"
		f=$T_OUT/flood$i.json
		lab_loss r1-r2 ab nth 10 any udp
		if ((port == 5121)); then
			n "$node" "$BW" -k "$KEY" -j --pps 400 -l 200 -t 2 "$SRV" >"$f"
		else
			n "$node" "$BW" -j -p "$port" --pps 400 -l 200 -t 2 "$SRV" >"$f"
		fi
		check_dir "$f" forward r1-r2 - ab
		(($(jq .forward.sent "$f") == 800))
	done
	touch "$T_OUT/held.stop"
	wait "$spid"
	rk1=$(rss_kib "$kpid") ro1=$(rss_kib "$opid")
	lab_stop r2 flood
	read -r mk mo < <(awk '$1 > k { k = $1 } $2 > o { o = $2 } END { print k + 0, o + 0 }' \
		"$T_OUT/held")
	server_summary >"$T_OUT/flood-key.json"
	lab_stop s bwopen
	cp "$LAB_DIR/s/bwopen.log" "$T_OUT/flood-open.json"
	t_note "flood: $(cat "$T_OUT/flood.stats" 2>/dev/null)"
	t_note "held from r2, most of $(wc -l <"$T_OUT/held") samples: key server $mk," \
		"open server $mo; VmRSS kiB key $rk0 -> $rk1, open $ro0 -> $ro1"
	t_note "key: $(jq -c '[.admission, .refused, .reject_records] | add |
		{pending_admitted, sessions_admitted, evicted, handshake_timeout, written,
		suppressed}' "$T_OUT/flood-key.json")"
	t_note "open: $(jq -c '[.admission, .refused, .reject_records] | add |
		{pending_admitted, sessions_admitted, evicted, sessions_source, written,
		suppressed}' "$T_OUT/flood-open.json")"
	((mk <= 4 && mo <= 5))
	((rk1 - rk0 < 2048 && ro1 - ro0 < 2048))
	# the flood was one: it reopened what was closed, and was refused
	t_json "$T_OUT/flood-key.json" '.admission.pending_admitted > 200 and
		.refused.evicted + .refused.handshake_timeout > 100 and
		.admission.sessions_admitted == 3 and (.sessions | length) == 3 and
		([.sessions[] | select(.complete)] | length) == 3 and
		([.rejects[] | select(.peer | startswith("'"$FLOODER"':"))] | length) > 0' \
		>/dev/null
	t_json "$T_OUT/flood-open.json" '.refused.sessions_source > 0 and
		([.sessions[] | select(.peer | startswith("'"$FLOODER"':") | not)] | length) == 3
		and ([.sessions[] | select(.complete)] | length) == 3' >/dev/null
}

t_main "$@"
