// simulator.js - a phone on the screen for demos and staff training: dial the
// USSD code or send SMS to this gateway through POST /api/simulator, which
// runs the message through the same engine as a provider's webhook. No login.

const $ = (id) => document.getElementById(id);
let info = { ussd_code: '', short_code: '', channels: {} };
let session = '';
let ended = true;

function channel() {
	return $('ch-sms').checked ? 'sms' : 'ussd';
}

function showError(msg) {
	$('sim-error').textContent = msg || '';
	$('sim-error').hidden = !msg;
}

function randomPhone() {
	let n = '';
	for (let i = 0; i < 8; i++) n += String(Math.floor(Math.random() * 10));
	return `+62812${n}`;
}

let seq = 0;
/** Put a screen on the phone; data-seq counts answers (the browser tests wait on it). */
function show(text, end) {
	const sc = $('screen');
	while (sc.firstChild) sc.removeChild(sc.firstChild);
	const body = document.createElement('span');
	body.id = 'screen-text';
	body.textContent = text || '';
	sc.append(body);
	sc.dataset.end = end ? '1' : '0';
	sc.dataset.seq = String(++seq);
	if (end && channel() === 'ussd') {
		const e = document.createElement('span');
		e.className = 'end';
		e.textContent = '[Sesi selesai / Session ended]';
		sc.append(e);
	}
}

function addSms(from, text, dir) {
	const li = document.createElement('li');
	li.className = `msg ${dir}`;
	const m = document.createElement('div');
	m.className = 'meta';
	m.textContent = from;
	const t = document.createElement('div');
	t.className = 'text';
	t.textContent = text;
	li.append(m, t);
	$('sms-list').append(li);
	li.scrollIntoView({ block: 'nearest' });
}

async function post(body) {
	showError('');
	let res;
	try {
		res = await fetch('/api/simulator', {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify(body),
		});
	} catch (e) {
		showError('Server tidak dapat dihubungi. / Cannot reach the server.');
		return null;
	}
	const j = await res.json().catch(() => null);
	if (!res.ok) {
		showError(`${res.status}: ${(j && j.message) || res.statusText}`);
		return null;
	}
	for (const m of (j && j.sms) || []) addSms(`SMS ${info.short_code || ''}`.trim(), m.text, 'out');
	return j;
}

async function dial() {
	if (channel() !== 'ussd') return;
	const j = await post({ channel: 'ussd', from: $('sim-phone').value });
	if (!j) return;
	session = j.session || '';
	ended = Boolean(j.end);
	show(j.text, j.end);
	$('phone-input').focus();
}

async function send(text) {
	if (channel() === 'ussd') {
		if (ended || !session) return dial();
		const j = await post({ channel: 'ussd', from: $('sim-phone').value, session, text });
		if (!j) return;
		ended = Boolean(j.end);
		if (ended) session = '';
		show(j.text, j.end);
		return;
	}
	if (!text) return;
	addSms('Anda / You', text, 'in');
	const j = await post({ channel: 'sms', from: $('sim-phone').value, text });
	if (!j) return;
	if (j.text) addSms(`SMS ${info.short_code || ''}`.trim(), j.text, 'out');
	show(j.text || '', false);
}

function setMode() {
	const ussd = channel() === 'ussd';
	$('dial').hidden = !ussd;
	$('hangup').hidden = !ussd;
	$('keypad').hidden = !ussd;
	$('phone-input').placeholder = ussd ? 'Balas / Reply' : `SMS ke / to ${info.short_code || ''}`;
	session = '';
	ended = true;
	show(ussd ? `Tekan "Panggil" untuk ${info.ussd_code || 'USSD'}. / Press "Dial".`
		: 'Ketik SMS, mis. ADUAN atau CEK <nomor>. / Type an SMS, e.g. ADUAN or CEK <number>.', false);
}

async function start() {
	$('sim-phone').value = randomPhone();
	try {
		const r = await fetch('/api/simulator');
		if (r.ok) info = await r.json();
	} catch (e) { /* the page still works without the office details */ }
	$('office').textContent = [info.office, info.ussd_code && `USSD ${info.ussd_code}`,
		info.short_code && `SMS ${info.short_code}`].filter(Boolean).join(' - ');
	$('dial').textContent = `Panggil / Dial ${info.ussd_code || ''}`.trim();
	if (!info.channels || !info.channels.sms) $('ch-sms').disabled = true;
	if (!info.channels || !info.channels.ussd) {
		$('ch-ussd').disabled = true;
		$('ch-sms').checked = true;
	}
	for (const k of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#']) {
		const b = document.createElement('button');
		b.type = 'button';
		b.textContent = k;
		b.dataset.key = k;
		b.addEventListener('click', () => {
			$('phone-input').value += k;
			$('phone-input').focus();
		});
		$('keypad').append(b);
	}
	$('ch-ussd').addEventListener('change', setMode);
	$('ch-sms').addEventListener('change', setMode);
	$('dial').addEventListener('click', dial);
	$('hangup').addEventListener('click', () => {
		session = '';
		ended = true;
		show('[Sesi ditutup / Hung up]', false);
	});
	$('phone-form').addEventListener('submit', (ev) => {
		ev.preventDefault();
		const v = $('phone-input').value.trim();
		$('phone-input').value = '';
		send(v);
	});
	setMode();
}

start();
