#!/bin/bash
# The golden suite: each tool's text for fixed results, byte for byte.
#
# Every program $BUILD/golden/golden_TOOL (built by make from
# tests/golden/golden_TOOL.c) lists its cases (--list: NAME, or NAME FLAG
# for the tool's second text layout, -v or --wide); each case's output is
# compared with tests/golden/TOOL-NAME[-FLAG].txt by diff -u, and no line
# of it may be wider than 100 columns (display width: UTF-8 aware, so "µ"
# is one column), except under --wide, the layout that shows every column.
# Builds nothing: `make golden` (or `make all`) does.
#
# usage: tests/golden/run.sh [--update] [TOOL-CASE...]   (BUILD=dir, default build)
#   --update  write the expected files from the programs' output (for a
#             deliberate layout change: review the diff); stale files, of
#             cases no program lists any more, are removed.
# Prints PASS/FAIL per case (details indented with "    | "), the totals
# last; exits 1 if any case failed.
set -u
export LANG=C LC_ALL=C
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
DIR=tests/golden
MAX_COLS=100
update=false
if [[ ${1:-} == --update ]]; then
	update=true
	shift
fi
only=("$@")
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

result() { # result STATUS NAME [DETAIL]
	case $1 in PASS) pass=$((pass + 1)) ;; FAIL) fail=$((fail + 1)) ;; esac
	printf '%-4s %s%s\n' "$1" "golden/$2" "${3:+  ($3)}"
}

detail() {
	sed 's/^/    | /'
}

wanted() {
	local o
	((${#only[@]})) || return 0
	for o in "${only[@]}"; do [[ $o == "$1" ]] && return 0; done
	return 1
}

# Lines over MAX_COLS columns: "LINE: COLUMNS". UTF-8 continuation octets
# (10xxxxxx) take no column; every other octet (ASCII, a lead octet) one.
too_wide() {
	awk -v max="$MAX_COLS" '{ s = $0; gsub(/[\200-\277]/, "", s)
		if (length(s) > max) print NR ": " length(s) " columns" }' "$1"
}

declare -A listed=()
shopt -s nullglob
srcs=("$DIR"/golden_*.c)
if ((${#srcs[@]} == 0)); then
	echo "tests/golden/run.sh: no golden programs in $DIR" >&2
	exit 1
fi
for src in "${srcs[@]}"; do
	tool=${src##*/golden_}
	tool=${tool%.c}
	prog=$BUILD/golden/golden_$tool
	if [[ ! -x $prog ]]; then
		wanted "$tool" && result FAIL "$tool" "$prog not built: make golden"
		continue
	fi
	if ! "$prog" --list >"$tmp/list" 2>"$tmp/err"; then
		result FAIL "$tool" "$prog --list failed"
		detail <"$tmp/err"
		continue
	fi
	while read -r name flag; do
		# "report -v" -> owd-report-v.txt, "v4 --wide" -> pathping-v4-wide.txt
		id=$tool-$name${flag:+-${flag##*-}}
		listed[$id]=1
		wanted "$id" || continue
		exp=$DIR/$id.txt
		out=$tmp/$id.txt
		if ! "$prog" "$name" $flag >"$out" 2>"$tmp/err"; then
			result FAIL "$id" "$prog $name $flag: exit $?"
			detail <"$tmp/err"
			continue
		fi
		note=
		if $update; then
			note=unchanged
			cmp -s "$out" "$exp" || { cp "$out" "$exp" && note="written: $exp"; }
		elif [[ ! -e $exp ]]; then
			result FAIL "$id" "no $exp: tests/golden/run.sh --update writes it"
			continue
		elif ! diff -u --label "$exp" --label "$prog $name $flag" "$exp" "$out" \
			>"$tmp/diff"; then
			result FAIL "$id" "differs from $exp"
			detail <"$tmp/diff"
			continue
		fi
		if [[ $flag == --wide ]]; then
			result PASS "$id" "${note:+$note; }--wide: width not checked"
			continue
		fi
		too_wide "$out" >"$tmp/wide"
		if [[ -s $tmp/wide ]]; then
			result FAIL "$id" "${note:+$note; }lines over $MAX_COLS columns"
			sed "s|^|$exp:|" "$tmp/wide" | detail
		else
			result PASS "$id" "$note"
		fi
	done <"$tmp/list"
done

# An expected file no program lists any more is stale.
for exp in "$DIR"/*.txt; do
	id=${exp##*/}
	id=${id%.txt}
	[[ -n ${listed[$id]:-} ]] && continue
	wanted "$id" || continue
	if $update; then
		rm -f "$exp"
		result PASS "$id" "removed $exp: no case lists it"
	else
		result FAIL "$id" "$exp: no case lists it (tests/golden/run.sh --update removes it)"
	fi
done

echo "golden: $pass passed, $fail failed"
((fail == 0))
