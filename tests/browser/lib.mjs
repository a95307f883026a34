// lib.mjs - helpers for the browser tests: the server run.sh started
// (PINTU_URL, PINTU_DB), the accounts it created, Chromium pages that fail the
// test on any console error (a CSP violation shows up as one), sqlite3 reads of
// the outbox, and a tiny test registry (run.mjs runs it).

import { execFileSync } from 'node:child_process';
import { AssertionError, assert, eq, match, sleep, waitUntil } from '../integration/lib.mjs';

export { AssertionError, assert, eq, match, sleep, waitUntil };
export const BASE = process.env.PINTU_URL || 'http://127.0.0.1:8080';
export const DB = process.env.PINTU_DB || '';
export const PASSWORD = process.env.PINTU_BROWSER_PASSWORD || '';
/** Accounts run.sh created, one per role. */
export const USERS = { front: 'fo1', back: 'bo1', supervisor: 'sv1', admin: 'ad1' };
export const STEP_MS = 10000; // every wait in a page

export const registry = [];
export function test(name, fn) {
	registry.push({ name, fn });
}

/** sqlite3 -json on the server's database. */
export function sql(query) {
	const out = execFileSync('sqlite3', ['-json', DB, query], { encoding: 'utf8', timeout: 10000 });
	return out.trim() ? JSON.parse(out) : [];
}

/** The outbound messages to phone, oldest first. */
export function outbox(phone) {
	return sql(`select id, channel, body, ticket_id from messages where direction = 'out' and peer = '${phone.replace(/'/g, '')}' order by id`);
}

/** Wait for a new outbound message to phone after count `before` whose body matches re. */
export async function waitForSms(phone, before, re, what) {
	return waitUntil(() => {
		const rows = outbox(phone).slice(before);
		return rows.find((r) => re.test(r.body)) || null;
	}, STEP_MS, `${what || 'the resident\'s SMS'} matching ${re} (messages: ${JSON.stringify(outbox(phone).slice(before).map((r) => r.body))})`);
}

/** A handle on the server for ../integration/lib.mjs flows (ussdComplaint). */
export const server = {
	base: BASE,
	async request(method, p, body, headers = {}) {
		const res = await fetch(BASE + p, { method, body, headers });
		const text = await res.text();
		return { status: res.status, type: res.headers.get('content-type') || '', text, headers: res.headers };
	},
	postForm(p, form, headers = {}) {
		return this.request('POST', p, typeof form === 'string' ? form : new URLSearchParams(form).toString(),
			{ 'content-type': 'application/x-www-form-urlencoded', ...headers });
	},
};

/** A new page in its own context (own cookies); console errors fail the test. */
export async function newPage(t, browser, opts = {}) {
	const ctx = await browser.newContext({ viewport: opts.viewport || { width: 1200, height: 900 } });
	t.cleanup(() => ctx.close());
	const page = await ctx.newPage();
	page.setDefaultTimeout(STEP_MS);
	page.setDefaultNavigationTimeout(STEP_MS);
	page.on('pageerror', (e) => t.problem(`page error: ${e.message}`));
	page.on('console', (m) => {
		if (m.type() !== 'error') return;
		const text = m.text();
		// expected refusals the test provokes (401/403/404 responses) are logged by Chromium
		if (/Failed to load resource: the server responded with a status of (401|403|404|409|422)/.test(text)) return;
		t.problem(`console error: ${text}`);
	});
	return page;
}

/** Sign in on /staff as one of USERS; resolves when the queue shows. */
export async function login(page, username, password = PASSWORD) {
	await page.goto(`${BASE}/staff`);
	await page.fill('#username', username);
	await page.fill('#password', password);
	await page.click('#login-form button[type=submit]');
	await page.waitForSelector('#logout', { state: 'visible' });
	await page.waitForSelector('#filters');
}

/** Open a ticket's page (loaded afresh) and wait for its state badge. */
export async function openTicket(page, digits) {
	const url = `${BASE}/staff#/ticket/${digits}`;
	if (page.url() === url) await page.reload();
	else await page.goto(url);
	await page.waitForSelector(`#ticket-title[data-number="${digits}"]`);
	await page.waitForSelector('#ticket-status');
}

/** The state the ticket page shows. */
export async function shownStatus(page) {
	return page.getAttribute('#ticket-status', 'data-status');
}

/** Click an action button, fill its form (name -> value), save, wait for the new state. */
export async function act(page, to, fields = {}) {
	await page.click(`#actions button[data-action="${to}"]`);
	await page.waitForSelector(`#action-form[data-to="${to}"]`);
	for (const [name, value] of Object.entries(fields)) {
		const sel = `#action-form [name="${name}"]`;
		const tag = await page.$eval(sel, (el) => el.tagName);
		if (tag === 'SELECT') await page.selectOption(sel, value);
		else await page.fill(sel, value);
	}
	await page.click('#action-form button[type=submit]');
	try {
		await page.waitForSelector(`#ticket-status[data-status="${to}"]`);
	} catch (e) {
		const err = await page.$eval('#action-form .error', (el) => el.textContent).catch(() => '');
		throw new AssertionError(`action ${to}: the page did not reach the state (${err || e.message})`);
	}
}

/** The action buttons shown on the ticket page. */
export async function shownActions(page) {
	return page.$$eval('#actions button[data-action]', (bs) => bs.map((b) => b.dataset.action));
}

/** Poll fn(arg) in the page until it returns a truthy value (bounded). Unlike
 * page.waitForFunction this needs no eval, which the console's CSP forbids. */
export async function waitInPage(page, fn, arg, what, timeoutMs = STEP_MS) {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const v = await page.evaluate(fn, arg);
		if (v) return v;
		if (Date.now() > end) throw new AssertionError(`timed out after ${timeoutMs} ms waiting for ${what || fn.toString()}`);
		await sleep(50);
	}
}

let nikSerial = Math.floor(Math.random() * 5000);
/** A fresh valid NIK (Palangka Raya, born 15-05-1990), so the duplicate check
 * (same NIK and program within 30 days) never links a test's ticket to another's. */
export function nik() {
	nikSerial = (nikSerial % 9998) + 1;
	return `627103150590${String(nikSerial).padStart(4, '0')}`;
}
