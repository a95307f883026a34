// api.js - fetch wrapper for the JSON API: same-origin cookies, the CSRF token
// on every state-changing request, errors as ApiError {status, code, message}.

let csrf = '';

export function setCsrf(token) {
	csrf = token || '';
}

export class ApiError extends Error {
	constructor(status, code, message, field) {
		super(message || code || `HTTP ${status}`);
		this.status = status;
		this.code = code || '';
		this.field = field || '';
	}
}

let onUnauthorized = null;
/** fn() is called on a 401 from any request except the login itself. */
export function setUnauthorizedHandler(fn) {
	onUnauthorized = fn;
}

/** method, path, optional JSON body -> the parsed JSON answer (or null). */
export async function api(method, path, body) {
	const headers = { Accept: 'application/json' };
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
	let res;
	try {
		res = await fetch(path, {
			method,
			headers,
			body: body !== undefined ? JSON.stringify(body) : undefined,
			credentials: 'same-origin',
		});
	} catch (e) {
		throw new ApiError(0, 'network', 'network');
	}
	const text = await res.text();
	let json = null;
	if (text) {
		try {
			json = JSON.parse(text);
		} catch (e) {
			json = null;
		}
	}
	if (!res.ok) {
		const err = new ApiError(res.status, json && json.error, (json && json.message) || res.statusText,
			json && json.field);
		if (res.status === 401 && path !== '/api/login' && onUnauthorized) onUnauthorized(err);
		throw err;
	}
	return json;
}

/** Query string from an object, leaving out empty values. */
export function qs(params) {
	const u = new URLSearchParams();
	for (const [k, v] of Object.entries(params || {}))
		if (v !== undefined && v !== null && v !== '' && v !== false) u.set(k, v === true ? '1' : String(v));
	return u.toString();
}
