// cli.test.mjs - the command line: help, tickets list/show --json, simulate
// with piped input, check-dialogs on the shipped and on broken dialogs, outbox
// list/retry against a server whose SMS provider is unreachable.

import fs from 'node:fs';
import path from 'node:path';
import {
	test, assert, eq, match, ussdComplaint, cli, cliAsync, tmpDir, digits, phone, NIK_A, DESC, DIALOGS,
	TICKET_RE, ticketRow, sql, AtUssd, KannelGet, testConfig, waitForRow, freePort,
} from './lib.mjs';

test('cli: --help and every subcommand --help', async () => {
	const r = cli(['--help']);
	eq(r.code, 0, `pintu --help exit code (${r.stderr})`);
	const text = r.stdout + r.stderr;
	for (const sub of ['serve', 'tickets', 'simulate', 'check-dialogs']) {
		match(text, new RegExp(sub), `--help mentions ${sub}`);
		const s = cli([sub, '--help']);
		eq(s.code, 0, `pintu ${sub} --help exit code (${s.stderr})`);
		assert((s.stdout + s.stderr).length > 20, `pintu ${sub} --help prints usage`);
	}
	const bad = cli(['no-such-command']);
	assert(bad.code !== 0, 'an unknown command fails');
});

test('cli: tickets list/show --json', async (t) => {
	const h = await t.server();
	const a = await ussdComplaint(h);
	const b = await ussdComplaint(h, { subject: 'other' });
	eq((await h.stop()).code, 0, 'server stopped');
	const l = cli(['tickets', 'list', '--db', h.db, '--json']);
	eq(l.code, 0, `list exit code (${l.stderr})`);
	const list = JSON.parse(l.stdout);
	assert(Array.isArray(list), 'list is an array');
	eq(list.length, 2, 'two tickets');
	const nums = list.map((x) => x.number).sort();
	eq(JSON.stringify(nums), JSON.stringify([a.number, b.number].sort()), 'numbers as 4821-0937');
	assert(!l.stdout.includes(NIK_A), 'list output must not contain the full NIK');
	for (const ph of [a.ussd.phone, b.ussd.phone]) assert(!l.stdout.includes(ph.slice(3)), 'list output must not contain a full phone number');

	const s = cli(['tickets', 'show', a.number, '--db', h.db, '--json']);
	eq(s.code, 0, `show exit code (${s.stderr})`);
	const o = JSON.parse(s.stdout);
	eq(o.number, a.number, 'number');
	eq(o.status, 'received', 'status');
	eq(o.type, 'penyaluran', 'type');
	eq(o.program, 'PKH', 'program');
	eq(o.kecamatan, 'Sabangau', 'kecamatan');
	eq(o.kelurahan, 'Kalampangan', 'kelurahan');
	eq(o.channel, 'at-ussd', 'channel');
	eq(o.nik_masked, '6271********0003', 'nik_masked');
	eq(o.phone_masked, a.ussd.phone.slice(0, 6) + '****' + a.ussd.phone.slice(-4), 'phone_masked');
	eq(o.description, DESC, 'description');
	match(o.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/, 'created_at ISO 8601');
	assert(!s.stdout.includes(NIK_A), 'show never prints the full NIK');
	assert(!s.stdout.includes(a.ussd.phone), 'show never prints the full phone');
	// without dash too
	const s2 = cli(['tickets', 'show', digits(a.number), '--db', h.db, '--json']);
	eq(s2.code, 0, 'show by 8 digits');
	eq(JSON.parse(s2.stdout).number, a.number, 'same ticket');
	// unknown number
	const s3 = cli(['tickets', 'show', '1234-5678', '--db', h.db, '--json']);
	assert(s3.code !== 0, 'unknown ticket fails');
});

test('cli: tickets list/show while the server handles requests: read-only, server keeps answering', async (t) => {
	const h = await t.server();
	const a = await ussdComplaint(h);
	// traffic that writes (new contacts, messages, sessions) while the CLI reads
	let stop = false;
	const statuses = [];
	const traffic = (async () => {
		while (!stop) {
			const k = new KannelGet(h);
			statuses.push((await k.raw(`CEK ${digits(a.number)}`)).status);
			statuses.push((await new AtUssd(h).raw('')).status);
		}
	})();
	try {
		for (let i = 0; i < 5; i++) {
			const l = await cliAsync(['tickets', 'list', '--db', h.db, '--json'], { timeout: 15000 });
			eq(l.signal, null, `list ${i} returned by itself (not killed after 15 s)`);
			eq(l.code, 0, `list ${i} exit code (${l.stderr})`);
			const list = JSON.parse(l.stdout);
			assert(list.some((x) => x.number === a.number), `list ${i} has the ticket`);
			const s = await cliAsync(['tickets', 'show', a.number, '--db', h.db, '--json'], { timeout: 15000 });
			eq(s.code, 0, `show ${i} exit code (${s.stderr})`);
			eq(JSON.parse(s.stdout).number, a.number, `show ${i} number`);
		}
	} finally {
		stop = true;
		await traffic;
	}
	assert(statuses.length >= 2, 'requests ran while the CLI read');
	const bad = statuses.filter((x) => x !== 200);
	eq(bad.length, 0, `every request during the CLI runs answered 200 (got ${JSON.stringify(bad)})`);
	const b = await ussdComplaint(h);
	assert(TICKET_RE.test(b.number), 'the server still files complaints afterwards');

	// the CLI only reads: it never checkpoints (TRUNCATE would empty the WAL) nor writes
	const wal = `${h.db}-wal`;
	const before = fs.statSync(wal).size;
	assert(before > 0, 'the running server has a non-empty WAL');
	const l = cli(['tickets', 'list', '--db', h.db, '--json']);
	eq(l.code, 0, `list exit code (${l.stderr})`);
	eq(JSON.parse(l.stdout).length, 2, 'two tickets');
	// the server itself only runs PASSIVE checkpoints (the WAL never shrinks) and its
	// sender may still be writing retries, so the WAL may grow but never be emptied
	const after = fs.statSync(wal).size;
	assert(after >= before, `the CLI did not checkpoint (TRUNCATE) the WAL: ${before} -> ${after} bytes`);
	const k = new KannelGet(h);
	eq((await k.raw('MENU')).status, 200, 'the server answers 200 after the CLI');
});

test('cli: tickets refuses a non-Pintu or newer database and leaves it unchanged', async () => {
	const dir = tmpDir();
	const other = path.join(dir, 'other.db');
	sql(other, 'create table x(a); insert into x values (1);');
	const r = cli(['tickets', 'list', '--db', other, '--json']);
	assert(r.code !== 0, 'a non-Pintu database fails');
	match(r.stderr, /is not a Pintu database/, 'says it is not a Pintu database');
	eq(sql(other, 'pragma user_version')[0].user_version, 0, 'not migrated');
	eq(sql(other, "select count(*) as n from sqlite_master where name = 'tickets'")[0].n, 0, 'no tables created');

	const newer = path.join(dir, 'newer.db');
	sql(newer, 'create table x(a); pragma user_version = 99;');
	const n = cli(['tickets', 'show', '1234-5678', '--db', newer, '--json']);
	assert(n.code !== 0, 'a newer database fails');
	match(n.stderr, /schema version 99 is newer than this pintu/, 'says the database is newer');
	eq(sql(newer, 'pragma user_version')[0].user_version, 99, 'left at version 99');
	fs.rmSync(dir, { recursive: true, force: true });
});

test('cli: simulate with piped input files a complaint', async (t) => {
	// learn the inputs over HTTP, then replay them through the simulator
	const h = await t.server();
	const { ussd } = await ussdComplaint(h);
	const dir = tmpDir();
	t.cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
	const db = path.join(dir, 'sim.db');
	const ph = phone();
	const r = cli(['simulate', '--channel', 'ussd', '--from', ph, '--db', db], { input: ussd.inputs.join('\n') + '\n' });
	eq(r.code, 0, `simulate exit code (${r.stderr})`);
	match(r.stdout, /Sampaikan pengaduan/i, 'prints the main menu');
	match(r.stdout, /Nomor pengaduan/i, 'prints the final screen');
	const m = TICKET_RE.exec(r.stdout.slice(r.stdout.search(/Nomor pengaduan/i)));
	assert(m, 'a ticket number is printed');
	const row = ticketRow(db, m[1]);
	eq(row.phone, ph, 'simulated caller');
	eq(row.nik, NIK_A, 'NIK');

	// SMS simulation: a keyword answered
	const r2 = cli(['simulate', '--channel', 'sms', '--from', ph, '--db', db], { input: 'MENU\n' });
	eq(r2.code, 0, `simulate sms exit code (${r2.stderr})`);
	match(r2.stdout, /Sampaikan pengaduan/i, 'sms main menu');
	eq(sql(db, 'select count(*) as n from tickets')[0].n, 1, 'one ticket');
});

// A database runs conversations in one process at a time (the inbox keeps
// contacts, session rows and rate counts in memory): a second pintu serve or a
// pintu simulate on a server's database is refused with a clear message and
// changes nothing; commands that only read or manage staff and tickets still run.
test('cli: a second process running conversations on the same database is refused', async (t) => {
	const h = await t.server();
	const u = new AtUssd(h);
	match((await u.dial()).text, /Sampaikan pengaduan/, 'the server answers');
	const before = sql(h.db, 'select count(*) as n from messages')[0].n;
	const sim = cli(['simulate', '--channel', 'ussd', '--db', h.db], { input: '1\n' });
	assert(sim.code !== 0, `simulate on the server's database fails (exit ${sim.code})`);
	match(sim.stderr, /is in use by another pintu serve or pintu simulate/, 'says why');
	const port = await freePort();
	const srv = cli(['serve', '--db', h.db, '--listen', `127.0.0.1:${port}`], { timeout: 10000 });
	assert(srv.code !== 0, `a second serve on the same database fails (exit ${srv.code})`);
	match(srv.stderr, /is in use by another pintu serve or pintu simulate/, 'says why');
	eq(sql(h.db, 'select count(*) as n from messages')[0].n, before, 'nothing written by either');
	const list = cli(['tickets', 'list', '--db', h.db, '--json']);
	eq(list.code, 0, `tickets list still runs alongside (${list.stderr})`);
	// the server goes on, and once it has stopped the database is free again
	match((await u.send('1')).text, /untuk siapa/i, 'the server still answers');
	await h.stop();
	const after = cli(['simulate', '--channel', 'sms', '--db', h.db], { input: 'MENU\n' });
	eq(after.code, 0, `simulate once the server has stopped (${after.stderr})`);
	match(after.stdout, /Sampaikan pengaduan/, 'and answers');
});

function copyDir(src, dst) {
	fs.mkdirSync(dst, { recursive: true });
	for (const f of fs.readdirSync(src)) {
		const p = path.join(src, f);
		if (fs.statSync(p).isDirectory()) copyDir(p, path.join(dst, f));
		else fs.copyFileSync(p, path.join(dst, f));
	}
}

/** A node with a string "next" field: {obj, node} or null (nodes keyed by name or listed with "id"). */
function findNext(j) {
	const nodes = j.nodes;
	if (nodes && typeof nodes === 'object' && !Array.isArray(nodes)) {
		for (const [k, n] of Object.entries(nodes)) if (n && typeof n.next === 'string') return { obj: n, node: k };
	} else if (Array.isArray(nodes)) {
		for (const n of nodes) if (n && typeof n.next === 'string') return { obj: n, node: n.id || n.name || '' };
	}
	const deep = (v) => {
		if (!v || typeof v !== 'object') return null;
		if (typeof v.next === 'string') return { obj: v, node: typeof v.id === 'string' ? v.id : '' };
		for (const x of Object.values(v)) {
			const r = deep(x);
			if (r) return r;
		}
		return null;
	};
	return deep(j);
}

test('cli: check-dialogs passes on the shipped dialogs and names file/node/field of a broken one', async (t) => {
	const ok = cli(['check-dialogs', DIALOGS]);
	eq(ok.code, 0, `shipped dialogs pass (${ok.stdout}${ok.stderr})`);

	const files = fs.readdirSync(DIALOGS).filter((f) => f.endsWith('.json')).sort();
	assert(files.length > 0, 'dialog files exist');
	// 1. a "next" target that does not exist
	let broken = null;
	for (const f of files) {
		const j = JSON.parse(fs.readFileSync(path.join(DIALOGS, f), 'utf8'));
		const r = findNext(j);
		if (r) {
			r.obj.next = 'nowhere.missing_node';
			broken = { f, j, node: r.node };
			break;
		}
	}
	assert(broken, 'found a node with a "next" field to break');
	const dir = tmpDir();
	t.cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
	const d1 = path.join(dir, 'd1');
	copyDir(DIALOGS, d1);
	fs.writeFileSync(path.join(d1, broken.f), JSON.stringify(broken.j, null, 2));
	const r1 = cli(['check-dialogs', d1]);
	assert(r1.code !== 0, 'a broken target fails');
	const out1 = r1.stdout + r1.stderr;
	match(out1, new RegExp(broken.f.replace('.', '\\.')), 'names the file');
	match(out1, /next/, 'names the field');
	match(out1, /nowhere\.missing_node/, 'names the bad target');
	if (broken.node) assert(out1.includes(broken.node), `names the node ${broken.node}: ${out1}`);

	// 2. a JSON syntax error
	const d2 = path.join(dir, 'd2');
	copyDir(DIALOGS, d2);
	const txt = fs.readFileSync(path.join(d2, files[0]), 'utf8');
	fs.writeFileSync(path.join(d2, files[0]), txt.slice(0, Math.floor(txt.length / 2)));
	const r2 = cli(['check-dialogs', d2]);
	assert(r2.code !== 0, 'a syntax error fails');
	match(r2.stdout + r2.stderr, new RegExp(files[0].replace('.', '\\.')), 'names the file with the syntax error');

	// 3. a server refuses to start with broken dialogs, naming the problem
	const cfg = JSON.parse(fs.readFileSync(path.join(DIALOGS, '..', 'gateway', 'pintu.example.json'), 'utf8'));
	cfg.dialogs = d1;
	fs.writeFileSync(path.join(dir, 'c.json'), JSON.stringify(cfg));
	const r3 = cli(['serve', '--config', path.join(dir, 'c.json'), '--db', path.join(dir, 'x.db'), '--listen', '127.0.0.1:0'], { timeout: 15000 });
	assert(r3.code !== 0 && r3.code !== null, `serve with broken dialogs fails (code ${r3.code})`);
	match(r3.stdout + r3.stderr, /nowhere\.missing_node/, 'serve names the problem');
});

// ---------------------------------------------------------------- outbox

test('cli: outbox --help and usage errors', async () => {
	const top = cli(['--help']);
	match(top.stdout, /outbox list/, 'pintu --help mentions outbox list');
	match(top.stdout, /outbox retry/, 'pintu --help mentions outbox retry');
	for (const args of [['outbox', '--help'], ['outbox', 'list', '--help'], ['outbox', 'retry', '--help']]) {
		const r = cli(args);
		eq(r.code, 0, `pintu ${args.join(' ')} exit code (${r.stderr})`);
		match(r.stdout, /usage: pintu outbox list .*--status S.*--channel NAME.*--limit N.*--json/, `${args.join(' ')} prints the list usage`);
		match(r.stdout, /pintu outbox retry ID/, `${args.join(' ')} prints the retry usage`);
	}
	const none = cli(['outbox']);
	eq(none.code, 2, 'pintu outbox without a subcommand exits 2');
	match(none.stderr, /usage: pintu outbox/, 'and prints the usage');
	const noId = cli(['outbox', 'retry', '--db', '/nonexistent/x.db']);
	eq(noId.code, 2, 'retry without an ID exits 2');
	match(noId.stderr, /give one message ID/, 'retry without an ID says so');
	const badId = cli(['outbox', 'retry', '12x', '--db', '/nonexistent/x.db']);
	eq(badId.code, 2, 'retry with a non-number exits 2');
	match(badId.stderr, /"12x" is not a message id/, 'names the bad id');
	const badStatus = cli(['outbox', 'list', '--status', 'received', '--db', '/nonexistent/x.db']);
	eq(badStatus.code, 2, 'an unknown --status exits 2');
	match(badStatus.stderr, /unknown status "received" \(valid: queued, sending, sent, delivered, failed, dead\)/,
		'an unknown --status names the valid ones');
	const noDb = cli(['outbox', 'list', '--db', '/nonexistent/x.db']);
	eq(noDb.code, 1, 'a missing database exits 1');
	match(noDb.stderr, /no database at/, 'says there is no database');
	assert(!fs.existsSync('/nonexistent/x.db'), 'no database created');
});

test('cli: outbox list shows a dead SMS masked and without its text; outbox retry queues it again', async (t) => {
	// AT api_base points at a closed port (testConfig default): every SMS attempt fails
	const config = testConfig();
	config.sender = { max_attempts: 2, base_backoff_ms: 50, max_backoff_ms: 100, timeout_ms: 2000 };
	const h = await t.server({ config });
	const a = await ussdComplaint(h);
	const ph = a.ussd.phone;
	const dead = await waitForRow(h.db,
		`select id, body, attempts from messages where direction = 'out' and channel = 'at-sms' and peer = '${ph}' and status = 'dead'`,
		15000);
	eq(dead.attempts, 2, 'dead after max_attempts (2)');

	// list --json while the server runs (read-only connection)
	const l = await cliAsync(['outbox', 'list', '--json', '--db', h.db], { timeout: 15000 });
	eq(l.code, 0, `outbox list exit code (${l.stderr})`);
	const list = JSON.parse(l.stdout);
	assert(Array.isArray(list) && list.length >= 1, 'an array with the SMS');
	for (let i = 1; i < list.length; i++) assert(list[i - 1].id > list[i].id, 'newest first');
	const row = list.find((x) => x.id === dead.id);
	assert(row, `the dead SMS ${dead.id} is listed`);
	eq(row.channel, 'at-sms', 'channel');
	eq(row.status, 'dead', 'status');
	eq(row.attempts, 2, 'attempts');
	eq(row.to_masked, ph.slice(0, 6) + '****' + ph.slice(-4), 'masked recipient');
	eq(row.length, Array.from(dead.body).length, 'length of the text in characters');
	assert(row.segments >= 1, 'SMS segments');
	match(row.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'created_at ISO 8601 UTC');
	eq(row.next_attempt, null, 'no next attempt for a dead row');
	match(row.last_error || '', /transport/, 'last_error says why');
	for (const k of ['text', 'body', 'to', 'peer']) assert(!(k in row), `no "${k}" field`);
	assert(!l.stdout.includes(dead.body), 'list --json never contains the message text');
	assert(!l.stdout.includes(ph.slice(3)), 'list --json never contains the full number');

	// table view and filters
	const tv = cli(['outbox', 'list', '--db', h.db, '--status', 'dead', '--channel', 'at-sms']);
	eq(tv.code, 0, `table exit code (${tv.stderr})`);
	match(tv.stdout, /^ID\s+CHANNEL\s+STATUS\s+ATTEMPTS\s+NEXT_ATTEMPT\s+TO\s+SEGS\s+LENGTH\s+CREATED_AT\s+LAST_ERROR/m, 'table header');
	match(tv.stdout, new RegExp(`^${dead.id}\\s+at-sms\\s+dead\\s+2\\s+-\\s+\\+62812\\*+\\d{4}\\s`, 'm'), 'the dead row');
	match(tv.stdout, /\(1 message\)/, 'one row after the filters');
	assert(!tv.stdout.includes(dead.body), 'table never contains the message text');
	assert(!tv.stdout.includes(ph.slice(3)), 'table never contains the full number');
	// USSD screens are answered in the webhook response (inbound rows' reply): no outbound rows
	eq(JSON.parse(cli(['outbox', 'list', '--json', '--db', h.db, '--channel', 'at-ussd']).stdout).length, 0,
		'--channel at-ussd: none');
	eq(JSON.parse(cli(['outbox', 'list', '--json', '--db', h.db, '--limit', '1']).stdout).length, 1, '--limit 1');

	// retry refusals: an inbound row, an unknown id
	const inbound = sql(h.db, "select min(id) as id from messages where direction = 'in'")[0].id;
	const inb = cli(['outbox', 'retry', String(inbound), '--db', h.db]);
	eq(inb.code, 1, 'retry of an inbound row fails');
	eq(inb.stderr.trim(), `pintu: no outbound message ${inbound}`, 'an inbound row is not outbound');
	const missing = cli(['outbox', 'retry', '999999', '--db', h.db]);
	eq(missing.code, 1, 'retry of an unknown id fails');
	eq(missing.stderr.trim(), 'pintu: no outbound message 999999', 'says there is none');

	// retry while the server runs: its sender picks the row up again (and fails again)
	const before = Date.now();
	const r1 = await cliAsync(['outbox', 'retry', String(dead.id), '--db', h.db], { timeout: 15000 });
	eq(r1.code, 0, `retry exit code (${r1.stderr})`);
	eq(r1.stdout.trim(), `message ${dead.id} queued again`, 'retry output');
	const again = await waitForRow(h.db,
		`select attempts from messages where id = ${dead.id} and status = 'dead' and updated_ms >= ${before}`, 15000);
	eq(again.attempts, 2, 'the running sender tried it twice more');

	// retry with the server stopped: the row stays as the CLI left it
	eq((await h.stop()).code, 0, 'server stopped');
	const r2 = cli(['outbox', 'retry', String(dead.id), '--db', h.db]);
	eq(r2.code, 0, `retry exit code (${r2.stderr})`);
	eq(r2.stdout.trim(), `message ${dead.id} queued again`, 'retry output');
	const q = sql(h.db, `select status, attempts, next_attempt_ms, body from messages where id = ${dead.id}`)[0];
	eq(q.status, 'queued', 'queued again');
	eq(q.attempts, 0, 'attempts reset');
	assert(q.next_attempt_ms >= before && q.next_attempt_ms <= Date.now(), 'due now');
	eq(q.body, dead.body, 'text unchanged');
	const ql = JSON.parse(cli(['outbox', 'list', '--json', '--db', h.db, '--status', 'queued']).stdout);
	eq(ql.length, 1, 'one queued row');
	eq(ql[0].id, dead.id, 'the retried row');
	match(ql[0].next_attempt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'next_attempt ISO 8601 UTC');
	const r3 = cli(['outbox', 'retry', String(dead.id), '--db', h.db]);
	eq(r3.code, 1, 'a queued row cannot be retried');
	match(r3.stderr, /is not failed or dead \(status queued\)/, 'says it is queued');
});
