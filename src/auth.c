/*
 * auth.c - staff accounts, sessions, CSRF, login rate limits, the audit log and
 * API keys (include/pintu/auth.h).
 *
 * Secrets at rest: passwords as libsodium crypto_pwhash_str strings (argon2id,
 * OPSLIMIT/MEMLIMIT_INTERACTIVE); session tokens and API keys as the SHA-256
 * (hex) of the token text, so a copy of the database opens no session. A session
 * token and its CSRF token are 32 random bytes (randombytes_buf) as hex.
 *
 * A session row lives until logout (ended_ms), until it was idle for
 * idle_timeout_ms (last_seen_ms, touched at most once a minute so a busy console
 * does not cost a durable commit per request) or until absolute_timeout_ms after
 * created_ms. An expired session is ended on the server when it is next seen.
 *
 * Login rate limits (per username text, whether or not the account exists, and
 * per remote address): login_attempts keeps one row per attempt. With F the
 * newest failure in the last PT_AUTH_WINDOW_MS: when at least max failures fall
 * in the window ending at F (for an account: since its last success), logins are
 * refused until F + PT_AUTH_LOCK_MS. Refused attempts are not recorded, so the
 * lock is exactly 15 minutes after the failure that reached the limit. Rows
 * older than a day are purged on each login.
 *
 * Every write goes through pt_store_exec (the writer thread in `pintu serve`);
 * reads use the caller's reader connection with prepare/finalize.
 */
#include "pintu/auth.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pintu/common.h"
#include "pintu/config.h"
#include "pintu/crypto.h"
#include "pintu/store.h"

const char pt_schema_auth[] =
	"CREATE TABLE users (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  username TEXT NOT NULL UNIQUE,\n"
	"  name TEXT NOT NULL DEFAULT '',\n"
	"  role TEXT NOT NULL,\n"
	"  pwhash TEXT NOT NULL,\n"
	"  disabled INTEGER NOT NULL DEFAULT 0,\n"
	"  lang TEXT NOT NULL DEFAULT 'id',\n"
	"  created_ms INTEGER NOT NULL,\n"
	"  updated_ms INTEGER NOT NULL\n"
	");\n"
	"CREATE TABLE staff_sessions (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  token_hash TEXT NOT NULL UNIQUE,\n"
	"  csrf TEXT NOT NULL,\n"
	"  user_id INTEGER NOT NULL REFERENCES users(id),\n"
	"  created_ms INTEGER NOT NULL,\n"
	"  last_seen_ms INTEGER NOT NULL,\n"
	"  ended_ms INTEGER,\n"
	"  addr TEXT\n"
	");\n"
	"CREATE INDEX staff_sessions_user ON staff_sessions(user_id);\n"
	"CREATE TABLE login_attempts (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  username TEXT NOT NULL,\n"
	"  addr TEXT NOT NULL,\n"
	"  ok INTEGER NOT NULL,\n"
	"  created_ms INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX login_attempts_user ON login_attempts(username, created_ms);\n"
	"CREATE INDEX login_attempts_addr ON login_attempts(addr, created_ms);\n"
	"CREATE INDEX login_attempts_created ON login_attempts(created_ms);\n"
	"CREATE TABLE audit_log (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  user_id INTEGER,\n"
	"  username TEXT NOT NULL,\n"
	"  action TEXT NOT NULL,\n"
	"  target TEXT,\n"
	"  detail TEXT,\n"
	"  created_ms INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX audit_log_created ON audit_log(created_ms);\n"
	"CREATE TABLE api_keys (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE,\n"
	"  kind TEXT NOT NULL DEFAULT 'open311',\n"
	"  user_id INTEGER REFERENCES users(id),\n"
	"  key_hash TEXT NOT NULL UNIQUE,\n"
	"  created_ms INTEGER NOT NULL,\n"
	"  last_used_ms INTEGER,\n"
	"  revoked_ms INTEGER\n"
	");\n";

#define MIN_MS (60 * 1000LL)
#define DAY_MS (24 * 60 * MIN_MS)
#define TOUCH_EVERY_MS MIN_MS

struct pt_auth {
	struct pt_store *st;
	struct pt_auth_opts opts;
	char dummy_hash[crypto_pwhash_STRBYTES]; /* verified for unknown users (same timing) */
};

/* ---------------------------------------------------------------- roles */

static const struct {
	enum pt_role role;
	const char *name;
} role_names[] = {
	{ PT_ROLE_FRONT, "front_office" },
	{ PT_ROLE_BACK, "back_office" },
	{ PT_ROLE_SUPERVISOR, "supervisor" },
	{ PT_ROLE_ADMIN, "admin" },
};

enum pt_role pt_role_parse(const char *name)
{
	for (size_t i = 0; name && i < PT_ARRAY_LEN(role_names); i++)
		if (strcmp(name, role_names[i].name) == 0)
			return role_names[i].role;
	return PT_ROLE_NONE;
}

const char *pt_role_name(enum pt_role r)
{
	for (size_t i = 0; i < PT_ARRAY_LEN(role_names); i++)
		if (role_names[i].role == r)
			return role_names[i].name;
	return "none";
}

/* ---------------------------------------------------------------- config */

static int opt_int(const cJSON *it, const char *key, int lo, int hi, int *out, char *err,
		   size_t errlen)
{
	if (!cJSON_IsNumber(it) || it->valuedouble != (double)(int)it->valuedouble) {
		snprintf(err, errlen, "staff.%s: must be a whole number", key);
		return PT_ECONFIG;
	}
	if (it->valueint < lo || it->valueint > hi) {
		snprintf(err, errlen, "staff.%s: must be between %d and %d", key, lo, hi);
		return PT_ECONFIG;
	}
	*out = it->valueint;
	return PT_OK;
}

int pt_auth_parse_opts(const cJSON *section, struct pt_auth_opts *o, char *err, size_t errlen)
{
	int idle_min = 30, abs_h = 12;
	o->max_failures_account = 5;
	o->max_failures_addr = 20;
	o->secure_cookies = 0;
	if (errlen)
		err[0] = '\0';
	if (section && !cJSON_IsObject(section)) {
		snprintf(err, errlen, "staff: must be an object");
		return PT_ECONFIG;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, section) {
		const char *k = it->string ? it->string : "";
		int rc = PT_OK;
		if (k[0] == '_')
			continue;
		if (strcmp(k, "idle_timeout_minutes") == 0)
			rc = opt_int(it, k, 1, 24 * 60, &idle_min, err, errlen);
		else if (strcmp(k, "absolute_timeout_hours") == 0)
			rc = opt_int(it, k, 1, 24 * 7, &abs_h, err, errlen);
		else if (strcmp(k, "max_failures_account") == 0)
			rc = opt_int(it, k, 1, 1000, &o->max_failures_account, err, errlen);
		else if (strcmp(k, "max_failures_address") == 0)
			rc = opt_int(it, k, 1, 100000, &o->max_failures_addr, err, errlen);
		else if (strcmp(k, "secure_cookies") == 0) {
			if (!cJSON_IsBool(it)) {
				snprintf(err, errlen, "staff.secure_cookies: must be true or false");
				return PT_ECONFIG;
			}
			o->secure_cookies = cJSON_IsTrue(it);
		} else {
			snprintf(err, errlen, "staff.%.64s: unknown key", k);
			return PT_ECONFIG;
		}
		if (rc != PT_OK)
			return rc;
	}
	o->idle_timeout_ms = idle_min * MIN_MS;
	o->absolute_timeout_ms = abs_h * 60 * MIN_MS;
	if (o->idle_timeout_ms > o->absolute_timeout_ms) {
		snprintf(err, errlen,
			 "staff.idle_timeout_minutes: longer than absolute_timeout_hours");
		return PT_ECONFIG;
	}
	return PT_OK;
}

int pt_auth_check_config(const cJSON *section, char *err, size_t errlen)
{
	struct pt_auth_opts o;
	return pt_auth_parse_opts(section, &o, err, errlen);
}

/* ---------------------------------------------------------------- lifetime */

struct pt_auth *pt_auth_new(struct pt_store *st, const struct pt_config *cfg)
{
	char err[256];
	struct pt_auth *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	if (sodium_init() < 0) {
		pt_log(PT_LOG_ERROR, "auth_init", "reason=sodium_init");
		goto fail;
	}
	a->st = st;
	if (pt_auth_parse_opts(cfg ? cfg->sections[PT_CFG_STAFF] : NULL, &a->opts, err,
			       sizeof(err)) != PT_OK) {
		pt_log(PT_LOG_ERROR, "auth_init", "reason=\"%s\"", err);
		goto fail;
	}
	/* A hash of a random password: verifying against it makes an unknown
	 * username cost the same time as a wrong password. */
	unsigned char rnd[16];
	char pw[33];
	randombytes_buf(rnd, sizeof(rnd));
	pt_crypto_hex(rnd, sizeof(rnd), pw, sizeof(pw));
	if (crypto_pwhash_str(a->dummy_hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		pt_log(PT_LOG_ERROR, "auth_init", "reason=pwhash_out_of_memory");
		goto fail;
	}
	return a;
fail:
	free(a);
	return NULL;
}

void pt_auth_free(struct pt_auth *a)
{
	free(a);
}

const struct pt_auth_opts *pt_auth_options(const struct pt_auth *a)
{
	return &a->opts;
}

/* ---------------------------------------------------------------- helpers */

/* 32 random bytes as lowercase hex (65 bytes with the NUL). */
static void random_token(char out[PT_AUTH_TOKEN_HEX])
{
	unsigned char b[32];
	randombytes_buf(b, sizeof(b));
	pt_crypto_hex(b, sizeof(b), out, PT_AUTH_TOKEN_HEX);
	sodium_memzero(b, sizeof(b));
}

/* SHA-256 of the token text as hex. */
static void token_hash(const char *token, char out[PT_AUTH_TOKEN_HEX])
{
	uint8_t h[PT_SHA256_LEN];
	pt_crypto_sha256(token, strlen(token), h);
	pt_crypto_hex(h, sizeof(h), out, PT_AUTH_TOKEN_HEX);
}

/* Lowercased copy of a username-like input (capped). */
static void lower_copy(const char *in, char *out, size_t cap)
{
	size_t i = 0;
	for (; in && in[i] && i + 1 < cap; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

static const char *col_text(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	return t ? (const char *)t : "";
}

/* The account columns id, username, name, role, lang from column i on. */
static void read_staff(sqlite3_stmt *q, int i, struct pt_staff *who)
{
	who->id = sqlite3_column_int64(q, i);
	pt_strlcpy(who->username, col_text(q, i + 1), sizeof(who->username));
	pt_strlcpy(who->name, col_text(q, i + 2), sizeof(who->name));
	who->role = pt_role_parse(col_text(q, i + 3));
	pt_strlcpy(who->lang, col_text(q, i + 4), sizeof(who->lang));
}

int pt_auth_username_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n < 3 || n > 32 || !isalnum((unsigned char)name[0]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!(islower(c) || isdigit(c) || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Characters (UTF-8 code points) of s. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

int pt_auth_hash_password(const char *username, const char *password, char *out, size_t cap,
			  char *err, size_t errlen)
{
	if (cap)
		out[0] = '\0';
	if (!password || utf8_chars(password) < PT_AUTH_PASSWORD_MIN) {
		snprintf(err, errlen, "the password must have at least %d characters",
			 PT_AUTH_PASSWORD_MIN);
		return PT_EINVAL;
	}
	if (strlen(password) > PT_AUTH_PASSWORD_MAX) {
		snprintf(err, errlen, "the password is longer than %d bytes", PT_AUTH_PASSWORD_MAX);
		return PT_EINVAL;
	}
	if (username && strcasecmp(username, password) == 0) {
		snprintf(err, errlen, "the password must not be the username");
		return PT_EINVAL;
	}
	if (cap < crypto_pwhash_STRBYTES) {
		snprintf(err, errlen, "internal: hash buffer too small");
		return PT_EINVAL;
	}
	if (sodium_init() < 0 ||
	    crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		snprintf(err, errlen, "out of memory while hashing the password");
		return PT_ENOMEM;
	}
	return PT_OK;
}

int pt_auth_verify_password(const char *hash, const char *password)
{
	if (!hash || !password || strlen(password) > PT_AUTH_PASSWORD_MAX)
		return 0;
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void pt_auth_cookie(const struct pt_auth *a, const char *token, char *out, size_t cap)
{
	const char *secure = a && a->opts.secure_cookies ? "; Secure" : "";
	if (token && token[0])
		snprintf(out, cap, "Set-Cookie: %s=%s; HttpOnly; SameSite=Strict; Path=/%s",
			 PT_AUTH_COOKIE, token, secure);
	else
		snprintf(out, cap,
			 "Set-Cookie: %s=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0%s",
			 PT_AUTH_COOKIE, secure);
}

/* ---------------------------------------------------------------- audit */

int pt_audit(sqlite3 *db, const struct pt_staff *who, const char *action, const char *target,
	     const char *detail)
{
	sqlite3_stmt *q = NULL;
	int rc = PT_EDB;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO audit_log (user_id, username, action, target, detail, "
			       "created_ms) VALUES (?,?,?,?,?,?)",
			       -1, &q, NULL) != SQLITE_OK)
		goto out;
	if (who && who->id > 0)
		sqlite3_bind_int64(q, 1, who->id);
	sqlite3_bind_text(q, 2, who && who->username[0] ? who->username : "system", -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 3, action ? action : "", -1, SQLITE_TRANSIENT);
	if (target)
		sqlite3_bind_text(q, 4, target, -1, SQLITE_TRANSIENT);
	if (detail)
		sqlite3_bind_text(q, 5, detail, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 6, pt_now_ms());
	if (sqlite3_step(q) == SQLITE_DONE)
		rc = PT_OK;
out:
	if (rc != PT_OK)
		pt_log(PT_LOG_ERROR, "audit_failed", "action=%s error=\"%s\"", action ? action : "",
		       sqlite3_errmsg(db));
	sqlite3_finalize(q);
	return rc;
}

/* ---------------------------------------------------------------- users */

/* Run one statement with bindings given as a format: 't' text (NULL pointer =
 * SQL NULL), 'i' int64, 'n' int64 where 0 = SQL NULL.
 * Returns PT_OK and the number of changed rows in *changes, or PT_EDB. */
static int exec_bind(sqlite3 *db, const char *sql, int *changes, const char *fmt, ...)
{
	sqlite3_stmt *q = NULL;
	va_list ap;
	int rc = PT_EDB;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return PT_EDB;
	va_start(ap, fmt);
	for (int i = 0; fmt[i]; i++) {
		if (fmt[i] == 't') {
			const char *s = va_arg(ap, const char *);
			if (s)
				sqlite3_bind_text(q, i + 1, s, -1, SQLITE_TRANSIENT);
		} else {
			int64_t v = va_arg(ap, int64_t);
			if (fmt[i] == 'i' || v != 0)
				sqlite3_bind_int64(q, i + 1, v);
		}
	}
	va_end(ap);
	int s = sqlite3_step(q);
	if (s == SQLITE_DONE || s == SQLITE_ROW)
		rc = PT_OK;
	else if ((s & 0xff) == SQLITE_CONSTRAINT)
		rc = PT_EEXIST;
	if (changes)
		*changes = sqlite3_changes(db);
	sqlite3_finalize(q);
	return rc;
}

int pt_user_add_hashed(sqlite3 *db, const char *username, const char *name, enum pt_role role,
		       const char *pwhash, char *err, size_t errlen)
{
	if (!pt_auth_username_valid(username)) {
		snprintf(err, errlen,
			 "username must be 3-32 characters a-z, 0-9, '.', '_' or '-', starting with a letter or digit");
		return PT_EINVAL;
	}
	if (!strcmp(pt_role_name(role), "none")) {
		snprintf(err, errlen,
			 "role must be one of front_office, back_office, supervisor, admin");
		return PT_EINVAL;
	}
	if (name && strlen(name) > 127) {
		snprintf(err, errlen, "name is longer than 127 bytes");
		return PT_EINVAL;
	}
	int64_t now = pt_now_ms();
	int rc = exec_bind(db,
			   "INSERT INTO users (username, name, role, pwhash, created_ms, updated_ms) "
			   "VALUES (?,?,?,?,?,?)",
			   NULL, "ttttii", username, name ? name : "", pt_role_name(role), pwhash,
			   now, now);
	if (rc == PT_EEXIST)
		snprintf(err, errlen, "username %s is taken", username);
	else if (rc != PT_OK)
		snprintf(err, errlen, "database error: %s", sqlite3_errmsg(db));
	return rc;
}

int pt_user_add(sqlite3 *db, const char *username, const char *name, enum pt_role role,
		const char *password, char *err, size_t errlen)
{
	char hash[PT_AUTH_PWHASH_MAX];
	if (!pt_auth_username_valid(username)) {
		snprintf(err, errlen,
			 "username must be 3-32 characters a-z, 0-9, '.', '_' or '-', starting with a letter or digit");
		return PT_EINVAL;
	}
	int rc = pt_auth_hash_password(username, password, hash, sizeof(hash), err, errlen);
	if (rc == PT_OK)
		rc = pt_user_add_hashed(db, username, name, role, hash, err, errlen);
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

int pt_user_passwd_hashed(sqlite3 *db, const char *username, const char *pwhash)
{
	int changes = 0;
	int rc = exec_bind(db, "UPDATE users SET pwhash = ?, updated_ms = ? WHERE username = ?",
			   &changes, "tit", pwhash, pt_now_ms(), username);
	if (rc != PT_OK)
		return rc;
	if (!changes)
		return PT_ENOTFOUND;
	/* a new password ends every open session of the account */
	return exec_bind(db,
			 "UPDATE staff_sessions SET ended_ms = ? WHERE ended_ms IS NULL AND "
			 "user_id = (SELECT id FROM users WHERE username = ?)",
			 NULL, "it", pt_now_ms(), username);
}

int pt_user_passwd(sqlite3 *db, const char *username, const char *password, char *err, size_t errlen)
{
	char hash[PT_AUTH_PWHASH_MAX];
	int rc = pt_auth_hash_password(username, password, hash, sizeof(hash), err, errlen);
	if (rc == PT_OK) {
		rc = pt_user_passwd_hashed(db, username, hash);
		if (rc == PT_ENOTFOUND)
			snprintf(err, errlen, "no user %s", username);
	}
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

int pt_user_disable(sqlite3 *db, const char *username)
{
	int changes = 0;
	int64_t now = pt_now_ms();
	int rc = exec_bind(db, "UPDATE users SET disabled = 1, updated_ms = ? WHERE username = ?",
			   &changes, "it", now, username);
	if (rc != PT_OK)
		return rc;
	if (!changes)
		return PT_ENOTFOUND;
	rc = exec_bind(db,
		       "UPDATE staff_sessions SET ended_ms = ? WHERE ended_ms IS NULL AND "
		       "user_id = (SELECT id FROM users WHERE username = ?)",
		       NULL, "it", now, username);
	if (rc != PT_OK)
		return rc;
	return exec_bind(db,
			 "UPDATE api_keys SET revoked_ms = ? WHERE revoked_ms IS NULL AND "
			 "user_id = (SELECT id FROM users WHERE username = ?)",
			 NULL, "it", now, username);
}

/* ---------------------------------------------------------------- api keys */

int pt_apikey_add(sqlite3 *db, const char *name, const char *kind, int64_t user_id, char *key,
		  size_t cap)
{
	char hash[PT_AUTH_TOKEN_HEX];
	if (cap)
		key[0] = '\0';
	if (cap < PT_AUTH_TOKEN_HEX || !name || !name[0] || strlen(name) > 64 || !kind)
		return PT_EINVAL;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return PT_EINVAL;
	random_token(key);
	token_hash(key, hash);
	int rc = exec_bind(db,
			   "INSERT INTO api_keys (name, kind, user_id, key_hash, created_ms) "
			   "VALUES (?,?,?,?,?)",
			   NULL, "ttnti", name, kind, user_id, hash, pt_now_ms());
	if (rc != PT_OK)
		key[0] = '\0';
	return rc;
}

int pt_apikey_revoke(sqlite3 *db, const char *name)
{
	int changes = 0;
	int rc = exec_bind(db,
			   "UPDATE api_keys SET revoked_ms = ? WHERE name = ? AND revoked_ms IS NULL",
			   &changes, "it", pt_now_ms(), name);
	if (rc == PT_OK && !changes)
		rc = PT_ENOTFOUND;
	return rc;
}

int pt_apikey_check(sqlite3 *db, const char *key, const char *kind, char *name, size_t cap)
{
	char hash[PT_AUTH_TOKEN_HEX];
	sqlite3_stmt *q = NULL;
	int rc = PT_EAUTH;
	if (cap)
		name[0] = '\0';
	if (!key || strlen(key) != PT_AUTH_TOKEN_HEX - 1)
		return PT_EAUTH;
	token_hash(key, hash);
	if (sqlite3_prepare_v2(db,
			       "SELECT name FROM api_keys WHERE key_hash = ? AND kind = ? AND "
			       "revoked_ms IS NULL",
			       -1, &q, NULL) != SQLITE_OK)
		return PT_EDB;
	sqlite3_bind_text(q, 1, hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, kind, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW) {
		pt_strlcpy(name, col_text(q, 0), cap);
		rc = PT_OK;
	}
	sqlite3_finalize(q);
	return rc;
}

/* ---------------------------------------------------------------- rate limits */

/* Seconds until the lock on (column = value) ends, 0 when not locked. column is
 * "username" or "addr"; for an account, failures before its last success do not
 * count. */
static int64_t lock_remaining(sqlite3 *rdb, const char *column, const char *value, int max,
			      int64_t now)
{
	char sql[512];
	sqlite3_stmt *q = NULL;
	int64_t last = 0, count = 0, since = 0;
	int is_user = strcmp(column, "username") == 0;
	if (is_user) {
		snprintf(sql, sizeof(sql),
			 "SELECT max(created_ms) FROM login_attempts WHERE username = ? AND ok = 1");
		if (sqlite3_prepare_v2(rdb, sql, -1, &q, NULL) != SQLITE_OK)
			return 0;
		sqlite3_bind_text(q, 1, value, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) == SQLITE_ROW)
			since = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	snprintf(sql, sizeof(sql),
		 "SELECT max(created_ms) FROM login_attempts WHERE %s = ? AND ok = 0 AND "
		 "created_ms > ? AND created_ms > ?",
		 is_user ? "username" : "addr");
	if (sqlite3_prepare_v2(rdb, sql, -1, &q, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(q, 1, value, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, now - PT_AUTH_LOCK_MS);
	sqlite3_bind_int64(q, 3, since);
	if (sqlite3_step(q) == SQLITE_ROW)
		last = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (!last)
		return 0;
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM login_attempts WHERE %s = ? AND ok = 0 AND "
		 "created_ms > ? AND created_ms <= ? AND created_ms > ?",
		 is_user ? "username" : "addr");
	if (sqlite3_prepare_v2(rdb, sql, -1, &q, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(q, 1, value, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, last - PT_AUTH_WINDOW_MS);
	sqlite3_bind_int64(q, 3, last);
	sqlite3_bind_int64(q, 4, since);
	if (sqlite3_step(q) == SQLITE_ROW)
		count = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (count < max)
		return 0;
	int64_t left = last + PT_AUTH_LOCK_MS - now;
	return left > 0 ? (left + 999) / 1000 : 0;
}

/* ---------------------------------------------------------------- login */

struct login_write {
	const char *username, *addr;
	int ok;
	int64_t now, user_id;
	const char *token_hash, *csrf;
	const struct pt_staff *who;
	const struct pt_auth_opts *opts;
	int64_t session_id; /* out */
};

/* The audit rows of a refused password: "auth.login_failed" on an existing
 * account (target user:<name>; an unknown username is not written, it may be a
 * mistyped password) and "auth.locked" when this failure reached a limit. */
static int audit_failure(sqlite3 *db, const struct login_write *w, const char *detail)
{
	char target[96];
	int rc = PT_OK;
	snprintf(target, sizeof(target), "user:%s", w->username);
	if (w->user_id > 0)
		rc = pt_audit(db, w->who, "auth.login_failed", target, detail);
	if (rc == PT_OK && w->user_id > 0 &&
	    lock_remaining(db, "username", w->username, w->opts->max_failures_account, w->now) > 0)
		rc = pt_audit(db, w->who, "auth.locked", target, detail);
	if (rc == PT_OK &&
	    lock_remaining(db, "addr", w->addr, w->opts->max_failures_addr, w->now) > 0)
		rc = pt_audit(db, NULL, "auth.locked_address", NULL, detail);
	return rc;
}

static int login_write_run(sqlite3 *db, void *arg)
{
	struct login_write *w = arg;
	char detail[128];
	cJSON *d = cJSON_CreateObject();
	char *ds = d && cJSON_AddStringToObject(d, "addr", w->addr) ? cJSON_PrintUnformatted(d)
								      : NULL;
	cJSON_Delete(d);
	pt_strlcpy(detail, ds ? ds : "{}", sizeof(detail));
	free(ds);
	int rc = exec_bind(db, "DELETE FROM login_attempts WHERE created_ms < ?", NULL, "i",
			   w->now - DAY_MS);
	if (rc == PT_OK)
		rc = exec_bind(db,
			       "INSERT INTO login_attempts (username, addr, ok, created_ms) "
			       "VALUES (?,?,?,?)",
			       NULL, "ttii", w->username, w->addr, (int64_t)w->ok, w->now);
	if (rc != PT_OK)
		return rc;
	if (!w->ok)
		return audit_failure(db, w, detail);
	rc = exec_bind(db,
		       "INSERT INTO staff_sessions (token_hash, csrf, user_id, created_ms, "
		       "last_seen_ms, addr) VALUES (?,?,?,?,?,?)",
		       NULL, "ttiiit", w->token_hash, w->csrf, w->user_id, w->now, w->now, w->addr);
	if (rc != PT_OK)
		return rc;
	w->session_id = sqlite3_last_insert_rowid(db);
	return pt_audit(db, w->who, "auth.login", NULL, detail);
}

/* Load the account username (any state) into who and its hash. 1 found, 0 not. */
static int load_user(sqlite3 *rdb, const char *username, struct pt_staff *who, char *hash,
		     size_t cap, int *disabled)
{
	sqlite3_stmt *q = NULL;
	int found = 0;
	if (sqlite3_prepare_v2(rdb,
			       "SELECT id, username, name, role, lang, pwhash, disabled FROM users "
			       "WHERE username = ?",
			       -1, &q, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(q, 1, username, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW) {
		read_staff(q, 0, who);
		pt_strlcpy(hash, col_text(q, 5), cap);
		*disabled = sqlite3_column_int(q, 6);
		found = 1;
	}
	sqlite3_finalize(q);
	return found;
}

int pt_auth_login(struct pt_auth *a, sqlite3 *rdb, const char *username, const char *password,
		  const char *addr, int64_t now, struct pt_login *out)
{
	char user[64], hash[PT_AUTH_PWHASH_MAX] = "", th[PT_AUTH_TOKEN_HEX];
	int disabled = 0;
	memset(out, 0, sizeof(*out));
	lower_copy(username ? username : "", user, sizeof(user));
	if (!addr || !addr[0])
		addr = "unknown";

	int64_t wait_user = lock_remaining(rdb, "username", user, a->opts.max_failures_account, now);
	int64_t wait_addr = lock_remaining(rdb, "addr", addr, a->opts.max_failures_addr, now);
	if (wait_user || wait_addr) {
		out->retry_after_s = wait_user > wait_addr ? wait_user : wait_addr;
		pt_log(PT_LOG_WARN, "login_locked", "by=%s retry_after_s=%lld",
		       wait_user ? "account" : "address", (long long)out->retry_after_s);
		return PT_ERETRY;
	}

	int found = load_user(rdb, user, &out->who, hash, sizeof(hash), &disabled);
	int ok = pt_auth_verify_password(found ? hash : a->dummy_hash, password ? password : "");
	ok = ok && found && !disabled && out->who.role != PT_ROLE_NONE;
	sodium_memzero(hash, sizeof(hash));

	struct login_write w = { .username = user, .addr = addr, .ok = ok, .now = now,
				 .user_id = found ? out->who.id : 0, .who = &out->who,
				 .opts = &a->opts };
	if (ok) {
		random_token(out->token);
		random_token(out->who.csrf);
		token_hash(out->token, th);
		w.token_hash = th;
		w.csrf = out->who.csrf;
	}
	int rc = pt_store_exec(a->st, login_write_run, &w);
	if (rc != PT_OK) {
		pt_log(PT_LOG_ERROR, "login_store_failed", "error=%s", pt_strerror(rc));
		memset(out, 0, sizeof(*out));
		return PT_EDB;
	}
	if (!ok) {
		memset(&out->who, 0, sizeof(out->who));
		pt_log(PT_LOG_INFO, "login_failed", "user_len=%zu", strlen(user));
		return PT_EAUTH;
	}
	out->who.session_id = w.session_id;
	pt_log(PT_LOG_INFO, "login", "user_id=%lld role=%s", (long long)out->who.id,
	       pt_role_name(out->who.role));
	return PT_OK;
}

struct end_session {
	int64_t id, now;
	const struct pt_staff *who; /* NULL: expired, no audit */
};

static int end_session_run(sqlite3 *db, void *arg)
{
	struct end_session *e = arg;
	int rc = exec_bind(db,
			   "UPDATE staff_sessions SET ended_ms = ? WHERE id = ? AND ended_ms IS NULL",
			   NULL, "ii", e->now, e->id);
	if (rc == PT_OK && e->who)
		rc = pt_audit(db, e->who, "auth.logout", NULL, NULL);
	return rc;
}

int pt_auth_logout(struct pt_auth *a, const struct pt_staff *who, int64_t now)
{
	if (!who->session_id)
		return PT_OK; /* a bearer token has no session to end */
	struct end_session e = { .id = who->session_id, .now = now, .who = who };
	return pt_store_exec(a->st, end_session_run, &e);
}

/* ---------------------------------------------------------------- require */

struct touch {
	int64_t id, now;
};

static int touch_run(sqlite3 *db, void *arg)
{
	struct touch *t = arg;
	return exec_bind(db, "UPDATE staff_sessions SET last_seen_ms = ? WHERE id = ?", NULL, "ii",
			 t->now, t->id);
}

/* The bearer token's owner into who. PT_OK or PT_EAUTH. */
static int find_bearer(sqlite3 *rdb, const char *token, struct pt_staff *who)
{
	char th[PT_AUTH_TOKEN_HEX];
	sqlite3_stmt *q = NULL;
	int rc = PT_EAUTH;
	if (strlen(token) != PT_AUTH_TOKEN_HEX - 1)
		return PT_EAUTH;
	token_hash(token, th);
	if (sqlite3_prepare_v2(rdb,
			       "SELECT u.id, u.username, u.name, u.role, u.lang FROM api_keys k "
			       "JOIN users u ON u.id = k.user_id WHERE k.key_hash = ? AND k.kind = ? "
			       "AND k.revoked_ms IS NULL AND u.disabled = 0",
			       -1, &q, NULL) != SQLITE_OK)
		return PT_EDB;
	sqlite3_bind_text(q, 1, th, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, PT_APIKEY_STAFF, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW) {
		read_staff(q, 0, who);
		who->via_token = 1;
		rc = PT_OK;
	}
	sqlite3_finalize(q);
	return rc;
}

/* The cookie's session into who; *expired = 1 when it exists but timed out.
 * PT_OK or PT_EAUTH. last_seen gets the session's last_seen_ms. */
static int find_session(struct pt_auth *a, sqlite3 *rdb, const char *token, int64_t now,
			struct pt_staff *who, int *expired, int64_t *last_seen)
{
	char th[PT_AUTH_TOKEN_HEX];
	sqlite3_stmt *q = NULL;
	int rc = PT_EAUTH;
	*expired = 0;
	if (strlen(token) != PT_AUTH_TOKEN_HEX - 1)
		return PT_EAUTH;
	token_hash(token, th);
	if (sqlite3_prepare_v2(rdb,
			       "SELECT s.id, s.csrf, s.created_ms, s.last_seen_ms, u.id, u.username, "
			       "u.name, u.role, u.lang FROM staff_sessions s JOIN users u ON "
			       "u.id = s.user_id WHERE s.token_hash = ? AND s.ended_ms IS NULL AND "
			       "u.disabled = 0",
			       -1, &q, NULL) != SQLITE_OK)
		return PT_EDB;
	sqlite3_bind_text(q, 1, th, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW) {
		int64_t created = sqlite3_column_int64(q, 2);
		*last_seen = sqlite3_column_int64(q, 3);
		who->session_id = sqlite3_column_int64(q, 0);
		pt_strlcpy(who->csrf, col_text(q, 1), sizeof(who->csrf));
		read_staff(q, 4, who);
		if (now - *last_seen > a->opts.idle_timeout_ms ||
		    now - created > a->opts.absolute_timeout_ms)
			*expired = 1;
		rc = PT_OK;
	}
	sqlite3_finalize(q);
	return rc;
}

/* The token of the request: "Authorization: Bearer x" (bearer = 1) or the cookie. */
static int request_token(const struct pt_web_req *r, char *out, size_t cap, int *bearer)
{
	const char *h = r->header ? r->header(r, "Authorization") : NULL;
	*bearer = 0;
	out[0] = '\0';
	if (h && strncasecmp(h, "Bearer ", 7) == 0) {
		h += 7;
		while (*h == ' ')
			h++;
		if (strlen(h) >= cap)
			return 0;
		pt_strlcpy(out, h, cap);
		*bearer = 1;
		return out[0] != '\0';
	}
	return pt_web_cookie(r, PT_AUTH_COOKIE, out, cap) && out[0];
}

int pt_auth_require(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp,
		    unsigned allowed, struct pt_staff *who)
{
	char token[128];
	int bearer = 0, expired = 0, rc;
	int64_t now = app->now_ms ? app->now_ms() : pt_now_ms(), last_seen = 0;
	memset(who, 0, sizeof(*who));
	if (!app->auth || !request_token(r, token, sizeof(token), &bearer)) {
		pt_web_error(resp, 401, "login_required", "silakan masuk (login) dahulu");
		return PT_EAUTH;
	}
	if (bearer)
		rc = find_bearer(r->rdb, token, who);
	else
		rc = find_session(app->auth, r->rdb, token, now, who, &expired, &last_seen);
	sodium_memzero(token, sizeof(token));
	if (rc == PT_EDB) {
		pt_web_error(resp, 503, "unavailable", "database busy, try again");
		return rc;
	}
	if (rc != PT_OK || expired) {
		if (expired) {
			struct end_session e = { .id = who->session_id, .now = now };
			pt_store_exec(app->st, end_session_run, &e);
			pt_log(PT_LOG_INFO, "session_expired", "user_id=%lld", (long long)who->id);
		}
		memset(who, 0, sizeof(*who));
		pt_web_error(resp, 401, expired ? "session_expired" : "login_required",
			     expired ? "sesi berakhir, silakan masuk lagi"
				     : "silakan masuk (login) dahulu");
		return PT_EAUTH;
	}
	if (!(who->role & allowed)) {
		pt_web_error(resp, 403, "forbidden", "peran Anda tidak diizinkan untuk ini");
		memset(who, 0, sizeof(*who));
		return PT_EPERM;
	}
	int safe = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	if (!bearer && !safe) {
		const char *c = r->header ? r->header(r, "X-CSRF-Token") : NULL;
		if (!c || !pt_crypto_equal(c, strlen(c), who->csrf, strlen(who->csrf))) {
			pt_web_error(resp, 403, "csrf", "token CSRF tidak ada atau salah");
			memset(who, 0, sizeof(*who));
			return PT_EPERM;
		}
	}
	if (!bearer && now - last_seen >= TOUCH_EVERY_MS) {
		struct touch t = { .id = who->session_id, .now = now };
		pt_store_exec(app->st, touch_run, &t);
	}
	return PT_OK;
}
