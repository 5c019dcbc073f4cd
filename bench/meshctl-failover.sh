#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Failover time of meshctl against BIRD 2's Babel on the same lab mesh and
# the same failure. The 4-site wireguard-go full mesh of tests/lab/lab.sh
# (lab_mesh 4: two tunnels per pair, outer IPv4 and IPv6, one underlay wire
# per pair); the failure is the silent one of tests/netns/meshctl.sh
# (test_failover): lab_wg_silent on one pair's wire, both directions, so
# WireGuard data is dropped while handshakes pass and every interface stays
# up. Per trial, from site A to site B:
#
#   ping -D -i 0.01 10.201.B.1 and `ip -ts monitor route` on A; a random
#   wait of 0..1 s; lab_wg_silent A-B both on; t0 once its rule is in
#   place (tests/lab/lab.sh lab_mesh_failover, shared with the tests); then
#   (a) route: t0 to the first route of B's IPv4 net 10.201.B.0/24 on A
#       that leaves the direct tunnels wgA.B_v4 / wgA.B_v6 (ip monitor);
#   (b) answer: t0 to the first ping answered after t0 + 20 ms (replies in
#       flight at t0 arrive within 20 ms);
#   then restore. The pairs take turns (0-1 2-3 0-2 1-3 0-3 1-2, as in
#   test_failover); before its next turn a pair must be back on its direct
#   tunnels, in both directions.
#
# Babel runs first: one bird per site, Babel on all its wg* tunnels (each
# given an IPv6 link-local address fe80::X:Y:Z/64, which these layer-3 TUN
# devices lack), hello interval 1 s, update interval 4 s (IHU interval 3 s,
# BIRD's default of 3 hellos), type wired, the rest BIRD's defaults. Each
# site announces its nets as static unreachable routes (10.201.X.0/24,
# fdac:c9:X::/64); Babel's routes go to the main table as protocol bird,
# metric 64 (meshctl: protocol 201, metric 20). The RTT metric extension
# (rtt cost/min/max/decay, send timestamps) is used when this bird accepts
# it (bird -p); BIRD 2.0.12 does not, and then Babel's default metric is
# used and the output says so. Then bird is stopped, its routes flushed, and
# meshctl runs on the same lab (`meshctl run -k KEY --dwell 2s --hold-down
# 3s`, as test_failover) for the same trials. Last, the two together:
# `meshctl run --bird` feeding BIRD's Babel its tunnel costs, with the
# bird.conf of `meshctl gen bird` (tests/netns/meshctl-bird.sh). No two of
# the three run at once.
#
#   BUILD=build bench/meshctl-failover.sh [TRIALS]
#       (root; default 10 trials per tool; Markdown table on stdout,
#        progress on stderr; about 5 minutes on 2 CPUs)

set -e
export LANG=C LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/lab/lab.sh
. "$TOP/tests/lab/lab.sh"
case ${BUILD:-build} in
/*) MC=$BUILD/bin/meshctl ;;
*) MC=$TOP/${BUILD:-build}/bin/meshctl ;;
esac
TRIALS=${1:-10}
SITES=4
PAIRS=(0:1 2:3 0:2 1:3 0:3 1:2)
HELLO=1 UPDATE=4	# Babel timers, seconds
BIRD_METRIC=64		# kernel metric of Babel's routes (meshctl: 20)
OUT=$(mktemp -d)
LAB_EXIT_HOOK=$BASHPID:"rm -rf $OUT"

for c in bird birdc ip nft jq wg wireguard-go python3 ping; do
	command -v "$c" >/dev/null || { echo "bench/meshctl-failover.sh: missing $c" >&2; exit 4; }
done
[[ -x $MC ]] || { echo "bench/meshctl-failover.sh: no $MC (make all)" >&2; exit 4; }
[[ $TRIALS =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/meshctl-failover.sh [TRIALS]" >&2; exit 2; }

say() { echo "meshctl-failover: $*" >&2; }

# ---------------------------------------------------------------- versions, RTT

bird_v=$(bird --version 2>&1 | head -n 1)
bird_pkg=$(dpkg-query -W -f '${Version}' bird2 2>/dev/null || echo '?')
mc_v=$("$MC" -V 2>&1 | head -n 1)
wg_pkg=$(dpkg-query -W -f '${Version}' wireguard-go 2>/dev/null || echo '?')
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')

# The RTT extension (draft-ietf-babel-rtt-extension, RFC 9616) came to BIRD
# after 2.0.12; ask this bird's own parser whether it knows the options.
RTT_OPTS='rtt cost 96; rtt min 10 ms; rtt max 120 ms; rtt decay 42; send timestamps yes;'
cat >"$OUT/rtt.conf" <<EOF
router id 10.201.0.1;
protocol device { }
protocol babel { ipv4; ipv6; interface "wg*" { type wired; $RTT_OPTS }; }
EOF
if bird -p -c "$OUT/rtt.conf" >"$OUT/rtt.err" 2>&1; then
	RTT=yes
	BABEL_METRIC="RTT extension: $RTT_OPTS"
else
	RTT=no RTT_OPTS=
	BABEL_METRIC="default (wired, rxcost 96): this bird has NO RTT extension, its parser rejects \`rtt cost\` ($(sed -n 's/^bird: [^:]*:/line /p' "$OUT/rtt.err" | head -n 1))"
fi
say "Babel metric: $BABEL_METRIC"

# ---------------------------------------------------------------- helpers

# direct / relayed PROTO S D, all_direct PROTO: tests/lab/lab.sh's.
direct() { lab_mesh_direct "$2" "$3" "$1"; }
relayed() { lab_mesh_relayed "$2" "$3" "$1"; }
all_direct() { lab_mesh_all_direct "$1"; }

# trials PROTO: TRIALS trials, the pairs taking turns.
trials()
{
	local k p x y f=$OUT/${2:-$1}
	: >"$f"
	for ((k = 0; k < TRIALS; k++)); do
		p=${PAIRS[k % ${#PAIRS[@]}]} x=${p%:*} y=${p#*:}
		lab_wait 150 eval "direct $1 $x $y && direct $1 $y $x" ||
			say "${2:-$1}: pair $x-$y not back on its direct tunnels within 150 s"
		lab_mesh_failover "$x" "$y" "$1" "$f" 40 ||
			say "${2:-$1}: pair $x-$y not relayed within 40 s"
		say "${2:-$1} trial $x-$y: $(tail -n 1 "$f") (route s, answer s, lost after)"
	done
}

# ---------------------------------------------------------------- Babel

# bird_conf X: site X's bird.conf.
bird_conf()
{
	local x=$1 x6
	printf -v x6 '%x' "$x"
	cat <<EOF
# site$x, meshperf lab $LAB_ID (bench/meshctl-failover.sh)
log stderr all;
router id 10.201.$x.1;
protocol device { scan time 10; }
protocol static own4 { ipv4; route 10.201.$x.0/24 unreachable; }
protocol static own6 { ipv6; route fdac:c9:$x6::/64 unreachable; }
protocol kernel k4 {
	metric $BIRD_METRIC;
	ipv4 { import none; export where source = RTS_BABEL; };
}
protocol kernel k6 {
	metric $BIRD_METRIC;
	ipv6 { import none; export where source = RTS_BABEL; };
}
protocol babel mesh {
	debug { events };
	ipv4 { import all; export all; };
	ipv6 { import all; export all; };
	interface "wg*" {
		type wired;
		hello interval $HELLO s;
		update interval $UPDATE s;
		$RTT_OPTS
	};
}
EOF
}

# ll_batch X add|del: ip -b lines for site X's tunnels' link-local addresses.
ll_batch()
{
	local x=$1 y z ifn
	for ((y = 0; y < SITES; y++)); do
		((x != y)) || continue
		for z in 4 6; do
			lab_wg_name "$x" "$y" "$z" ifn
			echo "addr $2 fe80::$x:$y:$z/64 dev $ifn${3:+ $3}"
		done
	done
}

babel_start()
{
	local x
	for ((x = 0; x < SITES; x++)); do
		ll_batch "$x" add nodad >"$LAB_DIR/site$x/ll.add"
		lab_ip "site$x" -b "$LAB_DIR/site$x/ll.add"
		bird_conf "$x" >"$LAB_DIR/site$x/bird.conf"
		lab_spawn "site$x" bird bird -f -c "$LAB_DIR/site$x/bird.conf" \
			-s "$LAB_DIR/site$x/bird.ctl"
	done
}

# babel_neighbors X: how many Babel neighbours site X has (hellos crossed).
babel_neighbors()
{
	lab_exec "site$1" birdc -s "$LAB_DIR/site$1/bird.ctl" show babel neighbors |
		grep -c '^fe80::' || true
}

all_neighbors()
{
	local x
	for ((x = 0; x < SITES; x++)); do
		(($(babel_neighbors "$x") == 2 * (SITES - 1))) || return 1
	done
}

# babel_full: every neighbour of every site has a full hello history (16 of
# the last 16 received), as a link that has been up for a while has.
babel_full()
{
	local x
	for ((x = 0; x < SITES; x++)); do
		lab_exec "site$x" birdc -s "$LAB_DIR/site$x/bird.ctl" show babel neighbors |
			awk '/^fe80::/ { n++; if ($5 != 16) bad = 1 } END { exit bad || n == 0 }' ||
			return 1
	done
}

babel_stop()
{
	local x
	for ((x = 0; x < SITES; x++)); do
		lab_stop "site$x" bird
		lab_ip "site$x" route flush proto bird
		lab_ip "site$x" -6 route flush proto bird
		ll_batch "$x" del >"$LAB_DIR/site$x/ll.del"
		lab_ip "site$x" -b "$LAB_DIR/site$x/ll.del"
	done
}

# ---------------------------------------------------------------- meshctl

mc_deciding() { lab_exec "site$1" "$MC" status -j 2>/dev/null | jq -e '.deciding' >/dev/null; }

mc_start()
{
	local i
	(umask 077 && wg genpsk >"$LAB_DIR/mesh.key")
	for ((i = 0; i < SITES; i++)); do
		lab_spawn "site$i" meshctl "$MC" run -k "$LAB_DIR/mesh.key" --dwell 2s --hold-down 3s
	done
	for ((i = 0; i < SITES; i++)); do
		lab_wait 10 mc_deciding "$i"
	done
}

mc_stop()
{
	local i
	for ((i = 0; i < SITES; i++)); do
		lab_stop "site$i" meshctl
		lab_ip "site$i" route flush proto 201
		lab_ip "site$i" -6 route flush proto 201
	done
}

# ---------------------------------------------------------------- meshctl --bird

# mcbird_start: BIRD's Babel fed by meshctl (meshctl run --bird, bird.conf
# from meshctl gen bird, the same link-local addresses as plain Babel).
mcbird_start()
{
	local x d
	for ((x = 0; x < SITES; x++)); do
		d=$LAB_DIR/site$x
		ll_batch "$x" add nodad >"$d/ll.add"
		lab_ip "site$x" -b "$d/ll.add"
		{
			echo "log stderr all;"
			lab_exec "site$x" "$MC" gen bird --bird-include "$d/babel.conf"
		} >"$d/mcbird.conf"
		lab_spawn "site$x" meshctl "$MC" run --bird "$d/bird.ctl" \
			--bird-include "$d/babel.conf" --dwell 2s --hold-down 3s
	done
	for ((x = 0; x < SITES; x++)); do
		d=$LAB_DIR/site$x
		lab_wait 10 test -e "$d/babel.conf"
		lab_spawn "site$x" bird bird -f -c "$d/mcbird.conf" -s "$d/bird.ctl"
	done
}

mcbird_stop()
{
	mc_stop
	babel_stop
}

# ---------------------------------------------------------------- run

lab_new
lab_mesh "$SITES"
lab_mesh_pings 1 >/dev/null	# every tunnel's first handshake

say "Babel: bird on $SITES sites, hello ${HELLO} s, update ${UPDATE} s"
babel_start
lab_wait 30 all_neighbors || { say "Babel hellos do not cross every tunnel"; exit 1; }
lab_wait 30 all_direct bird || { say "Babel: no direct routes everywhere"; exit 1; }
nbrs=$(babel_neighbors 0)
lab_wait 60 babel_full || say "Babel: some hello histories are not full (16/16)"
trials bird
babel_stop

say "meshctl: run on $SITES sites, --dwell 2s --hold-down 3s"
mc_start
lab_wait 30 all_direct 201 || { say "meshctl: no direct routes everywhere"; exit 1; }
trials 201
mc_stop

say "meshctl --bird: BIRD's Babel with meshctl's tunnel costs on $SITES sites"
mcbird_start
lab_wait 60 all_direct bird || { say "meshctl --bird: no direct routes everywhere"; exit 1; }
trials bird mcbird
mcbird_stop
lab_down

# ---------------------------------------------------------------- report

echo "Machine: $(nproc) CPUs ($cpu), Linux $(uname -r), $(date -u +%Y-%m-%d)"
echo "Versions: $bird_v (Debian bird2 $bird_pkg); $mc_v; wireguard-go $wg_pkg"
echo "Mesh: lab_mesh $SITES (wireguard-go, 2 tunnels per pair); failure: lab_wg_silent PAIR both on;" \
	"$TRIALS trials per tool, pairs in turn ${PAIRS[*]}"
echo "Babel: BIRD, hello interval $HELLO s, update interval $UPDATE s, IHU interval" \
	"$((3 * HELLO)) s, type wired; $nbrs neighbours per site; metric: $BABEL_METRIC"
echo "meshctl: run -k KEY --dwell 2s --hold-down 3s (probes 1 s, 100 ms after a miss, down after 3 misses)"
echo "meshctl --bird: run --bird SOCKET --dwell 2s --hold-down 3s, bird.conf from meshctl gen bird"
echo
python3 - "$OUT/bird" "$OUT/201" "$RTT" "$OUT/mcbird" <<'EOF'
import statistics, sys
def load(f):
    rows = [tuple(float(v) for v in l.split()) for l in open(f) if l.strip()]
    return [r[0] for r in rows], [r[1] for r in rows], [int(r[2]) for r in rows]
b, m, mb = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[4])
name = 'Babel (BIRD, RTT metric)' if sys.argv[3] == 'yes' else 'Babel (BIRD, default metric, no RTT)'
print('| tool | trials | (a) route change median (s) | (a) max (s) | (b) first answer median (s) | (b) max (s) | pings lost after the first answer |')
print('|---|---|---|---|---|---|---|')
for n, (r, a, l) in ((name, b), ('meshctl', m), ('meshctl --bird (BIRD Babel, meshctl costs)', mb)):
    print('| %s | %d | %.3f | %.3f | %.3f | %.3f | %d |' % (n, len(r), statistics.median(r), max(r),
          statistics.median(a), max(a), sum(x for x in l if x > 0)))
print()
rr = statistics.median(b[0]) / statistics.median(m[0])
ra = statistics.median(b[1]) / statistics.median(m[1])
print('Ratio of medians, Babel / meshctl: (a) route change %.1f, (b) first answer %.1f' % (rr, ra))
print('Ratio of medians, Babel / meshctl --bird: (a) route change %.1f, (b) first answer %.1f' %
      (statistics.median(b[0]) / statistics.median(mb[0]), statistics.median(b[1]) / statistics.median(mb[1])))
print()
for n, (r, a, l) in (('Babel', b), ('meshctl', m), ('meshctl --bird', mb)):
    print('%s per trial: (a) %s; (b) %s' % (n, ' '.join('%.2f' % x for x in r),
                                          ' '.join('%.2f' % x for x in a)))
if 99 in b[0] + b[1] + m[0] + m[1] + mb[0] + mb[1]:
    print('99 = did not happen within the trial (see stderr)')
EOF
