# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Shared helpers for the netns tests (STYLE.md T3-T5); sourced by
# tests/netns/<tool>.sh after it defines T_TESTS and its test_<name>
# functions, and then calls `t_main "$@"`. See docs/LAB.md.
#
#   tests/netns/<tool>.sh [-v] [-p] [-t] [test...]
#     -v  echo every command run in the lab ("[+] node: cmd")
#     -p  pause on a failure, with the lab still up, to inspect it
#     -t  capture every link to a pcap (kept after the run)
#
# T_TESTS rows are "name topology description"; topology is line, mesh or
# none. The runner builds each topology once in one lab (the first test that
# needs it), runs every test in a subshell under set -e, and undoes the
# test's impairments (lab_reset) afterwards. Exit status: 0 all passed,
# 1 a test failed, 4 skipped (not root, a tool missing: the reason is printed).

set -e
export LANG=C LC_ALL=C
exec 3>&1

T_NETNS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$T_NETNS_DIR/../lab/lab.sh"

T_NAME=$(basename "$0" .sh)
T_VERBOSE=0
T_PAUSE=0
T_PCAP=0
T_MESH_SITES=${T_MESH_SITES:-4}
T_OUT=${T_OUT:-${TMPDIR:-/tmp}/meshperf-netns-$T_NAME.$$}

t_usage()
{
	local row name topo desc
	echo "usage: $0 [-v] [-p] [-t] [test...]"
	echo "  -v  echo commands   -p  pause on failure   -t  capture pcaps"
	echo "tests:"
	for row in "${T_TESTS[@]}"; do
		read -r name topo desc <<<"$row"
		printf '  %-12s %-5s %s\n' "$name" "$topo" "$desc"
	done
}

# t_skip REASON: skip the current test (in a test) or the script (at top level).
t_skip()
{
	echo "$*" >"$T_OUT/skip"
	echo "SKIP: $*" >&2
	exit 4
}

# t_require_root / t_require_cmd CMD...: skip unless satisfied.
t_require_root() { ((EUID == 0)) || t_skip "not root"; }

t_require_cmd()
{
	local c
	for c; do
		command -v "$c" >/dev/null || t_skip "missing tool: $c"
	done
}

# t_require_wire: skip unless mp-wire (the delay wire) is built.
t_require_wire() { [[ -x $LAB_WIRE ]] || t_skip "mp-wire not built ($LAB_WIRE; make lab)"; }

# t_note TEXT: a measured figure, printed under the test's result line.
t_note() { echo "      $*" >>"$T_OUT/notes"; }

# t_steal_ms: CPU time the hypervisor has stolen from this machine since boot,
# in ms (/proc/stat, all CPUs; 0 on bare metal).
t_steal_ms() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / { print int($9 * 1000 / hz) }' /proc/stat; }

# t_unstolen CMD...: run a timing measurement CMD (repeatable, results in
# files) again, at most 5 times in all, while the hypervisor steals CPU time
# during it: a stolen vCPU delays every clock and every packet alike, so what
# was measured is the host's contention, not the path. Before a new run it
# waits (at most 10 s) for a second in which nothing was stolen, since the
# host's contention comes in spells (CI saw 300-490 ms stolen in each of
# three runs back to back). The steal is noted, the tolerances stay as they
# are, and the last run's result stands. CMD runs outside set -e, so it
# measures only; the caller checks the files. When every run was stolen,
# a check of this measurement that fails makes the test a SKIP naming the
# steal (_t_run: $T_OUT/stolen), never a PASS: the host was measured, and
# a pass of the same checks still counts.
t_unstolen()
{
	local try s0 stolen rc quiet
	rm -f "$T_OUT/stolen"
	for try in 1 2 3 4 5; do
		s0=$(t_steal_ms)
		rc=0
		"$@" || rc=$?
		stolen=$(($(t_steal_ms) - s0))
		if ((stolen == 0)); then
			rm -f "$T_OUT/stolen"
			return "$rc"
		fi
		t_note "the hypervisor stole $stolen ms of CPU time during run $try of: $*"
		echo "timing not judged: the hypervisor stole CPU time in all $try runs" \
			"($stolen ms in the last) of: $*" >"$T_OUT/stolen"
		for quiet in 1 2 3 4 5 6 7 8 9 10; do
			s0=$(t_steal_ms)
			sleep 1
			(($(t_steal_ms) == s0)) && break
		done
	done
	return "$rc"
}

# n NODE CMD... / ipn NODE ARGS...: run in a lab node, logged "[+] NODE: cmd".
n() { lab_exec "$@"; }
ipn() { lab_ip "$@"; }

# busywait MS CMD...: poll CMD until it succeeds, at most MS milliseconds.
busywait()
{
	local ms=$1
	shift
	lab_wait "$(((ms + 999) / 1000))" "$@"
}

# t_json FILE FILTER: jq -e on a JSON result (fails on null/false/missing).
t_json() { jq -e "$2" "$1"; }

# t_pmtu_tracepath NODE DST: the path MTU tracepath reports. tracepath has
# no machine format: its "Resume: pmtu N" line is turned into N here, once.
t_pmtu_tracepath()
{
	local node=$1 dst=$2
	lab_exec "$node" tracepath -n -m "${T_TRACEPATH_HOPS:-5}" "$dst" |
		awk '/Resume: pmtu/ { for (i = 1; i < NF; i++) if ($i == "pmtu") p = $(i + 1) }
			END { if (p == "") exit 1; print p }'
}

# t_kernel_pmtu NODE DST: the PMTU NODE's kernel learned for DST (route cache).
t_kernel_pmtu()
{
	lab_ip "$1" -j route get "$2" | jq -e '.[0].metrics[0].mtu // empty'
}

# Observers that stamp in user space (irtt) run at a high priority, so that
# other load on the machine does not show up as delay. Not real-time: Go
# programs spin, and at SCHED_FIFO can starve what they wait for.
T_OBSERVER_RT=(nice -n -15)

# t_irtt_server NODE ADDR,[ADDR6]: start irtt's server, wait until it listens.
t_irtt_server()
{
	lab_running "$1" irtt && return
	lab_spawn "$1" irtt "${T_OBSERVER_RT[@]}" irtt server -b "$2" -i 0
	lab_wait "$LAB_UP_TIMEOUT" lab_listening "$1" udp 2112
}

# t_irtt NODE OUT.json DST [ARGS...]: irtt client, JSON into OUT.json.
t_irtt()
{
	local node=$1 out=$2 dst=$3
	shift 3
	lab_exec "$node" "${T_OBSERVER_RT[@]}" irtt client -Q -o "$out" "$@" "$dst"
}

# ---------------------------------------------------------------- runner

_t_parse()
{
	local o
	OPTIND=1
	while getopts vpth o; do
		case $o in
		v) T_VERBOSE=1 ;;
		p) T_PAUSE=1 ;;
		t) T_PCAP=1 ;;
		h) t_usage && exit 0 ;;
		*) t_usage >&2 && exit 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	T_SELECTED=("$@")
}

_t_row() { local row; for row in "${T_TESTS[@]}"; do [[ ${row%% *} == "$1" ]] && echo "$row" && return; done; return 1; }

# _t_topology line|mesh|none: build it in the shared lab unless there.
_t_topology()
{
	[[ $1 == none ]] && return 0
	[[ -n ${LAB_ID:-} ]] || lab_new
	case $1 in
	line) [[ -e $LAB_DIR/c/pid ]] || lab_line ;;
	mesh) [[ -e $LAB_DIR/site0/pid ]] || lab_mesh "$T_MESH_SITES" ;;
	*) lab_err "unknown topology '$1'" ;;
	esac
}

_t_pause()
{
	((T_PAUSE)) && [[ -n ${LAB_ID:-} ]] || return 0
	lab_show
	echo "paused: the lab is up; press Enter to go on" >&2
	read -r _ </dev/tty || true
}

# _t_run NAME TOPOLOGY: one test in a subshell under set -e; prints its
# result line (and its log's tail on failure) on fd 5, the real stdout.
_t_run()
{
	local name=$1 topo=$2 t0=${EPOCHREALTIME/./} rc=1 result skip=
	rm -f "$T_OUT/skip" "$T_OUT/stolen" && : >"$T_OUT/notes"
	if ((T_VERBOSE)); then exec 3>&5; else exec 3>"$T_OUT/log"; fi
	if _t_topology "$topo" >&3 2>&3; then
		set +e
		(
			set -eE
			exec >&3 2>&3
			trap 'echo "failed at ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND"' ERR
			"test_$name"
		)
		rc=$?
		set -e
	fi
	# exit 4 is a skip only when t_skip said why: a command that failed
	# with 4 (jq -e with no result) is a failure, never a silent skip
	case $rc in
	0) result=PASS ;;
	4) [[ -e $T_OUT/skip ]] && result=SKIP skip=": $(<"$T_OUT/skip")" || result=FAIL ;;
	*) result=FAIL ;;
	esac
	# a timing check failed after a measurement stolen in every run
	if [[ $result == FAIL && -e $T_OUT/stolen ]]; then
		result=SKIP skip=": $(<"$T_OUT/stolen")"
		tail -n 3 "$T_OUT/log" | sed 's/^/    | /' >>"$T_OUT/notes"
	fi
	rc=$((${EPOCHREALTIME/./} - t0))
	printf '%-4s %-12s (%d.%02d s)%s\n' "$result" "$name" $((rc / 1000000)) \
		$((rc / 10000 % 100)) "$skip" >&5
	cat "$T_OUT/notes" >&5
	if [[ $result == FAIL ]]; then
		((T_VERBOSE)) || tail -n 25 "$T_OUT/log" | sed 's/^/    | /' >&5
		_t_pause
	fi
	[[ -z ${LAB_ID:-} ]] || lab_reset >&3 2>&3 || echo "lab_reset failed" >&5
	T_COUNT[$result]=$((${T_COUNT[$result]:-0} + 1))
}

# Scratch files go; pcaps (-t) stay.
_t_cleanup()
{
	local f
	for f in "$T_OUT"/* "$T_OUT"/.[!.]*; do
		[[ $f == "$T_OUT/pcap" ]] || rm -rf "$f"
	done
	rmdir "$T_OUT" 2>/dev/null || true
}

# t_main ARGS...: parse options, run the selected tests (all by default).
t_main()
{
	local row name topo t0=${EPOCHREALTIME/./} sel
	declare -gA T_COUNT=()
	_t_parse "$@"
	mkdir -p "$T_OUT"
	exec 5>&1
	LAB_EXIT_HOOK=$BASHPID:_t_cleanup
	trap _lab_on_exit EXIT
	t_require_root
	t_require_cmd "${T_REQUIRE[@]}"
	LAB_LOG_FD=3
	((T_VERBOSE)) || exec 3>/dev/null
	((T_PCAP)) && LAB_PCAP_DIR=$T_OUT/pcap
	lab_reap
	for sel in "${T_SELECTED[@]}"; do
		_t_row "$sel" >/dev/null || { echo "$0: no test '$sel'" >&2 && t_usage >&2 && exit 2; }
	done
	for row in "${T_TESTS[@]}"; do
		read -r name topo _ <<<"$row"
		[[ ${#T_SELECTED[@]} == 0 || " ${T_SELECTED[*]} " == *" $name "* ]] || continue
		_t_run "$name" "$topo"
	done
	[[ -z ${LAB_ID:-} ]] || lab_down
	printf '%s: %d passed, %d failed, %d skipped (%d.%01d s)\n' "$T_NAME" \
		"${T_COUNT[PASS]:-0}" "${T_COUNT[FAIL]:-0}" "${T_COUNT[SKIP]:-0}" \
		$(((${EPOCHREALTIME/./} - t0) / 1000000)) $(((${EPOCHREALTIME/./} - t0) / 100000 % 10))
	((T_PCAP)) && echo "pcaps: $LAB_PCAP_DIR"
	((${T_COUNT[FAIL]:-0} == 0)) || exit 1
	((${T_COUNT[PASS]:-0} > 0)) || exit 4
	exit 0
}
