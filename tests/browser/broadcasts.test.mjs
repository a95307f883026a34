// broadcasts.test.mjs - the broadcasts page: the back office drafts a message,
// the preview shows recipients and SMS encoding, the author gets no approve
// button, a supervisor approves. Front office has no broadcasts tab.

import { test, assert, eq, match, newPage, login, USERS, BASE, sql, waitInPage } from './lib.mjs';

test('broadcasts: draft, preview, four-eyes approval', async (t, browser) => {
	const text = `Penyaluran PKH tahap 3 mulai 12/08 (uji ${Date.now()})`;
	const bo = await newPage(t, browser);
	await login(bo, USERS.back);
	await bo.click('[data-nav="broadcasts"]');
	await bo.waitForSelector('#bc-form');
	await bo.fill('#b-text_id', text);
	await bo.selectOption('#b-program', 'PKH');
	await bo.click('#bc-form button[type=submit]');
	const id = await waitInPage(bo, (x) => {
		const li = [...document.querySelectorAll('#broadcasts li')].find((l) => l.textContent.includes(x));
		return li ? li.dataset.id : null;
	}, text, 'the new draft in the list');
	const li = `#broadcasts li[data-id="${id}"]`;
	eq(await bo.getAttribute(li, 'data-state'), 'draft', 'a new broadcast is a draft');
	eq(await bo.$(`${li} button[data-verb="approve"]`), null, 'the author sees no approve button');
	await bo.click(`${li} button[data-verb="preview"]`);
	await bo.waitForSelector(`${li} .preview`);
	match(await bo.textContent(`${li} .preview`), /GSM-7/, 'the preview names the SMS encoding');

	const sv = await newPage(t, browser);
	await login(sv, USERS.supervisor);
	await sv.goto(`${BASE}/staff#/broadcasts`);
	await sv.waitForSelector(`${li} button[data-verb="approve"]`);
	await sv.click(`${li} button[data-verb="approve"]`);
	await sv.waitForSelector(`${li}[data-state="approved"]`);
	eq(sql(`select count(*) as n from audit_log where action = 'broadcast.approve'`)[0].n >= 1, true, 'the approval is audited');

	const fo = await newPage(t, browser);
	await login(fo, USERS.front);
	assert(await fo.isHidden('[data-nav="broadcasts"]'), 'front office has no broadcasts tab');
});
