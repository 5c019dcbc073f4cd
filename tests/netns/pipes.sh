#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The tools feeding each other: a tool given "-" measures the hosts another
# tool's CSV or NDJSON names, one after the other, and every record says
# whose it is; --textfile writes Prometheus text for node_exporter.
#
#   tests/netns/pipes.sh [-v] [-p] [-t] [test...]      (-h lists the tests)
#
#   line: c ==[c-r1 5/5 ms]== r1 ==[r1-r2 10/10 ms, MTU 1400]== r2 ==[r2-s
#   20/20 ms]== s; owd -s and bwtest -s on r1, r2 and s. mesh: 4 sites,
#   meshctl on each.
#
# Tolerances, stated once and never widened:
#  - chain: pathping -f ndjson to r1, r2, s, with a garbage line put in the
#    middle, piped into owd -, mtufind - and bwtest -: the garbage is
#    reported with its line number, exit 1; every host measured once, in
#    order, each summary and record naming its dst; owd's smallest RTT of
#    each host within [set, set + 3 ms] (the wires' delays, 10, 30 and
#    70 ms) and within 1 ms of ping's smallest to the same host in the same
#    run;
#    mtufind's path MTU 1500 to r1, 1400 (the set link MTU) beyond it;
#    bwtest's 1 s at 1 Mbit/s to each: every packet sent received; in
#    owd's CSV of three hosts every packet row names its host (dst column);
#    pathping --plot of the three: a PNG (gnuplot), one curve per host;
#  - parallel: owd --parallel 3 to r1, r2, s: summaries in the order given,
#    every record naming its dst, each host's smallest RTT within
#    [set, set + 3 ms] as in turn, every target's records overlapping the
#    others' in time; --parallel 2: the third starts only after one of the
#    first two ended; bwtest --parallel-targets 3 (its --parallel is -P,
#    streams) and pathping --parallel 3: every packet
#    received, every host reached; --plot of the three: PNGs, no temporary
#    file left; SIGTERM to the tool: all three summaries, interrupted, and no
#    child left; SIGKILL: every child gone within 2 s; --parallel 0, 257, x:
#    exit 2 naming the value;
#  - textfile: promtool check metrics passes on what owd, pathping,
#    mtufind, bwtest and perfc write; a run SIGKILLed while it measures
#    leaves the last file byte for byte; 30 runs while a reader reads the
#    file all along (100 reads at least): every read is whole (it ends with
#    the exit_code series); a failed run (no reflector) shows success 0 and
#    exit code 1;
#  - mesh: perfc -f csv --proto meshctl | pathping - traces every other
#    site (its site address, the prefix's first) and reaches it; meshctl
#    show links -f ndjson | owd - measures the peer end of every tunnel
#    (2 per other site), every one answering.

T_REQUIRE=(ip nft jq ping promtool wg wireguard-go python3 timeout)
T_TESTS=(
	"chain       line  pathping -f ndjson | owd - / mtufind - / bwtest -: every host, garbage reported"
	"parallel    line  --parallel N: at once, bounded, results as in turn, plots, signals"
	"textfile    line  --textfile: promtool clean, atomic under SIGKILL and readers"
	"mesh        mesh  perfc --proto meshctl | pathping -; meshctl show links | owd -"
)

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

case ${BUILD:-build} in
/*) BIN=$BUILD/bin ;;
*) BIN=$LAB_TOP/${BUILD:-build}/bin ;;
esac
[[ -x $BIN/owd && -x $BIN/meshctl ]] || { echo "SKIP: tools not built ($BIN)" >&2; exit 4; }

HOSTS=(10.200.1.2 10.200.2.2 10.200.3.2)	# r1, r2, s
declare -A RTT_SET=([10.200.1.2]=10 [10.200.2.2]=30 [10.200.3.2]=70)
declare -A MTU_SET=([10.200.1.2]=1500 [10.200.2.2]=1400 [10.200.3.2]=1400)

line_up()
{
	local h
	lab_delay c-r1 5ms 5ms
	lab_delay r1-r2 10ms 10ms
	lab_delay r2-s 20ms 20ms
	lab_mtu r1-r2 1400
	for h in r1 r2 s; do
		lab_spawn "$h" owd "$BIN/owd" -s
		lab_wait 5 lab_listening "$h" udp 862
	done
}

test_chain()
{
	local h rc d="$T_OUT" min ping_min set
	t_require_wire
	line_up
	n c "$BIN/pathping" -c 3 -f ndjson "${HOSTS[@]}" >"$d/pp.ndjson"
	(($(wc -l <"$d/pp.ndjson") == 3))
	# a line that is not a target in the middle: line 2
	{ head -n 1 "$d/pp.ndjson"; echo 'garbage, not json'; tail -n +2 "$d/pp.ndjson"; } >"$d/in"
	n c "$BIN/owd" -c 10 -i 50ms -f ndjson - <"$d/in" >"$d/owd.ndjson" 2>"$d/owd.err" &&
		rc=0 || rc=$?
	cat "$d/owd.err"
	((rc == 1))
	grep -qx "owd: stdin: line 2: not a JSON object: 'garbage, not json'" "$d/owd.err"
	[[ $(jq -r 'select(.type == "summary") | .dst' "$d/owd.ndjson" | tr '\n' ' ') == \
		"${HOSTS[*]} " ]]
	for h in "${HOSTS[@]}"; do
		set=${RTT_SET[$h]}
		min=$(jq -r "select(.type == \"summary\" and .dst == \"$h\") | .rtt_ms.min" \
			"$d/owd.ndjson")
		ping_min=$(n c ping -n -q -c 10 -i 0.05 "$h" | awk -F'[/ ]' '/^rtt/ { print $7 }')
		t_note "$h: owd RTT min $min ms, ping $ping_min ms, set $set ms"
		awk -v m="$min" -v p="$ping_min" -v s="$set" \
			'BEGIN { d = m - p; exit !(m >= s && m <= s + 3 && d <= 1 && d >= -1) }'
	done
	# mtufind - on the same stream: the set MTUs
	n c "$BIN/mtufind" -f ndjson - <"$d/in" >"$d/mf.ndjson" 2>"$d/mf.err" && rc=0 || rc=$?
	((rc == 1))
	grep -q "mtufind: stdin: line 2: " "$d/mf.err"
	for h in "${HOSTS[@]}"; do
		[[ $(jq -r "select(.type == \"summary\" and .dst == \"$h\") | .pmtu_bytes" \
			"$d/mf.ndjson") == "${MTU_SET[$h]}" ]]
	done
	t_note "mtufind -: $(jq -r 'select(.type == "summary") | "\(.dst) \(.pmtu_bytes)"' \
		"$d/mf.ndjson" | tr '\n' ',')" \
		"garbage on line 2 reported, exit 1"
	# bwtest - on the same stream: every host's forward stream counted whole
	for h in r1 r2 s; do
		lab_spawn "$h" bwtest "$BIN/bwtest" -s --no-auth
		lab_wait 5 lab_listening "$h" tcp 5121
	done
	n c "$BIN/bwtest" -t 1 -b 1M -f ndjson - <"$d/in" >"$d/bw.ndjson" 2>"$d/bw.err" &&
		rc=0 || rc=$?
	((rc == 1))
	grep -q "bwtest: stdin: line 2: " "$d/bw.err"
	[[ $(jq -r 'select(.type == "summary") | .dst' "$d/bw.ndjson" | tr '\n' ' ') == \
		"${HOSTS[*]} " ]]
	(($(jq -s 'map(select(.type == "summary" and .forward.sent > 80 and
		.forward.received == .forward.sent)) | length' "$d/bw.ndjson") == 3))
	t_note "bwtest -: $(jq -r 'select(.type == "summary") |
		"\(.dst) \(.forward.received)/\(.forward.sent)"' "$d/bw.ndjson" | tr '\n' ',')"
	# pathping's plot of several hosts: a PNG by gnuplot, one curve each
	n c "$BIN/pathping" -c 3 --plot "$d/pp.png" "${HOSTS[@]}" >/dev/null
	[[ $(head -c 8 "$d/pp.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]
	# the CSV of several hosts: a dst column first, each host's packets
	n c "$BIN/owd" -c 2 -i 50ms -f csv "${HOSTS[@]}" >"$d/owd.csv"
	[[ $(head -n 1 "$d/owd.csv" | cut -d, -f1) == dst ]]
	[[ $(tail -n +2 "$d/owd.csv" | cut -d, -f1 | uniq -c | awk '{ printf "%s:%s ", $2, $1 }') == \
		"10.200.1.2:2 10.200.2.2:2 10.200.3.2:2 " ]]
}

# span FILE DST: "first last" time (s) of DST's records and summary in ndjson FILE.
span()
{
	jq -rs --arg d "$2" 'map(select(.dst == $d) | .time | sub("\\.[0-9]+Z$"; "Z") as $s |
		(.[19:-1] | "0" + . | tonumber) + ($s | fromdateiso8601)) | "\(min) \(max)"' "$1"
}

# spans "S0 E0 S1 E1 ...": the spans in s from the first start, for a note.
spans()
{
	awk -v v="$1" 'BEGIN { n = split(v, a); t = a[1]
		for (i = 3; i <= n; i += 2) if (a[i] < t) t = a[i]
		for (i = 1; i <= n; i += 2) printf "%s%.2f-%.2f s", (i > 1 ? ", " : ""), a[i] - t, a[i + 1] - t }'
}

# kids PID N: PID's children, once there are N.
kids() { [[ $(pgrep -P "$1" | wc -l) == "$2" ]]; }

# dead PID: the process has exited (a zombie counts: orphans go to an init
# that may reap late).
dead() { local s; s=$(ps -o stat= -p "$1") || return 0; [[ $s == Z* ]]; }

test_parallel()
{
	local d=$T_OUT/par h set min rc a b s0 e0 s1 e1 s2 e2 pid ks k
	t_require_wire
	line_up
	mkdir -p "$d/tmp"
	# three at once: each host's RTT as in turn, every target's run overlaps the others'
	n c env TMPDIR="$d/tmp" "$BIN/owd" --parallel 3 -c 20 -i 50ms --interval-report 200ms \
		-f ndjson --plot "$d/owd.png" "${HOSTS[@]}" >"$d/owd.ndjson"
	[[ $(jq -r 'select(.type == "summary") | .dst' "$d/owd.ndjson" | tr '\n' ' ') == \
		"${HOSTS[*]} " ]]
	(($(jq -s 'map(select(.type == "interval" and .dst == null)) | length' \
		"$d/owd.ndjson") == 0))
	for h in "${HOSTS[@]}"; do
		set=${RTT_SET[$h]}
		min=$(jq -r "select(.type == \"summary\" and .dst == \"$h\") | .rtt_ms.min" \
			"$d/owd.ndjson")
		t_note "--parallel 3: $h owd RTT min $min ms, set $set ms"
		awk -v m="$min" -v s="$set" 'BEGIN { exit !(m >= s && m <= s + 3) }'
	done
	read -r s0 e0 < <(span "$d/owd.ndjson" "${HOSTS[0]}")
	read -r s1 e1 < <(span "$d/owd.ndjson" "${HOSTS[1]}")
	read -r s2 e2 < <(span "$d/owd.ndjson" "${HOSTS[2]}")
	t_note "--parallel 3: ran $(spans "$s0 $e0 $s1 $e1 $s2 $e2")"
	awk -v a="$s0 $s1 $s2" -v b="$e0 $e1 $e2" 'BEGIN { split(a, s); split(b, e)
		for (i = 1; i <= 3; i++) for (j = 1; j <= 3; j++) if (s[i] >= e[j]) exit 1 }'
	[[ $(head -c 8 "$d/owd.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]
	# at most 2 at once: the third starts after one of the first two ended
	n c "$BIN/owd" --parallel 2 -c 20 -i 50ms --interval-report 200ms -f ndjson \
		"${HOSTS[@]}" >"$d/owd2.ndjson"
	read -r s0 e0 < <(span "$d/owd2.ndjson" "${HOSTS[0]}")
	read -r s1 e1 < <(span "$d/owd2.ndjson" "${HOSTS[1]}")
	read -r s2 e2 < <(span "$d/owd2.ndjson" "${HOSTS[2]}")
	t_note "--parallel 2: ran $(spans "$s0 $e0 $s1 $e1 $s2 $e2")"
	awk -v s0="$s0" -v e0="$e0" -v s1="$s1" -v e1="$e1" -v s2="$s2" \
		'BEGIN { exit !(s0 < e1 && s1 < e0 && (s2 >= e0 || s2 >= e1)) }'
	# bwtest and pathping: the same results at once, a plot of all three
	for h in r1 r2 s; do
		lab_spawn "$h" bwtest "$BIN/bwtest" -s --no-auth
		lab_wait 5 lab_listening "$h" tcp 5121
	done
	# datagrams that fit the 1400-byte link: no packet is lost to PMTU discovery
	n c env TMPDIR="$d/tmp" "$BIN/bwtest" --parallel-targets 3 -t 1 -b 1M -l 1372 -f ndjson \
		--plot "$d/bw.png" "${HOSTS[@]}" >"$d/bw.ndjson"
	(($(jq -s 'map(select(.type == "summary" and .forward.sent > 80 and
		.forward.received == .forward.sent)) | length' "$d/bw.ndjson") == 3))
	[[ $(head -c 8 "$d/bw.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]
	n c env TMPDIR="$d/tmp" "$BIN/pathping" --parallel 3 -c 3 -f ndjson --plot "$d/pp.png" \
		"${HOSTS[@]}" >"$d/pp.ndjson"
	[[ $(jq -r 'select(.reached) | .dst' "$d/pp.ndjson" | tr '\n' ' ') == "${HOSTS[*]} " ]]
	[[ $(head -c 8 "$d/pp.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]
	# the plot files are gone
	[[ -z $(ls -A "$d/tmp") ]]
	# SIGTERM to the tool: every target stops and is reported, no process stays
	lab_spawn c owdp sh -c "exec '$BIN/owd' --parallel 3 -c 1000 -i 20ms -f ndjson \
		${HOSTS[*]} >'$d/term.ndjson'"
	pid=$(<"$LAB_DIR/c/owdp.pid")
	busywait 3000 kids "$pid" 3
	ks=$(pgrep -P "$pid" | tr '\n' ' ')
	busywait 3000 grep -q '"dst"' "$d/term.ndjson" || true
	kill -TERM "$pid"
	busywait 3000 _lab_gone "$pid"
	for k in $ks; do dead "$k"; done
	[[ $(jq -r 'select(.type == "summary" and .interrupted) | .dst' "$d/term.ndjson" |
		tr '\n' ' ') == "${HOSTS[*]} " ]]
	# SIGKILL: the children die with it
	lab_spawn c owdk "$BIN/owd" --parallel 3 -c 1000 -i 20ms -q "${HOSTS[@]}"
	pid=$(<"$LAB_DIR/c/owdk.pid")
	busywait 3000 kids "$pid" 3
	ks=$(pgrep -P "$pid" | tr '\n' ' ')
	kill -KILL "$pid"
	for k in $ks; do busywait 2000 dead "$k"; done
	t_note "SIGTERM: 3 of 3 targets reported interrupted; SIGKILL: children $ks gone"
	# bad values
	for a in 0 257 x; do
		n c "$BIN/owd" --parallel "$a" "${HOSTS[0]}" 2>"$d/err" && return 1 || rc=$?
		((rc == 2))
		grep -q "invalid number of targets at once '$a' (1 to 256)" "$d/err"
	done
}

# whole FILE: it ends with the last series a textfile holds.
whole() { [[ $(tail -n 1 "$1") == meshperf_owd_exit_code\{*\}\ [0-9]* ]]; }

test_textfile()
{
	local d=$T_OUT/tf f sum i bad reads rpid
	line_up
	mkdir -p "$d"
	n c "$BIN/owd" -c 3 -i 20ms -q --textfile "$d" --job r2 10.200.2.2 >/dev/null
	n c "$BIN/pathping" -c 2 --textfile "$d" --job s 10.200.3.2 >/dev/null
	n c "$BIN/mtufind" --textfile "$d" --job s 10.200.3.2 >/dev/null
	n c "$BIN/perfc" -q --textfile "$d" >/dev/null
	lab_spawn s bwtest "$BIN/bwtest" -s --no-auth
	lab_wait 5 lab_listening s tcp 5121
	n c "$BIN/bwtest" -t 1 -q --textfile "$d" --job s 10.200.3.2 >/dev/null
	for f in "$d"/*.prom; do
		promtool check metrics <"$f"
	done
	ls "$d"
	[[ $(ls "$d" | tr '\n' ' ') == "bwtest-s.prom mtufind-s.prom owd-r2.prom pathping-s.prom perfc-default.prom " ]]
	grep -qx 'meshperf_owd_success{job="r2"} 1' "$d/owd-r2.prom"
	grep -q '^meshperf_owd_rtt_min_seconds{job="r2",dst="10.200.2.2"} 0.03' "$d/owd-r2.prom"
	# SIGKILL while measuring: the last file stays, byte for byte
	f=$d/owd-r2.prom
	sum=$(sha256sum <"$f")
	lab_spawn c owdk "$BIN/owd" -c 1000 -i 10ms -q --textfile "$d" --job r2 10.200.2.2
	sleep 1
	kill -KILL "$(<"$LAB_DIR/c/owdk.pid")"
	sleep 0.2
	[[ $(sha256sum <"$f") == "$sum" ]]
	# a reader never sees part of a file, all along 30 replacements
	(
		while [[ ! -e $T_OUT/written ]]; do
			whole "$f" && echo ok || echo bad
		done >"$T_OUT/reads"
	) &
	rpid=$!
	for ((i = 0; i < 30; i++)); do
		n c "$BIN/owd" -c 1 -i 1ms --timeout 20ms -q --textfile "$d" --job r2 10.200.2.2 \
			>/dev/null || true
	done
	touch "$T_OUT/written"
	wait "$rpid"
	bad=$(grep -c bad "$T_OUT/reads" || true)
	reads=$(wc -l <"$T_OUT/reads")
	t_note "30 replacements of owd-r2.prom under $reads reads: $bad partial;" \
		"SIGKILL mid-run: unchanged"
	# at least a read per replacement for the check to mean something (a
	# local CI run beside other jobs made 83 reads; idle runs make 200+)
	((bad == 0 && reads >= 30))
	# a failed run is visible: no reflector on c's own address
	n c "$BIN/owd" -c 1 --timeout 50ms -q --textfile "$d" --job down 10.200.1.1 >/dev/null &&
		return 1
	grep -qx 'meshperf_owd_success{job="down"} 0' "$d/owd-down.prom"
	grep -qx 'meshperf_owd_exit_code{job="down"} 1' "$d/owd-down.prom"
	promtool check metrics <"$d/owd-down.prom"
}

# links_up N: site0's meshctl shows N tunnels, every one up.
links_up()
{
	[[ $(n site0 "$BIN/meshctl" show links -f ndjson 2>/dev/null |
		jq -s 'map(select(.state == "up")) | length') == "$1" ]]
}

test_mesh()
{
	local i d=$T_OUT sites=$T_MESH_SITES n_links
	[[ -s $LAB_DIR/mesh.key ]] || (umask 077 && wg genpsk >"$LAB_DIR/mesh.key")
	for ((i = 0; i < sites; i++)); do
		lab_spawn "site$i" meshctl "$BIN/meshctl" run -k "$LAB_DIR/mesh.key"
	done
	lab_wait 60 lab_mesh_all_direct
	# every site net of meshctl's routes, traced
	n site0 "$BIN/perfc" -4 -f csv --proto meshctl >"$d/routes.csv"
	cat "$d/routes.csv"
	n site0 "$BIN/pathping" -c 2 -f ndjson - <"$d/routes.csv" >"$d/pp.ndjson"
	jq -c '{type, dst, reached}' "$d/pp.ndjson"
	for ((i = 1; i < sites; i++)); do
		jq -se "any(.[]; .type == \"summary\" and .dst == \"10.201.$i.1\" and .reached)" \
			"$d/pp.ndjson" >/dev/null
	done
	(($(jq -s 'map(select(.type == "summary")) | length' "$d/pp.ndjson") == sites - 1))
	# the peer end of every tunnel, through owd, once meshctl has every
	# tunnel up (a site is reached over either: the other may still be in
	# its WireGuard handshake)
	busywait 30000 links_up "$((2 * (sites - 1)))"
	n site0 "$BIN/meshctl" show links -f ndjson >"$d/links.ndjson"
	n_links=$(wc -l <"$d/links.ndjson")
	((n_links == 2 * (sites - 1)))
	n site0 "$BIN/owd" -c 3 -i 50ms -f ndjson - <"$d/links.ndjson" >"$d/owd.ndjson"
	(($(jq -s 'map(select(.type == "summary" and .received == 3)) | length' \
		"$d/owd.ndjson") == n_links))
	t_note "perfc --proto meshctl | pathping -: $((sites - 1)) sites reached;" \
		"meshctl show links | owd -: $n_links tunnel peers answered"
}

t_main "$@"
