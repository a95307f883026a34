#!/bin/sh
# install-deps.sh: make sure the build and test dependencies are present.
# As root, installs what is missing with apt-get; otherwise prints the exact
# command and fails. Cheap when everything is there (pkg-config checks only).
set -eu
PKGS="libmicrohttpd libcurl sqlite3 libcjson libpcre2-8 libsodium"
DEBS="pkg-config libmicrohttpd-dev libcurl4-openssl-dev libsqlite3-dev libcjson-dev libpcre2-dev libsodium-dev"
# Tools the tests and benchmarks drive (real peers, the sqlite3 shell, the load tool,
# headless Chromium and npm for the console's browser tests).
TOOLS="${PINTU_DEPS_TOOLS:-}"
missing=""
if ! command -v pkg-config >/dev/null 2>&1; then
	missing="$DEBS"
else
	for p in $PKGS; do
		pkg-config --exists "$p" || missing="$DEBS"
	done
fi
for t in $TOOLS; do
	case $t in
	sqlite3) command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3" ;;
	wrk) command -v wrk >/dev/null 2>&1 || missing="$missing wrk" ;;
	kannel) command -v bearerbox >/dev/null 2>&1 && [ -x /usr/lib/kannel/test/fakesmsc ] ||
		command -v fakesmsc >/dev/null 2>&1 || missing="$missing kannel kannel-extras" ;;
	clang) command -v clang >/dev/null 2>&1 || missing="$missing clang" ;;
	chromium) [ -x /usr/bin/chromium ] || missing="$missing chromium" ;;
	npm) command -v npm >/dev/null 2>&1 || missing="$missing npm" ;;
	esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "pintu: missing packages. As root, run:" >&2
	echo "  apt-get update && apt-get install -y $missing" >&2
	exit 1
fi
echo "pintu: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# No recommends: chromium would otherwise pull in a desktop (cups, polkit, ...).
apt-get install -y -q --no-install-recommends $missing >&2
