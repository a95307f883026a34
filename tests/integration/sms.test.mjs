// sms.test.mjs - complaints by SMS keyword over Africa's Talking (replies sent
// to the mock AT API), Kannel get-url and post-url (replies in the HTTP body),
// the generic SMS shape, and provider retries of the same message id.

import {
	test, assert, eq, match, noMatch, AtSms, KannelGet, KannelPost, smsComplaint, sql, ticketRow,
	waitForRow, pidIs, sleep, phone, uid, DESC, NIK_A, checkSms, opt,
} from './lib.mjs';

function checkSmsTicket(h, number, client, channel, screens, earlier = 0) {
	assert(!screens.some((s) => s.rule === 'description'), 'ADUAN <text> must not ask the description again');
	const row = ticketRow(h.db, number);
	eq(row.channel, channel, 'channel');
	eq(row.status, 'received', 'status');
	eq(row.description, DESC, 'description from the keyword');
	eq(row.program, 'PKH', 'program');
	eq(row.kelurahan, 'Kalampangan', 'kelurahan');
	eq(row.kecamatan, 'Sabangau', 'kecamatan (matched from the kelurahan)');
	eq(row.nik, NIK_A, 'NIK');
	eq(row.phone, client.phone, 'phone');
	const ins = sql(h.db, `select count(*) as n from messages where direction = 'in' and channel = '${channel}' and peer = '${client.phone}'`)[0].n;
	eq(ins, screens.length + earlier, 'one inbound row per message sent');
	for (const s of screens) noMatch(s.text, new RegExp(NIK_A), 'SMS must not show the full NIK');
}

test('sms: ADUAN <text> over Africa\'s Talking SMS, replies through the send API', async (t) => {
	const mock = await t.mock();
	const h = await t.server({ atBase: mock.url });
	const c = new AtSms(h, mock);
	const r = await c.post('MENU');
	eq(r.status, 200, 'webhook acknowledged');
	eq(r.text, '', 'AT SMS webhook answers an empty body');
	await mock.waitFor(c.phone, 1);
	const { number, screens } = await smsComplaint(c);
	checkSmsTicket(h, number, c, 'at-sms', screens, 1);
	const last = mock.to(c.phone).at(-1);
	assert(last.message.includes(number), 'the last SMS carries the ticket number');
	eq(last.username, 'sandbox', 'username');
	// every outbound row was sent with AT's id
	await waitForRow(h.db, `select 1 from messages where direction = 'out' and provider_id = '${last.messageId}' and status in ('sent','delivered')`);
});

test('sms: ADUAN <text> over Kannel get-url, reply in the HTTP body', async (t) => {
	const h = await t.server();
	const c = new KannelGet(h);
	const { number, screens } = await smsComplaint(c);
	checkSmsTicket(h, number, c, 'kannel', screens);
	match(screens.at(-1).text, /CEK/i, 'the final SMS explains how to check the status');
});

test('sms: ADUAN <text> over Kannel post-url, text in the request body', async (t) => {
	const h = await t.server();
	const c = new KannelPost(h);
	const { number, screens } = await smsComplaint(c);
	checkSmsTicket(h, number, c, 'kannel', screens);
});

test('sms: keywords tolerate case, spacing and punctuation', async (t) => {
	const h = await t.server();
	const c = new KannelGet(h);
	const a = await c.send(`  aduan,  ${DESC}`);
	noMatch(a.text, /pilihan tidak dikenali/i, 'lower-case keyword with punctuation');
	assert(!/Ceritakan/i.test(a.text), 'description taken from the keyword');
	const b = await c.send('MENU');
	assert(opt(b.text, /Sampaikan pengaduan/i), `MENU shows the main menu: ${b.text}`);
	const cc = await c.send('batal');
	match(cc.text, /batal|dibatalkan|MENU/i, 'BATAL answers');
});

test('sms: the same Africa\'s Talking message id twice gives one inbound row and one reply', async (t) => {
	const mock = await t.mock();
	const h = await t.server({ atBase: mock.url });
	const c = new AtSms(h, mock);
	const id = uid('ATdup');
	const r1 = await c.post('MENU', id);
	const r2 = await c.post('MENU', id);
	eq(r1.status, 200, 'first');
	eq(r2.status, 200, 'retry acknowledged');
	await mock.waitFor(c.phone, 1);
	const ins = sql(h.db, `select id from messages where direction = 'in' and ${pidIs(id)}`);
	eq(ins.length, 1, 'one inbound row');
	const outs = sql(h.db, `select id from messages where direction = 'out' and in_reply_to = ${ins[0].id}`);
	eq(outs.length, 1, 'one reply row');
	// a later message gets its reply: by then a duplicate reply would have been sent too
	const later = await c.send('MENU');
	assert(later.text.length > 0, 'later reply');
	await sleep(300);
	eq(mock.to(c.phone).length, 2, 'two SMS in all (one per distinct message)');
});

test('sms: the same Kannel message id twice gives the same reply and one inbound row', async (t) => {
	const h = await t.server();
	const c = new KannelGet(h);
	const id = uid('kdup');
	const a = await c.send(`ADUAN ${DESC}`, id);
	const b = await c.send(`ADUAN ${DESC}`, id);
	eq(b.text, a.text, 'same reply');
	eq(sql(h.db, `select count(*) as n from messages where direction = 'in' and ${pidIs(id)}`)[0].n, 1, 'one inbound row');
	// the conversation did not advance twice: the next answer is accepted normally
	const next = await c.send(opt(a.text, /sendiri|saya|keluarga/i) || '1');
	noMatch(next.text, /pilihan tidak dikenali/i, 'conversation continues');
});

test('sms: generic SMS form shape with the reply in the body', async (t) => {
	const h = await t.server();
	const ph = phone();
	const r = await h.postForm('/webhooks/gsms', { from: ph, to: '1708', text: 'MENU', id: uid('g') });
	eq(r.status, 200, `status (${r.text})`);
	match(r.type, /^text\/plain/i, 'content type');
	checkSms(r.text);
	assert(opt(r.text, /Sampaikan pengaduan/i), `main menu: ${r.text}`);
	const miss = await h.postForm('/webhooks/gsms', { to: '1708', text: 'MENU', id: uid('g') });
	eq(miss.status, 400, 'missing sender');
	eq(sql(h.db, `select count(*) as n from messages where direction = 'in' and peer = '${ph}'`)[0].n, 1, 'inbound row');
});

test('sms: the sender retries a failed send, then a delivery report marks it delivered', async (t) => {
	const mock = await t.mock();
	const h = await t.server({ atBase: mock.url });
	mock.failNext(2, 503);
	const c = new AtSms(h, mock);
	const r = await c.send('MENU');
	assert(opt(r.text, /Sampaikan pengaduan/i), `the reply arrives after retries: ${r.text}`);
	const failed = mock.requests.filter((x) => x.url === '/version1/messaging').length - mock.messages.length;
	eq(failed, 2, 'two failed attempts before the success');
	const m = mock.to(c.phone)[0];
	const row = await waitForRow(h.db, `select * from messages where direction = 'out' and provider_id = '${m.messageId}' and status = 'sent'`);
	eq(row.attempts, 3, 'three attempts recorded');
	// Africa's Talking delivery report
	const dlr = await h.postForm('/webhooks/at-sms/status', { id: m.messageId, status: 'Success', phoneNumber: c.phone, networkCode: '51010' });
	eq(dlr.status, 200, `delivery report accepted (${dlr.text})`);
	await waitForRow(h.db, `select 1 from messages where id = ${row.id} and status = 'delivered'`);
	const bad = await h.postForm('/webhooks/at-sms/status', { status: 'Success' });
	eq(bad.status, 400, 'a delivery report without id');
});
