#!/bin/bash
# The test runner behind `make check`: unit tests (every cmocka case
# counted, skips named), fuzz-corpus regression and a short fuzz run
# of every harness (run_fuzz), the golden text of every
# tool (tests/golden/run.sh, one line per case), the output-format checks
# (tests/formats/), the netns suite (one script after another; exit 4 =
# skip, with the reason it printed last), and the man page lint. Prints one
# line per test and the totals last; exits 1 if any test failed.
#
# usage: tests/run.sh [all|unit|fuzz|golden|formats|netns|man]...   (BUILD=dir, default build)
set -u
export LANG=C
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
pass=0 fail=0 skip=0
failed=() skipped=()

result() { # result STATUS NAME [DETAIL]
	local st=$1 name=$2 detail=${3:-}
	case $st in
	PASS) pass=$((pass + 1)) ;;
	FAIL) fail=$((fail + 1)); failed+=("$name") ;;
	SKIP) skip=$((skip + 1)); skipped+=("$name${detail:+: $detail}") ;;
	esac
	printf '%-4s %s%s\n' "$st" "$name" "${detail:+  ($detail)}"
}

run_unit() {
	local t out rc n name
	for t in "$BUILD"/tests/unit/test_*; do
		[[ -x $t && $t != *.d ]] || continue
		name=unit/${t##*/}
		out=$(timeout 300 "$t" 2>&1); rc=$?
		# cmocka prints one line per case: [       OK ], [  FAILED  ], [  SKIPPED ]
		while read -r n; do result PASS "$name/$n"; done < \
			<(sed -n 's/^\[       OK \] //p' <<<"$out")
		while read -r n; do result SKIP "$name/$n" "skipped inside the test"; done < \
			<(sed -n 's/^\[  SKIPPED \] \([^ ]*\)$/\1/p' <<<"$out" | sort -u)
		while read -r n; do result FAIL "$name/$n"; done < \
			<(sed -n 's/^\[  FAILED  \] \([^ ]*\)$/\1/p' <<<"$out" | sort -u)
		if ((rc != 0)) && ! grep -q '^\[  FAILED  \] [a-z]' <<<"$out"; then
			result FAIL "$name" "exit $rc"
		fi
		# the assertions that failed, then the end of the output
		((rc == 0)) || { grep -E -A1 '^\[  ERROR   \]' <<<"$out"; printf '%s\n' "$out" |
			tail -20; } | sed 's/^/    | /'
	done
}

# Every harness replays its stored corpus: a crash found once stays fixed.
# Each harness replays its seed corpus, then fuzzes for FUZZ_SMOKE_SECONDS
# (default 10; 0: none) from it, new inputs kept in a scratch directory, so
# that a crash in any parser fails make check; a crashing input is kept in
# $BUILD/fuzz/crashes/HARNESS/ and named in the failure.
run_fuzz() {
	local f n out tmp runs secs=${FUZZ_SMOKE_SECONDS:-10}
	for f in "$BUILD"/fuzz/fuzz_*; do
		[[ -x $f && $f != *.d && $f != *.log ]] || continue
		n=${f##*/}
		if [[ ! -d tests/fuzz/corpus/$n ]]; then
			result FAIL "fuzz/$n" "no seed corpus in tests/fuzz/corpus/$n"
			continue
		fi
		if ! out=$(timeout 300 "$f" -runs=0 tests/fuzz/corpus/"$n" 2>&1); then
			result FAIL "fuzz/$n"
			printf '%s\n' "$out" | tail -30 | sed 's/^/    | /'
			continue
		fi
		if ((secs == 0)); then
			result PASS "fuzz/$n" "$(ls tests/fuzz/corpus/"$n" | wc -l) inputs"
			continue
		fi
		tmp=$(mktemp -d)
		mkdir -p "$BUILD/fuzz/crashes/$n"
		if out=$(timeout $((secs * 3 + 60)) "$f" -max_total_time="$secs" \
			-print_final_stats=1 -artifact_prefix="$BUILD/fuzz/crashes/$n/" \
			"$tmp" tests/fuzz/corpus/"$n" 2>&1); then
			runs=$(sed -n 's/^stat::number_of_executed_units: *//p' <<<"$out")
			result PASS "fuzz/$n" "$(ls tests/fuzz/corpus/"$n" | wc -l) inputs; ${runs:-?} runs in ${secs} s, no crash"
		else
			result FAIL "fuzz/$n" "crash within ${secs} s: $(ls "$BUILD/fuzz/crashes/$n" | head -1)"
			printf '%s\n' "$out" | sed -n '/ERROR/,$p' | head -30 | sed 's/^/    | /'
		fi
		rm -rf "$tmp"
	done
}

# Each tool's text for fixed results against tests/golden/*.txt: the
# runner there prints PASS/FAIL per case, details indented.
run_golden() {
	local out rc st name detail line
	out=$(BUILD=$BUILD timeout 300 tests/golden/run.sh 2>&1); rc=$?
	while IFS= read -r line; do
		if [[ $line =~ ^(PASS|FAIL)\ ([^ ]+)(\ \ \((.*)\))?$ ]]; then
			st=${BASH_REMATCH[1]} name=${BASH_REMATCH[2]} detail=${BASH_REMATCH[4]}
			result "$st" "$name" "$detail"
		elif [[ $line == '    | '* ]]; then
			printf '%s\n' "$line"
		fi
	done <<<"$out"
	if ((rc != 0)) && ! grep -q '^FAIL ' <<<"$out"; then
		result FAIL golden "exit $rc"
		printf '%s\n' "$out" | tail -20 | sed 's/^/    | /'
	fi
}

# Every tool's real output against docs/FORMATS.md (tests/formats/*.sh:
# the last line says what was checked, or why it skipped).
run_formats() {
	local s n out rc
	for s in tests/formats/*.sh; do
		[[ -e $s ]] || continue
		n=${s##*/}
		out=$(BUILD=$BUILD timeout 300 "$s" 2>&1); rc=$?
		case $rc in
		0) result PASS "formats/${n%.sh}" "$(tail -1 <<<"$out")" ;;
		4) result SKIP "formats/${n%.sh}" "$(tail -1 <<<"$out")" ;;
		*) result FAIL "formats/${n%.sh}" "exit $rc"
		   printf '%s\n' "$out" | tail -60 | sed 's/^/    | /' ;;
		esac
	done
}

run_netns() {
	local s n out rc t0
	for s in tests/netns/*.sh; do
		[[ -e $s ]] || continue
		n=${s##*/}
		[[ $n == lib.sh ]] && continue
		t0=$SECONDS
		out=$(BUILD=$BUILD timeout 1800 "$s" 2>&1); rc=$?
		# per-test lines of the script (PASS/FAIL/SKIP name) are counted too
		while read -r st name; do
			case $st in PASS|FAIL) result "$st" "netns/${n%.sh}/$name" ;; esac
		done < <(grep -E '^(PASS|FAIL) ' <<<"$out")
		case $rc in
		0) result PASS "netns/${n%.sh}" "$((SECONDS - t0)) s" ;;
		4) result SKIP "netns/${n%.sh}" "$(tail -1 <<<"$out")" ;;
		*) result FAIL "netns/${n%.sh}" "exit $rc"
		   printf '%s\n' "$out" | tail -60 | sed 's/^/    | /' ;;
		esac
	done
}

run_man() {
	local m out
	for m in man/man1/*.1 man/man8/*.8; do
		[[ -e $m ]] || continue
		if out=$(mandoc -Tlint -W warning "$m" 2>&1) && [[ -z $out ]]; then
			result PASS "man/${m##*/}"
		else
			result FAIL "man/${m##*/}"
			printf '%s\n' "$out" | sed 's/^/    | /'
		fi
	done
}

(($#)) || set -- all
for part; do
	case $part in
	all) run_unit; run_fuzz; run_golden; run_formats; run_netns; run_man ;;
	unit|fuzz|golden|formats|netns|man) "run_$part" ;;
	*) echo "tests/run.sh: unknown part '$part'" >&2; exit 2 ;;
	esac
done

echo
((${#skipped[@]})) && printf 'skipped: %s\n' "${skipped[@]}"
((${#failed[@]})) && printf 'failed: %s\n' "${failed[@]}"
echo "tests: $pass passed, $fail failed, $skip skipped"
((fail == 0))
