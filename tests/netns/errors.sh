#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Errors people meet: each names the thing at fault and what to do, in one
# line, with the exit status the man pages give. Run in the lab's client c
# (its own network: no reflector anywhere unless started).
#
#   tests/netns/errors.sh [-v] [-p] [-t] [test...]      (-h lists the tests)
#
# Topology "line": c ==[c-r1]== r1 ==[r1-r2]== r2 ==[r2-s]== s, s at
# 10.200.3.2 / fdac:c8:3::2 with no reflector.
#
# Tolerances: the texts are exact, the exit statuses exact (2: usage or
# setup, 1: measured but nothing answered).

T_REQUIRE=(ip jq)
T_TESTS=(
	"keys        line  key file missing, readable by others, not a key: one line each, exit 2"
	"hosts       line  a name that does not resolve: the resolver's words, every tool, exit 2"
	"closed      line  owd to a host without a reflector: port unreachable, what to run, exit 1"
	"usage       line  bad values: what the option takes, or its range; formats listed; Try --help"
)

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

case ${BUILD:-build} in
/*) BIN=$BUILD/bin ;;
*) BIN=$LAB_TOP/${BUILD:-build}/bin ;;
esac
[[ -x $BIN/owd && -x $BIN/bwtest ]] || { echo "SKIP: tools not built ($BIN)" >&2; exit 4; }

S4=10.200.3.2

# expect STATUS TEXT CMD...: CMD on c exits STATUS and prints exactly TEXT
# (lines) on stderr, nothing else.
expect()
{
	local st=$1 text=$2 rc
	shift 2
	n c "$@" >/dev/null 2>"$T_OUT/err" && rc=0 || rc=$?
	if ((rc != st)) || [[ $(<"$T_OUT/err") != "$text" ]]; then
		echo "expected exit $st and: $text" >&2
		echo "got exit $rc and: $(<"$T_OUT/err")" >&2
		return 1
	fi
}

test_keys()
{
	local k=$T_OUT/k t
	for t in bwtest owd; do
		expect 2 "$t: key file /nonexist: No such file or directory" \
			"$BIN/$t" -k /nonexist "$S4"
	done
	head -c 32 /dev/urandom | base64 >"$k"
	chmod 644 "$k"
	expect 2 "bwtest: key file $k is readable by group or others (mode 0644); chmod 600 $k" \
		"$BIN/bwtest" -k "$k" "$S4"
	expect 2 "owd: key file $k is readable by group or others (mode 0644); chmod 600 $k" \
		"$BIN/owd" -s -k "$k"
	echo "not a key" >"$k"
	chmod 600 "$k"
	expect 2 "bwtest: key file $k: not one key (44 base64 or 64 hex characters)" \
		"$BIN/bwtest" -s -k "$k"
	expect 2 "mtufind: key file $k: not one key (44 base64 or 64 hex characters)" \
		"$BIN/mtufind" -s -k "$k" --wg wg0
	expect 2 "meshctl: key file $k: not one key (44 base64 or 64 hex characters)" \
		"$BIN/meshctl" run -k "$k"
	t_note "missing, mode 0644 and malformed key files named with what to do"
}

test_hosts()
{
	local t why
	# the lab has no DNS server: the resolver fails for good, or says it
	# cannot now; either way its own words
	for t in owd pathping mtufind bwtest; do
		n c "$BIN/$t" no.such.host.invalid >/dev/null 2>"$T_OUT/err" && return 1 || (($? == 2))
		why=$(<"$T_OUT/err")
		[[ $why == "$t: no.such.host.invalid: Name or service not known" ||
			$why == "$t: no.such.host.invalid: Temporary failure in name resolution" ]]
	done
	t_note "$why"
}

test_closed()
{
	expect 1 "owd: no reply from $S4:862 (port unreachable: is 'owd -s' running there?)" \
		"$BIN/owd" -c 3 -i 10ms -q "$S4"
	expect 1 "owd: no reply from [fdac:c8:3::2]:862 (port unreachable: is 'owd -s' running there?)" \
		"$BIN/owd" -c 3 -i 10ms -q fdac:c8:3::2
}

test_usage()
{
	local t
	expect 2 "owd: invalid interval '10': a duration with its unit (ns, us, ms, s, m, h, d), e.g. 250ms
Try 'owd --help'." "$BIN/owd" -i 10 "$S4"
	expect 2 "owd: invalid interval '2h': out of range (100us to 1h)
Try 'owd --help'." "$BIN/owd" -i 2h "$S4"
	expect 2 "bwtest: invalid rate '10MB': bit/s, e.g. 500k, 100M, 1.5G (k, M, G: 1000)
Try 'bwtest --help'." "$BIN/bwtest" -b 10MB "$S4"
	expect 2 "mtufind: invalid size '40': out of range (68 to 65535 bytes)
Try 'mtufind --help'." "$BIN/mtufind" --max-size 40 "$S4"
	for t in owd pathping mtufind bwtest perfc meshctl; do
		[[ $t == meshctl ]] && set -- show links || set -- "$S4"
		[[ $t == perfc ]] && set --
		expect 2 "$t: invalid format 'xml': one of text, csv, json, ndjson, prom
Try '$t --help'." "$BIN/$t" "$@" -f xml
	done
	t_note "interval, rate, size, format: what each takes, one line and Try --help"
}

t_main "$@"
