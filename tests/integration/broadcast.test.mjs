// broadcast.test.mjs - broadcasts through the real binary and a mock Africa's
// Talking send API: the API's approval rule and preview (UCS-2 warning), the
// pump sending at the channel's rate with a dialog reply overtaking the
// backlog, pause/resume/cancel, stopped numbers never receiving it, quiet
// hours held with the server's own clock (PINTU_CLOCK_OFFSET_FILE, never by
// sleeping through them), and a restart in the middle of a broadcast that
// sends nobody the message twice.
//
// Subscribers are written straight into the subscriptions table (the import
// CLI is tested with its own module). The office is at UTC+7; each test pins
// the server's clock to an office time through the offset file.

import fs from 'node:fs';
import path from 'node:path';
import { test, assert, eq, testConfig, sql, waitUntil, sleep, tmpDir, AtSms, cli } from './lib.mjs';
import { staffSession, api } from './staff.mjs';

const OFFICE_OFFSET_MIN = 420;

/** The offset (ms) that moves the real clock to the next office-local hh:mm. */
function offsetTo(hh, mm) {
	const now = Date.now();
	const local = new Date(now + OFFICE_OFFSET_MIN * 60000);
	const target = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), hh, mm)
		- OFFICE_OFFSET_MIN * 60000;
	return target - now + (target < now ? 86400000 : 0);
}

function config(mock, rate, extra = {}) {
	const c = testConfig({ atBase: mock.url });
	for (const ch of c.channels) if (ch.name === 'at-sms') ch.rate_per_s = rate;
	c.broadcasts = { quiet_hours: '21:00-07:00', ...extra };
	return c;
}

const num = (i) => `+62813${String(i).padStart(7, '0')}`;

/** n subscribers of PKH in Pahandut on at-sms (every 10th English); stopped: indexes to STOP. */
function addSubscribers(db, n, { from = 0, stopped = [] } = {}) {
	const rows = [];
	for (let i = from; i < from + n; i++) {
		const stop = stopped.includes(i) ? '1' : 'NULL';
		rows.push(`('${num(i)}', 'at-sms', '${i % 10 === 0 ? 'en' : 'id'}', 'Pahandut', 'Pahandut', 'import', 0, 0, ${stop})`);
	}
	sql(db, 'INSERT INTO subscriptions (phone, channel, lang, kecamatan, kelurahan, source, created_ms, updated_ms, stopped_ms) VALUES ' + rows.join(','));
}

async function startWithClock(t, mock, rate, hh, mm, extra) {
	const dir = tmpDir();
	const clock = path.join(dir, 'clock-offset');
	fs.writeFileSync(clock, String(offsetTo(hh, mm)));
	const h = await t.server({ config: config(mock, rate, extra), dir, env: { PINTU_CLOCK_OFFSET_FILE: clock } });
	h.clock = clock;
	return h;
}

async function progress(h, s, id) {
	const r = await api(h.base, s, 'GET', `/api/broadcasts/${id}`);
	eq(r.status, 200, `GET broadcast ${id}: ${r.text}`);
	return r.json;
}

const bcSent = (mock, text) => mock.messages.filter((m) => m.message === text);

test('broadcast: approval, preview, rate-limited sending, replies first, pause/resume, STOP', async (t) => {
	const mock = await t.mock();
	const h = await startWithClock(t, mock, 40, 10, 0);
	addSubscribers(h.db, 200, { stopped: [7] });
	const author = await staffSession(h, 'back_office', 'bo');
	const sup = await staffSession(h, 'supervisor', 'sup');
	const front = await staffSession(h, 'front_office', 'fo');

	const textId = 'Penyaluran PKH tahap 3 mulai 12/08 di kantor Pos.';
	const textEn = 'PKH stage 3 payments start 12/08 at the Post office\u2019s counter.';
	let r = await api(h.base, front, 'POST', '/api/broadcasts', { text_id: textId });
	eq(r.status, 403, 'front office cannot create broadcasts');
	r = await api(h.base, author, 'POST', '/api/broadcasts', { text_id: textId, segment: { kecamatan: 'Nowhere' } });
	eq(r.status, 422, `unknown kecamatan: ${r.text}`);
	r = await api(h.base, author, 'POST', '/api/broadcasts',
		{ text_id: textId, text_en: textEn, segment: { program: 'PKH', kelurahan: 'Pahandut' } });
	eq(r.status, 201, `create: ${r.text}`);
	const id = r.json.id;
	eq(r.json.state, 'draft');
	eq(r.json.author, author.username);

	r = await api(h.base, author, 'GET', `/api/broadcasts/${id}/preview`);
	eq(r.status, 200, r.text);
	eq(r.json.total, 199, 'the stopped number is not in the audience');
	eq(r.json.channels[0].channel, 'at-sms');
	eq(r.json.channels[0].lang_en, 20);
	eq(r.json.texts.id.encoding, 'GSM-7');
	eq(r.json.texts.en.encoding, 'UCS-2');
	eq(r.json.texts.en.ucs2_position, 52);
	eq(r.json.texts.en.ucs2_codepoint, 'U+2019');
	eq(r.json.send_seconds, 5, '199 at 40/s');
	eq(r.json.quiet_now, false);

	r = await api(h.base, author, 'POST', `/api/broadcasts/${id}/send`);
	eq(r.status, 409, `send before approval: ${r.text}`);
	eq(r.json.error, 'state');
	r = await api(h.base, author, 'POST', `/api/broadcasts/${id}/approve`);
	eq(r.status, 403, 'a back-office author cannot approve');
	r = await api(h.base, sup, 'POST', `/api/broadcasts/${id}/approve`);
	eq(r.status, 200, r.text);
	eq(r.json.approved_by, sup.username);
	r = await api(h.base, author, 'POST', `/api/broadcasts/${id}/send`);
	eq(r.status, 200, r.text);
	eq(r.json.recipients, 199);
	const started = Date.now();

	// a resident writes while the backlog is long: the reply overtakes it
	await waitUntil(() => bcSent(mock, textId).length >= 10 ? true : null, 10000, 'the broadcast to start');
	const c = new AtSms(h, mock);
	await c.send('MENU');
	const p1 = await progress(h, author, id);
	assert(p1.progress.pending > 50, `the reply came while ${p1.progress.pending} recipients were still pending`);

	// pause: nothing more after at most a second
	r = await api(h.base, author, 'POST', `/api/broadcasts/${id}/pause`);
	eq(r.status, 200, r.text);
	await sleep(1000);
	const atPause = mock.messages.length;
	await sleep(1500);
	eq(mock.messages.length, atPause, 'nothing is sent while paused');
	r = await api(h.base, author, 'POST', `/api/broadcasts/${id}/pause`);
	eq(r.status, 409, 'pausing a paused broadcast');
	r = await api(h.base, author, 'POST', `/api/broadcasts/${id}/resume`);
	eq(r.status, 200, r.text);

	const done = await waitUntil(async () => {
		const p = await progress(h, author, id);
		return p.state === 'done' ? p : null;
	}, 30000, 'the broadcast to finish');
	eq(done.progress.sent + done.progress.delivered, 199, JSON.stringify(done.progress));
	eq(done.progress.pending + done.progress.queued + done.progress.failed, 0);
	// each subscriber exactly once, in their language; the stopped one never
	for (let i = 0; i < 200; i++) {
		const got = mock.messages.filter((m) => m.to === num(i) && (m.message === textId || m.message === textEn));
		eq(got.length, i === 7 ? 0 : 1, `messages to subscriber ${i}`);
		if (i !== 7) eq(got[0].message, i % 10 === 0 ? textEn : textId, `language of subscriber ${i}`);
	}
	// the rate limit held (40/s, with 2.5 s of pause): at least 199/40 s of sending
	assert(Date.now() - started >= 4500, 'sent at the rate limit, not at once');
	const audit = sql(h.db, `SELECT action FROM audit_log WHERE target = 'broadcast:${id}' ORDER BY id`).map((x) => x.action);
	eq(audit.join(','), 'broadcast.create,broadcast.approve,broadcast.send,broadcast.pause,broadcast.resume');

	// cancel a second one mid-way: the rest never goes out
	r = await api(h.base, author, 'POST', '/api/broadcasts', { text_id: 'Kedua: pendaftaran dibuka.' });
	const id2 = r.json.id;
	eq((await api(h.base, sup, 'POST', `/api/broadcasts/${id2}/approve`)).status, 200);
	eq((await api(h.base, author, 'POST', `/api/broadcasts/${id2}/send`)).status, 200);
	await waitUntil(() => bcSent(mock, 'Kedua: pendaftaran dibuka.').length >= 5 ? true : null, 10000, 'the second broadcast to start');
	r = await api(h.base, author, 'POST', `/api/broadcasts/${id2}/cancel`);
	eq(r.status, 200, r.text);
	await sleep(1000);
	const atCancel = bcSent(mock, 'Kedua: pendaftaran dibuka.').length;
	await sleep(1500);
	eq(bcSent(mock, 'Kedua: pendaftaran dibuka.').length, atCancel, 'nothing after cancel');
	const p2 = await progress(h, author, id2);
	eq(p2.state, 'cancelled');
	assert(p2.progress.cancelled > 100, `most recipients cancelled (${JSON.stringify(p2.progress)})`);
	eq(p2.progress.sent + p2.progress.delivered, atCancel, 'progress counts what the provider got');
});

test('broadcast: quiet hours hold sending on the server\'s own clock', async (t) => {
	const mock = await t.mock();
	const h = await startWithClock(t, mock, 200, 22, 0);
	addSubscribers(h.db, 30);
	const text = 'Info malam: kantor tutup besok.';
	let r = cli(['broadcast', 'create', '--db', h.db, '--config', h.cfgPath, '--text-id', text, '--author', 'budi']);
	eq(r.code, 0, r.stderr);
	const id = Number(/broadcast (\d+) created/.exec(r.stdout)[1]);
	r = cli(['broadcast', 'preview', String(id), '--db', h.db, '--config', h.cfgPath],
		{ env: { PINTU_CLOCK_OFFSET_FILE: h.clock } });
	eq(r.code, 0, r.stderr);
	assert(/waits for the end of quiet hours/.test(r.stdout), r.stdout);
	eq(cli(['broadcast', 'send', String(id), '--db', h.db, '--config', h.cfgPath]).code, 1, 'send before approval');
	eq(cli(['broadcast', 'approve', String(id), '--by', 'budi', '--db', h.db, '--config', h.cfgPath]).code, 1, 'author approves');
	eq(cli(['broadcast', 'approve', String(id), '--by', 'sari', '--db', h.db, '--config', h.cfgPath]).code, 0);
	r = cli(['broadcast', 'send', String(id), '--db', h.db, '--config', h.cfgPath]);
	eq(r.code, 0, r.stderr);
	await sleep(1500);
	eq(bcSent(mock, text).length, 0, 'nothing is sent in quiet hours');
	r = cli(['broadcast', 'status', String(id), '--db', h.db, '--config', h.cfgPath]);
	assert(/state=sending total=30 pending=30/.test(r.stdout), r.stdout);
	// 07:00 the next morning (22:00 + 9 h)
	fs.writeFileSync(h.clock, String(offsetTo(22, 0) + 9 * 3600000 + 1000));
	await waitUntil(() => bcSent(mock, text).length === 30 ? true : null, 15000, 'sending after quiet hours');
	await waitUntil(() => /state=done/.test(cli(['broadcast', 'status', String(id), '--db', h.db]).stdout) ? true : null,
		10000, 'done');
});

test('broadcast: a restart during a broadcast sends nobody the message twice', async (t) => {
	const mock = await t.mock();
	const dir = tmpDir();
	const clock = path.join(dir, 'clock-offset');
	fs.writeFileSync(clock, String(offsetTo(10, 0)));
	const cfg = config(mock, 100);
	const h1 = await t.server({ config: cfg, dir, env: { PINTU_CLOCK_OFFSET_FILE: clock } });
	addSubscribers(h1.db, 400);
	const text = 'Pemberitahuan: verifikasi DTKS minggu depan.';
	const cfgArgs = ['--db', h1.db, '--config', h1.cfgPath];
	const r = cli(['broadcast', 'create', '--text-id', text, '--program', 'PKH', '--author', 'budi', ...cfgArgs]);
	eq(r.code, 0, r.stderr);
	const id = /broadcast (\d+) created/.exec(r.stdout)[1];
	eq(cli(['broadcast', 'approve', id, '--by', 'sari', ...cfgArgs]).code, 0);
	eq(cli(['broadcast', 'send', id, ...cfgArgs]).code, 0);
	await waitUntil(() => bcSent(mock, text).length >= 100 ? true : null, 15000, '100 sent before the restart');
	eq((await h1.stop()).code, 0, 'clean exit');
	const before = bcSent(mock, text).length;
	assert(before < 400, `the restart came mid-way (${before} sent)`);
	await t.server({ config: cfg, dir, db: h1.db, env: { PINTU_CLOCK_OFFSET_FILE: clock } });
	await waitUntil(() => bcSent(mock, text).length >= 400 ? true : null, 20000, 'the rest after the restart');
	await waitUntil(() => /state=done/.test(cli(['broadcast', 'status', id, '--db', h1.db]).stdout) ? true : null, 10000, 'done');
	await sleep(500);
	const counts = new Map();
	for (const m of bcSent(mock, text)) counts.set(m.to, (counts.get(m.to) || 0) + 1);
	eq(counts.size, 400, 'everyone got it');
	const twice = [...counts.values()].filter((n) => n > 1).length;
	eq(twice, 0, 'nobody got it twice');
	const rows = sql(h1.db, `SELECT COUNT(*) AS n FROM messages WHERE broadcast_id = ${id}`);
	eq(rows[0].n, 400, 'one outbox row per recipient');
});
