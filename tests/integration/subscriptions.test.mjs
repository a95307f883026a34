// subscriptions.test.mjs - broadcast subscriptions through the real server:
// DAFTAR / STOP / YA over AT SMS, Kannel, Telegram and WhatsApp webhooks; STOP
// inside a sentence not counting; DAFTAR after STOP; the USSD menu opt-in; the
// complaint opt-in asked once; CSV import (bad rows, report) and export with
// the CLI; the staff API (masked list, import report, roles).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createServer } from 'node:http';
import {
	test, assert, eq, match, noMatch, sql, phone, uid, waitUntil, cli, testConfig, AtSms, AtUssd, KannelGet,
	ussdComplaint, opt, optOrNext, walk, complaintRules, ticketDone, NIK_B, smsComplaint,
} from './lib.mjs';
import { staffSession, api } from './staff.mjs';

const sub = (db, ph) => sql(db, `select * from subscriptions where phone = '${ph}'`)[0];
const progs = (db, ph) => sql(db, `select program from subscription_programs sp join subscriptions s
	on s.id = sp.subscription_id where s.phone = '${ph}' order by program`).map((r) => r.program);

test('subscriptions sms: DAFTAR PKH asks the kelurahan, STOP only as the whole message, DAFTAR after STOP', async (t) => {
	const mock = await t.mock();
	const h = await t.server({ atBase: mock.url });
	const s = new AtSms(h, mock);
	let r = await s.send('daftar pkh');
	match(r.text, /terdaftar menerima info PKH/i, 'subscribed');
	match(r.text, /kelurahan/i, 'asks the kelurahan');
	let row = sub(h.db, s.phone);
	assert(row, 'a subscription row');
	eq(row.channel, 'at-sms', 'channel');
	eq(row.stopped_ms, null, 'active');
	eq(row.all_programs, 0, 'not all programs');
	eq(progs(h.db, s.phone).join(','), 'PKH', 'programs');
	r = await s.send('kalampangan ');
	match(r.text, /Kalampangan/, 'kelurahan confirmed');
	row = sub(h.db, s.phone);
	eq(row.kelurahan, 'Kalampangan', 'kelurahan stored');
	eq(row.kecamatan, 'Sabangau', 'kecamatan stored');

	// a sentence containing "stop" is not a STOP: the dialog answers it
	r = await s.send('tolong stop kirim');
	noMatch(r.text, /tidak akan menerima info/i, 'not a stop confirmation');
	eq(sub(h.db, s.phone).stopped_ms, null, 'still subscribed');

	r = await s.send('Stop!');
	match(r.text, /tidak akan menerima info program lagi/i, 'stop confirmation');
	match(r.text, /DAFTAR/, 'says how to come back');
	assert(sub(h.db, s.phone).stopped_ms > 0, 'stopped');

	r = await s.send('DAFTAR');
	match(r.text, /terdaftar menerima info semua program/i, 'resubscribed');
	row = sub(h.db, s.phone);
	eq(row.stopped_ms, null, 'active again');
	eq(row.all_programs, 1, 'all programs');

	// an unknown program: a friendly list of codes, nothing changed
	r = await s.send('DAFTAR XYZ');
	match(r.text, /program XYZ tidak dikenal/i, 'unknown program');
	match(r.text, /PKH/, 'lists codes');
	// no full number or resident text in the log
	noMatch(h.err, new RegExp(s.phone.replace('+', '\\+')), 'log has no full number');
	noMatch(h.err, /tolong stop kirim/, 'log has no resident text');
});

test('subscriptions sms: INFO PKH offers, YA subscribes; BERHENTI and UNREG stop (Kannel)', async (t) => {
	const mock = await t.mock();
	const h = await t.server({ atBase: mock.url });
	const s = new AtSms(h, mock);
	let r = await s.send('INFO PKH');
	match(r.text, /Balas YA untuk menerima info PKH/, 'offer after the program info');
	r = await s.send('ya');
	match(r.text, /terdaftar menerima info PKH/i, 'YA subscribed');
	eq(progs(h.db, s.phone).join(','), 'PKH', 'PKH only');

	const k = new KannelGet(h);
	r = await k.send('DAFTAR BPNT PKH');
	match(r.text, /BPNT, PKH/, 'two programs');
	eq(sub(h.db, k.phone).channel, 'kannel', 'kannel subscriber');
	r = await k.send('  berhenti. ');
	match(r.text, /tidak akan menerima info program/i, 'BERHENTI confirmed');
	assert(sub(h.db, k.phone).stopped_ms > 0, 'stopped');
	r = await k.send('DAFTAR');
	eq(sub(h.db, k.phone).stopped_ms, null, 'DAFTAR again');
	r = await k.send('UNREG');
	assert(sub(h.db, k.phone).stopped_ms > 0, 'UNREG stops');

	// a complaint by SMS ends with the offer (asked once); YA subscribes
	const c = new AtSms(h, mock);
	const done = await smsComplaint(c);
	match(done.last.text, /Balas YA untuk menerima info program/, 'offer in the final SMS');
	r = await c.send('YA');
	match(r.text, /terdaftar menerima info semua program/i, 'YA after the complaint');
	eq(sub(h.db, c.phone).all_programs, 1, 'all programs');
	const again = await smsComplaint(c, { nik: '0' });
	noMatch(again.last.text, /Balas YA/, 'not offered twice');
});

const TG_SECRET = 'tg-secret-token_1';
const WA_SECRET = 'wa-app-secret';

/** A mock provider API recording JSON POSTs (Telegram sendMessage, WhatsApp Graph). */
async function startMockJson(answer) {
	const sent = [];
	const server = createServer((req, res) => {
		let body = '';
		req.setEncoding('utf8');
		req.on('data', (c) => (body += c));
		req.on('end', () => {
			sent.push({ url: req.url, body: JSON.parse(body || '{}') });
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify(answer(sent.length)));
		});
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	return { url: `http://127.0.0.1:${server.address().port}`, sent, close: () => new Promise((r) => server.close(r)) };
}

test('subscriptions chat: DAFTAR and STOP over Telegram and WhatsApp webhooks', async (t) => {
	const tg = await startMockJson((n) => ({ ok: true, result: { message_id: n } }));
	const g = await startMockJson((n) => ({ messaging_product: 'whatsapp', messages: [{ id: `wamid.out${n}` }] }));
	try {
		const channels = [
			{ name: 'tg', type: 'telegram', bot_token: '123:abc', secret_token: TG_SECRET, api_base: tg.url },
			{ name: 'wa', type: 'whatsapp', verify_token: 'verify-me', app_secret: WA_SECRET, access_token: 'EAAtoken',
				phone_number_id: '1234567890', api_base: g.url },
		];
		const h = await t.server({ config: testConfig({ extraChannels: channels }) });
		// Telegram
		const chat = 700000000 + Math.floor(Math.random() * 1e6);
		let n = Math.floor(Math.random() * 1e6);
		const tgSend = (text) => h.request('POST', '/webhooks/tg', JSON.stringify({
			update_id: ++n,
			message: { message_id: n, from: { id: chat }, chat: { id: chat, type: 'private' }, date: 1795017600, text },
		}), { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TG_SECRET });
		eq((await tgSend('DAFTAR PKH')).status, 200, 'telegram DAFTAR');
		const a = await waitUntil(() => tg.sent[0], 10000, 'telegram reply');
		match(a.body.text, /terdaftar menerima info PKH/i, 'telegram subscribed');
		const tgRow = sql(h.db, `select * from subscriptions where channel = 'tg'`)[0];
		assert(tgRow && tgRow.stopped_ms === null, 'telegram subscription');
		eq((await tgSend('stop')).status, 200, 'telegram STOP');
		const b = await waitUntil(() => tg.sent.find((m) => /tidak akan menerima/i.test(m.body.text)), 10000, 'stop reply');
		assert(b, 'telegram stop confirmation');
		assert(sql(h.db, `select stopped_ms from subscriptions where id = ${tgRow.id}`)[0].stopped_ms > 0, 'telegram stopped');

		// WhatsApp
		const wa = phone().replace('+', '');
		let m = 0;
		const waSend = (body) => {
			const payload = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: {
				messaging_product: 'whatsapp', metadata: { display_phone_number: '6281100000000', phone_number_id: '1234567890' },
				contacts: [{ profile: { name: 'Warga' }, wa_id: wa }],
				messages: [{ from: wa, id: `wamid.in${++m}`, timestamp: '1795017600', type: 'text', text: { body } }] } }] }] });
			const sig = 'sha256=' + crypto.createHmac('sha256', WA_SECRET).update(payload).digest('hex');
			return h.request('POST', '/webhooks/wa', payload, { 'content-type': 'application/json', 'x-hub-signature-256': sig });
		};
		eq((await waSend('Daftar')).status, 200, 'whatsapp DAFTAR');
		const c = await waitUntil(() => g.sent[0], 10000, 'whatsapp reply');
		match(JSON.stringify(c.body), /terdaftar menerima info semua program/i, 'whatsapp subscribed');
		const waRow = sub(h.db, '+' + wa);
		assert(waRow, 'whatsapp subscription keyed by the E.164 number');
		eq(waRow.channel, 'wa', 'sent on WhatsApp');
		eq((await waSend('saya mau stop dulu')).status, 200, 'a sentence');
		eq(sub(h.db, '+' + wa).stopped_ms, null, 'a sentence does not stop');
		eq((await waSend('STOP')).status, 200, 'whatsapp STOP');
		await waitUntil(() => sub(h.db, '+' + wa).stopped_ms > 0, 10000, 'whatsapp stopped');
	} finally {
		await tg.close();
		await g.close();
	}
});

test('subscriptions ussd: main menu opt-in; the complaint asks once', async (t) => {
	const mock = await t.mock();
	const h = await t.server({ atBase: mock.url });
	// menu 5: all programs, kecamatan and kelurahan from the lists
	const u = new AtUssd(h);
	let s = await u.dial();
	const five = opt(s.text, /Info via SMS/i);
	assert(five, `main menu offers the subscription: ${s.text}`);
	s = await u.send(five);
	s = await u.send(opt(s.text, /Semua program/i));
	for (let i = 0; i < 4 && !opt(s.text, /^Sabangau/); i++) s = await u.send(optOrNext(s.text, /^Sabangau/));
	s = await u.send(opt(s.text, /^Sabangau/));
	for (let i = 0; i < 4 && !opt(s.text, /^Kalampangan/); i++) s = await u.send(optOrNext(s.text, /^Kalampangan/));
	s = await u.send(opt(s.text, /^Kalampangan/));
	eq(s.end, true, 'ends');
	match(s.text, /terdaftar menerima info semua program/i, 'confirmation');
	const row = sub(h.db, u.phone);
	eq(row.channel, 'at-sms', 'a USSD subscriber is reached by SMS');
	eq(row.source, 'ussd', 'source');
	eq(row.kelurahan, 'Kalampangan', 'kelurahan');

	// the complaint: a new caller is asked once, and "Ya" subscribes
	const ph = phone();
	const first = await ussdComplaint(h, { phone: ph });
	const asked = first.screens.filter((x) => /Mau menerima info program/i.test(x.text));
	eq(asked.length, 1, 'asked once in the first complaint');
	match(first.last.text, /Info program akan dikirim/i, 'the final screen says so');
	const r2 = sub(h.db, ph);
	assert(r2 && r2.stopped_ms === null, 'subscribed from the complaint');
	eq(r2.source, 'complaint', 'source complaint');
	const second = await ussdComplaint(h, { phone: ph, nik: '0' }); // no NIK: not a duplicate
	eq(second.screens.filter((x) => /Mau menerima info program/i.test(x.text)).length, 0, 'never asked again');
	// a caller who says no is not asked again either
	const ph2 = phone();
	const u2 = new AtUssd(h, { phone: ph2 });
	const no = { name: 'optin-no', when: (x) => /Mau menerima info program/i.test(x), input: '2' };
	const c1 = await walk(await u2.dial(), (x) => u2.send(x), [no, ...complaintRules({ nik: NIK_B })], ticketDone(true));
	assert(c1.screens.some((x) => x.rule === 'optin-no'), `the question was asked: ${JSON.stringify(c1.screens.map((x) => [x.rule, x.text]))}`);
	match(c1.last.text, /Nomor pengaduan/i, 'done without subscribing');
	eq(sub(h.db, ph2), undefined, 'no subscription after "Tidak"');
	const c2 = await ussdComplaint(h, { phone: ph2, nik: '0' });
	eq(c2.screens.filter((x) => /Mau menerima info program/i.test(x.text)).length, 0, 'not asked again after no');
	eq(sql(h.db, 'select count(*) as n from subs_asked')[0].n >= 2, true, 'asked recorded');
});

test('subscriptions cli: import reports bad rows, STOP numbers stay stopped; export writes full numbers', async (t) => {
	const mock = await t.mock();
	const h = await t.server({ atBase: mock.url });
	const s = new AtSms(h, mock);
	await s.send('STOP'); // this number must never be imported
	const a = phone(), b = phone();
	const csv = [
		'phone,programs,kelurahan,lang,channel',
		`${a.replace('+62', '0')},PKH,Menteng,id,`,
		`${b},"PKH,BPNT",kalampangan,en,at-sms`,
		'12345,PKH,,id,',
		`${a},BPNT,,id,`,
		`${phone()},NOPE,,id,`,
		`${phone()},,Atlantis,id,`,
		`${s.phone},all,,id,`,
	].join('\n') + '\n';
	const file = path.join(h.dir, 'subs.csv');
	fs.writeFileSync(file, csv);
	let r = cli(['subscribers', 'import', file, '--db', h.db, '--config', h.cfgPath]);
	eq(r.code, 0, `import exit (stderr ${r.stderr})`);
	match(r.stdout, /imported 2/, 'two imported');
	match(r.stdout, /rejected 5/, 'five rejected');
	match(r.stdout, /line 4: bad phone number/, 'bad number with its line');
	match(r.stdout, /line 5: duplicate in file \(same number as line 2\)/, 'duplicate');
	match(r.stdout, /line 6: unknown program "NOPE"/, 'unknown program');
	match(r.stdout, /line 7: unknown kelurahan "Atlantis"/, 'unknown kelurahan');
	match(r.stdout, /line 8: number said STOP/, 'stopped number refused');
	assert(sub(h.db, s.phone).stopped_ms > 0, 'still stopped');
	eq(sub(h.db, b).lang, 'en', 'language');
	eq(progs(h.db, b).join(','), 'BPNT,PKH', 'quoted program list');
	// re-import: updated, not duplicated
	r = cli(['subscribers', 'import', file, '--db', h.db, '--config', h.cfgPath]);
	match(r.stdout, /imported 0\nupdated 2/, 'second import updates');
	// a file without the header is refused as a whole
	fs.writeFileSync(file, `${phone()},PKH\n`);
	r = cli(['subscribers', 'import', file, '--db', h.db, '--config', h.cfgPath]);
	eq(r.code, 1, 'no header: exit 1');
	match(r.stderr, /header/, 'names the header');
	eq(cli(['subscribers', 'import', '--db', h.db]).code, 2, 'usage: no file');

	r = cli(['subscribers', 'export', '--program', 'PKH', '--db', h.db, '--config', h.cfgPath]);
	eq(r.code, 0, 'export exit');
	match(r.stderr, /FULL phone numbers/, 'warning on stderr');
	const lines = r.stdout.trim().split('\n');
	eq(lines[0], 'phone,programs,kelurahan,lang,channel', 'header');
	assert(lines.includes(`${a},PKH,Menteng,id,at-sms`), `full number exported: ${r.stdout}`);
	assert(!r.stdout.includes(s.phone), 'stopped number not exported');
	r = cli(['subscribers', 'export', '--kelurahan', 'Kalampangan', '--db', h.db, '--config', h.cfgPath]);
	assert(r.stdout.includes(b) && !r.stdout.includes(a), 'kelurahan filter');
	eq(cli(['subscribers', 'count', '--db', h.db]).stdout.trim(), '2', 'count');
	assert(cli(['subscribers', '--help']).stdout.includes('import'), '--help');
});

test('subscriptions api: counts and masked list for supervisors, CSV import with a report, roles', async (t) => {
	const mock = await t.mock();
	const h = await t.server({ atBase: mock.url });
	const s = new AtSms(h, mock);
	await s.send('DAFTAR PKH');
	await s.send('Menteng');
	const sup = await staffSession(h, 'supervisor');
	const fo = await staffSession(h, 'front_office');
	let r = await api(h.base, null, 'GET', '/api/subscribers');
	eq(r.status, 401, 'login required');
	r = await api(h.base, fo, 'GET', '/api/subscribers');
	eq(r.status, 403, 'front office may not');
	r = await api(h.base, sup, 'GET', '/api/subscribers');
	eq(r.status, 200, `list (${r.text})`);
	eq(r.json.total, 1, 'total');
	eq(r.json.by_program.PKH, 1, 'by program');
	eq(r.json.by_kelurahan.Menteng, 1, 'by kelurahan');
	eq(r.json.items.length, 1, 'one item');
	match(r.json.items[0].phone, /\*\*\*\*/, 'masked');
	assert(!r.text.includes(s.phone), 'never the full number');

	const x = phone();
	const csv = `phone,programs\n${x},BPNT\nnot-a-number,PKH\n`;
	r = await api(h.base, { cookie: sup.cookie, csrf: '' }, 'POST', '/api/subscribers/import', csv, { 'content-type': 'text/csv' });
	eq(r.status, 403, 'CSRF required');
	r = await api(h.base, fo, 'POST', '/api/subscribers/import', csv, { 'content-type': 'text/csv' });
	eq(r.status, 403, 'front office may not import');
	r = await api(h.base, sup, 'POST', '/api/subscribers/import', csv, { 'content-type': 'text/csv' });
	eq(r.status, 200, `import (${r.text})`);
	eq(r.json.imported, 1, 'imported');
	eq(r.json.rejected, 1, 'rejected');
	eq(r.json.rejects[0].line, 3, 'line of the bad row');
	match(r.json.rejects[0].reason, /bad phone number/, 'reason');
	assert(sub(h.db, x), 'row imported');
	const audit = sql(h.db, `select count(*) as n from audit_log where action = 'subscribers.import'`)[0].n;
	eq(audit, 1, 'audited');
	r = await api(h.base, sup, 'POST', '/api/subscribers/import', 'nope\n1\n', { 'content-type': 'text/csv' });
	eq(r.status, 400, 'bad file');
	eq(r.json.error, 'bad_csv', 'error code');
	r = await api(h.base, sup, 'GET', '/api/subscribers?program=BPNT&per_page=1');
	eq(r.json.total, 1, 'program filter');
	r = await api(h.base, sup, 'GET', '/api/subscribers?per_page=0');
	eq(r.status, 400, 'bad paging');
	r = await api(h.base, sup, 'DELETE', '/api/subscribers');
	eq(r.status, 405, 'method');
	void uid;
});
