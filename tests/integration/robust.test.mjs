// robust.test.mjs - HTTP errors and limits, invalid bytes, re-opening a
// database, refusing a newer one, SIGTERM while requests are in flight.

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
	test, assert, eq, match, sleep, waitUntil, AtUssd, KannelGet, ussdComplaint, testConfig, sql, cli, tmpDir, digits, phone, uid, opt, TICKET_RE, checkUssd, ROOT, NIK_A, DIALOGS,
} from './lib.mjs';

test('http: health, 404, 405, 413, 400 and 403', async (t) => {
	const h = await t.server({ config: testConfig({ maxBody: 4096 }) });
	const hl = await h.request('GET', '/health');
	eq(hl.status, 200, 'health');
	eq(JSON.parse(hl.text).status, 'ok', 'health body');

	eq((await h.request('GET', '/no/such/path')).status, 404, 'unknown path');
	eq((await h.postForm('/webhooks/no-such-channel', { a: 'b' })).status, 404, 'unknown channel');
	eq((await h.request('PUT', '/webhooks/at-ussd', 'x=1', { 'content-type': 'application/x-www-form-urlencoded' })).status, 405, 'PUT');
	eq((await h.request('DELETE', '/webhooks/at-ussd')).status, 405, 'DELETE');

	const ph = phone();
	const big = new URLSearchParams({ sessionId: uid(), serviceCode: '*123#', phoneNumber: ph, networkCode: '1', text: 'x'.repeat(10000) }).toString();
	const r413 = await h.postForm('/webhooks/at-ussd', big);
	eq(r413.status, 413, 'body over max_body_bytes');

	const r400 = await h.postForm('/webhooks/at-ussd', { sessionId: uid(), serviceCode: '*123#', networkCode: '1', text: '' });
	eq(r400.status, 400, 'missing phoneNumber');
	assert(r400.text.length > 0 && r400.text.length < 200, `short reason: ${JSON.stringify(r400.text)}`);
	match(r400.text, /phoneNumber/, 'the reason names the field');

	const bad = await h.postForm('/webhooks/at-ussd', { sessionId: uid(), serviceCode: '*123#', phoneNumber: 'abc', networkCode: '1', text: '' });
	eq(bad.status, 400, 'invalid phoneNumber');

	const json = await h.request('POST', '/webhooks/at-ussd', '{"sessionId":"x"}', { 'content-type': 'application/json' });
	eq(json.status, 400, 'JSON where a form is expected');

	const forb = await h.postForm('/webhooks/blocked', { sessionId: uid(), serviceCode: '*123#', phoneNumber: ph, networkCode: '1', text: '' });
	eq(forb.status, 403, 'address outside allow_from');

	// nothing of the refused requests was stored
	eq(sql(h.db, `select count(*) as n from messages`)[0].n, 0, 'no message rows from refused requests');
	// and the server still serves
	const u = new AtUssd(h);
	const s = await u.dial();
	assert(opt(s.text, /Sampaikan pengaduan/i), 'still serving');
});

test('http: invalid UTF-8 bytes in text give 200 and no crash', async (t) => {
	const h = await t.server();
	const ph = phone();
	const sid = uid('utf');
	const base = `sessionId=${sid}&serviceCode=%2A123%23&phoneNumber=${encodeURIComponent(ph)}&networkCode=51010`;
	const first = checkUssd(await h.postForm('/webhooks/at-ussd', `${base}&text=`));
	assert(!first.end, 'first screen');
	for (const bytes of ['%FF%FE', '%C3%28', '%E2%82', '%F0%9F%98', '%ED%A0%80', '%C0%AF', '1%00%FF']) {
		const r = await h.postForm('/webhooks/at-ussd', `${base}&text=${bytes}`);
		eq(r.status, 200, `USSD text ${bytes}`);
		const s = checkUssd(r);
		if (!s.end) match(s.text, /.+/, 'a screen');
	}
	const k = new KannelGet(h);
	for (const bytes of ['%FF%FE', 'ADUAN%20%C3%28abc', 'CEK%20%E2%82', '%00']) {
		const r = await h.request('GET', `/webhooks/kannel?sender=${encodeURIComponent(k.phone)}&to=1708&text=${bytes}&id=${uid('k')}`);
		eq(r.status, 200, `kannel text ${bytes}`);
		assert(!r.text.includes('\uFFFD\uFFFD\uFFFD'), 'no echo of garbage');
	}
	// raw invalid bytes in a Kannel post-url body
	const r = await h.request('POST', `/webhooks/kannel?sender=${encodeURIComponent(k.phone)}&id=${uid('k')}`,
		Buffer.from([0x41, 0x44, 0x55, 0x41, 0x4e, 0x20, 0xff, 0xc3, 0x28, 0x80]), { 'content-type': 'text/plain; charset="UTF-8"' });
	eq(r.status, 200, 'kannel post-url invalid body');
	eq((await h.request('GET', '/health')).status, 200, 'still healthy');
});

test('store: a database created by this binary is re-opened with its tickets', async (t) => {
	const dir = tmpDir();
	const db = path.join(dir, 'keep.db');
	t.cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
	const h1 = await t.server({ dir, db });
	const { number, ussd } = await ussdComplaint(h1);
	const r1 = await h1.stop();
	eq(r1.code, 0, 'first server exit code');
	const known = Number(/PT_STORE_SCHEMA_VERSION (\d+)/.exec(fs.readFileSync(path.join(ROOT, 'include/pintu/store.h'), 'utf8'))[1]);
	eq(sql(db, 'pragma user_version')[0].user_version, known, 'user_version');
	const h2 = await t.server({ dir, db });
	// the ticket is there and its status can be checked
	const u = new AtUssd(h2, { phone: ussd.phone });
	const m = await u.dial();
	await u.send(opt(m.text, /Cek status/i));
	const s = await u.send(digits(number));
	match(s.text, /Diterima/, 'status after re-open');
	// a new ticket gets a different number
	const b = await ussdComplaint(h2);
	assert(b.number !== number, 'a new number');
	eq(sql(db, 'select count(*) as n from tickets')[0].n, 2, 'two tickets');
	const l = cli(['tickets', 'list', '--db', db, '--json']);
	eq(l.code, 0, `tickets list after re-open: ${l.stderr}`);
	eq(JSON.parse(l.stdout).length, 2, 'two tickets listed');
});

test('store: a database with user_version 99 is refused with a clear message', async (t) => {
	const dir = tmpDir();
	const db = path.join(dir, 'future.db');
	execFileSync('sqlite3', [db, 'create table x(a); pragma user_version = 99;']);
	const cfg = path.join(dir, 'c.json');
	fs.writeFileSync(cfg, JSON.stringify(testConfig()));
	const r = cli(['serve', '--config', cfg, '--db', db, '--listen', '127.0.0.1:0'], { timeout: 15000 });
	assert(r.code !== 0 && r.code !== null, `serve must fail (code ${r.code}, signal ${r.signal})`);
	match(r.stderr + r.stdout, /99/, 'names the version');
	match(r.stderr + r.stdout, /newer|upgrade/i, 'says it is newer');
	const l = cli(['tickets', 'list', '--db', db, '--json']);
	assert(l.code !== 0, 'tickets list must fail too');
	match(l.stderr, /newer|upgrade/i, 'tickets list message');
	eq(sql(db, 'pragma user_version')[0].user_version, 99, 'the database is untouched');
	t.cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
});

test('shutdown: SIGTERM while requests are in flight loses no acknowledged ticket', async (t) => {
	const h = await t.server();
	// learn the inputs of a full complaint once
	const probe = await ussdComplaint(h);
	// the inputs up to the step that creates the ticket (a question may follow it)
	const k = probe.ussd.screens.findIndex((x) => TICKET_RE.test(x.text));
	assert(k > 0, 'the probe saw its ticket number');
	const inputs = probe.ussd.inputs.slice(0, k);
	const N = 60;
	// bring N sessions to the last screen before the ticket
	const sessions = [];
	for (let i = 0; i < N; i++) sessions.push(new AtUssd(h));
	// a NIK of its own per session: the same NIK and program would be linked as a duplicate
	const nikOf = (i) => NIK_A.slice(0, 12) + String(1000 + i).padStart(4, '0');
	await Promise.all(sessions.map(async (u, i) => {
		await u.dial();
		for (const x of inputs.slice(0, -1).map((v) => (v === NIK_A ? nikOf(i) : v))) {
			const s = await u.send(x);
			assert(!s.end && !TICKET_RE.test(s.text), `replayed step must continue: ${s.text}`);
		}
	}));
	// background load: workers walking new sessions until the server is gone
	let stopped = false;
	const load = [];
	for (let w = 0; w < 64; w++) {
		load.push((async () => {
			while (!stopped) {
				const u = new AtUssd(h);
				try {
					await u.dial();
					for (const x of inputs.slice(0, 4)) await u.send(x);
				} catch {
					return;
				}
			}
		})());
	}
	// send the final confirmations one after another (not awaiting), SIGTERM
	// once a third of them were sent, keep sending while the server shuts down
	const finals = [];
	for (let i = 0; i < N; i++) {
		finals.push(sessions[i].send(inputs.at(-1)).then((s) => ({ ok: true, s }), (e) => ({ ok: false, e })));
		if (i === Math.floor(N / 3)) h.child.kill('SIGTERM');
		await new Promise((r) => setTimeout(r, 2));
	}
	const results = await Promise.all(finals);
	const ex = await h.exit;
	stopped = true;
	await Promise.all(load);
	eq(ex.code, 0, `exit code after SIGTERM (signal ${ex.signal})`);
	const acked = results.filter((r) => r.ok && TICKET_RE.test(r.s.text)).map((r) => TICKET_RE.exec(r.s.text)[1]);
	t.log(`acknowledged ${acked.length} of ${N}`);
	assert(acked.length > 0, 'some confirmations were answered before the shutdown');
	for (const r of results) if (r.ok) assert(TICKET_RE.test(r.s.text), `an answered final step carries a ticket: ${r.s.text}`);
	const numbers = new Set(sql(h.db, 'select number from tickets').map((x) => x.number));
	for (const n of acked) assert(numbers.has(digits(n)), `acknowledged ticket ${n} is in the database`);
	assert(numbers.has(digits(probe.number)), 'the probe ticket is in the database');
});

test('http: a chunked body past the limit is cut off (413 or close) before it ends', async (t) => {
	const h = await t.server({ config: testConfig({ maxBody: 4096 }) });
	const net = await import('node:net');
	const sock = net.connect(h.port, '127.0.0.1');
	let got = '';
	let closed = false;
	sock.setEncoding('utf8');
	sock.on('data', (d) => (got += d));
	sock.on('close', () => (closed = true));
	sock.on('error', () => (closed = true));
	await new Promise((r) => sock.on('connect', r));
	sock.write('POST /webhooks/at-ussd HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n');
	// keep streaming (bounded: 64 chunks of 1 KiB) and never send the last chunk
	const chunk = 'x'.repeat(1024);
	let sent = 0;
	for (; sent < 64 && !closed && !got.includes('413'); sent++) {
		sock.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
		await new Promise((r) => setTimeout(r, 10));
	}
	for (let i = 0; i < 100 && !closed && !got.includes('413'); i++) await new Promise((r) => setTimeout(r, 20));
	sock.destroy();
	assert(got.startsWith('HTTP/1.1 413') || (closed && got === ''),
		`refused (413 or connection closed) while the body was still streaming; got ${JSON.stringify(got.slice(0, 40))}`);
	assert(sent < 64, `cut off after ${sent} KiB of a 64 KiB stream (limit 4 KiB)`);
	const u = new AtUssd(h);
	assert(opt((await u.dial()).text, /Sampaikan pengaduan/i), 'still serving');
});

test('ussd: an aggregator reusing a session id for another phone never gets the first caller\'s screens', async (t) => {
	const h = await t.server();
	const sid = uid('shared');
	const a = new AtUssd(h, { sessionId: sid });
	const b = new AtUssd(h, { sessionId: sid });
	await a.dial();
	const aStatus = await a.send('2'); // A: check status
	await b.dial();
	const bFirst = await b.send('1'); // B: file a complaint
	assert(aStatus.text !== bFirst.text, 'B got its own answer, not A\'s stored screen');
	assert(opt(bFirst.text, /sendiri|Saya/i), `B is in the complaint dialog: ${bFirst.text}`);
	const rows = sql(h.db, `select count(*) as n from messages where direction = 'in' and peer = '${b.phone}'`)[0].n;
	eq(rows, 2, 'both of B\'s rounds were recorded');
});

test('kannel: a delivery report with an unknown type or a foreign id is acknowledged and changes nothing', async (t) => {
	const mock = await t.mock();
	const h = await t.server({ atBase: mock.url });
	// an AT SMS that the sender delivers: its row belongs to channel at-sms
	const u = new AtUssd(h);
	await ussdComplaint(h, { ussd: u });
	const out = await (async () => {
		for (let i = 0; i < 100; i++) {
			const r = sql(h.db, `select id, status from messages where direction = 'out' and channel = 'at-sms' and status = 'sent'`);
			if (r.length) return r[0];
			await new Promise((res) => setTimeout(res, 50));
		}
		return null;
	})();
	assert(out, 'the SMS confirmation was sent');
	const r1 = await h.request('GET', `/webhooks/kannel/status?id=${out.id}&type=1`);
	eq(r1.status, 200, 'report for another channel\'s message is acknowledged');
	eq(sql(h.db, `select status from messages where id = ${out.id}`)[0].status, 'sent', 'and changes nothing');
	const r2 = await h.request('GET', `/webhooks/kannel/status?id=${out.id}&type=32`);
	eq(r2.status, 200, 'unknown report type acknowledged (no retry loop)');
});

test('metrics: per-channel inbound, dialog steps, sends and queue depth', async (t) => {
	const mock = await t.mock();
	const h = await t.server({ atBase: mock.url });
	const { ussd, screens } = await ussdComplaint(h);
	await mock.waitFor(ussd.phone, 1);
	let m = '';
	for (let i = 0; i < 50; i++) {
		m = (await h.request('GET', '/metrics')).text;
		if (/pintu_channel_sends_total\{channel="at-sms",result="sent"\} [1-9]/.test(m)) break;
		await new Promise((r) => setTimeout(r, 100));
	}
	const val = (re) => Number((m.match(re) || [])[1]);
	eq(val(/pintu_channel_inbound_total\{channel="at-ussd"\} (\d+)/), screens.length, 'one inbound per USSD round');
	eq(val(/pintu_channel_dialog_steps_total\{channel="at-ussd"\} (\d+)/), screens.length, 'one step per round');
	eq(val(/pintu_channel_sends_total\{channel="at-sms",result="sent"\} (\d+)/), 1, 'the SMS confirmation sent');
	eq(val(/pintu_channel_queue_depth\{channel="at-sms"\} (\d+)/), 0, 'nothing left queued');
	eq(val(/pintu_channel_inbound_total\{channel="kannel"\} (\d+)/), 0, 'other channels untouched');
});

// Webhook connections are suspended while their job commits and resumed by the
// syncer: both of libmicrohttpd's event loops must carry that, with many
// requests in flight at once on kept-alive connections.
for (const loop of ['poll', 'epoll']) {
	test(`http: the ${loop} event loop answers concurrent suspended webhooks`, async (t) => {
		const config = testConfig();
		config.limits.event_loop = loop;
		const h = await t.server({ config });
		await waitUntil(() => h.err.includes('event=started'), 5000, 'the started log line');
		match(h.err, new RegExp(`event=started [^\\n]*event_loop=${loop}\\b`), 'the loop in use is logged');
		// libmicrohttpd's workers hold an epoll descriptor each only with epoll
		const fdDir = `/proc/${h.child.pid}/fd`;
		const epfds = fs.readdirSync(fdDir).filter((f) => {
			try { return fs.readlinkSync(path.join(fdDir, f)) === 'anon_inode:[eventpoll]'; } catch { return false; }
		}).length;
		if (loop === 'poll') eq(epfds, 0, 'no epoll descriptor with poll');
		else assert(epfds >= 2, `an epoll descriptor per worker (found ${epfds})`);
		const n = 12;
		const done = await Promise.all(Array.from({ length: n }, () => ussdComplaint(h)));
		const numbers = new Set(done.map((d) => digits(d.number)));
		eq(numbers.size, n, 'one distinct ticket per conversation');
		const rows = sql(h.db, 'select number from tickets');
		eq(rows.length, n, 'ticket rows');
		for (const r of rows) assert(numbers.has(r.number), `ticket ${r.number} was answered`);
		// a provider retry of the last step is answered the same, nothing new
		const u = done[0].ussd;
		const again = checkUssd(await u.raw(u.inputs.join('*')), u.inputs);
		eq(again.text, done[0].last.text, 'retry answered like the original');
		eq(sql(h.db, 'select count(*) as n from tickets')[0].n, n, 'no ticket from the retry');
		// connections are handed to the HTTP threads in turn
		const m = (await h.request('GET', '/metrics')).text;
		const per = [...m.matchAll(/^pintu_http_connections_total\{thread="(\d+)"\} (\d+)$/gm)].map((x) => Number(x[2]));
		eq(per.length, 2, 'one connection count per HTTP thread');
		assert(per[0] + per[1] >= 2, `connections counted: ${per}`);
		assert(Math.abs(per[0] - per[1]) <= 1, `connections spread evenly over the threads: ${per}`);
	});
}

// Every thread carries its role's name, so that `top -H`, `perf` and
// tests/bench/profile.sh can tell the writer from the syncer.
test('threads are named by their role', async (t) => {
	const h = await t.server({});
	await waitUntil(() => h.err.includes('event=started'), 5000, 'the started log line');
	const taskDir = `/proc/${h.child.pid}/task`;
	const names = {};
	for (const tid of fs.readdirSync(taskDir)) {
		let name;
		try { name = fs.readFileSync(path.join(taskDir, tid, 'comm'), 'utf8').trim(); } catch { continue; }
		names[name] = (names[name] || 0) + 1;
	}
	const want = { 'pt-writer': 1, 'pt-syncer': 1, 'pt-checkpoint': 1, 'pt-accept': 1, 'pt-sender': 1,
		'pt-broadcast': 1, 'pt-web': 2, 'MHD-single': 2 };
	for (const [name, n] of Object.entries(want))
		eq(names[name] || 0, n, `threads named ${name} (all: ${JSON.stringify(names)})`);
});

// One failed message among others in the same transaction: the writer rolls the
// transaction back, undoes and runs the others again (each once, from the rows
// in the database, not from the inbox's session cache), and answers them; the failed one gets 503 and leaves nothing. The syncer is held 0.6 s
// per sync (PINTU_TEST_SYNC_DELAY_US) so the messages sent meanwhile share a
// transaction; a trigger makes the message with the text BOOM fail in SQLite.
test('store: a message failing in a shared transaction leaves the others answered, stored and counted once', async (t) => {
	const config = testConfig();
	config.limits.messages_per_minute = 3;
	const h = await t.server({ config, env: { PINTU_TEST_SYNC_DELAY_US: '600000' } });
	const metrics = async () => {
		const m = await h.metrics();
		return {
			steps: m.pintu_dialog_steps_total, errors: m.pintu_inbox_errors_total,
			limited: m.pintu_inbound_rate_limited_total, rollbacks: m.pintu_store_shared_rollbacks_total,
		};
	};
	const [a, b, c, d, e] = Array.from({ length: 5 }, () => new KannelGet(h));
	const menu = await b.send('MENU'); // b's first message of the minute
	match(menu.text, /Sampaikan pengaduan/, 'the main menu');
	execFileSync('sqlite3', ['-cmd', '.timeout 5000', h.db,
		"CREATE TRIGGER boom BEFORE INSERT ON messages WHEN NEW.body = 'BOOM' " +
		"BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"]);
	const before = await metrics();
	// a's commit starts a sync; b, c, then d, then e run while it lasts, in one transaction
	const pa = a.raw('MENU');
	await sleep(150);
	const pb = b.raw('1'); // depends on b's session: its row must come from the database when run again
	const pc = c.raw('MENU');
	await sleep(150);
	const dId = uid('kboom');
	const pd = d.raw('BOOM', dId);
	await sleep(100);
	const pe = e.raw('MENU');
	const [ra, rb, rc, rd, re] = await Promise.all([pa, pb, pc, pd, pe]);
	for (const [r, who] of [[ra, 'a'], [rc, 'c'], [re, 'e']]) {
		eq(r.status, 200, `${who} answered`);
		match(r.text, /Sampaikan pengaduan/, `${who} got the main menu`);
	}
	// b chose 1 from the main menu once: the complaint's first question (a
	// session row remembered from the rolled-back run would take it one further)
	eq(rb.status, 200, 'b answered');
	match(rb.text, /untuk siapa/i, 'b got the complaint\'s first question');
	eq(rd.status, 503, 'the failed message asks for a retry');
	const after = await metrics();
	eq(after.rollbacks - before.rollbacks, 1, 'one shared rollback');
	eq(after.steps - before.steps, 4, 'each answered message counted as one dialog step, not twice');
	eq(after.errors - before.errors, 1, 'one failed message');
	const inbound = (p) => sql(h.db, `select m.contact_id, c.phone from messages m left join contacts c on c.id = m.contact_id
		where m.direction = 'in' and m.channel = 'kannel' and m.peer = '${p.phone}'`);
	for (const [p, n, who] of [[a, 1, 'a'], [b, 2, 'b'], [c, 1, 'c'], [d, 0, 'd'], [e, 1, 'e']]) {
		const rows = inbound(p);
		eq(rows.length, n, `${who}: inbound rows`);
		for (const r of rows) eq(r.phone, p.phone, `${who}: the message belongs to its own contact`);
	}
	eq(sql(h.db, `select count(*) as n from contacts where phone = '${d.phone}'`)[0].n, 0, 'no contact for the failed message');
	// b's rolled-back round was counted once by the rate limiter: its third
	// message of the minute is answered, the fourth gets the notice
	const third = await b.send('MENU');
	match(third.text, /Sampaikan pengaduan/, 'b\'s third message answered');
	eq((await metrics()).limited, after.limited, 'not rate limited at the third message');
	const fourth = await b.send('MENU');
	match(fourth.text, /terlalu banyak/, 'b\'s fourth message gets the rate-limit notice');
	eq((await metrics()).limited, after.limited + 1, 'rate limited at the fourth message');
	// the provider's retry of d, once the fault is gone, is processed like new
	execFileSync('sqlite3', ['-cmd', '.timeout 5000', h.db, 'DROP TRIGGER boom']);
	const retry = await d.raw('BOOM', dId);
	eq(retry.status, 200, 'the retry is answered');
	const rows = inbound(d);
	eq(rows.length, 1, 'd: one inbound row after the retry');
	eq(rows[0].phone, d.phone, 'd: the message belongs to its own contact');
});

// A dialog step that fails for a reason a retry would meet again (here: an
// action outcome the dialog file does not handle) is rolled back and the
// message is recorded once more with an apology: the resident gets the
// apology, the session stays where it was, and the message counts once (as an
// error, not as a dialog step).
test('dialog: a step that cannot go on is answered with an apology, recorded once and counted once', async (t) => {
	const dir = tmpDir('pintu-dlg-');
	t.cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
	for (const f of fs.readdirSync(DIALOGS)) fs.copyFileSync(path.join(DIALOGS, f), path.join(dir, f));
	const flow = JSON.parse(fs.readFileSync(path.join(dir, 'flow.json'), 'utf8'));
	delete flow.nodes.lookup.outcomes.office; // a kelurahan without a Puskesos has nowhere to go
	fs.writeFileSync(path.join(dir, 'flow.json'), JSON.stringify(flow));
	const config = testConfig();
	config.dialogs = dir;
	const h = await t.server({ config });
	const metrics = async () => {
		const m = await h.metrics();
		return { messages: m.pintu_inbound_messages_total, steps: m.pintu_dialog_steps_total, errors: m.pintu_inbox_errors_total };
	};
	const before = await metrics();
	const u = new AtUssd(h);
	let s = await u.dial();
	s = await u.send(opt(s.text, /Alur layanan/));
	s = await u.send(opt(s.text, /Cari Puskesos/));
	s = await u.send(opt(s.text, /Jekan Raya/));
	const kel = opt(s.text, /Petuk Katimpun/);
	assert(kel, `Petuk Katimpun is offered: ${s.text}`);
	const sorry = await u.send(kel);
	eq(sorry.text, 'Maaf, terjadi gangguan. Silakan coba lagi nanti.', 'the apology');
	assert(sorry.end, 'the apology ends the USSD session');
	const after = await metrics();
	eq(after.messages - before.messages, 5, 'five messages, the failed one counted once');
	eq(after.steps - before.steps, 4, 'four dialog steps: the failed one is not one');
	eq(after.errors - before.errors, 1, 'one error');
	const rows = sql(h.db, `select reply from messages where direction = 'in' and peer = '${u.phone}' order by id`);
	eq(rows.length, 5, 'one inbound row per round');
	match(rows[4].reply, /^END Maaf, terjadi gangguan\./, 'the apology is stored as the reply of the failed round');
	// the aggregator's retry of that round gets the same answer and stores nothing
	const again = checkUssd(await u.raw(u.inputs.join('*')), u.inputs);
	eq(again.text, sorry.text, 'the retry is answered with the stored apology');
	eq(sql(h.db, `select count(*) as n from messages where direction = 'in' and peer = '${u.phone}'`)[0].n, 5, 'no row from the retry');
});
