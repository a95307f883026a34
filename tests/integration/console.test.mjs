// console.test.mjs - the staff console's files and the training simulator:
// embedded assets with the right types and caching, unknown files and
// traversal attempts 404 (sent raw, so nothing normalises the path), the
// security headers, and POST /api/simulator completing a complaint over USSD
// and over SMS through the same engine as the webhooks, plus its refusals.

import http from 'node:http';
import {
	test, assert, eq, match, complaintRules, walk, ticketDone, TICKET_RE, ticketRow, phone, digits, DESC,
} from './lib.mjs';

/** GET path exactly as written (no URL normalisation): {status, type, headers, text}. */
function rawGet(h, path) {
	return new Promise((resolve, reject) => {
		const req = http.request({ host: '127.0.0.1', port: h.port, method: 'GET', path }, (res) => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', (d) => (text += d));
			res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'] || '', headers: res.headers, text }));
		});
		req.setTimeout(10000, () => req.destroy(new Error(`timeout GET ${path}`)));
		req.on('error', reject);
		req.end();
	});
}

const sim = (h, body) => h.request('POST', '/api/simulator', typeof body === 'string' ? body : JSON.stringify(body),
	{ 'content-type': 'application/json' });

async function simJson(h, body) {
	const r = await sim(h, body);
	eq(r.status, 200, `simulator status (body ${r.text})`);
	match(r.type, /application\/json/, 'simulator content type');
	return JSON.parse(r.text);
}

test('console: assets are served with their types, the page with security headers', async (t) => {
	const h = await t.server();
	for (const p of ['/staff', '/staff/']) {
		const r = await rawGet(h, p);
		eq(r.status, 200, `${p} status`);
		match(r.type, /^text\/html; charset=utf-8/, `${p} type`);
		match(r.text, /<script type="module" src="\/staff\/app\.js"><\/script>/, `${p} loads the app`);
		match(r.headers['content-security-policy'] || '', /default-src 'self'/, `${p} CSP`);
		eq(r.headers['x-frame-options'], 'DENY', `${p} X-Frame-Options`);
		eq(r.headers['x-content-type-options'], 'nosniff', `${p} nosniff`);
		eq(r.headers['cache-control'], 'no-store', `${p} is never cached`);
		assert(!/ style="|<script>/.test(r.text), `${p}: no inline script or style attribute`);
	}
	const types = { 'app.js': /^text\/javascript/, 'style.css': /^text\/css/, 'simulator.js': /^text\/javascript/, 'staff.html': /^text\/html/ };
	for (const [f, re] of Object.entries(types)) {
		const r = await rawGet(h, `/staff/${f}`);
		eq(r.status, 200, `/staff/${f} status`);
		match(r.type, re, `/staff/${f} type`);
		assert(r.text.length > 100, `/staff/${f} has content`);
		if (!f.endsWith('.html')) match(r.headers['cache-control'] || '', /max-age=\d+/, `/staff/${f} may be cached briefly`);
	}
	const sp = await rawGet(h, '/simulator');
	eq(sp.status, 200, '/simulator status');
	match(sp.type, /^text\/html/, '/simulator type');
	match(sp.text, /\/staff\/simulator\.js/, '/simulator loads its script');
	// every module the app imports is served
	const app = await rawGet(h, '/staff/app.js');
	for (const m of app.text.matchAll(/from '\.\/([\w.-]+\.js)'/g)) {
		const r = await rawGet(h, `/staff/${m[1]}`);
		eq(r.status, 200, `module ${m[1]} imported by app.js`);
	}
});

test('console: unknown files and traversal attempts are 404', async (t) => {
	const h = await t.server();
	const bad = [
		'/staff/nope.js', '/staff/app.js.bak', '/staff/.hidden', '/staff/..', '/staff/../staff.html',
		'/staff/..%2fgateway%2fmain.c', '/staff/%2e%2e/%2e%2e/etc/passwd', '/staff/%2e%2e%2fMakefile',
		'/staff/web/app.js', '/staff//etc/passwd', '/staff/app.js%00.css', '/staff/app.js/', '/staff/APP.JS',
	];
	for (const p of bad) {
		const r = await rawGet(h, p);
		assert(r.status === 404 || r.status === 400, `${p}: want 404, got ${r.status} ${r.text.slice(0, 80)}`);
		assert(!/#include|root:|\$\(BUILD\)/.test(r.text), `${p}: no file content leaks`);
	}
	const nf = await rawGet(h, '/staff/nope.js');
	eq(nf.status, 404, 'unknown asset status');
	match(nf.type, /application\/json/, 'unknown asset answers JSON');
	eq(JSON.parse(nf.text).error, 'not_found', 'error code');
	// prefix look-alikes are not the console's
	for (const p of ['/staffx', '/simulator2', '/api/simulatorx']) {
		const r = await rawGet(h, p);
		eq(r.status, 404, `${p} status`);
	}
	const post = await h.request('POST', '/staff/app.js', 'x', { 'content-type': 'text/plain' });
	eq(post.status, 405, 'POST to an asset');
});

test('console: /api/simulator completes a USSD complaint', async (t) => {
	const h = await t.server();
	const g = await h.request('GET', '/api/simulator');
	eq(g.status, 200, 'GET /api/simulator');
	const gi = JSON.parse(g.text);
	eq(gi.channels.ussd, 'at-ussd', 'the first USSD channel');
	eq(gi.channels.sms, 'at-sms', 'the first SMS channel');
	match(gi.ussd_code, /^\*\d/, 'the USSD code to dial');

	const from = phone();
	let session = '';
	const smsSeen = [];
	const send = async (text) => {
		const j = await simJson(h, { channel: 'ussd', from, session, text });
		assert(Array.isArray(j.sms), 'the answer lists the SMS this round queued');
		smsSeen.push(...j.sms);
		assert(typeof j.session === 'string' && j.session.length > 0, 'a session id');
		if (session) eq(j.session, session, 'the same session continues');
		session = j.end ? '' : j.session;
		assert(Array.from(j.text).length <= 182, `a USSD screen of at most 182 characters: ${j.text}`);
		return j;
	};
	const first = await send('');
	match(first.text, /Sampaikan pengaduan/, 'dialling shows the main menu');
	eq(first.end, false, 'the menu continues');
	eq(first.channel, 'at-ussd', 'through the first USSD channel');
	const w = await walk(first, send, complaintRules(), ticketDone(true));
	const number = TICKET_RE.exec(w.last.text)[1];
	const row = ticketRow(h.db, number);
	eq(row.phone, from, 'the ticket belongs to the simulated number');
	eq(row.channel, 'at-ussd', 'filed on the USSD channel');
	eq(row.status, 'received', 'a new ticket');
	assert(smsSeen.some((m) => m.text.includes(number) && m.channel === 'at-sms'),
		`the confirmation SMS is listed: ${JSON.stringify(smsSeen)}`);
	eq(smsSeen.filter((m) => m.text.includes(number)).length, 1, 'listed once, in the round that queued it');
	// a new dial starts a new session
	const again = await send('');
	assert(again.session && again.session !== w.last.session, 'a new session id after END');
});

test('console: /api/simulator completes an SMS complaint', async (t) => {
	const h = await t.server();
	const from = phone();
	const send = async (text) => {
		const j = await simJson(h, { channel: 'sms', from, text });
		eq(j.end, false, 'SMS never ends');
		eq(j.channel, 'at-sms', 'through the first SMS channel');
		assert(j.text.length > 0, `an answer to ${text}`);
		return j;
	};
	const first = await send(`ADUAN ${DESC}`);
	const w = await walk(first, send, complaintRules({ description: DESC }), ticketDone(false));
	const number = TICKET_RE.exec(w.last.text)[1];
	const row = ticketRow(h.db, number);
	eq(row.phone, from, 'the ticket belongs to the simulated number');
	eq(row.channel, 'at-sms', 'filed on the SMS channel');
	eq(digits(number).length, 8, 'an 8-digit number');
});

test('console: /api/simulator refuses bad requests', async (t) => {
	const h = await t.server();
	const cases = [
		[{ channel: 'fax', from: '+6281234567890', text: 'x' }, 400, 'bad_channel'],
		[{ from: '+6281234567890', text: 'x' }, 400, 'bad_channel'],
		[{ channel: 'ussd', from: 'abc' }, 422, 'bad_phone'],
		[{ channel: 'ussd', text: '1' }, 422, 'bad_phone'],
		[{ channel: 'sms', from: '+6281234567890', text: '' }, 422, 'empty_text'],
		[{ channel: 'sms', from: '+6281234567890', text: 5 }, 400, 'bad_text'],
		[{ channel: 'ussd', from: '+6281234567890', session: '../etc', text: '1' }, 400, 'bad_session'],
		[{ channel: 'ussd', from: '+6281234567890', session: 'x'.repeat(200), text: '1' }, 400, 'bad_session'],
		[{ channel: 'sms', from: '+6281234567890', text: 'A'.repeat(5000) }, 413, 'text_too_long'],
		['not json', 400, 'bad_json'],
		['[1,2]', 400, 'bad_json'],
	];
	for (const [body, status, code] of cases) {
		const r = await sim(h, body);
		eq(r.status, status, `${JSON.stringify(body).slice(0, 60)} status (body ${r.text})`);
		eq(JSON.parse(r.text).error, code, `${JSON.stringify(body).slice(0, 60)} error code`);
	}
	const put = await h.request('PUT', '/api/simulator', '{}', { 'content-type': 'application/json' });
	eq(put.status, 405, 'PUT /api/simulator');
	// still serving after all that
	const ok = await simJson(h, { channel: 'ussd', from: phone(), text: '' });
	match(ok.text, /Sampaikan pengaduan/, 'the simulator still works');
});
