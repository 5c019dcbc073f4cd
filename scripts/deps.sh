#!/bin/sh
# Install the Debian packages meshperf needs to build, test and benchmark,
# and only those that are missing. Idempotent: a second run installs nothing.
# As non-root it prints the exact command to run and exits 2.
set -eu

# build: compiler, pkg-config and the libraries (DESIGN.md "Dependencies")
BUILD="build-essential pkg-config clang libclang-rt-14-dev
libnl-3-dev libnl-route-3-dev libnl-genl-3-dev libpcap-dev libcsv-dev
libjansson-dev libsodium-dev libmicrohttpd-dev libcurl4-openssl-dev libcmocka-dev"
# run time: plots, namespaces, nft, WireGuard in user space
RUN="gnuplot-nox iproute2 nftables ethtool util-linux procps psmisc
wireguard-go wireguard-tools"
# peers measured side by side, and the test/lint tools (systemd: systemd-analyze
# verify/security of contrib/systemd; prometheus: promtool; man-db: man(1), which
# verify runs for the units' Documentation=; curl: meshctl's /metrics)
PEERS="iputils-ping iputils-tracepath mtr-tiny irtt iperf3 scamper traceroute
bird2 tshark jq mandoc prometheus python3 locales systemd man-db curl strace
libcap2-bin"

missing=""
for p in $BUILD $RUN $PEERS; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing" >&2
	echo "deps.sh: run as root: sudo DEBIAN_FRONTEND=noninteractive $cmd" >&2
	exit 2
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Services pulled in by packages (prometheus, bird2, iperf3) must not start
# here: the tests start their own instances inside namespaces.
pol=/usr/sbin/policy-rc.d
made_pol=0
if [ ! -e "$pol" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$pol" && chmod 755 "$pol" && made_pol=1
fi
trap '[ "$made_pol" = 1 ] && rm -f "$pol"' EXIT
echo 'iperf3 iperf3/start_daemon boolean false' | debconf-set-selections 2>/dev/null || true
echo 'wireshark-common wireshark-common/install-setuid boolean false' |
	debconf-set-selections 2>/dev/null || true
apt-get update -qq >&2 || apt-get update >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 $missing >&2
