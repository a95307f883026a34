// dashboard.js - the supervisor's numbers as inline SVG charts (no library):
// horizontal bars for counts by state/program/kecamatan and median hours,
// percentage bars for SLA compliance, columns for new tickets per week.

import { api } from './api.js';
import { h, s } from './dom.js';
import { t } from './i18n.js';
import { stateLabel } from './core.js';

const W = 480;
const ROW = 26;
const LABEL_W = 170;

/** Horizontal bars for [[label, value]], value text fmt(v). */
function bars(id, entries, fmt = (v) => String(v), max) {
	if (!entries.length) return h('p', { class: 'muted' }, t('no_data'));
	const top = max || Math.max(1, ...entries.map((e) => e[1]));
	const height = entries.length * ROW + 4;
	const svg = s('svg', { viewBox: `0 0 ${W} ${height}`, class: 'chart', id, role: 'img' });
	entries.forEach(([name, v], i) => {
		const y = i * ROW + 2;
		const bw = Math.max(v > 0 ? 2 : 0, Math.round(((W - LABEL_W - 60) * v) / top));
		const g = s('g', { 'data-label': name, 'data-value': v });
		g.append(s('text', { x: LABEL_W - 6, y: y + 16, 'text-anchor': 'end', class: 'axis' }, name.length > 24 ? `${name.slice(0, 23)}-` : name));
		g.append(s('rect', { x: LABEL_W, y: y + 3, width: bw, height: ROW - 8, rx: 2, class: 'bar' }, s('title', {}, `${name}: ${fmt(v)}`)));
		g.append(s('text', { x: LABEL_W + bw + 6, y: y + 16, class: 'value' }, fmt(v)));
		svg.append(g);
	});
	return svg;
}

/** Vertical columns for [{week_start, count}]. */
function columns(id, weeks) {
	if (!weeks.length) return h('p', { class: 'muted' }, t('no_data'));
	const H = 160;
	const base = H - 24;
	const top = Math.max(1, ...weeks.map((w) => w.count || 0));
	const cw = W / weeks.length;
	const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', id, role: 'img' });
	weeks.forEach((w, i) => {
		const v = w.count || 0;
		const bh = Math.round(((base - 18) * v) / top);
		const x = i * cw + 4;
		const g = s('g', { 'data-label': w.week_start, 'data-value': v });
		g.append(s('rect', { x, y: base - bh, width: cw - 8, height: bh, rx: 2, class: 'bar' }, s('title', {}, `${w.week_start}: ${v}`)));
		g.append(s('text', { x: x + (cw - 8) / 2, y: base - bh - 4, 'text-anchor': 'middle', class: 'value' }, v));
		const d = String(w.week_start || '');
		g.append(s('text', { x: x + (cw - 8) / 2, y: H - 8, 'text-anchor': 'middle', class: 'axis small' }, d.slice(8, 10) + '/' + d.slice(5, 7)));
		svg.append(g);
	});
	return svg;
}

const pct = (v) => (v === null || v === undefined ? '-' : `${Math.round(v * 100)}%`);
const entries = (o) => Object.entries(o || {}).map(([k, v]) => [k, Number(v) || 0]);

function card(title, body, wide) {
	return h('section', { class: wide ? 'card wide' : 'card' }, h('h2', {}, title), body);
}

export async function renderDashboard(root) {
	root.append(h('h1', {}, t('dash_title')));
	const d = await api('GET', '/api/dashboard');
	const sla = d.sla || {};
	const slaRows = [];
	if (sla.compliance !== null && sla.compliance !== undefined) slaRows.push([t('sla_all'), sla.compliance]);
	if (sla.resolution_compliance !== null && sla.resolution_compliance !== undefined) slaRows.push([t('sla_resolved'), sla.resolution_compliance]);
	const medians = entries(d.median_resolution_hours).map(([k, v]) => [k, Math.round(v * 10) / 10]);
	root.append(
		h('div', { class: 'stats' },
			h('div', { class: 'stat', id: 'stat-open' }, h('b', {}, String(d.open ?? '-')), t('open')),
			h('div', { class: 'stat late', id: 'stat-overdue' }, h('a', { href: '#/overdue' }, h('b', {}, String(d.overdue ?? '-')), t('overdue')))),
		h('div', { class: 'grid' },
			card(t('by_state'), bars('chart-state', entries(d.by_state).map(([k, v]) => [stateLabel(k), v]))),
			card(t('by_program'), bars('chart-program', entries(d.by_program))),
			card(t('by_kecamatan'), bars('chart-kecamatan', entries(d.by_kecamatan))),
			card(t('sla'), bars('chart-sla', slaRows, pct, 1)),
			card(t('median'), bars('chart-median', medians)),
			card(t('weekly'), columns('chart-weekly', Array.isArray(d.weekly_new) ? d.weekly_new : []))));
}
