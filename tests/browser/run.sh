#!/bin/sh
# run.sh - the staff console in a real headless Chromium (playwright-core).
#
# 1. Chromium: /usr/bin/chromium (Debian package "chromium"); as root it is
#    installed with apt-get when missing, otherwise the command is printed.
# 2. npm ci here when node_modules is missing (package-lock.json pins
#    playwright-core; nothing else is downloaded: no bundled browsers).
# 3. Starts $PINTU_BIN serve (default build/pintu) on a free 127.0.0.1 port with
#    a temp database and a config derived from gateway/pintu.example.json (SMS
#    providers pointed at a closed local port, so nothing leaves the machine),
#    creates one account per role with `pintu users add` (PINTU_PASSWORD).
# 4. Runs tests/browser/run.mjs, stops the server, prints exactly one final
#    line "browser: N passed, M failed" and exits non-zero on any failure.
# Env: PINTU_BIN, PINTU_BROWSER_KEEP=1 keeps the temp dir, CHROMIUM (path).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
bin=${PINTU_BIN:-build/pintu}
case $bin in /*) ;; *) bin="$root/$bin" ;; esac
chromium=${CHROMIUM:-/usr/bin/chromium}

fail() {
	echo "browser: $*" >&2
	echo "browser: 0 passed, 1 failed"
	exit 1
}

if [ ! -x "$chromium" ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "browser: installing chromium (apt-get)" >&2
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium) >&2 ||
			fail "apt-get install chromium failed"
	else
		fail "chromium is missing; run as root: apt-get update && apt-get install -y chromium"
	fi
fi
[ -x "$chromium" ] || fail "no chromium at $chromium"
command -v node >/dev/null 2>&1 || fail "node is missing"
command -v sqlite3 >/dev/null 2>&1 || fail "sqlite3 is missing"
[ -x "$bin" ] || fail "no pintu binary at $bin (run make)"
if [ ! -d "$here/node_modules/playwright-core" ]; then
	if ! command -v npm >/dev/null 2>&1; then
		[ "$(id -u)" = 0 ] || fail "npm is missing; run as root: apt-get update && apt-get install -y npm"
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm) >&2 ||
			fail "apt-get install npm failed"
	fi
	(cd "$here" && npm ci --no-audit --no-fund) >&2 || fail "npm ci failed"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pintu-browser-XXXXXX") || fail "mktemp failed"
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null
	fi
	if [ "${PINTU_BROWSER_KEEP:-0}" = 1 ]; then
		echo "browser: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})") ||
	fail "no free port"
node -e "
const fs = require('fs');
const c = JSON.parse(fs.readFileSync('gateway/pintu.example.json', 'utf8'));
for (const ch of c.channels) if ('api_base' in ch) { ch.api_base = 'http://127.0.0.1:9'; delete ch.api_key_env; }
c.dialogs = '$root/dialogs';
fs.writeFileSync('$tmp/config.json', JSON.stringify(c, null, 1));
" || fail "cannot write the test configuration"

db="$tmp/pintu.db"
"$bin" serve --config "$tmp/config.json" --db "$db" --listen "127.0.0.1:$port" >"$tmp/server.out" 2>"$tmp/server.err" &
pid=$!
i=0
until grep -q "listening on http://127.0.0.1:$port" "$tmp/server.out" 2>/dev/null; do
	if ! kill -0 "$pid" 2>/dev/null || [ $i -ge 200 ]; then
		tail -n 20 "$tmp/server.err" >&2
		fail "pintu serve did not start"
	fi
	sleep 0.1
	i=$((i + 1))
done

PINTU_BROWSER_PASSWORD="Rahasia-Browser-$$-2026"
export PINTU_BROWSER_PASSWORD
for u in fo1:front_office bo1:back_office sv1:supervisor ad1:admin; do
	name=${u%%:*}
	role=${u#*:}
	PINTU_PASSWORD=$PINTU_BROWSER_PASSWORD "$bin" users add "$name" --role "$role" --name "Test $name" \
		--config "$tmp/config.json" --db "$db" >&2 || fail "pintu users add $name failed"
done

PINTU_URL="http://127.0.0.1:$port" PINTU_DB="$db" PINTU_SERVER_LOG="$tmp/server.err" CHROMIUM="$chromium" \
	node "$here/run.mjs" >"$tmp/results.txt"
rc=$?
grep -v '^browser: [0-9]* passed' "$tmp/results.txt"
line=$(grep '^browser: [0-9]* passed, [0-9]* failed' "$tmp/results.txt" | tail -n 1)
if [ -z "$line" ]; then
	echo "browser: 0 passed, 1 failed"
	exit 1
fi
echo "$line"
[ $rc -eq 0 ] || exit 1
case $line in *", 0 failed") exit 0 ;; *) exit 1 ;; esac
