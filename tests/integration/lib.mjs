// lib.mjs - helpers for the integration tests: the real pintu binary on
// loopback, a mock Africa's Talking send API, USSD/SMS clients, a screen-driven
// conversation walker, sqlite3 and CLI helpers, and a tiny test registry.
//
// Design: every test gets a context `t` (see run.mjs). t.server() starts
// `pintu serve` on a free port with a fresh temp dir and a test config; when the
// test ends the runner stops every server with SIGTERM and checks that it
// exited 0 and that its stderr never contains a test phone number, NIK or
// resident free text registered with t.secret(). No npm packages.

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.resolve(ROOT, process.env.PINTU_BIN || 'build/pintu');
export const DIALOGS = path.join(ROOT, 'dialogs');
export const EXAMPLE = path.join(ROOT, 'gateway/pintu.example.json');

// ---------------------------------------------------------------- registry

export const registry = [];
/** Register a test: fn receives the context t (see run.mjs). */
export function test(name, fn) {
	registry.push({ name, fn });
}

export class AssertionError extends Error {}
export function assert(cond, msg) {
	if (!cond) throw new AssertionError(msg || 'assertion failed');
}
export function eq(actual, expected, msg) {
	if (actual !== expected)
		throw new AssertionError(`${msg || 'not equal'}: got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`);
}
export function match(str, re, msg) {
	if (typeof str !== 'string' || !re.test(str))
		throw new AssertionError(`${msg || 'no match'}: ${re} did not match ${JSON.stringify(str)}`);
}
export function noMatch(str, re, msg) {
	if (typeof str === 'string' && re.test(str))
		throw new AssertionError(`${msg || 'unexpected match'}: ${re} matched ${JSON.stringify(str)}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll fn() until it returns a truthy value or timeoutMs passes (then throw what). */
export async function waitUntil(fn, timeoutMs, what) {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const v = await fn();
		if (v) return v;
		if (Date.now() > end) throw new AssertionError(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await sleep(25);
	}
}

// ---------------------------------------------------------------- test data

let uniq = 0;
/** Strings that must never appear in a server log (phones, NIKs, free text). */
export const secrets = new Set();
/** Register a string that must never be logged. */
export function secret(s) {
	if (s) secrets.add(s);
	return s;
}
/** A fresh Indonesian mobile number "+62812xxxxxxxx" (unique in this run). */
export function phone() {
	uniq++;
	const n = (process.pid % 10000) * 10000 + (uniq % 10000);
	const p = '+62812' + String(n).padStart(8, '0');
	secret(p.slice(3)); // the national number: matches +62..., 62... and 0... forms
	return p;
}
/** A unique id for provider session/message ids. */
export function uid(prefix = 'id') {
	uniq++;
	return `${prefix}-${process.pid}-${uniq}-${Math.floor(Math.random() * 1e9)}`;
}

// Valid NIKs (Palangka Raya 62.71): prov 62, regency 71, district 03,
// born 15-05-1990 (man) / 55-05-1990 (woman: day + 40), serial != 0000.
export const NIK_A = '6271031505900003';
export const NIK_B = '6271035505900017';
export const NIK_BAD = '6271031399900003'; // month 99: structurally invalid
secret(NIK_A);
secret(NIK_B);
export const DESC = secret('Bantuan PKH tahap dua belum cair sejak Maret');
export const LOCATION = secret('Di depan pasar Kahayan dekat jembatan');

// ---------------------------------------------------------------- helpers

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
export function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.unref();
		s.on('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

export function tmpDir(prefix = 'pintu-it-') {
	return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Run `sqlite3 -json db sql` and return the rows (array). */
export function sql(db, query) {
	const out = execFileSync('sqlite3', ['-json', db, query], { encoding: 'utf8' });
	return out.trim() ? JSON.parse(out) : [];
}

/** Run the pintu CLI synchronously: {code, stdout, stderr}. */
export function cli(args, opts = {}) {
	const r = spawnSync(BIN, args, {
		input: opts.input ?? '',
		encoding: 'utf8',
		env: { ...process.env, ...(opts.env || {}) },
		cwd: opts.cwd || ROOT,
		timeout: opts.timeout || 30000,
	});
	if (r.error) throw r.error;
	return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Run the pintu CLI without blocking the event loop (so requests can run at the
 * same time): resolves {code, signal, stdout, stderr}; killed after opts.timeout ms. */
export function cliAsync(args, opts = {}) {
	return new Promise((resolve, reject) => {
		const child = spawn(BIN, args, {
			env: { ...process.env, ...(opts.env || {}) },
			cwd: opts.cwd || ROOT,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '', stderr = '';
		child.stdout.setEncoding('utf8');
		child.stderr.setEncoding('utf8');
		child.stdout.on('data', (d) => (stdout += d));
		child.stderr.on('data', (d) => (stderr += d));
		const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout || 30000);
		child.on('error', (e) => { clearTimeout(timer); reject(e); });
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({ code, signal, stdout, stderr });
		});
	});
}

/** Count characters as a person sees them (code points). */
export const chars = (s) => Array.from(s).length;

// ---------------------------------------------------------------- config

/** The test configuration: example office/programs/areas + the test channels. */
export function testConfig({ atBase, maxBody = 65536, extraChannels = [] } = {}) {
	const ex = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
	const lo = ['127.0.0.1/8', '::1'];
	return {
		office: ex.office,
		dialogs: DIALOGS,
		sessions: { ussd_resume_minutes: 30, sms_expiry_minutes: 60 },
		limits: { max_body_bytes: maxBody, connection_timeout_s: 15, max_connections: 1024 },
		sender: { max_attempts: 8, base_backoff_ms: 100, max_backoff_ms: 1000, timeout_ms: 5000 },
		programs: ex.programs,
		areas: ex.areas,
		channels: [
			{ name: 'at-ussd', type: 'africastalking-ussd', sms_channel: 'at-sms', allow_from: lo },
			{
				name: 'at-sms', type: 'africastalking-sms', username: 'sandbox', api_key: 'test-key-not-secret',
				from: '1708', api_base: atBase || 'http://127.0.0.1:9', rate_per_s: 1000, allow_from: lo,
			},
			{ name: 'kannel', type: 'kannel', reply: 'response', allow_from: lo },
			{
				name: 'gussd', type: 'generic-ussd', input: 'newest', body: 'json', reply: 'json',
				fields: { session: 'session_id', phone: 'msisdn', text: 'ussd_string', service_code: 'service_code' },
				allow_from: lo,
			},
			{ name: 'gsms', type: 'generic-sms', body: 'form', reply: 'response', allow_from: lo },
			// A channel that only accepts a documentation network: loopback must get 403.
			{ name: 'blocked', type: 'africastalking-ussd', allow_from: ['192.0.2.0/24'] },
			...extraChannels,
		],
	};
}

// ---------------------------------------------------------------- mock AT

/**
 * A mock Africa's Talking send API on 127.0.0.1: records every
 * POST /version1/messaging form and answers the success JSON. failNext(n, status)
 * makes the next n requests fail with that HTTP status (to exercise retries).
 */
export async function startMockAT() {
	const messages = [];
	const requests = [];
	let failures = 0;
	let failStatus = 500;
	let idn = 0;
	const server = createServer((req, res) => {
		let body = '';
		req.setEncoding('utf8');
		req.on('data', (c) => (body += c));
		req.on('end', () => {
			requests.push({ method: req.method, url: req.url, headers: req.headers, body });
			if (req.method !== 'POST' || req.url !== '/version1/messaging') {
				res.writeHead(404, { 'content-type': 'text/plain' });
				res.end('not found');
				return;
			}
			if (failures > 0) {
				failures--;
				res.writeHead(failStatus, { 'content-type': 'text/plain' });
				res.end('temporary failure');
				return;
			}
			const f = Object.fromEntries(new URLSearchParams(body));
			idn++;
			const id = `ATXid_${idn}`;
			messages.push({ ...f, headers: req.headers, messageId: id });
			res.writeHead(201, { 'content-type': 'application/json' });
			res.end(JSON.stringify({
				SMSMessageData: {
					Message: 'Sent to 1/1 Total Cost: IDR 0',
					Recipients: [{ statusCode: 101, number: f.to, status: 'Success', cost: 'IDR 0', messageId: id }],
				},
			}));
		});
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	const port = server.address().port;
	return {
		port,
		url: `http://127.0.0.1:${port}`,
		messages,
		requests,
		failNext(n, status = 500) {
			failures = n;
			failStatus = status;
		},
		to(num) {
			return messages.filter((m) => m.to === num);
		},
		/** Wait until at least n messages were sent to num; returns them. */
		async waitFor(num, n = 1, timeoutMs = 15000) {
			return waitUntil(() => (this.to(num).length >= n ? this.to(num) : null), timeoutMs,
				`${n} SMS to ${num} at the mock AT server (have ${this.to(num).length})`);
		},
		close() {
			return new Promise((r) => server.close(() => r()));
		},
	};
}

// ---------------------------------------------------------------- server

/**
 * Start `pintu serve`. opts: config (object; default testConfig({atBase})),
 * dir (temp dir), db (path), env. Resolves when it printed "listening on".
 */
export async function startPintu(opts = {}) {
	const dir = opts.dir || tmpDir();
	const db = opts.db || path.join(dir, 'pintu.db');
	const port = await freePort();
	const cfgPath = path.join(dir, `config-${port}.json`);
	fs.writeFileSync(cfgPath, JSON.stringify(opts.config || testConfig({ atBase: opts.atBase }), null, 2));
	const child = spawn(BIN, ['serve', '--config', cfgPath, '--db', db, '--listen', `127.0.0.1:${port}`], {
		cwd: ROOT,
		env: { ...process.env, PINTU_LOG: process.env.PINTU_LOG || 'debug', ...(opts.env || {}) },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	const h = {
		child, port, dir, db, cfgPath,
		ownDir: !opts.dir, // the runner removes it after a passing test
		base: `http://127.0.0.1:${port}`,
		out: '', err: '',
		exited: null, // {code, signal} once exited
	};
	child.stdout.setEncoding('utf8');
	child.stderr.setEncoding('utf8');
	child.stdout.on('data', (d) => (h.out += d));
	child.stderr.on('data', (d) => (h.err += d));
	h.exit = new Promise((resolve) => child.on('exit', (code, signal) => {
		h.exited = { code, signal };
		resolve(h.exited);
	}));
	try {
		await waitUntil(() => h.exited || h.out.includes(`listening on http://127.0.0.1:${port}`),
			20000, 'pintu to print "listening on"');
	} catch (e) {
		child.kill('SIGKILL');
		throw new AssertionError(`${e.message}\nstdout: ${h.out}\nstderr: ${h.err.slice(-3000)}`);
	}
	if (h.exited)
		throw new AssertionError(`pintu serve exited early (${JSON.stringify(h.exited)})\nstderr: ${h.err.slice(-3000)}`);

	/** Raw HTTP: method, path(+query), body (string|Buffer), headers -> {status, type, text, headers}. */
	h.request = async (method, p, body, headers = {}) => {
		const res = await fetch(h.base + p, { method, body, headers });
		const text = await res.text();
		return { status: res.status, type: res.headers.get('content-type') || '', text, headers: res.headers };
	};
	/** Form POST (object or string) to path. */
	h.postForm = (p, form, headers = {}) => h.request('POST', p,
		typeof form === 'string' ? form : new URLSearchParams(form).toString(),
		{ 'content-type': 'application/x-www-form-urlencoded', ...headers });
	/** GET /metrics: every metric without labels, by name -> number. */
	h.metrics = async () => {
		const text = (await h.request('GET', '/metrics')).text;
		return Object.fromEntries([...text.matchAll(/^(\w+) ([0-9.]+)$/gm)].map((x) => [x[1], Number(x[2])]));
	};
	/** SIGTERM and wait (bounded); returns {code, signal}. */
	h.stop = async (timeoutMs = 15000) => {
		if (!h.exited) child.kill('SIGTERM');
		const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
		const r = await h.exit;
		clearTimeout(t);
		return r;
	};
	return h;
}

// ---------------------------------------------------------------- screens

/** Numbered options of a screen: [{n:'1', label:'Sampaikan pengaduan'}]. */
export function options(screen) {
	const out = [];
	for (const line of screen.split(/\r?\n/)) {
		const m = /^\s*(\d{1,2})[.)]?\s+(\S.*)$/.exec(line);
		if (m) out.push({ n: m[1], label: m[2].trim() });
	}
	return out;
}
/** The number of the option whose label matches re, or null. */
export function opt(screen, re) {
	const o = options(screen).find((x) => re.test(x.label));
	return o ? o.n : null;
}
/** Like opt(), but pages with "98" (Berikutnya/next) when the option is not on this screen. */
export function optOrNext(screen, re) {
	return opt(screen, re) || opt(screen, /^(Berikutnya|Next|Lanjut)/i);
}

/**
 * Drive a conversation by classifying each screen. send(input) returns the next
 * screen text ({text, end}); rules are tried in order: {name, when(screen) ->
 * bool, input: string | (screen) => string}. Stops when done(screen, end) is true.
 * A screen no rule recognises, an error screen or a loop fails loudly with the
 * transcript. Returns {screens, last}.
 */
export async function walk(first, send, rules, done, { maxSteps = 30, maxPerRule = 4 } = {}) {
	const screens = [first];
	const counts = {};
	let cur = first;
	for (let i = 0; i < maxSteps; i++) {
		if (done(cur.text, cur.end)) return { screens, last: cur };
		if (cur.end) fail(`conversation ended early`);
		if (/pilihan tidak dikenali|tidak valid|not recogni[sz]ed|terlalu banyak kesalahan|terjadi gangguan/i.test(cur.text))
			fail('error screen');
		const rule = rules.find((r) => r.when(cur.text));
		if (!rule) fail('no rule recognises this screen');
		counts[rule.name] = (counts[rule.name] || 0) + 1;
		if (counts[rule.name] > (rule.max || maxPerRule)) fail(`rule ${rule.name} fired too often (loop?)`);
		const input = typeof rule.input === 'function' ? rule.input(cur.text) : rule.input;
		if (input == null) fail(`rule ${rule.name} found no input`);
		cur = await send(input);
		cur.input = input;
		cur.rule = rule.name;
		screens.push(cur);
	}
	fail('too many steps');
	function fail(why) {
		const tr = screens.map((s) => `  > ${s.input ?? '(dial)'}\n  ${s.end ? 'END' : 'CON'} ${s.text.replace(/\n/g, '\n      ')}`).join('\n');
		throw new AssertionError(`walk: ${why}\ntranscript:\n${tr}`);
	}
}

const has = (re) => (s) => re.test(s);
const hasOpt = (re) => (s) => opt(s, re) != null;
const pick = (re) => (s) => optOrNext(s, re);

export const TICKET_RE = /(\d{4}-\d{4})/;
const YES = /^(Ya|Yes|Kirim|Send|Setuju|Agree)\b/i;

/**
 * Rules for a complaint. opts: subject 'self'|'other', nik, description,
 * location, kecamatan/kelurahan (regexps + free text for SMS), onResume.
 */
export function complaintRules(o = {}) {
	const self = (o.subject || 'self') === 'self';
	const kec = o.kecamatan || /^Sabangau/i;
	const kel = o.kelurahan || /^Kalampangan/i;
	const kelText = o.kelurahanText || 'Kalampangan';
	return [
		{ name: 'resume', when: has(/Lanjutkan pengaduan sebelumnya/i), input: o.onResume || '2' },
		// consent, summary confirmation (Kirim), "Maksud Anda Kelurahan ...?": the yes option
		{ name: 'yes', when: (s) => hasOpt(YES)(s) || /(^|\s)1[.)]?\s*(Ya|Yes)\b/m.test(s), input: (s) => opt(s, YES) || '1', max: 6 },
		{ name: 'nik', when: has(/NIK/), input: o.nik || NIK_A },
		{ name: 'location', when: has(/lokasi/i), input: o.location || LOCATION },
		{ name: 'description', when: has(/Ceritakan|jelaskan masalah|describe/i), input: o.description || DESC },
		{ name: 'kelurahan', when: hasOpt(kel), input: pick(kel) },
		{ name: 'kecamatan', when: hasOpt(kec), input: pick(kec) },
		{ name: 'kelurahan-text', when: (s) => /kelurahan/i.test(s) && options(s).length === 0, input: kelText },
		{ name: 'program', when: hasOpt(/^PKH/), input: pick(/^PKH/) },
		self
			? { name: 'type', when: hasOpt(/tidak diterima|terlambat/i), input: pick(/tidak diterima|terlambat/i) }
			: { name: 'type', when: hasOpt(/Lansia/i), input: pick(/Lansia/i) },
		self
			? { name: 'subject', when: hasOpt(/sendiri|saya|keluarga/i), input: pick(/sendiri|saya|keluarga/i) }
			: { name: 'subject', when: hasOpt(/orang lain|lain yang/i), input: pick(/orang lain|lain yang/i) },
		{ name: 'main', when: hasOpt(/Sampaikan pengaduan/i), input: pick(/Sampaikan pengaduan/i) },
		...(o.more || []),
		{ name: 'page', when: (s) => /kecamatan|kelurahan/i.test(s) && hasOpt(/^(Berikutnya|Next)/i)(s), input: pick(/^(Berikutnya|Next)/i) },
	];
}

/** done() for a complaint: a screen carrying a ticket number (and END on USSD). */
export const ticketDone = (ussd) => (text, end) => TICKET_RE.test(text) && (!ussd || end);

// ---------------------------------------------------------------- USSD

/**
 * An Africa's Talking USSD session: dial() sends text "", send(x) appends x to
 * the '*'-joined history. Every answer is checked: 200, text/plain, "CON "/"END "
 * and a screen of at most 182 characters. Returns {text, end, raw}.
 */
export class AtUssd {
	constructor(h, { phone: ph, sessionId, channel = 'at-ussd', serviceCode = '*123*17#' } = {}) {
		this.h = h;
		this.phone = ph || phone();
		this.sessionId = sessionId || uid('ATUid');
		this.channel = channel;
		this.serviceCode = serviceCode;
		this.inputs = [];
		this.screens = [];
	}
	form(text) {
		return { sessionId: this.sessionId, serviceCode: this.serviceCode, phoneNumber: this.phone, networkCode: '51010', text };
	}
	async raw(text) {
		return this.h.postForm(`/webhooks/${this.channel}`, this.form(text));
	}
	async round(text) {
		const r = await this.raw(text);
		const s = checkUssd(r, this.inputs);
		this.screens.push(s);
		return s;
	}
	dial() {
		this.inputs = [];
		return this.round('');
	}
	send(input) {
		this.inputs.push(String(input));
		return this.round(this.inputs.join('*'));
	}
	/** A new session id for the same phone (a dropped call dialled again). */
	redial() {
		this.sessionId = uid('ATUid');
		return this.dial();
	}
}

/** Check one AT USSD HTTP answer and return {text, end, raw}. */
export function checkUssd(r, inputs = []) {
	const ctx = `after inputs ${JSON.stringify(inputs)}`;
	eq(r.status, 200, `USSD status ${ctx} (body ${JSON.stringify(r.text)})`);
	match(r.type, /^text\/plain/i, `USSD content type ${ctx}`);
	match(r.text, /^(CON|END)( |$)/, `USSD answer must start with CON/END ${ctx}`);
	const end = r.text.startsWith('END');
	const text = r.text.slice(4);
	assert(chars(text) <= 182, `USSD screen over 182 characters (${chars(text)}) ${ctx}: ${JSON.stringify(text)}`);
	return { text, end, raw: r.text };
}

/** A generic-USSD (JSON, newest input) session on channel gussd. */
export class GenericUssd {
	constructor(h, { phone: ph, sessionId, channel = 'gussd' } = {}) {
		this.h = h;
		this.phone = ph || phone();
		this.sessionId = sessionId || uid('gs');
		this.channel = channel;
	}
	async send(input) {
		const r = await this.h.request('POST', `/webhooks/${this.channel}`, JSON.stringify({
			session_id: this.sessionId, msisdn: this.phone.replace(/^\+/, ''), ussd_string: input, service_code: '*123*17#',
		}), { 'content-type': 'application/json' });
		eq(r.status, 200, `generic USSD status (body ${JSON.stringify(r.text)})`);
		match(r.type, /json/i, 'generic USSD reply content type');
		let j;
		try {
			j = JSON.parse(r.text);
		} catch {
			throw new AssertionError(`generic USSD reply is not JSON: ${JSON.stringify(r.text)}`);
		}
		assert(typeof j.message === 'string', `generic USSD reply lacks "message": ${r.text}`);
		assert(j.action === 'continue' || j.action === 'end', `generic USSD reply action: ${r.text}`);
		assert(chars(j.message) <= 182, `generic USSD screen over 182 characters: ${JSON.stringify(j.message)}`);
		return { text: j.message, end: j.action === 'end', json: j };
	}
	dial() {
		return this.send('');
	}
}

// ---------------------------------------------------------------- SMS

/** SMS over at-sms: inbound form POST, the reply arrives at the mock AT server. */
export class AtSms {
	constructor(h, mock, { phone: ph, channel = 'at-sms' } = {}) {
		this.h = h;
		this.mock = mock;
		this.phone = ph || phone();
		this.channel = channel;
	}
	/** Post one inbound SMS (id optional) and return the HTTP answer. */
	async post(text, id = uid('ATSms')) {
		const date = new Date().toISOString().replace('T', ' ').replace(/\..*$/, '');
		return this.h.postForm(`/webhooks/${this.channel}`, { from: this.phone, to: '1708', text, date, id, linkId: '' });
	}
	/** Send text and wait for the next reply SMS(es) to this phone. */
	async send(text, id) {
		const before = this.mock.to(this.phone).length;
		const r = await this.post(text, id);
		eq(r.status, 200, `at-sms webhook status (body ${JSON.stringify(r.text)})`);
		await this.mock.waitFor(this.phone, before + 1);
		await sleep(60); // let a second part of the same reply land too
		const got = this.mock.to(this.phone).slice(before);
		for (const m of got) checkSms(m.message);
		return { text: got.map((m) => m.message).join('\n'), end: false };
	}
}

/** SMS over Kannel get-url: reply in the HTTP body. */
export class KannelGet {
	constructor(h, { phone: ph, channel = 'kannel' } = {}) {
		this.h = h;
		this.phone = ph || phone();
		this.channel = channel;
	}
	async raw(text, id = uid('kuuid')) {
		const q = new URLSearchParams({
			sender: this.phone, to: '1708', text, id, ts: String(Math.floor(Date.now() / 1000)), smsc: 'fake', coding: '0',
		});
		return this.h.request('GET', `/webhooks/${this.channel}?${q}`);
	}
	async send(text, id) {
		const r = await this.raw(text, id);
		eq(r.status, 200, `kannel get-url status (body ${JSON.stringify(r.text)})`);
		match(r.type, /^text\/plain/i, 'kannel reply content type');
		checkSms(r.text);
		return { text: r.text, end: false };
	}
}

/** SMS over Kannel post-url: text in the body, the rest in query and X-Kannel-* headers. */
export class KannelPost extends KannelGet {
	async raw(text, id = uid('kuuid')) {
		const q = new URLSearchParams({ sender: this.phone, id });
		return this.h.request('POST', `/webhooks/${this.channel}?${q}`, Buffer.from(text, 'utf8'), {
			'content-type': 'text/plain; charset="UTF-8"',
			'X-Kannel-To': '1708',
			'X-Kannel-Time': new Date().toISOString().replace('T', ' ').replace(/\..*$/, ''),
			'X-Kannel-SMSC': 'fake',
			'X-Kannel-Coding': '0',
			'X-Kannel-Service': 'default',
		});
	}
}

// GSM 03.38 default alphabet + extension table (as JS characters).
const GSM7 = new Set(Array.from(
	'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà' +
	'^{}\\[~]|€\f'));
/** Assert an SMS text is non-empty, GSM-7 only and never says Puskesmas. */
export function checkSms(text) {
	assert(text && text.length > 0, 'empty SMS reply');
	const bad = Array.from(text).find((c) => !GSM7.has(c));
	assert(bad === undefined, `SMS reply has a non-GSM-7 character ${JSON.stringify(bad)}: ${JSON.stringify(text)}`);
	noMatch(text, /Puskesmas/i, 'resident text must never say Puskesmas');
}

// ---------------------------------------------------------------- flows

/** Walk a full self complaint on AT USSD; returns {ussd, number, screens}. */
export async function ussdComplaint(h, o = {}) {
	const u = o.ussd || new AtUssd(h, { phone: o.phone });
	const first = await u.dial();
	const w = await walk(first, (x) => u.send(x), complaintRules(o), ticketDone(true));
	for (const s of w.screens) noMatch(s.text, /Puskesmas/i, 'USSD screen');
	const number = TICKET_RE.exec(w.last.text)[1];
	return { ussd: u, number, screens: w.screens, last: w.last };
}

/** Walk a complaint over an SMS client starting with `ADUAN <text>`. */
export async function smsComplaint(client, o = {}) {
	const first = await client.send(o.first || `ADUAN ${o.description || DESC}`);
	const rules = complaintRules({ ...o, description: o.description || DESC });
	const w = await walk(first, (x) => client.send(x), rules, ticketDone(false));
	const number = TICKET_RE.exec(w.last.text)[1];
	return { number, screens: w.screens, last: w.last };
}

/** SQL condition for an inbound provider id (the inbox stores "m:<id>"). */
export const pidIs = (id) => `(provider_id = '${id}' or provider_id = 'm:${id}')`;

/** "4821-0937" -> "48210937". */
export const digits = (ticket) => ticket.replace(/\D/g, '');

/** The ticket row joined with its contact's phone. */
export function ticketRow(db, number) {
	const rows = sql(db, `select t.*, c.phone as phone from tickets t join contacts c on c.id = t.contact_id where t.number = '${digits(number)}'`);
	eq(rows.length, 1, `ticket rows for ${number}`);
	return rows[0];
}

/** Poll a query until it returns a row (bounded). */
export async function waitForRow(db, query, timeoutMs = 10000) {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const rows = sql(db, query);
		if (rows.length) return rows[0];
		if (Date.now() > end) throw new AssertionError(`no row for: ${query}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

