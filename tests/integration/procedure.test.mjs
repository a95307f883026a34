// procedure.test.mjs - the office procedure through the real server: every
// step of the path over the JSON API allowed and refused per role, the
// resident's SMS in the outbox at each step, duplicates, BANDING within and
// after 14 days and the satisfaction answer (PINTU_CLOCK_OFFSET_FILE), SLA
// due dates across a weekend, the overdue queue and the CSV export.

import fs from 'node:fs';
import path from 'node:path';
import {
	test, assert, eq, match, KannelGet, AtSms, smsComplaint, digits, sql, cli, phone, tmpDir, NIK_B, testConfig,
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

	// the full NIK only on request, for casework roles, and every reveal audited
	assert(!d.text.includes('6271031505900003'), 'the detail carries no full NIK');
	let nk = await api(h.base, fo, 'POST', `/api/tickets/${number}/nik`, {});
	eq(nk.status, 200, `reveal ${nk.text}`);
	eq(nk.json.nik, '6271031505900003', 'the full NIK for the DTKS check');
	const au = sql(h.db, `select username, target from audit_log where action = 'ticket.nik_view' order by id`);
	eq(au.length, 1, 'the reveal is audited');
	eq(au[0].username, fo.username, 'with who');
	eq(au[0].target, `ticket:${digits(number)}`, 'and which ticket');
	eq((await api(h.base, adm, 'POST', `/api/tickets/${number}/nik`, {})).status, 403, 'admin may not see NIKs');
	eq((await api(h.base, { cookie: fo.cookie, csrf: '' }, 'POST', `/api/tickets/${number}/nik`, {})).status, 403, 'CSRF required');
	eq((await api(h.base, fo, 'GET', `/api/tickets/${number}/nik`)).status, 405, 'POST only');
	eq((await api(h.base, fo, 'POST', '/api/tickets/1234-5670/nik', {})).status, 404, 'unknown ticket');
	eq(sql(h.db, `select count(*) as n from audit_log where action = 'ticket.nik_view'`)[0].n, 1, 'refused reveals leave no NIK audit row');

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
	const ex = sql(h.db, `select username, detail from audit_log where action = 'ticket.export' order by id desc limit 1`)[0];
	eq(ex?.username, fo.username, 'the export is audited with who made it');
	const exd = JSON.parse(ex.detail);
	eq(exd.filter, 'overdue=1', 'and the filter');
	eq(exd.rows, lines.length - 2, 'and the row count');

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

// ---------------------------------------------------------------- the whole table

const ROLES = ['front_office', 'back_office', 'supervisor', 'admin'];
const OFFICE_PHONE = '0536-3221234';
const GSM7_SAFE = /^[\x20-\x7e\n]*$/;

/** "2026-11-24T16:59:59Z" -> "24/11/2026" in the office's zone (UTC+7). */
function localDate(iso) {
	const d = new Date(Date.parse(iso) + 7 * 3600000);
	const p = (n) => String(n).padStart(2, '0');
	return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}

/** Valid values for the fields a row requires. */
const FIELD_VALUES = {
	dtks_status: 'not_registered', level: 'province', organisation: 'Dinsos Provinsi Kalteng',
	program: 'PKH', reference: 'KT-2026-88', outcome: 'Bantuan sudah cair', reason: 'Di luar wewenang',
	question: 'Mohon kirim nomor KK Anda.',
};

test('procedure: every transition of the table x every role over the API (allowed, refused 403/409), the resident told each time', async (t) => {
	const { h, fo, bo, sup, adm } = await setup(t);
	const sessions = { front_office: fo, back_office: bo, supervisor: sup, admin: adm };
	const c = new KannelGet(h);
	const { number } = await smsComplaint(c);
	const dg = digits(number);
	const meta = (await api(h.base, bo, 'GET', '/api/meta')).json;
	const labels = Object.fromEntries(meta.states.map((s) => [s.id, s.label]));
	// The law (design.md section 2), written out here so a change to the table fails a test.
	eq(meta.transitions.map((r) => `${r.from}>${r.to}:${r.roles.join('+')}:${r.requires.join('+')}`).join('\n'), [
		'received>registered:front_office:dtks_status',
		'received>needs_info:front_office+back_office:question',
		'received>rejected:front_office+supervisor:reason',
		'registered>in_review:front_office+back_office:',
		'registered>needs_info:front_office+back_office:question',
		'in_review>awaiting_approval:back_office:',
		'in_review>needs_info:back_office:question',
		'awaiting_approval>in_progress:supervisor:',
		'awaiting_approval>dtks_proposed:supervisor:',
		'awaiting_approval>referred:supervisor:level+organisation+program+reference',
		'awaiting_approval>rejected:supervisor:reason',
		'awaiting_approval>in_review:supervisor:',
		'dtks_proposed>in_progress:back_office+supervisor:',
		'dtks_proposed>resolved:back_office+supervisor:outcome',
		'in_progress>needs_info:back_office:question',
		'in_progress>referred:back_office+supervisor:level+organisation+program+reference',
		'in_progress>resolved:back_office+supervisor:outcome',
		'referred>resolved:back_office+supervisor:outcome',
		'needs_info>needs_info:front_office+back_office:question',
		'needs_info>(previous):front_office+back_office:',
		'resolved>appealed:resident:',
		'appealed>in_review:back_office+supervisor:',
	].join('\n'), 'the transition table');
	const row = () => sql(h.db, `select status, prev_status, (select count(*) from ticket_events e where e.ticket_id = t.id) as events, (select count(*) from messages m where m.ticket_id = t.id and m.direction = 'out') as outs, (select count(*) from audit_log a where a.target = 'ticket:${dg}') as audits from tickets t where number = '${dg}'`)[0];
	const setStatus = (st) => {
		const r = cli(['tickets', 'set-status', number, st, '--note', 'persiapan uji', '--db', h.db, '--config', h.cfgPath]);
		eq(r.code, 0, `set-status ${st}: ${r.stderr}`);
	};
	// Put the ticket into `from` (for needs_info: entered from prev).
	async function putIn(from, prev) {
		const cur = row();
		if (cur.status === from && (from !== 'needs_info' || cur.prev_status === prev)) return;
		if (from === 'appealed') {
			if (cur.status !== 'resolved') setStatus('resolved');
			const s = await c.send(`BANDING ${number}`);
			match(s.text, /Banding untuk pengaduan .* diterima/, `appeal: ${s.text}`);
		} else if (from === 'needs_info') {
			if (cur.status !== prev) setStatus(prev);
			setStatus('needs_info');
		} else {
			setStatus(from);
		}
		const now = row();
		eq(now.status, from, `ticket put in ${from}`);
		if (from === 'needs_info') eq(now.prev_status, prev, 'needs_info entered from prev');
	}
	const tr = (role, body) => api(h.base, sessions[role], 'POST', `/api/tickets/${number}/transition`, body);

	let allowed = 0;
	let refused = 0;
	for (const rule of meta.transitions) {
		const prev = rule.to === '(previous)' ? 'in_review' : 'registered';
		const to = rule.to === '(previous)' ? prev : rule.to;
		const body = { to, note: 'uji tabel' };
		for (const f of rule.requires) body[f] = FIELD_VALUES[f];
		// The refused roles first (the ticket stays put), then each allowed role.
		const order = [...ROLES].sort((a, b) => rule.roles.includes(a) - rule.roles.includes(b));
		for (const role of order) {
			await putIn(rule.from, prev);
			const before = row();
			const r = await tr(role, body);
			const after = row();
			const what = `${rule.from} -> ${to} as ${role}`;
			if (!rule.roles.includes(role)) {
				eq(r.status, 403, `${what} refused: ${r.text}`);
				eq(r.json.error, 'forbidden', `${what} code`);
				eq(after.status, rule.from, `${what}: state unchanged`);
				eq(after.events, before.events, `${what}: no event`);
				eq(after.outs, before.outs, `${what}: nothing sent`);
				eq(after.audits, before.audits, `${what}: no audit row`);
				refused++;
				continue;
			}
			eq(r.status, 200, `${what} allowed: ${r.text}`);
			eq(r.json.status, to, `${what}: new state`);
			eq(after.status, to, `${what}: stored`);
			eq(after.events, before.events + 1, `${what}: one event`);
			eq(after.audits, before.audits + 1, `${what}: one audit row`);
			const ev = r.json.events.at(-1);
			eq(`${ev.actor}|${ev.from}|${ev.to}|${ev.note}`, `${sessions[role].username}|${rule.from}|${to}|uji tabel`, `${what}: the event`);
			// The resident's message: label (with the detail), next-news date, whom to contact.
			const msgs = outbox(h.db, number).slice(before.outs);
			const extra = to === 'needs_info' || to === 'resolved' ? 1 : 0;
			eq(msgs.length, 1 + extra, `${what}: messages queued ${JSON.stringify(msgs)}`);
			let label = labels[to];
			if (to === 'referred') label = `${label.replace(/ <.*$/, '')} ke ${FIELD_VALUES.organisation}`;
			if (to === 'resolved') label = `${label.replace(/:.*$/, '')}: ${FIELD_VALUES.outcome}`;
			if (to === 'rejected') label = `${label.replace(/:.*$/, '')}: ${FIELD_VALUES.reason}`;
			const m = msgs[0].body;
			assert(m.startsWith(`Pengaduan ${number}: ${label}.`), `${what}: label in ${JSON.stringify(m)}`);
			if (r.json.due_at) {
				assert(m.includes(`Kabar berikutnya paling lambat ${localDate(r.json.due_at)}.`), `${what}: next-news date in ${m}`);
				const wd = new Date(Date.parse(r.json.due_at) + 7 * 3600000).getUTCDay();
				assert(wd >= 1 && wd <= 5, `${what}: due on a working day`);
			} else {
				assert(to === 'resolved' || to === 'rejected', `${what}: a due time for an open state`);
				assert(!m.includes('Kabar berikutnya'), `${what}: no date for a final state`);
			}
			assert(m.includes(`Info: `) && m.includes(OFFICE_PHONE), `${what}: the office to contact in ${m}`);
			if (to === 'needs_info') assert(msgs[1].body.includes(FIELD_VALUES.question), `${what}: the question sent`);
			if (to === 'resolved') match(msgs[1].body, /Balas 1-5/, `${what}: satisfaction asked`);
			for (const x of msgs) assert(GSM7_SAFE.test(x.body) && !/Puskesmas/.test(x.body), `${what}: GSM-7 safe ${x.body}`);
			allowed++;
		}
	}
	const staffRows = meta.transitions.filter((r) => !r.roles.includes('resident'));
	const grants = staffRows.reduce((n, r) => n + r.roles.length, 0);
	eq(allowed, grants, 'every grant of the table exercised');
	eq(`${allowed}/${refused}`, '33/55', 'allowed/refused pairs');
	eq(refused, meta.transitions.length * ROLES.length - grants, 'every other role refused');
	assert(meta.transitions.some((r) => r.from === 'resolved' && r.to === 'appealed' && r.roles.join() === 'resident'), 'staff cannot appeal for the resident');

	// Every pair the table does not connect: 409 for every role, nothing changes.
	const states = meta.states.map((s) => s.id);
	let conflicts = 0;
	for (const from of states) {
		await putIn(from, 'registered');
		const before = row();
		for (const to of states) {
			const inTable = meta.transitions.some((r) => r.from === from && (r.to === to || (r.to === '(previous)' && to === 'registered')));
			if (inTable) continue;
			for (const role of ROLES) {
				const r = await tr(role, { to, ...FIELD_VALUES });
				eq(r.status, 409, `${from} -> ${to} as ${role}: ${r.text}`);
				eq(r.json.error, 'invalid_transition', 'code');
				conflicts++;
			}
		}
		const after = row();
		eq(`${after.status}|${after.events}|${after.outs}`, `${before.status}|${before.events}|${before.outs}`, `${from}: unchanged by refusals`);
	}
	assert(conflicts > 300, `conflicts tried: ${conflicts}`);

	// Bad bodies: 422 with the field named, unknown state, bad JSON; the server stays up.
	await putIn('awaiting_approval');
	let r = await tr('supervisor', { to: 'referred', level: 'galaxy', organisation: 'x', program: 'PKH', reference: 'r' });
	eq(`${r.status}|${r.json.field}`, '422|level', 'bad level');
	r = await tr('supervisor', { to: 'referred', level: 'city', organisation: 'x'.repeat(501), program: 'PKH', reference: 'r' });
	eq(`${r.status}|${r.json.field}`, '422|organisation', 'organisation too long');
	r = await tr('supervisor', { to: 'nowhere' });
	eq(`${r.status}|${r.json.field}`, '422|to', 'unknown state');
	r = await tr('supervisor', { to: 42 });
	eq(r.status, 422, 'to must be a string');
	r = await api(h.base, sup, 'POST', `/api/tickets/${number}/transition`, '{"to":');
	eq(r.status, 400, 'malformed JSON');
	r = await api(h.base, sup, 'POST', '/api/tickets/1234-5678/transition', { to: 'in_progress' });
	assert(r.status === 404, `unknown ticket: ${r.status}`);
	r = await api(h.base, sup, 'GET', `/api/tickets/${number}/transition`);
	eq(r.status, 405, 'GET on a write route');

	// DTKS inclusion is proposed only for a resident not registered in DTKS.
	setStatus('received');
	eq((await tr('front_office', { to: 'registered', dtks_status: 'registered' })).status, 200, 'registered in DTKS');
	setStatus('awaiting_approval');
	let d = await api(h.base, sup, 'GET', `/api/tickets/${number}`);
	assert(!d.json.actions.some((a) => a.to === 'dtks_proposed'), 'no DTKS proposal offered');
	assert(d.json.actions.some((a) => a.to === 'in_progress'), 'approval offered');
	r = await tr('supervisor', { to: 'dtks_proposed' });
	eq(`${r.status}|${r.json.field}`, '409|dtks_status', `already in DTKS: ${r.text}`);
	d = await api(h.base, sup, 'GET', '/api/tickets?limit=1');
	eq(d.status, 200, 'server still up');
});

test('procedure: dashboard numbers (SLA compliance with late and stuck steps, median resolution by program, weekly trend)', async (t) => {
	const { h, bo, shift, env } = await setup(t);
	const mk = async () => (await smsComplaint(new KannelGet(h, { phone: phone() }))).number;
	const a = await mk();
	const b = await mk();
	const c = await mk();
	const created = sql(h.db, 'select min(created_ms) as lo, max(created_ms) as hi from tickets')[0];
	const move = (n, steps) => {
		for (const st of steps) {
			const r = cli(['tickets', 'set-status', n, st, '--note', 'Sudah ditangani', '--db', h.db, '--config', h.cfgPath], { env });
			eq(r.code, 0, `set-status ${st}: ${r.stderr}`);
		}
	};
	const path5 = ['registered', 'in_review', 'awaiting_approval', 'in_progress', 'resolved'];
	move(a, path5); // five steps, all on time, resolved at once
	let r = await api(h.base, bo, 'GET', '/api/dashboard');
	eq(r.json.sla.compliance, 1, `all on time ${JSON.stringify(r.json.sla)}`);
	shift(30 * DAY);
	move(b, path5); // received left 30 days late, the other four on time
	const s = await login(h.base, bo.username);
	r = await api(h.base, s, 'GET', '/api/dashboard');
	eq(r.status, 200, 'dashboard');
	const d = r.json;
	// c is still received, due 2 working days after creation: stuck, counts as late
	eq(JSON.stringify(d.sla), JSON.stringify({
		transitions: 10, on_time: 9, late: 1, open_overdue: 1, compliance: 9 / 11,
		resolved: 2, resolved_on_time: 1, resolution_compliance: 0.5,
	}), 'sla');
	eq(d.open, 1, 'open');
	eq(d.overdue, 1, 'overdue');
	eq(d.escalated, 1, 'escalated (the dashboard read escalates)');
	eq(JSON.stringify(d.by_state), '{"received":1,"resolved":2}', 'by state');
	eq(d.by_program.PKH, 3, 'by program');
	eq(Object.values(d.by_kecamatan).reduce((x, y) => x + y, 0), 3, 'by kecamatan');
	// the median of ~0 h and ~720 h is their mean, ~360 h
	const res = sql(h.db, `select resolved_ms - created_ms as dt from tickets where status = 'resolved' order by 1`);
	eq(d.median_resolution_hours.PKH, (res[0].dt + res[1].dt) / 2 / 3600000, 'median of two');
	assert(Math.abs(d.median_resolution_hours.PKH - 360) < 1, `about 360 h: ${d.median_resolution_hours.PKH}`);
	// the appeal reopens b: no longer counted as resolved
	const bph = sql(h.db, `select c.phone from tickets t join contacts c on c.id = t.contact_id where t.number = '${digits(b)}'`)[0].phone;
	const bs = await new KannelGet(h, { phone: bph }).send(`BANDING ${b}`);
	match(bs.text, /diterima/, 'appealed');
	r = await api(h.base, s, 'GET', '/api/dashboard');
	eq(r.json.sla.resolved, 1, 'appealed ticket not resolved');
	eq(r.json.sla.resolution_compliance, 1, 'a resolved on time');
	assert(r.json.median_resolution_hours.PKH < 1, 'median of a only');
	// weekly: 12 Mondays, oldest first; the three tickets in the week they were created
	const wk = r.json.weekly_new;
	eq(wk.length, 12, '12 weeks');
	const monday = (ms) => {
		const l = new Date(ms + 7 * 3600000);
		const back = (l.getUTCDay() + 6) % 7;
		return new Date(Date.UTC(l.getUTCFullYear(), l.getUTCMonth(), l.getUTCDate() - back)).toISOString().slice(0, 10);
	};
	for (let i = 1; i < wk.length; i++) eq(Date.parse(wk[i].week_start) - Date.parse(wk[i - 1].week_start), 7 * DAY, 'consecutive weeks');
	for (const w of wk) eq(new Date(Date.parse(w.week_start)).getUTCDay(), 1, 'weeks start on Monday');
	eq(wk.at(-1).week_start, monday(Date.now() + 30 * DAY), 'the last entry is this week');
	eq(monday(created.lo), monday(created.hi), 'created in one week (test setup)');
	eq(JSON.stringify(wk.filter((w) => w.count > 0)), JSON.stringify([{ week_start: monday(created.lo), count: 3 }]), 'weekly counts');
	// the escalation queue (supervisors'), filters
	r = await api(h.base, s, 'GET', '/api/tickets?escalated=1');
	eq(r.json.tickets.map((x) => x.number).join(), c, 'escalated filter');
});

test('procedure: WhatsApp past 24 h - the status goes as the template, the question by the SMS fallback', async (t) => {
	const mock = await t.mock();
	const wa = {
		name: 'wa', type: 'whatsapp', verify_token: 'verify-me', app_secret: 'wa-app-secret', access_token: 'EAAtoken',
		phone_number_id: '1234567890', api_base: 'http://127.0.0.1:9', sms_channel: 'at-sms',
		templates: { status_changed: { name: 'pintu_status', language: 'id', language_en: 'en' } },
	};
	const h = await t.server({ config: testConfig({ atBase: mock.url, extraChannels: [wa] }) });
	const { number } = await smsComplaint(new AtSms(h, mock));
	sql(h.db, `update tickets set channel = 'wa' where number = '${digits(number)}'`);
	const n0 = outbox(h.db, number).length;
	for (const [st, note] of [['registered', 'ok'], ['needs_info', 'Mohon kirim nomor KK Anda.']]) {
		const r = cli(['tickets', 'set-status', number, st, '--note', note, '--db', h.db, '--config', h.cfgPath]);
		eq(r.code, 0, `set-status ${st}: ${r.stderr}`);
	}
	const out = outbox(h.db, number).slice(n0);
	eq(out.map((m) => m.channel).join(), 'wa,wa,at-sms', `channels: ${JSON.stringify(out)}`);
	eq(out[1].body.charCodeAt(0), 0x1e, 'the status as a template row');
	match(out[1].body, /Perlu data tambahan/, 'the status label');
	match(out[2].body, new RegExp(`^Pengaduan ${number}: Mohon kirim nomor KK Anda\\. Mohon balas`), 'the question by SMS');
});

test('procedure: overdue tickets are escalated by the server on its own, with no one opening a list', async (t) => {
	const dir = tmpDir();
	const clock = path.join(dir, 'clock');
	fs.writeFileSync(clock, '0');
	const h = await t.server({ dir, env: { PINTU_CLOCK_OFFSET_FILE: clock, PINTU_ESCALATE_INTERVAL_MS: '200' } });
	const { number } = await smsComplaint(new KannelGet(h));
	const escalated = () => sql(h.db, `select t.escalated_ms, (select count(*) from ticket_events e where e.ticket_id = t.id and e.note = 'escalated') as n from tickets t where number = '${digits(number)}'`)[0];
	await new Promise((r) => setTimeout(r, 600));
	eq(escalated().escalated_ms, null, 'not escalated while within its due time');
	fs.writeFileSync(clock, String(6 * DAY)); // past the 2 working days of "received"
	const start = Date.now();
	while (escalated().n === 0 && Date.now() - start < 10000) await new Promise((r) => setTimeout(r, 100));
	const e = escalated();
	eq(e.n, 1, 'escalated once by the timer');
	assert(e.escalated_ms > 0, 'escalated_ms set');
	await new Promise((r) => setTimeout(r, 600));
	eq(escalated().n, 1, 'and only once');
});
