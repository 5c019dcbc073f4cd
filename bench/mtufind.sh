#!/bin/bash
# SPDX-License-Identifier: MIT
#
# mtufind against its peers on the same lab paths, one after another:
#  - path MTU 1400 on the line's middle link, with the routers' ICMP and as a
#    black hole (r1 drops its frag-needed / PTB; `owd -s` reflects on s):
#    wall time and answer of mtufind, scamper `trace -M` (default waits) and
#    tracepath (-m 3), IPv4 and IPv6;
#  - the WireGuard MTU sweep (2-site mesh, local MTUs 1280..1440 step 8)
#    against nr-wg-mtu-finder's per-point method measured on one point:
#    `wg-quick down` + `wg-quick up` + `iperf3 -t 5` + `iperf3 -t 5 -R`.
#
#   BUILD=build bench/mtufind.sh        (root; writes Markdown tables to stdout)

set -e
export LANG=C LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/lab/lab.sh
. "$TOP/tests/lab/lab.sh"
case ${BUILD:-build} in
/*) B=$BUILD ;;
*) B=$TOP/${BUILD:-build} ;;
esac
MF=$B/bin/mtufind OWD=$B/bin/owd
LAB_TIMEOUT=300
OUT=$(mktemp -d)
LAB_EXIT_HOOK=$BASHPID:"rm -rf $OUT"

for c in scamper tracepath iperf3 wg-quick jq ethtool; do
	command -v "$c" >/dev/null || { echo "bench/mtufind.sh: missing $c" >&2; exit 4; }
done
[[ -x $MF && -x $OWD ]] || { echo "bench/mtufind.sh: build mtufind and owd first" >&2; exit 4; }

# timed VAR CMD...: run CMD, its stdout into $OUT/last, wall seconds into VAR.
timed()
{
	local var=$1 t0
	shift
	t0=${EPOCHREALTIME/./}
	"$@" >"$OUT/last" 2>/dev/null || true
	printf -v "$var" '%d.%02d' $(((${EPOCHREALTIME/./} - t0) / 1000000)) \
		$(((${EPOCHREALTIME/./} - t0) / 10000 % 100))
}

sc_mtu() { awk '/mtu: / { m = $0; sub(/.*\[/, "", m); sub(/\].*/, "", m);
	sub(/mtu: /, "", m); last = m } END { print (last == "" ? "-" : last) }' "$OUT/last"; }
tp_mtu() { awk '/Resume: pmtu/ { for (i = 1; i < NF; i++) if ($i == "pmtu") p = $(i + 1) }
	END { print (p == "" ? "-" : p) }' "$OUT/last"; }

lab_new
lab_line
lab_mtu r1-r2 1400
lab_exec c ethtool -K to-r1 tx off >/dev/null
lab_spawn s owd "$OWD" -s -q
lab_wait 5 lab_listening s udp 862

echo "| path | family | tool | answer | wall time (s) |"
echo "|---|---|---|---|---|"
for bh in off on; do
	what="MTU 1400, ICMP"
	if [[ $bh == on ]]; then
		lab_blackhole r1 on
		what="MTU 1400, black hole"
	fi
	for dst in 10.200.3.2 fdac:c8:3::2; do
		fam=4
		[[ $dst == *:* ]] && fam=6
		lab_flush_pmtu c
		timed t lab_exec c "$MF" -j "$dst"
		echo "| $what | IPv$fam | mtufind | $(jq -r '"\(.pmtu_bytes) (\(.probes) probes, hop \(.bottleneck_hop))"' "$OUT/last") | $t |"
		lab_flush_pmtu c
		timed t lab_exec c scamper -O text -c "trace -M" -i "$dst"
		echo "| $what | IPv$fam | scamper trace -M | $(sc_mtu) | $t |"
		lab_flush_pmtu c
		timed t lab_exec c tracepath -n -m 3 "$dst"
		echo "| $what | IPv$fam | tracepath -m 3 | $(tp_mtu) | $t |"
	done
done
lab_down

lab_new
lab_mesh 2 >/dev/null
lab_spawn site1 iperf iperf3 -s -B 10.201.1.100
lab_wait 5 lab_listening site1 tcp 5201
lab_ping site0 -c 1 -W 2 10.201.1.100 >/dev/null
timed t_sweep lab_exec site0 "$MF" sweep --wg wg0.1_v4 --peer 10.201.1.100 -f csv
rows=$(($(wc -l <"$OUT/last") - 1))
t0=${EPOCHREALTIME/./}
lab_exec site0 wg-quick down wg0.1_v4 >/dev/null 2>&1
lab_exec site0 wg-quick up wg0.1_v4 >/dev/null 2>&1
t_wgq=$(((${EPOCHREALTIME/./} - t0) / 1000))
lab_exec site0 iperf3 -c 10.201.1.100 -t 5 -J >"$OUT/up.json"
lab_exec site0 iperf3 -c 10.201.1.100 -t 5 -R -J >"$OUT/down.json"
t_seed=$(((${EPOCHREALTIME/./} - t0) / 1000))
echo
echo "| method | points | per point (ms) | all $rows points (s) |"
echo "|---|---|---|---|"
python3 -c 'import sys
rows, ts, seed, wgq = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print("| mtufind sweep (netlink MTU, 10 DF echoes, iperf3 --bidir -n 4M) | %d | %.0f | %.1f |"
      % (rows, ts * 1000 / rows, ts))
print("| seed: wg-quick down/up (%d ms) + iperf3 -t 5 each way | 1 measured | %d | %.1f |"
      % (wgq, seed, seed * rows / 1000))
print()
print("Ratio: the sweep took 1/%.0f of the seed method'"'"'s time for the same points."
      % (seed * rows / 1000 / ts))' "$rows" "$t_sweep" "$t_seed" "$t_wgq"
