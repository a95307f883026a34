#!/usr/bin/env node
// run.mjs - runs every tests/browser/*.test.mjs against the server run.sh
// started, in one headless Chromium (a fresh context per page). Each test has
// a time limit; prints one line per test and finally
// "browser: N passed, M failed" (run.sh passes that line on).
//
// Usage (normally through run.sh): PINTU_URL=... PINTU_DB=... node run.mjs [filter]

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { registry, AssertionError } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] || '';
const TEST_MS = Number(process.env.PINTU_BROWSER_TEST_MS || 120000);

for (const f of fs.readdirSync(here).filter((x) => x.endsWith('.test.mjs')).sort())
	await import(pathToFileURL(path.join(here, f)).href);

let browser;
try {
	browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox'],
		headless: true,
		timeout: 30000,
	});
} catch (e) {
	console.log(`FAIL cannot start chromium: ${e.message}`);
	console.log('browser: 0 passed, 1 failed');
	process.exit(1);
}

let passed = 0;
let failed = 0;
for (const tc of registry) {
	if (filter && !tc.name.includes(filter)) continue;
	const problems = [];
	const cleanups = [];
	const t = {
		name: tc.name,
		problem: (p) => problems.push(p),
		cleanup: (fn) => cleanups.push(fn),
	};
	const started = Date.now();
	let timer;
	try {
		await Promise.race([
			tc.fn(t, browser),
			new Promise((_, rej) => {
				timer = setTimeout(() => rej(new AssertionError(`test timed out after ${TEST_MS} ms`)), TEST_MS);
			}),
		]);
	} catch (e) {
		problems.unshift(e instanceof AssertionError ? e.message : (e && e.stack) || String(e));
	} finally {
		clearTimeout(timer);
	}
	for (const fn of cleanups.reverse()) {
		try {
			await Promise.race([fn(), new Promise((r) => setTimeout(r, 5000))]);
		} catch (e) { /* closing a context that is gone */ }
	}
	const ms = Date.now() - started;
	if (problems.length) {
		failed++;
		console.log(`FAIL ${tc.name} (${ms} ms)`);
		for (const p of problems) console.log(`    ${String(p).replace(/\n/g, '\n    ')}`);
	} else {
		passed++;
		console.log(`ok   ${tc.name} (${ms} ms)`);
	}
}
await browser.close().catch(() => {});
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
