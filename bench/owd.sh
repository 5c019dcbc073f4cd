#!/bin/bash
# SPDX-License-Identifier: MIT
#
# owd against irtt on the same lab path at the same time: c -> s over the
# line topology with mp-wire delaying c-r1 by 20 ms forward and 5 ms
# reverse. For 1,000 and 10,000 packets/s (5 s each), prints per tool the
# error of each direction's mean against the injected delay, the packets
# answered, and the CPU time (user + system, GNU time) of the client. The
# reflector / server side is not timed.
#
#   BUILD=build bench/owd.sh        (root; writes a Markdown table to stdout)

set -e
export LANG=C LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/lab/lab.sh
. "$TOP/tests/lab/lab.sh"
case ${BUILD:-build} in
/*) OWD=$BUILD/bin/owd ;;
*) OWD=$TOP/${BUILD:-build}/bin/owd ;;
esac
FWD_MS=20 REV_MS=5 SECS=5
S4=10.200.3.2
OUT=$(mktemp -d)
LAB_EXIT_HOOK=$BASHPID:"rm -rf $OUT"

for c in irtt jq python3; do
	command -v "$c" >/dev/null || { echo "bench/owd.sh: missing $c" >&2; exit 4; }
done
[[ -x $OWD && -x $LAB_WIRE ]] || { echo "bench/owd.sh: build owd and the lab first" >&2; exit 4; }

lab_new
lab_line
lab_delay c-r1 "${FWD_MS}ms" "${REV_MS}ms"
lab_spawn s owd "$OWD" -s -q
lab_spawn s irtt irtt server -b "$S4" -i 0
lab_wait 5 lab_listening s udp 862
lab_wait 5 lab_listening s udp 2112
lab_ping c -c 1 -W 2 "$S4" >/dev/null

# cpu_of FILE: "user+sys" seconds from GNU time's -f '%U %S' last line.
cpu_of() { tail -n 1 "$1" | awk '{ printf "%.2f", $1 + $2 }'; }

echo "| rate | tool | forward mean − truth (ms) | reverse mean − truth (ms) | answered / sent | CPU (s) | CPU per packet (µs) |"
echo "|---|---|---|---|---|---|---|"
# row TOOL PPS FWD_MEAN_MS REV_MEAN_MS RECEIVED SENT CPU_S
row()
{
	python3 -c 'import sys
t, pps, f, r, rx, tx, cpu = sys.argv[1:]
print("| %s/s | %s | %.3f | %.3f | %s / %s | %s | %.1f |" % (pps, t, float(f) - '"$FWD_MS"',
      float(r) - '"$REV_MS"', rx, tx, cpu, float(cpu) * 1e6 / max(int(tx), 1)))' "$@"
}
for pps in 1000 10000; do
	iv=$((1000000 / pps))us n=$((pps * SECS))
	LAB_TIMEOUT=60 lab_exec c /usr/bin/time -f '%U %S' -o "$OUT/irtt.time" \
		irtt client -Q -i "$iv" -d "${SECS}s" -o "$OUT/irtt.json" "$S4" &
	LAB_TIMEOUT=60 lab_exec c /usr/bin/time -f '%U %S' -o "$OUT/owd.time" \
		"$OWD" -c "$n" -i "$iv" -j "$S4" >"$OUT/owd.json"
	wait $!
	# shellcheck disable=SC2046
	row owd "$pps" $(jq -r '[.forward.owd_ms.mean, .reverse.owd_ms.mean, .received,
		.sent] | @tsv' "$OUT/owd.json") "$(cpu_of "$OUT/owd.time")"
	# shellcheck disable=SC2046
	row irtt "$pps" $(jq -r '.stats | [.send_delay.mean / 1e6, .receive_delay.mean / 1e6,
		.packets_received, .packets_sent] | @tsv' "$OUT/irtt.json") \
		"$(cpu_of "$OUT/irtt.time")"
done
lab_down
