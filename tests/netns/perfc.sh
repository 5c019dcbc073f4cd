#!/bin/bash
# SPDX-License-Identifier: MIT
#
# perfc in the lab: its routes against ip(8)'s, route for route; --watch
# latency against the moment `ip route add` returns (ip monitor measured in
# the same run); --diff; the mesh overview on crafted node documents.
#
#   tests/netns/perfc.sh [-v] [-p] [-t] [test...]      (-h lists the tests)
#
# Topology "bgp" (built once, by the first test that needs it):
#
#   r1 ============[r1-r2]============ r2        MTU 1500
#   10.210.0.1/24  fdac:d2::1/64       10.210.0.2/24  fdac:d2::2/64
#   bird (AS 65001): BGP import,       bird (AS 65002): static routes
#   kernel export (proto bird)         10.220.{1,2,3}.0/24, fdac:e0:{1,2}::/48
#                                      exported over BGP (v4 and v6 sessions)
#
# r1 also holds, by ip(8): static routes in tables main, 100 and 1000, IPv4
# and IPv6 multipath, blackhole / unreachable / prohibit, protocol-201
# (meshctl) routes, a preferred source.
#
# Tolerances, stated once: the route sets must be equal (no tolerance);
# --watch must deliver each record < 100 ms after `ip route add/del` returns;
# a fetch from a silent server ends after --timeout (300 ms) and less than
# 1 s later (process start-up on a busy host); a TLS handshake that never
# completes ends after --connect-timeout (300 ms), long before --timeout (10 s).

T_REQUIRE=(ip jq bird birdc python3 timeout nsenter awk openssl cc ldd)
T_TESTS=(
	"match       bgp   perfc -j equals ip -4/-6 -j route show table all, route for route"
	"filters     bgp   --table, --proto, --dev, -4/-6, prefix inside/covers vs ip's counts"
	"watch       bgp   --watch: an added and a deleted route each reported < 100 ms"
	"diff        bgp   --diff: added, removed and changed routes against a snapshot"
	"mesh        none  --nodes: loops, black holes, asymmetric paths (files and http://)"
	"mesh_clean  none  --nodes: a healthy mesh has no loop, black hole or asymmetry"
	"https       none  --nodes https:// with --cacert: the paths of http://; cert errors exit 2"
	"errors      none  bad options and bad documents: exit 2 with the value quoted"
	"prom        bgp   -f prom: routes per table, protocol and family; promtool accepts it"
	"quiet       bgp   -q: the summary only (text, json), --textfile and the exit status"
	"text        bgp   text: no column empty in every row, <= 100 columns, IPv6 aligned"
)

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

# the files the tests write go with the runner's own (pcaps of -t stay)
eval "$(declare -f _t_cleanup | sed '1s/_t_cleanup/_t_cleanup_lib/')"
_t_cleanup()
{
	find "$T_OUT" -mindepth 1 -maxdepth 1 ! -name pcap -exec rm -rf {} + 2>/dev/null || true
	_t_cleanup_lib
}

PERFC=$(realpath -m "${BUILD:-build}/bin/perfc")
[[ -x $PERFC ]] || { echo "SKIP: perfc not built ($PERFC)" >&2 && exit 4; }

# the "bgp" topology, in the lab the runner shares between tests
eval "$(declare -f _t_topology | sed '1s/_t_topology/_t_topology_lib/')"
_t_topology()
{
	[[ $1 == bgp ]] || { _t_topology_lib "$@"; return; }
	[[ -n ${LAB_ID:-} ]] || lab_new
	[[ -e $LAB_DIR/r1/pid ]] || bgp_up
}

bird_conf()
{
	local me=$1 peer=$2 me6=$3 peer6=$4 as=$5 peer_as=$6 export_static=$7
	cat <<EOF
router id $me;
log stderr all;
protocol device { scan time 1; }
EOF
	if ((export_static)); then
		cat <<EOF
protocol static st4 { ipv4; route 10.220.1.0/24 blackhole; route 10.220.2.0/24 blackhole;
	route 10.220.3.0/24 blackhole; }
protocol static st6 { ipv6; route fdac:e0:1::/48 blackhole; route fdac:e0:2::/48 blackhole; }
EOF
	else
		cat <<EOF
protocol kernel k4 { ipv4 { import none; export all; }; }
protocol kernel k6 { ipv6 { import none; export all; }; }
EOF
	fi
	cat <<EOF
template bgp peer {
	local as $as; connect delay time 1; connect retry time 1; error wait time 1, 2;
}
protocol bgp b4 from peer { neighbor $peer as $peer_as; source address $me;
	ipv4 { import all; export all; }; }
protocol bgp b6 from peer { neighbor $peer6 as $peer_as; source address $me6;
	ipv6 { import all; export all; }; }
EOF
}

bird_routes() { (($(lab_ip r1 route show proto bird | wc -l) == 3 &&
	$(lab_ip r1 -6 route show proto bird | wc -l) == 2)); }

bgp_up()
{
	lab_node_add r1 r2 && lab_link_add r1-r2 || return
	lab_addr r1 to-r2 10.210.0.1/24 && lab_addr r1 to-r2 fdac:d2::1/64 || return
	lab_addr r2 to-r1 10.210.0.2/24 && lab_addr r2 to-r1 fdac:d2::2/64 || return
	bird_conf 10.210.0.1 10.210.0.2 fdac:d2::1 fdac:d2::2 65001 65002 0 >"$LAB_DIR/r1/bird.conf"
	bird_conf 10.210.0.2 10.210.0.1 fdac:d2::2 fdac:d2::1 65002 65001 1 >"$LAB_DIR/r2/bird.conf"
	lab_spawn r1 bird bird -f -c "$LAB_DIR/r1/bird.conf" -s "$LAB_DIR/r1/bird.ctl"
	lab_spawn r2 bird bird -f -c "$LAB_DIR/r2/bird.conf" -s "$LAB_DIR/r2/bird.ctl"
	cat >"$LAB_DIR/r1/routes.batch" <<'EOF'
route add 10.230.0.0/16 via 10.210.0.2 table 100
route add blackhole 10.231.0.0/16 table 100
route add unreachable 10.232.0.0/16 table 1000
route add 10.240.0.0/16 nexthop via 10.210.0.2 weight 1 nexthop via 10.210.0.3 weight 2
route add prohibit 10.241.0.0/16
route add unreachable 10.242.0.0/16 metric 50
route add 10.201.2.0/24 via 10.210.0.2 proto 201 metric 10
route add 10.201.3.0/24 via 10.210.0.3 proto 201 table 100
route add 10.243.0.0/16 via 10.210.0.2 proto static src 10.210.0.1
route add default via 10.210.0.2 metric 100
route add fdac:e3::/48 via fdac:d2::2 table 100
route add fdac:e4::/48 nexthop via fdac:d2::2 weight 1 nexthop via fdac:d2::3 weight 3
route add blackhole fdac:e5::/48
route add prohibit fdac:e6::/48 table 1000
route add fdac:c9:2::/64 via fdac:d2::2 proto 201 metric 10
EOF
	lab_ip r1 -b "$LAB_DIR/r1/routes.batch" || return
	# BGP up and the routes in r1's kernel; bird retries every second
	lab_wait 30 bird_routes || lab_err "BGP routes did not arrive: $(lab_exec r1 \
		birdc -s "$LAB_DIR/r1/bird.ctl" show protocols 2>&1)"
}

# ---------------------------------------------------------------- normalisation

# The comparable part of a route: (table, dst, type, protocol, gateways, devs,
# metric). ip omits defaults (table main, type unicast, protocol boot, metric
# 0) and writes host routes without /32 and "default": spelled out here.
# perfc shows protocol 201 as "meshctl"; ip as "201".
JQ_IP='def full(f): if . == "default" then (if f == 4 then "0.0.0.0/0" else "::/0" end)
	elif test("/") then . else . + (if f == 4 then "/32" else "/128" end) end;
	[.[] | {table: (.table // "main"), dst: (.dst | full($f)), type: (.type // "unicast"),
	 protocol: (.protocol // "boot"),
	 gw: (if .nexthops then [.nexthops[].gateway] else [.gateway // empty] end),
	 dev: (if .nexthops then [.nexthops[].dev] else [.dev // empty] end),
	 metric: (.metric // 0)}] | sort'
JQ_PERFC='[.routes[] | select(.family == $fam) | {table, dst, type: .route_type,
	 protocol: (if .protocol == "meshctl" then "201" else .protocol end),
	 gw: (if (.nexthops | length) > 0 then [.nexthops[].gateway]
	      else [.gateway | select(. != "")] end),
	 dev: (if (.nexthops | length) > 0 then [.nexthops[].dev]
	       else [.dev | select(. != "")] end),
	 metric}] | sort'

test_match()
{
	local f fam n
	lab_exec r1 "$PERFC" -j >"$T_OUT/perfc.json"
	for f in 4 6; do
		fam=inet
		[[ $f == 6 ]] && fam=inet6
		lab_ip r1 -$f -j route show table all >"$T_OUT/ip$f.json"
		jq -c --argjson f "$f" "$JQ_IP" "$T_OUT/ip$f.json" >"$T_OUT/ip$f.norm"
		jq -c --arg fam "$fam" "$JQ_PERFC" "$T_OUT/perfc.json" >"$T_OUT/perfc$f.norm"
		n=$(jq length "$T_OUT/ip$f.norm")
		t_note "IPv$f: ip lists $n routes, perfc $(jq length "$T_OUT/perfc$f.norm")"
		diff <(jq -c '.[]' "$T_OUT/ip$f.norm") <(jq -c '.[]' "$T_OUT/perfc$f.norm")
	done
	# what the lab put there is really in it (the comparison is not vacuous)
	t_json "$T_OUT/perfc.json" '[.routes[] | select(.protocol == "bird")] | length == 5'
	t_json "$T_OUT/perfc.json" '[.routes[] | select(.protocol == "meshctl")] | length == 3'
	t_json "$T_OUT/perfc.json" '[.routes[] | select((.nexthops | length) == 2)] | length == 2'
	t_json "$T_OUT/perfc.json" '[.routes[].table] | unique | contains(["100", "1000",
		"local", "main"])'
	t_json "$T_OUT/perfc.json" '[.routes[].route_type] | unique | contains(["blackhole",
		"unreachable", "prohibit", "unicast", "local", "broadcast"])'
	t_json "$T_OUT/perfc.json" '.routes[] | select(.dst == "10.240.0.0/16") |
		.nexthops == [{"gateway":"10.210.0.2","dev":"to-r2","weight":1,"flags":[]},
			      {"gateway":"10.210.0.3","dev":"to-r2","weight":2,"flags":[]}]'
	t_json "$T_OUT/perfc.json" '.routes[] | select(.dst == "10.243.0.0/16") |
		.prefsrc == "10.210.0.1" and .protocol == "static"'
	t_json "$T_OUT/perfc.json" '.addresses == ["10.210.0.1", "fdac:d2::1"]'
}

# count ARGS...: routes perfc -j prints with ARGS.
count() { lab_exec r1 "$PERFC" -j "$@" | jq '.routes | length'; }

# ip_count ARGS...: routes ip -j prints with ARGS (both families).
ip_count()
{
	echo $(($(lab_ip r1 -4 -j route show "$@" | jq length) +
		$(lab_ip r1 -6 -j route show "$@" | jq length)))
}

test_filters()
{
	local a b
	a=$(count --table 100) b=$(ip_count table 100)
	t_note "--table 100: perfc $a, ip $b"
	((a == b && a == 4))
	(($(count --table 1000) == $(ip_count table 1000)))
	(($(count --table local) == $(ip_count table local)))
	a=$(count --proto meshctl) b=$(ip_count table all proto 201)
	t_note "--proto meshctl: perfc $a, ip $b"
	((a == b && a == 3))
	(($(count --proto 201) == a))
	(($(count --proto bird) == $(ip_count table all proto bird)))
	(($(count --dev lo) == $(ip_count table all dev lo)))
	(($(count -6 --table main) == $(lab_ip r1 -6 -j route show table main | jq length)))
	(($(count -4) == $(lab_ip r1 -4 -j route show table all | jq length)))
	# prefix: 10.220.0.0/16 holds the 3 BGP routes and is covered by default
	lab_exec r1 "$PERFC" -j 10.220.0.0/16 >"$T_OUT/prefix.json"
	t_json "$T_OUT/prefix.json" '[.routes[] | select(.match == "inside")] | length == 3'
	t_json "$T_OUT/prefix.json" '[.routes[] | select(.match == "covers") | .dst] ==
		["0.0.0.0/0"]'
	lab_exec r1 "$PERFC" -j 10.201.2.0/24 >"$T_OUT/prefix.json"
	t_json "$T_OUT/prefix.json" '[.routes[] | select(.match == "exact") | .protocol] ==
		["meshctl"]'
	# nothing matches: exit 1
	! lab_exec r1 "$PERFC" -j -6 --table 100 fdac:ffff::/32 >/dev/null || false
}

# _us US: signed microseconds as milliseconds "-0.123".
_us() { local sign=; ((($1) < 0)) && sign=-; printf '%s%d.%03d' "$sign" $((${1#-} / 1000)) $((${1#-} % 1000)); }

# stamp: prefix each line with the microsecond time it was read.
stamp() { while IFS= read -r l; do echo "${EPOCHREALTIME/./} $l"; done; }

# record_time FILE CHANGE DST: time stamp of the perfc record, or fail.
record_time()
{
	awk -v c="\"change\":\"$2\"" -v d="\"dst\":\"$3\"" \
		'index($0, c) && index($0, d) { print $1; f = 1; exit } END { exit !f }' "$1"
}

# monitor_time FILE WORD DST: time stamp of ip monitor's line (Deleted / not).
monitor_time()
{
	awk -v w="$2" -v d="$3" '$2 == "Deleted" && w == "del" && $3 == d { print $1; f = 1; exit }
		$2 != "Deleted" && w == "add" && $2 == d { print $1; f = 1; exit }
		END { exit !f }' "$1"
}

test_watch()
{
	local out=$T_OUT/watch.ndjson mon=$T_OUT/monitor.txt t0 t1 tm ts op word d ns
	local dst=10.251.0.0/16
	_lab_ns r1 ns
	: >"$out"
	: >"$mon"
	# both watchers end by themselves (-t / timeout) once the test is done
	(lab_exec r1 "$PERFC" -w -f ndjson --table 150 -t 8s | stamp >"$out") &
	(timeout 8 ip -n "$ns" monitor route | stamp >"$mon") &
	# ready when a probe route is reported (the subscriptions exist)
	warm() {
		lab_ip r1 route replace 10.250.99.0/24 dev to-r2 table 150
		lab_ip r1 route del 10.250.99.0/24 table 150
		grep -q '"dst":"10.250.99.0/24"' "$out" && grep -q 10.250.99.0/24 "$mon"
	}
	lab_wait 6 warm
	for op in add del; do
		ts=${EPOCHREALTIME/./}
		lab_ip r1 route "$op" "$dst" dev to-r2 table 150
		t0=${EPOCHREALTIME/./}
		[[ $op == add ]] && word=added || word=deleted
		lab_wait 1 record_time "$out" "$word" "$dst" >/dev/null
		lab_wait 1 monitor_time "$mon" "$op" "$dst" >/dev/null
		t1=$(record_time "$out" "$word" "$dst")
		tm=$(monitor_time "$mon" "$op" "$dst")
		# negative: the record was read before ip's ACK was (the kernel
		# notifies listeners before it answers the request)
		d=$((t1 - t0))
		t_note "$word: perfc's record at $(_us "$d") ms after ip returned," \
			"$(_us $((t1 - ts))) ms after ip started (ip monitor: $(_us $((tm - t0))) ms)"
		((d < 100000))
	done
	wait
	cut -d' ' -f2- "$out" | jq -e -s '[.[] | select(.type == "change" and
		.dst == "10.251.0.0/16") | .change] == ["added", "deleted"]' >/dev/null
	cut -d' ' -f2- "$out" | jq -e -s '.[-1].type == "summary"' >/dev/null
}

test_diff()
{
	local snap=$T_OUT/snap.json out=$T_OUT/diff.json rc=0
	lab_exec r1 "$PERFC" -j >"$snap"
	# unchanged: exit 0, nothing reported
	lab_exec r1 "$PERFC" -j --diff "$snap" >"$out"
	t_json "$out" '(.changes | length) == 0 and .added == 0 and .removed == 0'
	lab_ip r1 route del prohibit 10.241.0.0/16
	lab_ip r1 route add 10.244.0.0/16 via 10.210.0.2
	lab_ip r1 route replace 10.201.2.0/24 via 10.210.0.3 proto 201 metric 10
	lab_exec r1 "$PERFC" -j --diff "$snap" >"$out" || rc=$?
	lab_ip r1 route add prohibit 10.241.0.0/16
	lab_ip r1 route del 10.244.0.0/16
	lab_ip r1 route replace 10.201.2.0/24 via 10.210.0.2 proto 201 metric 10
	((rc == 1))
	t_json "$out" '.added == 1 and .removed == 1 and .changed == 1'
	t_json "$out" '[.changes[] | [.change, .dst]] == [["changed", "10.201.2.0/24"],
		["removed", "10.241.0.0/16"], ["added", "10.244.0.0/16"]]'
	t_json "$out" '.changes[0].gateway == "10.210.0.3" and
		(.changes[0].was | test("via 10.210.0.2 "))'
}

# ---------------------------------------------------------------- mesh

# node NAME SITE ADDR ROUTE...: a perfc/1 document; ROUTE is "DST via GW",
# "DST blackhole" or "DST dev IF".
node_doc()
{
	local name=$1 site=$2 addr=$3 r routes=()
	shift 3
	for r in "$@"; do
		read -r dst kind arg <<<"$r"
		case $kind in
		via) routes+=("{\"dst\":\"$dst\",\"gateway\":\"$arg\",\"dev\":\"wg0\"}") ;;
		blackhole) routes+=("{\"dst\":\"$dst\",\"route_type\":\"blackhole\"}") ;;
		dev) routes+=("{\"dst\":\"$dst\",\"dev\":\"$arg\",\"scope\":\"link\"}") ;;
		esac
	done
	local IFS=,
	printf '{"tool":"perfc","schema":"perfc/1","node":"%s","site":"%s",' "$name" "$site"
	printf '"addresses":["%s"],"routes":[%s]}\n' "$addr" "${routes[*]}"
}

# The crafted mesh (addresses 10.0.0.1-4 for sites 1-4):
#   A->B direct, B->A via C: asymmetric;  A->C via D, D->C via A: loop;
#   A->D blackhole route;  B has no route to D, so B->D and C->D (via B)
#   end in black holes;  D->C via A, A->C via D: loop.
test_mesh()
{
	local d=$T_OUT/mesh out=$T_OUT/mesh.json rc=0 port=18080 t0
	mkdir -p "$d"
	node_doc a site1 10.0.0.1 "10.0.0.2/32 via 10.0.0.2" "10.0.0.3/32 via 10.0.0.4" \
		"10.0.0.4/32 blackhole" >"$d/a.json"
	node_doc b site2 10.0.0.2 "10.0.0.1/32 via 10.0.0.3" "10.0.0.3/32 via 10.0.0.3" \
		>"$d/b.json"
	node_doc c site3 10.0.0.3 "10.0.0.1/32 via 10.0.0.1" "10.0.0.2/32 via 10.0.0.2" \
		"10.0.0.4/32 via 10.0.0.2" >"$d/c.json"
	node_doc d site4 10.0.0.4 "10.0.0.1/32 via 10.0.0.1" "10.0.0.2/32 via 10.0.0.2" \
		"10.0.0.3/32 via 10.0.0.1" >"$d/d.json"
	# b.json over http:// from a private namespace
	lab_new
	lab_node_add web
	lab_ip web link set lo up
	lab_spawn web http python3 -m http.server -b 127.0.0.1 -d "$d" "$port"
	lab_wait 20 lab_listening web tcp "$port"	# python starts slowly on a busy host
	lab_exec web "$PERFC" -j --nodes "$d/a.json" "http://127.0.0.1:$port/b.json" \
		"$d/c.json" "$d/d.json" >"$out" || rc=$?
	((rc == 1))	# loops and black holes found
	t_note "paths: $(jq -c '{loops, blackholes, asymmetric}' "$out")"
	t_json "$out" '.nodes == 4 and .path_count == 12 and .loops == 2 and .blackholes == 3 and
		.asymmetric == 1'
	t_json "$out" '[.paths[] | select(.status == "loop") | [.src, .dst]] | sort ==
		[["site1", "site3"], ["site4", "site3"]]'
	t_json "$out" '[.paths[] | select(.status == "blackhole") | [.src, .dst]] | sort ==
		[["site1", "site4"], ["site2", "site4"], ["site3", "site4"]]'
	t_json "$out" '[.paths[] | select(.asymmetric) | [.src, .dst]] | sort ==
		[["site1", "site2"], ["site2", "site1"]]'
	t_json "$out" '.paths[] | select(.src == "site2" and .dst == "site1") |
		.path == ["site2", "site3", "site1"]'
	t_json "$out" '.paths[] | select(.src == "site3" and .dst == "site4") |
		.reason == "no route to 10.0.0.4 at site2"'
	t_json "$out" '.matrix[] | select(.from == "site1") | .site3 == "site4 (loop)"'
	# an error page is not a document; a closed port fails; a cap holds
	! lab_exec web "$PERFC" --nodes "http://127.0.0.1:$port/nosuch.json" 2>"$T_OUT/err" ||
		false
	grep -q 'HTTP status 404' "$T_OUT/err"
	! lab_exec web "$PERFC" --nodes "http://127.0.0.1:1/x" 2>"$T_OUT/err" || false
	grep -q 'Connection refused' "$T_OUT/err"
	# a server that accepts and never answers: --timeout bounds the fetch
	lab_spawn web mute python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 18081)); s.listen(); c = s.accept(); time.sleep(30)'
	lab_wait 20 lab_listening web tcp 18081
	t0=${EPOCHREALTIME/./}
	! lab_exec web "$PERFC" --nodes --timeout 300ms "http://127.0.0.1:18081/x" \
		2>"$T_OUT/err" || false
	t0=$((${EPOCHREALTIME/./} - t0))
	t_note "silent server: gave up after $(_us "$t0") ms (--timeout 300ms)"
	grep -q 'timed out' "$T_OUT/err"
	((t0 >= 300000 && t0 < 1300000))	# + at most 1 s to start nsenter and perfc
	{ cat "$d/a.json" && printf '%2000s\n' ''; } >"$d/big.json"
	! lab_exec web "$PERFC" --nodes --max-bytes 1K "http://127.0.0.1:$port/big.json" \
		2>"$T_OUT/err" || false
	grep -q 'larger than 1024 bytes' "$T_OUT/err"
}

test_mesh_clean()
{
	local d=$T_OUT/clean out=$T_OUT/clean.json
	mkdir -p "$d"
	node_doc e "" 10.1.0.1 "10.1.0.0/24 dev eth0" >"$d/e.json"
	node_doc f "" 10.1.0.2 "10.1.0.0/24 dev eth0" >"$d/f.json"
	node_doc g "" 10.1.0.3 "10.1.0.0/24 dev eth0" "0.0.0.0/0 via 10.1.0.1" >"$d/g.json"
	"$PERFC" -j --nodes "$d/e.json" "$d/f.json" "$d/g.json" >"$out"
	t_json "$out" '.loops == 0 and .blackholes == 0 and .asymmetric == 0 and .path_count == 6'
	t_json "$out" '[.paths[].status] | unique == ["ok"]'
	t_json "$out" '[.paths[].hops] | unique == [1]'
	t_json "$out" '.matrix[0] == {"from": "e", "e": "-", "f": "f", "g": "g"}'
}

# tls_cert DIR NAME CN SAN [CA]: NAME.key and NAME.pem in DIR, self-signed
# (a CA) without CA, else signed by DIR/CA.pem.
tls_cert()
{
	local d=$1 name=$2 cn=$3 san=$4 ca=${5:-}
	if [[ -z $ca ]]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
			-subj "/CN=$cn" -keyout "$d/$name.key" -out "$d/$name.pem" 2>/dev/null
		return
	fi
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
		-keyout "$d/$name.key" -out "$d/$name.csr" 2>/dev/null
	openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca.key" \
		-CAcreateserial -days 1 -out "$d/$name.pem" \
		-extfile <(printf 'subjectAltName=%s\n' "$san") 2>/dev/null
}

# A mesh of three nodes (a black hole from site1 to site3, site1 and site2
# asymmetric) served twice from one namespace: over http:// by
# python's http.server and over https:// by openssl s_server -WWW, with a
# server certificate for 127.0.0.1 signed by a CA made here. perfc must read
# the same documents from both and print the same paths; without the CA, with
# another CA, or under a name the certificate does not hold, the fetch fails
# with curl's reason and exit 2. s_server -WWW sends no Content-Length, so
# the size cap is met in the write callback there (python sends one).
test_https()
{
	local d=$T_OUT/tls hp=18080 sp=18443 rc t0 u f
	mkdir -p "$d"
	node_doc a site1 10.0.0.1 "10.0.0.2/32 via 10.0.0.2" "10.0.0.3/32 blackhole" >"$d/a.json"
	node_doc b site2 10.0.0.2 "10.0.0.1/32 via 10.0.0.3" "10.0.0.3/32 via 10.0.0.3" \
		>"$d/b.json"
	node_doc c site3 10.0.0.3 "10.0.0.1/32 via 10.0.0.1" "10.0.0.2/32 via 10.0.0.2" \
		>"$d/c.json"
	{ cat "$d/a.json" && printf '%2000s\n' ''; } >"$d/big.json"
	tls_cert "$d" ca "meshperf lab CA" ""
	tls_cert "$d" other "another CA" ""
	tls_cert "$d" srv 127.0.0.1 "IP:127.0.0.1" ca
	lab_new
	lab_node_add tls
	lab_ip tls link set lo up
	lab_spawn tls http python3 -m http.server -b 127.0.0.1 -d "$d" "$hp"
	lab_spawn tls https bash -c 'cd "$1" && exec openssl s_server -quiet -WWW \
		-accept "127.0.0.1:$2" -cert srv.pem -key srv.key' - "$d" "$sp"
	lab_wait 20 lab_listening tls tcp "$hp"
	lab_wait 20 lab_listening tls tcp "$sp"
	# the same documents over http:// and https://: the same output
	for f in json text; do
		for u in "http://127.0.0.1:$hp" "https://127.0.0.1:$sp"; do
			rc=0
			lab_exec tls "$PERFC" -f "$f" --cacert "$d/ca.pem" --nodes "$u/a.json" \
				"$u/b.json" "$u/c.json" >"$d/out.${u%%:*}.$f" || rc=$?
			((rc == 1))	# the mesh has a black hole
		done
	done
	t_json "$d/out.https.json" '.nodes == 3 and .path_count == 6 and .blackholes == 1 and
		.asymmetric == 1'
	jq -S 'del(.time)' "$d/out.http.json" >"$d/a"
	jq -S 'del(.time)' "$d/out.https.json" >"$d/b"
	cmp "$d/a" "$d/b"
	cmp "$d/out.http.text" "$d/out.https.text"
	t_note "https with --cacert: the same $(jq .path_count "$d/out.https.json") paths as http"
	# verification is on by default: the system's CAs do not know this one
	rc=0
	lab_exec tls "$PERFC" --nodes "https://127.0.0.1:$sp/a.json" 2>"$d/err" || rc=$?
	((rc == 2))
	t_note "without --cacert: exit $rc: $(cat "$d/err")"
	grep -q "^perfc: https://127.0.0.1:$sp/a.json: SSL certificate problem: " "$d/err"
	(($(wc -l <"$d/err") == 1))
	# another CA does not verify it either; nor does a name not in the cert
	rc=0
	lab_exec tls "$PERFC" --nodes --cacert "$d/other.pem" "https://127.0.0.1:$sp/a.json" \
		2>"$d/err" || rc=$?
	((rc == 2))
	grep -q 'SSL certificate problem: ' "$d/err"
	rc=0
	lab_exec tls "$PERFC" --nodes --cacert "$d/ca.pem" "https://localhost:$sp/a.json" \
		2>"$d/err" || rc=$?
	((rc == 2))
	grep -q "certificate subject name matches target host name 'localhost'" "$d/err"
	# the cap, met in the write callback (no Content-Length from s_server)
	rc=0
	lab_exec tls "$PERFC" --nodes --cacert "$d/ca.pem" --max-bytes 1K \
		"https://127.0.0.1:$sp/big.json" 2>"$d/err" || rc=$?
	((rc == 2))
	grep -q "big.json: larger than 1024 bytes" "$d/err"
	# a server that accepts TCP and never speaks TLS: the connect timeout ends it
	lab_spawn tls mute python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 18444)); s.listen(); c = s.accept(); time.sleep(30)'
	lab_wait 20 lab_listening tls tcp 18444
	rc=0
	t0=${EPOCHREALTIME/./}
	lab_exec tls "$PERFC" --nodes --cacert "$d/ca.pem" --timeout 10s --connect-timeout 300ms \
		"https://127.0.0.1:18444/a.json" 2>"$d/err" || rc=$?
	t0=$((${EPOCHREALTIME/./} - t0))
	((rc == 2))
	t_note "silent TLS server: gave up after $(_us "$t0") ms (--connect-timeout 300ms):"
	t_note "$(cat "$d/err")"
	grep -Eq 'https://127.0.0.1:18444/a.json: .*(timed out|timeout)' "$d/err"
	((t0 >= 300000 && t0 < 1300000))	# + at most 1 s to start nsenter and perfc
}

test_errors()
{
	local rc
	for args in "--table nosuch" "--proto nosuch" "-f xml" "-t 5x -w" "10.0.0.1/33" \
		"--nodes" "--nodes --max-total 1x a.json" "--diff /nonexistent.json" \
		"-w --diff x.json" "-4 fdac::/16" "--dev nosuch0"; do
		rc=0
		# shellcheck disable=SC2086
		"$PERFC" $args >/dev/null 2>"$T_OUT/err" || rc=$?
		((rc == 2)) || { echo "perfc $args: exit $rc"; false; }
	done
	rc=0
	"$PERFC" --table nosuch 2>&1 >/dev/null | grep -q "invalid table 'nosuch'"
	echo '{"schema":"perfc/1","routes":[{"dst":"10.0.0.1/8"}]}' >"$T_OUT/bad.json"
	"$PERFC" --nodes "$T_OUT/bad.json" 2>"$T_OUT/err" >/dev/null || rc=$?
	((rc == 2))
	grep -q 'routes\[0\].dst: not a prefix' "$T_OUT/err"
	# --max-total: each document under --max-bytes, together over the cap
	node_doc e "" 10.1.0.1 "10.1.0.0/24 dev eth0" >"$T_OUT/e.json"
	node_doc f "" 10.1.0.2 "10.1.0.0/24 dev eth0" >"$T_OUT/f.json"
	printf '%1500s\n' '' | tee -a "$T_OUT/e.json" >>"$T_OUT/f.json"
	rc=0
	"$PERFC" --nodes --max-total 2K "$T_OUT/e.json" "$T_OUT/f.json" 2>"$T_OUT/err" \
		>/dev/null || rc=$?
	((rc == 2))
	grep -q 'f.json: the documents total more than 2048 bytes (--max-total)$' "$T_OUT/err"
	"$PERFC" --nodes --max-total 4K "$T_OUT/e.json" "$T_OUT/f.json" >/dev/null
	rc=0
	"$PERFC" --nodes --cacert /nonexistent.pem x.json 2>"$T_OUT/err" >/dev/null || rc=$?
	((rc == 2))
	grep -q "cacert '/nonexistent.pem': No such file" "$T_OUT/err"
	rc=0
	"$PERFC" --nodes 'http://[::1/x' 2>"$T_OUT/err" >/dev/null || rc=$?
	((rc == 2))
	grep -q 'http://\[::1/x: bad URL' "$T_OUT/err"
	# libcurl is opened at the first URL only: not linked, and a
	# libcurl.so.4 without curl's functions is named as the cause
	! ldd "$PERFC" | grep -q libcurl || false
	echo 'int not_curl;' | cc -shared -fPIC -x c -o "$T_OUT/libcurl.so.4" -
	rc=0
	LD_LIBRARY_PATH=$T_OUT "$PERFC" --nodes http://127.0.0.1:1/a.json 2>"$T_OUT/err" \
		>/dev/null || rc=$?
	((rc == 2))
	grep -q 'a.json: libcurl.so.4 has no curl_global_init$' "$T_OUT/err"
	"$PERFC" -V | grep -q '^perfc meshperf '
}

test_prom()
{
	local n
	t_require_cmd promtool
	lab_exec r1 "$PERFC" -f prom >"$T_OUT/perfc.prom"
	[[ -z $(promtool check metrics <"$T_OUT/perfc.prom" 2>&1) ]]
	# the gauges add up to the routes perfc -j lists, group by group
	lab_exec r1 "$PERFC" -j >"$T_OUT/perfc.json"
	n=$(jq '.routes | length' "$T_OUT/perfc.json")
	(($(awk '/^meshperf_perfc_tables_routes\{/ { s += $2 } END { print s }' \
		"$T_OUT/perfc.prom") == n))
	grep -q "^meshperf_perfc_routes $n\$" "$T_OUT/perfc.prom"
	grep -q '^meshperf_perfc_tables_routes{table="main",protocol="bird",family="inet"} 3$' \
		"$T_OUT/perfc.prom"
	grep -q '^meshperf_perfc_tables_routes{table="100",protocol="boot",family="inet6"} 1$' \
		"$T_OUT/perfc.prom"
	t_json "$T_OUT/perfc.json" '[.tables[] | select(.table == "main" and
		.protocol == "meshctl" and .family == "inet") | .routes] == [1]'
	t_note "$(grep -c '^meshperf_perfc_tables_routes' "$T_OUT/perfc.prom") groups, $n routes"
}

# -q as in every tool (docs/FORMATS.md, Quiet): the summary only.
test_quiet()
{
	local dir=$T_OUT/textfile n
	mkdir -p "$dir"
	n=$(count)
	# json: the document without its routes, counted all the same
	lab_exec r1 "$PERFC" -q -j --textfile "$dir" >"$T_OUT/q.json"
	t_json "$T_OUT/q.json" ".routes == null and .route_count == $n and
		([.tables[].routes] | add) == $n"
	grep -q '^meshperf_perfc_success{job="default"} 1$' "$dir/perfc-default.prom"
	grep -q '^meshperf_perfc_tables_routes{job="default",table="main",protocol="bird"' \
		"$dir/perfc-default.prom"
	# text and csv: the summary line / row only
	lab_exec r1 "$PERFC" -q >"$T_OUT/q.txt"
	[[ $(cat "$T_OUT/q.txt") == "$n routes" ]]
	lab_exec r1 "$PERFC" -q -f csv >"$T_OUT/q.csv"
	(($(wc -l <"$T_OUT/q.csv") == 2))
	# the exit status still answers: no route inside fdac:ffff::/32
	! lab_exec r1 "$PERFC" -q -6 fdac:ffff::/32 >/dev/null || false
	lab_exec r1 "$PERFC" -q 10.220.0.0/16 >"$T_OUT/q.txt"
	grep -q '^prefix 10.220.0.0/16, 4 routes$' "$T_OUT/q.txt"
}

# The text table's layout is what this test is about, so it reads the text
# (T4 otherwise): one header, every left-aligned cell starting under its
# header and every right-aligned one ending under it, no column that is "-"
# in every row, no line over 100 columns (max=N: N), r1's table with its
# multipath routes, flags, sources and five tables included.
TEXT_CHECK='
function fail(m) { print "line " NR ": " m; bad = 1; exit 1 }
NR == 1 {
	if ($1 != "dst") fail("no header")
	for (i = 1; i <= length($0); i++) {
		c = substr($0, i, 1); p = i > 1 ? substr($0, i - 1, 1) : " "
		if (c != " " && p == " ") start[++n] = i
		if (c != " " && (i == length($0) || substr($0, i + 1, 1) == " ")) end[n] = i
	}
	next
}
/^[0-9]+ routes$/ { next }
{
	if ($1 == "dst") fail("a second header")
	if (length($0) > (max ? max : 100)) fail(length($0) " columns")
	if (length($0) > widest) widest = length($0)
	for (k = 1; k <= n; k++) {
		if (k > 1 && substr($0, start[k] - 1, 1) != " ") fail("column " k " shifted")
		if (substr($0, start[k], 1) != " ") {
			cell = substr($0, start[k]); sub(/  .*/, "", cell)
		} else {
			cell = substr($0, 1, end[k]); sub(/.*  /, "", cell)
			if (substr($0, end[k], 1) == " ") fail("column " k " misaligned")
		}
		if (cell != "-") filled[k] = 1
	}
	rows++
}
END {
	if (bad) exit 1
	for (k = 1; k <= n; k++) if (!filled[k]) { print "column " k " empty"; exit 1 }
	print rows " rows, " n " columns, " widest " wide"
}'

test_text()
{
	local out
	[[ -e $LAB_DIR/t6/pid ]] || {
		lab_node_add t6 || return
		lab_ip t6 link add d0 type veth peer name d1	# no dummy module here
		lab_ip t6 link set d0 up
		lab_ip t6 link set d1 up
		lab_ip t6 addr add 10.250.0.1/24 dev d0
		lab_ip t6 addr add fdac:c9:1::1/64 dev d0 nodad
		lab_ip t6 -6 route add 2001:db8:1234:5678::/64 via fe80::1 dev d0
	}
	# an ordinary host's table has its link-local address's /128 route
	lab_wait 10 lab_exec t6 sh -c 'ip -6 route show table local | grep -q "^local fe80::"'
	lab_exec t6 "$PERFC" >"$T_OUT/t6.txt"
	out=$(awk "$TEXT_CHECK" "$T_OUT/t6.txt") || { echo "t6: $out"; cat "$T_OUT/t6.txt"; return 1; }
	t_note "t6: $out"
	grep -q '^2001:db8:1234:5678::/64  *fe80::1  *d0 ' "$T_OUT/t6.txt"
	grep -q '^fdac:c9:1::/64  *-  *d0  *kernel ' "$T_OUT/t6.txt"
	# scopes only when not the kernel's usual one for the route
	grep -q '^10.250.0.0/24  *-  *d0  *kernel  *0  src 10.250.0.1$' "$T_OUT/t6.txt"
	! grep -q 'scope' "$T_OUT/t6.txt" || false
	[[ $(head -1 "$T_OUT/t6.txt") =~ ^dst\ +via\ +dev\ +proto\ +metric\ +notes$ ]]
	# r1: multipath (the other paths as notes), flags, sources, five tables
	lab_exec r1 "$PERFC" >"$T_OUT/r1.txt"
	out=$(awk "$TEXT_CHECK" "$T_OUT/r1.txt") || { echo "r1: $out"; cat "$T_OUT/r1.txt"; return 1; }
	t_note "r1: $out"
	grep -q ' +[0-9.]*@to-r2' "$T_OUT/r1.txt"
}

t_main "$@"
