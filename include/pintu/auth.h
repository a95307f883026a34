/*
 * auth.h - staff accounts, roles, sessions, CSRF, login rate limits, the audit
 * log and Open311 API keys.
 *
 * Passwords: libsodium crypto_pwhash_str (argon2id, OPSLIMIT_INTERACTIVE /
 * MEMLIMIT_INTERACTIVE or stronger). Sessions: 32 random bytes, hex, in the
 * cookie "pintu_session" (HttpOnly; SameSite=Strict; Path=/); only their
 * SHA-256 is stored. Each session has its own CSRF token (returned by login and
 * GET /api/me) that every state-changing request carries in the header
 * "X-CSRF-Token". API clients may instead send "Authorization: Bearer <token>"
 * (a personal API token, stored hashed; no CSRF needed for bearer requests).
 *
 * Tables (schema migration pt_schema_auth, see src/migrations.h): users,
 * staff_sessions, login_attempts, audit_log, api_keys.
 */
#ifndef PT_AUTH_H
#define PT_AUTH_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "pintu/web.h"

struct cJSON;

enum pt_role {
	PT_ROLE_NONE = 0,
	PT_ROLE_FRONT = 1 << 0,      /* "front_office" */
	PT_ROLE_BACK = 1 << 1,       /* "back_office" */
	PT_ROLE_SUPERVISOR = 1 << 2, /* "supervisor" */
	PT_ROLE_ADMIN = 1 << 3,      /* "admin" */
};
#define PT_ROLE_STAFF (PT_ROLE_FRONT | PT_ROLE_BACK | PT_ROLE_SUPERVISOR | PT_ROLE_ADMIN)

/* "front_office" -> PT_ROLE_FRONT; PT_ROLE_NONE if unknown. */
enum pt_role pt_role_parse(const char *name);
const char *pt_role_name(enum pt_role r);

/* The signed-in staff member of a request. */
struct pt_staff {
	int64_t id;
	char username[64];
	char name[128];
	enum pt_role role;
	char lang[4];        /* console language "id" | "en" */
	int via_token;       /* 1: bearer API token (no CSRF) */
	int64_t session_id;  /* staff_sessions.id (0 for a bearer token) */
	char csrf[65];       /* the session's CSRF token ("" for a bearer token) */
};

/* Runtime state (login rate-limit counters, timeouts), from the configuration's
 * "staff" section (pt_auth_check_config validates it; absent = defaults). */
struct pt_auth_opts {
	int64_t idle_timeout_ms;     /* default 30 min */
	int64_t absolute_timeout_ms; /* default 12 h */
	int max_failures_account;    /* default 5 per 15 min, then locked for 15 min */
	int max_failures_addr;       /* default 20 per 15 min */
	int secure_cookies;          /* add "Secure" to the cookie (console over https) */
};
/* Login failures are counted over this window; reaching the maximum locks the
 * account (or address) for PT_AUTH_LOCK_MS after the last failure. */
#define PT_AUTH_WINDOW_MS (15 * 60 * 1000LL)
#define PT_AUTH_LOCK_MS (15 * 60 * 1000LL)
#define PT_AUTH_TOKEN_HEX 65   /* 32 random bytes as hex + NUL */
#define PT_AUTH_PWHASH_MAX 128 /* room for a crypto_pwhash_str string */
#define PT_AUTH_PASSWORD_MIN 10 /* characters */
#define PT_AUTH_PASSWORD_MAX 256 /* bytes */
#define PT_AUTH_COOKIE "pintu_session"
struct pt_auth *pt_auth_new(struct pt_store *st, const struct pt_config *cfg);
void pt_auth_free(struct pt_auth *a);
/* The options in force (defaults merged with the "staff" section). */
const struct pt_auth_opts *pt_auth_options(const struct pt_auth *a);

/* Parse the "staff" section (NULL = defaults) into o. PT_OK or PT_ECONFIG with
 * the key path in err. pt_auth_check_config (config.h) is this without output. */
int pt_auth_parse_opts(const struct cJSON *section, struct pt_auth_opts *o, char *err,
		       size_t errlen);

/* Outcome of pt_auth_login. */
struct pt_login {
	struct pt_staff who;            /* filled on PT_OK (who.csrf too) */
	char token[PT_AUTH_TOKEN_HEX];  /* the session token for the cookie, on PT_OK */
	int64_t retry_after_s;          /* on PT_ERETRY: seconds until the lock ends */
};
/* Check username/password from remote address addr at time now: rate limits
 * first (PT_ERETRY, out->retry_after_s), then the password (PT_EAUTH for an
 * unknown, disabled or wrong account - never saying which), then record the
 * attempt and, on success, a new session (through pt_store_exec; rdb is a reader
 * connection for the checks). PT_OK, PT_EAUTH, PT_ERETRY, PT_EDB. Wipes nothing
 * of the caller's; never logs the password or token. */
int pt_auth_login(struct pt_auth *a, sqlite3 *rdb, const char *username, const char *password,
		  const char *addr, int64_t now, struct pt_login *out);
/* End session id (logout) at now and audit it. PT_OK or PT_EDB. */
int pt_auth_logout(struct pt_auth *a, const struct pt_staff *who, int64_t now);
/* The "Set-Cookie: ..." header line for token into out ("" token = clear the cookie). */
void pt_auth_cookie(const struct pt_auth *a, const char *token, char *out, size_t cap);

/* Validate a password for username (length, not the username) and hash it with
 * crypto_pwhash_str into out (cap >= PT_AUTH_PWHASH_MAX). Slow (~0.1 s, 64 MiB):
 * call it outside a write transaction. PT_EINVAL (message in err) or PT_ENOMEM. */
int pt_auth_hash_password(const char *username, const char *password, char *out, size_t cap,
			  char *err, size_t errlen);
/* 1 when password matches the crypto_pwhash_str string hash. */
int pt_auth_verify_password(const char *hash, const char *password);
/* 1 when name is a valid username: 3-32 of [a-z0-9._-], starting with a letter or digit. */
int pt_auth_username_valid(const char *name);

/* For every protected handler: find the session (cookie or bearer), check
 * timeouts (touching last-seen), the role against allowed (a mask), and for
 * any method other than GET/HEAD the CSRF header. On success *who is filled
 * and PT_OK returned; otherwise resp is filled (401 {"error":"login_required"},
 * 403 {"error":"forbidden"} / {"error":"csrf"}) and a negative code returned. */
int pt_auth_require(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp,
		    unsigned allowed, struct pt_staff *who);

/* Append an audit row (who, when, action like "ticket.transition", target like
 * "ticket:48210934", detail JSON or text; never a password, token, full NIK or
 * phone). Runs in the caller's write transaction. */
int pt_audit(sqlite3 *db, const struct pt_staff *who, const char *action, const char *target,
	     const char *detail);

/* User management (the CLI and the admin API). Each runs in the caller's write
 * transaction. PT_EINVAL (bad username/role/weak password: message in err),
 * PT_EEXIST for a taken username, PT_ENOTFOUND. */
int pt_user_add(sqlite3 *db, const char *username, const char *name, enum pt_role role,
		const char *password, char *err, size_t errlen);
int pt_user_passwd(sqlite3 *db, const char *username, const char *password, char *err, size_t errlen);
int pt_user_disable(sqlite3 *db, const char *username); /* also ends its sessions */
/* pt_user_add / pt_user_passwd with a hash from pt_auth_hash_password (so the
 * slow hashing happens before the write transaction). */
int pt_user_add_hashed(sqlite3 *db, const char *username, const char *name, enum pt_role role,
		       const char *pwhash, char *err, size_t errlen);
int pt_user_passwd_hashed(sqlite3 *db, const char *username, const char *pwhash);

/* API keys: kind "open311" (an Open311 client, sent as api_key) or "staff" (a
 * personal bearer token of user_id for the JSON API). Only the SHA-256 is stored.
 * add: key (>= PT_AUTH_TOKEN_HEX bytes) gets the new key, shown once; PT_EEXIST
 * for a taken name, PT_EINVAL for a bad name. Runs in the caller's write transaction. */
#define PT_APIKEY_OPEN311 "open311"
#define PT_APIKEY_STAFF "staff"
int pt_apikey_add(sqlite3 *db, const char *name, const char *kind, int64_t user_id, char *key,
		  size_t cap);
/* Revoke by name (PT_ENOTFOUND when no active key has it). */
int pt_apikey_revoke(sqlite3 *db, const char *name);
/* Look up an active key of kind: PT_OK (name gets its name, cap bytes) or
 * PT_EAUTH. Any connection (reader is fine). Constant-time in what matters: the
 * key is hashed before the lookup. */
int pt_apikey_check(sqlite3 *db, const char *key, const char *kind, char *name, size_t cap);

#endif
