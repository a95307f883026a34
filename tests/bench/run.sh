#!/bin/sh
# tests/bench/run.sh - USSD benchmark: Pintu vs a bare libmicrohttpd server.
#
# Called by `make bench` (after `make all`). Steps:
#   1. build tests/bench/bare.c -> build/bench/bare
#   2. start `pintu serve` with the bench config (at-ussd only, fresh db in a
#      temp dir), derive the complaint path from the shipped dialogs by walking
#      it once (prepare.mjs steps), warm up, then run wrk with ussd.lua
#   3. stop Pintu with SIGTERM (must exit 0) and check that the database holds
#      at least every ticket the load generator saw acknowledged
#   4. the same load against build/bench/bare (answers one fixed screen)
#   5. print a table: steps/s, p50, p99 for each, and the ratio pintu/bare
# Exits non-zero only on a broken run (a tool missing, a server that does not
# start or crashes, an unexpected screen, lost tickets), never for slowness.
#
# Env: BENCH_SECONDS (15), BENCH_WARMUP (3, or 1 when BENCH_SECONDS < 6),
#      BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_MODE (pipeline | step;
#      step runs one wrk thread per connection, see ussd.lua), PINTU_BIN
#      (build/pintu), BENCH_PINTU_LOG (Pintu's PINTU_LOG level, default info),
#      BENCH_KEEP=1 keeps the temp dir.
set -eu

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BIN=${PINTU_BIN:-build/pintu}
SECS=${BENCH_SECONDS:-15}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
MODE=${BENCH_MODE:-pipeline}
if [ "$SECS" -lt 6 ]; then WARM=${BENCH_WARMUP:-1}; else WARM=${BENCH_WARMUP:-3}; fi
if [ "$MODE" = step ]; then THREADS=$CONNS; fi
CC=${CC:-cc}

die() {
	echo "bench: $*" >&2
	exit 1
}

for t in wrk sqlite3 node pkg-config; do
	command -v "$t" >/dev/null 2>&1 ||
		die "$t is missing (as root: PINTU_DEPS_TOOLS=\"sqlite3 wrk\" sh gateway/install-deps.sh)"
done
[ -x "$BIN" ] || die "$BIN does not exist; run make first"
case $MODE in pipeline | step) ;; *) die "BENCH_MODE must be pipeline or step" ;; esac

mkdir -p build/bench
# shellcheck disable=SC2046
$CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Werror -O2 \
	$(pkg-config --cflags libmicrohttpd) tests/bench/bare.c -o build/bench/bare \
	$(pkg-config --libs libmicrohttpd) || die "cannot build tests/bench/bare.c"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pintu-bench.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_listening LOGFILE PORT PID: bounded wait for "listening on" in LOGFILE.
wait_listening() {
	i=0
	while ! grep -q "listening on http://127.0.0.1:$2" "$1" 2>/dev/null; do
		alive "$3" || return 1
		i=$((i + 1))
		[ $i -le 200 ] || return 1
		sleep 0.1
	done
}

# alive PID: the process exists and is not a zombie waiting to be reaped.
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	[ "$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]
}

# stop_server PID NAME: SIGTERM and wait (bounded); fails unless exit code 0.
stop_server() {
	kill -TERM "$1" 2>/dev/null || true
	i=0
	while alive "$1"; do
		i=$((i + 1))
		if [ $i -gt 300 ]; then
			kill -KILL "$1" 2>/dev/null || true
			die "$2 did not exit within 30 s of SIGTERM"
		fi
		sleep 0.1
	done
	rc=0
	wait "$1" || rc=$?
	[ "$rc" = 0 ] || die "$2 exited with status $rc after SIGTERM"
}

# field NAME FILE: a value from the BENCH_RESULT line.
field() {
	sed -n "s/.*BENCH_RESULT.* $1=\([0-9]*\).*/\1/p; s/^BENCH_RESULT $1=\([0-9]*\).*/\1/p" "$2" | head -n 1
}

# run_wrk NAME URL SECONDS SALT OUT [novalidate]
run_wrk() {
	wrk -t "$THREADS" -c "$CONNS" -d "${3}s" --timeout 10s --latency -s tests/bench/ussd.lua "$2" \
		-- "$TMP/steps.lua" "$MODE" "$4" ${6:-} >"$5" 2>&1 || { cat "$5" >&2; die "wrk failed against $1"; }
	grep -q BENCH_RESULT "$5" || { cat "$5" >&2; die "wrk printed no result for $1"; }
	[ "$(field requests "$5")" -gt 0 ] || { cat "$5" >&2; die "no request completed against $1"; }
	bad=$(field bad "$5")
	if [ "$bad" != 0 ]; then
		cat "$5" >&2
		die "$1: $bad answers were not the expected screen (first: $(sed -n 's/^BENCH_BAD_SAMPLE //p' "$5"))"
	fi
}

# ---- Pintu
node tests/bench/prepare.mjs config >"$TMP/bench.json" || die "cannot write the bench config"
PORT=$(node tests/bench/prepare.mjs port)
PINTU_LOG=${BENCH_PINTU_LOG:-info} "$BIN" serve --config "$TMP/bench.json" --db "$TMP/bench.db" \
	--listen "127.0.0.1:$PORT" >"$TMP/pintu.out" 2>"$TMP/pintu.err" &
PINTU_PID=$!
PIDS="$PINTU_PID"
wait_listening "$TMP/pintu.out" "$PORT" "$PINTU_PID" ||
	{ tail -n 30 "$TMP/pintu.err" >&2; die "pintu did not start"; }
node tests/bench/prepare.mjs steps "http://127.0.0.1:$PORT" >"$TMP/steps.lua" ||
	{ tail -n 30 "$TMP/pintu.err" >&2; die "the complaint path could not be walked"; }
NSTEPS=$(grep -c '^    "' "$TMP/steps.lua")

echo "bench: pintu warm-up ${WARM}s" >&2
run_wrk pintu "http://127.0.0.1:$PORT/webhooks/at-ussd" "$WARM" 11 "$TMP/pintu-warm.txt"
echo "bench: pintu ${SECS}s, $CONNS connections, $THREADS threads, mode $MODE" >&2
run_wrk pintu "http://127.0.0.1:$PORT/webhooks/at-ussd" "$SECS" 12 "$TMP/pintu.txt"
stop_server "$PINTU_PID" pintu
PIDS=""
ACKED=$(($(field tickets "$TMP/pintu-warm.txt") + $(field tickets "$TMP/pintu.txt") + 1))
INDB=$(sqlite3 "$TMP/bench.db" "select count(*) from tickets") || die "cannot read $TMP/bench.db"

# ---- bare libmicrohttpd
BPORT=$(node tests/bench/prepare.mjs port)
build/bench/bare "$BPORT" >"$TMP/bare.out" 2>"$TMP/bare.err" &
BARE_PID=$!
PIDS="$BARE_PID"
wait_listening "$TMP/bare.out" "$BPORT" "$BARE_PID" || die "bare server did not start"
echo "bench: bare warm-up ${WARM}s" >&2
run_wrk bare "http://127.0.0.1:$BPORT/webhooks/at-ussd" "$WARM" 13 "$TMP/bare-warm.txt" novalidate
echo "bench: bare ${SECS}s" >&2
run_wrk bare "http://127.0.0.1:$BPORT/webhooks/at-ussd" "$SECS" 14 "$TMP/bare.txt" novalidate
stop_server "$BARE_PID" bare
PIDS=""

# ---- report
echo
echo "=== wrk output: pintu ==="
grep -v BENCH_ "$TMP/pintu.txt"
echo "=== wrk output: bare ==="
grep -v BENCH_ "$TMP/bare.txt"
if [ "$MODE" = pipeline ]; then
	LAT="latency per session of $NSTEPS pipelined steps"
else
	LAT="latency per step"
fi
awk -v pr="$(field requests "$TMP/pintu.txt")" -v pd="$(field duration_us "$TMP/pintu.txt")" \
	-v p50="$(field p50_us "$TMP/pintu.txt")" -v p99="$(field p99_us "$TMP/pintu.txt")" \
	-v br="$(field requests "$TMP/bare.txt")" -v bd="$(field duration_us "$TMP/bare.txt")" \
	-v b50="$(field p50_us "$TMP/bare.txt")" -v b99="$(field p99_us "$TMP/bare.txt")" \
	-v tk="$(field tickets "$TMP/pintu.txt")" -v conns="$CONNS" -v thr="$THREADS" -v secs="$SECS" \
	-v mode="$MODE" -v lat="$LAT" -v nsteps="$NSTEPS" -v acked="$ACKED" -v indb="$INDB" '
	function ms(us) { return sprintf("%.2f ms", us / 1000.0) }
	BEGIN {
		ps = pr / (pd / 1e6); bs = br / (bd / 1e6)
		printf "\n=== USSD benchmark: full complaint sessions (%d steps each), %d connections, %d wrk threads, %d s, mode %s ===\n", nsteps, conns, thr, secs, mode
		printf "%-8s %12s %12s %12s %14s\n", "server", "steps/s", "p50", "p99", "tickets/s"
		printf "%-8s %12.0f %12s %12s %14s\n", "bare", bs, ms(b50), ms(b99), "-"
		printf "%-8s %12.0f %12s %12s %14.0f\n", "pintu", ps, ms(p50), ms(p99), tk / (pd / 1e6)
		printf "ratio pintu/bare (steps/s): %.3f\n", (bs > 0 ? ps / bs : 0)
		printf "p50/p99: %s (wrk --latency)\n", lat
		printf "durability: %d tickets in the database >= %d acknowledged: %s\n", indb, acked, (indb >= acked ? "OK" : "LOST TICKETS")
	}'
[ "$INDB" -ge "$ACKED" ] || die "the database holds $INDB tickets but $ACKED were acknowledged"
