#!/bin/bash
# SPDX-License-Identifier: MIT
#
# pathping against mtr on the same lab path at the same time: c -> s over the
# line topology with mp-wire delaying the links 5, 10 and 20 ms one way (hop
# RTTs 10, 30, 70 ms). Both send 100 probes per hop with their defaults
# (`pathping -c 100`, `mtr --report -c 100`); printed per tool: the wall
# time to a complete report, and each hop's mean RTT minus the injected RTT.
# The wires and both tools run at one real-time priority (chrt -f), so other
# load on the machine delays neither the frames nor mtr's user-space stamps.
#
#   BUILD=build bench/pathping.sh [COUNT]   (root; Markdown table on stdout)

set -e
export LANG=C LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/lab/lab.sh
. "$TOP/tests/lab/lab.sh"
case ${BUILD:-build} in
/*) PP=$BUILD/bin/pathping ;;
*) PP=$TOP/${BUILD:-build}/bin/pathping ;;
esac
COUNT=${1:-100}
S4=10.200.3.2
OUT=$(mktemp -d)
LAB_EXIT_HOOK=$BASHPID:"rm -rf $OUT"

for c in mtr jq chrt; do
	command -v "$c" >/dev/null || { echo "bench/pathping.sh: missing $c" >&2; exit 4; }
done
[[ -x $PP && -x $LAB_WIRE ]] || { echo "bench/pathping.sh: build pathping and the lab first" >&2; exit 4; }

lab_new
lab_line
lab_delay c-r1 5ms 5ms
lab_delay r1-r2 10ms 10ms
lab_delay r2-s 20ms 20ms
for l in c-r1 r1-r2 r2-s; do
	chrt -f -p 20 "$(<"$LAB_DIR/$l/wire.pid")" >/dev/null
done
lab_ping c -c 1 -W 2 "$S4" >/dev/null

# timed TOOL OUT CMD...: run CMD in c, stdout to OUT, wall seconds to OUT.s
timed()
{
	local out=$2 t0
	shift 2
	t0=${EPOCHREALTIME/./}
	LAB_TIMEOUT=$((COUNT * 2 + 60)) lab_exec c chrt -f 10 "$@" >"$out"
	echo $((${EPOCHREALTIME/./} - t0)) >"$out.s"
}

timed mtr "$OUT/mtr.json" mtr --report --json -n -c "$COUNT" "$S4" &
mtr_pid=$!
timed pathping "$OUT/pp.json" "$PP" -j -c "$COUNT" "$S4"
wait "$mtr_pid"

pp_s=$(<"$OUT/pp.json.s") mtr_s=$(<"$OUT/mtr.json.s")
echo "| tool | command | wall time (s) | hop 1 mean − 10 ms | hop 2 mean − 30 ms | hop 3 mean − 70 ms | probes per hop |"
echo "|---|---|---|---|---|---|---|"
row()
{
	local tool=$1 what=$2 us=$3 means=$4 sent=$5
	awk -v t="$tool" -v c="$what" -v us="$us" -v m="$means" -v s="$sent" 'BEGIN {
		split(m, v, " "); split("10 30 70", truth, " ")
		printf "| %s | `%s` | %.2f |", t, c, us / 1e6
		for (i = 1; i <= 3; i++) printf " %+.3f ms |", v[i] - truth[i]
		printf " %s |\n", s }'
}
row pathping "pathping -c $COUNT $S4" "$pp_s" \
	"$(jq -r '[.hops[].rtt_ms.mean] | map(tostring) | join(" ")' "$OUT/pp.json")" \
	"$(jq -r '[.hops[].sent] | map(tostring) | join("/")' "$OUT/pp.json")"
row mtr "mtr --report -c $COUNT $S4" "$mtr_s" \
	"$(jq -r '[.report.hubs[].Avg] | map(tostring) | join(" ")' "$OUT/mtr.json")" \
	"$(jq -r '[.report.hubs[].Snt] | map(tostring) | join("/")' "$OUT/mtr.json")"
awk -v a="$mtr_s" -v b="$pp_s" 'BEGIN { printf "\nRatio: pathping reported %.1f times sooner than mtr.\n", a / b }'
