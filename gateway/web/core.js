// core.js - what every screen shares: the signed-in user, /api/meta, the
// message line above the page, role checks.

import { t, label } from './i18n.js';

export const state = { me: null, meta: null };
// ---------------------------------------------------------------- messages

let flashTimer = 0;
/** Show a message above the page: kind 'error' (stays) or 'ok' (fades). */
export function flash(text, kind = 'error') {
	const f = document.getElementById('flash');
	f.textContent = text;
	f.className = `flash ${kind}`;
	f.hidden = !text;
	clearTimeout(flashTimer);
	if (kind === 'ok') flashTimer = setTimeout(() => (f.hidden = true), 4000);
}

/** The message to show for an ApiError. */
export function errText(e) {
	if (!e) return t('error');
	if (e.status === 0) return t('network');
	if (e.status === 403 && (!e.message || e.code === 'forbidden')) return t('forbidden');
	const field = e.field ? ` (${e.field})` : '';
	return `${t('error')} ${e.status || ''}: ${e.message || e.code}${field}`;
}

export function showError(e) {
	flash(errText(e), 'error');
}


export function hasRole(...roles) {
	return state.me && roles.includes(state.me.role);
}

export function stateLabel(id) {
	const s = state.meta && state.meta.states.find((x) => x.id === id);
	return s ? label(s) : id;
}
