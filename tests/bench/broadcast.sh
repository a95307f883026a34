#!/bin/sh
# tests/bench/broadcast.sh - the broadcast benchmark (tests/bench/broadcast.c):
# BENCH_BC_N (100000) recipients expanded (target < 5 s), then sent to a mock
# provider at BENCH_BC_RATE (500) msg/s for BENCH_BC_SECONDS (10) s (target:
# the rate within 2 %, RSS flat), then a restart mid-broadcast and the rest
# with no limit (target: nobody sent twice). Needs build/libpintu.a (`make`).
# Exits non-zero only on a broken run (a recipient missing or sent twice, a
# build failure), never for slowness.
set -eu

cd "$(dirname "$0")/../.."
CC=${CC:-cc}
PKGS="libmicrohttpd libcurl sqlite3 libcjson libpcre2-8 libsodium"

die() {
	echo "bench-broadcast: FAILED: $*" >&2
	exit 1
}

[ -f build/libpintu.a ] || die "build/libpintu.a does not exist; run make first"
mkdir -p build/bench
# shellcheck disable=SC2046,SC2086
$CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Werror -O2 -Iinclude \
	$(pkg-config --cflags $PKGS) tests/bench/broadcast.c -o build/bench/broadcast \
	build/libpintu.a $(pkg-config --libs $PKGS) -lpthread -lm || die "cannot build tests/bench/broadcast.c"
build/bench/broadcast || die "broken run"
