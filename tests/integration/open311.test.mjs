// open311.test.mjs - Open311 GeoReport v2 against the real binary: services,
// creating a request (api_key, service_code, address_string, phone checks),
// reading it by id and in the list with the spec's filters, and its status
// turning closed after a resolution set with `pintu tickets set-status`.

import { test, assert, eq, match, cli, sql, phone, secret, NIK_A, digits } from './lib.mjs';
import { addApiKey } from './staff.mjs';

const O = '/open311/v2';
const DESC = secret('Bantuan PKH tahap tiga belum diterima keluarga kami');

function form(obj) {
	return new URLSearchParams(obj).toString();
}
async function get(h, p) {
	const r = await h.request('GET', p);
	let json = null;
	try { json = JSON.parse(r.text); } catch { /* not JSON */ }
	return { ...r, json };
}
async function post(h, obj) {
	const r = await h.postForm(`${O}/requests.json`, form(obj));
	let json = null;
	try { json = JSON.parse(r.text); } catch { /* not JSON */ }
	return { ...r, json };
}
function specError(r, code, re) {
	eq(r.status, code, `status (${r.text})`);
	assert(Array.isArray(r.json) && r.json.length === 1, `error array: ${r.text}`);
	eq(r.json[0].code, code, 'error code in the body');
	if (re) match(r.json[0].description, re, 'error description');
}
const ISO_LOCAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/;

test('open311: services.json lists the programs as services', async (t) => {
	const h = await t.server();
	const r = await get(h, `${O}/services.json`);
	eq(r.status, 200, 'status');
	match(r.type, /application\/json/, 'JSON');
	assert(Array.isArray(r.json) && r.json.length >= 6, 'an array of services');
	const pkh = r.json.find((s) => s.service_code === 'PKH');
	assert(pkh, 'PKH is a service');
	match(pkh.service_name, /PKH/, 'service_name');
	assert(pkh.description.length > 10, 'description');
	eq(pkh.metadata, false, 'metadata');
	eq(pkh.type, 'realtime', 'type');
	match(pkh.keywords, /pkh/, 'keywords');
	assert(typeof pkh.group === 'string' && pkh.group, 'group');
	specError(await get(h, `${O}/services.xml`), 404, /JSON/);
	specError(await get(h, `${O}/nothing.json`), 404);
	eq((await h.request('DELETE', `${O}/services.json`)).status, 405, 'DELETE services');
});

test('open311: POST validates api_key, service_code, address_string, phone', async (t) => {
	const h = await t.server();
	const key = addApiKey(h, 'lapor-kota');
	const ph = phone();
	const good = { api_key: key, service_code: 'PKH', description: DESC, address_string: 'Kalampangan', phone: ph, first_name: 'Siti', last_name: 'Rahma' };
	specError(await post(h, { ...good, api_key: '' }), 403, /api_key/);
	const { api_key: _omit, ...nokey } = good;
	specError(await post(h, nokey), 403);
	specError(await post(h, { ...good, api_key: key.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) }), 403, /invalid api_key/);
	specError(await post(h, { ...good, service_code: 'NOPE' }), 404, /service_code/);
	specError(await post(h, { ...good, service_code: '' }), 400, /service_code/);
	specError(await post(h, { ...good, address_string: 'Kota Atlantis' }), 400, /kelurahan/);
	specError(await post(h, { ...good, address_string: '' }), 400, /address_string/);
	specError(await post(h, { ...good, phone: 'abc' }), 400, /phone/);
	specError(await post(h, { ...good, description: '' }), 400, /description/);
	specError(await post(h, { ...good, 'attribute[nik]': '1234' }), 400, /nik/);
	const j = await h.request('POST', `${O}/requests.json`, JSON.stringify(good), { 'content-type': 'application/json' });
	eq(j.status, 400, 'JSON body refused (the spec says form-urlencoded)');
	eq(sql(h.db, 'select count(*) as n from tickets')[0].n, 0, 'nothing created by refused requests');
	// a revoked key stops working
	const k2 = addApiKey(h, 'lama');
	eq((await post(h, { ...good, api_key: k2 })).status, 201, 'second key works');
	eq(cli(['apikeys', 'revoke', 'lama', '--db', h.db, '--config', h.cfgPath]).code, 0, 'revoke');
	specError(await post(h, { ...good, api_key: k2 }), 403);
	eq(cli(['apikeys', 'revoke', 'lama', '--db', h.db, '--config', h.cfgPath]).code, 1, 'revoke twice');
	const list = JSON.parse(cli(['apikeys', 'list', '--json', '--db', h.db, '--config', h.cfgPath]).stdout);
	eq(list.find((x) => x.name === 'lama').state, 'revoked', 'listed as revoked');
	assert(!JSON.stringify(list).includes(key), 'keys are never listed');
});

test('open311: a created request is visible by id and in the list, and closes when resolved', async (t) => {
	const h = await t.server();
	const key = addApiKey(h, 'sistem-lain');
	const ph = phone();
	const r = await post(h, {
		api_key: key, service_code: 'pkh', description: DESC, address_string: 'kalampangan', phone: ph.replace('+62', '0'),
		'attribute[nik]': NIK_A,
	});
	eq(r.status, 201, `created (${r.text})`);
	assert(Array.isArray(r.json) && r.json.length === 1, 'an array');
	const id = r.json[0].service_request_id;
	match(id, /^\d{4}-\d{4}$/, 'service_request_id');
	eq(r.json[0].account_id, null, 'account_id');
	assert(r.json[0].service_notice.includes(id), `notice names the number: ${r.json[0].service_notice}`);
	const row = sql(h.db, `select t.*, c.phone from tickets t join contacts c on c.id = t.contact_id where number = '${digits(id)}'`)[0];
	eq(row.channel, 'open311', 'channel');
	eq(row.program, 'PKH', 'program');
	eq(row.kelurahan, 'Kalampangan', 'kelurahan (canonical)');
	eq(row.kecamatan, 'Sabangau', 'kecamatan from the area list');
	eq(row.phone, ph, 'contact phone in E.164');
	eq(row.nik, NIK_A, 'NIK stored');
	eq(row.status, 'received', 'status');
	eq(sql(h.db, `select count(*) as n from audit_log where action = 'ticket.create' and target = 'ticket:${digits(id)}' and username = 'open311:sistem-lain'`)[0].n, 1, 'audit row');
	// the resident gets the number by SMS, like a USSD caller
	const first = sql(h.db, `select m.channel, m.peer, m.body from messages m join tickets t on t.id = m.ticket_id where t.number = '${digits(id)}' and m.direction = 'out'`);
	eq(first.length, 1, 'one SMS on creation');
	eq(first[0].channel, 'at-sms', 'on the SMS channel');
	eq(first[0].peer, ph, 'to the resident');
	assert(first[0].body.includes(id) && /Diterima/.test(first[0].body), `names the number: ${first[0].body}`);
	// the same NIK and program again within 30 days: linked, the notice names the open ticket
	const dup = await post(h, {
		api_key: key, service_code: 'PKH', description: DESC, address_string: 'Kalampangan', phone: ph, 'attribute[nik]': NIK_A,
	});
	eq(dup.status, 201, `duplicate accepted (${dup.text})`);
	assert(dup.json[0].service_notice.includes(id) && dup.json[0].service_request_id !== id, `duplicate notice: ${dup.json[0].service_notice}`);
	const dupId = dup.json[0].service_request_id;

	// by id (with and without the dash); needs the key
	specError(await get(h, `${O}/requests/${id}.json`), 403);
	for (const x of [id, digits(id)]) {
		const one = await get(h, `${O}/requests/${x}.json?api_key=${key}`);
		eq(one.status, 200, `GET by id ${x}`);
		eq(one.json.length, 1, 'one element');
		const q = one.json[0];
		eq(q.service_request_id, id, 'id');
		eq(q.status, 'open', 'open');
		eq(q.status_notes, 'Diterima', 'status_notes = resident label');
		eq(q.service_code, 'PKH', 'service_code');
		match(q.service_name, /PKH/, 'service_name');
		eq(q.description, DESC, 'description');
		eq(q.address_string, 'Kalampangan', 'address_string');
		eq(q.lat, null, 'lat');
		eq(q.long, null, 'long');
		match(q.requested_datetime, ISO_LOCAL, 'requested_datetime with the office offset');
		match(q.updated_datetime, ISO_LOCAL, 'updated_datetime');
		match(q.expected_datetime, ISO_LOCAL, 'expected_datetime (the due time)');
		assert(q.agency_responsible && q.agency_responsible.length > 3, 'agency_responsible');
		assert(!JSON.stringify(q).includes(NIK_A) && !JSON.stringify(q).includes(ph), 'no NIK or phone in the answer');
	}
	// a typo in the number is "not found", never someone else's request
	const d = digits(id).split('');
	d[2] = String((Number(d[2]) + 1) % 10);
	specError(await get(h, `${O}/requests/${d.join('')}.json?api_key=${key}`), 404);
	specError(await get(h, `${O}/requests/abc.json?api_key=${key}`), 404);
	specError(await get(h, `${O}/requests/${id}.xml?api_key=${key}`), 404, /JSON/);

	// a second request (BPNT) for the list filters
	const r2 = await post(h, { api_key: key, service_code: 'BPNT', description: 'Kartu KKS tidak bisa dipakai', address_string: 'Menteng', phone: phone() });
	eq(r2.status, 201, 'second request');
	const id2 = r2.json[0].service_request_id;
	let l = await get(h, `${O}/requests.json?api_key=${key}`);
	eq(l.status, 200, 'list');
	eq(l.json.map((x) => x.service_request_id).join(','), `${id2},${dupId},${id}`, 'newest first, all three');
	specError(await get(h, `${O}/requests.json`), 403);
	l = await get(h, `${O}/requests.json?api_key=${key}&service_code=BPNT`);
	eq(l.json.map((x) => x.service_request_id).join(','), id2, 'service_code filter');
	l = await get(h, `${O}/requests.json?api_key=${key}&service_request_id=${encodeURIComponent(`${id},${digits(id2)}`)}`);
	eq(l.json.length, 2, 'service_request_id comma list');
	l = await get(h, `${O}/requests.json?api_key=${key}&service_request_id=${id}`);
	eq(l.json.map((x) => x.service_request_id).join(','), id, 'one id');
	l = await get(h, `${O}/requests.json?api_key=${key}&status=closed`);
	eq(l.json.length, 0, 'nothing closed yet');
	l = await get(h, `${O}/requests.json?api_key=${key}&status=open`);
	eq(l.json.length, 3, 'all open');
	const tomorrow = new Date(Date.now() + 2 * 86400000).toISOString().slice(0, 10);
	l = await get(h, `${O}/requests.json?api_key=${key}&start_date=${tomorrow}`);
	eq(l.json.length, 0, 'start_date in the future');
	l = await get(h, `${O}/requests.json?api_key=${key}&start_date=${encodeURIComponent(new Date(Date.now() - 3600000).toISOString())}&end_date=${tomorrow}T00:00:00%2B07:00`);
	eq(l.json.length, 3, 'a window around now');
	specError(await get(h, `${O}/requests.json?api_key=${key}&status=pending`), 400, /status/);
	specError(await get(h, `${O}/requests.json?api_key=${key}&start_date=kemarin`), 400, /date/);
	specError(await get(h, `${O}/requests.json?api_key=${key}&service_code=XYZ`), 400, /service_code/);
	specError(await get(h, `${O}/requests.json?api_key=${key}&service_request_id=1234`), 400);

	// walk the procedure with the CLI: referred shows the agency, resolved is closed
	const db = ['--db', h.db, '--config', h.cfgPath];
	const steps = [['registered', 'registered'], ['in_review'], ['awaiting_approval'], ['referred', 'Kementerian Sosial (PKH)'], ['resolved', 'Bantuan sudah cair']];
	for (const [st, note] of steps) {
		const c = cli(['tickets', 'set-status', id, st, ...(note ? ['--note', note] : []), ...db]);
		eq(c.code, 0, `set-status ${st}: ${c.stderr}`);
		if (st === 'referred') {
			const q = (await get(h, `${O}/requests/${id}.json?api_key=${key}`)).json[0];
			eq(q.status, 'open', 'referred is open');
			eq(q.agency_responsible, 'Kementerian Sosial (PKH)', 'agency_responsible = the referral organisation');
		}
	}
	const done = (await get(h, `${O}/requests/${id}.json?api_key=${key}`)).json[0];
	eq(done.status, 'closed', 'resolved is closed');
	// the resident was told every step by SMS, on the first SMS channel
	const told = sql(h.db, `select m.channel, m.body from messages m join tickets t on t.id = m.ticket_id where t.number = '${digits(id)}' and m.direction = 'out' order by m.id`);
	assert(told.length >= steps.length, `one SMS per step at least: ${told.length}`);
	assert(told.every((m) => m.channel === 'at-sms'), `sent on the SMS channel: ${told.map((m) => m.channel)}`);
	assert(told.some((m) => m.body.includes(id) && /Selesai/.test(m.body)), 'the resolution names the ticket');
	match(done.status_notes, /^Selesai/, 'status_notes after resolution');
	l = await get(h, `${O}/requests.json?api_key=${key}&status=closed`);
	eq(l.json.map((x) => x.service_request_id).join(','), id, 'the closed filter');
	l = await get(h, `${O}/requests.json?api_key=${key}&status=open`);
	eq(l.json.map((x) => x.service_request_id).join(','), `${id2},${dupId}`, 'the open filter');
});
