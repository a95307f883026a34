// admin.test.mjs - accounts and the audit log in the console: an admin adds a
// front-office account on #/users; that account sees no Users/Audit pages and
// is refused by the server if it asks anyway; its language choice follows the
// account to another browser; it changes its own password (signed out, the old
// one refused); the admin disables it (its open session ends) and finds every
// step, the failed sign-in too, in the audit log.

import { test, assert, eq, match, newPage, login, USERS, BASE, PASSWORD, sql, waitInPage } from './lib.mjs';

test('admin: users page, roles on the menu, language per account, own password, audit log', async (t, browser) => {
	const name = `fo${Date.now().toString(36)}`;
	const pass1 = `Sandi-Awal-${name}`;
	const pass2 = `Sandi-Baru-${name}`;

	const ad = await newPage(t, browser);
	ad.on('dialog', (d) => d.accept());
	await login(ad, USERS.admin);
	assert(await ad.isVisible('[data-nav="users"]'), 'an admin sees Users');
	assert(await ad.isVisible('[data-nav="audit"]'), 'an admin sees the audit log');
	await ad.click('[data-nav="users"]');
	await ad.waitForSelector(`#users tr[data-username="${USERS.front}"]`);
	await ad.fill('#u-username', name);
	await ad.fill('#u-name', 'Petugas Uji');
	await ad.selectOption('#u-role', 'front_office');
	await ad.fill('#u-password', pass1);
	await ad.click('#user-add button[type=submit]');
	await ad.waitForSelector(`#users tr[data-username="${name}"][data-disabled="0"]`);
	eq(sql(`select role from users where username = '${name}'`)[0].role, 'front_office', 'stored with its role');

	// The new front-office account: no admin pages, and the server refuses them too.
	const fo = await newPage(t, browser);
	await fo.goto(`${BASE}/staff`);
	await fo.fill('#username', name);
	await fo.fill('#password', 'salah-sandi-sekali');
	await fo.click('#login-form button[type=submit]');
	await fo.waitForSelector('#login-error', { state: 'visible' });
	await login(fo, name, pass1);
	assert(await fo.isHidden('[data-nav="users"]'), 'front office sees no Users');
	assert(await fo.isHidden('[data-nav="audit"]'), 'front office sees no audit log');
	const refused = await fo.evaluate(async () => [(await fetch('/api/users')).status, (await fetch('/api/audit')).status]);
	eq(refused.join(','), '403,403', 'front office is refused the users and audit APIs');

	// English follows the account into a fresh browser.
	await fo.click('#lang-switch');
	await waitInPage(fo, () => document.querySelector('#nav')?.textContent.includes('Queue'));
	await waitInPage(fo, (u) => fetch('/api/me').then((r) => r.json()).then((j) => j.user.lang === 'en'), null, 'lang saved');
	const fo2 = await newPage(t, browser);
	await login(fo2, name, pass1);
	await waitInPage(fo2, () => document.querySelector('#nav')?.textContent.includes('Queue'));
	match(await fo2.textContent('h1'), /Complaint queue/, 'the other browser opens in English');

	// Own password: signed out everywhere, the old password no longer works.
	await fo.click('#who-name');
	await fo.waitForSelector('#password-form');
	await fo.fill('#p-old', pass1);
	await fo.fill('#p-new', pass2);
	await fo.click('#password-form button[type=submit]');
	await fo.waitForSelector('#login-form');
	eq(await fo2.evaluate(async () => (await fetch('/api/me')).status), 401, 'the other session ended');
	const old = await fo.evaluate(async ([u, p]) => (await fetch('/api/login', {
		method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: u, password: p }),
	})).status, [name, pass1]);
	eq(old, 401, 'the old password is refused');
	await login(fo, name, pass2);

	// The admin disables it: its open session ends at once.
	await ad.reload();
	await ad.waitForSelector(`#users tr[data-username="${name}"] button.disable`);
	await ad.click(`#users tr[data-username="${name}"] button.disable`);
	await ad.waitForSelector(`#users tr[data-username="${name}"][data-disabled="1"]`);
	assert(await ad.isHidden(`#users tr[data-username="${USERS.admin}"] button.disable`), 'no disable button on oneself');
	eq(await fo.evaluate(async () => (await fetch('/api/me')).status), 401, 'the disabled account is signed out');

	// Everything is in the audit log.
	await ad.click('[data-nav="audit"]');
	await ad.waitForSelector('#audit-filters');
	await ad.fill('#u-target', `user:${name}`);
	await ad.click('#audit-filters button[type=submit]');
	await waitInPage(ad, () => location.hash.includes('target='));
	await ad.waitForSelector('#audit');
	const actions = await ad.$$eval('#audit tbody tr', (rs) => rs.map((r) => r.dataset.action));
	for (const a of ['user.add', 'auth.login_failed', 'user.lang', 'user.passwd', 'user.disable'])
		assert(actions.includes(a), `audit has ${a}: ${actions}`);
	await ad.goto(`${BASE}/staff#/audit?user=${name}&action=auth`);
	await ad.waitForSelector('#audit');
	const logins = await ad.$$eval('#audit tbody tr', (rs) => rs.map((r) => r.dataset.action));
	assert(logins.length >= 3 && logins.every((a) => a.startsWith('auth.')), `auth rows of ${name}: ${logins}`);
	const text = await ad.textContent('#audit');
	assert(!text.includes(pass1) && !text.includes(pass2) && !text.includes(PASSWORD), 'no password in the audit log');
});
