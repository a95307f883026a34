#!/bin/sh
# tests/bench/outbox.sh - the outbox benchmark (tests/bench/outbox.c): the
# sender draining BENCH_OUTBOX_N (100000) messages to a mock provider with the
# rate limit off, then BENCH_OUTBOX_SECONDS (20) s at BENCH_OUTBOX_RATE (500)
# msg/s. Needs build/libpintu.a (`make`). Exits non-zero only on a broken run
# (a message missing or sent twice, a build failure), never for slowness.
set -eu

cd "$(dirname "$0")/../.."
CC=${CC:-cc}
PKGS="libmicrohttpd libcurl sqlite3 libcjson libpcre2-8 libsodium"

die() {
	echo "bench-outbox: FAILED: $*" >&2
	exit 1
}

[ -f build/libpintu.a ] || die "build/libpintu.a does not exist; run make first"
mkdir -p build/bench
# shellcheck disable=SC2046,SC2086
$CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Werror -O2 -Iinclude \
	$(pkg-config --cflags $PKGS) tests/bench/outbox.c -o build/bench/outbox \
	build/libpintu.a $(pkg-config --libs $PKGS) -lpthread -lm || die "cannot build tests/bench/outbox.c"
build/bench/outbox || die "broken run"
