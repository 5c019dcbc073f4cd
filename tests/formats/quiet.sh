#!/bin/bash
# SPDX-License-Identifier: MIT
#
# -q means the same in every tool: the summary only. Each tool runs twice on
# a private loopback (unshare -n) with the options that make it print lines
# as it goes (interval reports, rounds, server events), once without -q and
# once with it; the check fails
#   - when the run without -q shows no such line (the check would be empty);
#   - when the run with -q shows one, or prints nothing, or lacks the summary
#     (its last line, which both runs share in shape);
#   - when -q writes anything on stderr.
#
# usage: tests/formats/quiet.sh     (BUILD=dir, default build; root)
# Takes about 3 s. Exit status: 0 passed, 1 failed, 4 skipped.
set -e
set -o pipefail
export LANG=C LC_ALL=C
cd "$(dirname "$0")/../.."
BIN=${BUILD:-build}/bin

skip() { echo "SKIP: $*"; exit 4; }
((EUID == 0)) || skip "not root"
for c in unshare ip ss; do command -v "$c" >/dev/null || skip "missing tool: $c"; done

run()
{
	set -e
	ip link set lo up
	"$BIN/owd" -s >/dev/null 2>&1 &
	REFL=$!
	"$BIN/bwtest" -s --no-auth >/dev/null 2>&1 &
	BWS=$!
	trap 'kill $REFL $BWS 2>/dev/null || true' EXIT
	local n=0
	until [[ -n $(ss -Hlnu 'sport = :862') && -n $(ss -Hlnt 'sport = :5121') ]]; do
		((n++ < 300)) || { echo "servers did not start" >&2; return 1; }
		sleep 0.01
	done
	# NAME PATTERN CMD...: PATTERN matches a line printed as it goes
	local fails=0
	check()
	{
		local name=$1 pat=$2 loud quiet err
		shift 2
		loud=$("$@" 2>/dev/null) || true
		quiet=$("$@" -q 2>"$OUT/err") || true
		err=$(<"$OUT/err")
		if ! grep -Eq "$pat" <<<"$loud"; then
			echo "FAIL $name: no line matching /$pat/ without -q: the check proves nothing"
			fails=$((fails + 1))
		elif grep -Eq "$pat" <<<"$quiet"; then
			echo "FAIL $name: -q still prints lines as it goes:"
			grep -E "$pat" <<<"$quiet" | head -3 | sed 's/^/    | /'
			fails=$((fails + 1))
		elif [[ -z $quiet || $(tail -n 1 <<<"$quiet") == "" ]]; then
			echo "FAIL $name: -q printed no summary"
			fails=$((fails + 1))
		elif [[ -n $err ]]; then
			echo "FAIL $name: -q wrote on stderr: $err"
			fails=$((fails + 1))
		else
			echo "ok   $name: $(wc -l <<<"$loud") lines, $(wc -l <<<"$quiet") with -q"
		fi
	}
	check owd '^ +[0-9]+\.[0-9]{3} +[0-9]+ +[0-9]+ ' \
		"$BIN/owd" -c 20 -i 10ms --interval-report 50ms 127.0.0.1
	check bwtest '^fwd +[0-9.]+-[0-9.]+ s ' \
		"$BIN/bwtest" -t 300ms --interval-report 100ms 127.0.0.1
	check pathping '^ +[0-9]+ +[0-9]+ +127\.0\.0\.1 ' \
		"$BIN/pathping" -c 0 -t 300ms 127.0.0.1
	check perfc '^127\.0\.0\.1 ' "$BIN/perfc"
	check tcprtt '^ +[0-9]+\.[0-9]{3} +10\.200\.' \
		"$BIN/tcprtt" -r tests/unit/fixtures/tcprtt_lab.pcap --interval-report 100ms
	return $((fails > 0))
}

OUT=$(mktemp -d "${TMPDIR:-/tmp}/meshperf-quiet.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
export OUT BIN
export -f run
if timeout 60 unshare -n bash -c run >"$OUT/log" 2>&1; then
	cat "$OUT/log"
	echo "-q: the summary only in owd, bwtest, pathping, perfc, tcprtt"
else
	cat "$OUT/log"
	echo "FAIL: -q is not the summary only"
	exit 1
fi
