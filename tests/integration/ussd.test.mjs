// ussd.test.mjs - USSD conversations over Africa's Talking and the generic JSON
// shape: full complaint, report about someone else, resume, provider retries,
// NIK validation.

import {
	test, assert, eq, match, noMatch, AtUssd, GenericUssd, ussdComplaint, walk, complaintRules, ticketDone,
	sql, digits, ticketRow, waitForRow, NIK_A, NIK_BAD, DESC, LOCATION, TICKET_RE, opt, checkSms,
} from './lib.mjs';

test('ussd: full complaint from the first screen to the ticket number, row and SMS confirmation', async (t) => {
	const mock = await t.mock();
	const h = await t.server({ atBase: mock.url });
	const { ussd, number, screens } = await ussdComplaint(h);
	// the first screen is the main menu with the complaint option
	assert(opt(screens[0].text, /Sampaikan pengaduan/i), 'main menu offers "Sampaikan pengaduan"');
	assert(opt(screens[0].text, /Cek status/i), 'main menu offers "Cek status"');
	match(screens.at(-1).text, /Nomor pengaduan/i, 'final screen');
	// the NIK was asked and the description typed
	assert(screens.some((s) => s.rule === 'nik'), 'NIK was asked');
	assert(screens.some((s) => s.rule === 'description'), 'description was asked');
	// no screen echoes the full NIK
	for (const s of screens) noMatch(s.text, new RegExp(NIK_A), 'screen must not show the full NIK');

	const row = ticketRow(h.db, number);
	eq(row.status, 'received', 'status');
	eq(row.subject, 'self', 'subject');
	eq(row.type, 'penyaluran', 'type');
	eq(row.program, 'PKH', 'program');
	eq(row.kecamatan, 'Sabangau', 'kecamatan');
	eq(row.kelurahan, 'Kalampangan', 'kelurahan');
	eq(row.nik, NIK_A, 'NIK stored');
	eq(row.channel, 'at-ussd', 'channel');
	eq(row.phone, ussd.phone, 'contact phone');
	eq(row.description, DESC, 'description');
	eq(sql(h.db, 'select count(*) as n from tickets')[0].n, 1, 'one ticket');
	const ev = sql(h.db, `select * from ticket_events where ticket_id = ${row.id}`);
	eq(ev.length, 1, 'one event');
	eq(ev[0].to_status, 'received', 'first event');

	// the SMS confirmation reaches the mock AT API, to the caller, with the number
	const sms = await mock.waitFor(ussd.phone, 1);
	const conf = sms.find((m) => m.message.includes(number) || m.message.includes(digits(number)));
	assert(conf, `an SMS to the caller mentions ${number}: ${JSON.stringify(sms.map((m) => m.message))}`);
	checkSms(conf.message);
	eq(conf.username, 'sandbox', 'AT username');
	eq(conf.headers.apikey, 'test-key-not-secret', 'AT apiKey header');
	eq(conf.from, '1708', 'AT from');
	noMatch(conf.message, new RegExp(NIK_A), 'SMS must not show the full NIK');
	// the outbound row is marked sent (or delivered) with AT's message id
	const out = await waitForRow(h.db, `select * from messages where direction = 'out' and channel = 'at-sms' and provider_id = '${conf.messageId}'`);
	match(out.status, /^(sent|delivered)$/, 'outbound status');
	eq(out.peer, ussd.phone, 'outbound peer');
});

test('ussd: report about someone else asks a location, never a NIK', async (t) => {
	const mock = await t.mock();
	const h = await t.server({ atBase: mock.url });
	const { number, screens } = await ussdComplaint(h, { subject: 'other' });
	assert(!screens.some((s) => s.rule === 'nik'), 'NIK must not be asked for a report about someone else');
	assert(screens.some((s) => s.rule === 'location'), 'a location was asked');
	assert(!screens.some((s) => s.rule === 'program'), 'no program asked for someone else');
	const row = ticketRow(h.db, number);
	eq(row.subject, 'other', 'subject');
	eq(row.type, 'lansia_terlantar', 'type');
	eq(row.nik, null, 'no NIK');
	eq(row.location, LOCATION, 'location');
	eq(row.status, 'received', 'status');
	eq(row.kelurahan, 'Kalampangan', 'kelurahan');
});

test('ussd: a dropped session resumed by dialling again', async (t) => {
	const h = await t.server();
	const u = new AtUssd(h);
	let cur = await u.dial();
	// walk until the NIK question, then drop the call
	const rules = complaintRules();
	for (let i = 0; i < 10 && !/NIK/.test(cur.text); i++) {
		const r = rules.find((x) => x.when(cur.text));
		assert(r, `no rule for ${cur.text}`);
		cur = await u.send(typeof r.input === 'function' ? r.input(cur.text) : r.input);
	}
	match(cur.text, /NIK/, 'reached the NIK question');
	const nikScreen = cur.text;
	const again = await u.redial();
	eq(again.end, false, 'resume offer is a CON screen');
	match(again.text, /Lanjutkan pengaduan sebelumnya\?/, 'resume offer');
	const yes = opt(again.text, /^Ya/) || '1';
	const back = await u.send(yes);
	eq(back.text, nikScreen, 'resuming shows the saved question again');
	// and the complaint completes from there
	const w = await walk(back, (x) => u.send(x), complaintRules(), ticketDone(true));
	const number = TICKET_RE.exec(w.last.text)[1];
	eq(ticketRow(h.db, number).nik, NIK_A, 'NIK of the resumed complaint');

	// "2 Mulai baru" starts over at the main menu
	const u2 = new AtUssd(h);
	let s = await u2.dial();
	s = await u2.send(opt(s.text, /Sampaikan pengaduan/i));
	const again2 = await u2.redial();
	match(again2.text, /Lanjutkan pengaduan sebelumnya\?/, 'resume offer (2)');
	const fresh = await u2.send(opt(again2.text, /Mulai baru|baru/i) || '2');
	assert(opt(fresh.text, /Sampaikan pengaduan/i), `"Mulai baru" shows the main menu: ${fresh.text}`);
});

test('ussd: the same provider request twice gives the same reply and one ticket', async (t) => {
	const h = await t.server();
	const u = new AtUssd(h);
	const first = await u.dial();
	// a retry of the opening request
	const dup0 = await u.round('');
	eq(dup0.raw, first.raw, 'retried first request answers the same');
	const w = await walk(first, (x) => u.send(x), complaintRules(), ticketDone(true));
	const number = TICKET_RE.exec(w.last.text)[1];
	// the provider retries the final request (same sessionId and text)
	const retry = await u.round(u.inputs.join('*'));
	eq(retry.raw, w.last.raw, 'retried final request answers the same');
	const retry2 = await u.round(u.inputs.join('*'));
	eq(retry2.raw, w.last.raw, 'second retry answers the same');
	eq(sql(h.db, 'select count(*) as n from tickets')[0].n, 1, 'one ticket after retries');
	eq(sql(h.db, `select count(*) as n from tickets where number = '${digits(number)}'`)[0].n, 1, 'the ticket');
	// a middle step retried does not advance the conversation twice
	const u2 = new AtUssd(h);
	const a = await u2.dial();
	const b = await u2.send(opt(a.text, /Sampaikan pengaduan/i));
	const b2 = await u2.round(u2.inputs.join('*'));
	eq(b2.raw, b.raw, 'retried middle request answers the same');
	const c = await u2.send(opt(b.text, /sendiri|saya|keluarga/i));
	noMatch(c.text, /pilihan tidak dikenali/i, 'conversation continues normally after a retry');
});

test('ussd: a late retry of an earlier round is answered from the database and changes nothing', async (t) => {
	const h = await t.server();
	const u = new AtUssd(h);
	const a = await u.dial();
	const b = await u.send(opt(a.text, /Sampaikan pengaduan/i));
	const c = await u.send(opt(b.text, /sendiri|saya|keluarga/i));
	const before = sql(h.db, `select count(*) as n from messages where direction = 'in' and peer = '${u.phone}'`)[0].n;
	// the provider's retry of round 1 arrives after round 2 was answered
	const lateB = await u.round(u.inputs.slice(0, 1).join('*'));
	eq(lateB.raw, b.raw, 'a late retry of round 1 gets round 1\'s screen');
	const lateA = await u.round('');
	eq(lateA.raw, a.raw, 'a late retry of the opening round gets the main menu again');
	const after = sql(h.db, `select count(*) as n from messages where direction = 'in' and peer = '${u.phone}'`)[0].n;
	eq(after, before, 'the retries stored no message');
	// the conversation goes on from round 2, not from the retried rounds
	const d = await u.send(opt(c.text, /PKH|BPNT|bantuan|program|lainnya/i) || '1');
	noMatch(d.text, /pilihan tidak dikenali|Sampaikan pengaduan/i, `the next answer continues the complaint: ${d.text}`);
	// the rounds live in the session row, not in the unique message index
	const row = sql(h.db, `select s.rounds from sessions s join contacts c on c.id = s.contact_id where c.phone = '${u.phone}' and s.channel = 'at-ussd'`)[0];
	match(row.rounds || '', /^([0-9a-f]{12}:[0-9a-f]+;){4}$/, 'four rounds recorded in the session row');
	eq(sql(h.db, `select count(*) as n from messages where direction = 'in' and peer = '${u.phone}' and provider_id is not null`)[0].n, 0,
		'USSD rounds carry no dedupe key in messages.provider_id');
});

test('ussd: an aggregator reusing a session id for another caller never gets the first caller\'s screen', async (t) => {
	const h = await t.server();
	const u1 = new AtUssd(h);
	const a = await u1.dial();
	const b = await u1.send(opt(a.text, /Sampaikan pengaduan/i));
	const u2 = new AtUssd(h, { sessionId: u1.sessionId });
	const x = await u2.dial();
	match(x.text, /Sampaikan pengaduan/i, `the second caller gets the main menu: ${x.text}`);
	const y = await u2.send(opt(x.text, /Cek status/i));
	assert(y.raw !== b.raw, 'the second caller\'s round 1 is processed, not replayed from the first caller');
	eq(sql(h.db, `select count(*) as n from messages where direction = 'in' and peer = '${u2.phone}'`)[0].n, 2,
		'both rounds of the second caller stored');
});

test('ussd: a wrong NIK gives an error and the same question, then continues', async (t) => {
	const h = await t.server();
	const u = new AtUssd(h);
	let cur = await u.dial();
	const rules = complaintRules();
	for (let i = 0; i < 10 && !/NIK/.test(cur.text); i++) {
		const r = rules.find((x) => x.when(cur.text));
		assert(r, `no rule for ${cur.text}`);
		cur = await u.send(typeof r.input === 'function' ? r.input(cur.text) : r.input);
	}
	match(cur.text, /NIK/, 'reached the NIK question');
	const bad = await u.send(NIK_BAD);
	eq(bad.end, false, 'still in the conversation');
	match(bad.text, /NIK/, 'the NIK question is asked again');
	assert(bad.text !== cur.text, 'an error text is shown with the question');
	match(bad.text, /maaf|salah|tidak valid|tidak sesuai|periksa/i, 'error wording');
	const short = await u.send('12345');
	match(short.text, /NIK/, 'short NIK: asked again');
	const good = await u.send(NIK_A);
	noMatch(good.text, /NIK \(16|Masukkan NIK/i, 'a valid NIK moves on');
	const w = await walk(good, (x) => u.send(x), complaintRules(), ticketDone(true));
	const number = TICKET_RE.exec(w.last.text)[1];
	eq(ticketRow(h.db, number).nik, NIK_A, 'the valid NIK is stored');
});

test('ussd: NIK 0 (unknown) is accepted and stores no NIK', async (t) => {
	const h = await t.server();
	const { number } = await ussdComplaint(h, { nik: '0' });
	eq(ticketRow(h.db, number).nik, null, 'no NIK stored');
});

test('generic ussd: JSON body, newest input, JSON reply, full complaint', async (t) => {
	const h = await t.server();
	const g = new GenericUssd(h);
	const first = await g.dial();
	eq(first.json.action, 'continue', 'first screen continues');
	assert(opt(first.text, /Sampaikan pengaduan/i), 'main menu');
	// a resident who types the same digit twice in a row (main menu 1, then 1 for
	// "myself") must move on: in newest-input mode without a message id, an equal
	// input is a new round, not a provider retry
	const s1 = await g.send(opt(first.text, /Sampaikan pengaduan/i));
	const o1 = opt(s1.text, /sendiri|saya|keluarga/i);
	assert(o1, `subject menu: ${s1.text}`);
	const s2 = await g.send(o1);
	assert(s2.text !== s1.text, `the same input twice in a row was answered as a retry (screen repeated): ${s2.text}`);
	const w = await walk(s2, (x) => g.send(x), complaintRules(), ticketDone(true));
	eq(w.last.json.action, 'end', 'final action');
	const number = TICKET_RE.exec(w.last.text)[1];
	const row = ticketRow(h.db, number);
	eq(row.channel, 'gussd', 'channel');
	eq(row.phone, g.phone, 'msisdn normalised to E.164');
	eq(row.kelurahan, 'Kalampangan', 'kelurahan');
});
