#!/bin/sh
# tests/fuzz/run.sh - build every libFuzzer harness tests/fuzz/<name>.c with clang
# (ASan + UBSan) into build-fuzz/, run each for FUZZ_SECONDS (default 20) on a
# temporary copy of tests/fuzz/corpus/<name>/, and print "fuzz: N passed, M failed".
#
# A harness passes when it builds and libFuzzer exits 0. Crash inputs are written
# to build-fuzz/artifacts/. Run from anywhere: `sh tests/fuzz/run.sh [name...]`.
#
# Adding a harness: write tests/fuzz/<name>.c, a few seeds in corpus/<name>/, and
# one line in the table below naming the library sources it links. A harness
# missing from the table links every src/*.c and adapters/*.c (and the generated
# demo configuration when it exists).
set -u

cd "$(dirname "$0")/../.." || exit 1

# name         library sources it needs
SOURCES_TABLE='
form           src/form.c src/common.c
ticket         src/text.c src/common.c
nik            src/text.c src/common.c
sms_split      src/text.c src/common.c
phone          src/text.c src/common.c
adapter_africastalking_ussd adapters/adapter_util.c adapters/africastalking_ussd.c adapters/africastalking_sms.c adapters/kannel.c adapters/generic_ussd.c adapters/generic_sms.c adapters/twilio.c adapters/telegram.c adapters/whatsapp.c adapters/registry.c src/crypto.c src/form.c src/text.c src/common.c
adapter_africastalking_sms adapters/adapter_util.c adapters/africastalking_ussd.c adapters/africastalking_sms.c adapters/kannel.c adapters/generic_ussd.c adapters/generic_sms.c adapters/twilio.c adapters/telegram.c adapters/whatsapp.c adapters/registry.c src/crypto.c src/form.c src/text.c src/common.c
adapter_kannel             adapters/adapter_util.c adapters/africastalking_ussd.c adapters/africastalking_sms.c adapters/kannel.c adapters/generic_ussd.c adapters/generic_sms.c adapters/twilio.c adapters/telegram.c adapters/whatsapp.c adapters/registry.c src/crypto.c src/form.c src/text.c src/common.c
adapter_generic_ussd       adapters/adapter_util.c adapters/africastalking_ussd.c adapters/africastalking_sms.c adapters/kannel.c adapters/generic_ussd.c adapters/generic_sms.c adapters/twilio.c adapters/telegram.c adapters/whatsapp.c adapters/registry.c src/crypto.c src/form.c src/text.c src/common.c
adapter_generic_sms        adapters/adapter_util.c adapters/africastalking_ussd.c adapters/africastalking_sms.c adapters/kannel.c adapters/generic_ussd.c adapters/generic_sms.c adapters/twilio.c adapters/telegram.c adapters/whatsapp.c adapters/registry.c src/crypto.c src/form.c src/text.c src/common.c
adapter_twilio             adapters/adapter_util.c adapters/africastalking_ussd.c adapters/africastalking_sms.c adapters/kannel.c adapters/generic_ussd.c adapters/generic_sms.c adapters/twilio.c adapters/telegram.c adapters/whatsapp.c adapters/registry.c src/crypto.c src/form.c src/text.c src/common.c
adapter_telegram           adapters/adapter_util.c adapters/africastalking_ussd.c adapters/africastalking_sms.c adapters/kannel.c adapters/generic_ussd.c adapters/generic_sms.c adapters/twilio.c adapters/telegram.c adapters/whatsapp.c adapters/registry.c src/crypto.c src/form.c src/text.c src/common.c
adapter_whatsapp           adapters/adapter_util.c adapters/africastalking_ussd.c adapters/africastalking_sms.c adapters/kannel.c adapters/generic_ussd.c adapters/generic_sms.c adapters/twilio.c adapters/telegram.c adapters/whatsapp.c adapters/registry.c src/crypto.c src/form.c src/text.c src/common.c
'

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
CC_FUZZ=${CC_FUZZ:-clang}
OUT=build-fuzz
PKGS="libmicrohttpd libcurl sqlite3 libcjson libpcre2-8"
CFLAGS_FUZZ="-g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -Iinclude"

if ! command -v "$CC_FUZZ" >/dev/null 2>&1; then
	echo "fuzz: $CC_FUZZ not found (install clang)" >&2
	exit 1
fi
mkdir -p "$OUT/artifacts"
PKG_CFLAGS=$(pkg-config --cflags $PKGS 2>/dev/null)
PKG_LIBS=$(pkg-config --libs $PKGS 2>/dev/null)

sources_for() {
	srcs=$(printf '%s\n' "$SOURCES_TABLE" | awk -v n="$1" '$1 == n { $1 = ""; print; exit }')
	if [ -z "$srcs" ]; then
		srcs=$(ls src/*.c adapters/*.c 2>/dev/null | tr '\n' ' ')
		[ -f build/gen/demo_config.c ] && srcs="$srcs build/gen/demo_config.c"
	fi
	printf '%s\n' "$srcs"
}

if [ $# -gt 0 ]; then
	names="$*"
else
	names=$(for f in tests/fuzz/*.c; do basename "$f" .c; done)
fi

passed=0
failed=0
for name in $names; do
	harness=tests/fuzz/$name.c
	if [ ! -f "$harness" ]; then
		echo "fuzz: $name: no $harness" >&2
		failed=$((failed + 1))
		continue
	fi
	srcs=$(sources_for "$name")
	echo "fuzz: building $name ($srcs)"
	# shellcheck disable=SC2086 # word splitting of flag and source lists is intended
	if ! $CC_FUZZ $CFLAGS_FUZZ $PKG_CFLAGS -o "$OUT/$name" "$harness" $srcs \
		$PKG_LIBS -lpthread -lm; then
		echo "fuzz: $name: build FAILED" >&2
		failed=$((failed + 1))
		continue
	fi
	corpus=$(mktemp -d "${TMPDIR:-/tmp}/pintu-fuzz-$name.XXXXXX") || exit 1
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp -R "tests/fuzz/corpus/$name/." "$corpus/"
	fi
	echo "fuzz: running $name for ${FUZZ_SECONDS}s"
	if "./$OUT/$name" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$OUT/artifacts/$name-" -print_final_stats=0 "$corpus" \
		>"$OUT/$name.log" 2>&1; then
		passed=$((passed + 1))
		echo "fuzz: $name ok ($(grep -c . "$OUT/$name.log") log lines, $(ls "$corpus" | wc -l) corpus files)"
	else
		failed=$((failed + 1))
		echo "fuzz: $name FAILED (see $OUT/$name.log and $OUT/artifacts/)" >&2
		tail -n 40 "$OUT/$name.log" >&2
	fi
	rm -rf "$corpus"
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
