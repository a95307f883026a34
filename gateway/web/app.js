// app.js - the staff console: session, navigation (hash routes), the queues.
//
// Routes: #/login, #/queue?<filters>, #/overdue, #/ticket/<number>,
// #/dashboard, #/broadcasts, #/audit?<filters>, #/users, #/password (admin.js). Every screen draws into <main id="main"> from the
// JSON API (docs/api.md, docs/api-tickets.md); nothing is cached except the
// signed-in user and /api/meta. State-changing requests carry the CSRF token
// from /api/login or /api/me (api.js).

import { api, qs, setCsrf, setUnauthorizedHandler } from './api.js';
import { h, clear, fmtTime, fmtDate } from './dom.js';
import { t, getLang, setLang, label } from './i18n.js';
import { renderTicket } from './ticket.js';
import { renderDashboard } from './dashboard.js';
import { renderBroadcasts } from './broadcasts.js';
import { renderUsers, renderAudit, renderPassword, roleLabel } from './admin.js';
import { state, flash, errText } from './core.js';

const PAGE = 50;

const main = () => document.getElementById('main');

// ---------------------------------------------------------------- session

function applyMe(j) {
	const u = (j && (j.user || j)) || {};
	state.me = {
		username: u.username || '',
		name: u.name || u.username || '',
		role: u.role || '',
		lang: u.lang || '',
	};
	setCsrf((j && (j.csrf_token || j.csrf)) || u.csrf_token || u.csrf || '');
}


async function loadMeta() {
	try {
		state.meta = await api('GET', '/api/meta');
	} catch (e) {
		state.meta = null;
	}
	if (!state.meta) state.meta = {};
	for (const k of ['states', 'programs', 'areas', 'channels', 'types', 'transitions'])
		if (!Array.isArray(state.meta[k])) state.meta[k] = [];
}


/** The page after one's own password changed: every session ended, sign in again. */
function passwordChanged() {
	state.me = null;
	setCsrf('');
	showChrome();
	location.hash = '#/login';
	flash(t('password_changed'), 'ok');
}

function showChrome() {
	const signed = Boolean(state.me);
	document.getElementById('nav').hidden = !signed;
	document.getElementById('logout').hidden = !signed;
	const bc = document.querySelector('[data-nav="broadcasts"]');
	if (bc) bc.hidden = !signed || state.me.role === 'front_office';
	const show = { audit: ['supervisor', 'admin'], users: ['admin'] };
	for (const [k, roles] of Object.entries(show))
		document.querySelector(`[data-nav="${k}"]`).hidden = !signed || !roles.includes(state.me.role);
	const who = document.getElementById('who-name');
	who.textContent = signed ? `${state.me.name} (${roleLabel(state.me.role)})` : '';
	who.title = t('password_change');
	who.hidden = !signed;
	document.getElementById('lang-switch').textContent = t('lang_other');
	for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
	document.title = `Pintu - ${getLang() === 'en' ? 'Staff console' : 'Konsol Petugas'}`;
}

async function logout() {
	try {
		await api('POST', '/api/logout', {});
	} catch (e) { /* the session may be gone already */ }
	state.me = null;
	setCsrf('');
	showChrome();
	location.hash = '#/login';
}

// ---------------------------------------------------------------- login

function renderLogin(root, note) {
	const err = h('p', { class: 'error', id: 'login-error', role: 'alert', hidden: !note }, note || '');
	const user = h('input', { name: 'username', id: 'username', autocomplete: 'username', required: true });
	const pass = h('input', { name: 'password', id: 'password', type: 'password', autocomplete: 'current-password', required: true });
	const form = h('form', { class: 'card login', id: 'login-form' },
		h('h1', {}, t('login_title')),
		h('label', { for: 'username' }, t('username')), user,
		h('label', { for: 'password' }, t('password')), pass,
		err,
		h('button', { type: 'submit', class: 'primary' }, t('login')));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		err.hidden = true;
		try {
			const j = await api('POST', '/api/login', { username: user.value.trim(), password: pass.value });
			applyMe(j);
			if (!state.me.role) applyMe(await api('GET', '/api/me'));
			if (state.me.lang === 'id' || state.me.lang === 'en') setLang(state.me.lang);
			await loadMeta();
			showChrome();
			flash('');
			location.hash = '#/queue';
			route();
		} catch (e) {
			err.textContent = `${t('login_failed')}: ${e.message || e.code}`;
			err.hidden = false;
			pass.value = '';
		}
	});
	root.append(form);
	user.focus();
}

// ---------------------------------------------------------------- queues

function option(value, text, selected) {
	return h('option', { value, selected: value === selected }, text);
}

function select(name, opts, cur) {
	return h('select', { name, id: `f-${name}` }, option('', t('all'), cur), opts.map((o) => option(o.value, o.text, cur)));
}

function field(name, labelText, control) {
	return h('div', { class: 'field' }, h('label', { for: control.id || '' }, labelText), control);
}

function typeOption(x) {
	if (typeof x === 'string') return { value: x, text: x };
	return { value: x.id || x.code, text: label(x) || x.id || x.code };
}

function filterForm(f) {
	const m = state.meta;
	const kecs = m.areas.map((a) => ({ value: a.kecamatan, text: a.kecamatan }));
	const area = m.areas.find((a) => a.kecamatan === f.kecamatan);
	const kels = (area ? [area] : m.areas).flatMap((a) => (a.kelurahan || []).map((k) => {
		const n = typeof k === 'string' ? k : k.name;
		return { value: n, text: n };
	}));
	const kecSel = select('kecamatan', kecs, f.kecamatan || '');
	const kelSel = select('kelurahan', kels, f.kelurahan || '');
	const form = h('form', { class: 'filters', id: 'filters' },
		h('div', { class: 'field grow' },
			h('label', { for: 'f-q' }, t('search')),
			h('input', { name: 'q', id: 'f-q', type: 'search', value: f.q || '', placeholder: t('search_ph') })),
		field('status', t('state'), select('status', m.states.map((s) => ({ value: s.id, text: label(s) })), f.status || '')),
		field('program', t('program'), select('program', m.programs.map((p) => ({ value: p.code, text: p.code })), f.program || '')),
		field('type', t('type'), select('type', m.types.map(typeOption), f.type || '')),
		field('kecamatan', t('kecamatan'), kecSel),
		field('kelurahan', t('kelurahan'), kelSel),
		field('channel', t('channel'), select('channel', m.channels.map((c) => ({ value: c, text: c })), f.channel || '')),
		h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'overdue', id: 'f-overdue', checked: f.overdue === '1' }), t('overdue_only')),
		h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'mine', id: 'f-mine', checked: f.mine === '1' }), t('mine_only')),
		h('div', { class: 'buttons' },
			h('button', { type: 'submit', class: 'primary' }, t('filter')),
			h('a', { href: '#/queue', class: 'button' }, t('reset'))));
	kecSel.addEventListener('change', () => {
		kelSel.value = '';
		form.requestSubmit();
	});
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		const d = new FormData(form);
		const p = {};
		for (const k of ['q', 'status', 'program', 'type', 'kecamatan', 'kelurahan', 'channel'])
			if (d.get(k)) p[k] = String(d.get(k)).trim();
		if (d.get('overdue')) p.overdue = '1';
		if (d.get('mine')) p.mine = '1';
		location.hash = `#/queue?${qs(p)}`;
	});
	return form;
}

function ticketTable(rows) {
	if (!rows.length) return h('p', { class: 'muted', id: 'no-tickets' }, t('none_found'));
	const cols = [t('number'), t('state'), t('program'), t('type'), `${t('kecamatan')} / ${t('kelurahan')}`,
		t('channel'), t('phone'), t('assigned'), t('due'), t('created')];
	return h('table', { class: 'tickets', id: 'tickets' },
		h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c)))),
		h('tbody', {}, rows.map((r) => {
			const num = String(r.number || '');
			return h('tr', { dataset: { number: num.replace(/\D/g, ''), status: r.status }, class: r.overdue ? 'overdue' : '' },
				h('td', { 'data-label': cols[0] }, h('a', { href: `#/ticket/${num.replace(/\D/g, '')}`, class: 'ticket-link' }, num)),
				h('td', { 'data-label': cols[1] }, h('span', { class: `badge st-${r.status}` }, label(r) || r.status)),
				h('td', { 'data-label': cols[2] }, r.program || '-'),
				h('td', { 'data-label': cols[3] }, r.type || '-'),
				h('td', { 'data-label': cols[4] }, [r.kecamatan, r.kelurahan].filter(Boolean).join(' / ') || '-'),
				h('td', { 'data-label': cols[5] }, r.channel || '-'),
				h('td', { 'data-label': cols[6] }, r.phone_masked || '-'),
				h('td', { 'data-label': cols[7] }, r.assigned_to || '-'),
				h('td', { 'data-label': cols[8] }, fmtDate(r.due_at),
					r.overdue ? h('span', { class: 'badge late' }, t('late')) : null,
					r.escalated ? h('span', { class: 'badge esc' }, t('escalated')) : null),
				h('td', { 'data-label': cols[9] }, fmtTime(r.created_at)));
		})));
}

async function renderQueue(root, params) {
	const f = Object.fromEntries(params.entries());
	const offset = Math.max(0, Number(f.offset) || 0);
	delete f.offset;
	const exportHref = `/api/export.csv${qs(f) ? `?${qs(f)}` : ''}`;
	root.append(h('div', { class: 'head' },
		h('h1', {}, t('queue_title')),
		h('a', { href: exportHref, class: 'button', id: 'export-csv', download: 'tickets.csv' }, t('export_csv'))));
	root.append(filterForm(f));
	const list = h('div', { id: 'list' }, h('p', { class: 'muted' }, t('loading')));
	root.append(list);
	const j = await api('GET', `/api/tickets?${qs({ ...f, limit: PAGE, offset })}`);
	clear(list);
	const rows = (j && j.tickets) || [];
	const total = (j && j.total) || 0;
	list.append(h('p', { class: 'muted', id: 'total' }, t('total', { n: total })), ticketTable(rows));
	if (total > PAGE) {
		const to = (o) => `#/queue?${qs({ ...f, offset: o || '' })}`;
		list.append(h('div', { class: 'pager' },
			offset > 0 ? h('a', { href: to(Math.max(0, offset - PAGE)), class: 'button' }, t('prev')) : null,
			h('span', {}, `${offset + 1}-${Math.min(total, offset + PAGE)} / ${total}`),
			offset + PAGE < total ? h('a', { href: to(offset + PAGE), class: 'button' }, t('next')) : null));
	}
}

async function renderOverdue(root) {
	root.append(h('div', { class: 'head' }, h('h1', {}, t('overdue_title')),
		h('a', { href: '/api/export.csv?overdue=1', class: 'button', download: 'tickets.csv' }, t('export_csv'))));
	const j = await api('GET', '/api/queues/overdue');
	const rows = (j && j.tickets) || [];
	root.append(h('p', { class: 'muted', id: 'total' }, t('total', { n: (j && j.total) || rows.length })), ticketTable(rows));
}

// ---------------------------------------------------------------- router

let routeSeq = 0;
export async function route() {
	const seq = ++routeSeq;
	const raw = location.hash.replace(/^#/, '') || '/queue';
	const [path, query] = raw.split('?');
	const params = new URLSearchParams(query || '');
	const root = clear(main());
	const parts = path.split('/').filter(Boolean);
	const name = parts[0] || 'queue';
	for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === name);
	if (!state.me) {
		renderLogin(root, name === 'login' ? '' : params.get('expired') ? t('session_expired') : '');
		return;
	}
	if (name === 'login') {
		location.hash = '#/queue';
		return;
	}
	try {
		if (name === 'ticket' && parts[1]) await renderTicket(root, decodeURIComponent(parts[1]));
		else if (name === 'overdue') await renderOverdue(root);
		else if (name === 'dashboard') await renderDashboard(root);
		else if (name === 'broadcasts') await renderBroadcasts(root);
		else if (name === 'users') await renderUsers(root);
		else if (name === 'audit') await renderAudit(root, params);
		else if (name === 'password') renderPassword(root, passwordChanged);
		else await renderQueue(root, params);
	} catch (e) {
		if (seq !== routeSeq || e.status === 401) return;
		root.append(h('p', { class: 'error', id: 'page-error', role: 'alert' }, errText(e)));
	}
}

async function start() {
	setLang(getLang());
	document.getElementById('lang-switch').addEventListener('click', () => {
		setLang(getLang() === 'en' ? 'id' : 'en');
		showChrome();
		route();
		// kept with the account too, so it follows the person, not the PC
		if (state.me) {
			state.me.lang = getLang();
			api('POST', '/api/me', { lang: getLang() }).catch(() => {});
		}
	});
	document.getElementById('logout').addEventListener('click', logout);
	setUnauthorizedHandler(() => {
		if (!state.me) return;
		state.me = null;
		setCsrf('');
		showChrome();
		flash(t('session_expired'));
		location.hash = '#/login';
	});
	try {
		applyMe(await api('GET', '/api/me'));
		if (state.me.lang === 'id' || state.me.lang === 'en') setLang(state.me.lang);
		await loadMeta();
	} catch (e) {
		state.me = null;
	}
	showChrome();
	window.addEventListener('hashchange', route);
	await route();
}

start();
