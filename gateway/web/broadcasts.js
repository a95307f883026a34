// broadcasts.js - program information to residents by area and program
// (docs/api-broadcasts.md): list with progress, create a draft, preview
// (recipients, SMS encoding and segments, duration, quiet hours), approve
// (four eyes: never the author), send, pause, resume, cancel.

import { api } from './api.js';
import { h, clear, fmtTime } from './dom.js';
import { t } from './i18n.js';
import { state, flash, showError, hasRole } from './core.js';

const BUTTONS = {
	draft: [['approve', 'bc_approve'], ['cancel', 'bc_cancel']],
	approved: [['send', 'bc_send'], ['cancel', 'bc_cancel']],
	sending: [['pause', 'bc_pause'], ['cancel', 'bc_cancel']],
	paused: [['resume', 'bc_resume'], ['cancel', 'bc_cancel']],
};

function progressBar(p) {
	if (!p || !p.total) return null;
	const done = (p.sent || 0) + (p.delivered || 0) + (p.failed || 0) + (p.skipped || 0) + (p.cancelled || 0);
	const pct = Math.round((100 * done) / p.total);
	return h('div', { class: 'progress' },
		h('progress', { max: p.total, value: done }, `${pct}%`),
		h('span', { class: 'meta' }, ` ${pct}% - ${['sent', 'delivered', 'failed', 'skipped', 'pending', 'queued']
			.map((k) => `${k} ${p[k] || 0}`).join(', ')}`));
}

function previewBox(pv) {
	const texts = Object.entries(pv.texts || {});
	return h('div', { class: 'preview' },
		h('p', {}, t('bc_recipients', { n: pv.total ?? 0 }),
			pv.start ? ` - ${pv.start} -> ${pv.finish || ''}` : '',
			pv.quiet_now ? ` (${pv.quiet_hours})` : ''),
		h('ul', {}, (pv.channels || []).map((c) => h('li', { class: c.sendable ? '' : 'error' },
			`${c.channel}: ${c.count} (id ${c.lang_id || 0}, en ${c.lang_en || 0})`))),
		h('ul', {}, texts.map(([lang, x]) => h('li', { class: x.warning ? 'error' : '' },
			`${lang}: ${x.encoding}, ${x.chars} / ${x.segments} SMS${x.warning ? ` - ${x.warning}` : ''}`))));
}

function item(b, redraw) {
	const seg = b.segment || {};
	const segText = Object.entries(seg).filter(([, v]) => v).map(([k, v]) => `${k}=${v}`).join(', ') || '-';
	const slot = h('div', {});
	const act = async (verb) => {
		try {
			await api('POST', `/api/broadcasts/${b.id}/${verb}`, {});
			flash(t('saved'), 'ok');
			redraw();
		} catch (e) {
			showError(e);
		}
	};
	const own = state.me && b.author === state.me.username;
	const buttons = (BUTTONS[b.state] || []).filter(([v]) => v !== 'approve' || (!own && hasRole('supervisor', 'admin')));
	return h('li', { class: 'card', dataset: { id: b.id, state: b.state } },
		h('div', { class: 'head' }, h('b', {}, `#${b.id}`), h('span', { class: `badge bc-${b.state}` }, b.state),
			h('span', { class: 'meta' }, `${b.author || ''} - ${fmtTime(b.created_ms ? new Date(b.created_ms).toISOString() : '')}`)),
		h('div', { class: 'text' }, b.text_id || ''),
		b.text_en ? h('div', { class: 'text muted' }, b.text_en) : null,
		h('div', { class: 'meta' }, `${segText}${b.schedule ? ` - ${b.schedule}` : ''}`),
		progressBar(b.progress),
		h('div', { class: 'buttons' },
			h('button', { type: 'button', dataset: { verb: 'preview' }, onclick: async () => {
				try {
					clear(slot).append(previewBox(await api('GET', `/api/broadcasts/${b.id}/preview`)));
				} catch (e) {
					showError(e);
				}
			} }, t('bc_preview')),
			buttons.map(([verb, key]) => h('button', { type: 'button', dataset: { verb }, onclick: () => act(verb) }, t(key)))),
		slot);
}

function createForm(redraw) {
	const m = state.meta;
	const sel = (name, opts) => h('select', { name, id: `b-${name}` }, h('option', { value: '' }, t('all')),
		opts.map((o) => h('option', { value: o }, o)));
	const form = h('form', { class: 'card', id: 'bc-form' },
		h('h2', {}, t('bc_new')),
		h('div', { class: 'field' }, h('label', { for: 'b-text_id' }, t('bc_text')),
			h('textarea', { name: 'text_id', id: 'b-text_id', required: true, maxlength: 1600, rows: 3 })),
		h('div', { class: 'field' }, h('label', { for: 'b-text_en' }, t('bc_text_en')),
			h('textarea', { name: 'text_en', id: 'b-text_en', maxlength: 1600, rows: 2 })),
		h('div', { class: 'filters' },
			h('div', { class: 'field' }, h('label', { for: 'b-kecamatan' }, t('kecamatan')), sel('kecamatan', m.areas.map((a) => a.kecamatan))),
			h('div', { class: 'field' }, h('label', { for: 'b-kelurahan' }, t('kelurahan')),
				h('input', { name: 'kelurahan', id: 'b-kelurahan', maxlength: 64 })),
			h('div', { class: 'field' }, h('label', { for: 'b-program' }, t('program')), sel('program', m.programs.map((p) => p.code))),
			h('div', { class: 'field' }, h('label', { for: 'b-lang' }, t('language')), sel('lang', ['id', 'en'])),
			h('div', { class: 'field' }, h('label', { for: 'b-schedule' }, t('bc_start')),
				h('input', { name: 'schedule', id: 'b-schedule', placeholder: 'YYYY-MM-DD HH:MM', maxlength: 16 }))),
		h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, t('bc_create'))));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const d = new FormData(form);
		const v = (k) => String(d.get(k) || '').trim();
		const segment = {};
		for (const k of ['kecamatan', 'kelurahan', 'program', 'lang']) if (v(k)) segment[k] = v(k);
		const body = { text_id: v('text_id'), segment };
		if (v('text_en')) body.text_en = v('text_en');
		if (v('schedule')) body.schedule = v('schedule');
		try {
			await api('POST', '/api/broadcasts', body);
			flash(t('saved'), 'ok');
			redraw();
		} catch (e) {
			showError(e);
		}
	});
	return form;
}

export async function renderBroadcasts(root) {
	root.append(h('h1', {}, t('bc_title')));
	let j;
	try {
		j = await api('GET', '/api/broadcasts');
	} catch (e) {
		if (e.status === 404) {
			root.append(h('p', { class: 'muted' }, t('bc_unavailable')));
			return;
		}
		throw e;
	}
	const redraw = () => {
		clear(root);
		renderBroadcasts(root).catch(showError);
	};
	const list = (j && j.broadcasts) || [];
	root.append(createForm(redraw));
	if (!list.length) root.append(h('p', { class: 'muted', id: 'bc-none' }, t('bc_none')));
	else root.append(h('ul', { class: 'broadcasts', id: 'broadcasts' }, list.map((b) => item(b, redraw))));
}
