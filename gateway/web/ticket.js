// ticket.js - one ticket: details, DTKS, referral, the actions the server
// lists for this role (each a small form with its required fields),
// assignment, internal notes, event history and the conversation transcript.

import { api } from './api.js';
import { h, clear, fmtTime } from './dom.js';
import { t, label } from './i18n.js';
import { state, flash, showError, hasRole, stateLabel } from './core.js';

/** The form control for a field a transition requires. */
function control(name) {
	const id = `a-${name}`;
	const opts = (pairs) => h('select', { name, id, required: true },
		h('option', { value: '' }, '-'), pairs.map(([v, k]) => h('option', { value: v }, t(k))));
	switch (name) {
	case 'dtks_status':
		return opts([['registered', 'dtks_registered'], ['not_registered', 'dtks_not_registered'], ['unknown', 'dtks_unknown']]);
	case 'level':
		return opts([['city', 'level_city'], ['province', 'level_province'], ['national', 'level_national']]);
	case 'program': {
		const list = h('datalist', { id: 'a-programs' }, (state.meta.programs || []).map((p) => h('option', { value: p.code })));
		return [h('input', { name, id, required: true, maxlength: 500, list: 'a-programs' }), list];
	}
	case 'organisation':
	case 'reference':
		return h('input', { name, id, required: true, maxlength: 500 });
	default: /* outcome, reason, question and anything new */
		return h('textarea', { name, id, required: true, maxlength: 500, rows: 3 });
	}
}

const FIELD_LABEL = { dtks_status: 'dtks', level: 'level', organisation: 'organisation', program: 'program',
	reference: 'reference', outcome: 'outcome', reason: 'reason', question: 'question' };

function actionForm(tk, action, onDone) {
	const req = Array.isArray(action.requires) ? action.requires : [];
	const err = h('p', { class: 'error', role: 'alert', hidden: true });
	const form = h('form', { class: 'card action-form', id: 'action-form', dataset: { to: action.to } },
		h('h3', {}, label(action) || stateLabel(action.to)),
		req.map((f) => h('div', { class: 'field' },
			h('label', { for: `a-${f}` }, `${t(FIELD_LABEL[f] || f)} (${t('required')})`), control(f))),
		h('div', { class: 'field' }, h('label', { for: 'a-note' }, t('note')),
			h('textarea', { name: 'note', id: 'a-note', maxlength: 500, rows: 2 })),
		err,
		h('div', { class: 'buttons' },
			h('button', { type: 'submit', class: 'primary' }, t('confirm')),
			h('button', { type: 'button', class: 'cancel', onclick: () => form.remove() }, t('cancel'))));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const d = new FormData(form);
		const body = { to: action.to };
		for (const [k, v] of d.entries()) if (String(v).trim()) body[k] = String(v).trim();
		const btn = form.querySelector('button[type=submit]');
		btn.disabled = true;
		err.hidden = true;
		try {
			const j = await api('POST', `/api/tickets/${digits(tk.number)}/transition`, body);
			flash(`${t('saved')} ${stateLabel(action.to)}`, 'ok');
			onDone(j);
		} catch (e) {
			err.textContent = `${e.status || ''} ${e.message || e.code}${e.field ? ` (${e.field})` : ''}`;
			err.hidden = false;
			const bad = e.field && form.querySelector(`[name="${CSS.escape(e.field)}"]`);
			if (bad) bad.classList.add('invalid');
			btn.disabled = false;
		}
	});
	return form;
}

const digits = (n) => String(n || '').replace(/\D/g, '');

function row(k, v, id) {
	if (v === undefined || v === null || v === '') v = '-';
	return [h('dt', {}, k), h('dd', id ? { id } : {}, v)];
}

function dtksText(v) {
	return v ? t(`dtks_${v}`) : '-';
}

/* The NIK is masked; caseworkers may reveal it for the DTKS check (each
 * reveal is written to the audit log by the server). */
function nikCell(tk) {
	if (!tk.nik_masked || !hasRole('front_office', 'back_office', 'supervisor')) return tk.nik_masked;
	const shown = h('span', { id: 'nik-value' }, tk.nik_masked);
	const btn = h('button', {
		type: 'button', class: 'link', id: 'nik-reveal',
		onclick: async () => {
			try {
				const r = await api('POST', `/api/tickets/${digits(tk.number)}/nik`, {});
				shown.textContent = r && r.nik ? r.nik : tk.nik_masked;
				btn.remove();
			} catch (e) {
				showError(e);
			}
		},
	}, t('nik_reveal'));
	return [shown, ' ', btn];
}

function details(tk) {
	const ref = tk.referral;
	return h('section', { class: 'card', id: 'details' },
		h('h2', {}, t('details')),
		h('dl', { class: 'kv' },
			row(t('state'), h('span', { class: `badge st-${tk.status}` }, label(tk) || tk.status), 'd-status'),
			row(t('type'), tk.type),
			row(t('program'), tk.program),
			row(t('subject'), tk.subject === 'other' ? t('subject_other') : tk.subject ? t('subject_self') : '-'),
			row(`${t('kecamatan')} / ${t('kelurahan')}`, [tk.kecamatan, tk.kelurahan].filter(Boolean).join(' / ')),
			row(t('location'), tk.location),
			row(t('description'), tk.description),
			row(t('channel'), tk.channel),
			row(t('phone'), tk.phone_masked),
			row(t('nik'), nikCell(tk)),
			row(t('language'), tk.lang),
			row(t('created'), fmtTime(tk.created_at)),
			row(t('due'), [fmtTime(tk.due_at), tk.overdue ? h('span', { class: 'badge late' }, t('late')) : null]),
			row(t('dtks'), dtksText(tk.dtks_status), 'd-dtks'),
			ref ? row(t('referral'), `${t(`level_${ref.level}`)} - ${ref.organisation || ''} - ${ref.program || ''} - ${ref.reference || ''}`, 'd-referral') : null,
			tk.outcome ? row(t('outcome'), tk.outcome, 'd-outcome') : null,
			tk.reject_reason ? row(t('reason'), tk.reject_reason) : null,
			tk.question ? row(t('question'), tk.question) : null,
			tk.satisfaction ? row(t('satisfaction'), `${tk.satisfaction}/5`) : null,
			tk.linked_to ? row(t('linked_to'), h('a', { href: `#/ticket/${digits(tk.linked_to)}` }, tk.linked_to)) : null));
}

function actions(tk, redraw) {
	const list = Array.isArray(tk.actions) ? tk.actions : [];
	const slot = h('div', { id: 'action-slot' });
	const sec = h('section', { class: 'card', id: 'actions' }, h('h2', {}, t('actions')));
	if (!list.length) sec.append(h('p', { class: 'muted', id: 'no-actions' }, t('no_actions')));
	sec.append(h('div', { class: 'buttons' }, list.map((a) => h('button', {
		type: 'button', class: 'action', dataset: { action: a.to },
		onclick: () => {
			clear(slot).append(actionForm(tk, a, redraw));
			const first = slot.querySelector('select, input, textarea');
			if (first) first.focus();
		},
	}, label(a) || stateLabel(a.to)))), slot);
	return sec;
}

function assignment(tk, redraw) {
	const sec = h('section', { class: 'card', id: 'assignment' }, h('h2', {}, t('assign')),
		h('p', { id: 'assigned-to' }, tk.assigned_to || t('unassigned')));
	if (!hasRole('front_office', 'back_office', 'supervisor')) return sec;
	const input = h('input', { name: 'username', id: 'assign-user', placeholder: t('username'), maxlength: 64 });
	const send = async (username) => {
		try {
			const j = await api('POST', `/api/tickets/${digits(tk.number)}/assign`, { username });
			flash(t('saved'), 'ok');
			redraw(j);
		} catch (e) {
			showError(e);
		}
	};
	const form = h('form', { class: 'inline', id: 'assign-form' },
		h('label', { for: 'assign-user' }, t('assign_to')), input,
		h('button', { type: 'submit' }, t('assign')),
		h('button', { type: 'button', id: 'assign-me', onclick: () => send(state.me.username) }, t('assign_me')),
		tk.assigned_to ? h('button', { type: 'button', id: 'unassign', onclick: () => send(null) }, t('unassign')) : null);
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		if (input.value.trim()) send(input.value.trim());
	});
	sec.append(form);
	return sec;
}

function notes(tk, reload) {
	const list = Array.isArray(tk.notes) ? tk.notes : [];
	const sec = h('section', { class: 'card', id: 'notes' }, h('h2', {}, t('notes')),
		list.length ? h('ul', { class: 'notes' }, list.map((n) => h('li', {},
			h('div', { class: 'meta' }, `${n.author || ''} - ${fmtTime(n.at)}`), h('div', { class: 'text' }, n.text))))
			: h('p', { class: 'muted' }, t('no_notes')));
	if (!hasRole('front_office', 'back_office', 'supervisor')) return sec;
	const ta = h('textarea', { name: 'text', id: 'note-text', maxlength: 2000, rows: 3, required: true });
	const form = h('form', { id: 'note-form' }, h('label', { for: 'note-text' }, t('note_text')), ta,
		h('div', { class: 'buttons' }, h('button', { type: 'submit' }, t('add_note'))));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		if (!ta.value.trim()) return;
		try {
			await api('POST', `/api/tickets/${digits(tk.number)}/notes`, { text: ta.value.trim() });
			flash(t('saved'), 'ok');
			reload();
		} catch (e) {
			showError(e);
		}
	});
	sec.append(form);
	return sec;
}

function history(tk) {
	const ev = Array.isArray(tk.events) ? tk.events : [];
	return h('section', { class: 'card', id: 'history' }, h('h2', {}, t('history')),
		h('ol', { class: 'events' }, ev.map((e) => h('li', {},
			h('div', { class: 'meta' }, `${fmtTime(e.at)} - ${e.actor || ''}`),
			h('div', {}, `${e.from ? `${stateLabel(e.from)} -> ` : ''}${stateLabel(e.to)}`),
			e.note ? h('div', { class: 'text' }, e.note) : null))));
}

function transcript(tk) {
	const msgs = Array.isArray(tk.transcript) ? tk.transcript : [];
	return h('section', { class: 'card', id: 'transcript' }, h('h2', {}, t('transcript')),
		msgs.length ? h('ol', { class: 'chat' }, msgs.map((m) => h('li', { class: `msg ${m.direction === 'in' ? 'in' : 'out'}` },
			h('div', { class: 'meta' }, `${m.direction === 'in' ? t('dir_in') : t('dir_out')} - ${m.channel || ''} - ${fmtTime(m.at)}${m.status && m.direction === 'out' ? ` - ${m.status}` : ''}`),
			h('div', { class: 'text' }, m.text || ''))))
			: h('p', { class: 'muted' }, t('no_transcript')));
}

/** Draw ticket `number` into root (fetching it, or from `tk` when given). */
export async function renderTicket(root, number, tk) {
	if (!tk) tk = await api('GET', `/api/tickets/${encodeURIComponent(digits(number) || number)}`);
	const redraw = (j) => {
		clear(root);
		if (j && j.number) renderTicket(root, number, j).catch(showError);
		else renderTicket(root, number).catch(showError);
	};
	const reload = () => redraw(null);
	clear(root).append(
		h('div', { class: 'head' },
			h('h1', { id: 'ticket-title', dataset: { number: digits(tk.number) } }, `${t('ticket')} ${tk.number}`),
			h('span', { class: `badge big st-${tk.status}`, id: 'ticket-status', dataset: { status: tk.status } }, label(tk) || tk.status),
			h('a', { href: '#/queue', class: 'button' }, t('back_to_queue'))),
		h('div', { class: 'cols' },
			h('div', { class: 'col' }, actions(tk, redraw), details(tk), assignment(tk, redraw)),
			h('div', { class: 'col' }, notes(tk, reload), transcript(tk), history(tk))));
}
