# Pintu - plain GNU Makefile. `make help` lists the targets.
#
# Dependencies come from the system through pkg-config. `make deps` checks them
# and, as root, installs the missing Debian packages (gateway/install-deps.sh).

PKGS      := libmicrohttpd libcurl sqlite3 libcjson libpcre2-8 libsodium
CC        ?= gcc
BUILD     ?= build
SAN       ?=
# snprintf truncation is deliberate everywhere (capped buffers), so gcc's
# -Wformat-truncation is off; clang has no such warning.
WARN      := -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral -Werror \
             $(if $(findstring clang,$(CC)),,-Wno-format-truncation)
CFLAGS    ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude -MMD -MP \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(SAN)
LDLIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

LIB_SRC   := $(wildcard src/*.c) $(wildcard adapters/*.c)
LIB_OBJ   := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC)) $(BUILD)/obj/gen/demo_config.o \
             $(BUILD)/obj/gen/web_assets.o
WEB_FILES := $(wildcard gateway/web/*)
BIN_SRC   := $(wildcard gateway/*.c)
BIN_OBJ   := $(patsubst %.c,$(BUILD)/obj/%.o,$(BIN_SRC))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all deps run test unit asan bench fuzz check clean help
.DEFAULT_GOAL := all

all: $(BUILD)/pintu

help:
	@echo "make           build build/pintu"
	@echo "make run       install deps (root), build, serve the demo on 127.0.0.1:8080 (var/pintu.db)"
	@echo "make test      install deps (root), build, run every test (unit, integration, ASan+UBSan)"
	@echo "make asan      build and run unit + integration tests under ASan+UBSan"
	@echo "make bench     benchmarks (USSD steps/s vs a bare libmicrohttpd server)"
	@echo "make fuzz      build the libFuzzer harnesses with clang and run each briefly"
	@echo "make check     warning-free build with gcc and clang, dialog check"

# Tools each job needs besides the libraries (real peers, the sqlite3 shell, load tool).
test: PINTU_DEPS_TOOLS := sqlite3 kannel chromium npm
asan: PINTU_DEPS_TOOLS := sqlite3 kannel
bench: PINTU_DEPS_TOOLS := sqlite3 wrk
fuzz: PINTU_DEPS_TOOLS := clang

deps:
	@PINTU_DEPS_TOOLS="$(PINTU_DEPS_TOOLS)" sh gateway/install-deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The built-in demo configuration is gateway/pintu.example.json compiled in.
$(BUILD)/gen/demo_config.c: gateway/pintu.example.json gateway/embed.sh
	@mkdir -p $(dir $@)
	sh gateway/embed.sh pt_demo_config_json $< > $@

$(BUILD)/obj/gen/demo_config.o: $(BUILD)/gen/demo_config.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The staff console's files (gateway/web/) are compiled in too.
$(BUILD)/gen/web_assets.c: $(WEB_FILES) gateway/embed-web.sh
	@mkdir -p $(dir $@)
	sh gateway/embed-web.sh gateway/web > $@

$(BUILD)/obj/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libpintu.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/pintu: $(BIN_OBJ) $(BUILD)/libpintu.a
	$(CC) $(ALL_CFLAGS) -o $@ $(BIN_OBJ) $(BUILD)/libpintu.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libpintu.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libpintu.a $(LDLIBS)

unit: $(UNIT_BIN)

run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p var
	./$(BUILD)/pintu serve --db var/pintu.db --listen 127.0.0.1:8080

test: deps
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory BUILD=build-asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" CFLAGS="-O1 -g" all unit
	@sh tests/run.sh

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" CFLAGS="-O1 -g" all unit
	@PINTU_ONLY_ASAN=1 sh tests/run.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@sh tests/bench/run.sh

fuzz: deps
	@sh tests/fuzz/run.sh

check: deps
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory CC=clang BUILD=build-clang all unit
	./$(BUILD)/pintu check-dialogs dialogs

clean:
	rm -rf build build-asan build-clang build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
