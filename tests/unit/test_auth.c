/*
 * test_auth.c - staff accounts, sessions, CSRF, rate limits, API keys and the
 * "staff" configuration section (src/auth.c), against a real store in a temp
 * file and a clock the tests move.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pintu/auth.h"
#include "pintu/common.h"
#include "pintu/store.h"
#include "pintu/web.h"
#include "test.h"

#define MIN (60 * 1000LL)
#define T0 1795000000000LL

static int64_t clock_ms = T0;
static int64_t test_now(void)
{
	return clock_ms;
}
static void set_clock(int64_t ms)
{
	clock_ms = ms;
	pt_clock_set(ms);
}

/* ---- a fake request ---- */

struct fake {
	struct pt_web_req r;
	char cookie[128], csrf[80], authz[128];
};

static const char *fake_header(const struct pt_web_req *r, const char *name)
{
	const struct fake *f = (const struct fake *)r;
	if (!strcasecmp(name, "Cookie") && f->cookie[0])
		return f->cookie;
	if (!strcasecmp(name, "X-CSRF-Token") && f->csrf[0])
		return f->csrf;
	if (!strcasecmp(name, "Authorization") && f->authz[0])
		return f->authz;
	return NULL;
}

static void fake_init(struct fake *f, sqlite3 *rdb, const char *method, const char *token,
		      const char *csrf)
{
	memset(f, 0, sizeof(*f));
	f->r.method = method;
	f->r.path = "/api/x";
	f->r.query = "";
	f->r.body = "";
	f->r.content_type = "";
	f->r.remote_addr = "127.0.0.1";
	f->r.header = fake_header;
	f->r.rdb = rdb;
	if (token)
		snprintf(f->cookie, sizeof(f->cookie), "other=1; pintu_session=%s", token);
	if (csrf)
		snprintf(f->csrf, sizeof(f->csrf), "%s", csrf);
}

/* ---- fixtures ---- */

static struct pt_store *st;
static sqlite3 *rdb;
static struct pt_auth *auth;
static struct pt_app app;
static char dbpath[256];

struct add_arg {
	const char *user, *pass;
	enum pt_role role;
	int rc;
	char err[256];
};
static int add_run(sqlite3 *db, void *arg)
{
	struct add_arg *a = arg;
	a->rc = pt_user_add(db, a->user, "Nama", a->role, a->pass, a->err, sizeof(a->err));
	return a->rc;
}
static int add_user(const char *user, const char *pass, enum pt_role role)
{
	struct add_arg a = { user, pass, role, 0, "" };
	return pt_store_exec(st, add_run, &a);
}

/* require() with method/token/csrf; returns its code, status in *status. */
static int require(const char *method, const char *token, const char *csrf, unsigned allowed,
		   struct pt_staff *who, int *status, char *errcode, size_t cap)
{
	struct fake f;
	struct pt_web_resp resp;
	memset(&resp, 0, sizeof(resp));
	fake_init(&f, rdb, method, token, csrf);
	int rc = pt_auth_require(&app, &f.r, &resp, allowed, who);
	*status = resp.status;
	if (errcode) {
		errcode[0] = '\0';
		cJSON *j = resp.body ? cJSON_Parse(resp.body) : NULL;
		cJSON *e = cJSON_GetObjectItem(j, "error");
		if (cJSON_IsString(e))
			snprintf(errcode, cap, "%s", e->valuestring);
		cJSON_Delete(j);
	}
	pt_web_resp_free(&resp);
	return rc;
}

static int64_t count(const char *sql)
{
	sqlite3_stmt *q = NULL;
	int64_t n = -1;
	if (sqlite3_prepare_v2(rdb, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

/* ---- tests ---- */

PT_TEST(roles)
{
	PT_CHECK_INT(pt_role_parse("front_office"), PT_ROLE_FRONT);
	PT_CHECK_INT(pt_role_parse("back_office"), PT_ROLE_BACK);
	PT_CHECK_INT(pt_role_parse("supervisor"), PT_ROLE_SUPERVISOR);
	PT_CHECK_INT(pt_role_parse("admin"), PT_ROLE_ADMIN);
	PT_CHECK_INT(pt_role_parse("Admin"), PT_ROLE_NONE);
	PT_CHECK_INT(pt_role_parse("root"), PT_ROLE_NONE);
	PT_CHECK_INT(pt_role_parse(NULL), PT_ROLE_NONE);
	PT_CHECK_STR(pt_role_name(PT_ROLE_SUPERVISOR), "supervisor");
	PT_CHECK_STR(pt_role_name(PT_ROLE_NONE), "none");
	PT_CHECK(pt_auth_username_valid("fo.siti-1"));
	PT_CHECK(!pt_auth_username_valid("ab"));
	PT_CHECK(!pt_auth_username_valid("Siti"));
	PT_CHECK(!pt_auth_username_valid("-siti"));
	PT_CHECK(!pt_auth_username_valid("siti rahma"));
	PT_CHECK(!pt_auth_username_valid("abcdefghijabcdefghijabcdefghijabc"));
}

static int check_cfg(const char *json, char *err, size_t cap)
{
	cJSON *j = cJSON_Parse(json);
	int rc = pt_auth_check_config(j, err, cap);
	cJSON_Delete(j);
	return rc;
}

PT_TEST(config)
{
	char err[256];
	struct pt_auth_opts o;
	PT_CHECK_INT(pt_auth_parse_opts(NULL, &o, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(o.idle_timeout_ms, 30 * MIN);
	PT_CHECK_INT(o.absolute_timeout_ms, 12 * 60 * MIN);
	PT_CHECK_INT(o.max_failures_account, 5);
	PT_CHECK_INT(o.max_failures_addr, 20);
	PT_CHECK_INT(o.secure_cookies, 0);
	cJSON *j = cJSON_Parse("{\"idle_timeout_minutes\":10,\"absolute_timeout_hours\":8,"
			       "\"max_failures_account\":3,\"max_failures_address\":50,"
			       "\"secure_cookies\":true,\"_comment\":\"x\"}");
	PT_CHECK_INT(pt_auth_parse_opts(j, &o, err, sizeof(err)), PT_OK);
	cJSON_Delete(j);
	PT_CHECK_INT(o.idle_timeout_ms, 10 * MIN);
	PT_CHECK_INT(o.absolute_timeout_ms, 8 * 60 * MIN);
	PT_CHECK_INT(o.max_failures_account, 3);
	PT_CHECK_INT(o.max_failures_addr, 50);
	PT_CHECK_INT(o.secure_cookies, 1);
	PT_CHECK_INT(check_cfg("{\"idle_timeout\":10}", err, sizeof(err)), PT_ECONFIG);
	PT_CHECK_STR(err, "staff.idle_timeout: unknown key");
	PT_CHECK_INT(check_cfg("{\"idle_timeout_minutes\":\"10\"}", err, sizeof(err)), PT_ECONFIG);
	PT_CHECK_STR(err, "staff.idle_timeout_minutes: must be a whole number");
	PT_CHECK_INT(check_cfg("{\"max_failures_account\":0}", err, sizeof(err)), PT_ECONFIG);
	PT_CHECK(strstr(err, "staff.max_failures_account: must be between") != NULL);
	PT_CHECK_INT(check_cfg("{\"secure_cookies\":1}", err, sizeof(err)), PT_ECONFIG);
	PT_CHECK_STR(err, "staff.secure_cookies: must be true or false");
	PT_CHECK_INT(check_cfg("{\"idle_timeout_minutes\":1.5}", err, sizeof(err)), PT_ECONFIG);
	PT_CHECK_INT(check_cfg("{\"idle_timeout_minutes\":600,\"absolute_timeout_hours\":2}", err,
			       sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_INT(check_cfg("{}", err, sizeof(err)), PT_OK);
}

PT_TEST(passwords)
{
	char hash[PT_AUTH_PWHASH_MAX], err[256];
	PT_CHECK_INT(pt_auth_hash_password("siti", "pendek", hash, sizeof(hash), err, sizeof(err)),
		     PT_EINVAL);
	PT_CHECK(strstr(err, "at least 10") != NULL);
	PT_CHECK_STR(hash, "");
	/* 10 characters counted as characters, not bytes: 9 chars with a 2-byte one fail */
	PT_CHECK_INT(pt_auth_hash_password("siti", "kata\xc3\xa9sand", hash, sizeof(hash), err,
					   sizeof(err)),
		     PT_EINVAL);
	PT_CHECK_INT(pt_auth_hash_password("siti.rahma", "SITI.RAHMA", hash, sizeof(hash), err,
					   sizeof(err)),
		     PT_EINVAL);
	PT_CHECK_INT(pt_auth_hash_password("siti", "kata-sandi-rahasia", hash, sizeof(hash), err,
					   sizeof(err)),
		     PT_OK);
	PT_CHECK(strncmp(hash, "$argon2id$", 10) == 0);
	PT_CHECK(strstr(hash, "kata-sandi") == NULL);
	PT_CHECK(pt_auth_verify_password(hash, "kata-sandi-rahasia"));
	PT_CHECK(!pt_auth_verify_password(hash, "kata-sandi-rahasiA"));
	PT_CHECK(!pt_auth_verify_password(hash, ""));
	char hash2[PT_AUTH_PWHASH_MAX];
	pt_auth_hash_password("siti", "kata-sandi-rahasia", hash2, sizeof(hash2), err, sizeof(err));
	PT_CHECK(strcmp(hash, hash2) != 0); /* salted */
}

PT_TEST(users)
{
	PT_CHECK_INT(add_user("admin1", "Admin-Sandi-2026", PT_ROLE_ADMIN), PT_OK);
	PT_CHECK_INT(add_user("fo1", "Front-Sandi-2026", PT_ROLE_FRONT), PT_OK);
	PT_CHECK_INT(add_user("sup1", "Super-Sandi-2026", PT_ROLE_SUPERVISOR), PT_OK);
	PT_CHECK_INT(add_user("fo1", "Front-Sandi-2026", PT_ROLE_FRONT), PT_EEXIST);
	PT_CHECK_INT(add_user("Bad Name", "Front-Sandi-2026", PT_ROLE_FRONT), PT_EINVAL);
	PT_CHECK_INT(add_user("weak1", "short", PT_ROLE_FRONT), PT_EINVAL);
	PT_CHECK_INT(add_user("norole", "Front-Sandi-2026", PT_ROLE_NONE), PT_EINVAL);
	PT_CHECK_INT(count("SELECT count(*) FROM users"), 3);
	PT_CHECK_INT(count("SELECT count(*) FROM users WHERE pwhash LIKE '$argon2id$%'"), 3);
	PT_CHECK_INT(count("SELECT count(*) FROM users WHERE pwhash LIKE '%Sandi%'"), 0);
}

PT_TEST(login_and_require)
{
	struct pt_login lg;
	struct pt_staff who;
	int status;
	char code[64];
	set_clock(T0);
	PT_CHECK_INT(pt_auth_login(auth, rdb, "FO1", "Front-Sandi-2026", "10.0.0.1", clock_ms, &lg),
		     PT_OK);
	PT_CHECK_INT(strlen(lg.token), 64);
	PT_CHECK_INT(strlen(lg.who.csrf), 64);
	PT_CHECK(strcmp(lg.token, lg.who.csrf) != 0);
	PT_CHECK_STR(lg.who.username, "fo1");
	PT_CHECK_INT(lg.who.role, PT_ROLE_FRONT);
	PT_CHECK(lg.who.session_id > 0);
	/* only the hash is stored */
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM staff_sessions WHERE token_hash = '%s'",
		 lg.token);
	PT_CHECK_INT(count(sql), 0);
	PT_CHECK_INT(count("SELECT count(*) FROM staff_sessions WHERE ended_ms IS NULL"), 1);
	PT_CHECK_INT(count("SELECT count(*) FROM audit_log WHERE action = 'auth.login' AND "
			   "username = 'fo1'"),
		     1);

	/* GET with the cookie */
	PT_CHECK_INT(require("GET", lg.token, NULL, PT_ROLE_STAFF, &who, &status, code, sizeof(code)),
		     PT_OK);
	PT_CHECK_STR(who.username, "fo1");
	PT_CHECK_STR(who.csrf, lg.who.csrf);
	PT_CHECK_INT(who.via_token, 0);
	/* role not allowed */
	PT_CHECK(require("GET", lg.token, NULL, PT_ROLE_ADMIN, &who, &status, code, sizeof(code)) < 0);
	PT_CHECK_INT(status, 403);
	PT_CHECK_STR(code, "forbidden");
	/* POST without / with a wrong / with the right CSRF token */
	PT_CHECK(require("POST", lg.token, NULL, PT_ROLE_STAFF, &who, &status, code, sizeof(code)) < 0);
	PT_CHECK_INT(status, 403);
	PT_CHECK_STR(code, "csrf");
	char wrong[80];
	snprintf(wrong, sizeof(wrong), "%s", lg.who.csrf);
	wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
	PT_CHECK(require("POST", lg.token, wrong, PT_ROLE_STAFF, &who, &status, code, sizeof(code)) < 0);
	PT_CHECK_STR(code, "csrf");
	PT_CHECK(require("POST", lg.token, "", PT_ROLE_STAFF, &who, &status, code, sizeof(code)) < 0);
	PT_CHECK_INT(require("POST", lg.token, lg.who.csrf, PT_ROLE_STAFF, &who, &status, code,
			     sizeof(code)),
		     PT_OK);
	/* no cookie, unknown token */
	PT_CHECK(require("GET", NULL, NULL, PT_ROLE_STAFF, &who, &status, code, sizeof(code)) < 0);
	PT_CHECK_INT(status, 401);
	PT_CHECK_STR(code, "login_required");
	char forged[80];
	snprintf(forged, sizeof(forged), "%s", lg.token);
	forged[0] = forged[0] == '0' ? '1' : '0';
	PT_CHECK(require("GET", forged, NULL, PT_ROLE_STAFF, &who, &status, code, sizeof(code)) < 0);
	PT_CHECK_INT(status, 401);
	PT_CHECK_STR(who.username, "");

	/* wrong password / unknown user: the same answer */
	PT_CHECK_INT(pt_auth_login(auth, rdb, "fo1", "Front-Sandi-2027", "10.0.0.1", clock_ms, &lg),
		     PT_EAUTH);
	PT_CHECK_STR(lg.token, "");
	PT_CHECK_INT(pt_auth_login(auth, rdb, "nobody", "Front-Sandi-2026", "10.0.0.1", clock_ms, &lg),
		     PT_EAUTH);
	PT_CHECK_INT(count("SELECT count(*) FROM login_attempts WHERE ok = 0"), 2);
}

PT_TEST(logout)
{
	struct pt_login lg;
	struct pt_staff who;
	int status;
	set_clock(T0 + MIN);
	PT_CHECK_INT(pt_auth_login(auth, rdb, "sup1", "Super-Sandi-2026", "10.0.0.2", clock_ms, &lg),
		     PT_OK);
	PT_CHECK_INT(require("GET", lg.token, NULL, PT_ROLE_STAFF, &who, &status, NULL, 0), PT_OK);
	PT_CHECK_INT(pt_auth_logout(auth, &who, clock_ms), PT_OK);
	PT_CHECK(require("GET", lg.token, NULL, PT_ROLE_STAFF, &who, &status, NULL, 0) < 0);
	PT_CHECK_INT(status, 401);
	PT_CHECK_INT(count("SELECT count(*) FROM audit_log WHERE action = 'auth.logout'"), 1);
}

PT_TEST(expiry)
{
	struct pt_login lg;
	struct pt_staff who;
	int status;
	char code[64];
	/* idle: 29 minutes is fine (and touches), 31 after that is not */
	set_clock(T0 + 10 * MIN);
	PT_CHECK_INT(pt_auth_login(auth, rdb, "fo1", "Front-Sandi-2026", "10.0.0.3", clock_ms, &lg),
		     PT_OK);
	set_clock(clock_ms + 29 * MIN);
	PT_CHECK_INT(require("GET", lg.token, NULL, PT_ROLE_STAFF, &who, &status, code, sizeof(code)),
		     PT_OK);
	set_clock(clock_ms + 29 * MIN);
	PT_CHECK_INT(require("GET", lg.token, NULL, PT_ROLE_STAFF, &who, &status, code, sizeof(code)),
		     PT_OK);
	set_clock(clock_ms + 31 * MIN);
	PT_CHECK(require("GET", lg.token, NULL, PT_ROLE_STAFF, &who, &status, code, sizeof(code)) < 0);
	PT_CHECK_INT(status, 401);
	PT_CHECK_STR(code, "session_expired");
	/* ended on the server: even going back in time does not revive it */
	set_clock(clock_ms - 31 * MIN);
	PT_CHECK(require("GET", lg.token, NULL, PT_ROLE_STAFF, &who, &status, code, sizeof(code)) < 0);

	/* absolute: active every 20 minutes, refused after 12 hours */
	set_clock(T0 + 24 * 60 * MIN);
	int64_t start = clock_ms;
	PT_CHECK_INT(pt_auth_login(auth, rdb, "fo1", "Front-Sandi-2026", "10.0.0.3", clock_ms, &lg),
		     PT_OK);
	int ok_until = 0;
	for (int i = 1; i <= 40; i++) {
		set_clock(start + i * 20 * MIN);
		if (require("GET", lg.token, NULL, PT_ROLE_STAFF, &who, &status, code, sizeof(code)) ==
		    PT_OK)
			ok_until = i * 20;
		else
			break;
	}
	PT_CHECK_INT(ok_until, 12 * 60);
	PT_CHECK_STR(code, "session_expired");
}

PT_TEST(rate_limit_account)
{
	struct pt_login lg;
	set_clock(T0 + 100 * 60 * MIN);
	for (int i = 0; i < 5; i++) {
		set_clock(clock_ms + MIN);
		PT_CHECK_INT(pt_auth_login(auth, rdb, "admin1", "Salah-Sandi-0000", "10.1.0.1",
					   clock_ms, &lg),
			     PT_EAUTH);
	}
	int64_t locked_at = clock_ms;
	/* locked now, even with the right password and from another address */
	PT_CHECK_INT(pt_auth_login(auth, rdb, "admin1", "Admin-Sandi-2026", "10.1.0.2", clock_ms, &lg),
		     PT_ERETRY);
	PT_CHECK_INT(lg.retry_after_s, 15 * 60);
	PT_CHECK_STR(lg.token, "");
	set_clock(locked_at + 14 * MIN);
	PT_CHECK_INT(pt_auth_login(auth, rdb, "admin1", "Admin-Sandi-2026", "10.1.0.2", clock_ms, &lg),
		     PT_ERETRY);
	PT_CHECK_INT(lg.retry_after_s, 60);
	/* a locked attempt is not recorded (the lock does not grow) */
	PT_CHECK_INT(count("SELECT count(*) FROM login_attempts WHERE username = 'admin1'"), 5);
	/* the audit log has each failure on the account (with the address) and the lock */
	PT_CHECK_INT(count("SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed' AND "
			   "target = 'user:admin1' AND detail = '{\"addr\":\"10.1.0.1\"}'"),
		     5);
	PT_CHECK_INT(count("SELECT count(*) FROM audit_log WHERE action = 'auth.locked' AND "
			   "target = 'user:admin1'"),
		     1);
	/* other accounts are not affected */
	PT_CHECK_INT(pt_auth_login(auth, rdb, "sup1", "Super-Sandi-2026", "10.1.0.2", clock_ms, &lg),
		     PT_OK);
	/* an unknown username is locked the same way (no account enumeration) */
	for (int i = 0; i < 5; i++)
		PT_CHECK_INT(pt_auth_login(auth, rdb, "ghost", "Salah-Sandi-0000", "10.1.0.3", clock_ms,
					   &lg),
			     PT_EAUTH);
	PT_CHECK_INT(pt_auth_login(auth, rdb, "ghost", "Salah-Sandi-0000", "10.1.0.3", clock_ms, &lg),
		     PT_ERETRY);
	/* an unknown username is not written to the audit log (it may be a password) */
	PT_CHECK_INT(count("SELECT count(*) FROM audit_log WHERE target LIKE '%ghost%' OR "
			   "detail LIKE '%Salah%'"),
		     0);
	/* after 15 minutes the account works again, and a success resets the count */
	set_clock(locked_at + 15 * MIN + 1);
	PT_CHECK_INT(pt_auth_login(auth, rdb, "admin1", "Admin-Sandi-2026", "10.1.0.2", clock_ms, &lg),
		     PT_OK);
	for (int i = 0; i < 4; i++)
		PT_CHECK_INT(pt_auth_login(auth, rdb, "admin1", "Salah-Sandi-0000", "10.1.0.1",
					   clock_ms, &lg),
			     PT_EAUTH);
	PT_CHECK_INT(pt_auth_login(auth, rdb, "admin1", "Admin-Sandi-2026", "10.1.0.2", clock_ms, &lg),
		     PT_OK);
}

PT_TEST(rate_limit_address)
{
	struct pt_login lg;
	char user[32];
	set_clock(T0 + 200 * 60 * MIN);
	for (int i = 0; i < 20; i++) {
		snprintf(user, sizeof(user), "probe%d", i);
		PT_CHECK_INT(pt_auth_login(auth, rdb, user, "Salah-Sandi-0000", "192.0.2.9", clock_ms,
					   &lg),
			     PT_EAUTH);
	}
	PT_CHECK_INT(pt_auth_login(auth, rdb, "fo1", "Front-Sandi-2026", "192.0.2.9", clock_ms, &lg),
		     PT_ERETRY);
	PT_CHECK(lg.retry_after_s > 14 * 60 && lg.retry_after_s <= 15 * 60);
	PT_CHECK_INT(count("SELECT count(*) FROM audit_log WHERE action = 'auth.locked_address' AND "
			   "detail = '{\"addr\":\"192.0.2.9\"}'"),
		     1);
	PT_CHECK_INT(pt_auth_login(auth, rdb, "fo1", "Front-Sandi-2026", "192.0.2.10", clock_ms, &lg),
		     PT_OK);
	PT_CHECK_INT(count("SELECT count(*) FROM audit_log WHERE action = 'auth.login' AND "
			   "username = 'fo1' AND detail = '{\"addr\":\"192.0.2.10\"}'"),
		     1);
	set_clock(clock_ms + 16 * MIN);
	PT_CHECK_INT(pt_auth_login(auth, rdb, "fo1", "Front-Sandi-2026", "192.0.2.9", clock_ms, &lg),
		     PT_OK);
}

struct key_arg {
	const char *name, *kind;
	int64_t user_id;
	char key[PT_AUTH_TOKEN_HEX];
	int revoke;
};
static int key_run(sqlite3 *db, void *arg)
{
	struct key_arg *k = arg;
	if (k->revoke)
		return pt_apikey_revoke(db, k->name);
	return pt_apikey_add(db, k->name, k->kind, k->user_id, k->key, sizeof(k->key));
}

PT_TEST(api_keys_and_bearer)
{
	struct key_arg k = { .name = "lapor-kota", .kind = PT_APIKEY_OPEN311 };
	char name[64];
	PT_CHECK_INT(pt_store_exec(st, key_run, &k), PT_OK);
	PT_CHECK_INT(strlen(k.key), 64);
	PT_CHECK_INT(pt_apikey_check(rdb, k.key, PT_APIKEY_OPEN311, name, sizeof(name)), PT_OK);
	PT_CHECK_STR(name, "lapor-kota");
	PT_CHECK_INT(pt_apikey_check(rdb, k.key, PT_APIKEY_STAFF, name, sizeof(name)), PT_EAUTH);
	struct key_arg dup = { .name = "lapor-kota", .kind = PT_APIKEY_OPEN311 };
	PT_CHECK_INT(pt_store_exec(st, key_run, &dup), PT_EEXIST);
	struct key_arg bad = { .name = "bad name", .kind = PT_APIKEY_OPEN311 };
	PT_CHECK_INT(pt_store_exec(st, key_run, &bad), PT_EINVAL);

	/* a personal token of sup1: bearer, no CSRF needed, role applies */
	struct key_arg t = { .name = "sup1-script", .kind = PT_APIKEY_STAFF,
			     .user_id = count("SELECT id FROM users WHERE username = 'sup1'") };
	PT_CHECK_INT(pt_store_exec(st, key_run, &t), PT_OK);
	struct fake f;
	struct pt_web_resp resp;
	struct pt_staff who;
	memset(&resp, 0, sizeof(resp));
	fake_init(&f, rdb, "POST", NULL, NULL);
	snprintf(f.authz, sizeof(f.authz), "Bearer %s", t.key);
	PT_CHECK_INT(pt_auth_require(&app, &f.r, &resp, PT_ROLE_SUPERVISOR, &who), PT_OK);
	PT_CHECK_STR(who.username, "sup1");
	PT_CHECK_INT(who.via_token, 1);
	PT_CHECK(pt_auth_require(&app, &f.r, &resp, PT_ROLE_ADMIN, &who) < 0);
	PT_CHECK_INT(resp.status, 403);
	pt_web_resp_free(&resp);
	/* an Open311 key is not a staff token */
	snprintf(f.authz, sizeof(f.authz), "Bearer %s", k.key);
	PT_CHECK(pt_auth_require(&app, &f.r, &resp, PT_ROLE_STAFF, &who) < 0);
	PT_CHECK_INT(resp.status, 401);
	pt_web_resp_free(&resp);
	/* revoked */
	k.revoke = 1;
	PT_CHECK_INT(pt_store_exec(st, key_run, &k), PT_OK);
	PT_CHECK_INT(pt_store_exec(st, key_run, &k), PT_ENOTFOUND);
	PT_CHECK_INT(pt_apikey_check(rdb, k.key, PT_APIKEY_OPEN311, name, sizeof(name)), PT_EAUTH);
	PT_CHECK_INT(pt_apikey_check(rdb, "short", PT_APIKEY_OPEN311, name, sizeof(name)), PT_EAUTH);
}

static int disable_run(sqlite3 *db, void *arg)
{
	return pt_user_disable(db, arg);
}
struct pw_arg {
	const char *user, *pass;
	char err[128];
};
static int passwd_run(sqlite3 *db, void *arg)
{
	struct pw_arg *p = arg;
	return pt_user_passwd(db, p->user, p->pass, p->err, sizeof(p->err));
}

PT_TEST(disable_and_passwd)
{
	struct pt_login lg;
	struct pt_staff who;
	int status;
	set_clock(T0 + 300 * 60 * MIN);
	PT_CHECK_INT(pt_auth_login(auth, rdb, "sup1", "Super-Sandi-2026", "10.2.0.1", clock_ms, &lg),
		     PT_OK);
	struct pw_arg p = { "sup1", "Baru-Sandi-2026", "" };
	PT_CHECK_INT(pt_store_exec(st, passwd_run, &p), PT_OK);
	/* the password change ended the session */
	PT_CHECK(require("GET", lg.token, NULL, PT_ROLE_STAFF, &who, &status, NULL, 0) < 0);
	PT_CHECK_INT(pt_auth_login(auth, rdb, "sup1", "Super-Sandi-2026", "10.2.0.1", clock_ms, &lg),
		     PT_EAUTH);
	PT_CHECK_INT(pt_auth_login(auth, rdb, "sup1", "Baru-Sandi-2026", "10.2.0.1", clock_ms, &lg),
		     PT_OK);
	struct pw_arg none = { "nobody", "Baru-Sandi-2026", "" };
	PT_CHECK_INT(pt_store_exec(st, passwd_run, &none), PT_ENOTFOUND);
	PT_CHECK_INT(pt_store_exec(st, disable_run, (void *)"sup1"), PT_OK);
	PT_CHECK(require("GET", lg.token, NULL, PT_ROLE_STAFF, &who, &status, NULL, 0) < 0);
	PT_CHECK_INT(pt_auth_login(auth, rdb, "sup1", "Baru-Sandi-2026", "10.2.0.1", clock_ms, &lg),
		     PT_EAUTH);
	PT_CHECK_INT(count("SELECT count(*) FROM api_keys WHERE name = 'sup1-script' AND "
			   "revoked_ms IS NOT NULL"),
		     1);
	PT_CHECK_INT(pt_store_exec(st, disable_run, (void *)"nobody"), PT_ENOTFOUND);
}

static int audit_run(sqlite3 *db, void *arg)
{
	(void)arg;
	struct pt_staff w = { .id = 7, .username = "fo1" };
	int rc = pt_audit(db, &w, "ticket.transition", "ticket:48210934", "{\"to\":\"registered\"}");
	if (rc == PT_OK)
		rc = pt_audit(db, NULL, "system.test", NULL, NULL);
	return rc;
}

PT_TEST(audit_and_cookie)
{
	set_clock(T0 + 400 * 60 * MIN);
	PT_CHECK_INT(pt_store_exec(st, audit_run, NULL), PT_OK);
	PT_CHECK_INT(count("SELECT count(*) FROM audit_log WHERE user_id = 7 AND username = 'fo1' "
			   "AND action = 'ticket.transition' AND target = 'ticket:48210934'"),
		     1);
	char sql[160];
	snprintf(sql, sizeof(sql), "SELECT created_ms FROM audit_log WHERE action = 'system.test'");
	PT_CHECK_INT(count(sql), T0 + 400 * 60 * MIN);
	PT_CHECK_INT(count("SELECT count(*) FROM audit_log WHERE action = 'system.test' AND "
			   "username = 'system' AND user_id IS NULL"),
		     1);
	char line[256];
	pt_auth_cookie(auth, "abc", line, sizeof(line));
	PT_CHECK_STR(line, "Set-Cookie: pintu_session=abc; HttpOnly; SameSite=Strict; Path=/");
	pt_auth_cookie(auth, "", line, sizeof(line));
	PT_CHECK(strstr(line, "Max-Age=0") != NULL);
	/* secure_cookies adds Secure */
	struct pt_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.sections[PT_CFG_STAFF] = cJSON_Parse("{\"secure_cookies\":true}");
	struct pt_auth *a2 = pt_auth_new(st, &cfg);
	PT_CHECK(a2 != NULL);
	pt_auth_cookie(a2, "abc", line, sizeof(line));
	PT_CHECK_STR(line, "Set-Cookie: pintu_session=abc; HttpOnly; SameSite=Strict; Path=/; Secure");
	pt_auth_free(a2);
	cJSON_Delete(cfg.sections[PT_CFG_STAFF]);
}

int main(void)
{
	char err[256];
	snprintf(dbpath, sizeof(dbpath), "/tmp/pintu-test-auth-%d.db", (int)getpid());
	unlink(dbpath);
	set_clock(T0);
	st = pt_store_open(dbpath, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "store: %s\n", err);
		return 1;
	}
	rdb = pt_store_open_reader(st);
	auth = pt_auth_new(st, NULL);
	app = (struct pt_app){ .st = st, .auth = auth, .now_ms = test_now };
	PT_CHECK(rdb != NULL && auth != NULL);
	PT_RUN(roles);
	PT_RUN(config);
	PT_RUN(passwords);
	PT_RUN(users);
	PT_RUN(login_and_require);
	PT_RUN(logout);
	PT_RUN(expiry);
	PT_RUN(rate_limit_account);
	PT_RUN(rate_limit_address);
	PT_RUN(api_keys_and_bearer);
	PT_RUN(disable_and_passwd);
	PT_RUN(audit_and_cookie);
	pt_auth_free(auth);
	sqlite3_close(rdb);
	pt_store_close(st);
	char side[300];
	unlink(dbpath);
	snprintf(side, sizeof(side), "%s-wal", dbpath);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", dbpath);
	unlink(side);
	return PT_DONE();
}
