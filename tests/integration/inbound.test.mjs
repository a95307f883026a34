// inbound.test.mjs - the inbox's two exceptions to the dialog step: the
// per-sender rate limit (20 messages a minute by default; stored and
// acknowledged but not processed over it, one wait notice) and a resident's
// answer to a ticket in needs_info (attached to the ticket, acknowledged).

import {
	test, assert, eq, match, noMatch, AtUssd, KannelGet, ussdComplaint, smsComplaint, opt, digits, sql, cli,
	checkSms, uid, secret, phone,
} from './lib.mjs';

const WAIT = /Mohon tunggu sebentar, pesan Anda terlalu banyak\. Coba lagi dalam 1 menit\./;

test('inbound: 25 SMS in a minute from one number - 20 answered, the 21st told to wait, the rest stored silently', async (t) => {
	const h = await t.server();
	const c = new KannelGet(h);
	const other = new KannelGet(h);
	const replies = [];
	for (let i = 0; i < 25; i++) {
		const r = await c.raw('MENU', uid('rl'));
		eq(r.status, 200, `message ${i + 1} acknowledged (body ${JSON.stringify(r.text)})`);
		replies.push(r.text);
	}
	for (let i = 0; i < 20; i++) {
		checkSms(replies[i]);
		assert(opt(replies[i], /Sampaikan pengaduan/i), `message ${i + 1} gets the main menu: ${replies[i]}`);
	}
	checkSms(replies[20]);
	match(replies[20], WAIT, 'the 21st message gets the wait notice');
	noMatch(replies[20], /Sampaikan pengaduan/i, 'the 21st message is not processed');
	for (let i = 21; i < 25; i++) eq(replies[i], '', `message ${i + 1} gets no reply`);
	const rows = sql(h.db, `select body, reply, status from messages where direction = 'in' and peer = '${c.phone}' order by id`);
	eq(rows.length, 25, 'all 25 inbound rows stored');
	assert(rows.every((r) => r.status === 'received'), 'every row received');
	match(rows[20].reply, WAIT, 'the notice is stored as the reply of the 21st');
	for (let i = 21; i < 25; i++) eq(rows[i].reply, null, `row ${i + 1} has no reply`);
	// a provider retry of an over-limit message is still only a retry
	const id = uid('rlretry');
	const a = await c.raw('MENU', id);
	const b = await c.raw('MENU', id);
	eq(a.status, 200, 'over-limit message acknowledged');
	eq(b.text, a.text, 'the retry gets the same (empty) answer');
	eq(sql(h.db, `select count(*) as n from messages where direction = 'in' and peer = '${c.phone}'`)[0].n, 26,
		'the retry added no row');
	// another number is not limited
	const o = await other.send('MENU');
	assert(opt(o.text, /Sampaikan pengaduan/i), `another number is answered: ${o.text}`);
});

test('inbound: a USSD complaint counts as one message; the 21st dial in a minute gets the notice as END', async (t) => {
	const h = await t.server();
	const { ussd, number } = await ussdComplaint(h);
	assert(number, 'a USSD complaint by a normal caller is filed');
	// the complaint was one session: 19 more dials are answered with the menu
	for (let i = 0; i < 19; i++) {
		const s = await ussd.redial();
		eq(s.end, false, `dial ${i + 2} is a live session: ${s.text}`);
		noMatch(s.text, WAIT, `dial ${i + 2} is not limited`);
	}
	const s = await ussd.redial();
	eq(s.end, true, 'the 21st session is ended');
	match(s.text, WAIT, `the notice as END: ${s.text}`);
	const again = await ussd.redial();
	eq(again.end, true, 'USSD always answers over the limit');
	match(again.text, WAIT, 'with the notice every time');
	const n = sql(h.db, `select count(*) as n from messages where direction = 'in' and peer = '${ussd.phone}'`)[0].n;
	assert(n > 21, `every round stored (${n})`);
	// the provider retries the limited round: the same END, nothing stored
	const retry = await ussd.round('');
	eq(retry.raw, again.raw, 'a retried limited round gets the same answer');
	eq(sql(h.db, `select count(*) as n from messages where direction = 'in' and peer = '${ussd.phone}'`)[0].n, n,
		'the retry stored nothing');
});

test('inbound: needs_info - the next SMS is attached to the ticket and acknowledged, the one after goes to the dialog', async (t) => {
	const h = await t.server();
	const c = new KannelGet(h);
	const { number } = await smsComplaint(c);
	const r = cli(['tickets', 'set-status', number, 'needs_info', '--note', 'foto KK', '--db', h.db, '--config', h.cfgPath]);
	eq(r.code, 0, `set-status exit code; stderr: ${r.stderr}`);
	const extra = secret('Nomor KK saya 6271030101010001 dan foto sudah dikirim ke Puskesos');
	const a = await c.send(extra);
	eq(a.text, `Terima kasih, tambahan data untuk pengaduan ${number} sudah kami terima.`, 'acknowledgement');
	const ev = sql(h.db, `select e.* from ticket_events e join tickets t on t.id = e.ticket_id where t.number = '${digits(number)}' order by e.id`);
	const last = ev.at(-1);
	eq(last.actor, 'resident', 'event actor');
	eq(last.from_status, 'needs_info', 'event from');
	eq(last.to_status, 'needs_info', 'event to');
	eq(last.note, `resident reply: ${extra}`, 'the resident\'s text is on the event');
	const t1 = sql(h.db, `select id, status from tickets where number = '${digits(number)}'`)[0];
	eq(t1.status, 'needs_info', 'the ticket stays in needs_info');
	const inRow = sql(h.db, `select ticket_id from messages where direction = 'in' and peer = '${c.phone}' order by id desc limit 1`)[0];
	eq(inRow.ticket_id, t1.id, 'the inbound row is linked to the ticket');
	// the message after that is a normal conversation again
	const b = await c.send('halo');
	assert(opt(b.text, /Sampaikan pengaduan/i), `the next message gets the main menu: ${b.text}`);
	const ev2 = sql(h.db, `select count(*) as n from ticket_events e join tickets t on t.id = e.ticket_id where t.number = '${digits(number)}'`)[0].n;
	eq(ev2, ev.length, 'no further event');
	// a keyword is never attached, and another number is never attached
	const r2 = cli(['tickets', 'set-status', number, 'needs_info', '--db', h.db, '--config', h.cfgPath]);
	eq(r2.code, 0, `set-status again; stderr: ${r2.stderr}`);
	const m = await c.send('MENU');
	assert(opt(m.text, /Sampaikan pengaduan/i), `MENU is a keyword, not an answer: ${m.text}`);
	const d = await c.send('0');
	const stranger = new KannelGet(h, { phone: phone() });
	const s = await stranger.send('halo');
	noMatch(s.text, /tambahan data/, 'another number is not attached');
	// the session was idle again (after "0" Keluar): this plain message is attached
	assert(d.text.length > 0, 'exit answered');
	const f = await c.send(secret('Data tambahan kedua untuk petugas'));
	match(f.text, /tambahan data untuk pengaduan/, `attached after staff asked again: ${f.text}`);
});

test('inbound: needs_info on a USSD ticket is not attached to USSD rounds', async (t) => {
	const h = await t.server();
	const { ussd, number } = await ussdComplaint(h);
	const r = cli(['tickets', 'set-status', number, 'needs_info', '--db', h.db, '--config', h.cfgPath]);
	eq(r.code, 0, `set-status exit code; stderr: ${r.stderr}`);
	const s = await ussd.redial();
	noMatch(s.text, /tambahan data/, `USSD dial goes to the dialog: ${s.text}`);
	eq(s.end, false, 'a live USSD session');
	const ev = sql(h.db, `select count(*) as n from ticket_events e join tickets t on t.id = e.ticket_id where t.number = '${digits(number)}' and e.actor = 'resident' and e.from_status = 'needs_info'`)[0].n;
	eq(ev, 0, 'nothing attached');
});
