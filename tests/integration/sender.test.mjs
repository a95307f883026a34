// sender.test.mjs - the sender through the real binary: a restart while
// messages are in flight loses nothing and sends nothing twice; retry back-off
// read from the rows (next_attempt_ms - updated_ms) while the server's clock is
// moved forward (PINTU_CLOCK_OFFSET_FILE), never by sleeping.
//
// What this proves. The mock Africa's Talking API below holds its answers.
// Six residents write by SMS; their six replies are queued and all six send
// requests reach the mock and wait there. The mock then accepts two of them
// (answers 201 with a message id, and the answer is read by pintu: the rows
// become 'sent' with that id). Pintu gets SIGTERM while the other four are
// still held: it abandons those transfers (the mock sees the connections close
// before it answered, so for the provider these four were never accepted) and
// puts their rows back to 'queued' before it exits with 0. A new server on the
// same database then sends exactly those four, once each.
// At the end every resident got exactly one accepted reply at the mock, every
// outbound row is 'sent' and carries the id of the one accepted request: the
// two accepted before the restart were not sent again (their 'sent' record
// survived the restart), the four interrupted ones were not lost.
// What it cannot prove: a provider that accepted a request whose answer never
// reached us (a crash between the provider's accept and our commit) gets it
// again after the restart - delivery is at least once in that window (see the
// design comment of src/sender.c); a graceful SIGTERM does not open it.

import fs from 'node:fs';
import path from 'node:path';
import { createServer } from 'node:http';
import { test, assert, eq, testConfig, sql, waitUntil, phone, sleep, tmpDir, AtSms } from './lib.mjs';

/** A mock AT send API whose answers can be held back; every request is kept
 * with its fate: 'held', 'accepted' (our answer was written out), 'abandoned'
 * (the client closed the connection before we answered). */
async function startHoldingAT() {
	const reqs = [];
	let holding = true;
	let idn = 0;
	let failStatus = 0;
	const answer = (r) => {
		if (r.state !== 'held') return;
		if (failStatus) {
			r.state = 'refused';
			r.res.writeHead(failStatus, { 'content-type': 'text/plain' });
			r.res.end('temporary failure');
			return;
		}
		r.state = 'answering';
		r.id = `ATXid_${++idn}`;
		r.res.writeHead(201, { 'content-type': 'application/json' });
		r.res.end(JSON.stringify({ SMSMessageData: { Message: 'Sent to 1/1 Total Cost: IDR 0',
			Recipients: [{ statusCode: 101, number: r.to, status: 'Success', cost: 'IDR 0', messageId: r.id }] } }));
	};
	const server = createServer((req, res) => {
		let body = '';
		req.setEncoding('utf8');
		req.on('data', (c) => (body += c));
		req.on('end', () => {
			if (req.method !== 'POST' || req.url !== '/version1/messaging') {
				res.writeHead(404);
				res.end();
				return;
			}
			const f = Object.fromEntries(new URLSearchParams(body));
			const r = { to: f.to, message: f.message, state: 'held', res, id: null };
			reqs.push(r);
			res.on('finish', () => { if (r.state === 'answering') r.state = 'accepted'; });
			res.on('close', () => { if (r.state === 'held') r.state = 'abandoned'; });
			if (!holding) answer(r);
		});
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	return {
		url: `http://127.0.0.1:${server.address().port}`,
		reqs,
		/** Accept the held requests for these numbers. */
		accept(numbers) { for (const r of reqs) if (numbers.includes(r.to)) answer(r); },
		/** Answer with this HTTP status instead of accepting (0: accept). */
		failWith(status) { failStatus = status; },
		/** Answer everything from now on. */
		open() { holding = false; for (const r of reqs) answer(r); },
		close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
	};
}

test('sender: a restart while messages are in flight loses nothing and sends nothing twice', async (t) => {
	const at = await startHoldingAT();
	t.cleanup(() => at.close());
	const config = testConfig({ atBase: at.url });
	const h1 = await t.server({ config });
	const phones = Array.from({ length: 6 }, () => phone());
	// six residents write; six replies are queued and sent to the (holding) provider
	for (const p of phones) {
		const r = await new AtSms(h1, null, { phone: p }).post('MENU');
		eq(r.status, 200, 'inbound SMS accepted');
	}
	await waitUntil(() => phones.every((p) => at.reqs.some((r) => r.to === p && r.state === 'held')), 15000,
		'all six sends held at the provider');
	const outRows = (db) => sql(db, `select id, peer, status, provider_id, attempts from messages where direction = 'out' order by id`);
	eq(outRows(h1.db).filter((r) => r.status === 'sending').length, 6, 'six rows in flight');

	// the provider accepts two; pintu records them as sent
	const early = phones.slice(0, 2);
	at.accept(early);
	await waitUntil(() => outRows(h1.db).filter((r) => r.status === 'sent').length === 2, 10000, 'two sends recorded');
	eq(at.reqs.filter((r) => r.state === 'accepted').length, 2, 'two accepted at the provider');

	// SIGTERM with four requests still held
	const ex = await h1.stop();
	eq(ex.code, 0, `clean exit (${JSON.stringify(ex)})`);
	await waitUntil(() => at.reqs.filter((r) => r.state === 'abandoned').length === 4, 5000, 'four connections closed by pintu');
	let rows = outRows(h1.db);
	eq(rows.length, 6, 'six outbound rows');
	for (const r of rows) {
		if (early.includes(r.peer)) {
			eq(r.status, 'sent', 'accepted before the restart: sent');
			assert(r.provider_id, 'with the provider id');
		} else {
			eq(r.status, 'queued', 'interrupted: queued again, not left sending');
		}
	}

	// restart on the same database; the provider answers at once now
	at.open();
	const h2 = await t.server({ config, db: h1.db, dir: h1.dir });
	await waitUntil(() => outRows(h2.db).every((r) => r.status === 'sent'), 15000, 'every row sent after the restart');
	await sleep(500); // a duplicate would have time to show up
	rows = outRows(h2.db);
	eq(rows.length, 6, 'still six outbound rows');
	for (const p of phones) {
		const accepted = at.reqs.filter((r) => r.to === p && r.state === 'accepted');
		eq(accepted.length, 1, `exactly one reply accepted for resident ${phones.indexOf(p)}`);
		const row = rows.find((r) => r.peer === p);
		eq(row?.status, 'sent', 'its row is sent');
		eq(row?.provider_id, accepted[0].id, 'with the id of the one accepted request');
	}
	eq(at.reqs.filter((r) => r.state === 'held' || r.state === 'answering').length, 0, 'nothing left unanswered');
	eq(at.reqs.length, 10, 'six first sends + four resends of the interrupted ones, nothing else');
});

test('sender: back-off doubles per attempt, read from the queue\'s own clock (moved, not slept)', async (t) => {
	const at = await startHoldingAT();
	t.cleanup(() => at.close());
	const config = testConfig({ atBase: at.url });
	// one minute base: waiting for a retry in real time would take minutes
	config.sender = { max_attempts: 4, base_backoff_ms: 60000, max_backoff_ms: 600000, timeout_ms: 5000 };
	const dir = tmpDir();
	t.cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
	const clock = path.join(dir, 'clock-offset');
	fs.writeFileSync(clock, '0');
	const h = await t.server({ config, dir, env: { PINTU_CLOCK_OFFSET_FILE: clock } });
	at.failWith(500);
	at.open();
	const p = phone();
	eq((await new AtSms(h, null, { phone: p }).post('MENU')).status, 200, 'inbound SMS accepted');
	const row = () => sql(h.db, `select id, status, attempts, next_attempt_ms, updated_ms, last_error from messages where direction = 'out' and peer = '${p}'`)[0];
	let offset = 0;
	for (let attempt = 1; attempt <= 3; attempt++) {
		const r = await waitUntil(() => { const x = row(); return x && x.attempts === attempt && x.status === 'queued' ? x : null; }, 10000,
			`attempt ${attempt} failed and queued again`);
		const delay = r.next_attempt_ms - r.updated_ms;
		const want = 60000 * 2 ** (attempt - 1);
		assert(delay >= want * 0.8 - 5 && delay <= want * 1.2 + 5, `attempt ${attempt}: back-off ${delay} ms, want ${want} +-20%`);
		eq(at.reqs.filter((x) => x.to === p).length, attempt, `${attempt} request(s) so far, no early retry`);
		// move the server's clock just past the due time; the sender retries on its next scan
		offset += r.next_attempt_ms - r.updated_ms + 1000;
		fs.writeFileSync(clock, String(offset));
	}
	// the fourth attempt is the last: dead
	await waitUntil(() => row()?.status === 'dead', 10000, 'dead after max_attempts');
	eq(row().attempts, 4, 'four attempts');
	eq(at.reqs.filter((x) => x.to === p).length, 4, 'four requests in all');
});
