#!/bin/bash
# SPDX-License-Identifier: MIT
#
# meshctl tune in the lab: a 2-site wireguard-go mesh (tests/lab/lab.sh,
# lab_mesh 2); every check runs on site0, in its own network and mount
# namespaces (its /etc/wireguard holds its wg-quick files, its /run is
# private, so the default state file /run/meshperf/tune.state is its own).
#
#   tests/netns/meshctl-tune.sh [-v] [-p] [-t] [test...]     (-h lists the tests)
#
#     site0 ------[site0-site1]------ site1
#       to-site1 MTU 1500 (172.16.0.1 / fdac:ca::1, peers 172.16.1.0 / fdac:ca::1:0)
#       wg0.1_v4 (outer IPv4): recommended 1500 - 60 = 1440
#       wg0.1_v6 (outer IPv6): recommended 1500 - 80 = 1420
#       the lab's tunnels are 1420: both good; wg0.1_v4 at 1500 is bad
#
# What is asserted (exactly, no tolerance: these are settings):
#  - cycle: bad values set by hand (forwarding off, rp_filter strict on a
#    tunnel, the kernel's ICMP rate limits, a low global ICMP cap, MTU 1500
#    on wg0.1_v4); every key the tool reports is read from /proc/sys and
#    `ip -j link` (not through the tool) before; check exits 1 and lists
#    exactly the bad ones; apply exits 0; check exits 0; restore puts every
#    key back to the snapshot, and removes the state file;
#  - rollback: one write fails in the middle (a read-only bind mount over
#    /proc/sys/net/ipv6/icmp/ratelimit in site0's mount namespace): apply
#    exits 2 naming it, every key equals the snapshot, no state file is left;
#  - reapply: a second apply keeps the original values saved by the first
#    and adds only the keys the first did not change;
#  - badinput: bad options and a corrupt state file: one line naming the
#    value, exit 2; restore without a state file: a message, exit 0.

# shellcheck disable=SC2317 # test_* and their helpers are run by t_main, indirectly
T_REQUIRE=(ip jq wg wireguard-go timeout mount umount)
T_TESTS=(
	"cycle       mesh  check -> apply -> check (clean) -> restore = the snapshot"
	"rollback    mesh  a write fails midway: nothing changed, no state file"
	"reapply     mesh  a second apply keeps the first's originals, merges new keys"
	"badinput    mesh  bad options, corrupt state, restore without state"
)
T_MESH_SITES=2

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

case ${BUILD:-build} in
/*) MC=$BUILD/bin/meshctl ;;
*) MC=$LAB_TOP/${BUILD:-build}/bin/meshctl ;;
esac
[[ -x $MC ]] || { echo "SKIP: meshctl not built ($MC)" >&2; exit 4; }

STATE=/run/meshperf/tune.state
RO_KEY=net/ipv6/icmp/ratelimit

# tune ARGS...: meshctl tune on site0; its exit status is kept in $rc.
tune() { rc=0; n site0 "$MC" tune "$@" || rc=$?; }

# sysctl_set KEY=VALUE...: on site0, KEY in sysctl(8) form.
sysctl_set() { n site0 sysctl -q -w "$@" >/dev/null; }

# lab_good: site0 as the lab makes it (values the other tests expect), no
# read-only mount, no state file.
lab_good()
{
	n site0 umount "/proc/sys/$RO_KEY" 2>/dev/null || true
	sysctl_set net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.wg0/1_v4.rp_filter=0 \
		net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
		net.ipv4.icmp_msgs_per_sec=1000000 net.ipv4.icmp_msgs_burst=1000000
	ipn site0 link set wg0.1_v4 mtu 1420
	ipn site0 link set wg0.1_v6 mtu 1420
	n site0 rm -f "$STATE"
}

# lab_bad: the values a careless node has.
lab_bad()
{
	sysctl_set net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.wg0/1_v4.rp_filter=1 \
		net.ipv4.icmp_ratelimit=1000 net.ipv6.icmp.ratelimit=1000 \
		net.ipv4.icmp_msgs_per_sec=100
	ipn site0 link set wg0.1_v4 mtu 1500
}

# snapshot JSON OUT: "key value" for every setting the tool listed in JSON
# (its --check -j output), read from /proc/sys and `ip -j link` directly.
snapshot()
{
	local key kind tunnel v
	while read -r key kind tunnel; do
		if [[ $kind == mtu ]]; then
			v=$(ipn site0 -j link show "$tunnel" | jq -r '.[0].mtu')
		else
			v=$(n site0 cat "/proc/sys/$(tr './' '/.' <<<"$key")")
		fi
		echo "$key $v"
	done < <(jq -r '.settings[] | "\(.setting) \(.kind) \(.tunnel)"' "$1") | sort >"$2"
}

# to_change JSON: the settings of a check whose status is "change", sorted.
to_change() { jq -r '.settings[] | select(.status == "change") | .setting' "$1" | sort; }

test_cycle()
{
	local out=$T_OUT/cycle
	lab_good
	lab_bad
	tune --check -j >"$out.check1.json"
	((rc == 1))
	snapshot "$out.check1.json" "$out.before"
	# every tunnel appears: rp_filter and MTU of both
	jq -e '[.settings[] | select(.tunnel != "")] | length == 4' "$out.check1.json" >/dev/null
	# exactly the bad ones are listed, with the recommendations of mtufind's rule
	diff <(to_change "$out.check1.json") <(printf '%s\n' mtu:wg0.1_v4 \
		net.ipv4.conf.wg0/1_v4.rp_filter net.ipv4.icmp_msgs_per_sec \
		net.ipv4.icmp_ratelimit net.ipv4.ip_forward net.ipv6.conf.all.forwarding \
		net.ipv6.icmp.ratelimit | sort)
	jq -e '.settings[] | select(.setting == "mtu:wg0.1_v4") | .recommended == 1440' \
		"$out.check1.json" >/dev/null
	jq -e '.settings[] | select(.setting == "mtu:wg0.1_v6") |
		.recommended == 1420 and .status == "ok"' "$out.check1.json" >/dev/null
	t_note "check (exit $rc) lists: $(to_change "$out.check1.json" | tr '\n' ' ')"
	t_note "not settable in a namespace: $(jq -r '[.settings[] |
		select(.status == "readonly") | .setting] | join(" ")' "$out.check1.json")"
	tune --apply -j >"$out.apply.json"
	((rc == 0))
	jq -e '[.settings[] | select(.status == "changed")] | length == 7' "$out.apply.json" >/dev/null
	n site0 test -s "$STATE"
	[[ $(ipn site0 -j link show wg0.1_v4 | jq '.[0].mtu') == 1440 ]]
	[[ $(n site0 cat /proc/sys/net/ipv4/conf/wg0.1_v4/rp_filter) == 2 ]]
	tune --check -j >"$out.check2.json"
	((rc == 0))
	jq -e '[.settings[] | select(.status == "change")] | length == 0' "$out.check2.json" >/dev/null
	# text output fits 100 columns
	tune --check >"$out.txt"
	cat "$out.txt"
	(($(awk '{ if (length > m) m = length } END { print m }' "$out.txt") <= 100))
	tune --restore -j >"$out.restore.json"
	((rc == 0))
	! n site0 test -e "$STATE" || false
	snapshot "$out.check1.json" "$out.after"
	diff "$out.before" "$out.after"
	t_note "apply: 7 changed, check after: exit 0; restore: all $(wc -l <"$out.before")" \
		"keys identical to the snapshot"
	lab_good
}

test_rollback()
{
	local out=$T_OUT/rollback err
	lab_good
	lab_bad
	tune --check -j >"$out.check.json"
	((rc == 1))
	snapshot "$out.check.json" "$out.before"
	# a read-only bind mount in site0's own mount namespace: the file keeps
	# mode 0644, so only the write itself fails (EROFS), after ip_forward,
	# IPv6 forwarding and net.ipv4.icmp_ratelimit were changed
	n site0 mount --bind "/proc/sys/$RO_KEY" "/proc/sys/$RO_KEY"
	n site0 mount -o remount,bind,ro "/proc/sys/$RO_KEY"
	tune --apply -j >"$out.apply.json" 2>"$out.err"
	((rc == 2))
	err=$(<"$out.err")
	[[ $err == *"net.ipv6.icmp.ratelimit"*"Read-only file system"* ]]
	[[ $err == *"back as they were"* ]]
	! n site0 test -e "$STATE" || false
	snapshot "$out.check.json" "$out.after"
	diff "$out.before" "$out.after"
	t_note "write 4 of 7 refused (EROFS): $(wc -l <"$out.before") keys as before, no state file"
	t_note "$(head -1 "$out.err")"
	# and with a state file of an earlier apply: it stays as it was
	n site0 umount "/proc/sys/$RO_KEY"
	sysctl_set net.ipv4.icmp_msgs_per_sec=1000 net.ipv4.ip_forward=1
	tune --apply >/dev/null
	((rc == 0))
	n site0 cat "$STATE" >"$out.state1"
	lab_bad
	n site0 mount --bind "/proc/sys/$RO_KEY" "/proc/sys/$RO_KEY"
	n site0 mount -o remount,bind,ro "/proc/sys/$RO_KEY"
	tune --apply 2>/dev/null >/dev/null
	((rc == 2))
	n site0 cat "$STATE" | diff "$out.state1" -
	t_note "with an earlier state file: failed apply leaves it byte for byte"
	lab_good
}

test_reapply()
{
	local out=$T_OUT/reapply
	lab_good
	lab_bad
	tune --check -j >"$out.check.json"
	snapshot "$out.check.json" "$out.before"
	tune --apply >/dev/null
	((rc == 0))
	n site0 cat "$STATE" >"$out.state1"
	grep -qx 'net.ipv4.icmp_ratelimit 1000' "$out.state1"
	# by hand after the first apply: one saved key bad again (another value),
	# one key that was good at the first apply made bad
	sysctl_set net.ipv4.icmp_ratelimit=500 net.ipv4.icmp_msgs_burst=10
	tune --apply >/dev/null
	((rc == 0))
	n site0 cat "$STATE" >"$out.state2"
	grep -qx 'net.ipv4.icmp_ratelimit 1000' "$out.state2"
	grep -qx 'net.ipv4.icmp_msgs_burst 10' "$out.state2"
	# the first apply's lines are all still there
	diff <(grep -v '^#' "$out.state1") \
		<(grep -v -e '^#' -e '^net.ipv4.icmp_msgs_burst ' "$out.state2")
	tune --restore >/dev/null
	((rc == 0))
	snapshot "$out.check.json" "$out.after"
	# the values before the first apply; icmp_msgs_burst as the second found it
	sed 's/^net.ipv4.icmp_msgs_burst .*/net.ipv4.icmp_msgs_burst 10/' "$out.before" |
		diff - "$out.after"
	t_note "second apply: icmp_ratelimit kept 1000 (not 500), icmp_msgs_burst 10 added;" \
		"restore = the first apply's originals, burst 10"
	lab_good
}

test_badinput()
{
	local out=$T_OUT/bad args e
	lab_good
	for args in "--check --apply" "--bogus" "--site 300" "--format xml" "--state=" \
		"--pattern wg%L" "--check extra"; do
		# shellcheck disable=SC2086 # split on purpose
		tune $args 2>"$out.err" >/dev/null
		((rc == 2))
		e=$(head -1 "$out.err")
		[[ $e == meshctl:* ]]
		case $args in
		--bogus) [[ $e == *"'--bogus'"* ]] ;;
		"--site 300") [[ $e == *"'300'"* ]] ;;
		"--format xml") [[ $e == *"'xml'"* ]] ;;
		"--pattern wg%L") [[ $e == *"wg%L"* ]] ;;
		"--check extra") [[ $e == *"'extra'"* ]] ;;
		esac
	done
	t_note "bad options: exit 2, first line names the value ($(head -1 "$out.err"))"
	tune --restore 2>"$out.err"
	((rc == 0))
	grep -q "nothing to restore" "$out.err"
	t_note "restore without a state file: exit 0, '$(head -1 "$out.err")'"
	n site0 sh -c "printf 'net.ipv4.ip_forward 1\nkernel.panic 1\n' >$STATE"
	tune --restore 2>"$out.err"
	((rc == 2))
	grep -q "line 2.*kernel.panic" "$out.err"
	n site0 test -e "$STATE"
	t_note "state file naming a non-net sysctl: $(head -1 "$out.err")"
	lab_good
}

t_main "$@"
