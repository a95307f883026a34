// admin.js - accounts and the audit log in the console (docs/api.md "Accounts"):
// #/users (admin: list, add, disable, set a new password), #/audit (supervisor,
// admin: who did what and when, filtered, newest first, older pages by id) and
// #/password (anyone: change one's own password; every session then ends).

import { api, qs } from './api.js';
import { h, clear, fmtTime } from './dom.js';
import { t } from './i18n.js';
import { state, flash, showError, errText } from './core.js';

const ROLES = ['front_office', 'back_office', 'supervisor', 'admin'];

export const roleLabel = (r) => t(`role_${r}`);

function input(name, attrs = {}) {
	return h('input', { name, id: `u-${name}`, ...attrs });
}

function field(labelText, control) {
	return h('div', { class: 'field' }, h('label', { for: control.id }, labelText), control);
}

// ---------------------------------------------------------------- users

function addForm(reload) {
	const err = h('p', { class: 'error', role: 'alert', hidden: true });
	const form = h('form', { class: 'card', id: 'user-add' },
		h('h2', {}, t('user_add')),
		h('div', { class: 'filters plain' },
			field(t('username'), input('username', { required: true, maxlength: 32, autocomplete: 'off', pattern: '[a-z0-9][a-z0-9._\\-]{2,31}' })),
			field(t('full_name'), input('name', { maxlength: 127 })),
			field(t('role'), h('select', { name: 'role', id: 'u-role', required: true },
				h('option', { value: '' }, '-'), ROLES.map((r) => h('option', { value: r }, roleLabel(r))))),
			field(t('language'), h('select', { name: 'lang', id: 'u-lang' },
				h('option', { value: 'id' }, 'Bahasa Indonesia'), h('option', { value: 'en' }, 'English'))),
			field(t('password_new'), input('password', { type: 'password', required: true, minlength: 10, autocomplete: 'new-password' }))),
		h('p', { class: 'meta' }, t('password_rule')),
		err,
		h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, t('user_add'))));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		err.hidden = true;
		const d = Object.fromEntries(new FormData(form).entries());
		if (!d.name) delete d.name;
		try {
			await api('POST', '/api/users', d);
			flash(`${t('saved')} ${d.username}`, 'ok');
			reload();
		} catch (e) {
			err.textContent = errText(e);
			err.hidden = false;
		}
	});
	return form;
}

function passwordForm(u, slot, reload) {
	const pass = h('input', { type: 'password', name: 'password', id: 'u-reset-password', required: true, minlength: 10, autocomplete: 'new-password' });
	const form = h('form', { class: 'inline', id: 'user-reset' },
		h('label', { for: 'u-reset-password' }, `${t('password_new')} (${u.username})`), pass,
		h('button', { type: 'submit', class: 'primary' }, t('confirm')),
		h('button', { type: 'button', onclick: () => clear(slot) }, t('cancel')));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		try {
			await api('POST', `/api/users/${encodeURIComponent(u.username)}/password`, { password: pass.value });
			flash(t('password_set'), 'ok');
			reload();
		} catch (e) {
			showError(e);
		}
	});
	return form;
}

export async function renderUsers(root) {
	const reload = () => renderUsers(clear(root)).catch(showError);
	root.append(h('h1', {}, t('users_title')));
	const j = await api('GET', '/api/users');
	const users = (j && j.users) || [];
	const slot = h('div', { id: 'user-slot' });
	const cols = [t('username'), t('full_name'), t('role'), t('language'), t('account_state'), t('created'), ''];
	root.append(h('table', { class: 'tickets', id: 'users' },
		h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c)))),
		h('tbody', {}, users.map((u) => h('tr', { dataset: { username: u.username, disabled: u.disabled ? '1' : '0' } },
			h('td', { 'data-label': cols[0] }, u.username),
			h('td', { 'data-label': cols[1] }, u.name || '-'),
			h('td', { 'data-label': cols[2] }, roleLabel(u.role)),
			h('td', { 'data-label': cols[3] }, u.lang),
			h('td', { 'data-label': cols[4] }, u.disabled ? h('span', { class: 'badge late' }, t('disabled')) : t('active')),
			h('td', { 'data-label': cols[5] }, fmtTime(u.created_at)),
			h('td', { 'data-label': cols[6] }, u.disabled ? null : h('div', { class: 'buttons' },
				h('button', { type: 'button', class: 'reset', onclick: () => clear(slot).append(passwordForm(u, slot, reload)) }, t('password_reset')),
				u.username === state.me.username ? null : h('button', {
					type: 'button', class: 'disable',
					onclick: async () => {
						if (!window.confirm(t('disable_confirm', { u: u.username }))) return;
						try {
							await api('POST', `/api/users/${encodeURIComponent(u.username)}/disable`, {});
							flash(`${t('saved')} ${u.username}`, 'ok');
							reload();
						} catch (e) {
							showError(e);
						}
					},
				}, t('disable')))))))),
		slot, addForm(reload));
}

// ---------------------------------------------------------------- audit

export async function renderAudit(root, params) {
	const f = Object.fromEntries(params.entries());
	const form = h('form', { class: 'filters', id: 'audit-filters' },
		field(t('username'), input('user', { value: f.user || '', maxlength: 64 })),
		field(t('audit_action'), input('action', { value: f.action || '', maxlength: 64, placeholder: 'ticket, auth.login' })),
		field(t('audit_target'), input('target', { value: f.target || '', maxlength: 96, placeholder: 'ticket:48210934' })),
		field(t('date_from'), input('from', { type: 'date', value: f.from || '' })),
		field(t('date_to'), input('to', { type: 'date', value: f.to || '' })),
		h('div', { class: 'buttons' },
			h('button', { type: 'submit', class: 'primary' }, t('filter')),
			h('a', { href: '#/audit', class: 'button' }, t('reset'))));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		const p = {};
		for (const [k, v] of new FormData(form).entries()) if (String(v).trim()) p[k] = String(v).trim();
		location.hash = `#/audit?${qs(p)}`;
	});
	root.append(h('h1', {}, t('audit_title')), form);
	const j = await api('GET', `/api/audit?${qs({ ...f, limit: 100 })}`);
	const rows = (j && j.entries) || [];
	const cols = [t('audit_when'), t('username'), t('audit_action'), t('audit_target'), t('audit_detail')];
	root.append(rows.length ? h('table', { class: 'tickets', id: 'audit' },
		h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c)))),
		h('tbody', {}, rows.map((e) => h('tr', { dataset: { action: e.action } },
			h('td', { 'data-label': cols[0] }, fmtTime(e.at)),
			h('td', { 'data-label': cols[1] }, e.username),
			h('td', { 'data-label': cols[2] }, e.action),
			h('td', { 'data-label': cols[3] }, targetLink(e.target)),
			h('td', { 'data-label': cols[4], class: 'text' }, e.detail || '-')))))
		: h('p', { class: 'muted', id: 'no-audit' }, t('none_audit')));
	if (j && j.next_before)
		root.append(h('div', { class: 'pager' },
			h('a', { class: 'button', id: 'audit-older', href: `#/audit?${qs({ ...f, before: j.next_before })}` }, t('older'))));
}

function targetLink(target) {
	if (!target) return '-';
	const m = /^ticket:(\d{8})$/.exec(target);
	return m ? h('a', { href: `#/ticket/${m[1]}` }, target) : target;
}

// ---------------------------------------------------------------- own password

export function renderPassword(root, onDone) {
	const err = h('p', { class: 'error', role: 'alert', hidden: true });
	const old = h('input', { type: 'password', name: 'old_password', id: 'p-old', required: true, autocomplete: 'current-password' });
	const nw = h('input', { type: 'password', name: 'new_password', id: 'p-new', required: true, minlength: 10, autocomplete: 'new-password' });
	const form = h('form', { class: 'card login', id: 'password-form' },
		h('h1', {}, t('password_change')),
		h('label', { for: 'p-old' }, t('password_old')), old,
		h('label', { for: 'p-new' }, t('password_new')), nw,
		h('p', { class: 'meta' }, `${t('password_rule')} ${t('password_relogin')}`),
		err,
		h('button', { type: 'submit', class: 'primary' }, t('confirm')));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		err.hidden = true;
		try {
			await api('POST', '/api/me/password', { old_password: old.value, new_password: nw.value });
			onDone();
		} catch (e) {
			err.textContent = errText(e);
			err.hidden = false;
		}
	});
	root.append(form);
	old.focus();
}
