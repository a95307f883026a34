// status.test.mjs - status checks: from the number that filed the complaint,
// from another number (last 4 NIK digits asked), and a mistyped number.

import {
	test, assert, eq, match, noMatch, AtUssd, KannelGet, ussdComplaint, opt, digits, NIK_A, sql, cli, checkSms,
} from './lib.mjs';

const NOT_VALID = /tidak valid|bukan nomor|salah ketik|periksa kembali|not (a )?valid/i;

/** Dial, choose "Cek status", type the number; returns the answer screen(s). */
async function ussdStatus(u, number) {
	const m = await u.dial();
	const o = opt(m.text, /Cek status/i);
	assert(o, `main menu offers "Cek status": ${m.text}`);
	const ask = await u.send(o);
	eq(ask.end, false, 'the number is asked');
	match(ask.text, /nomor/i, 'asks for the number');
	return u.send(number);
}

/** Change one digit of an 8-digit number (Damm detects every single-digit error). */
function typo(number, pos = 3) {
	const d = digits(number).split('');
	d[pos] = String((Number(d[pos]) + 1) % 10);
	return d.join('');
}

test('status: from the number that filed it, the label is shown', async (t) => {
	const h = await t.server();
	const { number, ussd } = await ussdComplaint(h);
	const u = new AtUssd(h, { phone: ussd.phone });
	const r = await ussdStatus(u, digits(number));
	match(r.text, /Diterima/, 'status label');
	assert(r.text.includes(number), `the answer names the ticket ${number}: ${r.text}`);
	// with the dash and spaces it is the same ticket
	const u2 = new AtUssd(h, { phone: ussd.phone });
	const r2 = await ussdStatus(u2, ` ${number} `);
	match(r2.text, /Diterima/, 'status label (dashed input)');
	// by SMS from the same number
	const k = new KannelGet(h, { phone: ussd.phone });
	const s = await k.send(`CEK ${digits(number)}`);
	match(s.text, /Diterima/, 'SMS CEK answer');
	assert(s.text.includes(number), 'SMS CEK names the ticket');
});

test('status: from another number the last 4 NIK digits are asked', async (t) => {
	const h = await t.server();
	const { number } = await ussdComplaint(h, { nik: NIK_A });
	const k = new KannelGet(h); // a different phone
	const ask = await k.send(`CEK ${digits(number)}`);
	match(ask.text, /4 angka terakhir NIK/i, 'asks the last 4 NIK digits');
	noMatch(ask.text, /Diterima/, 'no status before the check');
	const wrong = await k.send('9999');
	match(wrong.text, /tidak cocok/i, 'wrong digits refused');
	noMatch(wrong.text, /Diterima/, 'no status after wrong digits');
	const ask2 = await k.send(`status ${number}`);
	match(ask2.text, /4 angka terakhir NIK/i, 'asked again');
	const right = await k.send(NIK_A.slice(-4));
	match(right.text, /Diterima/, 'status after the right digits');
	assert(right.text.includes(number), 'names the ticket');

	// the same on USSD from yet another number
	const u = new AtUssd(h);
	const q = await ussdStatus(u, digits(number));
	match(q.text, /4 angka terakhir NIK/i, 'USSD asks the last 4 NIK digits');
	const bad = await u.send('1234');
	match(bad.text, /tidak cocok/i, 'USSD wrong digits refused');
	noMatch(bad.text, /Diterima/, 'USSD no status');
});

const LOCKED = /Terlalu banyak percobaan yang salah/;

test('status: 5 wrong last-4-NIK answers lock the check for other numbers, not the owner', async (t) => {
	const h = await t.server();
	const { number, ussd } = await ussdComplaint(h, { nik: NIK_A });
	const right = NIK_A.slice(-4);
	const k = new KannelGet(h); // a different phone, guessing
	for (const guess of ['0000', '1111', '2222', '3333', '4444']) {
		assert(guess !== right, 'the guesses are wrong');
		const ask = await k.send(`CEK ${digits(number)}`);
		match(ask.text, /4 angka terakhir NIK/i, 'asks the last 4 NIK digits');
		const wrong = await k.send(guess);
		match(wrong.text, /tidak cocok/i, `wrong digits ${guess} refused`);
		noMatch(wrong.text, LOCKED, 'not locked before the 5th wrong answer is recorded');
	}
	const rows = sql(h.db, `select count(*) as n from status_verify_failures f join tickets t on t.id = f.ticket_id where t.number = '${digits(number)}'`);
	eq(rows[0].n, 5, 'each wrong answer is recorded');

	// the right digits now: refused with the locked text, no status
	const ask = await k.send(`CEK ${digits(number)}`);
	match(ask.text, /4 angka terakhir NIK/i, 'still asks the digits');
	const locked = await k.send(right);
	match(locked.text, LOCKED, 'the right answer is refused once locked');
	noMatch(locked.text, /Diterima/, 'no status when locked');
	assert(locked.text.includes('0536'), `the locked text names the office phone: ${locked.text}`);

	// any other number is locked out too (the lock is per ticket), also on USSD
	const u = new AtUssd(h);
	const q = await ussdStatus(u, digits(number));
	match(q.text, /4 angka terakhir NIK/i, 'USSD asks the last 4 NIK digits');
	const ul = await u.send(right);
	match(ul.text, LOCKED, 'USSD right answer refused once locked');
	eq(ul.end, true, 'USSD session ends');
	noMatch(ul.text, /Diterima/, 'USSD no status when locked');
	const after = sql(h.db, `select count(*) as n from status_verify_failures f join tickets t on t.id = f.ticket_id where t.number = '${digits(number)}'`);
	eq(after[0].n, 5, 'refusals while locked add no rows');

	// the owner's number is unaffected: no question, the status is shown
	const own = new KannelGet(h, { phone: ussd.phone });
	const s = await own.send(`CEK ${digits(number)}`);
	match(s.text, /Diterima/, 'owner still sees the status by SMS');
	noMatch(s.text, LOCKED, 'owner not locked');
	const ou = new AtUssd(h, { phone: ussd.phone });
	const r = await ussdStatus(ou, digits(number));
	match(r.text, /Diterima/, 'owner still sees the status on USSD');
});

test('status: a mistyped number is "not valid", never someone else\'s ticket', async (t) => {
	const h = await t.server();
	const a = await ussdComplaint(h);
	const b = await ussdComplaint(h);
	for (const pos of [0, 3, 7]) {
		const wrong = typo(a.number, pos);
		const u = new AtUssd(h, { phone: a.ussd.phone });
		const r = await ussdStatus(u, wrong);
		match(r.text, NOT_VALID, `typo at ${pos} answered as not valid`);
		noMatch(r.text, /Diterima/, 'no status label for a typo');
		assert(!r.text.includes(b.number) && !r.text.includes(a.number), 'no ticket number revealed');
		const k = new KannelGet(h, { phone: a.ussd.phone });
		const s = await k.send(`CEK ${wrong}`);
		match(s.text, NOT_VALID, `SMS typo at ${pos} answered as not valid`);
		noMatch(s.text, /Diterima/, 'SMS no status');
	}
	// two swapped neighbours
	const d = digits(a.number).split('');
	if (d[1] !== d[2]) {
		[d[1], d[2]] = [d[2], d[1]];
		const k = new KannelGet(h, { phone: a.ussd.phone });
		const s = await k.send(`CEK ${d.join('')}`);
		match(s.text, NOT_VALID, 'swapped digits answered as not valid');
	}
});

test('notify: a state change from the command line reaches a USSD caller by SMS with label, date and office', async (t) => {
	const mock = await t.mock();
	const h = await t.server({ atBase: mock.url });
	const { ussd, number } = await ussdComplaint(h);
	await mock.waitFor(ussd.phone, 1); // the ticket-number SMS
	const r = cli(['tickets', 'set-status', number, 'referred', '--note', 'pengelola program PKH',
		'--due', '2026-12-14', '--db', h.db, '--config', h.cfgPath]);
	eq(r.code, 0, `set-status exit code; stderr: ${r.stderr}`);
	match(r.stdout, /received -> referred; notification queued/, 'CLI output');
	const sms = await mock.waitFor(ussd.phone, 2);
	const note = sms.find((m) => m.message.includes('Dirujuk'));
	assert(note, `a notification SMS: ${JSON.stringify(sms.map((m) => m.message))}`);
	eq(note.message.split(' Info:')[0], `Pengaduan ${number}: Dirujuk ke pengelola program PKH. Kabar berikutnya paling lambat 14/12/2026.`, 'notification text');
	match(note.message, /Info: Dinas Sosial Kota Palangka Raya/, 'whom to contact');
	checkSms(note.message);
	const ev = sql(h.db, `select e.* from ticket_events e join tickets t on t.id = e.ticket_id where t.number = '${digits(number)}' order by e.id`);
	eq(ev.length, 2, 'two events');
	eq(ev[1].to_status, 'referred', 'event to');
	eq(ev[1].actor, 'cli', 'event actor');
	// the resident's own status check now shows the new label and date
	const s = await ussd.redial();
	const st = await ussd.send(opt(s.text, /Cek status/i));
	const ans = await ussd.send(digits(number));
	match(ans.text, /Dirujuk/, `status answer: ${ans.text}`);
	match(ans.text, /14\/12\/2026/, 'next date in the status answer');
	assert(st, 'asked for the number');
});
