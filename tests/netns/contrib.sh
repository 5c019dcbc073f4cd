#!/bin/bash
# SPDX-License-Identifier: MIT
#
# contrib/ in operation: what `make install` puts where, the systemd units
# (systemd-analyze verify and security against the installed tree), the
# Prometheus rules (promtool check and test rules, and a weakened rule must
# fail its test), the textfile wrapper end to end with real tools, and the
# metric names the rules use against a live meshctl.
#
#   tests/netns/contrib.sh [-v] [-p] [-t] [test...]      (-h lists the tests)
#
# Topology "host" (textfile, atomic): one node, its loopback only:
#
#   h   lo 127.0.0.1/8, ::1   owd -s (UDP 862), pathping and owd clients
#
# Topology "mesh" (metrics): lab_mesh with 2 sites (tests/lab/lab.sh),
# meshctl run on both, its /metrics read on site0.
#
# Nothing here measures, so there are no tolerances: file lists and modes
# must be equal, verify must print nothing, every security exposure must be
# at most 3.0 (systemd's scale, 0 to 10; they are 2.0 to 2.6 when written),
# a textfile must be whole at every read.

# shellcheck disable=SC2317 # test_* and their helpers are run by t_main, indirectly
T_MESH_SITES=${T_MESH_SITES:-2}
T_REQUIRE=(make install find sed awk stat timeout)
T_TESTS=(
	"install     none  make install DESTDIR: binaries, man pages, units, wrapper, rules, modes"
	"verify      none  systemd-analyze verify of every unit on the installed tree: no output"
	"security    none  systemd-analyze security --offline: every service's exposure <= 3.0"
	"rules       none  promtool check rules + test rules; weakened rules fail their test"
	"textfile    host  meshperf-textfile with owd and pathping: whole files, success 1, then 0"
	"atomic      host  a reader never sees a partial file while 40 runs replace it"
	"metrics     mesh  every meshctl metric the rules use is in a live meshctl's /metrics"
)

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

case ${BUILD:-build} in
/*) BIN=$BUILD/bin ;;
*) BIN=$LAB_TOP/${BUILD:-build}/bin ;;
esac
WRAP=$LAB_TOP/contrib/meshperf-textfile
DEST=$T_OUT/dest
UNITDIR=$DEST/usr/lib/systemd/system
RULES=$DEST/usr/share/meshperf/prometheus
MAX_EXPOSURE=3.0

for t in owd pathping meshctl; do
	[[ -x $BIN/$t ]] || { echo "SKIP: $t not built ($BIN/$t)" >&2 && exit 4; }
done

# the "host" topology, in the lab the runner shares between tests; "mesh"
# only where wireguard-go is (else its test skips, naming what is missing)
eval "$(declare -f _t_topology | sed '1s/_t_topology/_t_topology_lib/')"
_t_topology()
{
	case $1 in
	host)
		[[ -n ${LAB_ID:-} ]] || lab_new
		[[ -e $LAB_DIR/h/pid ]] || lab_node_add h
		;;
	mesh)
		command -v wireguard-go >/dev/null && command -v wg >/dev/null || return 0
		_t_topology_lib "$@"
		;;
	*) _t_topology_lib "$@" ;;
	esac
}

# installed: `make install DESTDIR=$DEST PREFIX=/usr`, once for all tests.
installed()
{
	[[ -e $DEST/.done ]] && return
	rm -rf "$DEST"
	make -C "$LAB_TOP" --no-print-directory -s BUILD="${BUILD:-build}" install \
		DESTDIR="$DEST" PREFIX=/usr
	: >"$DEST/.done"
}

# The units to check: every unit of contrib/systemd, templates as an
# instance (a name only: nothing is started). No IPv6 instance: verify
# reads "a:b" as FILE:ALIAS.
units()
{
	local u
	for u in "$LAB_TOP"/contrib/systemd/*.in; do
		u=${u##*/} u=${u%.in}
		case $u in
		*@.*) echo "${u%%@.*}@192.0.2.1.${u##*.}" ;;
		*) echo "$u" ;;
		esac
	done
}

# vroot: a root for systemd-analyze --root: the installed tree and the
# host's standard targets the units name (and systemd adds: sysinit.target,
# basic.target, shutdown.target), nothing else of the host.
vroot()
{
	local src t
	for src in /usr/lib/systemd/system /lib/systemd/system; do
		[[ -e $src/sysinit.target ]] && break
	done
	[[ -e $src/sysinit.target ]] || t_skip "no systemd unit directory with sysinit.target"
	for t in sysinit basic shutdown multi-user timers network-online network sockets paths \
		slices local-fs swap; do
		[[ -e $UNITDIR/$t.target ]] || cp "$src/$t.target" "$UNITDIR/"
	done
}

test_install()
{
	local t m u f
	installed
	# what must be there, from the source tree (not from the Makefile's lists)
	{
		for t in "$LAB_TOP"/tools/*/main.c; do
			t=${t%/main.c} t=${t##*/}
			[[ $t == meshctl ]] && echo "755 usr/sbin/$t" || echo "755 usr/bin/$t"
		done
		for m in "$LAB_TOP"/man/man[18]/*.[18]; do
			echo "644 usr/share/man/${m#"$LAB_TOP"/man/}"
		done
		for u in "$LAB_TOP"/contrib/systemd/*.in; do
			u=${u##*/}
			echo "644 usr/lib/systemd/system/${u%.in}"
		done
		for f in "$LAB_TOP"/contrib/prometheus/*.yml; do
			echo "644 usr/share/meshperf/prometheus/${f##*/}"
		done
		echo "755 usr/lib/meshperf/meshperf-textfile"
	} | sort >"$T_OUT/expected"
	find "$DEST" -type f ! -name .done -printf '%m %P\n' | sort >"$T_OUT/installed"
	diff "$T_OUT/expected" "$T_OUT/installed"
	# the ones issue #13 names, whatever the tree holds
	for f in usr/sbin/meshctl usr/bin/owd usr/bin/pathping usr/bin/bwtest \
		usr/lib/systemd/system/meshctl.service usr/lib/systemd/system/meshperf-reflector.service \
		usr/lib/systemd/system/meshperf-pathping@.timer \
		usr/share/meshperf/prometheus/meshctl.rules.yml usr/lib/meshperf/meshperf-textfile; do
		grep -qx "[0-9]* $f" "$T_OUT/installed"
	done
	# every path filled in, and pointing at the installed files
	! grep -n '@[A-Z]*DIR@' "$UNITDIR"/* || false
	grep -q '^ExecStart=/usr/sbin/meshctl run ' "$UNITDIR/meshctl.service"
	grep -A1 '^ExecStart=/usr/lib/meshperf/meshperf-textfile .* -- \\$' \
		"$UNITDIR/meshperf-pathping@.service" | grep -q $'^\t/usr/bin/pathping '
	t_note "$(wc -l <"$T_OUT/installed") files installed, as expected, with their modes"
	# uninstall leaves no file behind
	make -C "$LAB_TOP" --no-print-directory -s BUILD="${BUILD:-build}" uninstall \
		DESTDIR="$DEST" PREFIX=/usr
	find "$DEST" -type f ! -name .done >"$T_OUT/left"
	[[ ! -s $T_OUT/left ]] || { cat "$T_OUT/left"; false; }
	rm -rf "$DEST"
}

test_verify()
{
	local u out n=0
	t_require_cmd systemd-analyze
	installed
	vroot
	for u in $(units); do
		# --man: Documentation=man:... must resolve, to the installed pages
		out=$(cd "$DEST" && MANPATH=$DEST/usr/share/man \
			systemd-analyze verify --root="$DEST" "$u" 2>&1) ||
			{ echo "$u: verify failed: $out"; false; }
		[[ -z $out ]] || { echo "$u: $out"; false; }
		n=$((n + 1))
	done
	((n >= 8))
	# the check is not blind: a missing program, a bad value and a misspelt
	# directive are reported
	sed -e 's|^ExecStart=/usr/sbin/meshctl |ExecStart=/usr/sbin/meshctl-missing |' \
		-e 's|^ProtectSystem=strict|ProtectSystem=strictest|' \
		-e 's|^ProtectHome=yes|ProtectHomes=yes|' \
		"$UNITDIR/meshctl.service" >"$UNITDIR/meshperf-broken.service"
	out=$(cd "$DEST" && MANPATH=$DEST/usr/share/man \
		systemd-analyze verify --root="$DEST" meshperf-broken.service 2>&1) || true
	rm -f "$UNITDIR/meshperf-broken.service"
	grep -q 'meshctl-missing.* not executable' <<<"$out"
	grep -q 'value, ignoring: strictest' <<<"$out"
	grep -q "Unknown key 'ProtectHomes'" <<<"$out"
	t_note "$n units verified on the installed tree ($(systemd --version | head -1)), no output"
}

test_security()
{
	local u level notes=()
	t_require_cmd systemd-analyze
	systemd-analyze --help | grep -q -- '--offline' ||
		t_skip "systemd-analyze has no --offline (systemd < 250)"
	installed
	vroot
	for u in $(units); do
		[[ $u == *.service ]] || continue
		level=$(cd "$DEST" && systemd-analyze security --offline=yes --root="$DEST" "$u" 2>&1 |
			awk '/Overall exposure level/ { print $(NF - 2) }')
		[[ $level =~ ^[0-9]+\.[0-9]$ ]] || { echo "$u: no exposure level"; false; }
		notes+=("$u $level,")
		awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l <= m) }' ||
			{ echo "$u: exposure $level > $MAX_EXPOSURE"; false; }
	done
	((${#notes[@]} >= 5))
	t_note "exposure (systemd-analyze security --offline; 0 best, 10 worst):"
	t_note "  ${notes[*]:0:3}"
	notes[-1]=${notes[-1]%,}
	t_note "  ${notes[*]:3}"
}

test_rules()
{
	local d=$T_OUT/mut out
	t_require_cmd promtool
	installed
	out=$(promtool check rules "$RULES/meshctl.rules.yml" 2>&1)
	grep -q 'SUCCESS: [0-9]* rules found' <<<"$out" || { echo "$out"; false; }
	out=$(cd "$RULES" && promtool test rules meshctl.rules_test.yml 2>&1) ||
		{ echo "$out"; false; }
	out=$(tr -s ' \n' '  ' <<<"$out")
	out=${out#*:}
	t_note "promtool test rules:${out% }"
	t_note "$(grep -c -- '- alert:' "$RULES/meshctl.rules.yml") alerts, $(grep -c -- \
		'- alertname:' "$RULES/meshctl.rules_test.yml") alert tests"
	# every alert is tested firing (exp_labels) and silent (exp_alerts: [])
	awk '/- alert:/ { a[$3] = 1 }
		/- alertname:/ { n = $3 } /exp_labels:/ { f[n] = 1 } /exp_alerts: \[\]/ { s[n] = 1 }
		END { for (x in a) if (!f[x] || !s[x]) { print x ": not tested both ways"; bad = 1 }
		      exit bad }' "$RULES/meshctl.rules.yml" "$RULES/meshctl.rules_test.yml"
	# weakened rules fail their tests: a loss threshold of 10 %, loss alerts
	# for tunnels that are down, a latency alert without its `for:`
	mkdir -p "$d"
	cp "$RULES/meshctl.rules_test.yml" "$d/"
	sed 's/link_loss_ratio{job="meshctl"} > 0.02/link_loss_ratio{job="meshctl"} > 0.10/' \
		"$RULES/meshctl.rules.yml" >"$d/meshctl.rules.yml"
	! cmp -s "$d/meshctl.rules.yml" "$RULES/meshctl.rules.yml" || false
	! (cd "$d" && promtool test rules meshctl.rules_test.yml >/dev/null 2>&1) || false
	sed '/and meshperf_meshctl_link_up{job="meshctl"} == 1/d' \
		"$RULES/meshctl.rules.yml" >"$d/meshctl.rules.yml"
	! cmp -s "$d/meshctl.rules.yml" "$RULES/meshctl.rules.yml" || false
	! (cd "$d" && promtool test rules meshctl.rules_test.yml >/dev/null 2>&1) || false
	sed '/alert: MeshTunnelLatencyHigh/,/for:/{/for:/d}' \
		"$RULES/meshctl.rules.yml" >"$d/meshctl.rules.yml"
	! cmp -s "$d/meshctl.rules.yml" "$RULES/meshctl.rules.yml" || false
	! (cd "$d" && promtool test rules meshctl.rules_test.yml >/dev/null 2>&1) || false
}

# value FILE METRIC{LABELS}: the value of one sample of a textfile.
value() { awk -v k="$2" '$1 == k { print $2; n++ } END { exit n != 1 }' "$1"; }

# whole FILE: a complete textfile: promtool accepts it, the wrapper's last
# gauge ends it.
whole()
{
	local out
	if ! out=$(promtool check metrics <"$1" 2>&1) || [[ -n $out ]]; then
		echo "$1: $out"
		return 1
	fi
	tail -n 1 "$1" | grep -q '^meshperf_textfile_exit_code{job="[^"]*"} [0-9]*$'
}

test_textfile()
{
	local d=$T_OUT/tf f rc ino now
	t_require_cmd promtool
	mkdir -p "$d" && chmod 0700 "$d"
	lab_spawn h owd "$BIN/owd" -s
	busywait 5000 lab_listening h udp 862

	# owd: 5 probes answered
	n h "$WRAP" "$d" owd_127.0.0.1 -- "$BIN/owd" -c 5 -i 10ms 127.0.0.1
	f=$d/owd_127.0.0.1.prom
	whole "$f"
	[[ $(stat -c %a "$f") == 644 ]]
	[[ $(value "$f" 'meshperf_textfile_success{job="owd_127.0.0.1"}') == 1 ]]
	[[ $(value "$f" 'meshperf_textfile_exit_code{job="owd_127.0.0.1"}') == 0 ]]
	[[ $(value "$f" 'meshperf_owd_received{job="owd_127.0.0.1",dst="127.0.0.1"}') == 5 ]]
	now=$(date +%s)
	(($(value "$f" 'meshperf_textfile_last_run_timestamp_seconds{job="owd_127.0.0.1"}') \
		>= now - 30))
	# pathping: reached; its series and owd's never the same (job label)
	n h "$WRAP" "$d" pathping_127.0.0.1 -- "$BIN/pathping" -c 2 127.0.0.1
	whole "$d/pathping_127.0.0.1.prom"
	[[ $(value "$d/pathping_127.0.0.1.prom" \
		'meshperf_pathping_reached{job="pathping_127.0.0.1",dst="127.0.0.1"}') == 1 ]]
	n h "$WRAP" "$d" pathping_localhost -- "$BIN/pathping" -c 2 localhost
	cat "$d"/*.prom | grep -v '^#' | awk '{ print $1 }' | sort | uniq -d >"$T_OUT/dups"
	[[ ! -s $T_OUT/dups ]] || { cat "$T_OUT/dups"; false; }
	# nothing but the .prom files stays behind
	[[ $(find "$d" -mindepth 1 | wc -l) == 3 ]]
	[[ $(find "$d" -name '*.prom' | wc -l) == 3 ]]
	t_note "owd: $(grep -c '^meshperf_owd_' "$f") owd series + 3 gauges, pathping:" \
		"$(grep -c '^meshperf_pathping_' "$d/pathping_127.0.0.1.prom") series; success 1"

	# owd to a port without a reflector: exit 1, the old figures replaced
	# (renamed over, not rewritten in place) by the gauges alone
	ino=$(stat -c %i "$f")
	rc=0
	n h "$WRAP" "$d" owd_127.0.0.1 -- "$BIN/owd" -c 2 -i 10ms --timeout 200ms -p 863 \
		127.0.0.1 || rc=$?
	((rc == 1))
	whole "$f"
	[[ $(stat -c %i "$f") != "$ino" ]]
	[[ $(value "$f" 'meshperf_textfile_success{job="owd_127.0.0.1"}') == 0 ]]
	[[ $(value "$f" 'meshperf_textfile_exit_code{job="owd_127.0.0.1"}') == 1 ]]
	! grep -q '^meshperf_owd_' "$f" || false
	[[ $(grep -vc '^#' "$f") == 3 ]]
	# a setup error (bad option): exit 2, success 0
	rc=0
	n h "$WRAP" "$d" owd_127.0.0.1 -- "$BIN/owd" --no-such-option 127.0.0.1 || rc=$?
	((rc == 2))
	[[ $(value "$f" 'meshperf_textfile_exit_code{job="owd_127.0.0.1"}') == 2 ]]
	[[ $(value "$f" 'meshperf_textfile_success{job="owd_127.0.0.1"}') == 0 ]]
	t_note "unreachable reflector: exit 1, success 0, old figures gone; bad option: exit 2"

	# usage errors: exit 2, nothing written
	rc=0
	"$WRAP" "$d" 'a/b' -- "$BIN/owd" 127.0.0.1 2>"$T_OUT/err" || rc=$?
	((rc == 2))
	grep -q "invalid NAME 'a/b'" "$T_OUT/err"
	rc=0
	"$WRAP" "$d/nosuch" x -- "$BIN/owd" 127.0.0.1 2>"$T_OUT/err" || rc=$?
	((rc == 2))
	grep -q 'no such directory' "$T_OUT/err"
	rc=0
	"$WRAP" "$d" x "$BIN/owd" 127.0.0.1 2>/dev/null || rc=$?
	((rc == 2))
	[[ $(find "$d" -mindepth 1 | wc -l) == 3 ]]
}

# reader FILE COUNT_FILE: read FILE until killed; every read must be whole
# (first line a HELP, last the wrapper's last gauge). Writes "reads bad".
reader()
{
	local reads=0 bad=0 c re
	re=$'\n''meshperf_textfile_exit_code\{job="[a-z_.0-9]+"\} [0-9]+$'
	trap 'echo "$reads $bad" >"$2"; exit 0' TERM
	while :; do
		c=$(<"$1") || { bad=$((bad + 1)); continue; }
		reads=$((reads + 1))
		[[ $c == '# HELP '* && $c =~ $re ]] || bad=$((bad + 1))
	done
}

test_atomic()
{
	local d=$T_OUT/atomic i pid reads bad
	mkdir -p "$d"
	n h "$WRAP" "$d" pathping_127.0.0.1 -- "$BIN/pathping" -c 1 127.0.0.1
	reader "$d/pathping_127.0.0.1.prom" "$T_OUT/reads" &
	pid=$!
	for ((i = 0; i < 40; i++)); do
		# every other run fails: the file shrinks to the gauges and grows back
		if ((i % 2)); then
			n h "$WRAP" "$d" pathping_127.0.0.1 -- "$BIN/pathping" -c 1 127.0.0.1
		else
			n h "$WRAP" "$d" pathping_127.0.0.1 -- "$BIN/pathping" --max-ttl 0 \
				127.0.0.1 2>/dev/null || true
		fi
	done
	kill -TERM "$pid"
	wait "$pid" || true
	read -r reads bad <"$T_OUT/reads"
	t_note "40 runs, $reads reads while they replaced the file, $bad partial"
	((reads >= 40 && bad == 0))
	[[ $(find "$d" -mindepth 1 | wc -l) == 1 ]]
}

test_metrics()
{
	local i m out names=0 key=$T_OUT/mesh.key
	t_require_cmd wireguard-go wg curl promtool
	(umask 077 && wg genpsk >"$key")
	for ((i = 0; i < T_MESH_SITES; i++)); do
		lab_spawn "site$i" meshctl "$BIN/meshctl" run -k "$key"
	done
	for ((i = 0; i < T_MESH_SITES; i++)); do
		busywait 15000 eval "n site$i '$BIN/meshctl' status -j 2>/dev/null |
			jq -e '.deciding and .sites_reachable == .sites' >/dev/null"
	done
	n site0 curl -sf http://127.0.0.1:5120/metrics >"$T_OUT/metrics"
	for ((i = 0; i < T_MESH_SITES; i++)); do lab_stop "site$i" meshctl; done
	out=$(promtool check metrics <"$T_OUT/metrics" 2>&1)
	[[ -z $out ]] || { echo "$out"; false; }
	grep -o 'meshperf_meshctl_[a-z_]*' "$LAB_TOP/contrib/prometheus/meshctl.rules.yml" |
		sort -u >"$T_OUT/names"
	while read -r m; do
		[[ $m == meshperf_meshctl_ ]] && continue
		grep -q "^${m}[{ ]" "$T_OUT/metrics" || { echo "rules use $m: not in /metrics"; false; }
		names=$((names + 1))
	done <"$T_OUT/names"
	((names >= 10))
	t_note "$names metric names of the rules, all in site0's /metrics" \
		"($(grep -vc '^#' "$T_OUT/metrics") samples)"
}

t_main "$@"
