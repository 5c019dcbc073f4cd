#!/bin/bash
# SPDX-License-Identifier: MIT
#
# One record shape: the keys every tool really writes against the table
# "Shared keys" of docs/FORMATS.md. Each tool runs on a private loopback
# (unshare -n: nothing outside sees it, and it sees nothing outside):
#
#   lo 127.0.0.1  owd -s, bwtest -s --no-auth, meshctl run (one tunnel file,
#                 no interface; a protocol-201 route), and their clients:
#                 owd, pathping (-c N and -c 0), mtufind, bwtest, perfc
#                 (routes, --diff, --nodes), meshctl show/status/tune
#
# Every Prometheus output (-f prom) must pass `promtool check metrics`, and
# its HELP texts must be words, not the key path.
#
# From every CSV output the header row (nested keys split at '.') and from
# every NDJSON output the keys at any depth are taken, and the check fails
#   - when a key is a spelling the table lists as not used (target, p50, ...);
#   - when a key is a shared key's name with another unit suffix, or none
#     (rtt_ns or rtt where the table has rtt_ms);
#   - when a tool writes a shared key the table does not list it as writing
#     (owd writing peer: that key is the far end of a tunnel or session);
#   - when the table itself is malformed (columns, unknown tools, a key both
#     shared and not used).
#
# usage: tests/formats/keys.sh [-k] [DIR]
#   DIR  check the outputs already in DIR (TOOL.NAME.csv / TOOL.NAME.ndjson)
#        instead of running the tools: no root needed
#   -k   keep the outputs (their directory is printed)
# BUILD=dir (default build) holds bin/; FORMATS=file (default
# docs/FORMATS.md) holds the table. Takes about 3 s. Exit status: 0 passed,
# 1 failed, 4 skipped (not root; unshare, ip, ss, promtool or python3 missing).
set -e
set -o pipefail
export LANG=C LC_ALL=C
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FORMATS=${FORMATS:-docs/FORMATS.md}
BIN=$BUILD/bin
KEEP=0

skip() { echo "SKIP: $*"; exit 4; }

# wait_for MS CMD...: poll CMD every 10 ms until it succeeds, at most MS ms.
wait_for()
{
	local n=$(($1 / 10))
	shift
	until "$@"; do
		((n-- > 0)) || return 1
		sleep 0.01
	done
}

listening() { [[ -n $(ss -Hln "$1" "sport = :$2") ]]; }

# The runs, inside the private network namespace (root, lo down at first).
# Outputs go to $OUT/TOOL.NAME.{csv,ndjson}; a tool that fails is an error,
# and the servers never outlive the run.
collect()
{
	local d=$OUT tmp=$OUT/tmp p rc=0
	SERVERS=()
	trap '((${#SERVERS[@]} == 0)) || kill "${SERVERS[@]}" 2>/dev/null' EXIT
	trap 'exit 1' TERM
	trap 'echo "failed (exit $?): $BASH_COMMAND" >&2' ERR
	mkdir -p "$tmp/conf"
	ip link set lo up
	"$BIN/owd" -s --interval-report 100ms -f ndjson >"$d/owd.reflector.ndjson" &
	SERVERS+=($!)
	"$BIN/bwtest" -s --no-auth -f ndjson >"$d/bwtest.server.ndjson" &
	SERVERS+=($!)
	# meshctl: one tunnel file whose interface does not exist (its link
	# record is still written), and a route of protocol 201 to list
	cat >"$tmp/conf/wg1.2_v4.conf" <<-EOF
	[Interface]
	PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=
	Address = 10.201.1.1/32
	[Peer]
	PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
	Endpoint = 127.0.0.1:51820
	AllowedIPs = 10.201.2.0/24
	EOF
	head -c 32 /dev/urandom | base64 >"$tmp/mesh.key"
	chmod 600 "$tmp/mesh.key"
	ip route add unreachable 10.201.2.0/24 proto 201
	"$BIN/meshctl" run -q --conf-dir "$tmp/conf" -k "$tmp/mesh.key" --http none \
		--ctl "$tmp/mc.sock" -t 20s -f ndjson >/dev/null &
	SERVERS+=($!)
	wait_for 3000 listening -u 862
	wait_for 3000 listening -t 5121
	wait_for 3000 test -S "$tmp/mc.sock"

	"$BIN/owd" -c 5 -i 20ms --timeout 100ms --interval-report 40ms -f ndjson 127.0.0.1 \
		>"$d/owd.client.ndjson"
	"$BIN/owd" -c 2 -i 20ms --timeout 100ms -f csv 127.0.0.1 >"$d/owd.client.csv"
	"$BIN/pathping" -c 2 -f ndjson 127.0.0.1 >"$d/pathping.report.ndjson"
	"$BIN/pathping" -c 2 -f csv 127.0.0.1 >"$d/pathping.report.csv"
	"$BIN/pathping" -c 0 -t 200ms -f ndjson 127.0.0.1 >"$d/pathping.rounds.ndjson"
	"$BIN/pathping" -c 0 -t 200ms -f csv 127.0.0.1 >"$d/pathping.rounds.csv"
	"$BIN/mtufind" --max-size 1500 -f ndjson 127.0.0.1 >"$d/mtufind.path.ndjson"
	"$BIN/mtufind" --max-size 1500 -f csv 127.0.0.1 >"$d/mtufind.path.csv"
	"$BIN/bwtest" -t 500ms --interval-report 100ms -f ndjson 127.0.0.1 \
		>"$d/bwtest.client.ndjson"
	"$BIN/bwtest" -t 300ms --interval-report 100ms -f csv 127.0.0.1 >"$d/bwtest.client.csv"
	"$BIN/owd" -c 5 -i 20ms --timeout 100ms -f prom 127.0.0.1 >"$d/owd.client.prom"
	"$BIN/pathping" -c 2 -f prom 127.0.0.1 >"$d/pathping.report.prom"
	if ((EUID == 0)); then	# --all-paths needs raw sockets
		"$BIN/pathping" -P udp --all-paths -f prom 127.0.0.1 >"$d/pathping.allpaths.prom"
		"$BIN/pathping" -P udp --all-paths -f ndjson 127.0.0.1 \
			>"$d/pathping.allpaths.ndjson"
	fi
	"$BIN/mtufind" --max-size 1500 -f prom 127.0.0.1 >"$d/mtufind.path.prom"
	"$BIN/bwtest" -t 300ms -f prom 127.0.0.1 >"$d/bwtest.client.prom"

	local pcap=tests/unit/fixtures/tcprtt_lab.pcap
	"$BIN/tcprtt" -r $pcap --samples -f ndjson >"$d/tcprtt.samples.ndjson"
	"$BIN/tcprtt" -r $pcap --samples -f csv >"$d/tcprtt.samples.csv"
	"$BIN/tcprtt" -r $pcap --interval-report 100ms -f ndjson >"$d/tcprtt.intervals.ndjson"
	"$BIN/tcprtt" -r $pcap --interval-report 100ms -f csv >"$d/tcprtt.intervals.csv"
	"$BIN/tcprtt" -r $pcap -f prom >"$d/tcprtt.summary.prom"

	"$BIN/perfc" -f ndjson >"$d/perfc.routes.ndjson"
	"$BIN/perfc" -f csv >"$d/perfc.routes.csv"
	"$BIN/perfc" -f prom >"$d/perfc.routes.prom"
	# --diff against a snapshot missing a route and holding another
	"$BIN/perfc" -j >"$tmp/snap.json"
	ip route add 192.0.2.0/24 dev lo
	"$BIN/perfc" --diff "$tmp/snap.json" -f ndjson >"$d/perfc.diff.ndjson" || (($? == 1))
	"$BIN/perfc" --diff "$tmp/snap.json" -f csv >"$d/perfc.diff.csv" || (($? == 1))
	# --nodes over three node documents: a ring 1 > 2 > 3 > 1
	for p in 1 2 3; do
		printf '{"schema":"perfc/1","node":"n%s","site":"%s","addresses":["10.0.0.%s"],' \
			"$p" "$p" "$p"
		printf '"routes":[{"dst":"10.0.0.0/24","gateway":"10.0.0.%s"}]}\n' $((p % 3 + 1))
	done >"$tmp/nodes.all"
	for p in 1 2 3; do sed -n "${p}p" "$tmp/nodes.all" >"$tmp/node$p.json"; done
	"$BIN/perfc" --nodes "$tmp"/node{1,2,3}.json -f ndjson >"$d/perfc.nodes.ndjson" ||
		(($? == 1))
	"$BIN/perfc" --nodes "$tmp"/node{1,2,3}.json -f csv >"$d/perfc.nodes.csv" || (($? == 1))

	local c f
	for c in status "show links" "show routes" "show paths"; do
		for f in ndjson csv prom; do
			# routes are records only: nothing for prom
			[[ $c$f != "show routesprom" ]] || continue
			# shellcheck disable=SC2086
			"$BIN/meshctl" $c --ctl "$tmp/mc.sock" -f $f >"$d/meshctl.${c// /-}.$f"
		done
	done
	"$BIN/meshctl" tune --check --conf-dir "$tmp/conf" -f ndjson \
		>"$d/meshctl.tune.ndjson" 2>/dev/null || (($? == 1))

	# the servers write their summary at SIGINT
	kill -INT "${SERVERS[@]}"
	for p in "${SERVERS[@]}"; do wait "$p" || rc=1; done
	SERVERS=()
	rm -rf "$tmp"
	return $rc
}

# The checks, over the outputs in $1.
check()
{
	python3 - "$FORMATS" "$1" <<'EOF'
import csv, json, os, re, subprocess, sys

fmt_path, out_dir = sys.argv[1], sys.argv[2]
TOOLS = {"owd", "pathping", "mtufind", "bwtest", "perfc", "meshctl", "tcprtt"}
errors = []
doc = open(fmt_path, encoding="utf-8").read()

# unit suffixes: the backticked `_xx` of the "Units in keys" bullet
m = re.search(r"\*\*Units in keys\.\*\*(.*?)(?:\n- \*\*|\n\n)", doc, re.S)
units = re.findall(r"`_([a-z]+)`", m.group(1)) if m else []
if not units:
    sys.exit("keys: no unit suffixes found in %s (\"Units in keys\")" % fmt_path)
UNIT_RE = re.compile(r"^(.*)_(%s)$" % "|".join(sorted(units, key=len, reverse=True)))

def split_unit(key):
    m = UNIT_RE.match(key)
    return (m.group(1), m.group(2)) if m else (key, None)

# the table: the first one after the heading "## Shared keys"
sec = re.search(r"^## Shared keys\n(.*?)(?=^## )", doc, re.S | re.M)
if not sec:
    sys.exit("keys: no \"## Shared keys\" section in %s" % fmt_path)
rows = [l for l in sec.group(1).splitlines() if l.startswith("|")]
COLS = ["key", "meaning", "unit", "written by", "not used"]
cells = lambda l: [c.strip() for c in l.strip().strip("|").split("|")]
if not rows or cells(rows[0]) != COLS:
    sys.exit("keys: the shared-key table must have the columns %s" % " | ".join(COLS))
shared = {}       # key -> set of tools
forbidden = {}    # spelling -> the shared keys of its row
for l in rows[2:]:
    c = cells(l)
    if len(c) != len(COLS):
        errors.append("table: %d columns in: %s" % (len(c), l))
        continue
    keys = re.findall(r"`([^`]+)`", c[0])
    tools = {t.strip() for t in c[3].split(",") if t.strip()}
    if not keys:
        errors.append("table: no key in: %s" % l)
    for t in tools - TOOLS:
        errors.append("table: unknown tool %r in the row of %s" % (t, ", ".join(keys)))
    for k in keys:
        if k in shared:
            errors.append("table: %s listed twice" % k)
        shared[k] = tools
    for s in re.findall(r"`([^`]+)`", c[4]):
        forbidden[s] = keys
for s in forbidden:
    if s in shared:
        errors.append("table: %s is both a shared key and a spelling not used" % s)
# the shared keys that carry a unit, by their name without it
unit_base = {}
for k in shared:
    base, unit = split_unit(k)
    if unit:
        unit_base[base] = k

# the outputs: key -> the places it was seen, per tool
seen = {}
def note(tool, key, where):
    seen.setdefault(tool, {}).setdefault(key, set()).add(where)

def walk(tool, where, v):
    if isinstance(v, dict):
        for k, x in v.items():
            note(tool, k, where)
            walk(tool, where, x)
    elif isinstance(v, list):
        for x in v:
            walk(tool, where, x)

files = sorted(f for f in os.listdir(out_dir) if f.endswith((".csv", ".ndjson", ".prom")))
if not files:
    sys.exit("keys: no outputs in %s" % out_dir)
for f in files:
    tool, name, kind = f.split(".", 2)[0], f.split(".")[1], f.rsplit(".", 1)[1]
    if tool not in TOOLS:
        errors.append("%s: not a meshperf tool's output" % f)
        continue
    path = os.path.join(out_dir, f)
    lines = open(path, encoding="utf-8").read().splitlines()
    if not lines:
        errors.append("%s: empty output" % f)
        continue
    if kind == "prom":
        # promtool is the judge of the exposition; HELP must be words
        r = subprocess.run(["promtool", "check", "metrics"], input="\n".join(lines) + "\n",
                           capture_output=True, text=True)
        if r.returncode or r.stdout.strip() or r.stderr.strip():
            errors.append("%s: promtool check metrics: %s" % (f, (r.stdout + r.stderr).strip()))
        for l in lines:
            m = re.match(r"# HELP (\S+) (.*)$", l)
            if m and re.fullmatch(r"[\w.%]+", m.group(2)):
                errors.append("%s: %s: HELP is a key path (%s), not words" % (f, m.group(1),
                                                                                m.group(2)))
        continue
    if kind == "csv":
        for col in next(csv.reader([lines[0]])):
            for k in col.split("."):
                note(tool, k, "%s %s csv" % (tool, name))
        continue
    for n, line in enumerate(lines, 1):
        try:
            rec = json.loads(line)
        except ValueError as e:
            errors.append("%s:%d: not JSON: %s" % (f, n, e))
            continue
        walk(tool, "%s %s ndjson %s" % (tool, name, rec.get("type", "?")), rec)

for tool in sorted(seen):
    for key in sorted(seen[tool]):
        where = "; ".join(sorted(seen[tool][key]))
        if key in forbidden:
            errors.append("%s: key %s is a spelling not used; the table has %s (%s)"
                          % (tool, key, ", ".join(forbidden[key]), where))
        base, unit = split_unit(key)
        want = unit_base.get(base)
        if want and key != want:
            errors.append("%s: key %s: the shared key is %s, %s (%s)"
                          % (tool, key, want, "another unit" if unit else "without a unit",
                             where))
        if key in shared and tool not in shared[key]:
            errors.append("%s: writes the shared key %s, which the table gives to %s only (%s)"
                          % (tool, key, ", ".join(sorted(shared[key])) or "no tool", where))

n_keys = sum(len(v) for v in seen.values())
for e in errors:
    print("FAIL " + e)
print("%d outputs of %d tools, %d keys; %d shared keys, %d spellings not used: %s"
      % (len(files), len(seen), n_keys, len(shared), len(forbidden),
         "%d problems" % len(errors) if errors else "all consistent"))
sys.exit(1 if errors else 0)
EOF
}

while getopts k o; do
	case $o in
	k) KEEP=1 ;;
	*) echo "usage: $0 [-k] [DIR]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

command -v python3 >/dev/null || skip "missing tool: python3"
[[ -r $FORMATS ]] || { echo "FAIL: $FORMATS not readable"; exit 1; }
if (($#)); then
	check "$1"
	exit
fi
((EUID == 0)) || skip "not root"
for c in unshare ip ss promtool; do command -v "$c" >/dev/null || skip "missing tool: $c"; done
for t in owd pathping mtufind bwtest perfc meshctl tcprtt; do
	[[ -x $BIN/$t ]] || { echo "FAIL: $BIN/$t not built"; exit 1; }
done

OUT=$(mktemp -d "${TMPDIR:-/tmp}/meshperf-keys.XXXXXX")
if ((KEEP)); then
	echo "outputs in $OUT"
else
	trap 'rm -rf "$OUT"' EXIT
fi
export OUT BIN
export -f collect wait_for listening
if ! timeout 60 unshare -n bash -c 'set -eE -o pipefail; collect' >"$OUT/log" 2>&1; then
	echo "FAIL: running the tools on a private loopback:"
	sed 's/^/    | /' "$OUT/log"
	exit 1
fi
rm -f "$OUT/log"
check "$OUT"
