#!/usr/bin/env node
// run.mjs - the integration test runner: the real pintu binary over HTTP.
//
// Usage: node tests/integration/run.mjs [name-filter]
// Env: PINTU_BIN (default build/pintu; `make test` also runs it with
// build-asan/pintu), PINTU_IT_SKIP_KANNEL=1 to leave out the real-Kannel test.
//
// Loads every tests/integration/*.test.mjs and kannel/*.test.mjs, runs the
// registered tests one after another, each with a context t:
//   t.server(opts)  start `pintu serve` (see lib.startPintu); stopped at the end
//   t.mock()        start a mock Africa's Talking send API; closed at the end
//   t.cleanup(fn)   run fn at the end
// After each test every server still running is stopped with SIGTERM; the test
// fails if a server did not exit with code 0 or if its stderr contains a test
// phone number, NIK or resident free text (lib.secrets). Prints one line per
// test and finally `integration: N passed, M failed`; exits 1 on any failure.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { registry, startPintu, startMockAT, secrets, BIN, AssertionError } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] || '';

const files = fs.readdirSync(here).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => path.join(here, f));
if (process.env.PINTU_IT_SKIP_KANNEL !== '1' && fs.existsSync(path.join(here, 'kannel')))
	for (const f of fs.readdirSync(path.join(here, 'kannel')).filter((x) => x.endsWith('.test.mjs')).sort())
		files.push(path.join(here, 'kannel', f));

if (!fs.existsSync(BIN)) {
	console.error(`integration: binary ${BIN} does not exist (build it with make, or set PINTU_BIN)`);
	console.log('integration: 0 passed, 1 failed');
	process.exit(1);
}

for (const f of files) await import(pathToFileURL(f).href);

const TEST_TIMEOUT_MS = Number(process.env.PINTU_IT_TIMEOUT_MS || 180000);

function leaks(text) {
	const found = [];
	for (const s of secrets) if (text.includes(s)) found.push(s);
	return found;
}

async function runOne(tc) {
	const servers = [];
	const cleanups = [];
	const t = {
		name: tc.name,
		async server(opts = {}) {
			const h = await startPintu(opts);
			servers.push(h);
			return h;
		},
		async mock() {
			const m = await startMockAT();
			cleanups.push(() => m.close());
			return m;
		},
		cleanup(fn) {
			cleanups.push(fn);
		},
		log(...a) {
			if (process.env.PINTU_IT_VERBOSE) console.log('   ', ...a);
		},
	};
	const problems = [];
	let timer;
	try {
		await Promise.race([
			tc.fn(t),
			new Promise((_, rej) => {
				timer = setTimeout(() => rej(new AssertionError(`test timed out after ${TEST_TIMEOUT_MS} ms`)), TEST_TIMEOUT_MS);
			}),
		]);
	} catch (e) {
		problems.push(e instanceof AssertionError ? e.message : (e && e.stack) || String(e));
	} finally {
		clearTimeout(timer);
	}
	for (const h of servers) {
		const r = await h.stop();
		if (r.code !== 0 && !h.expectExit)
			problems.push(`server on port ${h.port} exited with ${JSON.stringify(r)}\n--- stderr tail ---\n${h.err.slice(-4000)}`);
		const l = leaks(h.err) ;
		if (l.length) {
			const lines = h.err.split('\n').filter((x) => l.some((s) => x.includes(s))).slice(0, 5);
			problems.push(`server log contains personal data ${JSON.stringify(l)}:\n${lines.join('\n')}`);
		}
	}
	for (const h of servers) {
		if (!h.ownDir) continue;
		if (problems.length || process.env.PINTU_IT_KEEP) console.log(`     kept ${h.dir}`);
		else fs.rmSync(h.dir, { recursive: true, force: true });
	}
	for (const fn of cleanups.reverse()) {
		try {
			await fn();
		} catch (e) {
			problems.push(`cleanup: ${e.message}`);
		}
	}
	return problems;
}

let passed = 0;
let failed = 0;
const failures = [];
for (const tc of registry) {
	if (filter && !tc.name.includes(filter)) continue;
	const t0 = Date.now();
	const problems = await runOne(tc);
	const ms = Date.now() - t0;
	if (problems.length === 0) {
		passed++;
		console.log(`ok   ${tc.name} (${ms} ms)`);
	} else {
		failed++;
		failures.push(tc.name);
		console.log(`FAIL ${tc.name} (${ms} ms)`);
		for (const p of problems) console.log('     ' + p.replace(/\n/g, '\n     '));
	}
}
if (failures.length) console.log(`failed: ${failures.join(', ')}`);
console.log(`integration: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
