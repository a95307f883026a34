// chat.test.mjs - the chat channels through the real server: Twilio (signed
// form webhooks, TwiML replies) and Telegram (secret header, replies through a
// mock sendMessage API with a reply keyboard).

import crypto from 'node:crypto';
import { createServer } from 'node:http';
import { test, assert, eq, match, testConfig, sql, phone, uid, waitUntil } from './lib.mjs';

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
