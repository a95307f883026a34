// procedure.test.mjs - a complaint through the SLRT procedure in the console:
// filed over USSD (the real webhook), found in the queue by the front office,
// registered, sent for review and approval, approved by a supervisor, referred,
// resolved; after every step the resident's SMS must be in the outbox. The
// front office sees no approve button and is refused (403) when it forges the
// request with its own CSRF token. Logout ends the session on the server.

import { ussdComplaint, digits } from '../integration/lib.mjs';
import {
	test, assert, eq, match, server, newPage, login, openTicket, shownStatus, act, shownActions,
	outbox, waitForSms, sql, USERS, nik,
} from './lib.mjs';

test('procedure: register, review, approve, refer, resolve with the resident told at each step', async (t, browser) => {
	const theNik = nik();
	const { number, ussd } = await ussdComplaint(server, { nik: theNik });
	const num = digits(number);
	const ph = ussd.phone;

	// Front office: find it in the queue by its number, open it, register it.
	const fo = await newPage(t, browser);
	await login(fo, USERS.front);
	await fo.fill('#f-q', num);
	await fo.click('#filters button[type=submit]');
	await fo.waitForSelector(`#tickets tr[data-number="${num}"]`);
	eq(await fo.$$eval('#tickets tbody tr', (r) => r.length), 1, 'the search finds exactly the ticket');
	await fo.click(`#tickets tr[data-number="${num}"] a.ticket-link`);
	await fo.waitForSelector('#ticket-status');
	eq(await shownStatus(fo), 'received', 'a new ticket is received');
	const foActs = await shownActions(fo);
	assert(foActs.includes('registered'), `front office may register: ${foActs}`);
	assert(!foActs.includes('in_progress') && !foActs.includes('resolved'), `front office cannot approve/resolve: ${foActs}`);
	match(await fo.textContent('#transcript'), /Sampaikan pengaduan|pengaduan/i, 'the transcript shows the USSD conversation');

	// the NIK is masked until the front office reveals it for the DTKS check (audited)
	const masked = await fo.textContent('#nik-value');
	assert(!masked.includes(theNik), `the NIK is masked at first: ${masked}`);
	await fo.click('#nik-reveal');
	// (no waitForFunction: it needs eval, which the CSP forbids; poll the text)
	for (let i = 0; i < 50 && (await fo.textContent('#nik-value')) !== theNik; i++) await new Promise((r) => setTimeout(r, 100));
	eq(await fo.textContent('#nik-value'), theNik, 'the full NIK after the reveal');
	eq(sql(`select count(*) as n from audit_log where action = 'ticket.nik_view' and target = 'ticket:${num}'`)[0].n, 1, 'the reveal is audited');

	let n = outbox(ph).length;
	await act(fo, 'registered', { dtks_status: 'registered' });
	match(await fo.textContent('#d-dtks'), /Terdaftar di DTKS/, 'the DTKS field shows what was recorded');
	await waitForSms(ph, n, /Terdaftar/, 'SMS after registration');

	n = outbox(ph).length;
	await act(fo, 'in_review', { note: 'identitas sudah dicek' });
	await waitForSms(ph, n, /ditelaah/i, 'SMS after in_review');

	// Back office sends it for approval.
	const bo = await newPage(t, browser);
	await login(bo, USERS.back);
	await openTicket(bo, num);
	n = outbox(ph).length;
	await act(bo, 'awaiting_approval');
	await waitForSms(ph, n, /ditelaah/i, 'SMS after awaiting_approval');

	// Front office: no approve button, and the forged request is refused.
	await openTicket(fo, num);
	eq(await shownStatus(fo), 'awaiting_approval', 'front office sees the new state');
	const none = await shownActions(fo);
	assert(!none.includes('in_progress'), `front office sees no approve button: ${none}`);
	eq(none.length, 0, `front office has no action on awaiting_approval: ${none}`);
	const forged = await fo.evaluate(async (tn) => {
		const me = await (await fetch('/api/me')).json();
		const csrf = me.csrf || me.csrf_token || (me.user && me.user.csrf) || '';
		const r = await fetch(`/api/tickets/${tn}/transition`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
			body: JSON.stringify({ to: 'in_progress' }),
		});
		return { status: r.status, body: await r.text(), hadCsrf: Boolean(csrf) };
	}, num);
	assert(forged.hadCsrf, 'the page could read its CSRF token from /api/me');
	eq(forged.status, 403, `forged approval by front office (body ${forged.body})`);
	eq(sql(`select status from tickets where number = '${num}'`)[0].status, 'awaiting_approval', 'the forged request changed nothing');

	// Supervisor approves.
	const sv = await newPage(t, browser);
	await login(sv, USERS.supervisor);
	await openTicket(sv, num);
	const svActs = await shownActions(sv);
	assert(svActs.includes('in_progress'), `supervisor may approve: ${svActs}`);
	n = outbox(ph).length;
	await act(sv, 'in_progress');
	await waitForSms(ph, n, /ditangani/i, 'SMS after approval');

	// Refer to the program owner (back office), then resolve.
	await openTicket(bo, num);
	n = outbox(ph).length;
	await act(bo, 'referred', { level: 'province', organisation: 'Dinsos Provinsi Kalteng', program: 'PKH', reference: 'RUJ-2026-17' });
	match(await bo.textContent('#d-referral'), /RUJ-2026-17/, 'the referral is shown with the partner reference');
	await waitForSms(ph, n, /Dirujuk/i, 'SMS after referral');

	n = outbox(ph).length;
	await act(bo, 'resolved', { outcome: 'Bantuan PKH tahap dua sudah dicairkan' });
	await waitForSms(ph, n, /Selesai/i, 'SMS after resolution');
	const row = sql(`select status from tickets where number = '${num}'`)[0];
	eq(row.status, 'resolved', 'the ticket is resolved in the database');
	const hist = await bo.textContent('#history');
	for (const who of [USERS.front, USERS.back, USERS.supervisor]) assert(hist.includes(who), `history names ${who}`);

	// Logout ends the session on the server.
	await fo.click('#logout');
	await fo.waitForSelector('#login-form');
	const after = await fo.evaluate(async () => (await fetch('/api/me')).status);
	eq(after, 401, '/api/me after logout');
	const reload = await fo.reload();
	assert(reload && reload.ok(), 'the console page loads after logout');
	await fo.waitForSelector('#login-form');
	assert(await fo.isHidden('#logout'), 'signed out after a reload too');
});
