// chat.test.mjs - the chat channels through the real server: Twilio (signed
// form webhooks, TwiML replies) and Telegram (secret header, replies through a
// mock sendMessage API with a reply keyboard).

import crypto from 'node:crypto';
import { createServer } from 'node:http';
import { test, assert, eq, match, testConfig, sql, phone, uid, waitUntil, cli, AtSms, smsComplaint, digits } from './lib.mjs';

const TWILIO_TOKEN = 'twilio-test-token';
const TG_SECRET = 'tg-secret-token_1';

/** Twilio's signature: HMAC-SHA1(token, url + sorted name+value pairs), base64. */
function twilioSign(url, params) {
	const names = Object.keys(params).sort();
	const data = url + names.map((n) => n + params[n]).join('');
	return crypto.createHmac('sha1', TWILIO_TOKEN).update(data).digest('base64');
}

/** A mock Telegram Bot API recording sendMessage calls. */
async function startMockTelegram() {
	const sent = [];
	const server = createServer((req, res) => {
		let body = '';
		req.setEncoding('utf8');
		req.on('data', (c) => (body += c));
		req.on('end', () => {
			if (req.method === 'POST' && /^\/bot[^/]+\/sendMessage$/.test(req.url)) {
				sent.push(JSON.parse(body));
				res.writeHead(200, { 'content-type': 'application/json' });
				res.end(JSON.stringify({ ok: true, result: { message_id: sent.length } }));
				return;
			}
			res.writeHead(404);
			res.end();
		});
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	return { url: `http://127.0.0.1:${server.address().port}`, sent, close: () => new Promise((r) => server.close(r)) };
}

async function chatServer(t, tgBase) {
	let h;
	const channels = [
		{ name: 'twilio', type: 'twilio', account_sid: 'AC123', auth_token: TWILIO_TOKEN, from: '+15005550006',
			public_url: 'https://pintu.example.go.id/webhooks/twilio', api_base: 'http://127.0.0.1:9' },
		{ name: 'tg', type: 'telegram', bot_token: '123:abc', secret_token: TG_SECRET, api_base: tgBase || 'http://127.0.0.1:9' },
	];
	h = await t.server({ config: testConfig({ extraChannels: channels }) });
	return h;
}

test('twilio: a signed SMS gets a TwiML reply; a wrong or missing signature is 403 and stores nothing', async (t) => {
	const h = await chatServer(t);
	const ph = phone();
	const params = { MessageSid: uid('SM'), AccountSid: 'AC123', From: ph, To: '+15005550006', Body: 'MENU', NumMedia: '0' };
	const url = 'https://pintu.example.go.id/webhooks/twilio';
	const bad = await h.postForm('/webhooks/twilio', params, { 'x-twilio-signature': twilioSign(url, { ...params, Body: 'MENUX' }) });
	eq(bad.status, 403, 'signature over other content');
	const none = await h.postForm('/webhooks/twilio', params);
	eq(none.status, 403, 'no signature');
	eq(sql(h.db, `select count(*) as n from messages`)[0].n, 0, 'nothing stored');
	const ok = await h.postForm('/webhooks/twilio', params, { 'x-twilio-signature': twilioSign(url, params) });
	eq(ok.status, 200, 'signed request accepted');
	match(ok.text, /<Response><Message>Layanan Pengaduan/, 'TwiML reply with the main menu');
	const again = await h.postForm('/webhooks/twilio', params, { 'x-twilio-signature': twilioSign(url, params) });
	eq(again.text, ok.text, 'a retry gets the same reply');
	eq(sql(h.db, `select count(*) as n from messages where direction = 'in' and peer = '${ph}'`)[0].n, 1, 'one inbound row');
});

test('telegram: /start and a keyboard button drive the dialog; replies go through sendMessage', async (t) => {
	const tg = await startMockTelegram();
	try {
		const h = await chatServer(t, tg.url);
		const chat = 700000000 + Math.floor(Math.random() * 1e6);
		let uidn = Math.floor(Math.random() * 1e6);
		const send = (text, secret = TG_SECRET) => h.request('POST', '/webhooks/tg', JSON.stringify({
			update_id: ++uidn,
			message: { message_id: uidn, from: { id: chat }, chat: { id: chat, type: 'private' }, date: 1795017600, text },
		}), { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret });
		eq((await send('/start', 'wrong')).status, 403, 'wrong secret');
		eq((await send('/start')).status, 200, '/start accepted');
		const first = await waitUntil(() => tg.sent[0], 10000, 'the menu via sendMessage');
		eq(first.chat_id, chat, 'to the chat');
		match(first.text, /Layanan Pengaduan/, 'main menu');
		const buttons = (first.reply_markup?.keyboard || []).flat().map((b) => b.text);
		assert(buttons.includes('1 Sampaikan pengaduan'), `keyboard: ${JSON.stringify(buttons)}`);
		eq((await send('1 Sampaikan pengaduan')).status, 200, 'button press');
		const second = await waitUntil(() => tg.sent[1], 10000, 'the next screen');
		match(second.text, /Pengaduan untuk siapa/, 'the button worked like typing 1');
	} finally {
		await tg.close();
	}
});

const WA_SECRET = 'wa-app-secret';

/** A mock WhatsApp Graph API recording /vNN/<phone id>/messages calls. */
async function startMockGraph() {
	const sent = [];
	const server = createServer((req, res) => {
		let body = '';
		req.setEncoding('utf8');
		req.on('data', (c) => (body += c));
		req.on('end', () => {
			if (req.method === 'POST' && /^\/v[0-9.]+\/[0-9]+\/messages$/.test(req.url)) {
				sent.push({ auth: req.headers.authorization, body: JSON.parse(body) });
				res.writeHead(200, { 'content-type': 'application/json' });
				res.end(JSON.stringify({ messaging_product: 'whatsapp', messages: [{ id: `wamid.out${sent.length}` }] }));
				return;
			}
			res.writeHead(404);
			res.end();
		});
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	return { url: `http://127.0.0.1:${server.address().port}`, sent, close: () => new Promise((r) => server.close(r)) };
}

test('whatsapp: verification handshake, signed batch POST, interactive list reply drives the dialog', async (t) => {
	const g = await startMockGraph();
	try {
		const channels = [{
			name: 'wa', type: 'whatsapp', verify_token: 'verify-me', app_secret: WA_SECRET, access_token: 'EAAtoken',
			phone_number_id: '1234567890', api_base: g.url,
		}];
		const h = await t.server({ config: testConfig({ extraChannels: channels }) });
		const ok = await h.request('GET', '/webhooks/wa?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444');
		eq(ok.status, 200, 'handshake');
		eq(ok.text, '1158201444', 'challenge echoed');
		eq((await h.request('GET', '/webhooks/wa?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1')).status, 403, 'wrong token');

		const wa = phone().replace('+', '');
		let n = 0;
		const post = (msgs, sign = true) => {
			const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: {
				messaging_product: 'whatsapp', metadata: { display_phone_number: '6281100000000', phone_number_id: '1234567890' },
				contacts: [{ profile: { name: 'Warga' }, wa_id: wa }], messages: msgs } }] }] });
			const sig = 'sha256=' + crypto.createHmac('sha256', WA_SECRET).update(body).digest('hex');
			return h.request('POST', '/webhooks/wa', body, { 'content-type': 'application/json', ...(sign ? { 'x-hub-signature-256': sig } : {}) });
		};
		const text = (body) => ({ from: wa, id: `wamid.in${++n}`, timestamp: '1795017600', type: 'text', text: { body } });
		eq((await post([text('MENU')], false)).status, 403, 'unsigned POST refused');
		eq(sql(h.db, `select count(*) as n from messages where channel = 'wa'`)[0].n, 0, 'nothing stored');
		const r = await post([text('MENU')]);
		eq(r.status, 200, 'signed POST');
		const menu = await waitUntil(() => g.sent[0], 10000, 'the menu through the Graph API');
		eq(menu.auth, 'Bearer EAAtoken', 'bearer token');
		eq(menu.body.to, wa, 'to the resident');
		eq(menu.body.type, 'interactive', 'menu as an interactive message');
		const rows = menu.body.interactive.action.sections?.[0]?.rows || menu.body.interactive.action.buttons || [];
		assert(rows.length >= 4, `options offered: ${JSON.stringify(menu.body.interactive)}`);
		// choosing "1" from the list drives the dialog as typing 1
		const pick = { from: wa, id: `wamid.in${++n}`, timestamp: '1795017601', type: 'interactive',
			interactive: { type: 'list_reply', list_reply: { id: '1', title: 'Sampaikan pengaduan' } } };
		eq((await post([pick])).status, 200, 'list reply');
		const next = await waitUntil(() => g.sent[1], 10000, 'the next screen');
		match(JSON.stringify(next.body), /Pengaduan untuk siapa/, 'the list reply worked like typing 1');
		// a POST with two messages: both processed, answered once
		const two = await post([text('MENU'), text('MENU')]);
		eq(two.status, 200, 'batch of two');
		eq(sql(h.db, `select count(*) as n from messages where channel = 'wa' and direction = 'in'`)[0].n, 4, 'four inbound rows');
	} finally {
		await g.close();
	}
});

test('whatsapp: past the 24-hour window a notification goes by SMS, and a 131047 failure falls back to SMS', async (t) => {
	const g = await startMockGraph();
	const mock = await t.mock();
	try {
		const channels = [{
			name: 'wa', type: 'whatsapp', verify_token: 'verify-me', app_secret: WA_SECRET, access_token: 'EAAtoken',
			phone_number_id: '1234567890', api_base: g.url, sms_channel: 'at-sms',
		}];
		const h = await t.server({ config: testConfig({ atBase: mock.url, extraChannels: channels }) });
		// a ticket filed by SMS, then recorded as a WhatsApp ticket of the same resident
		const c = new AtSms(h, mock);
		const { number } = await smsComplaint(c);
		sql(h.db, `update tickets set channel = 'wa' where number = '${digits(number)}'`);
		const before = mock.to(c.phone).length;
		// no WhatsApp conversation yet: outside the window, so by SMS
		let r = cli(['tickets', 'set-status', number, 'registered', '--db', h.db, '--config', h.cfgPath]);
		eq(r.code, 0, `set-status: ${r.stderr}`);
		const sms = await mock.waitFor(c.phone, before + 1);
		match(sms.at(-1).message, new RegExp(`Pengaduan ${number}: Terdaftar`), 'notification by SMS');
		eq(g.sent.length, 0, 'nothing to WhatsApp');
		// the resident writes on WhatsApp: inside the window now
		const wa = c.phone.replace('+', '');
		const post = (value) => {
			const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: {
				messaging_product: 'whatsapp', metadata: { display_phone_number: '6281100000000', phone_number_id: '1234567890' }, ...value } }] }] });
			const sig = 'sha256=' + crypto.createHmac('sha256', WA_SECRET).update(body).digest('hex');
			return h.request('POST', '/webhooks/wa', body, { 'content-type': 'application/json', 'x-hub-signature-256': sig });
		};
		eq((await post({ messages: [{ from: wa, id: uid('wamid.'), timestamp: '1795017600', type: 'text', text: { body: 'MENU' } }] })).status, 200, 'WhatsApp message');
		await waitUntil(() => g.sent[0], 10000, 'the WhatsApp menu');
		r = cli(['tickets', 'set-status', number, 'in_review', '--db', h.db, '--config', h.cfgPath]);
		eq(r.code, 0, `set-status: ${r.stderr}`);
		const note = await waitUntil(() => g.sent.find((x) => JSON.stringify(x.body).includes('Sedang ditelaah')), 10000, 'notification on WhatsApp');
		const wamid = `wamid.out${g.sent.indexOf(note) + 1}`;
		// Meta's status comes after our send was recorded (a status that overtakes
		// the send's result is tested in whatsapp_window.test.mjs)
		await waitUntil(() => sql(h.db, `select 1 as x from messages where provider_id = '${wamid}'`).length > 0, 5000, 'the send recorded');
		// Meta reports later that the window had closed after all: the text goes by SMS
		const n0 = mock.to(c.phone).length;
		eq((await post({ statuses: [{ id: wamid, recipient_id: wa, status: 'failed', timestamp: '1795017700',
			errors: [{ code: 131047, title: 'Re-engagement message' }] }] })).status, 200, 'failed status accepted');
		const again = await mock.waitFor(c.phone, n0 + 1);
		match(again.at(-1).message, /Sedang ditelaah/, 'the same notification by SMS');
		eq(sql(h.db, `select status from messages where channel = 'wa' and provider_id = '${wamid}'`)[0].status, 'failed', 'WhatsApp row failed');
	} finally {
		await g.close();
	}
});

test('twilio: a status callback with error 21610 (the recipient opted out) stops their broadcasts', async (t) => {
	const h = await chatServer(t);
	const ph = phone();
	// a Twilio SMS conversation makes the contact; DAFTAR subscribes them
	const url = 'https://pintu.example.go.id/webhooks/twilio';
	const inbound = (body) => ({ MessageSid: uid('SM'), AccountSid: 'AC123', From: ph, To: '+15005550006', Body: body, NumMedia: '0' });
	for (const body of ['DAFTAR PKH', 'Kalampangan']) {
		const p = inbound(body);
		eq((await h.postForm('/webhooks/twilio', p, { 'x-twilio-signature': twilioSign(url, p) })).status, 200, `SMS ${body}`);
	}
	const sub = () => sql(h.db, `select stopped_ms, stop_reason from subscriptions where phone = '${ph}'`)[0];
	assert(sub() && sub().stopped_ms === null, `subscribed first: ${JSON.stringify(sub())}`);
	// one of our messages to them, as the sender records it after Twilio accepted it
	const sid = uid('SMout');
	sql(h.db, `insert into messages (channel, direction, provider_id, peer, body, status, created_ms, updated_ms)
		values ('twilio', 'out', '${sid}', '${ph}', 'Info PKH', 'sent', 1, 1)`);
	const statusUrl = `${url}/status`;
	const st = { MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '21610', AccountSid: 'AC123' };
	const bad = await h.postForm('/webhooks/twilio/status', st, { 'x-twilio-signature': twilioSign(statusUrl, { ...st, ErrorCode: '0' }) });
	eq(bad.status, 403, 'a forged status is refused');
	assert(sub().stopped_ms === null, 'a forged status stops nothing');
	const ok = await h.postForm('/webhooks/twilio/status', st, { 'x-twilio-signature': twilioSign(statusUrl, st) });
	eq(ok.status, 200, `status accepted: ${ok.text}`);
	const s = sub();
	assert(s.stopped_ms > 0, `stopped by the provider's opt-out: ${JSON.stringify(s)}`);
	eq(sql(h.db, `select status from messages where provider_id = '${sid}'`)[0].status, 'failed', 'the message failed');
});
