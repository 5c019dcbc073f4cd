#!/bin/bash
# SPDX-License-Identifier: MIT
#
# meshperf demo: a 4-site WireGuard mesh in network namespaces with a slow
# link, a lossy link and a lowered MTU; prints what it built and how to
# enter it, pings every pair over every tunnel, then tears it down (KEEP=1
# keeps it). `make demo` runs it as `BUILD=build tests/lab/demo.sh`.
#
#   tests/lab/demo.sh [up]      build, show, ping, tear down (or keep: KEEP=1)
#   tests/lab/demo.sh down ID   tear down a kept lab
#   tests/lab/demo.sh list      labs present on this machine
#
# Each meshperf tool adds its own step to demo_tools when it lands.

set -e
export LANG=C LC_ALL=C
# shellcheck source=tests/lab/lab.sh
. "$(dirname "$0")/lab.sh"

SITES=${SITES:-4}
case ${BUILD:-build} in
/*) DEMO_BIN=${BUILD}/bin ;;
*) DEMO_BIN=$(cd "$(dirname "$0")/../.." && pwd)/${BUILD:-build}/bin ;;
esac
DEMO_OUT=${DEMO_OUT:-$DEMO_BIN/../demo}
SLOW=site0-site1	# 25 ms each way
LOSSY=site1-site2	# 2 % random loss each way
NARROW=site2-site3	# underlay MTU 1400: full-size tunnel packets no longer fit

die()
{
	echo "demo.sh: $*" >&2
	exit 2
}

usage()
{
	sed -n '/^#   tests/p' "$0" | sed 's/^#//'
}

demo_impair()
{
	lab_delay "$SLOW" 25ms 25ms
	lab_loss "$LOSSY" both random 20
	lab_mtu "$NARROW" 1400
}

demo_show()
{
	local x y z ifn a4 p4 ep
	echo "== built"
	lab_show
	echo
	echo "== tunnels (config: $LAB_DIR/site<X>/wireguard/wgX.Y_vZ.conf," \
		"also the node's /etc/wireguard)"
	printf '  %-10s %-28s %-28s %s\n' tunnel "inner (local)" "inner (peer)" endpoint
	for ((x = 0; x < SITES; x++)); do
		for ((y = 0; y < SITES; y++)); do
			((x != y)) || continue
			for z in 4 6; do
				lab_wg_name "$x" "$y" "$z" ifn
				lab_wg_addr "$x" "$y" "$z" 4 a4 && lab_wg_addr "$y" "$x" "$z" 4 p4
				ep=$(awk -F' = ' '$1 == "Endpoint" { print $2 }' \
					"$LAB_DIR/site$x/wireguard/$ifn.conf")
				printf '  %-10s %-28s %-28s %s\n' "$ifn" \
					"$a4 $(lab_wg_addr "$x" "$y" "$z" 6)" \
					"$p4 $(lab_wg_addr "$y" "$x" "$z" 6)" "$ep"
			done
		done
	done
	echo
	echo "== enter a site (net, mount and UTS namespaces; wg show works there):"
	echo "  nsenter -t $(<"$LAB_DIR/site0/pid") -n -m -u wg show"
	echo "  nsenter -t $(<"$LAB_DIR/site0/pid") -n -m -u bash"
}

# demo_pings: the matrix, RTT ms and loss % for each tunnel and inner family.
demo_pings()
{
	local x y z inner sent recv avg key
	local -A cell=()
	echo
	echo "== ping matrix: 5 probes per tunnel and inner family (avg RTT ms / loss %)"
	while read -r x y z inner sent recv avg; do
		printf -v cell["$x.$y.$z.$inner"] '%3d.%02d %3d%%' $((avg / 1000)) \
			$((avg % 1000 / 10)) $(((sent - recv) * 100 / (sent ? sent : 1)))
	done < <(lab_mesh_pings 5)
	printf '  %-16s %-13s %-13s %-13s %-13s\n' "" "_v4 inner v4" "_v4 inner v6" \
		"_v6 inner v4" "_v6 inner v6"
	for ((x = 0; x < SITES; x++)); do
		for ((y = 0; y < SITES; y++)); do
			((x != y)) || continue
			printf '  site%d -> site%-3d' "$x" "$y"
			for key in 4.4 4.6 6.4 6.6; do
				printf ' %-13s' "${cell[$x.$y.$key]:-?}"
			done
			echo
		done
	done
}

# demo_mtu: full-size (1420-byte) tunnel packets, DF inside, over the
# narrow pair and over another. wireguard-go sends its outer packets without
# DF, so the narrow underlay fragments them: FragCreates tells.
demo_mtu()
{
	local a b sent recv avg f0 link
	echo
	echo "== full-size tunnel packets (1420 bytes; outer 1480 over IPv4):"
	for link in "$NARROW" site0-site2; do
		a=${link%%-*} b=${link#*-} a=${a#site} b=${b#site}
		f0=$(lab_snmp "site$a" Ip.FragCreates)
		read -r sent recv avg < <(lab_ping "site$a" -Mdo -s 1392 -c 2 -i 0.2 -W 1 \
			"$(lab_wg_addr "$b" "$a" 4 4)")
		printf '  wg%d.%d_v4: %d of %d answered, %d outer fragments (underlay %s, mtu %s)\n' \
			"$a" "$b" "$recv" "$sent" $(($(lab_snmp "site$a" Ip.FragCreates) - f0)) "$link" \
			"$(lab_ip "site$a" -j link show "to-site$b" | jq '.[0].mtu')"
	done
}

# demo_run NODE TOOL ARGS...: one tool in a site; a tool that measures a
# failure (exit 1) does not stop the demo.
demo_run()
{
	local node=$1 tool=$2 rc=0
	shift 2
	echo "\$ $tool $*"
	lab_exec "$node" "$DEMO_BIN/$tool" "$@" || rc=$?
	((rc == 0)) || echo "($tool exited $rc)"
}

# demo_tools: every tool on the mesh, each across the impairment it shows
# best; plots go to DEMO_OUT (default build/demo).
demo_tools()
{
	local out key x sent recv avg
	mkdir -p "$DEMO_OUT"
	out=$(cd "$DEMO_OUT" && pwd)
	key=$LAB_DIR/demo.key
	(umask 077 && wg genkey >"$key")

	echo
	echo "== owd: one-way delay site0 -> site1 through wg0.1_v4 ($SLOW: 25 ms each way)"
	lab_spawn site1 owd "$DEMO_BIN/owd" -s -q
	lab_wait 5 lab_listening site1 udp 862
	demo_run site0 owd -q -c 200 -i 10ms --plot "$out/owd.png" "$(lab_wg_addr 1 0 4 4)"

	echo
	echo "== pathping: site0 -> site1 through the tunnel"
	demo_run site0 pathping -c 20 -i 20ms "$(lab_wg_addr 1 0 4 4)"

	echo
	echo "== bwtest: site1 -> site2 through wg1.2_v4 ($LOSSY: 2 % loss each way)"
	lab_spawn site2 bwtest "$DEMO_BIN/bwtest" -s -k "$key"
	lab_wait 5 lab_listening site2 tcp 5121
	demo_run site1 bwtest -k "$key" -b 20M -t 3 --plot "$out/bwtest.png" \
		"$(lab_wg_addr 2 1 4 4)"

	echo
	echo "== mtufind: the outer path of wg2.3_v4 ($NARROW: underlay MTU 1400)"
	demo_run site2 mtufind --wg wg2.3_v4

	echo
	echo "== meshctl: every site measures its tunnels and routes the others' nets"
	echo "   ($SLOW is 25 ms each way: its sites move to a relay after the dwell time)"
	for ((x = 0; x < SITES; x++)); do
		lab_spawn "site$x" meshctl "$DEMO_BIN/meshctl" run -q -k "$key"
	done
	lab_wait 30 lab_mesh_relayed 0 1 && lab_wait 10 lab_mesh_relayed 1 0 ||
		echo "(site0 and site1 did not relay within 40 s)"
	demo_run site0 meshctl show paths
	demo_run site0 meshctl show links
	read -r sent recv avg < <(lab_ping site0 -c 5 -i 0.2 -W 1 10.201.1.1)
	printf '$ ping 10.201.1.1 (site1, through the relay): %d/%d answered, %d.%03d ms\n' \
		"$recv" "$sent" $((avg / 1000)) $((avg % 1000))

	echo
	echo "== perfc: site0's IPv4 routes (protocol 201: meshctl's)"
	demo_run site0 perfc -4

	echo
	echo "== plots: $out/owd.png $out/bwtest.png"
}

demo_up()
{
	((EUID == 0)) || die "run as root (sudo make demo)"
	[[ -x $LAB_WIRE ]] || die "no delay wire at $LAB_WIRE: run make first"
	lab_reap
	lab_new
	echo "demo.sh: building a $SITES-site mesh (lab $LAB_ID) ..."
	lab_mesh "$SITES"
	demo_impair
	demo_show
	demo_pings
	demo_mtu
	demo_tools
	echo
	if [[ ${KEEP:-0} == 1 ]]; then
		lab_keep
		echo "== kept. Tear down with: sudo $0 down $LAB_ID"
	else
		echo "== tearing down (KEEP=1 keeps the lab)"
		lab_down
	fi
}

case ${1:-up} in
up) demo_up ;;
down)
	[[ -n ${2:-} ]] || die "down needs a lab id (demo.sh list)"
	((EUID == 0)) || die "run as root"
	lab_use "$2" || exit 2
	lab_down "$2"
	echo "demo.sh: lab $2 removed"
	;;
list)
	for d in "$LAB_BASE"/mp*; do
		[[ -e $d/owner ]] && echo "${d##*/} (owner: $(<"$d/owner"))"
	done
	true
	;;
-h | --help | help) usage ;;
*) usage >&2 && exit 2 ;;
esac
