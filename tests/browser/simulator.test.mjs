// simulator.test.mjs - /simulator: dial the USSD code on the on-screen phone
// and complete a complaint; the ticket exists and the confirmation SMS shows.

import { complaintRules, walk, ticketDone, TICKET_RE, digits, phone } from '../integration/lib.mjs';
import { test, assert, eq, match, newPage, BASE, sql, waitInPage, nik } from './lib.mjs';

async function screen(p) {
	return {
		text: await p.textContent('#screen-text'),
		end: (await p.getAttribute('#screen', 'data-end')) === '1',
	};
}

async function answer(p, action) {
	const before = await p.getAttribute('#screen', 'data-seq');
	await action();
	try {
		await waitInPage(p, (b) => document.querySelector('#screen')?.dataset.seq !== b, before, "an answer on the phone");
	} catch (e) {
		const err = await p.textContent('#sim-error').catch(() => '');
		throw new Error(`the phone got no answer (${err || e.message})`);
	}
	return screen(p);
}

test('simulator: a USSD complaint on the on-screen phone', async (t, browser) => {
	const p = await newPage(t, browser, { viewport: { width: 420, height: 900 } });
	await p.goto(`${BASE}/simulator`);
	await waitInPage(p, () => /\*\d/.test(document.querySelector('#dial')?.textContent || ''));
	const ph = phone();
	await p.fill('#sim-phone', ph);
	const first = await answer(p, () => p.click('#dial'));
	match(first.text, /Sampaikan pengaduan/, 'the main menu');
	const send = (x) => answer(p, async () => {
		await p.fill('#phone-input', String(x));
		await p.click('#send');
	});
	const w = await walk(first, send, complaintRules({ nik: nik() }), ticketDone(true));
	const number = TICKET_RE.exec(w.last.text)[1];
	const rows = sql(`select t.status, c.phone from tickets t join contacts c on c.id = t.contact_id where t.number = '${digits(number)}'`);
	eq(rows.length, 1, 'the ticket exists');
	eq(rows[0].phone, ph, 'filed from the number typed on the page');
	eq(rows[0].status, 'received', 'new ticket');
	await waitInPage(p, (n) => document.querySelector('#sms-list')?.textContent.includes(n), number);
});

test('simulator: an SMS keyword gets its answer', async (t, browser) => {
	const p = await newPage(t, browser);
	await p.goto(`${BASE}/simulator`);
	await p.check('#ch-sms');
	await p.fill('#sim-phone', phone());
	const r = await answer(p, async () => {
		await p.fill('#phone-input', 'INFO');
		await p.click('#send');
	});
	assert(r.text.length > 0, 'an answer');
	match(await p.textContent('#sms-list'), /INFO/, 'the sent SMS is listed');
});
