# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# meshperf lab: network-namespace topologies with injected delay, loss, MTU
# limits and failures. Sourced by tests/netns/*.sh and tests/lab/demo.sh;
# reference and diagrams in docs/LAB.md, machine facts in LAB-NOTES.md.
#
# Every lab has a unique id (mp<pid>, mp<pid>x<n>); all it makes is named after
# it: namespaces "<id>-<node>" and "<id>-<A>-<B>" (the wire of link A-B), the
# folder $LAB_BASE/<id>/ (a sub-folder per node and wire, e.g.
# site0/wireguard/). It makes nothing in the host's network namespace and
# nothing in the host's /run: every namespace has a holder process with its
# own mount and UTS namespaces and a tmpfs on /run, so /run/wireguard/*.sock
# and /run/meshperf never clash between nodes or labs. Commands run with
# nsenter into the holder's namespaces, bounded by timeout. lab_down (also run
# by the EXIT trap) kills only processes inside the lab's namespaces
# (`ip netns pids`), then removes the namespaces and the folder.
#
# Forks are slow on the CI machines (about 10 ms each), so set-up batches ip
# commands per namespace, runs namespaces in parallel and polls with a
# built-in nap instead of sleep(1).

LAB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_BASE=${LAB_BASE:-/tmp/meshperf-lab}
LAB_TIMEOUT=${LAB_TIMEOUT:-20}		# seconds, any one command
LAB_UP_TIMEOUT=${LAB_UP_TIMEOUT:-5}	# seconds, a holder or daemon to get ready
LAB_LOG_FD=${LAB_LOG_FD:-}		# fd for "[+] name: cmd" lines (tests: 3)
LAB_PCAP_DIR=${LAB_PCAP_DIR:-}		# capture every link into this folder when set
LAB_WIRE_RT=${LAB_WIRE_RT-20}		# mp-wire's SCHED_FIFO priority; empty: normal
LAB_OWNED=${LAB_OWNED:-}		# "pid:id ...": labs torn down when pid exits
LAB_EXIT_HOOK=${LAB_EXIT_HOOK:-}	# "pid:command": pid's EXIT trap runs it last
case ${BUILD:-build} in
/*) LAB_WIRE=${LAB_WIRE:-$BUILD/lab/mp-wire} ;;
*) LAB_WIRE=${LAB_WIRE:-$LAB_TOP/${BUILD:-build}/lab/mp-wire} ;;
esac

# Link-control traffic is never impaired: ARP, IPv6 ND and MLD. Losing it
# would turn "1 % loss" into unreachable neighbours, and its timing would
# make every-Nth loss hit different probes from run to run.
LAB_NFT_EXEMPT=(
	'ether type arp accept'
	'icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit,
		nd-neighbor-advert, nd-redirect, mld-listener-query, mld-listener-report,
		mld-listener-done, mld2-listener-report } accept'
)
# Every node forwards (hosts too: a mesh site relays), has no DAD (addresses
# usable at once), sends no router solicitations, and no ICMP error rate
# limiting (lab_icmp_ratelimit turns that on).
LAB_SYSCTL_NODE=(
	net/ipv6/conf/all/accept_dad=0 net/ipv6/conf/default/accept_dad=0
	net/ipv6/conf/default/router_solicitations=0 net/ipv6/conf/default/accept_ra=0
	net/ipv4/ip_forward=1 net/ipv6/conf/all/forwarding=1
)
LAB_SYSCTL_ICMP_OFF=(
	net/ipv4/icmp_ratelimit=0 net/ipv4/icmp_msgs_per_sec=1000000
	net/ipv4/icmp_msgs_burst=1000000 net/ipv6/icmp/ratelimit=0
)
LAB_SYSCTL_ICMP_ON=(	# the kernel's defaults
	net/ipv4/icmp_ratelimit=1000 net/ipv4/icmp_msgs_per_sec=1000
	net/ipv4/icmp_msgs_burst=50 net/ipv6/icmp/ratelimit=1000
)
# A wire is invisible at layer 3: no IPv6 on its ports, so it sends nothing.
LAB_SYSCTL_WIRE=(net/ipv6/conf/all/disable_ipv6=1 net/ipv6/conf/default/disable_ipv6=1)

# ---------------------------------------------------------------- helpers

lab_err()
{
	echo "lab: $*" >&2
	return 1
}

_lab_log()
{
	[[ -n $LAB_LOG_FD ]] || return 0
	local who=$1
	shift
	printf '[+] %s: %s\n' "$who" "$*" >&"$LAB_LOG_FD"
}

# _lab_nap SECONDS: sleep without a fork (read times out on a silent pipe,
# fd 19; daemons do not inherit it, nor fds 3-5 of the test runner).
_lab_nap()
{
	[[ -e /proc/$BASHPID/fd/19 ]] || exec 19<> <(:)
	read -r -t "$1" -u 19 || true
}

# lab_wait SECONDS CMD...: poll CMD every 10 ms until it succeeds.
lab_wait()
{
	local deadline=$((${EPOCHREALTIME/./} + ${1%.*} * 1000000))
	shift
	until "$@"; do
		((${EPOCHREALTIME/./} < deadline)) || return 1
		_lab_nap 0.01
	done
}

# _lab_ns NAME VAR: VAR = the namespace name of node or wire NAME.
_lab_ns() { printf -v "$2" '%s-%s' "$LAB_ID" "$1"; }

# _lab_pid NAME VAR: VAR = the holder pid of node or wire NAME.
_lab_pid()
{
	[[ -s $LAB_DIR/$1/pid ]] || lab_err "no node or wire '$1' in lab ${LAB_ID:-?}" || return
	read -r "$2" <"$LAB_DIR/$1/pid"
}

_lab_is_wire() { [[ -e $LAB_DIR/$1/wire ]]; }

# lab_exec NAME CMD...: run CMD in node or wire NAME (its net, mount and UTS
# namespaces), bounded by LAB_TIMEOUT seconds.
lab_exec()
{
	local name=$1 pid
	shift
	_lab_pid "$name" pid || return
	_lab_log "$name" "$@"
	timeout -k 2 "$LAB_TIMEOUT" nsenter -t "$pid" -n -m -u -- "$@"
}

# lab_ip NAME ARGS...: ip(8) in NAME's network namespace.
lab_ip()
{
	local name=$1 ns
	shift
	_lab_ns "$name" ns
	_lab_log "$name" ip "$@"
	timeout -k 2 "$LAB_TIMEOUT" ip -n "$ns" "$@"
}

# lab_spawn NAME TAG CMD...: start a daemon in NAME; output in
# $LAB_DIR/NAME/TAG.log, pid in TAG.pid. Stopped by lab_stop or lab_down.
lab_spawn()
{
	local name=$1 tag=$2 pid
	shift 2
	_lab_pid "$name" pid || return
	_lab_log "$name" "$* &"
	nsenter -t "$pid" -n -m -u -- "$@" </dev/null >"$LAB_DIR/$name/$tag.log" 2>&1 \
		3>&- 4>&- 5>&- 19<&- &
	echo $! >"$LAB_DIR/$name/$tag.pid"
	disown $!
}

# lab_hosts NODE: NODE's /etc/hosts from stdin, the way `ip netns exec`
# gives a namespace /etc/netns/<ns>/hosts: written there (lab_down removes
# it) and bind-mounted on /etc/hosts in the node's mount namespace, so
# every command the lab runs in NODE resolves names from it.
lab_hosts()
{
	local ns pid
	_lab_ns "$1" ns
	_lab_pid "$1" pid || return
	mkdir -p "/etc/netns/$ns" && cat >"/etc/netns/$ns/hosts" || return
	_lab_log "$1" "hosts: /etc/netns/$ns/hosts"
	timeout 5 nsenter -t "$pid" -m -- mount --bind "/etc/netns/$ns/hosts" /etc/hosts
}

# lab_running NAME TAG: true while the daemon lives.
lab_running()
{
	local f=$LAB_DIR/$1/$2.pid pid
	[[ -s $f ]] && read -r pid <"$f" && kill -0 "$pid" 2>/dev/null
}

# lab_stop NAME TAG: SIGTERM the daemon, wait until it is gone.
lab_stop()
{
	local f=$LAB_DIR/$1/$2.pid pid
	[[ -s $f ]] || return 0
	read -r pid <"$f"
	: >"$f"
	kill -TERM "$pid" 2>/dev/null || return 0
	lab_wait "$LAB_UP_TIMEOUT" _lab_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
}

_lab_gone() { ! kill -0 "$1" 2>/dev/null; }

# ---------------------------------------------------------------- lifecycle

# lab_new: create a lab and make it the current one (LAB_ID, LAB_DIR). It is
# torn down when the shell that created it exits, for whatever reason.
lab_new()
{
	local id=mp$BASHPID n=1
	((EUID == 0)) || lab_err "must be root" || return
	while [[ -e $LAB_BASE/$id ]] || compgen -G "/run/netns/$id-*" >/dev/null; do
		id=mp${BASHPID}x$((++n))
	done
	mkdir -p "$LAB_BASE/$id" || return
	echo "$BASHPID" >"$LAB_BASE/$id/owner"
	LAB_ID=$id
	LAB_DIR=$LAB_BASE/$id
	LAB_OWNED+=" $BASHPID:$id"
	trap _lab_on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
}

# lab_use ID: make an existing lab (e.g. one kept by the demo) current.
lab_use()
{
	[[ -d $LAB_BASE/$1 ]] || lab_err "no lab '$1' under $LAB_BASE" || return
	LAB_ID=$1
	LAB_DIR=$LAB_BASE/$1
}

# lab_keep: the current lab outlives this shell (tear down with lab_down ID).
lab_keep()
{
	echo kept >"$LAB_DIR/owner"
	_lab_disown "$LAB_ID"
}

_lab_disown()
{
	local e keep=
	for e in $LAB_OWNED; do
		[[ ${e#*:} == "$1" ]] || keep+=" $e"
	done
	LAB_OWNED=$keep
}

# The EXIT trap: tear down this shell's labs, then run LAB_EXIT_HOOK
# ("PID:COMMAND", e.g. the test runner's own cleanup) if this shell is PID.
_lab_on_exit()
{
	local e
	set +e
	for e in $LAB_OWNED; do
		[[ ${e%%:*} == "$BASHPID" ]] && lab_down "${e#*:}"
	done
	[[ ${LAB_EXIT_HOOK%%:*} != "$BASHPID" ]] || ${LAB_EXIT_HOOK#*:}
	return 0
}

# lab_netns [ID]: the lab's namespace names, one a line.
lab_netns()
{
	local f
	for f in /run/netns/"${1:-$LAB_ID}"-*; do
		[[ -e $f ]] && echo "${f##*/}"
	done
	return 0
}

_lab_pids() { local ns; for ns; do timeout 5 ip netns pids "$ns" 2>/dev/null; done; }
_lab_no_pids() { [[ -z $(_lab_pids "$@") ]]; }

# _lab_kill SIG NS...: signal every process in the namespaces.
_lab_kill()
{
	local sig=$1 pids
	shift
	pids=$(_lab_pids "$@")
	# shellcheck disable=SC2086
	[[ -z $pids ]] || kill "-$sig" $pids 2>/dev/null || true
}

# lab_down [ID]: kill the lab's processes, delete its namespaces and folder.
# Never fails: it runs from the EXIT trap, possibly under set -e.
lab_down()
{
	local id=${1:-${LAB_ID:-}} ns all
	[[ -n $id ]] || return 0
	mapfile -t all < <(lab_netns "$id")
	_lab_log "$id" lab_down
	if ((${#all[@]})); then
		_lab_kill TERM "${all[@]}"
		lab_wait 3 _lab_no_pids "${all[@]}" || _lab_kill KILL "${all[@]}"
		lab_wait 3 _lab_no_pids "${all[@]}" || lab_err "$id: processes survive SIGKILL" || true
		for ns in "${all[@]}"; do
			timeout 5 ip netns del "$ns" || true
			rm -rf "/etc/netns/${ns:?}"
		done
	fi
	rm -rf "${LAB_BASE:?}/$id"
	_lab_disown "$id"
	[[ $id != "${LAB_ID:-}" ]] || unset LAB_ID LAB_DIR
	return 0
}

# lab_reap: tear down labs whose creating shell died without cleaning up.
lab_reap()
{
	local d owner
	for d in "$LAB_BASE"/mp*; do
		[[ -s $d/owner ]] || continue
		read -r owner <"$d/owner"
		[[ $owner == kept ]] || kill -0 "$owner" 2>/dev/null || lab_down "${d##*/}"
	done
}

# ---------------------------------------------------------------- nodes and links

# Holder: the process that keeps a namespace's namespaces; everything else
# enters them with nsenter. It gets a private tmpfs on /run and, for nodes,
# the node's own config folder on /etc/wireguard (meshctl reads *.conf
# there) and a resolv.conf naming only 127.0.0.1: a reverse lookup (mtr,
# pathping) is refused on the node's loopback instead of sending a DNS
# query across the topology, where it would take an ICMP error from a
# rate-limited router or show up in a capture. Its pid file, written last,
# says it is ready.
# shellcheck disable=SC2016
_LAB_HOLDER='
dir=$1 name=$2
shift 2
mount -t tmpfs -o mode=0755,size=16m lab-run /run || exit
mkdir -m 0700 /run/wireguard && mkdir -m 0755 /run/meshperf || exit
if [ -d "$dir/wireguard" ] && [ -d /etc/wireguard ]; then
	mount --bind "$dir/wireguard" /etc/wireguard || exit
fi
if [ -d "$dir/wireguard" ] && [ -e /etc/resolv.conf ]; then
	printf "# lab node: no DNS server on the topology\nnameserver 127.0.0.1\n" \
		>"$dir/resolv.conf" && mount --bind "$dir/resolv.conf" /etc/resolv.conf || exit
fi
for s in "$@"; do
	echo "${s#*=}" >"/proc/sys/${s%%=*}" || exit
done
echo "$name" >/proc/sys/kernel/hostname && ip link set lo up || exit
echo $$ >"$dir/pid"
exec sleep infinity'

# _lab_ns_add KIND NAME...: namespaces and their holders, made in parallel.
# KIND is node or wire.
_lab_ns_add()
{
	local kind=$1 name ns d
	shift
	local sysctls=("${LAB_SYSCTL_NODE[@]}" "${LAB_SYSCTL_ICMP_OFF[@]}")
	[[ $kind == node ]] || sysctls=("${LAB_SYSCTL_WIRE[@]}")
	for name; do
		d=$LAB_DIR/$name
		[[ ! -e $d ]] || lab_err "'$name' exists" || return
		# shellcheck disable=SC2174 # -m for the three leaves is the point
		[[ $kind == node ]] && mkdir -p -m 0700 "$d/impair" "$d/wireguard" "$d/setconf"
		[[ $kind == wire ]] && mkdir -p "$d/impair" && : >"$d/wire"
		_lab_ns "$name" ns
		_lab_log "$name" "holder ($kind)"
		{ ip netns add "$ns" && exec ip netns exec "$ns" \
			unshare --mount --uts --propagation slave -- \
			sh -c "$_LAB_HOLDER" holder "$d" "$name" "${sysctls[@]}"; } \
			</dev/null >"$d/holder.log" 2>&1 3>&- 4>&- 5>&- 19<&- &
		disown $!
	done
	for name; do
		lab_wait "$LAB_UP_TIMEOUT" test -s "$LAB_DIR/$name/pid" ||
			lab_err "holder of '$name' failed: $(cat "$LAB_DIR/$name/holder.log")" ||
			return
	done
}

# lab_node_add NAME...: nodes (no '-' in names: "A-B" is a link).
lab_node_add()
{
	local name
	for name; do
		[[ $name =~ ^[a-z][a-z0-9]*$ ]] || lab_err "node names are [a-z][a-z0-9]*: '$name'" ||
			return
	done
	_lab_ns_add node "$@"
}

# ip(8) batches: lines queued per namespace by _lab_stage, run by
# _lab_flush, one `ip -b` per namespace, all namespaces at once.
_lab_stage()
{
	local name=$1
	shift
	printf '%s\n' "$@" >>"$LAB_DIR/$name/batch"
}

_lab_flush()
{
	local name pids=() names=() i rc=0
	local -A seen=()
	for name; do
		[[ -s $LAB_DIR/$name/batch && -z ${seen[$name]:-} ]] || continue
		seen[$name]=1
		lab_ip "$name" -b "$LAB_DIR/$name/batch" >"$LAB_DIR/$name/batch.log" 2>&1 &
		pids+=($!) names+=("$name")
	done
	for i in "${!pids[@]}"; do
		name=${names[i]}
		if wait "${pids[i]}"; then
			mv "$LAB_DIR/$name/batch" "$LAB_DIR/$name/batch.done"
		else
			rc=1
			lab_err "$name: ip -b failed: $(cat "$LAB_DIR/$name/batch.log")"
		fi
	done
	return $rc
}

# lab_link_add A-B[:MTU]...: for each, a link between nodes A and B through
# the wire namespace "A-B": A's interface to-B, wire ports A and B on bridge
# br0, B's interface to-A. Direction "ab" is A to B. MTU default 1500.
lab_link_add()
{
	local spec links=() ends=()
	for spec; do
		links+=("${spec%%:*}")
		ends+=("${spec%%-*}" "${spec#*-}")
	done
	_lab_link_stage "$@" && _lab_flush "${ends[@]%%:*}" && _lab_flush "${links[@]}" &&
		_lab_captures
}

# _lab_link_stage A-B[:MTU]...: make the wires and queue the links' ip
# commands (the node ends first: they create the veths).
_lab_link_stage()
{
	local spec links=()
	for spec; do
		links+=("${spec%%:*}")
	done
	_lab_ns_add wire "${links[@]}" || return
	for spec; do
		_lab_link_queue "${spec%%:*}" "$(_lab_spec_mtu "$spec")"
	done
}

_lab_spec_mtu() { [[ $1 == *:* ]] && echo "${1##*:}" || echo 1500; }

# A node end's ifindex is 1000 + its link count, never a wire port's: a veth
# whose ifindex equals its peer's (in another namespace) has its carrier
# change delayed by linkwatch for up to a second, and the bridge port stays
# disabled meanwhile.
_lab_link_queue()
{
	local link=$1 mtu=$2 a=${1%%-*} b=${1#*-} w
	_lab_ns "$link" w
	echo "$mtu" >"$LAB_DIR/$link/mtu0"
	_lab_veth_queue "$a" "$b" "$w" "$mtu"
	_lab_veth_queue "$b" "$a" "$w" "$mtu"
	_lab_stage "$link" "link add br0 type bridge mcast_snooping 0" \
		"link set $a master br0 up" "link set $b master br0 up" "link set br0 up"
	[[ -z $LAB_PCAP_DIR ]] || echo "$a" >"$LAB_DIR/$link/pcap.port"
}

# _lab_veth_queue NODE PEER WIRE_NS MTU: NODE's to-PEER, wire port NODE.
_lab_veth_queue()
{
	local f=$LAB_DIR/$1/links n=0
	[[ -s $f ]] && read -r n <"$f"
	echo $((++n)) >"$f"
	_lab_stage "$1" "link add to-$2 index $((1000 + n)) mtu $4 type veth peer name $1 mtu $4 netns $3" \
		"link set to-$2 up"
}

# _lab_captures: with LAB_PCAP_DIR set, capture each new link on its A-side
# port (both directions) into LAB_PCAP_DIR/<id>-<link>.pcap.
_lab_captures()
{
	local f link tool=(dumpcap -q -i)
	[[ -n $LAB_PCAP_DIR ]] || return 0
	mkdir -p "$LAB_PCAP_DIR"
	command -v tcpdump >/dev/null && tool=(tcpdump -n -U -i)
	for f in "$LAB_DIR"/*/pcap.port; do
		[[ -e $f ]] || continue
		link=${f%/pcap.port} link=${link##*/}
		lab_spawn "$link" pcap "${tool[@]}" "$(cat "$f")" -w "$LAB_PCAP_DIR/$LAB_ID-$link.pcap"
		mv "$f" "$f.done"
	done
}

# lab_addr NODE IF ADDR/PLEN [peer ADDR/PLEN]: add an address (IPv6 without DAD).
lab_addr()
{
	local node=$1 dev=$2 addr=$3 nodad=
	shift 3
	[[ $addr == *:* ]] && nodad=nodad
	lab_ip "$node" addr add "$addr" "$@" dev "$dev" $nodad
}

# ---------------------------------------------------------------- topology (a): line
#
#  c ==[c-r1]== r1 ==[r1-r2]== r2 ==[r2-s]== s      ([A-B]: wire namespace)
#  link k = 1, 2, 3: 10.200.k.0/24 and fdac:c8:k::/64, left end .1 / ::1,
#  right end .2 / ::2. Hosts route via their router, routers statically.

LAB_LINE_NODES=(c r1 r2 s)
LAB_LINE_LINKS=(c-r1 r1-r2 r2-s)

# lab_line [MTU1 [MTU2 [MTU3]]]: build the line (MTUs of c-r1, r1-r2, r2-s).
lab_line()
{
	local k
	lab_node_add "${LAB_LINE_NODES[@]}" &&
		_lab_link_stage "c-r1:${1:-1500}" "r1-r2:${2:-1500}" "r2-s:${3:-1500}" || return
	_lab_stage c "addr add 10.200.1.1/24 dev to-r1" "addr add fdac:c8:1::1/64 dev to-r1 nodad" \
		"route add default via 10.200.1.2" "route add ::/0 via fdac:c8:1::2"
	_lab_stage r1 "addr add 10.200.1.2/24 dev to-c" "addr add fdac:c8:1::2/64 dev to-c nodad" \
		"addr add 10.200.2.1/24 dev to-r2" "addr add fdac:c8:2::1/64 dev to-r2 nodad" \
		"route add 10.200.3.0/24 via 10.200.2.2" "route add fdac:c8:3::/64 via fdac:c8:2::2"
	_lab_stage r2 "addr add 10.200.2.2/24 dev to-r1" "addr add fdac:c8:2::2/64 dev to-r1 nodad" \
		"addr add 10.200.3.1/24 dev to-s" "addr add fdac:c8:3::1/64 dev to-s nodad" \
		"route add 10.200.1.0/24 via 10.200.2.1" "route add fdac:c8:1::/64 via fdac:c8:2::1"
	_lab_stage s "addr add 10.200.3.2/24 dev to-r2" "addr add fdac:c8:3::2/64 dev to-r2 nodad" \
		"route add default via 10.200.3.1" "route add ::/0 via fdac:c8:3::1"
	_lab_flush "${LAB_LINE_NODES[@]}" && _lab_flush "${LAB_LINE_LINKS[@]}" || return
	for k in "${LAB_LINE_NODES[@]}"; do
		echo line >"$LAB_DIR/$k/topology"
	done
	_lab_captures
}

# ---------------------------------------------------------------- topology (b): mesh
#
# Sites site0..site<N-1>. Every pair i<j has its own underlay link
# "site<i>-site<j>", so one pair's path can be delayed, made lossy or cut
# alone (on one shared switch, mp-wire could not delay one pair only).
# Addresses are point-to-point: site i is 172.16.i.j peer 172.16.j.i and
# fdac:ca::i:j peer fdac:ca::j:i (i, j in hex) on its interface to-site<j>.
#
# Tunnel wgX.Y_vZ (site X to site Y, outer family Z) listens on UDP
# 30000 + 10*Y + Z and reaches site Y's wgY.X_vZ. Inner addresses: over _v4
# 10.201.X.(100+Y) peer 10.201.Y.(100+X) and fdac:c9:X::4:Y peer
# fdac:c9:Y::4:X; over _v6 10.201.X.(200+Y) and fdac:c9:X::6:Y. Site X's own
# address: 10.201.X.1/32 and fdac:c9:X::1/128 on lo. AllowedIPs 0.0.0.0/0,
# ::/0 (one peer per interface, so routes decide and relaying works); the lab
# installs no site routes (meshctl's job).

# Under the ephemeral range (32768..60999): wireguard-go 0.0.20220316 binds a
# random port as it starts, before `wg setconf`, and one of a site's ports
# taken that way fails setconf with EADDRINUSE.
LAB_WG_PORT=30000
LAB_WG_MTU=1420

# lab_wg_name X Y Z [VAR]: "wgX.Y_vZ" (into VAR, or printed).
lab_wg_name() { _lab_out "${4:-}" "wg$1.$2_v$3"; }
# lab_wg_port Y Z [VAR]: the port a site's tunnel to site Y over family Z
# listens on (wgX.Y_vZ: 30000 + 10 Y + Z, the same at every site X).
lab_wg_port() { _lab_out "${3:-}" $((LAB_WG_PORT + 10 * $1 + $2)); }
# lab_wg_addr X Y Z INNER [VAR]: site X's inner address (INNER 4 or 6) on wgX.Y_vZ.
lab_wg_addr()
{
	local _a=10.201.$1.$(($3 == 4 ? 100 + $2 : 200 + $2))
	[[ $4 == 4 ]] || printf -v _a 'fdac:c9:%x::%x:%x' "$1" "$3" "$2"
	_lab_out "${5:-}" "$_a"
}
# lab_ul_addr X Y FAMILY [VAR]: site X's underlay address on its link to site Y.
lab_ul_addr()
{
	local _a=172.16.$1.$2
	[[ $3 == 4 ]] || printf -v _a 'fdac:ca::%x:%x' "$1" "$2"
	_lab_out "${4:-}" "$_a"
}

_lab_out() { if [[ -n $1 ]]; then printf -v "$1" '%s' "$2"; else echo "$2"; fi; }

# lab_mesh_sites: how many sites the mesh has (0: none).
lab_mesh_sites()
{
	local n=0
	[[ -s $LAB_DIR/mesh ]] && read -r n <"$LAB_DIR/mesh"
	echo "$n"
}

# lab_mesh_pair I J: the underlay link of sites I and J (lower site first).
lab_mesh_pair() { (($1 < $2)) && echo "site$1-site$2" || echo "site$2-site$1"; }

# lab_mesh_route S D [FAMILY [PROTO]]: the device of site S's route of PROTO
# (default 201, meshctl's) to site D's net of FAMILY (4, the default, or 6):
# 10.201.D.0/24 or fdac:c9:D::/64. Empty when there is none or it has no
# device (unreachable).
lab_mesh_route()
{
	local net=10.201.$2.0/24 f=-4
	[[ ${3:-4} == 4 ]] || { printf -v net 'fdac:c9:%x::/64' "$2"; f=-6; }
	lab_ip "site$1" "$f" -j route show "$net" proto "${4:-201}" | jq -r '.[0].dev // ""'
}

# lab_mesh_direct S D [PROTO]: S routes D's IPv4 net over a tunnel wgS.D_v*.
lab_mesh_direct() { [[ $(lab_mesh_route "$1" "$2" 4 "${3:-201}") == "wg$1.$2_v"[46] ]]; }

# lab_mesh_relayed S D [PROTO]: S routes D's IPv4 net through another site.
lab_mesh_relayed()
{
	local d
	d=$(lab_mesh_route "$1" "$2" 4 "${3:-201}")
	[[ -n $d && $d != "wg$1.$2_v"[46] ]]
}

# lab_mesh_all_direct [PROTO]: every site routes both nets of every other
# site over a direct tunnel.
lab_mesh_all_direct()
{
	local n s d
	n=$(lab_mesh_sites)
	for ((s = 0; s < n; s++)); do
		for ((d = 0; d < n; d++)); do
			((s != d)) || continue
			lab_mesh_direct "$s" "$d" "${1:-201}" &&
				[[ $(lab_mesh_route "$s" "$d" 6 "${1:-201}") == "wg$s.${d}_v"[46] ]] ||
				return 1
		done
	done
}

# lab_mesh_failover A B PROTO OUT [WAIT]: one silent failure of the pair A-B
# (lab_wg_silent, both directions), seen from site A by `ip -ts monitor
# route` and a ping every 10 ms to 10.201.B.1. The failure starts at a random
# moment of a second (a steady rhythm would pick the same moment of every
# probe interval); t0 is when its nft rule is in place. Waits up to WAIT s
# (default 5) for both ends to route over another site (routes of PROTO:
# 201, bird, ...), keeps pinging 2.5 s, lifts the failure, and appends
# "route_s answer_s lost" (tests/lab/failover_times.py; replies in flight
# at t0 come within 20 ms) to OUT. Fails when the ends did not move.
lab_mesh_failover()
{
	local a=$1 b=$2 proto=$3 out=$4 t0 link rc=0
	link=$(lab_mesh_pair "$a" "$b")
	lab_spawn "site$a" mon ip -ts monitor route || return
	lab_spawn "site$a" ping ping -D -n -i 0.01 -W 1 "10.201.$b.1" || return
	lab_wait 3 grep -qs 'bytes from' "$LAB_DIR/site$a/ping.log" || return
	sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
	lab_wg_silent "$link" both on || return
	t0=$EPOCHREALTIME
	lab_wait "${5:-5}" eval "lab_mesh_relayed $a $b $proto && lab_mesh_relayed $b $a $proto" ||
		rc=$?
	sleep 2.5
	lab_stop "site$a" ping
	lab_stop "site$a" mon
	lab_wg_silent "$link" both off || return
	"$LAB_TOP/tests/lab/failover_times.py" "$t0" "$LAB_DIR/site$a/mon.log" \
		"$LAB_DIR/site$a/ping.log" "$a" "$b" 0.02 >>"$out" || return
	return "$rc"
}

# lab_median NUMBER...: their median (the mean of the middle two of an even count).
lab_median()
{
	printf '%s\n' "$@" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) print (v[int((NR + 1) / 2)] + v[int(NR / 2) + 1]) / 2 }'
}

# lab_mesh [N]: N sites (default 4), a full mesh of wgX.Y_v4/_v6 tunnels.
lab_mesh()
{
	local n=${1:-4} i j sites=() links=()
	((n >= 2 && n <= 50)) || lab_err "a mesh has 2 to 50 sites: '$n'" || return
	for ((i = 0; i < n; i++)); do
		sites+=("site$i")
		for ((j = i + 1; j < n; j++)); do
			links+=("site$i-site$j")
		done
	done
	lab_node_add "${sites[@]}" && _lab_link_stage "${links[@]}" || return
	for ((i = 0; i < n; i++)); do
		_lab_mesh_underlay "$i" "$n"
	done
	_lab_flush "${sites[@]}" && _lab_flush "${links[@]}" && _lab_wg_keys "${sites[@]}" || return
	echo "$n" >"$LAB_DIR/mesh"
	for ((i = 0; i < n; i++)); do
		echo mesh >"$LAB_DIR/site$i/topology"
		_lab_wg_confs "$i" "$n" && _lab_wg_script "$i" "$n" || return
	done
	_lab_par "${sites[@]}" -- sh -e @d/up.sh && _lab_captures
}

_lab_mesh_underlay()
{
	local i=$1 n=$2 j me peer me6 peer6 lines=()
	printf -v me6 'fdac:c9:%x::1' "$i"
	lines+=("addr add 10.201.$i.1/32 dev lo" "addr add $me6/128 dev lo")
	for ((j = 0; j < n; j++)); do
		((i != j)) || continue
		lab_ul_addr "$i" "$j" 4 me && lab_ul_addr "$j" "$i" 4 peer
		lab_ul_addr "$i" "$j" 6 me6 && lab_ul_addr "$j" "$i" 6 peer6
		lines+=("addr add $me/32 peer $peer/32 dev to-site$j"
			"addr add $me6/128 peer $peer6/128 dev to-site$j nodad")
	done
	_lab_stage "site$i" "${lines[@]}"
}

# One key pair per site, shared by its tunnels (each has a different peer).
_lab_wg_keys()
{
	local s folders=()
	for s; do
		folders+=("$LAB_DIR/$s/wireguard")
	done
	# shellcheck disable=SC2016
	timeout "$LAB_TIMEOUT" sh -ec 'umask 077; for d; do
		wg genkey >"$d/private.key"; wg pubkey <"$d/private.key" >"$d/public.key"
	done' keys "${folders[@]}"
}

# wg-quick style files in the site's config folder; `wg setconf` gets a copy
# without the wg-quick keys (Address, MTU) in setconf/.
_lab_wg_confs()
{
	local x=$1 n=$2 y z key ifn d=$LAB_DIR/site$1
	read -r key <"$d/wireguard/private.key"
	for ((y = 0; y < n; y++)); do
		((x != y)) || continue
		for z in 4 6; do
			lab_wg_name "$x" "$y" "$z" ifn
			_lab_wg_conf "$x" "$y" "$z" "$key" >"$d/wireguard/$ifn.conf"
			_lab_wg_conf "$x" "$y" "$z" "$key" setconf >"$d/setconf/$ifn.conf"
		done
	done
}

# _lab_wg_conf X Y Z PRIVATE_KEY [setconf]
_lab_wg_conf()
{
	local x=$1 y=$2 z=$3 pub ep port listen ifn a4 a6
	read -r pub <"$LAB_DIR/site$y/wireguard/public.key"
	lab_ul_addr "$y" "$x" "$z" ep && lab_wg_port "$x" "$z" port && lab_wg_port "$y" "$z" listen
	lab_wg_name "$x" "$y" "$z" ifn
	[[ $z == 6 ]] && ep="[$ep]"
	lab_wg_addr "$x" "$y" "$z" 4 a4 && lab_wg_addr "$x" "$y" "$z" 6 a6
	echo "# $ifn: site $x to site $y over IPv$z (meshperf lab $LAB_ID)"
	echo "[Interface]"
	echo "PrivateKey = $4"
	[[ -n ${5:-} ]] || echo "Address = $a4/32, $a6/128"
	echo "ListenPort = $listen"
	[[ -n ${5:-} ]] || echo "MTU = $LAB_WG_MTU"
	printf '\n[Peer]\nPublicKey = %s\nEndpoint = %s:%s\nAllowedIPs = 0.0.0.0/0, ::/0\n' \
		"$pub" "$ep" "$port"
}

# The site's up.sh (kept in its folder: what was run is visible there) starts
# one wireguard-go per tunnel, waits for the UAPI sockets, configures.
_lab_wg_script()
{
	local x=$1 n=$2 d=$LAB_DIR/site$1 y z ifn cmds=()
	local a4 p4 a6 p6
	{
		echo "cd '$d'"
		for ((y = 0; y < n; y++)); do
			((x != y)) || continue
			for z in 4 6; do
				lab_wg_name "$x" "$y" "$z" ifn
				echo "wireguard-go -f $ifn </dev/null >$ifn.log 2>&1 3>&- 4>&- 5>&- &" \
					"echo \$! >$ifn.pid"
				lab_wg_addr "$x" "$y" "$z" 4 a4 && lab_wg_addr "$y" "$x" "$z" 4 p4
				lab_wg_addr "$x" "$y" "$z" 6 a6 && lab_wg_addr "$y" "$x" "$z" 6 p6
				# up first: an IPv6 peer route is not made for an
				# address added while the interface is down
				cmds+=("link set $ifn mtu $LAB_WG_MTU up"
					"addr add $a4/32 peer $p4/32 dev $ifn"
					"addr add $a6/128 peer $p6/128 dev $ifn nodad")
			done
		done
		# the socket file exists from wireguard-go's bind(), before its
		# listen(): a wg that cannot connect yet falls back to the kernel's
		# genetlink, absent here ("Protocol not supported"), so try again
		echo "for f in setconf/*.conf; do i=\${f#setconf/}; i=\${i%.conf}"
		echo "	n=0; until [ -S /run/wireguard/\$i.sock ] && wg setconf \$i \$f 2>/dev/null; do"
		echo "		n=\$((n + 1)); [ \$n -lt 750 ] || { wg setconf \$i \$f; exit 1; }"
		echo "		sleep 0.02; done"
		echo "done"
		echo "ip -b - <<'EOF'"
		printf '%s\n' "${cmds[@]}"
		echo "EOF"
	} >"$d/up.sh"
}

# _lab_par NAME... -- CMD...: CMD in each NAME, all at once; "@d" in CMD
# stands for NAME's folder.
_lab_par()
{
	local names=() name pids=() i rc=0
	while [[ $1 != -- ]]; do
		names+=("$1")
		shift
	done
	shift
	for name in "${names[@]}"; do
		lab_exec "$name" "${@//@d/$LAB_DIR/$name}" >"$LAB_DIR/$name/par.log" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[i]}" && continue
		lab_err "${names[i]}: $* failed: $(cat "$LAB_DIR/${names[i]}/par.log")"
		rc=1
	done
	return $rc
}

# lab_mesh_pings [COUNT]: ping every ordered pair of sites over both tunnel
# families, inner IPv4 and IPv6 (COUNT probes each, default 1), one shell per
# site, all sites at once: first towards higher sites (one handshake per
# tunnel, not two crossing), then towards lower ones. Prints one line per
# ping: "X Y Z INNER sent received avg_us".
lab_mesh_pings()
{
	local count=${1:-1} n x
	n=$(lab_mesh_sites)
	for ((x = 0; x < n; x++)); do
		_lab_ping_script "$x" "$n" "$count" up && _lab_ping_script "$x" "$n" "$count" down
	done
	_lab_par $(seq -f 'site%g' 0 $((n - 1))) -- sh @d/pings.up.sh &&
		_lab_par $(seq -f 'site%g' 0 $((n - 1))) -- sh @d/pings.down.sh || return
	# ping(8) -q summaries into numbers, once (it has no machine format)
	awk 'function out(k) { k = f; sub(/.*\//, "", k); gsub(/-/, " ", k)
			printf "%s %d %d %d\n", k, s, r, a; s = r = a = 0 }
		FNR == 1 && f != "" { out() }
		{ f = FILENAME }
		/packets transmitted/ { s = $1; r = $4 }
		/^rtt/ { split($4, v, "/"); a = v[2] * 1000 }
		END { if (f != "") out() }' "$LAB_DIR"/site*/pings/*
}

# _lab_ping_script X N COUNT up|down: site X's pings.DIR.sh, pinging
# the sites above (up) or below (down) it; outputs in pings/X-Y-Z-INNER.
_lab_ping_script()
{
	local x=$1 n=$2 count=$3 y z inner dst d=$LAB_DIR/site$1 lo=$(($1 + 1)) hi=$2
	[[ $4 == up ]] || lo=0 hi=$1
	mkdir -p "$d/pings"
	{
		for ((y = lo; y < hi; y++)); do
			for z in 4 6; do
				for inner in 4 6; do
					lab_wg_addr "$y" "$x" "$z" "$inner" dst
					echo "ping -n -q -c $count -i 0.2 -W 6 $dst" \
						">'$d/pings/$x-$y-$z-$inner' 2>&1 &"
				done
			done
		done
		echo wait
	} >"$d/pings.$4.sh"
}

# ---------------------------------------------------------------- impairments
#
# Each setter records what it did in $LAB_DIR/<target>/impair/<kind> (shown by
# lab_show, undone by lab_reset); "off" empties the record.

_lab_mark()
{
	local f=$LAB_DIR/$1/impair/$2
	shift 2
	printf '%s' "$*" >"$f"
}

_lab_need_link()
{
	_lab_is_wire "$1" || lab_err "no link '$1' in lab ${LAB_ID:-?}"
}

# _lab_port LINK DIR VAR: VAR = the wire port traffic in DIR leaves by.
_lab_port()
{
	case $2 in
	ab) printf -v "$3" '%s' "${1#*-}" ;;
	ba) printf -v "$3" '%s' "${1%%-*}" ;;
	*) lab_err "direction must be ab, ba or both: '$2'" ;;
	esac
}

# _lab_dirs DIR VAR: VAR = the list of directions DIR stands for.
_lab_dirs()
{
	case $1 in
	both) printf -v "$2" 'ab ba' ;;
	ab | ba) printf -v "$2" '%s' "$1" ;;
	*) lab_err "direction must be ab, ba or both: '$1'" ;;
	esac
}

# lab_delay LINK off | DELAY_AB DELAY_BA [mp-wire options...]: take the
# link's ports off the bridge and run mp-wire between them ("off": back to
# the plain bridge). Example: lab_delay c-r1 30ms 10ms --jitter-ab 5ms --reorder
lab_delay()
{
	local link=$1 a=${1%%-*} b=${1#*-} d=$LAB_DIR/$1
	shift
	_lab_need_link "$link" || return
	lab_stop "$link" wire
	if [[ $1 == off ]]; then
		_lab_stage "$link" "link set $a master br0" "link set $b master br0"
		_lab_flush "$link" && _lab_mark "$link" delay
		return
	fi
	[[ -x $LAB_WIRE ]] || lab_err "no mp-wire at $LAB_WIRE (make lab)" || return
	local ab=$1 ba=$2
	shift 2
	_lab_stage "$link" "link set $a nomaster" "link set $b nomaster"
	_lab_flush "$link" || return
	rm -f "$d/wire.ready" "$d/wire.stats"
	local rt=()
	_lab_wire_rt rt
	lab_spawn "$link" wire "${rt[@]}" "$LAB_WIRE" --delay-ab "$ab" --delay-ba "$ba" \
		--ready-file "$d/wire.ready" --stats-file "$d/wire.stats" "$@" "$a" "$b"
	lab_wait "$LAB_UP_TIMEOUT" _lab_wire_ready "$link" && lab_running "$link" wire ||
		lab_err "$link: mp-wire did not start: $(cat "$d/wire.log")" || return
	_lab_mark "$link" delay "delay ab $ab ba $ba${*:+ $*}"
}

# _lab_wire_rt VAR: VAR = the command prefix that runs mp-wire at real-time
# priority (LAB_WIRE_RT), so other load on the machine does not delay
# frames; none where the kernel refuses it (checked once).
_lab_wire_rt()
{
	if [[ -z ${_LAB_RT_OK:-} ]]; then
		_LAB_RT_OK=no
		[[ -n $LAB_WIRE_RT ]] && timeout 5 chrt -f "$LAB_WIRE_RT" true 2>/dev/null &&
			_LAB_RT_OK=yes
	fi
	local -n _lab_rt_ret=$1
	[[ $_LAB_RT_OK == no ]] || _lab_rt_ret=(chrt -f "$LAB_WIRE_RT")
}

_lab_wire_ready() { [[ -e $LAB_DIR/$1/wire.ready ]] || ! lab_running "$1" wire; }

# lab_wire_stats LINK: every counter of the link's running mp-wire, "KEY VALUE"
# per line (ab_frames, ba_late_sum_ns, ...: mp-wire --stats-file), read at
# once; or those of its last run.
lab_wire_stats()
{
	local link=$1 f=$LAB_DIR/$1/wire.stats pid
	if lab_running "$link" wire; then
		read -r pid <"$LAB_DIR/$link/wire.pid"
		rm -f "$f"
		kill -USR1 "$pid"
		lab_wait "$LAB_UP_TIMEOUT" test -e "$f" || lab_err "$link: no mp-wire stats" || return
	fi
	cat "$f"
}

# lab_wire_stat LINK KEY: one counter of lab_wire_stats.
lab_wire_stat()
{
	local k v
	while read -r k v; do
		[[ $k == "$2" ]] && echo "$v" && return
	done < <(lab_wire_stats "$1")
	lab_err "$1: no mp-wire counter '$2'"
}

# _lab_nft_chain LINK DIR KIND PRIO [RULE...]: (re)build the egress chain
# KIND_DIR on the port DIR leaves by: the link-control exemptions, then the
# rules. Without rules the chain goes. Counters named in the rules are made
# anew (zero).
_lab_nft_chain()
{
	local link=$1 dir=$2 kind=$3 prio=$4 port r c
	shift 4
	_lab_port "$link" "$dir" port || return
	local chain=${kind}_$dir hook="type filter hook egress device \"$port\" priority $prio;"
	local f=$LAB_DIR/$link/$chain.nft
	{
		echo "add table netdev lab"
		echo "add chain netdev lab $chain { $hook }"
		echo "delete chain netdev lab $chain"
		for r; do
			[[ $r =~ counter\ name\ ([a-z0-9_]+) ]] || continue
			c=${BASH_REMATCH[1]}
			echo "add counter netdev lab $c"
			echo "delete counter netdev lab $c"
			echo "add counter netdev lab $c"
		done
		if (($#)); then
			echo "add chain netdev lab $chain { $hook }"
			for r in "${LAB_NFT_EXEMPT[@]}" "$@"; do
				echo "add rule netdev lab $chain $r"
			done
		fi
	} >"$f"
	lab_exec "$link" nft -f "$f"
}

# _lab_nft_dirs LINK DIR KIND PRIO STATE DESC RULE...: _lab_nft_chain for
# each direction; in DESC and RULEs "@d" stands for the direction and "@p"
# for the port it leaves by. STATE "off" removes the chain instead.
_lab_nft_dirs()
{
	local link=$1 dirs=$2 kind=$3 prio=$4 state=$5 desc=$6 d port r rules
	shift 6
	_lab_need_link "$link" && _lab_dirs "$dirs" dirs || return
	for d in $dirs; do
		_lab_port "$link" "$d" port
		rules=()
		if [[ $state != off ]]; then
			for r; do
				r=${r//@d/$d}
				rules+=("${r//@p/$port}")
			done
		fi
		_lab_nft_chain "$link" "$d" "$kind" "$prio" "${rules[@]}" || return
		[[ $state != off ]] || desc=
		_lab_mark "$link" "$kind.$d" "${desc//@d/$d}"
	done
}

# lab_loss LINK DIR random PERMILLE [FAMILY [PROTO]] | nth N [FAMILY [PROTO]] | off
# DIR: ab, ba or both; FAMILY: 4, 6 or any (default); PROTO: udp, tcp, icmp,
# icmpv6 or any (default): only packets of that layer-4 protocol are judged,
# so a TCP control connection beside a UDP test keeps its packets and the
# UDP counts stay exact. Counters (lab_counter LINK NAME): seen_DIR (packets
# judged) and drop_DIR (dropped).
lab_loss()
{
	local link=$1 dirs=$2 mode=$3 arg=${4:-} fam='' proto match desc
	case ${5:-any} in
	any) ;;
	4) fam="meta protocol ip" ;;
	6) fam="meta protocol ip6" ;;
	*) lab_err "family must be 4, 6 or any: '$5'" || return ;;
	esac
	_lab_proto "${6:-any}" proto || return
	case $mode in
	random) _lab_chance "${arg:?permille}" match ;;
	nth) _lab_nth "$arg" match || return ;;
	off) ;;
	*) lab_err "loss must be random, nth or off: '$mode'" || return ;;
	esac
	desc="loss @d $mode $arg"
	[[ ${5:-any} == any ]] || desc+=" IPv$5"
	[[ ${6:-any} == any ]] || desc+=" $6"
	_lab_nft_dirs "$link" "$dirs" loss 0 "$mode" "$desc" \
		"$fam $proto counter name seen_@d" "$fam $proto $match counter name drop_@d drop"
}

# lab_dup LINK DIR PERMILLE [PROTO] | nth N [PROTO] | off: duplicate packets
# (PERMILLE 1000: every one; nth: every Nth, exact), only those of PROTO
# (as in lab_loss) when given. Counter dup_DIR.
# The copy goes out through the same egress hook: the mark stops it being
# copied again (and, tested first, keeps copies out of the nth count).
lab_dup()
{
	local match= proto desc="dup @d $3/1000" p=${4:-any}
	case $3 in
	off) ;;
	nth)
		_lab_nth "${4:-}" match || return
		p=${5:-any} desc="dup @d nth $4"
		;;
	*) _lab_chance "$3" match ;;
	esac
	_lab_proto "$p" proto || return
	[[ $p == any ]] || desc+=" $p"
	_lab_nft_dirs "$1" "$2" dup 10 "$3" "$desc" \
		"$proto meta mark != 0x6d70 $match meta mark set 0x6d70 counter name dup_@d dup to \"@p\""
}

# _lab_proto PROTO VAR: VAR = an nft match for layer-4 protocol PROTO
# (empty for any).
_lab_proto()
{
	case $1 in
	any) printf -v "$2" '' ;;
	udp | tcp | icmp | icmpv6) printf -v "$2" 'meta l4proto %s' "$1" ;;
	*) lab_err "protocol must be udp, tcp, icmp, icmpv6 or any: '$1'" ;;
	esac
}

# _lab_nth N VAR: VAR = an nft match true for every Nth packet judged.
_lab_nth()
{
	[[ $1 =~ ^[1-9][0-9]*$ ]] || lab_err "nth needs a count >= 1: '$1'" || return
	printf -v "$2" 'numgen inc mod %d == 0' "$1"
}

# _lab_chance PERMILLE VAR: VAR = an nft match true for PERMILLE/1000 of packets.
_lab_chance()
{
	if (($1 >= 1000)); then
		printf -v "$2" ''
	else
		printf -v "$2" 'numgen random mod 1000 < %d' "$1"
	fi
}

# lab_wg_silent LINK DIR on|off: the silent failure. WireGuard data
# messages (type 4: the UDP payload starts 04 00 00 00) are dropped,
# handshake messages (types 1-3) pass. Counters wgdata_DIR (dropped) and
# wghs_DIR (handshakes passed).
lab_wg_silent()
{
	_lab_nft_dirs "$1" "$2" silent -10 "$3" \
		"silent failure @d (WireGuard data dropped, handshakes pass)" \
		"meta l4proto udp @th,64,32 0x04000000 counter name wgdata_@d drop" \
		"meta l4proto udp @th,64,8 { 1, 2, 3 } @th,72,24 0 counter name wghs_@d"
}

# lab_count LINK NAME on MATCH... | off: count, never drop, the packets
# matching the nft expression MATCH (e.g. "udp length 120") in each
# direction of LINK: counters NAME_ab and NAME_ba, made anew (zero).
lab_count()
{
	local link=$1 name=$2 state=$3
	shift 3
	_lab_nft_dirs "$link" both "count_$name" -20 "$state" "counting $name ($*)" \
		"$* counter name ${name}_@d"
}

# lab_counter TARGET NAME [bytes]: packets (or bytes) counted by the named
# nft counter, in a link's wire (loss, dup, silent, count counters) or in a
# node (pmtu_bh).
lab_counter()
{
	local fam=inet table=lab_bh
	_lab_is_wire "$1" && fam=netdev table=lab
	lab_exec "$1" nft -j list counter "$fam" "$table" "$2" |
		jq -e ".nftables[] | select(.counter) | .counter.${3:-packets}"
}

# lab_rate LINK DIR RATE | off: token bucket (tbf) on the egress port, RATE
# as tc(8) takes it (20mbit). Its queue holds 20 ms.
lab_rate()
{
	local link=$1 dirs d port
	_lab_need_link "$link" && _lab_dirs "$2" dirs || return
	for d in $dirs; do
		_lab_port "$link" "$d" port
		if [[ $3 == off ]]; then
			lab_exec "$link" tc qdisc del dev "$port" root 2>/dev/null
			_lab_mark "$link" "rate.$d"
		else
			lab_exec "$link" tc qdisc replace dev "$port" root tbf rate "$3" \
				burst 16kb latency 20ms || return
			_lab_mark "$link" "rate.$d" "rate $d $3"
		fi
	done
	return 0
}

# lab_mtu LINK MTU | default: MTU of both ends and the wire's ports.
lab_mtu()
{
	local link=$1 mtu=$2 a=${1%%-*} b=${1#*-}
	_lab_need_link "$link" || return
	[[ $mtu != default ]] || read -r mtu <"$LAB_DIR/$link/mtu0"
	_lab_stage "$link" "link set $a mtu $mtu" "link set $b mtu $mtu"
	_lab_stage "$a" "link set to-$b mtu $mtu"
	_lab_stage "$b" "link set to-$a mtu $mtu"
	_lab_flush "$link" "$a" "$b" || return
	[[ $2 == default ]] && mtu=
	_lab_mark "$link" mtu "$mtu"
}

# lab_link_down LINK / lab_link_up LINK: hard failure, as a pulled cable:
# the wire's ports go down, so both nodes see their interface lose carrier.
lab_link_down() { _lab_link_state "$1" down && _lab_mark "$1" down "link down"; }
lab_link_up() { _lab_link_state "$1" up && _lab_mark "$1" down; }

_lab_link_state()
{
	_lab_need_link "$1" || return
	_lab_stage "$1" "link set ${1%%-*} $2" "link set ${1#*-} $2"
	_lab_flush "$1"
}

# lab_blackhole NODE on|off: PMTU black hole. NODE (a router) drops the
# ICMP frag-needed / Packet Too Big it sends (output hook). Counter pmtu_bh.
lab_blackhole()
{
	local node=$1
	if [[ $2 == off ]]; then
		# off when none was set is not an error (and must not trip set -e)
		lab_exec "$node" nft delete table inet lab_bh 2>/dev/null || true
		_lab_mark "$node" blackhole
		return 0
	fi
	lab_exec "$node" nft -f - <<-EOF || return
		table inet lab_bh {
			counter pmtu_bh { }
			chain output {
				type filter hook output priority 0;
				icmp type destination-unreachable icmp code frag-needed \
					counter name pmtu_bh drop
				icmpv6 type packet-too-big counter name pmtu_bh drop
			}
		}
	EOF
	_lab_mark "$node" blackhole "PMTU black hole (frag-needed / PTB dropped)"
}

# lab_icmp_ratelimit NODE on|off: the kernel's default ICMP error rate
# limits (on) or none (off, the lab's default).
lab_icmp_ratelimit()
{
	local node=$1 s=("${LAB_SYSCTL_ICMP_OFF[@]}") desc=
	[[ $2 == on ]] && s=("${LAB_SYSCTL_ICMP_ON[@]}") desc="ICMP rate limiting on"
	lab_exec "$node" sysctl -q -w "${s[@]}" >/dev/null && _lab_mark "$node" icmp_ratelimit "$desc"
}

# lab_flush_pmtu NODE...: forget learned path MTUs (IPv4 and IPv6).
lab_flush_pmtu()
{
	local n
	for n; do
		lab_ip "$n" route flush cache && lab_ip "$n" -6 route flush cache || return
	done
}

# lab_reset: undo every recorded impairment; flush learned PMTUs.
lab_reset()
{
	local f t kind pmtu=0
	for f in "$LAB_DIR"/*/impair/*; do
		[[ -s $f ]] || continue
		kind=${f##*/} t=${f%/impair/*} t=${t##*/}
		case $kind in
		delay) lab_delay "$t" off ;;
		loss.*) lab_loss "$t" "${kind#*.}" off ;;
		dup.*) lab_dup "$t" "${kind#*.}" off ;;
		silent.*) lab_wg_silent "$t" "${kind#*.}" off ;;
		count_*.*) kind=${kind#count_} && lab_count "$t" "${kind%.*}" off ;;
		rate.*) lab_rate "$t" "${kind#*.}" off ;;
		mtu) lab_mtu "$t" default && pmtu=1 ;;
		down) lab_link_up "$t" ;;
		blackhole) lab_blackhole "$t" off && pmtu=1 ;;
		icmp_ratelimit) lab_icmp_ratelimit "$t" off ;;
		esac || return
	done
	local nodes
	mapfile -t nodes < <(lab_nodes)
	((pmtu == 0)) || lab_flush_pmtu "${nodes[@]}"
}

# ---------------------------------------------------------------- observers

# lab_nodes / lab_links: names in the current lab, one a line.
lab_nodes() { _lab_list node; }
lab_links() { _lab_list wire; }

_lab_list()
{
	local d kind
	for d in "$LAB_DIR"/*/pid; do
		d=${d%/pid} kind=node
		[[ -e $d/wire ]] && kind=wire
		[[ $kind != "$1" ]] || echo "${d##*/}"
	done
}

# lab_snmp NODE KEY: a kernel SNMP counter of NODE, read from the host
# (/proc/<holder>/net/snmp, snmp6). KEY: Icmp.InEchos, Ip.ForwDatagrams, ...
# for IPv4, Icmp6OutTimeExcds, Ip6InReceives, ... for IPv6.
lab_snmp()
{
	local pid proto field line vals i
	local -a names=()
	_lab_pid "$1" pid || return
	if [[ $2 != *.* ]]; then
		while read -r -a line; do
			[[ ${line[0]} == "$2" ]] && echo "${line[1]}" && return
		done <"/proc/$pid/net/snmp6"
	else
		proto=${2%%.*}: field=${2#*.}
		while read -r -a line; do
			[[ ${line[0]} == "$proto" ]] || continue
			((${#names[@]})) || { names=("${line[@]}") && continue; }
			vals=("${line[@]}")
			for i in "${!names[@]}"; do
				[[ ${names[i]} == "$field" ]] && echo "${vals[i]}" && return
			done
		done <"/proc/$pid/net/snmp"
	fi
	lab_err "$1: no SNMP counter '$2'"
}

# lab_listening NODE udp|tcp PORT: true when a socket of NODE listens on
# PORT (IPv4 or IPv6), read from the host (/proc/<holder>/net/), no fork.
lab_listening()
{
	local pid f hex laddr st rest
	_lab_pid "$1" pid || return
	printf -v hex ':%04X' "$3"
	for f in "/proc/$pid/net/$2" "/proc/$pid/net/${2}6"; do
		while read -r _ laddr _ st rest; do
			# TCP must be LISTEN (0A); a bound UDP socket is 07
			[[ $laddr == *"$hex" && ($st == 0A || $2 == udp) ]] && return 0
		done <"$f"
	done
	return 1
}

# lab_ping NODE [PING_ARGS...] DST: prints "sent received avg_us". ping(8)
# has no machine format; its -q summary is turned into numbers here, once.
lab_ping()
{
	local node=$1 out
	shift
	out=$(lab_exec "$node" ping -n -q "$@" 2>&1) || true
	awk '/packets transmitted/ { s = $1; r = $4 }
		/^rtt|^round-trip/ { split($4, v, "/"); a = v[2] * 1000 }
		END { if (s == "") exit 1; printf "%d %d %d\n", s, r, a }' <<<"$out"
}

# lab_inodes [ID]: inode numbers of the lab's network namespaces, one a line.
lab_inodes()
{
	local f=(/run/netns/"${1:-$LAB_ID}"-*)
	[[ ! -e ${f[0]} ]] || stat -L -c %i "${f[@]}"
}

# lab_leftovers ID INODE...: what lab ID left behind after lab_down, one a
# line, nothing when clean: namespace names, its folder, processes in one of
# its network namespaces (INODEs from lab_inodes). Namespace inode numbers
# are reused: a process counts only if its namespace bears no other name.
lab_leftovers()
{
	local id=$1 dir link names
	shift
	local want=" $* "
	lab_netns "$id" | sed 's/^/netns /'
	[[ ! -e $LAB_BASE/$id ]] || echo "folder $LAB_BASE/$id"
	find /proc/[0-9]*/ns/net -maxdepth 0 -printf '%h %l\n' 2>/dev/null |
		while read -r dir link; do
			link=${link//[^0-9]/} dir=${dir%/ns}
			[[ $want == *" $link "* ]] || continue
			names=$(ip netns identify "${dir#/proc/}" 2>/dev/null) || continue
			[[ -n $names && $names != "$id"-* ]] ||
				echo "process ${dir#/proc/} in net:[$link] ($names)"
		done
}

# lab_show: what the lab holds: nodes (and how to enter them), links with
# MTU and impairments, node impairments.
lab_show()
{
	local n l f pid
	echo "lab $LAB_ID (folder $LAB_DIR)"
	for n in $(lab_nodes); do
		read -r pid <"$LAB_DIR/$n/pid"
		printf '  node %-7s enter: nsenter -t %s -n -m -u   (network only: ip netns exec %s-%s)\n' \
			"$n" "$pid" "$LAB_ID" "$n"
	done
	for l in $(lab_links); do
		f=$LAB_DIR/$l/impair/mtu
		[[ -s $f ]] || f=$LAB_DIR/$l/mtu0
		printf '  link %-12s mtu %s' "$l" "$(<"$f")"
		for f in "$LAB_DIR/$l"/impair/*; do
			[[ -s $f && $f != */mtu ]] && printf ', %s' "$(<"$f")"
		done
		echo
	done
	for n in $(lab_nodes); do
		for f in "$LAB_DIR/$n"/impair/*; do
			[[ -s $f ]] && printf '  node %-7s %s\n' "$n" "$(<"$f")"
		done
	done
	return 0
}
