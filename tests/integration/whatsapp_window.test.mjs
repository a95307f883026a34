// whatsapp_window.test.mjs - WhatsApp's 24-hour window through the real server:
// past it a status notification goes as the configured template (a `type:
// template` message whose body parameter is the text), with no template by SMS;
// a later 131047 status sends the text by SMS once (also for a template, never
// another template), including when the status arrives before the send's
// result was recorded (the early-report path).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createServer } from 'node:http';
import { test, assert, eq, match, noMatch, testConfig, sql, uid, waitUntil, cli, sleep, AtSms, smsComplaint, digits } from './lib.mjs';

const WA_SECRET = 'wa-app-secret';

/**
 * A mock WhatsApp Graph API: records every /vNN/<id>/messages request and
 * answers messages[0].id = wamid.out<N>. hold() keeps the answers back until
 * release() (so a status can overtake the send's result).
 */
async function startMockGraph() {
	const sent = [];
	let holding = false;
	const held = [];
	const server = createServer((req, res) => {
		let body = '';
		req.setEncoding('utf8');
		req.on('data', (c) => (body += c));
		req.on('end', () => {
			if (req.method !== 'POST' || !/^\/v[0-9.]+\/[0-9]+\/messages$/.test(req.url)) {
				res.writeHead(404);
				res.end();
				return;
			}
			sent.push({ auth: req.headers.authorization, body: JSON.parse(body) });
			const id = `wamid.out${sent.length}`;
			const answer = () => {
				res.writeHead(200, { 'content-type': 'application/json' });
				res.end(JSON.stringify({ messaging_product: 'whatsapp', messages: [{ id }] }));
			};
			if (holding) held.push(answer);
			else answer();
		});
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	return {
		url: `http://127.0.0.1:${server.address().port}`,
		sent,
		hold() { holding = true; },
		release() { holding = false; for (const a of held.splice(0)) a(); },
		close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
	};
}

function waChannel(g, extra = {}) {
	return {
		name: 'wa', type: 'whatsapp', verify_token: 'verify-me', app_secret: WA_SECRET, access_token: 'EAAtoken',
		phone_number_id: '1234567890', api_base: g.url, sms_channel: 'at-sms', ...extra,
	};
}

/** Signed webhook POST of one change value (messages / statuses). */
function waPost(h, value) {
	const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: {
		messaging_product: 'whatsapp', metadata: { display_phone_number: '6281100000000', phone_number_id: '1234567890' }, ...value } }] }] });
	const sig = 'sha256=' + crypto.createHmac('sha256', WA_SECRET).update(body).digest('hex');
	return h.request('POST', '/webhooks/wa', body, { 'content-type': 'application/json', 'x-hub-signature-256': sig });
}

const failed131047 = (id, wa) => ({ statuses: [{ id, recipient_id: wa, status: 'failed', timestamp: '1795017700',
	errors: [{ code: 131047, title: 'Re-engagement message' }] }] });

/** A ticket filed by SMS, then recorded as the same resident's WhatsApp ticket. */
async function waTicket(h, mock) {
	const c = new AtSms(h, mock);
	const { number } = await smsComplaint(c);
	sql(h.db, `update tickets set channel = 'wa' where number = '${digits(number)}'`);
	return { c, number, wa: c.phone.replace('+', '') };
}

const setStatus = (h, number, state, env = {}) => {
	const r = cli(['tickets', 'set-status', number, state, '--db', h.db, '--config', h.cfgPath], { env });
	eq(r.code, 0, `set-status ${state}: ${r.stderr}`);
};

test('whatsapp window: past 24 h the status template is sent; its 131047 falls back to SMS once', async (t) => {
	const g = await startMockGraph();
	t.cleanup(() => g.close());
	const mock = await t.mock();
	const templates = { status_changed: { name: 'pintu_status', language: 'id', language_en: 'en' } };
	const h = await t.server({ config: testConfig({ atBase: mock.url, extraChannels: [waChannel(g, { templates })] }) });
	const { c, number, wa } = await waTicket(h, mock);
	const smsBefore = mock.to(c.phone).length;

	// the resident never wrote on WhatsApp: outside the window, the template
	setStatus(h, number, 'registered');
	const tpl = await waitUntil(() => g.sent.find((x) => x.body.type === 'template'), 10000, 'a template message');
	eq(tpl.body.to, wa, 'to the resident');
	eq(tpl.body.template.name, 'pintu_status', 'the configured template');
	eq(tpl.body.template.language.code, 'id', 'in the resident\'s language');
	const param = tpl.body.template.components?.[0]?.parameters?.[0];
	eq(param?.type, 'text', 'one body text parameter');
	match(param.text, new RegExp(`Pengaduan ${number}: Terdaftar`), 'the notification is the parameter');
	noMatch(param.text, /[\n\t]|\s{4,}/, 'no newline, tab or 4 spaces in a parameter');
	assert([...param.text].length <= 1024, 'at most 1024 characters');
	eq(mock.to(c.phone).length, smsBefore, 'no SMS when a template exists');
	// Meta refuses it after all (131047): the parameter text by SMS - not another template
	const wamid = `wamid.out${g.sent.indexOf(tpl) + 1}`;
	await waitUntil(() => sql(h.db, `select 1 as x from messages where provider_id = '${wamid}'`).length > 0, 5000, 'the send recorded');
	// the row is a template row; the CLI lists it with its parameter text's length
	const stored = sql(h.db, `select id, body from messages where provider_id = '${wamid}'`)[0];
	eq(stored.body.charCodeAt(0), 0x1e, 'a template row');
	const rowParam = JSON.parse(stored.body.slice(1)).params[0];
	const list = cli(['outbox', 'list', '--db', h.db, '--channel', 'wa', '--json']);
	eq(list.code, 0, `outbox list: ${list.stderr}`);
	assert(!list.stdout.includes('\u001e') && !list.stdout.includes('\\u001e'), 'no control character in the listing');
	const listed = JSON.parse(list.stdout).find((x) => x.id === stored.id);
	eq(listed?.length, [...rowParam].length, `listed length is the parameter text's: ${list.stdout}`);
	eq(listed?.template, 'pintu_status', 'listed with its template name');
	const table = cli(['outbox', 'list', '--db', h.db, '--channel', 'wa']);
	match(table.stdout, new RegExp(`^${stored.id}\\s.*template pintu_status`, 'm'), `the table names the template: ${table.stdout}`);
	assert([...rowParam].length < [...stored.body].length, 'not the envelope\'s length');
	const nWa = g.sent.length;
	eq((await waPost(h, failed131047(wamid, wa))).status, 200, 'failed status accepted');
	const sms = await mock.waitFor(c.phone, smsBefore + 1);
	match(sms.at(-1).message, new RegExp(`Pengaduan ${number}: Terdaftar`), 'the same notification by SMS');
	eq(sql(h.db, `select status from messages where provider_id = '${wamid}'`)[0].status, 'failed', 'the template row failed');
	// Meta repeats the status: still one SMS, and nothing more on WhatsApp
	eq((await waPost(h, failed131047(wamid, wa))).status, 200, 'repeated status accepted');
	await sleep(1500);
	eq(mock.to(c.phone).length, smsBefore + 1, 'one fallback SMS only');
	eq(g.sent.length, nWa, 'no loop back to WhatsApp');
});

test('whatsapp window: the window closes 24 h after the resident\'s last message (moved clock); no template -> SMS', async (t) => {
	const g = await startMockGraph();
	t.cleanup(() => g.close());
	const mock = await t.mock();
	const dir = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'pintu-clock-'));
	t.cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
	const clock = path.join(dir, 'offset');
	fs.writeFileSync(clock, '0');
	const env = { PINTU_CLOCK_OFFSET_FILE: clock };
	// a template for another kind only: status notifications have none
	const templates = { broadcast: { name: 'pintu_info', language: 'id' } };
	const h = await t.server({ env, config: testConfig({ atBase: mock.url, extraChannels: [waChannel(g, { templates })] }) });
	const { c, number, wa } = await waTicket(h, mock);
	eq((await waPost(h, { messages: [{ from: wa, id: uid('wamid.'), timestamp: '1795017600', type: 'text', text: { body: 'MENU' } }] })).status, 200, 'WhatsApp message');
	await waitUntil(() => g.sent[0], 10000, 'the WhatsApp menu');
	// 23 hours later: still inside, the text itself on WhatsApp
	fs.writeFileSync(clock, String(23 * 3600 * 1000));
	setStatus(h, number, 'registered', env);
	const inside = await waitUntil(() => g.sent.find((x) => JSON.stringify(x.body).includes('Terdaftar')), 10000, 'notification on WhatsApp');
	eq(inside.body.type, 'text', 'a plain text inside the window');
	// 25 hours after the resident's message: closed, no template for it -> SMS
	const smsBefore = mock.to(c.phone).length;
	const nWa = g.sent.length;
	fs.writeFileSync(clock, String(25 * 3600 * 1000));
	setStatus(h, number, 'in_review', env);
	const sms = await mock.waitFor(c.phone, smsBefore + 1);
	match(sms.at(-1).message, /Sedang ditelaah/, 'notification by SMS');
	await sleep(300);
	eq(g.sent.length, nWa, 'nothing more to WhatsApp');
});

test('whatsapp window: a 131047 status that overtakes the send result still falls back to SMS', async (t) => {
	const g = await startMockGraph();
	t.cleanup(() => g.close());
	const mock = await t.mock();
	const h = await t.server({ config: testConfig({ atBase: mock.url, extraChannels: [waChannel(g)] }) });
	const { c, number, wa } = await waTicket(h, mock);
	eq((await waPost(h, { messages: [{ from: wa, id: uid('wamid.'), timestamp: '1795017600', type: 'text', text: { body: 'MENU' } }] })).status, 200, 'WhatsApp message');
	await waitUntil(() => g.sent[0], 10000, 'the WhatsApp menu');
	const smsBefore = mock.to(c.phone).length;
	// Graph holds its answer: the send is in flight, its id not recorded yet
	g.hold();
	setStatus(h, number, 'in_review');
	const note = await waitUntil(() => g.sent.find((x) => JSON.stringify(x.body).includes('Sedang ditelaah')), 10000, 'notification on WhatsApp');
	const wamid = `wamid.out${g.sent.indexOf(note) + 1}`;
	eq(sql(h.db, `select count(*) as n from messages where provider_id = '${wamid}'`)[0].n, 0, 'the id is not recorded yet');
	// Meta's failed status arrives first
	eq((await waPost(h, failed131047(wamid, wa))).status, 200, 'early failed status accepted');
	await sleep(300);
	eq(mock.to(c.phone).length, smsBefore, 'no SMS before the send is recorded');
	// the answer comes back: the send is recorded, the report applied, the SMS queued
	g.release();
	const sms = await mock.waitFor(c.phone, smsBefore + 1);
	match(sms.at(-1).message, /Sedang ditelaah/, 'the notification by SMS');
	await waitUntil(() => sql(h.db, `select status from messages where provider_id = '${wamid}'`)[0]?.status === 'failed', 5000, 'the WhatsApp row failed');
	const row = sql(h.db, `select last_error from messages where provider_id = '${wamid}'`)[0];
	match(row.last_error, /131047.*sms fallback #\d+/, 'the row notes its fallback');
	eq(sql(h.db, `select count(*) as n from early_reports`)[0].n, 0, 'no early report left');
});
