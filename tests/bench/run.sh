#!/bin/sh
# tests/bench/run.sh - USSD benchmark: Pintu vs a bare libmicrohttpd server.
#
# Called by `make bench` (after `make all`). For each mode (see below):
#   1. start `pintu serve` with the bench config (at-ussd only, fresh db in a
#      temp dir) and derive the complaint path from the shipped dialogs by
#      walking it once (prepare.mjs steps); start build/bench/bare
#      (tests/bench/bare.c: a bare libmicrohttpd server, 2-thread pool, epoll,
#      one fixed screen) next to it; warm each up
#   2. run wrk with ussd.lua against the two in turn, BENCH_ROUNDS rounds of
#      BENCH_SECONDS/BENCH_ROUNDS seconds each (pintu, bare; then bare, pintu;
#      ...), so both see the same moments of a shared host: its speed drifts
#      by tens of percent within minutes, and one run of each after the other
#      made the ratio a matter of which one met a slow minute
#   3. stop Pintu with SIGTERM (must exit 0) and check that the database holds
#      at least every ticket the load generator saw acknowledged; stop bare
# then print a table: steps/s (all rounds together), p50 (the median of the
# rounds'), p99 (the worst round's), the ratio pintu/bare and each round's
# rate; where the CPU went (each server's threads by name, wrk, the machine's
# idle time, per step; Pintu's commits, syncs and WAL frames per step: read
# from /proc and /metrics around every round); then the outbox drain
# (tests/bench/outbox.sh) and the broadcast numbers (tests/bench/broadcast.sh).
#
# Modes (wrk gives scripts no connection identity; ussd.lua explains):
#   interleave (default) 64 connections, 2 wrk threads; every request is one
#             step of one of 1024 concurrent sessions (a ring per thread, see
#             ussd.lua), one request per connection at a time, as USSD
#             aggregators send them. Gives steps/s and per-step p50/p99.
#   pipeline  64 connections, 2 wrk threads; each request() is a whole session
#             sent as pipelined requests, answered in order. Gives steps/s at
#             the target shape. wrk's latency numbers are per pipelined session
#             and its coordinated-omission correction mixes per-step and
#             per-session scales, so they are not reported.
#   step      64 connections, one wrk thread per connection; one step per
#             request, the next sent after the answer. Gives per-step p50/p99.
# BENCH_MODE=all runs the three.
# Exits non-zero only on a broken run (a tool missing, a server that does not
# start, crashes or does not exit 0, an unexpected screen, lost tickets), never
# for slowness.
#
# Env: BENCH_SECONDS (15: per server, over all rounds), BENCH_ROUNDS (3),
#      BENCH_WARMUP (3, or 1 when BENCH_SECONDS < 6),
#      BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_MODE
#      (interleave | pipeline | step | all), PINTU_BIN (build/pintu), BENCH_PINTU_LOG
#      (Pintu's PINTU_LOG, default info), BENCH_KEEP=1 keeps the temp dir,
#      BENCH_USSD_ONLY=1 skips the outbox and broadcast benchmarks (repeated
#      runs of the ratio).
set -eu

cd "$(dirname "$0")/../.."
BIN=${PINTU_BIN:-build/pintu}
SECS=${BENCH_SECONDS:-15}
CONNS=${BENCH_CONNECTIONS:-64}
PTHREADS=${BENCH_THREADS:-2}
MODES=${BENCH_MODE:-interleave}
ROUNDS=${BENCH_ROUNDS:-3}
if [ "$SECS" -lt 6 ]; then WARM=${BENCH_WARMUP:-1}; else WARM=${BENCH_WARMUP:-3}; fi
CC=${CC:-cc}
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)

die() {
	echo "bench: FAILED: $*" >&2
	exit 1
}

for t in wrk sqlite3 node pkg-config; do
	command -v "$t" >/dev/null 2>&1 ||
		die "$t is missing (as root: PINTU_DEPS_TOOLS=\"sqlite3 wrk\" sh gateway/install-deps.sh)"
done
[ -x "$BIN" ] || die "$BIN does not exist; run make first"
case $MODES in all) MODES="interleave pipeline step" ;; interleave | pipeline | step) ;; *) die "BENCH_MODE must be interleave, pipeline, step or all" ;; esac
export BENCH_CONNECTIONS="$CONNS" BENCH_THREADS="$PTHREADS"
case $SECS in '' | *[!0-9]*) die "BENCH_SECONDS must be a whole number" ;; esac
case $ROUNDS in '' | *[!0-9]*) die "BENCH_ROUNDS must be a whole number" ;; esac
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 20 ] || die "BENCH_ROUNDS must be 1 to 20"
RSECS=$((SECS / ROUNDS))
[ "$RSECS" -ge 1 ] || die "BENCH_SECONDS must be at least BENCH_ROUNDS"
[ "$CONNS" -le 99 ] || die "BENCH_CONNECTIONS must be at most 99 (ussd.lua numbers phones by thread)"

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

# alive PID: the process exists and is not a zombie waiting to be reaped.
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	[ "$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]
}

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
	rest=""
	for p in $PIDS; do [ "$p" = "$1" ] || rest="$rest $p"; done
	PIDS=$rest
	[ "$rc" = 0 ] || die "$2 exited with status $rc after SIGTERM (log: $TMP)"
}

# field NAME FILE: a number from the BENCH_RESULT line ussd.lua prints.
field() {
	sed -n "s/^BENCH_RESULT.* $1=\([0-9]*\).*/\1/p" "$2" | head -n 1
}

# cpu_snap PID FILE: where the CPU went so far, one "key ticks" per line:
# each of PID's threads summed by thread name (Pintu names its threads by
# role: pt-writer, pt-syncer, ...), "=busy" and "=all" for the whole machine
# (/proc/stat), "=wrk" for this shell's reaped children (wrk, from `times`).
# Around a round of load these give the CPU per step of each part.
cpu_snap() {
	# stat: "tid (name) state ..."; utime and stime are the 12th and 13th
	# fields after the name (one awk for all threads: no process per thread,
	# which would also count as wrk's CPU in `times`)
	awk '{
		o = index($0, "("); c = o
		for (i = length($0); i > o; i--) if (substr($0, i, 1) == ")") { c = i; break }
		split(substr($0, c + 2), f, " ")
		ticks[substr($0, o + 1, c - o - 1)] += f[12] + f[13]
	} END {for (n in ticks) print n, ticks[n]}' /proc/"$1"/task/*/stat >"$2"
	awk '$1 == "cpu" {b = $2 + $3 + $4 + $7 + $8; print "=busy", b; print "=all", b + $5 + $6}' \
		/proc/stat >>"$2"
	times >"$2.times" # not in a pipeline: a subshell's children's times start at 0
	awk -v hz="$HZ" 'NR == 2 {
		t = 0
		for (i = 1; i <= 2; i++) { split($i, p, "m"); t += p[1] * 60 + p[2] }
		printf "=wrk %.0f\n", t * hz
	}' "$2.times" >>"$2"
}

# store_snap PORT FILE: Pintu's store counters from /metrics.
store_snap() {
	node -e 'fetch(process.argv[1]).then((r) => r.text()).then((t) => {
		for (const k of ["batches", "syncs", "sync_seconds", "wal_frames"]) {
			const m = t.match(new RegExp("^pintu_store_" + k + "_total (\\S+)$", "m"));
			console.log(k, m ? m[1] : 0);
		}
	}).catch(() => process.exit(1))' "http://127.0.0.1:$1/metrics" >"$2" || die "cannot read Pintu's /metrics"
}

# run_wrk NAME URL SECONDS SALT OUT MODE [novalidate]
run_wrk() {
	if [ "$6" = step ]; then thr=$CONNS; else thr=$PTHREADS; fi
	wrk -t "$thr" -c "$CONNS" -d "${3}s" --timeout 10s --latency -s tests/bench/ussd.lua "$2" \
		-- "$TMP/steps.lua" "$6" "$4" ${7:-} >"$5" 2>&1 || { cat "$5" >&2; die "wrk failed against $1"; }
	grep -q '^BENCH_RESULT' "$5" || { cat "$5" >&2; die "wrk printed no result for $1"; }
	[ "$(field requests "$5")" -gt 0 ] || { cat "$5" >&2; die "no request completed against $1"; }
	bad=$(field bad "$5")
	if [ "$bad" != 0 ]; then
		cat "$5" >&2
		die "$1: $bad answers were not the expected screen (first: $(sed -n 's/^BENCH_BAD_SAMPLE //p' "$5"))"
	fi
}

# bench_mode MODE SALT: fresh Pintu and the bare server side by side, warm-up,
# ROUNDS alternating rounds, stop both, check Pintu's database.
bench_mode() {
	m=$1
	node tests/bench/prepare.mjs config >"$TMP/bench.json" || die "cannot write the bench config"
	pport=$(node tests/bench/prepare.mjs port)
	db="$TMP/bench-$m.db"
	PINTU_LOG=${BENCH_PINTU_LOG:-info} "$BIN" serve --config "$TMP/bench.json" --db "$db" \
		--listen "127.0.0.1:$pport" >"$TMP/pintu-$m.out" 2>"$TMP/pintu-$m.err" &
	ppid=$!
	PIDS="$PIDS $ppid"
	wait_listening "$TMP/pintu-$m.out" "$pport" "$ppid" ||
		{ tail -n 30 "$TMP/pintu-$m.err" >&2; die "pintu did not start"; }
	node tests/bench/prepare.mjs steps "http://127.0.0.1:$pport" >"$TMP/steps.lua" ||
		{ tail -n 30 "$TMP/pintu-$m.err" >&2; die "the complaint path could not be walked"; }
	bport=$(node tests/bench/prepare.mjs port)
	build/bench/bare "$bport" >"$TMP/bare-$m.out" 2>"$TMP/bare-$m.err" &
	bpid=$!
	PIDS="$PIDS $bpid"
	wait_listening "$TMP/bare-$m.out" "$bport" "$bpid" || die "bare server did not start"
	purl="http://127.0.0.1:$pport/webhooks/at-ussd"
	burl="http://127.0.0.1:$bport/webhooks/at-ussd"
	echo "bench: $m: warm-up ${WARM}s each, then $ROUNDS rounds of ${RSECS}s each" >&2
	rsalt=$2
	run_wrk "pintu ($m)" "$purl" "$WARM" "$rsalt" "$TMP/pintu-$m-warm.txt" "$m"
	run_wrk "bare ($m)" "$burl" "$WARM" "$rsalt" "$TMP/bare-$m-warm.txt" "$m" novalidate
	acked=$(($(field tickets "$TMP/pintu-$m-warm.txt") + 1))
	r=1
	while [ $r -le "$ROUNDS" ]; do
		rsalt=$((rsalt + 1))
		sleep 1 # the server loaded before settles (Pintu finishes a checkpoint)
		if [ $((r % 2)) = 1 ]; then order="pintu bare"; else order="bare pintu"; fi
		for s in $order; do
			if [ "$s" = pintu ]; then
				f="$TMP/pintu-$m-r$r"
				store_snap "$pport" "$f.store0"
				cpu_snap "$ppid" "$f.cpu0"
				run_wrk "pintu ($m)" "$purl" "$RSECS" "$rsalt" "$f.txt" "$m"
				cpu_snap "$ppid" "$f.cpu1"
				store_snap "$pport" "$f.store1"
				acked=$((acked + $(field tickets "$f.txt")))
			else
				f="$TMP/bare-$m-r$r"
				cpu_snap "$bpid" "$f.cpu0"
				run_wrk "bare ($m)" "$burl" "$RSECS" "$rsalt" "$f.txt" "$m" novalidate
				cpu_snap "$bpid" "$f.cpu1"
			fi
			alive "$ppid" || die "pintu exited during the run (log: $TMP)"
			alive "$bpid" || die "the bare server exited during the run"
		done
		r=$((r + 1))
	done
	stop_server "$ppid" "pintu"
	stop_server "$bpid" "bare"
	indb=$(sqlite3 "$db" "select count(*) from tickets") || die "cannot read $db"
	echo "$acked $indb" >"$TMP/durability-$m"
	[ "$indb" -ge "$acked" ] || die "pintu ($m): the database holds $indb tickets but $acked were acknowledged"
}

# deltas S M KIND: "key increase" over each round of server S in mode M, from
# the KIND snapshots taken before (KIND0) and after (KIND1) it (a thread that
# was not there before starts from 0).
deltas() {
	r=1
	while [ $r -le "$ROUNDS" ]; do
		f="$TMP/$1-$2-r$r"
		awk 'NR == FNR {a[$1] = $2; next} {d = $2 - a[$1]; print $1, (d > 0 ? d : 0)}' "$f.${3}0" "$f.${3}1"
		r=$((r + 1))
	done
}

# cpu_report S M: server S's CPU per step in mode M, over all rounds (from
# cpu_snap before and after each round), and for Pintu its commits and syncs.
cpu_report() {
	steps=$(total "$1" "$2" requests)
	deltas "$1" "$2" cpu | awk -v steps="$steps" -v hz="$HZ" '{d[$1] += $2}
		END {
			for (k in d) if (k !~ /^=/) printf "%s %.2f\n", k, d[k] * 1e6 / hz / steps
			printf "=wrk %.1f\n", d["=wrk"] * 1e6 / hz / steps
			printf "=idle %.1f\n", (d["=all"] > 0 ? 100 * (d["=all"] - d["=busy"]) / d["=all"] : 0)
		}' >"$TMP/cpu-$1-$2"
	own=$(awk '$1 !~ /^=/ {t += $2} END {printf "%.1f", t}' "$TMP/cpu-$1-$2")
	parts=$(grep -v '^=' "$TMP/cpu-$1-$2" | sort -k2,2nr |
		awk '$2 >= 0.05 {printf "%s%s %.1f", (n++ ? ", " : ""), $1, $2}')
	printf '  %-5s %5s us (%s); wrk %s us; machine idle %s%%\n' "$1" "$own" "$parts" \
		"$(sed -n 's/^=wrk //p' "$TMP/cpu-$1-$2")" "$(sed -n 's/^=idle //p' "$TMP/cpu-$1-$2")"
	[ "$1" = pintu ] || return 0
	deltas "$1" "$2" store | awk -v steps="$steps" '{d[$1] += $2}
		END {
			printf "        per step: %.3f commits, %.3f fdatasyncs (%.0f us each), %.2f WAL frames\n",
				d["batches"] / steps, d["syncs"] / steps,
				(d["syncs"] > 0 ? d["sync_seconds"] * 1e6 / d["syncs"] : 0), d["wal_frames"] / steps
		}'
}

# total S M FIELD: FIELD summed over the rounds of server S in mode M.
total() {
	t=0
	r=1
	while [ $r -le "$ROUNDS" ]; do
		t=$((t + $(field "$3" "$TMP/$1-$2-r$r.txt")))
		r=$((r + 1))
	done
	echo $t
}

# rounds S M FIELD: FIELD of every round of server S in mode M, one per line.
rounds() {
	r=1
	while [ $r -le "$ROUNDS" ]; do
		field "$3" "$TMP/$1-$2-r$r.txt"
		r=$((r + 1))
	done
}

salt=10
for m in $MODES; do
	bench_mode "$m" $salt
	salt=$((salt + 25))
done

# ---- report
for m in $MODES; do
	for s in pintu bare; do
		r=1
		while [ $r -le "$ROUNDS" ]; do
			echo
			echo "=== wrk: $s, mode $m, round $r ==="
			grep -v '^BENCH_' "$TMP/$s-$m-r$r.txt"
			r=$((r + 1))
		done
	done
done
NSTEPS=$(grep -c '^    "' "$TMP/steps.lua")
echo
echo "=== USSD benchmark: full complaint sessions of $NSTEPS steps, $CONNS connections, $ROUNDS alternating rounds of ${RSECS} s per server ==="
printf '%-9s %-6s %11s %11s %11s %10s  %s\n' mode server steps/s p50 p99 tickets/s "wrk threads"
for m in $MODES; do
	if [ "$m" = step ]; then thr=$CONNS; else thr=$PTHREADS; fi
	for s in bare pintu; do
		# p50: the median of the rounds' p50; p99: the worst round's
		p50=$(rounds "$s" "$m" p50_us | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
		p99=$(rounds "$s" "$m" p99_us | sort -n | tail -n 1)
		awk -v m="$m" -v s="$s" -v thr="$thr" -v r="$(total "$s" "$m" requests)" \
			-v d="$(total "$s" "$m" duration_us)" -v p50="$p50" -v p99="$p99" \
			-v tk="$(total "$s" "$m" tickets)" 'BEGIN {
			lat50 = "-"; lat99 = "-"; tps = "-"
			if (m != "pipeline") { lat50 = sprintf("%.2f ms", p50 / 1000); lat99 = sprintf("%.2f ms", p99 / 1000) }
			if (s == "pintu") tps = sprintf("%.0f", tk / (d / 1e6))
			printf "%-9s %-6s %11.0f %11s %11s %10s  %s\n", m, s, r / (d / 1e6), lat50, lat99, tps, thr
		}'
	done
done
for m in $MODES; do
	awk -v m="$m" -v pr="$(total pintu "$m" requests)" -v pd="$(total pintu "$m" duration_us)" \
		-v br="$(total bare "$m" requests)" -v bd="$(total bare "$m" duration_us)" 'BEGIN {
		ps = pr / (pd / 1e6); bs = br / (bd / 1e6)
		printf "ratio pintu/bare (steps/s), %s: %.3f\n", m, (bs > 0 ? ps / bs : 0)
	}'
	for s in pintu bare; do
		line=""
		r=1
		while [ $r -le "$ROUNDS" ]; do
			line="$line $(awk -v q="$(field requests "$TMP/$s-$m-r$r.txt")" \
				-v d="$(field duration_us "$TMP/$s-$m-r$r.txt")" 'BEGIN {printf "%.0f", q / (d / 1e6)}')"
			r=$((r + 1))
		done
		echo "  $s steps/s per round, $m:$line"
	done
done
for m in $MODES; do
	read -r acked indb <"$TMP/durability-$m"
	echo "durability, $m: $indb tickets in the database >= $acked acknowledged: OK"
done
for m in $MODES; do
	echo "CPU per step (per request for bare), $m, all rounds: the server's threads by name, wrk's, and the machine's idle time (/proc):"
	cpu_report pintu "$m"
	cpu_report bare "$m"
done
echo "p50/p99: per step, from wrk --latency (interleave: 2 wrk threads, each request one step of one of 1024 concurrent sessions; step: one wrk thread per connection); p50: the median of the rounds', p99: the worst round's"
[ "${BENCH_USSD_ONLY:-}" = 1 ] && exit 0
CC="$CC" sh tests/bench/outbox.sh || die "outbox benchmark"
CC="$CC" sh tests/bench/broadcast.sh || die "broadcast benchmark"
