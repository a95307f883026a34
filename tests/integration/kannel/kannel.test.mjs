// kannel.test.mjs - Pintu behind a real Kannel 1.4.5: fakesmsc -> bearerbox ->
// smsbox -> Pintu (/webhooks/kannel, get-url and post-url services) -> reply in
// the HTTP body -> smsbox -> bearerbox -> fakesmsc. Asserts the reply Pintu
// produced reaches fakesmsc, the inbound rows are in the database, and the
// conversation continues on the next message.

import { test, assert, eq, match, sql, phone, DESC, checkSms } from '../lib.mjs';
import { startKannel, kannelInstalled, BEARERBOX, FAKESMSC } from './kannel.mjs';

/** Replies fakesmsc printed: [{from, to, text}]. fakesmsc prints each line of a
 * text message as its own "Got message N: <...>": the first as
 * "<from to text LINE>", the following ones as "<LINE>". A concatenated reply
 * arrives as parts "<from to udh %05%00%03REF%TOTAL%SEQ data URLENCODED>",
 * joined here by reference number. */
function received(out) {
	const res = [];
	const concat = new Map();
	const re = /Got message \d+: <(.*)>\s*$/gm;
	let m;
	while ((m = re.exec(out))) {
		const head = /^(\+?\d+) (\+?\d+) text (.*)$/.exec(m[1]);
		const part = /^(\+?\d+) (\+?\d+) udh (\S+) data (.*)$/.exec(m[1]);
		if (head) {
			res.push({ from: head[1], to: head[2], text: head[3] });
		} else if (part) {
			const udh = Buffer.from(decodeURIComponent(part[3]), 'latin1');
			const ref = `${part[2]}:${udh[3]}`;
			const text = decodeURIComponent(part[4].replace(/\+/g, ' '));
			let msg = concat.get(ref);
			if (!msg) {
				msg = { from: part[1], to: part[2], parts: [] };
				concat.set(ref, msg);
				res.push(msg);
			}
			msg.parts[udh[5] - 1] = text;
			msg.text = msg.parts.join('');
		} else if (res.length) {
			res[res.length - 1].text += '\n' + m[1];
		}
	}
	return res;
}

const firstLine = (s) => s.split('\n')[0].trim();

test('kannel: real bearerbox/smsbox/fakesmsc round trip (get-url and post-url)', async (t) => {
	assert(kannelInstalled(), `Kannel is not installed (${BEARERBOX}, ${FAKESMSC}); run PINTU_DEPS_TOOLS=kannel sh gateway/install-deps.sh as root`);
	const h = await t.server();
	const k = await startKannel({ pintuPort: h.port });
	t.cleanup(() => k.stop());
	const p1 = phone(); // get-url service (keyword ADUAN falls to the default service)
	const p2 = phone(); // post-url service (keyword "lapor")
	// fakesmsc picks one of its messages at random, so run it once per message
	const r1 = await k.sendFake([`${p1} 1708 text ADUAN bantuan PKH belum cair`], {
		until: (out) => received(out).some((x) => x.to === p1),
	});
	assert(r1.ok, `fakesmsc did not receive the get-url reply\n${r1.out}\n${k.logs()}\n--- pintu ---\n${h.err.slice(-3000)}`);
	const r2 = await k.sendFake([`${p2} 1708 text LAPOR ${DESC}`], {
		until: (out) => received(out).some((x) => x.to === p2),
	});
	assert(r2.ok, `fakesmsc did not receive the post-url reply\n${r2.out}\n${k.logs()}\n--- pintu ---\n${h.err.slice(-3000)}`);
	const got = received(r1.out + '\n' + r2.out);

	for (const [ph, body, via] of [[p1, 'ADUAN bantuan PKH belum cair', 'get-url'], [p2, `LAPOR ${DESC}`, 'post-url']]) {
		const ins = sql(h.db, `select * from messages where direction = 'in' and channel = 'kannel' and peer = '${ph}'`);
		eq(ins.length, 1, `${via}: one inbound row`);
		eq(ins[0].body, body, `${via}: inbound text`);
		match(ins[0].provider_id || '', /^(m:)?[0-9a-f-]{36}$/, `${via}: Kannel's message UUID is the dedupe key`);
		// an inline reply (the HTTP response body Kannel sends on) is stored with its inbound row
		assert(ins[0].reply && ins[0].reply.length > 0, `${via}: inline reply stored on the inbound row`);
		const reply = got.filter((x) => x.to === ph).map((x) => x.text).join('\n');
		checkSms(reply);
		assert(reply.includes(firstLine(ins[0].reply)), `${via}: fakesmsc got Pintu's reply\nstored reply: ${ins[0].reply}\nfakesmsc: ${reply}`);
		eq(got.find((x) => x.to === ph).from, '1708', `${via}: reply comes from the short code`);
	}

	// the conversation continues through Kannel: answer the first question
	const before = sql(h.db, `select count(*) as n from messages where direction = 'in' and peer = '${p1}'`)[0].n;
	const r3 = await k.sendFake([`${p1} 1708 text 1`], { until: (out) => received(out).some((x) => x.to === p1) });
	assert(r3.ok, `second round: no reply at fakesmsc\n${r3.out}\n${k.logs()}`);
	eq(sql(h.db, `select count(*) as n from messages where direction = 'in' and peer = '${p1}'`)[0].n, before + 1, 'second inbound row');
	const second = received(r3.out).filter((x) => x.to === p1).map((x) => x.text).join('\n');
	assert(!/pilihan tidak dikenali/i.test(second), `the answer continued the conversation: ${second}`);
});
