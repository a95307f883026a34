// dom.js - building DOM nodes without innerHTML (every text goes through
// textContent, so data from the API can never become markup).

/** h('div', {class: 'x', onclick: fn, dataset: {a: 1}}, child, 'text', [more]) */
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k === 'class') el.className = v;
		else if (k === 'dataset') Object.assign(el.dataset, v);
		else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
		else if (k === 'value') el.value = v;
		else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'hidden' || k === 'required')
			el[k] = Boolean(v);
		else el.setAttribute(k, v === true ? '' : String(v));
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === undefined || c === null || c === false) continue;
		if (Array.isArray(c)) append(el, c);
		else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
}

const SVG = 'http://www.w3.org/2000/svg';
/** An SVG element with attributes (presentation attributes are allowed under the CSP). */
export function s(tag, attrs, ...children) {
	const el = document.createElementNS(SVG, tag);
	for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
	for (const c of children) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	return el;
}

export function clear(el) {
	while (el.firstChild) el.removeChild(el.firstChild);
	return el;
}

/** "2026-11-22T15:44:25Z" -> "22/11/2026 22:44" in the browser's time zone. */
export function fmtTime(iso) {
	if (!iso) return '-';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return String(iso);
	const p = (n) => String(n).padStart(2, '0');
	return `${p(d.getDate())}/${p(d.getMonth() + 1)}/${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function fmtDate(iso) {
	return iso ? fmtTime(iso).slice(0, 10) : '-';
}
