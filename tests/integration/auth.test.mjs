// auth.test.mjs - staff accounts against the real binary: login and its cookie,
// CSRF, idle and absolute session expiry (the server's clock moved with
// PINTU_CLOCK_OFFSET_FILE), logout, login rate limits per account and per
// address, role denial per route, the users/apikeys CLI and the audit log.

import fs from 'node:fs';
import path from 'node:path';
import { test, assert, eq, match, noMatch, cli, sql, secret } from './lib.mjs';
import { addUser, addApiKey, login, rawLogin, api, username, staffSession, PASSWORD } from './staff.mjs';

const MIN = 60 * 1000;
let mtime = 1_700_000_000;

/** Move the server's clock: write the offset and give the file a new mtime. */
function setOffset(file, ms) {
	fs.writeFileSync(file, String(ms));
	mtime += 10;
	fs.utimesSync(file, mtime, mtime);
}

async function clockServer(t) {
	const dir = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'pintu-clock-'));
	const file = path.join(dir, 'offset');
	setOffset(file, 0);
	const h = await t.server({ env: { PINTU_CLOCK_OFFSET_FILE: file } });
	t.cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
	return { h, file };
}

test('auth: login sets a hardened cookie, /api/me answers, a bad password is refused', async (t) => {
	const h = await t.server();
	const name = username('fo');
	addUser(h, name, 'front_office', PASSWORD, { name: 'Siti Rahma' });
	const r = await rawLogin(h.base, name, PASSWORD);
	eq(r.status, 200, `login status (${r.text})`);
	eq(r.json.user.username, name, 'user.username');
	eq(r.json.user.role, 'front_office', 'user.role');
	eq(r.json.user.name, 'Siti Rahma', 'user.name');
	match(r.json.csrf, /^[0-9a-f]{64}$/, 'csrf token');
	const cookie = r.headers.get('set-cookie');
	match(cookie, /^pintu_session=[0-9a-f]{64}; /, 'cookie value');
	match(cookie, /; HttpOnly/, 'HttpOnly');
	match(cookie, /; SameSite=Strict/, 'SameSite=Strict');
	match(cookie, /; Path=\//, 'Path=/');
	noMatch(cookie, /Secure/, 'no Secure without staff.secure_cookies');
	const token = /pintu_session=([0-9a-f]+)/.exec(cookie)[1];
	secret(token);
	// only the hash is stored
	eq(sql(h.db, `select count(*) as n from staff_sessions where token_hash = '${token}'`)[0].n, 0, 'raw token not stored');
	eq(sql(h.db, `select count(*) as n from staff_sessions where ended_ms is null`)[0].n, 1, 'one open session');
	const s = { cookie: `pintu_session=${token}`, csrf: r.json.csrf };
	const me = await api(h.base, s, 'GET', '/api/me');
	eq(me.status, 200, 'GET /api/me');
	eq(me.json.user.username, name, '/api/me user');
	eq(me.json.csrf, r.json.csrf, '/api/me returns the same CSRF token');
	eq((await api(h.base, null, 'GET', '/api/me')).status, 401, '/api/me without a cookie');

	const bad = await rawLogin(h.base, name, 'Salah-Sandi-2026');
	eq(bad.status, 401, 'wrong password');
	eq(bad.json.error, 'bad_credentials', 'error code');
	eq(bad.headers.get('set-cookie'), null, 'no cookie on failure');
	const ghost = await rawLogin(h.base, 'no-such-user', 'Salah-Sandi-2026');
	eq(ghost.status, 401, 'unknown user');
	eq(ghost.text, bad.text, 'same answer for an unknown account and a wrong password');
	// malformed requests
	eq((await api(h.base, null, 'POST', '/api/login', '{"username":')).status, 415, 'form body refused');
	eq((await api(h.base, null, 'POST', '/api/login', '{', { 'content-type': 'application/json' })).status, 400, 'bad JSON');
	eq((await api(h.base, null, 'POST', '/api/login', { username: name })).status, 400, 'no password');
	eq((await api(h.base, null, 'GET', '/api/login')).status, 405, 'GET /api/login');
	noMatch(h.err, new RegExp(PASSWORD), 'password never logged');
});

test('auth: secure_cookies adds Secure', async (t) => {
	const { testConfig } = await import('./lib.mjs');
	const config = { ...testConfig(), staff: { secure_cookies: true, idle_timeout_minutes: 15 } };
	const h = await t.server({ config });
	const name = username('fo');
	addUser(h, name, 'front_office');
	const r = await rawLogin(h.base, name, PASSWORD);
	eq(r.status, 200, 'login');
	match(r.headers.get('set-cookie'), /; Secure/, 'Secure flag');
	secret(/pintu_session=([0-9a-f]+)/.exec(r.headers.get('set-cookie'))[1]);
});

test('auth: a bad staff section stops the server with the key path', async () => {
	const { testConfig, tmpDir } = await import('./lib.mjs');
	const dir = tmpDir();
	const cfg = path.join(dir, 'c.json');
	fs.writeFileSync(cfg, JSON.stringify({ ...testConfig(), staff: { idle_minutes: 5 } }));
	const r = cli(['users', 'list', '--config', cfg, '--db', path.join(dir, 'p.db')]);
	assert(r.code !== 0, 'refused');
	match(r.stderr, /staff\.idle_minutes: unknown key/, 'names the key');
	fs.rmSync(dir, { recursive: true, force: true });
});

test('auth: CSRF token required on state-changing requests', async (t) => {
	const h = await t.server();
	const adm = await staffSession(h, 'admin');
	const body = { username: username('bo'), password: PASSWORD, role: 'back_office' };
	let r = await api(h.base, { cookie: adm.cookie }, 'POST', '/api/users', body);
	eq(r.status, 403, 'no CSRF header');
	eq(r.json.error, 'csrf', 'csrf error code');
	r = await api(h.base, { cookie: adm.cookie }, 'POST', '/api/users', body, { 'x-csrf-token': adm.csrf.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) });
	eq(r.status, 403, 'wrong CSRF header');
	// another session's token does not work either
	const adm2 = await login(h.base, adm.username);
	r = await api(h.base, { cookie: adm.cookie }, 'POST', '/api/users', body, { 'x-csrf-token': adm2.csrf });
	eq(r.status, 403, "another session's CSRF token");
	eq(sql(h.db, `select count(*) as n from users where username = '${body.username}'`)[0].n, 0, 'nothing created');
	r = await api(h.base, adm, 'POST', '/api/users', body);
	eq(r.status, 201, `with the token (${r.text})`);
	// GET needs no token
	eq((await api(h.base, { cookie: adm.cookie }, 'GET', '/api/users')).status, 200, 'GET without CSRF');
});

test('auth: idle and absolute session timeouts follow the server clock', async (t) => {
	const { h, file } = await clockServer(t);
	const name = username('bo');
	addUser(h, name, 'back_office');
	// idle: 29 min later fine, then 31 min of silence ends it
	let s = await login(h.base, name);
	setOffset(file, 29 * MIN);
	eq((await api(h.base, s, 'GET', '/api/me')).status, 200, 'after 29 idle minutes');
	setOffset(file, 60 * MIN);
	let r = await api(h.base, s, 'GET', '/api/me');
	eq(r.status, 401, 'after 31 idle minutes');
	eq(r.json.error, 'session_expired', 'expired error');
	const row = sql(h.db, `select ended_ms from staff_sessions s join users u on u.id = s.user_id where u.username = '${name}'`)[0];
	assert(row.ended_ms != null, 'the session row is ended on the server');
	setOffset(file, 0);
	eq((await api(h.base, s, 'GET', '/api/me')).status, 401, 'an ended session stays ended');

	// absolute: used every 25 minutes, still refused after 12 hours
	setOffset(file, 0);
	s = await login(h.base, name);
	let last = 0;
	for (let m = 25; m <= 13 * 60; m += 25) {
		setOffset(file, m * MIN);
		r = await api(h.base, s, 'GET', '/api/me');
		if (r.status !== 200) break;
		last = m;
	}
	assert(last >= 11 * 60 + 30 && last <= 12 * 60, `active session lasted ${last} minutes (want just under 12 h)`);
	eq(r.status, 401, 'refused after 12 hours');
	eq(r.json.error, 'session_expired', 'absolute expiry error');
});

test('auth: logout ends the session on the server', async (t) => {
	const h = await t.server();
	const s = await staffSession(h, 'supervisor');
	const out = await api(h.base, s, 'POST', '/api/logout');
	eq(out.status, 200, 'logout');
	match(out.headers.get('set-cookie'), /pintu_session=;.*Max-Age=0/, 'cookie cleared');
	// the old cookie is dead even though the browser might have kept it
	eq((await api(h.base, s, 'GET', '/api/me')).status, 401, 'old cookie after logout');
	eq((await api(h.base, s, 'GET', '/api/audit')).status, 401, 'old cookie on another route');
	const rows = sql(h.db, `select username, action from audit_log where username = '${s.username}' order by id`);
	eq(rows.map((x) => x.action).join(','), 'auth.login,auth.logout', 'audit rows');
});

test('auth: login rate limit per account (429, Retry-After, locked even with the password)', async (t) => {
	const { h, file } = await clockServer(t);
	const name = username('fo');
	addUser(h, name, 'front_office');
	for (let i = 0; i < 5; i++) {
		const r = await rawLogin(h.base, name, 'Salah-Sandi-2026');
		eq(r.status, 401, `failure ${i + 1}`);
	}
	let r = await rawLogin(h.base, name, PASSWORD);
	eq(r.status, 429, 'locked');
	eq(r.json.error, 'too_many_attempts', 'error code');
	const ra = Number(r.headers.get('retry-after'));
	assert(ra > 14 * 60 && ra <= 15 * 60, `Retry-After ${ra}`);
	// an unknown account gets the same treatment (no enumeration)
	for (let i = 0; i < 5; i++) await rawLogin(h.base, 'ghost-user', 'Salah-Sandi-2026');
	eq((await rawLogin(h.base, 'ghost-user', 'Salah-Sandi-2026')).status, 429, 'unknown account locked too');
	// the audit log has each failure on the real account and the lock, never the unknown name
	const rows = sql(h.db, `select action, username, detail from audit_log where target = 'user:${name}' and action like 'auth.%' order by id`);
	eq(rows.map((x) => x.action).join(','), 'auth.login_failed,'.repeat(5) + 'auth.locked', 'failures and the lock audited');
	eq(rows[0].detail, '{"addr":"127.0.0.1"}', 'with the address');
	eq(sql(h.db, `select count(*) as n from audit_log where target like '%ghost%' or detail like '%Salah%'`)[0].n, 0,
		'no unknown username or password text in the audit log');
	setOffset(file, 16 * MIN);
	r = await rawLogin(h.base, name, PASSWORD);
	eq(r.status, 200, 'unlocked after 15 minutes');
	secret(/pintu_session=([0-9a-f]+)/.exec(r.headers.get('set-cookie'))[1]);
});

test('auth: login rate limit per address', async (t) => {
	const h = await t.server();
	const name = username('sup');
	addUser(h, name, 'supervisor');
	for (let i = 0; i < 20; i++) {
		const r = await rawLogin(h.base, `probe-${i}`, 'Salah-Sandi-2026');
		eq(r.status, 401, `probe ${i}`);
	}
	const r = await rawLogin(h.base, name, PASSWORD);
	eq(r.status, 429, 'the address is locked, whatever the account');
	assert(Number(r.headers.get('retry-after')) > 0, 'Retry-After');
	eq(sql(h.db, `select count(*) as n from login_attempts where addr = '127.0.0.1' and ok = 0`)[0].n, 20, 'failures recorded');
});

test('auth: the console language is kept with the account (POST /api/me)', async (t) => {
	const h = await t.server();
	const fo = await staffSession(h, 'front_office');
	eq((await api(h.base, { cookie: fo.cookie }, 'POST', '/api/me', { lang: 'en' })).status, 403, 'CSRF required');
	eq((await api(h.base, fo, 'POST', '/api/me', { lang: 'fr' })).status, 422, 'unknown language');
	eq((await api(h.base, fo, 'POST', '/api/me', { lang: 7 })).status, 422, 'not a string');
	eq((await api(h.base, fo, 'POST', '/api/me', '[', { 'content-type': 'application/json' })).status, 400, 'bad JSON');
	eq((await api(h.base, fo, 'PUT', '/api/me', { lang: 'en' })).status, 405, 'PUT');
	const r = await api(h.base, fo, 'POST', '/api/me', { lang: 'en' });
	eq(r.status, 200, `POST /api/me (${r.text})`);
	eq(r.json.user.lang, 'en', 'answered with the new language');
	eq((await login(h.base, fo.username, fo.password)).user.lang, 'en', 'a new login has it');
	eq(sql(h.db, `select count(*) as n from audit_log where action = 'user.lang' and username = '${fo.username}' and detail = '{"lang":"en"}'`)[0].n,
		1, 'audited');
});

test('auth: every route is denied unless the role allows it', async (t) => {
	const h = await t.server();
	const fo = await staffSession(h, 'front_office');
	const bo = await staffSession(h, 'back_office');
	const sup = await staffSession(h, 'supervisor');
	const adm = await staffSession(h, 'admin');
	const target = username('x');
	addUser(h, target, 'front_office');
	const routes = [
		['GET', '/api/users', null, ['admin']],
		['POST', '/api/users', { username: username('n'), password: PASSWORD, role: 'admin' }, ['admin']],
		['POST', `/api/users/${target}/password`, { password: 'Sandi-Baru-2026' }, ['admin']],
		['GET', '/api/audit', null, ['supervisor', 'admin']],
		['GET', '/api/me', null, ['front_office', 'back_office', 'supervisor', 'admin']],
	];
	for (const [method, p, body, allowed] of routes) {
		for (const s of [fo, bo, sup, adm]) {
			const r = await api(h.base, s, method, p, body && p === '/api/users' ? { ...body, username: username('n') } : body);
			const want = allowed.includes(s.role);
			if (want) assert(r.status >= 200 && r.status < 300, `${s.role} ${method} ${p}: got ${r.status} ${r.text}`);
			else {
				eq(r.status, 403, `${s.role} ${method} ${p}`);
				eq(r.json.error, 'forbidden', `${s.role} ${method} ${p} error code`);
			}
		}
		eq((await api(h.base, null, method, p, body)).status, 401, `anonymous ${method} ${p}`);
	}
	// disable last (it ends the target's sessions): front office is refused
	eq((await api(h.base, fo, 'POST', `/api/users/${target}/disable`)).status, 403, 'front office cannot disable');
	eq((await api(h.base, sup, 'POST', `/api/users/${target}/disable`)).status, 403, 'supervisor cannot disable');
	eq((await api(h.base, adm, 'POST', `/api/users/${target}/disable`)).status, 200, 'admin disables');
	eq((await api(h.base, adm, 'POST', `/api/users/${adm.username}/disable`)).status, 409, 'not yourself');
	eq((await api(h.base, adm, 'POST', '/api/users/nobody-here/disable')).status, 404, 'unknown user');
	// validation
	let r = await api(h.base, adm, 'POST', '/api/users', { username: username('w'), password: 'pendek', role: 'admin' });
	eq(r.status, 422, 'weak password');
	r = await api(h.base, adm, 'POST', '/api/users', { username: username('w'), password: PASSWORD, role: 'root' });
	eq(r.status, 422, 'unknown role');
	r = await api(h.base, adm, 'POST', '/api/users', { username: fo.username, password: PASSWORD, role: 'admin' });
	eq(r.status, 409, 'taken username');
	// the audit log: newest first, filters, pagination
	r = await api(h.base, sup, 'GET', '/api/audit?action=user&limit=2');
	eq(r.status, 200, 'audit');
	eq(r.json.entries.length, 2, 'limit');
	assert(r.json.entries[0].id > r.json.entries[1].id, 'newest first');
	assert(r.json.entries.every((e) => e.action.startsWith('user.')), 'action filter');
	assert(r.json.next_before, 'a next page');
	const r2 = await api(h.base, sup, 'GET', `/api/audit?action=user&limit=2&before=${r.json.next_before}`);
	assert(r2.json.entries[0].id < r.json.entries[1].id, 'the next page is older');
	const dis = await api(h.base, sup, 'GET', `/api/audit?action=user.disable&user=${adm.username}`);
	eq(dis.json.entries.length, 1, 'one disable by the admin');
	eq(dis.json.entries[0].target, `user:${target}`, 'disable target');
	eq((await api(h.base, sup, 'GET', '/api/audit?limit=0')).status, 400, 'bad limit');
	eq((await api(h.base, sup, 'GET', '/api/audit?from=yesterday')).status, 400, 'bad date');
	const today = new Date().toISOString().slice(0, 10);
	const byDay = await api(h.base, sup, 'GET', `/api/audit?from=${today}&to=${today}&limit=500`);
	assert(byDay.json.entries.length >= 8, `entries of today: ${byDay.json.entries.length}`);
});

test('auth: a personal bearer token uses its role and needs no CSRF', async (t) => {
	const h = await t.server();
	const name = username('sup');
	addUser(h, name, 'supervisor');
	const token = addApiKey(h, `${name}-script`, name);
	match(token, /^[0-9a-f]{64}$/, 'token format');
	let r = await api(h.base, { token }, 'GET', '/api/me');
	eq(r.status, 200, 'bearer /api/me');
	eq(r.json.user.username, name, 'bearer user');
	eq(r.json.csrf, null, 'no CSRF for a token');
	eq((await api(h.base, { token }, 'GET', '/api/audit')).status, 200, 'supervisor route');
	eq((await api(h.base, { token }, 'GET', '/api/users')).status, 403, 'admin route refused');
	eq((await api(h.base, { token: token.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) }, 'GET', '/api/me')).status, 401, 'wrong token');
	const rv = cli(['apikeys', 'revoke', `${name}-script`, '--db', h.db, '--config', h.cfgPath]);
	eq(rv.code, 0, `revoke: ${rv.stderr}`);
	eq((await api(h.base, { token }, 'GET', '/api/me')).status, 401, 'revoked token');
});

test('auth: users CLI (add, list, passwd, disable) with audit rows', async (t) => {
	const h = await t.server();
	const db = ['--db', h.db, '--config', h.cfgPath];
	const name = username('bo');
	// the password never as an argument: from stdin here
	let r = cli(['users', 'add', name, '--role', 'back_office', '--name', 'Budi', ...db], { input: `${PASSWORD}\n` });
	eq(r.code, 0, `add from stdin: ${r.stderr}`);
	r = cli(['users', 'add', name, '--role', 'back_office', ...db], { env: { PINTU_PASSWORD: PASSWORD } });
	eq(r.code, 1, 'taken username');
	match(r.stderr, /taken/, 'says taken');
	r = cli(['users', 'add', username('x'), '--role', 'boss', ...db], { env: { PINTU_PASSWORD: PASSWORD } });
	eq(r.code, 2, 'bad role is a usage error');
	match(r.stderr, /--role boss/, 'names the role');
	r = cli(['users', 'add', username('x'), '--role', 'admin', ...db], { env: { PINTU_PASSWORD: 'pendek' } });
	eq(r.code, 1, 'weak password');
	match(r.stderr, /at least 10/, 'says why');
	r = cli(['users', 'add', username('x'), ...db], { env: { PINTU_PASSWORD: PASSWORD } });
	eq(r.code, 2, 'missing --role');
	eq(cli(['users', '--help']).code, 0, '--help');
	eq(cli(['users', 'frobnicate', ...db]).code, 2, 'unknown subcommand');
	r = cli(['users', 'list', '--json', ...db]);
	eq(r.code, 0, 'list');
	const list = JSON.parse(r.stdout);
	const me = list.find((u) => u.username === name);
	eq(me.role, 'back_office', 'listed role');
	eq(me.name, 'Budi', 'listed name');
	eq(me.state, 'active', 'listed state');
	noMatch(r.stdout, /argon2|pwhash/, 'no hashes listed');
	const s = await login(h.base, name);
	const NEW = secret('Sandi-Baru-Sekali-2026');
	r = cli(['users', 'passwd', name, ...db], { env: { PINTU_PASSWORD: NEW } });
	eq(r.code, 0, `passwd: ${r.stderr}`);
	eq((await api(h.base, s, 'GET', '/api/me')).status, 401, 'passwd ends the sessions');
	eq((await rawLogin(h.base, name, PASSWORD)).status, 401, 'old password refused');
	const s2 = await login(h.base, name, NEW);
	r = cli(['users', 'disable', name, ...db]);
	eq(r.code, 0, `disable: ${r.stderr}`);
	eq((await api(h.base, s2, 'GET', '/api/me')).status, 401, 'disable ends the sessions');
	eq((await rawLogin(h.base, name, NEW)).status, 401, 'disabled account refused');
	eq(cli(['users', 'disable', 'nobody-at-all', ...db]).code, 1, 'disable unknown');
	const rows = sql(h.db, `select action, username from audit_log where target = 'user:${name}' order by id`);
	eq(rows.map((x) => `${x.username}:${x.action}`).join(','), `cli:user.add,cli:user.passwd,${name}:auth.login_failed,cli:user.disable,${name}:auth.login_failed`,
		'CLI audit rows, and the refused logins (old password, disabled account)');
	noMatch(h.err, new RegExp(NEW), 'password not logged');
});
