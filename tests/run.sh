#!/bin/sh
# run.sh - run every test suite and print the grand total.
#
# Suites: the unit tests (gcc build and ASan+UBSan build), the integration tests
# against the real binary (both builds), and the real-Kannel test. Each suite
# prints its own "N passed, M failed" line; a suite that crashes without one
# counts as one failure. Full output of each suite goes to build/test-logs/.
set -u
cd "$(dirname "$0")/.."
logs=build/test-logs
mkdir -p "$logs"
total_pass=0
total_fail=0
failed_suites=""

run_suite() {
	name=$1
	shift
	log="$logs/$(echo "$name" | tr ' /' '__').log"
	"$@" >"$log" 2>&1
	rc=$?
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(echo " $line" | sed -E 's/.*[^0-9]([0-9]+) passed, ([0-9]+) failed.*/\1/')
		f=$(echo " $line" | sed -E 's/.*[^0-9]([0-9]+) passed, ([0-9]+) failed.*/\2/')
	else
		p=0
		f=1
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # exited non-zero (crash, sanitizer report) without counting a failure
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	if [ "$f" -ne 0 ]; then
		failed_suites="$failed_suites $name"
		printf '%-40s %s passed, %s failed (exit %s) - log: %s\n' "$name" "$p" "$f" "$rc" "$log"
		grep -E 'FAIL|not ok|ERROR|runtime error|AddressSanitizer' "$log" | head -n 20 | sed 's/^/    /'
	else
		printf '%-40s %s passed, %s failed\n' "$name" "$p" "$f"
	fi
}

export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"

for build in build build-asan; do
	[ "${PINTU_ONLY_ASAN:-0}" = 1 ] && [ "$build" = build ] && continue
	[ -d "$build/tests" ] || continue
	for t in "$build"/tests/test_*; do
		[ -x "$t" ] || continue
		run_suite "unit $build/$(basename "$t")" "$t"
	done
	if [ -x "$build/pintu" ] && [ -f tests/integration/run.mjs ]; then
		run_suite "integration $build" env PINTU_BIN="$build/pintu" node tests/integration/run.mjs
	fi
done

# The staff console in a real headless Chromium (normal build only).
if [ "${PINTU_ONLY_ASAN:-0}" != 1 ] && [ -x build/pintu ] && [ -f tests/browser/run.sh ]; then
	run_suite "browser build" env PINTU_BIN=build/pintu sh tests/browser/run.sh
fi


echo
[ -n "$failed_suites" ] && echo "failed suites:$failed_suites"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
