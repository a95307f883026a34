// console.test.mjs - the console's shell: login refusal, English switch,
// filters in the URL and the CSV link, notes and assignment, the dashboard's
// charts, a narrow screen, and no CSP violations (newPage fails on any).

import { ussdComplaint, digits } from '../integration/lib.mjs';
import { test, assert, eq, match, server, newPage, login, openTicket, USERS, BASE, sql, waitInPage, nik } from './lib.mjs';

test('console: a wrong password is refused on the page', async (t, browser) => {
	const p = await newPage(t, browser);
	await p.goto(`${BASE}/staff`);
	await p.fill('#username', USERS.front);
	await p.fill('#password', 'not-the-password');
	await p.click('#login-form button[type=submit]');
	await p.waitForSelector('#login-error', { state: 'visible' });
	match(await p.textContent('#login-error'), /Gagal masuk/, 'the refusal is shown in Indonesian');
	assert(await p.isHidden('#logout'), 'still signed out');
});

test('console: queue filters, CSV link, English, notes, assignment, dashboard', async (t, browser) => {
	const { number } = await ussdComplaint(server, { nik: nik() });
	const num = digits(number);
	const p = await newPage(t, browser);
	await login(p, USERS.back);
	match(await p.textContent('#nav'), /Antrean/, 'Indonesian by default');

	await p.selectOption('#f-status', 'received');
	await p.check('#f-mine');
	await p.click('#filters button[type=submit]');
	await waitInPage(p, () => location.hash.includes('status=received') && location.hash.includes('mine=1'));
	const href = await p.getAttribute('#export-csv', 'href');
	match(href, /^\/api\/export\.csv\?/, 'CSV export link');
	assert(href.includes('status=received') && href.includes('mine=1'), `the CSV link carries the filter: ${href}`);
	await p.waitForSelector('#no-tickets, #tickets');

	await openTicket(p, num);
	await p.click('#assign-me');
	await waitInPage(p, (u) => document.querySelector('#assigned-to')?.textContent === u, USERS.back);
	eq(sql(`select count(*) as n from tickets where number = '${num}'`)[0].n, 1, 'ticket exists');
	await p.fill('#note-text', 'Catatan internal: telepon warga besok');
	await p.click('#note-form button[type=submit]');
	await waitInPage(p, () => document.querySelector('#notes .notes')?.textContent.includes('telepon warga besok'));

	// now "assigned to me" finds it
	await p.goto(`${BASE}/staff#/queue?mine=1&status=received`);
	await p.waitForSelector(`#tickets tr[data-number="${num}"]`);

	await p.click('#lang-switch');
	await waitInPage(p, () => document.querySelector('#nav')?.textContent.includes('Queue'));
	match(await p.textContent('h1'), /Complaint queue/, 'English heading');
	await p.click('#lang-switch');
	await waitInPage(p, () => document.querySelector('#nav')?.textContent.includes('Antrean'));

	await p.click('[data-nav="dashboard"]');
	await p.waitForSelector('#chart-state');
	const bars = await p.$$eval('#chart-state g', (gs) => gs.map((g) => Number(g.getAttribute('data-value'))));
	assert(bars.length > 0 && bars.some((v) => v > 0), `the by-state chart has bars: ${bars}`);
	await p.waitForSelector('#chart-weekly');
	await p.click('[data-nav="overdue"]');
	await p.waitForSelector('#total');
});

test('console: narrow screen shows tickets as cards', async (t, browser) => {
	await ussdComplaint(server, { nik: nik() });
	const p = await newPage(t, browser, { viewport: { width: 360, height: 740 } });
	await login(p, USERS.front);
	await p.waitForSelector('#tickets');
	const display = await p.$eval('#tickets thead', (el) => getComputedStyle(el).display);
	eq(display, 'none', 'the table header is hidden on a narrow screen');
	const width = await p.evaluate(() => document.documentElement.scrollWidth);
	assert(width <= 380, `no horizontal scrolling on a narrow screen (scrollWidth ${width})`);
});
