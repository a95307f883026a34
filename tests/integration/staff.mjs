// staff.mjs - shared helpers for staff-side integration tests (console, JSON
// API, procedure, broadcasts): create accounts with the CLI, log in, call the
// API with the session cookie and CSRF token.
//
//   import { addUser, login, api, staffSession, PASSWORD } from './staff.mjs';
//   const h = await t.server();
//   addUser(h, 'fo1', 'front_office');          // password PASSWORD unless given
//   const s = await login(h.base, 'fo1');        // {cookie, csrf, user}
//   const r = await api(h.base, s, 'GET', '/api/me');   // {status, json, headers, text}
//
// Passwords go to the CLI through PINTU_PASSWORD (never as an argument) and are
// registered with secret() so the runner fails a test whose server logged one.

import { cli, eq, secret, AssertionError } from './lib.mjs';

/** The default password of test accounts (>= 10 characters). */
export const PASSWORD = secret('Rahasia-Staf-2026');

let serial = 0;
/** A fresh unique username with the given prefix ("fo" -> "fo-123-4"). */
export function username(prefix = 'staff') {
	serial++;
	return `${prefix}-${process.pid % 100000}-${serial}`;
}

/**
 * Create a staff account with `pintu users add` (throws when the CLI fails).
 * dbOrServer: a database path, or a server handle from t.server() (its db and
 * config are used). Returns {username, role, password}.
 */
export function addUser(dbOrServer, name, role, password = PASSWORD, opts = {}) {
	secret(password);
	const args = ['users', 'add', name, '--role', role, ...dbArgs(dbOrServer)];
	if (opts.name) args.push('--name', opts.name);
	if (opts.lang) args.push('--lang', opts.lang);
	const r = cli(args, { env: { PINTU_PASSWORD: password } });
	if (r.code !== 0) throw new AssertionError(`pintu users add ${name}: exit ${r.code}: ${r.stderr}`);
	return { username: name, role, password };
}

/** Create an Open311 API key (or, with user, a personal bearer token); returns the key. */
export function addApiKey(dbOrServer, name, user) {
	const args = ['apikeys', 'add', name, ...dbArgs(dbOrServer)];
	if (user) args.push('--user', user);
	const r = cli(args);
	if (r.code !== 0) throw new AssertionError(`pintu apikeys add ${name}: exit ${r.code}: ${r.stderr}`);
	return secret(r.stdout.trim());
}

function dbArgs(dbOrServer) {
	if (typeof dbOrServer === 'string') return ['--db', dbOrServer];
	return ['--db', dbOrServer.db, '--config', dbOrServer.cfgPath];
}

/**
 * POST /api/login. Resolves {cookie, csrf, user, status} (cookie = "pintu_session=...")
 * or throws when the login is refused (use rawLogin to test refusals).
 */
export async function login(base, name, password = PASSWORD) {
	const r = await rawLogin(base, name, password);
	eq(r.status, 200, `login ${name} (body ${r.text})`);
	const set = r.headers.get('set-cookie') || '';
	const m = /pintu_session=([0-9a-f]+)/.exec(set);
	if (!m) throw new AssertionError(`login ${name}: no pintu_session cookie in ${JSON.stringify(set)}`);
	secret(m[1]);
	return { cookie: `pintu_session=${m[1]}`, csrf: r.json.csrf, user: r.json.user, status: r.status };
}

/** POST /api/login without checks: {status, json, headers, text}. */
export async function rawLogin(base, name, password = PASSWORD, headers = {}) {
	return api(base, null, 'POST', '/api/login', { username: name, password }, headers);
}

/**
 * Call the API. session: {cookie, csrf} from login(), {token} for a bearer token,
 * or null. The CSRF header is sent on every non-GET/HEAD request with a cookie
 * (pass session.csrf = '' or use extraHeaders to test its absence). body: an
 * object (sent as JSON) or a string (sent as is). Resolves {status, json, headers, text}.
 */
export async function api(base, session, method, path, body, extraHeaders = {}) {
	const headers = {};
	if (session && session.cookie) {
		headers.cookie = session.cookie;
		if (method !== 'GET' && method !== 'HEAD' && session.csrf) headers['x-csrf-token'] = session.csrf;
	}
	if (session && session.token) headers.authorization = `Bearer ${session.token}`;
	let payload;
	if (body !== undefined && body !== null) {
		payload = typeof body === 'string' ? body : JSON.stringify(body);
		headers['content-type'] = typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json';
	}
	Object.assign(headers, extraHeaders);
	const res = await fetch(base + path, { method, headers, body: payload, redirect: 'manual' });
	const text = await res.text();
	let json = null;
	try {
		json = text ? JSON.parse(text) : null;
	} catch {
		json = null;
	}
	return { status: res.status, json, headers: res.headers, text };
}

/** Create an account with a fresh username and log it in: {username, role, cookie, csrf, user}. */
export async function staffSession(h, role, prefix) {
	const u = addUser(h, username(prefix || role.replace('_office', '')), role);
	const s = await login(h.base, u.username, u.password);
	return { ...u, ...s };
}
