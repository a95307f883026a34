// procedure.test.mjs - the office procedure through the real server: every
// step of the path over the JSON API allowed and refused per role, the
// resident's SMS in the outbox at each step, duplicates, BANDING within and
// after 14 days and the satisfaction answer (PINTU_CLOCK_OFFSET_FILE), SLA
// due dates across a weekend, the overdue queue and the CSV export.

import fs from 'node:fs';
import path from 'node:path';
import {
	test, assert, eq, match, KannelGet, smsComplaint, digits, sql, cli, phone, tmpDir, NIK_B,
} from './lib.mjs';
import { staffSession, api, login } from './staff.mjs';

const DAY = 86400000;

function outbox(db, number) {
	return sql(db, `select m.body, m.channel from messages m join tickets t on t.id = m.ticket_id where m.direction = 'out' and t.number = '${digits(number)}' order by m.id`);
}

async function setup(t) {
	const dir = tmpDir();
	const clock = path.join(dir, 'clock');
	fs.writeFileSync(clock, '0');
	const h = await t.server({ dir, env: { PINTU_CLOCK_OFFSET_FILE: clock } });
	const fo = await staffSession(h, 'front_office');
	const bo = await staffSession(h, 'back_office');
	const sup = await staffSession(h, 'supervisor');
	const adm = await staffSession(h, 'admin');
	const shift = (ms) => fs.writeFileSync(clock, String(ms));
	return { h, fo, bo, sup, adm, shift, env: { PINTU_CLOCK_OFFSET_FILE: clock } };
}

test('procedure: the path over the API, refusals per role, the resident told at each step', async (t) => {
	const { h, fo, bo, sup, adm } = await setup(t);
	const c = new KannelGet(h);
	const { number } = await smsComplaint(c);
	const tr = (s, body) => api(h.base, s, 'POST', `/api/tickets/${number}/transition`, body);
	const n0 = outbox(h.db, number).length;

	let d = await api(h.base, fo, 'GET', `/api/tickets/${number}`);
	eq(d.status, 200, `detail ${d.text}`);
	eq(d.json.status, 'received', 'received');
	assert(d.json.due_at, 'received has a due time');
	eq(d.json.actions.map((a) => a.to).sort().join(','), 'needs_info,registered,rejected', 'front office actions');
	assert(d.json.transcript.some((m) => m.direction === 'in'), 'transcript has the resident messages');
	assert(!/\+62\d{9,}/.test(d.text), 'no full phone number in the detail');
	const bd = await api(h.base, bo, 'GET', `/api/tickets/${number}`);
	eq(bd.json.actions.map((a) => a.to).join(','), 'needs_info', 'back office may only ask for data here');

	let r = await tr(fo, { to: 'registered' });
	eq(r.status, 422, 'dtks_status missing');
	eq(r.json.field, 'dtks_status', 'names the field');
	r = await tr(adm, { to: 'registered', dtks_status: 'registered' });
	eq(r.status, 403, 'admin takes no casework');
	r = await tr(fo, { to: 'resolved', outcome: 'x' });
	eq(r.status, 409, 'not from received');
	r = await api(h.base, { cookie: fo.cookie, csrf: '' }, 'POST', `/api/tickets/${number}/transition`, { to: 'registered', dtks_status: 'registered' });
	eq(r.status, 403, 'no CSRF token');
	r = await tr(fo, { to: 'registered', dtks_status: 'registered', note: 'KTP dicek' });
	eq(r.status, 200, `register ${r.text}`);
	eq(r.json.status, 'registered', 'registered');
	eq(r.json.dtks_status, 'registered', 'dtks recorded');
	let out = outbox(h.db, number);
	eq(out.length, n0 + 1, 'one message queued');
	match(out.at(-1).body, new RegExp(`Pengaduan ${number}: Terdaftar\\. Kabar berikutnya paling lambat \\d\\d/\\d\\d/\\d{4}`), 'the resident is told');

	eq((await tr(fo, { to: 'in_review' })).status, 200, 'review');
	eq((await tr(fo, { to: 'awaiting_approval' })).status, 403, 'front office cannot send for approval');
	eq((await tr(bo, { to: 'awaiting_approval' })).status, 200, 'back office sends for approval');
	d = await api(h.base, fo, 'GET', `/api/tickets/${number}`);
	eq(d.json.actions.length, 0, 'front office sees no approve action');
	r = await tr(fo, { to: 'in_progress' });
	eq(r.status, 403, 'a forged approval from front office is refused');
	eq((await tr(bo, { to: 'in_progress' })).status, 403, 'back office cannot approve');
	r = await tr(sup, { to: 'referred', level: 'province', organisation: 'Dinsos Provinsi Kalteng', program: 'PKH' });
	eq(r.status, 422, 'reference missing');
	eq(r.json.field, 'reference', 'names reference');
	r = await tr(sup, { to: 'referred', level: 'province', organisation: 'Dinsos Provinsi Kalteng', program: 'PKH', reference: 'KT-2026-17' });
	eq(r.status, 200, `approve and refer ${r.text}`);
	eq(r.json.referral.reference, 'KT-2026-17', 'referral recorded');
	match(outbox(h.db, number).at(-1).body, /Dirujuk ke Dinsos Provinsi Kalteng/, 'referral told');
	r = await tr(bo, { to: 'resolved', outcome: 'Bantuan tahap dua sudah cair' });
	eq(r.status, 200, 'resolved');
	eq(r.json.due_at, null, 'no due time when resolved');
	out = outbox(h.db, number);
	match(out.at(-2).body, /Selesai: Bantuan tahap dua sudah cair/, 'outcome told');
	match(out.at(-1).body, /Balas 1-5/, 'satisfaction asked');
	for (const m of out) assert(!/Puskesmas/.test(m.body) && /^[\x20-\x7e\n]*$/.test(m.body), `GSM-7 safe: ${m.body}`);

	// satisfaction: the next message, a digit
	const s = await c.send('5');
	match(s.text, /Terima kasih atas penilaian Anda \(5\)/, 'thanked');
	eq(sql(h.db, `select satisfaction from tickets where number = '${digits(number)}'`)[0].satisfaction, 5, 'stored');

	// audit rows, notes, assignment
	const audits = sql(h.db, `select count(*) as n from audit_log where action = 'ticket.transition' and target = 'ticket:${digits(number)}'`)[0].n;
	eq(audits, 5, 'an audit row per transition');
	r = await api(h.base, bo, 'POST', `/api/tickets/${number}/notes`, { text: 'Warga ditelepon' });
	eq(r.status, 201, 'note');
	r = await api(h.base, sup, 'POST', `/api/tickets/${number}/assign`, { username: bo.username });
	eq(r.status, 200, 'assign');
	eq(r.json.assigned_to, bo.username, 'assigned');
	eq(r.json.notes.length, 1, 'note listed');
	r = await api(h.base, sup, 'POST', `/api/tickets/${number}/assign`, { username: 'nobody-here' });
	eq(r.status, 422, 'unknown user');
	r = await api(h.base, bo, 'GET', '/api/tickets?mine=1');
	eq(r.json.total, 1, 'mine');
	r = await api(h.base, bo, 'GET', `/api/tickets?q=${digits(number)}`);
	eq(r.json.tickets[0].number, number, 'search by number');
	r = await api(h.base, bo, 'GET', `/api/tickets?q=${c.phone.slice(-6)}`);
	eq(r.json.total, 1, 'search by phone digits');
	r = await api(h.base, bo, 'GET', '/api/tickets?status=bogus');
	eq(r.status, 422, 'bad filter');
	r = await api(h.base, null, 'GET', '/api/tickets');
	eq(r.status, 401, 'login required');
	r = await api(h.base, bo, 'GET', '/api/meta');
	assert(r.json.transitions.length > 15 && r.json.states.length === 11, 'meta');
	r = await api(h.base, bo, 'GET', '/api/dashboard');
	eq(r.status, 200, 'dashboard');
	eq(r.json.by_state.resolved, 1, 'by state');
	eq(r.json.weekly_new.length, 12, '12 weeks');
	assert(r.json.sla.transitions >= 5, 'SLA counted');
});

test('procedure: duplicates, BANDING within and after 14 days, overdue queue, CSV, weekend due dates', async (t) => {
	const { h, fo, bo, shift, env } = await setup(t);
	const a = new KannelGet(h);
	const { number } = await smsComplaint(a);
	const b = new KannelGet(h, { phone: phone() });
	const dup = await smsComplaint(b);
	match(dup.last.text, new RegExp(`sudah ada, nomor ${number}, dan masih diproses`), `duplicate told: ${dup.last.text}`);
	assert(dup.number !== number, 'the new number comes first');
	const dupRow = sql(h.db, `select t.number, t.linked_to from tickets t join contacts c on c.id = t.contact_id where c.phone = '${b.phone}'`);
	eq(dupRow.length, 1, 'the new ticket exists');
	eq(dupRow[0].linked_to, digits(number), 'linked');
	assert(dupRow[0].number !== digits(number), 'a new number');
	const other = await smsComplaint(new KannelGet(h, { phone: phone() }), { nik: NIK_B });
	eq(sql(h.db, `select linked_to from tickets where number = '${digits(other.number)}'`)[0].linked_to, null, 'other NIK not linked');

	// SLA: received is due 2 working days later, never on a weekend day
	const row = sql(h.db, `select created_ms, due_ms from tickets where number = '${digits(number)}'`)[0];
	const wd = new Date(row.due_ms + 7 * 3600000).getUTCDay();
	assert(wd >= 1 && wd <= 5, `due on a working day (${wd})`);
	assert(row.due_ms - row.created_ms >= 2 * DAY - 86400000 && row.due_ms - row.created_ms <= 5 * DAY, 'two working days');

	// BANDING before resolution
	let s = await a.send(`BANDING ${number}`);
	match(s.text, /belum selesai/, `not resolved: ${s.text}`);

	// overdue: move 6 days on
	shift(6 * DAY);
	let fo2 = await login(h.base, fo.username);
	let r = await api(h.base, fo2, 'GET', '/api/queues/overdue');
	eq(r.status, 200, 'overdue queue');
	assert(r.json.tickets.some((x) => x.number === number && x.overdue), 'overdue listed');
	eq(sql(h.db, `select count(*) as n from ticket_events e join tickets t on t.id = e.ticket_id where t.number = '${digits(number)}' and e.note = 'escalated'`)[0].n, 1, 'escalated once');
	r = await api(h.base, fo2, 'GET', '/api/export.csv?overdue=1');
	eq(r.status, 200, 'csv');
	match(r.headers.get('content-type'), /text\/csv/, 'csv type');
	const lines = r.text.split('\r\n');
	eq(lines[0], 'number,status,label,type,program,kecamatan,kelurahan,channel,phone_masked,nik_masked,assigned_to,due_at,overdue,created_at,updated_at', 'header');
	assert(lines.some((l) => l.startsWith(number)), 'ticket in csv');
	assert(!r.text.includes(a.phone) && !r.text.includes('6271031505900003'), 'masked');

	// resolve with the CLI (through the table as "cli"), then BANDING within 14 days
	for (const st of ['registered', 'in_review', 'awaiting_approval', 'in_progress', 'resolved']) {
		const c = cli(['tickets', 'set-status', number, st, '--note', 'Sudah ditangani', '--db', h.db, '--config', h.cfgPath], { env });
		eq(c.code, 0, `set-status ${st}: ${c.stderr}`);
	}
	const bad = cli(['tickets', 'set-status', number, 'appealed', '--db', h.db, '--config', h.cfgPath]);
	eq(bad.code, 1, 'the CLI cannot appeal for the resident');
	shift(6 * DAY + 13 * DAY);
	s = await a.send(`banding  ${digits(number)}`);
	match(s.text, /Banding untuk pengaduan .* diterima/, `appeal: ${s.text}`);
	eq(sql(h.db, `select status from tickets where number = '${digits(number)}'`)[0].status, 'appealed', 'appealed');
	fo2 = await login(h.base, bo.username);
	r = await api(h.base, fo2, 'POST', `/api/tickets/${number}/transition`, { to: 'in_review' });
	eq(r.status, 200, 'appeal reviewed');

	// the other ticket: resolved, appealed too late
	for (const st of ['registered', 'in_review', 'awaiting_approval', 'in_progress', 'resolved']) {
		eq(cli(['tickets', 'set-status', other.number, st, '--note', 'ok', '--db', h.db, '--config', h.cfgPath], { env }).code, 0, st);
	}
	shift(6 * DAY + 13 * DAY + 15 * DAY);
	const o = new KannelGet(h, { phone: sql(h.db, `select c.phone from tickets t join contacts c on c.id = t.contact_id where t.number = '${digits(other.number)}'`)[0].phone });
	s = await o.send(`BANDING ${other.number}`);
	match(s.text, /masa banding .* sudah lewat/, `too late: ${s.text}`);
	eq(sql(h.db, `select status from tickets where number = '${digits(other.number)}'`)[0].status, 'resolved', 'still resolved');
	s = await o.send(`BANDING ${number}`);
	match(s.text, /tidak ditemukan untuk nomor HP ini/, `not theirs: ${s.text}`);
});
