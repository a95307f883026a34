/*
 * api_auth.c - the JSON API of staff accounts (docs/api.md "Accounts"):
 *
 *   POST /api/login              {username, password} -> {user, csrf} + session cookie
 *   POST /api/logout             ends the session on the server, clears the cookie
 *   GET  /api/me                 {user, csrf}
 *   POST /api/me                 {lang: "id"|"en"}: the account's console language
 *   POST /api/me/password        {old_password, new_password} (any staff; ends other sessions)
 *   GET  /api/users              admin: every account
 *   POST /api/users              admin: {username, password, role, name?, lang?}
 *   POST /api/users/<name>/disable   admin
 *   POST /api/users/<name>/password  admin: {password}
 *   GET  /api/audit              supervisor, admin: ?user=&action=&target=&from=&to=&before=&limit=
 *
 * Every route but login goes through pt_auth_require with its role mask first
 * (the table below), so a route is denied unless a role is listed. Writes run
 * through pt_store_exec with an audit row in the same transaction. Passwords
 * are hashed before the write (slow) and never logged or echoed.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pintu/auth.h"
#include "pintu/common.h"
#include "pintu/web.h"

#define ADMIN ((unsigned)PT_ROLE_ADMIN)
#define AUDITORS ((unsigned)(PT_ROLE_SUPERVISOR | PT_ROLE_ADMIN))
#define AUDIT_LIMIT_DEFAULT 50
#define AUDIT_LIMIT_MAX 500

/* ---------------------------------------------------------------- helpers */

static int is_get(const struct pt_web_req *r)
{
	return strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
}

static int is_post(const struct pt_web_req *r)
{
	return strcmp(r->method, "POST") == 0;
}

static void method_not_allowed(struct pt_web_resp *resp, const char *allow)
{
	char h[64];
	pt_web_error(resp, 405, "method_not_allowed", "method not allowed on this path");
	snprintf(h, sizeof(h), "Allow: %s", allow);
	pt_web_header(resp, h);
}

static cJSON *user_json(const struct pt_staff *who)
{
	cJSON *u = cJSON_CreateObject();
	cJSON_AddStringToObject(u, "username", who->username);
	cJSON_AddStringToObject(u, "name", who->name);
	cJSON_AddStringToObject(u, "role", pt_role_name(who->role));
	cJSON_AddStringToObject(u, "lang", who->lang[0] ? who->lang : "id");
	return u;
}

/* {user, csrf} for login and /api/me. */
static void session_answer(struct pt_web_resp *resp, int status, const struct pt_staff *who)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "user", user_json(who));
	if (who->via_token)
		cJSON_AddNullToObject(o, "csrf");
	else
		cJSON_AddStringToObject(o, "csrf", who->csrf);
	pt_web_json(resp, status, o);
	pt_web_header(resp, "Cache-Control: no-store");
}

/* A string member of j, or NULL when absent / not a string / longer than max. */
static const char *jstr(const cJSON *j, const char *key, size_t max)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, key);
	if (!cJSON_IsString(it) || strlen(it->valuestring) > max)
		return NULL;
	return it->valuestring;
}

static int json_body_type(const struct pt_web_req *r)
{
	return strncasecmp(r->content_type ? r->content_type : "", "application/json", 16) == 0;
}

/* ---------------------------------------------------------------- login / me */

static int h_login(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	struct pt_login lg;
	char line[256];
	if (!is_post(r)) {
		method_not_allowed(resp, "POST");
		return PT_OK;
	}
	if (!json_body_type(r)) {
		pt_web_error(resp, 415, "unsupported_media_type", "send JSON (application/json)");
		return PT_OK;
	}
	cJSON *j = pt_web_body_json(r, resp);
	if (!j)
		return PT_OK;
	const char *user = jstr(j, "username", 64), *pass = jstr(j, "password", PT_AUTH_PASSWORD_MAX);
	if (!user || !pass || !user[0] || !pass[0]) {
		cJSON_Delete(j);
		pt_web_error(resp, 400, "bad_request", "username and password are required");
		return PT_OK;
	}
	int64_t now = app->now_ms ? app->now_ms() : pt_now_ms();
	int rc = pt_auth_login(app->auth, r->rdb, user, pass, r->remote_addr, now, &lg);
	cJSON_Delete(j);
	if (rc == PT_ERETRY) {
		pt_web_error(resp, 429, "too_many_attempts",
			     "terlalu banyak percobaan masuk; coba lagi nanti (too many attempts)");
		snprintf(line, sizeof(line), "Retry-After: %lld", (long long)lg.retry_after_s);
		pt_web_header(resp, line);
		return PT_OK;
	}
	if (rc == PT_EAUTH) {
		pt_web_error(resp, 401, "bad_credentials",
			     "nama pengguna atau kata sandi salah (wrong username or password)");
		return PT_OK;
	}
	if (rc != PT_OK) {
		pt_web_error(resp, 503, "unavailable", "try again");
		return PT_OK;
	}
	session_answer(resp, 200, &lg.who);
	pt_auth_cookie(app->auth, lg.token, line, sizeof(line));
	pt_web_header(resp, line);
	memset(&lg, 0, sizeof(lg));
	return PT_OK;
}

static int h_logout(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	struct pt_staff who;
	char line[160];
	if (!is_post(r)) {
		method_not_allowed(resp, "POST");
		return PT_OK;
	}
	if (pt_auth_require(app, r, resp, PT_ROLE_STAFF, &who) != PT_OK)
		return PT_OK;
	int64_t now = app->now_ms ? app->now_ms() : pt_now_ms();
	if (pt_auth_logout(app->auth, &who, now) != PT_OK) {
		pt_web_error(resp, 503, "unavailable", "try again");
		return PT_OK;
	}
	pt_web_set(resp, 200, "", "{\"ok\":true}", 11);
	pt_auth_cookie(app->auth, "", line, sizeof(line));
	pt_web_header(resp, line);
	return PT_OK;
}

struct lang_write {
	const struct pt_staff *who;
	const char *lang;
};

static int lang_write_run(sqlite3 *db, void *arg)
{
	struct lang_write *w = arg;
	char target[96], detail[32];
	sqlite3_stmt *q = NULL;
	int rc = PT_EDB;
	if (sqlite3_prepare_v2(db, "UPDATE users SET lang = ? WHERE id = ?", -1, &q, NULL) !=
	    SQLITE_OK)
		return PT_EDB;
	sqlite3_bind_text(q, 1, w->lang, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, w->who->id);
	if (sqlite3_step(q) == SQLITE_DONE)
		rc = PT_OK;
	sqlite3_finalize(q);
	if (rc != PT_OK)
		return rc;
	snprintf(target, sizeof(target), "user:%s", w->who->username);
	snprintf(detail, sizeof(detail), "{\"lang\":\"%s\"}", w->lang);
	return pt_audit(db, w->who, "user.lang", target, detail);
}

/* GET /api/me; POST /api/me {lang: "id"|"en"} keeps the console language with
 * the account (so a shared office PC opens in each person's own language). */
static int h_me(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	struct pt_staff who;
	if (!is_get(r) && !is_post(r)) {
		method_not_allowed(resp, "GET, POST");
		return PT_OK;
	}
	if (pt_auth_require(app, r, resp, PT_ROLE_STAFF, &who) != PT_OK)
		return PT_OK;
	if (is_post(r)) {
		cJSON *j = pt_web_body_json(r, resp);
		if (!j)
			return PT_OK;
		const char *lang = jstr(j, "lang", 3);
		if (!lang || (strcmp(lang, "id") && strcmp(lang, "en"))) {
			cJSON_Delete(j);
			pt_web_error(resp, 422, "invalid", "lang must be id or en");
			return PT_OK;
		}
		struct lang_write w = { .who = &who, .lang = lang };
		int rc = pt_store_exec(app->st, lang_write_run, &w);
		if (rc == PT_OK)
			pt_strlcpy(who.lang, lang, sizeof(who.lang));
		cJSON_Delete(j);
		if (rc != PT_OK) {
			pt_web_error(resp, 503, "unavailable", "try again");
			return PT_OK;
		}
	}
	session_answer(resp, 200, &who);
	return PT_OK;
}

/* ---------------------------------------------------------------- user writes */

struct user_write {
	const struct pt_staff *who;
	const char *op;               /* "add" | "disable" | "passwd" | "self_passwd" */
	const char *username, *name, *lang, *pwhash;
	enum pt_role role;
	char err[256];
};

static int user_write_run(sqlite3 *db, void *arg)
{
	struct user_write *w = arg;
	char target[96], detail[96] = "", action[32];
	int rc;
	if (!strcmp(w->op, "add")) {
		rc = pt_user_add_hashed(db, w->username, w->name, w->role, w->pwhash, w->err,
					sizeof(w->err));
		if (rc == PT_OK && w->lang) {
			sqlite3_stmt *q = NULL;
			rc = PT_EDB;
			if (sqlite3_prepare_v2(db, "UPDATE users SET lang = ? WHERE username = ?", -1,
					       &q, NULL) == SQLITE_OK) {
				sqlite3_bind_text(q, 1, w->lang, -1, SQLITE_STATIC);
				sqlite3_bind_text(q, 2, w->username, -1, SQLITE_STATIC);
				if (sqlite3_step(q) == SQLITE_DONE)
					rc = PT_OK;
			}
			sqlite3_finalize(q);
		}
		snprintf(detail, sizeof(detail), "{\"role\":\"%s\"}", pt_role_name(w->role));
	} else if (!strcmp(w->op, "disable")) {
		rc = pt_user_disable(db, w->username);
	} else {
		rc = pt_user_passwd_hashed(db, w->username, w->pwhash);
	}
	if (rc != PT_OK)
		return rc;
	snprintf(target, sizeof(target), "user:%s", w->username);
	snprintf(action, sizeof(action), "user.%s", !strcmp(w->op, "self_passwd") ? "passwd" : w->op);
	return pt_audit(db, w->who, action, target, detail[0] ? detail : NULL);
}

/* Run w and answer: 200/201 with the user name, 404, 409, 422. */
static void user_write(struct pt_app *app, struct user_write *w, struct pt_web_resp *resp,
		       int ok_status)
{
	int rc = pt_store_exec(app->st, user_write_run, w);
	if (rc == PT_ENOTFOUND) {
		pt_web_error(resp, 404, "not_found", "no such user");
	} else if (rc == PT_EEXIST) {
		pt_web_error(resp, 409, "exists", "that username is taken");
	} else if (rc == PT_EINVAL) {
		pt_web_error(resp, 422, "invalid", w->err[0] ? w->err : "invalid value");
	} else if (rc != PT_OK) {
		pt_web_error(resp, 503, "unavailable", "try again");
	} else {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddStringToObject(o, "username", w->username);
		if (!strcmp(w->op, "add"))
			cJSON_AddStringToObject(o, "role", pt_role_name(w->role));
		pt_web_json(resp, ok_status, o);
	}
}

static int h_users_add(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp,
		       const struct pt_staff *who)
{
	char hash[PT_AUTH_PWHASH_MAX];
	struct user_write w = { .who = who, .op = "add" };
	cJSON *j = pt_web_body_json(r, resp);
	if (!j)
		return PT_OK;
	const char *pass = jstr(j, "password", PT_AUTH_PASSWORD_MAX), *role = jstr(j, "role", 32);
	w.username = jstr(j, "username", 64);
	w.name = jstr(j, "name", 127);
	w.lang = jstr(j, "lang", 3);
	w.role = pt_role_parse(role);
	if (!w.username || !pass || !role) {
		pt_web_error(resp, 400, "bad_request", "username, password and role are required");
		goto out;
	}
	if (!pt_auth_username_valid(w.username)) {
		pt_web_error(resp, 422, "invalid",
			     "username: 3-32 characters a-z, 0-9, '.', '_' or '-'");
		goto out;
	}
	if (w.role == PT_ROLE_NONE) {
		pt_web_error(resp, 422, "invalid",
			     "role must be front_office, back_office, supervisor or admin");
		goto out;
	}
	if (w.lang && strcmp(w.lang, "id") && strcmp(w.lang, "en")) {
		pt_web_error(resp, 422, "invalid", "lang must be id or en");
		goto out;
	}
	if (pt_auth_hash_password(w.username, pass, hash, sizeof(hash), w.err, sizeof(w.err)) !=
	    PT_OK) {
		pt_web_error(resp, 422, "weak_password", w.err);
		goto out;
	}
	w.pwhash = hash;
	if (!w.name)
		w.name = "";
	user_write(app, &w, resp, 201);
out:
	cJSON_Delete(j);
	return PT_OK;
}

static int h_users_list(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	(void)app;
	sqlite3_stmt *q = NULL;
	char at[32];
	if (sqlite3_prepare_v2(r->rdb,
			       "SELECT username, name, role, lang, disabled, created_ms FROM users "
			       "ORDER BY username",
			       -1, &q, NULL) != SQLITE_OK) {
		pt_web_error(resp, 503, "unavailable", "try again");
		return PT_OK;
	}
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "users");
	while (sqlite3_step(q) == SQLITE_ROW) {
		cJSON *u = cJSON_CreateObject();
		cJSON_AddStringToObject(u, "username", (const char *)sqlite3_column_text(q, 0));
		cJSON_AddStringToObject(u, "name", (const char *)sqlite3_column_text(q, 1));
		cJSON_AddStringToObject(u, "role", (const char *)sqlite3_column_text(q, 2));
		cJSON_AddStringToObject(u, "lang", (const char *)sqlite3_column_text(q, 3));
		cJSON_AddBoolToObject(u, "disabled", sqlite3_column_int(q, 4));
		pt_iso_utc(sqlite3_column_int64(q, 5), at, sizeof(at));
		cJSON_AddStringToObject(u, "created_at", at);
		cJSON_AddItemToArray(arr, u);
	}
	sqlite3_finalize(q);
	pt_web_json(resp, 200, o);
	return PT_OK;
}

/* /api/users/<name>/<action> */
static int h_user_action(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp,
			 const struct pt_staff *who, const char *rest)
{
	char name[64], hash[PT_AUTH_PWHASH_MAX];
	const char *slash = strchr(rest, '/');
	if (!slash || (size_t)(slash - rest) >= sizeof(name)) {
		pt_web_error(resp, 404, "not_found", "no such route");
		return PT_OK;
	}
	memcpy(name, rest, (size_t)(slash - rest));
	name[slash - rest] = '\0';
	const char *action = slash + 1;
	struct user_write w = { .who = who, .username = name };
	if (strcmp(action, "disable") && strcmp(action, "password")) {
		pt_web_error(resp, 404, "not_found", "no such route");
		return PT_OK;
	}
	if (!is_post(r)) {
		method_not_allowed(resp, "POST");
		return PT_OK;
	}
	if (!strcmp(action, "disable")) {
		if (!strcmp(name, who->username)) {
			pt_web_error(resp, 409, "self", "an admin cannot disable their own account");
			return PT_OK;
		}
		w.op = "disable";
		user_write(app, &w, resp, 200);
		return PT_OK;
	}
	cJSON *j = pt_web_body_json(r, resp);
	if (!j)
		return PT_OK;
	const char *pass = jstr(j, "password", PT_AUTH_PASSWORD_MAX);
	if (!pass)
		pt_web_error(resp, 400, "bad_request", "password is required");
	else if (pt_auth_hash_password(name, pass, hash, sizeof(hash), w.err, sizeof(w.err)) != PT_OK)
		pt_web_error(resp, 422, "weak_password", w.err);
	else {
		w.op = "passwd";
		w.pwhash = hash;
		user_write(app, &w, resp, 200);
	}
	cJSON_Delete(j);
	return PT_OK;
}

/* POST /api/me/password {old_password, new_password}: any staff, own account. */
static int h_me_password(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	struct pt_staff who;
	char hash[PT_AUTH_PWHASH_MAX], old_hash[PT_AUTH_PWHASH_MAX] = "";
	if (!is_post(r)) {
		method_not_allowed(resp, "POST");
		return PT_OK;
	}
	if (pt_auth_require(app, r, resp, PT_ROLE_STAFF, &who) != PT_OK)
		return PT_OK;
	cJSON *j = pt_web_body_json(r, resp);
	if (!j)
		return PT_OK;
	const char *old = jstr(j, "old_password", PT_AUTH_PASSWORD_MAX);
	const char *nw = jstr(j, "new_password", PT_AUTH_PASSWORD_MAX);
	struct user_write w = { .who = &who, .op = "self_passwd", .username = who.username };
	sqlite3_stmt *q = NULL;
	if (!old || !nw) {
		pt_web_error(resp, 400, "bad_request", "old_password and new_password are required");
		goto out;
	}
	if (sqlite3_prepare_v2(r->rdb, "SELECT pwhash FROM users WHERE id = ?", -1, &q, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(q, 1, who.id);
		if (sqlite3_step(q) == SQLITE_ROW)
			pt_strlcpy(old_hash, (const char *)sqlite3_column_text(q, 0),
				   sizeof(old_hash));
	}
	sqlite3_finalize(q);
	if (!pt_auth_verify_password(old_hash, old)) {
		pt_web_error(resp, 403, "bad_credentials", "the current password is wrong");
		goto out;
	}
	if (pt_auth_hash_password(who.username, nw, hash, sizeof(hash), w.err, sizeof(w.err)) !=
	    PT_OK) {
		pt_web_error(resp, 422, "weak_password", w.err);
		goto out;
	}
	w.pwhash = hash;
	user_write(app, &w, resp, 200);
	/* every session of the account ended with the new password: clear the cookie */
	if (resp->status == 200) {
		char line[160];
		pt_auth_cookie(app->auth, "", line, sizeof(line));
		pt_web_header(resp, line);
	}
out:
	cJSON_Delete(j);
	return PT_OK;
}

/* ---------------------------------------------------------------- audit */

/* "2026-11-22", "2026-11-22T10:00:00Z" or decimal ms -> ms (UTC). 0 on error. */
static int64_t parse_time(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!s[0])
		return 0;
	int all_digits = 1;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			all_digits = 0;
	if (all_digits && strlen(s) > 8)
		return strtoll(s, NULL, 10);
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (end && *end == 'T')
		end = strptime(end + 1, "%H:%M:%S", &tm);
	if (end && *end == 'Z')
		end++;
	if (!end || *end)
		return 0;
	return (int64_t)timegm(&tm) * 1000;
}

static int h_audit(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	(void)app;
	char user[64], action[64], target[96], from[40], to[40], before[24], lim[16], at[32];
	sqlite3_stmt *q = NULL;
	pt_web_query(r, "user", user, sizeof(user));
	pt_web_query(r, "action", action, sizeof(action));
	pt_web_query(r, "target", target, sizeof(target));
	pt_web_query(r, "from", from, sizeof(from));
	pt_web_query(r, "to", to, sizeof(to));
	pt_web_query(r, "before", before, sizeof(before));
	pt_web_query(r, "limit", lim, sizeof(lim));
	int limit = lim[0] ? atoi(lim) : AUDIT_LIMIT_DEFAULT;
	int64_t from_ms = parse_time(from), to_ms = parse_time(to);
	int64_t before_id = before[0] ? strtoll(before, NULL, 10) : 0;
	if (limit < 1 || limit > AUDIT_LIMIT_MAX || (from[0] && !from_ms) || (to[0] && !to_ms) ||
	    (before[0] && before_id <= 0)) {
		pt_web_error(resp, 400, "bad_request",
			     "limit 1-500; from/to as YYYY-MM-DD or ISO 8601 UTC; before an id");
		return PT_OK;
	}
	/* "to" as a date means the whole day */
	if (to[0] && strlen(to) == 10)
		to_ms += 24 * 3600 * 1000LL - 1;
	if (sqlite3_prepare_v2(r->rdb,
			       "SELECT id, username, action, target, detail, created_ms FROM audit_log "
			       "WHERE (?1 = '' OR username = ?1) AND (?2 = '' OR action = ?2 OR "
			       "action LIKE ?2 || '.%') AND (?3 = '' OR target = ?3) AND "
			       "(?4 = 0 OR created_ms >= ?4) AND (?5 = 0 OR created_ms <= ?5) AND "
			       "(?6 = 0 OR id < ?6) ORDER BY id DESC LIMIT ?7",
			       -1, &q, NULL) != SQLITE_OK) {
		pt_web_error(resp, 503, "unavailable", "try again");
		return PT_OK;
	}
	sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, from_ms);
	sqlite3_bind_int64(q, 5, to_ms);
	sqlite3_bind_int64(q, 6, before_id);
	sqlite3_bind_int(q, 7, limit + 1);
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "entries");
	int n = 0;
	int64_t last_id = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (n == limit) {
			n++;
			break;
		}
		cJSON *e = cJSON_CreateObject();
		last_id = sqlite3_column_int64(q, 0);
		cJSON_AddNumberToObject(e, "id", (double)last_id);
		pt_iso_utc(sqlite3_column_int64(q, 5), at, sizeof(at));
		cJSON_AddStringToObject(e, "at", at);
		cJSON_AddStringToObject(e, "username", (const char *)sqlite3_column_text(q, 1));
		cJSON_AddStringToObject(e, "action", (const char *)sqlite3_column_text(q, 2));
		if (sqlite3_column_type(q, 3) == SQLITE_NULL)
			cJSON_AddNullToObject(e, "target");
		else
			cJSON_AddStringToObject(e, "target", (const char *)sqlite3_column_text(q, 3));
		if (sqlite3_column_type(q, 4) == SQLITE_NULL)
			cJSON_AddNullToObject(e, "detail");
		else
			cJSON_AddStringToObject(e, "detail", (const char *)sqlite3_column_text(q, 4));
		cJSON_AddItemToArray(arr, e);
		n++;
	}
	sqlite3_finalize(q);
	if (n > limit)
		cJSON_AddNumberToObject(o, "next_before", (double)last_id);
	else
		cJSON_AddNullToObject(o, "next_before");
	pt_web_json(resp, 200, o);
	return PT_OK;
}

/* ---------------------------------------------------------------- routing */

int pt_api_auth_handle(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	struct pt_staff who;
	const char *p = r->path;
	if (!strcmp(p, "/api/login"))
		return h_login(app, r, resp);
	if (!strcmp(p, "/api/logout"))
		return h_logout(app, r, resp);
	if (!strcmp(p, "/api/me"))
		return h_me(app, r, resp);
	if (!strcmp(p, "/api/me/password"))
		return h_me_password(app, r, resp);
	if (!strcmp(p, "/api/audit")) {
		if (!is_get(r)) {
			method_not_allowed(resp, "GET");
			return PT_OK;
		}
		if (pt_auth_require(app, r, resp, AUDITORS, &who) != PT_OK)
			return PT_OK;
		return h_audit(app, r, resp);
	}
	if (!strcmp(p, "/api/users") || !strncmp(p, "/api/users/", 11)) {
		if (pt_auth_require(app, r, resp, ADMIN, &who) != PT_OK)
			return PT_OK;
		if (p[10] == '/')
			return h_user_action(app, r, resp, &who, p + 11);
		if (is_get(r))
			return h_users_list(app, r, resp);
		if (is_post(r))
			return h_users_add(app, r, resp, &who);
		method_not_allowed(resp, "GET, POST");
		return PT_OK;
	}
	return PT_ENOTFOUND;
}
