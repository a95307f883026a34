// kannel.mjs - run a real Kannel (Debian's bearerbox + smsbox) and fakesmsc on
// 127.0.0.1 for the integration test, pointed at a Pintu port.
//
// startKannel({pintuPort}) templates kannel.conf.tmpl with free ports and a temp
// dir, starts bearerbox then smsbox, waits (bounded) until smsbox is connected,
// and returns {sendFake(msgs, opts), stop(), logs()}. sendFake runs fakesmsc
// against the fake SMSC port and resolves with its output once `until(output)`
// holds or the wait ends. Every process is killed by stop().

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, tmpDir, sleep, AssertionError } from '../lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BEARERBOX = process.env.KANNEL_BEARERBOX || '/usr/sbin/bearerbox';
export const SMSBOX = process.env.KANNEL_SMSBOX || '/usr/sbin/smsbox';
export const FAKESMSC = process.env.KANNEL_FAKESMSC || '/usr/lib/kannel/test/fakesmsc';

export function kannelInstalled() {
	return [BEARERBOX, SMSBOX, FAKESMSC].every((p) => fs.existsSync(p));
}

function portOpen(port) {
	return new Promise((resolve) => {
		const s = net.connect({ host: '127.0.0.1', port }, () => {
			s.destroy();
			resolve(true);
		});
		s.on('error', () => resolve(false));
	});
}

async function distinctPorts(n) {
	const ports = new Set();
	while (ports.size < n) ports.add(await freePort());
	return [...ports];
}

function spawnLogged(bin, args, name, procs) {
	const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
	const rec = { name, p, out: '', exited: null };
	p.stdout.setEncoding('utf8');
	p.stderr.setEncoding('utf8');
	p.stdout.on('data', (d) => (rec.out += d));
	p.stderr.on('data', (d) => (rec.out += d));
	rec.exit = new Promise((r) => p.on('exit', (code, signal) => {
		rec.exited = { code, signal };
		r(rec.exited);
	}));
	procs.push(rec);
	return rec;
}

async function kill(rec) {
	if (rec.exited) return;
	rec.p.kill('SIGTERM');
	const t = setTimeout(() => rec.p.kill('SIGKILL'), 5000);
	await rec.exit;
	clearTimeout(t);
}

export async function startKannel({ pintuPort, dir = tmpDir('pintu-kannel-') }) {
	const [admin, smsbox, smsc, sendsms] = await distinctPorts(4);
	const conf = fs.readFileSync(path.join(here, 'kannel.conf.tmpl'), 'utf8')
		.replaceAll('{{ADMIN_PORT}}', String(admin))
		.replaceAll('{{SMSBOX_PORT}}', String(smsbox))
		.replaceAll('{{SMSC_PORT}}', String(smsc))
		.replaceAll('{{SENDSMS_PORT}}', String(sendsms))
		.replaceAll('{{PINTU_PORT}}', String(pintuPort))
		.replaceAll('{{DIR}}', dir);
	const confPath = path.join(dir, 'kannel.conf');
	fs.writeFileSync(confPath, conf);
	const procs = [];
	const k = {
		dir, confPath, ports: { admin, smsbox, smsc, sendsms }, procs,
		logs() {
			let s = '';
			for (const f of ['bearerbox.log', 'smsbox.log', 'smsbox-access.log']) {
				const p = path.join(dir, f);
				if (fs.existsSync(p)) s += `--- ${f} ---\n${fs.readFileSync(p, 'utf8').slice(-4000)}\n`;
			}
			for (const r of procs) s += `--- ${r.name} output ---\n${r.out.slice(-2000)}\n`;
			return s;
		},
		async stop() {
			for (const r of procs.slice().reverse()) await kill(r);
			if (!process.env.PINTU_IT_KEEP) fs.rmSync(dir, { recursive: true, force: true });
		},
	};
	try {
		const bb = spawnLogged(BEARERBOX, [confPath], 'bearerbox', procs);
		await waitPort(admin, bb, 'bearerbox admin port');
		await waitPort(smsc, bb, 'bearerbox fake SMSC port');
		const sb = spawnLogged(SMSBOX, [confPath], 'smsbox', procs);
		await waitPort(sendsms, sb, 'smsbox sendsms port');
		// smsbox connected to bearerbox: the admin status lists it
		const end = Date.now() + 15000;
		for (;;) {
			let st = '';
			try {
				st = await (await fetch(`http://127.0.0.1:${admin}/status.txt?password=it-admin`)).text();
			} catch { /* not yet */ }
			if (/Box connections:[\s\S]*smsbox/i.test(st)) break;
			if (Date.now() > end) throw new AssertionError(`smsbox did not connect to bearerbox\n${st}`);
			await sleep(100);
		}
	} catch (e) {
		const logs = k.logs();
		await k.stop();
		throw new AssertionError(`${e.message}\n${logs}`);
	}

	/** Run fakesmsc with msgs ("sender receiver text ..."), resolve {out} when until(out) or timeout. */
	k.sendFake = async (msgs, { until, timeoutMs = 20000, interval = '0.1' } = {}) => {
		const fk = spawnLogged(FAKESMSC, ['-H', '127.0.0.1', '-r', String(smsc), '-i', interval, '-m', String(msgs.length), ...msgs], 'fakesmsc', procs);
		const end = Date.now() + timeoutMs;
		while (!(until && until(fk.out)) && Date.now() < end) await sleep(50);
		await kill(fk);
		return { out: fk.out, ok: !!(until && until(fk.out)) };
	};
	return k;

	async function waitPort(port, rec, what) {
		const end = Date.now() + 15000;
		while (!(await portOpen(port))) {
			if (rec.exited) throw new AssertionError(`${rec.name} exited (${JSON.stringify(rec.exited)}) before ${what} opened`);
			if (Date.now() > end) throw new AssertionError(`timed out waiting for ${what} (${port})`);
			await sleep(50);
		}
	}
}
