/*
 * cmd_users.c - `pintu users` (staff accounts) and `pintu apikeys` (Open311
 * clients and personal API tokens).
 *
 *   pintu users add USERNAME --role ROLE [--name NAME] [--lang id|en]
 *   pintu users list [--json]
 *   pintu users disable USERNAME
 *   pintu users passwd USERNAME
 *   pintu apikeys add NAME [--user USERNAME]
 *   pintu apikeys list [--json]
 *   pintu apikeys revoke NAME
 *   (each with --config FILE, --db FILE, --help)
 *
 * A password is never an argument (it would show in `ps` and shell history):
 * it comes from the environment variable PINTU_PASSWORD or one line on stdin
 * (echo off when stdin is a terminal). A new API key is printed once, on
 * stdout; only its SHA-256 is stored. Every change writes an audit row with
 * the actor "cli". Exit 0 done, 1 failed (the reason on stderr), 2 usage.
 */
#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd.h"
#include "pintu/auth.h"
#include "pintu/common.h"

static const char usage_users[] =
	"usage: pintu users add USERNAME --role ROLE [--name NAME] [--lang id|en]\n"
	"       pintu users list [--json]\n"
	"       pintu users disable USERNAME\n"
	"       pintu users passwd USERNAME\n"
	"\n"
	"Staff accounts of the console and the JSON API.\n"
	"  ROLE           front_office, back_office, supervisor or admin\n"
	"  USERNAME       3-32 characters a-z, 0-9, '.', '_', '-'\n"
	"The password (at least 10 characters) is read from the environment variable\n"
	"PINTU_PASSWORD, else one line from stdin; never give it as an argument.\n"
	"disable ends the account's sessions and revokes its API tokens; passwd ends\n"
	"its sessions. Every change is written to the audit log (actor \"cli\").\n"
	"  --config FILE  take the database path from this configuration\n"
	"  --db FILE      the database (default: the configuration's, var/pintu.db)\n"
	"  --json         list as a JSON array\n";

static const char usage_apikeys[] =
	"usage: pintu apikeys add NAME [--user USERNAME]\n"
	"       pintu apikeys list [--json]\n"
	"       pintu apikeys revoke NAME\n"
	"\n"
	"API keys. Without --user the key is for an Open311 client (sent as the\n"
	"api_key parameter of POST /open311/v2/requests.json); with --user it is a\n"
	"personal token of that staff account for the JSON API\n"
	"(\"Authorization: Bearer KEY\", the account's role applies). The key is printed\n"
	"once; only its hash is stored. NAME: 1-64 characters a-z, A-Z, 0-9, '.', '_', '-'.\n"
	"  --config FILE  take the database path from this configuration\n"
	"  --db FILE      the database (default: the configuration's, var/pintu.db)\n"
	"  --json         list as a JSON array\n";

struct cli_opts {
	const char *config, *db, *role, *name, *lang, *user;
	int json, help;
	const char *args[2];
	int nargs;
};

/* Parse argv (after the subcommand) into o. -1 on a usage error (printed). */
static int parse(int argc, char **argv, struct cli_opts *o, const char *prog, const char *usage)
{
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			o->help = 1;
			return 0;
		}
		if (!strcmp(a, "--json")) {
			o->json = 1;
			continue;
		}
		if (!strcmp(a, "--config"))
			slot = &o->config;
		else if (!strcmp(a, "--db"))
			slot = &o->db;
		else if (!strcmp(a, "--role"))
			slot = &o->role;
		else if (!strcmp(a, "--name"))
			slot = &o->name;
		else if (!strcmp(a, "--lang"))
			slot = &o->lang;
		else if (!strcmp(a, "--user"))
			slot = &o->user;
		if (slot) {
			if (i + 1 >= argc) {
				fprintf(stderr, "pintu %s: %s needs a value\n%s", prog, a, usage);
				return -1;
			}
			*slot = argv[++i];
			continue;
		}
		if (a[0] == '-') {
			fprintf(stderr, "pintu %s: unknown option %s\n%s", prog, a, usage);
			return -1;
		}
		if (o->nargs >= (int)PT_ARRAY_LEN(o->args)) {
			fprintf(stderr, "pintu %s: unexpected argument %s\n%s", prog, a, usage);
			return -1;
		}
		o->args[o->nargs++] = a;
	}
	return 0;
}

/* The password from PINTU_PASSWORD or one line of stdin (no echo on a
 * terminal). PT_OK or PT_EINVAL (message printed). */
static int read_password(char *out, size_t cap)
{
	const char *env = getenv("PINTU_PASSWORD");
	if (env) {
		if (strlen(env) >= cap) {
			fprintf(stderr, "pintu: PINTU_PASSWORD is too long\n");
			return PT_EINVAL;
		}
		pt_strlcpy(out, env, cap);
		return PT_OK;
	}
	struct termios old, noecho;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		fprintf(stderr, "Password: ");
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	}
	char *got = fgets(out, (int)cap, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!got) {
		fprintf(stderr, "pintu: no password: set PINTU_PASSWORD or give it on stdin\n");
		return PT_EINVAL;
	}
	size_t n = strlen(out);
	if (n + 1 >= cap && out[n - 1] != '\n') {
		fprintf(stderr, "pintu: the password is too long\n");
		return PT_EINVAL;
	}
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return PT_OK;
}

static const struct pt_staff cli_actor = { .username = "cli", .lang = "id" };

/* ---------------------------------------------------------------- users */

struct user_job {
	const char *op, *username, *name, *lang, *pwhash;
	enum pt_role role;
	char err[256];
};

static int user_job_run(sqlite3 *db, void *arg)
{
	struct user_job *j = arg;
	char target[96], detail[128];
	int rc;
	snprintf(target, sizeof(target), "user:%s", j->username);
	detail[0] = '\0';
	if (!strcmp(j->op, "add")) {
		rc = pt_user_add_hashed(db, j->username, j->name, j->role, j->pwhash, j->err,
					sizeof(j->err));
		if (rc == PT_OK && j->lang) {
			sqlite3_stmt *q = NULL;
			rc = PT_EDB;
			if (sqlite3_prepare_v2(db, "UPDATE users SET lang = ? WHERE username = ?", -1,
					       &q, NULL) == SQLITE_OK) {
				sqlite3_bind_text(q, 1, j->lang, -1, SQLITE_STATIC);
				sqlite3_bind_text(q, 2, j->username, -1, SQLITE_STATIC);
				if (sqlite3_step(q) == SQLITE_DONE)
					rc = PT_OK;
			}
			sqlite3_finalize(q);
		}
		snprintf(detail, sizeof(detail), "{\"role\":\"%s\"}", pt_role_name(j->role));
	} else if (!strcmp(j->op, "passwd")) {
		rc = pt_user_passwd_hashed(db, j->username, j->pwhash);
	} else {
		rc = pt_user_disable(db, j->username);
	}
	if (rc == PT_ENOTFOUND)
		snprintf(j->err, sizeof(j->err), "no user %s", j->username);
	if (rc != PT_OK)
		return rc;
	char action[32];
	snprintf(action, sizeof(action), "user.%s", j->op);
	return pt_audit(db, &cli_actor, action, target, detail[0] ? detail : NULL);
}

static int users_change(const char *op, struct cli_opts *o)
{
	struct user_job j = { .op = op };
	char password[PT_AUTH_PASSWORD_MAX + 2], hash[PT_AUTH_PWHASH_MAX];
	struct pt_config *cfg = NULL;
	struct pt_store *st = NULL;
	int ret = 1;

	if (o->nargs != 1) {
		fprintf(stderr, "pintu users %s: give one USERNAME\n%s", op, usage_users);
		return 2;
	}
	j.username = o->args[0];
	if (!strcmp(op, "add")) {
		if (!o->role) {
			fprintf(stderr, "pintu users add: --role is required\n%s", usage_users);
			return 2;
		}
		j.role = pt_role_parse(o->role);
		if (j.role == PT_ROLE_NONE) {
			fprintf(stderr,
				"pintu users add: --role %s: must be front_office, back_office, supervisor or admin\n",
				o->role);
			return 2;
		}
		if (o->lang && strcmp(o->lang, "id") && strcmp(o->lang, "en")) {
			fprintf(stderr, "pintu users add: --lang must be id or en\n");
			return 2;
		}
		if (!pt_auth_username_valid(j.username)) {
			fprintf(stderr,
				"pintu users add: username \"%s\": 3-32 characters a-z, 0-9, '.', '_' or '-'\n",
				j.username);
			return 1;
		}
		j.name = o->name ? o->name : "";
		j.lang = o->lang;
	}
	if (!(cfg = pt_cli_config(o->config, o->db)))
		return 1;
	if (strcmp(op, "disable")) {
		if (read_password(password, sizeof(password)) != PT_OK)
			goto out;
		int rc = pt_auth_hash_password(j.username, password, hash, sizeof(hash), j.err,
					       sizeof(j.err));
		sodium_memzero(password, sizeof(password));
		if (rc != PT_OK) {
			fprintf(stderr, "pintu users %s: %s\n", op, j.err);
			goto out;
		}
		j.pwhash = hash;
	}
	if (!(st = pt_cli_store(cfg)))
		goto out;
	int rc = pt_store_exec(st, user_job_run, &j);
	if (rc != PT_OK) {
		fprintf(stderr, "pintu users %s: %s\n", op, j.err[0] ? j.err : pt_strerror(rc));
		goto out;
	}
	if (!strcmp(op, "add"))
		printf("user %s added (%s)\n", j.username, pt_role_name(j.role));
	else if (!strcmp(op, "passwd"))
		printf("password of %s changed; its sessions were ended\n", j.username);
	else
		printf("user %s disabled; its sessions were ended\n", j.username);
	ret = 0;
out:
	sodium_memzero(hash, sizeof(hash));
	pt_store_close(st);
	pt_config_free(cfg);
	return ret;
}

/* Print the rows of sql (columns as named) as a table or a JSON array. */
static int print_rows(sqlite3 *db, const char *sql, int json, const char *header,
		      const char *rowfmt)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "pintu: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	if (!json)
		fputs(header, stdout);
	int n = sqlite3_column_count(q), rows = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		rows++;
		if (json) {
			cJSON *o = cJSON_CreateObject();
			for (int i = 0; i < n; i++) {
				const char *k = sqlite3_column_name(q, i);
				if (sqlite3_column_type(q, i) == SQLITE_NULL)
					cJSON_AddNullToObject(o, k);
				else if (sqlite3_column_type(q, i) == SQLITE_INTEGER)
					cJSON_AddNumberToObject(o, k, (double)sqlite3_column_int64(q, i));
				else
					cJSON_AddStringToObject(o, k, (const char *)sqlite3_column_text(q, i));
			}
			cJSON_AddItemToArray(arr, o);
			continue;
		}
		const char *v[6] = { "", "", "", "", "", "" };
		for (int i = 0; i < n && i < 6; i++) {
			const unsigned char *t = sqlite3_column_text(q, i);
			v[i] = t ? (const char *)t : "-";
		}
		printf(rowfmt, v[0], v[1], v[2], v[3], v[4], v[5]);
	}
	sqlite3_finalize(q);
	if (json) {
		char *s = cJSON_Print(arr);
		printf("%s\n", s ? s : "[]");
		free(s);
		cJSON_Delete(arr);
	} else if (!rows) {
		printf("(none)\n");
	}
	return 0;
}

static int list_cmd(struct cli_opts *o, const char *sql, const char *header, const char *rowfmt)
{
	struct pt_config *cfg = pt_cli_config(o->config, o->db);
	struct pt_store *st = cfg ? pt_cli_store(cfg) : NULL;
	sqlite3 *db = st ? pt_store_open_reader(st) : NULL;
	int ret = 1;
	if (db)
		ret = print_rows(db, sql, o->json, header, rowfmt);
	else if (st)
		fprintf(stderr, "pintu: cannot open the database\n");
	sqlite3_close(db);
	pt_store_close(st);
	pt_config_free(cfg);
	return ret;
}

int pt_cmd_users(int argc, char **argv)
{
	struct cli_opts o;
	if (argc < 2) {
		fputs(usage_users, stderr);
		return 2;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		fputs(usage_users, stdout);
		return 0;
	}
	if (parse(argc - 2, argv + 2, &o, "users", usage_users) < 0)
		return 2;
	if (o.help)
		return 0;
	if (!strcmp(sub, "add") || !strcmp(sub, "passwd") || !strcmp(sub, "disable"))
		return users_change(sub, &o);
	if (!strcmp(sub, "list")) {
		if (o.nargs) {
			fprintf(stderr, "pintu users list: unexpected argument %s\n%s", o.args[0],
				usage_users);
			return 2;
		}
		return list_cmd(&o,
				"SELECT username, role, CASE disabled WHEN 1 THEN 'disabled' "
				"ELSE 'active' END AS state, lang, name, strftime('%Y-%m-%dT%H:%M:%SZ', "
				"created_ms / 1000, 'unixepoch') AS created_at FROM users ORDER BY username",
				"USERNAME             ROLE          STATE     LANG  NAME\n",
				"%-20s %-13s %-9s %-5s %s\n");
	}
	fprintf(stderr, "pintu users: unknown subcommand \"%s\"\n%s", sub, usage_users);
	return 2;
}

/* ---------------------------------------------------------------- api keys */

struct key_job {
	const char *op, *name, *user;
	char key[PT_AUTH_TOKEN_HEX];
	char err[160];
};

static int key_job_run(sqlite3 *db, void *arg)
{
	struct key_job *j = arg;
	char target[96];
	int64_t user_id = 0;
	int rc;
	snprintf(target, sizeof(target), "apikey:%s", j->name);
	if (!strcmp(j->op, "add")) {
		if (j->user) {
			sqlite3_stmt *q = NULL;
			if (sqlite3_prepare_v2(db,
					       "SELECT id FROM users WHERE username = ? AND disabled = 0",
					       -1, &q, NULL) != SQLITE_OK)
				return PT_EDB;
			sqlite3_bind_text(q, 1, j->user, -1, SQLITE_STATIC);
			if (sqlite3_step(q) == SQLITE_ROW)
				user_id = sqlite3_column_int64(q, 0);
			sqlite3_finalize(q);
			if (!user_id) {
				snprintf(j->err, sizeof(j->err), "no active user %s", j->user);
				return PT_ENOTFOUND;
			}
		}
		rc = pt_apikey_add(db, j->name, j->user ? PT_APIKEY_STAFF : PT_APIKEY_OPEN311,
				   user_id, j->key, sizeof(j->key));
		if (rc == PT_EEXIST)
			snprintf(j->err, sizeof(j->err), "an API key named %s exists", j->name);
		else if (rc == PT_EINVAL)
			snprintf(j->err, sizeof(j->err),
				 "name must be 1-64 characters a-z, A-Z, 0-9, '.', '_' or '-'");
	} else {
		rc = pt_apikey_revoke(db, j->name);
		if (rc == PT_ENOTFOUND)
			snprintf(j->err, sizeof(j->err), "no active API key named %s", j->name);
	}
	if (rc != PT_OK)
		return rc;
	char detail[128] = "";
	if (j->user)
		snprintf(detail, sizeof(detail), "{\"user\":\"%s\"}", j->user);
	return pt_audit(db, &cli_actor, !strcmp(j->op, "add") ? "apikey.add" : "apikey.revoke",
			target, detail[0] ? detail : NULL);
}

static int apikeys_change(const char *op, struct cli_opts *o)
{
	struct key_job j = { .op = op, .user = o->user };
	if (o->nargs != 1) {
		fprintf(stderr, "pintu apikeys %s: give one NAME\n%s", op, usage_apikeys);
		return 2;
	}
	if (o->user && strcmp(op, "add")) {
		fprintf(stderr, "pintu apikeys %s: --user only goes with add\n", op);
		return 2;
	}
	j.name = o->args[0];
	struct pt_config *cfg = pt_cli_config(o->config, o->db);
	struct pt_store *st = cfg ? pt_cli_store(cfg) : NULL;
	int ret = 1;
	if (!st)
		goto out;
	int rc = pt_store_exec(st, key_job_run, &j);
	if (rc != PT_OK) {
		fprintf(stderr, "pintu apikeys %s: %s\n", op, j.err[0] ? j.err : pt_strerror(rc));
		goto out;
	}
	if (!strcmp(op, "add")) {
		fprintf(stderr, "API key %s created%s%s; it is shown only this once:\n", j.name,
			j.user ? " for " : "", j.user ? j.user : "");
		printf("%s\n", j.key);
	} else {
		printf("API key %s revoked\n", j.name);
	}
	ret = 0;
out:
	sodium_memzero(j.key, sizeof(j.key));
	pt_store_close(st);
	pt_config_free(cfg);
	return ret;
}

int pt_cmd_apikeys(int argc, char **argv)
{
	struct cli_opts o;
	if (argc < 2) {
		fputs(usage_apikeys, stderr);
		return 2;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		fputs(usage_apikeys, stdout);
		return 0;
	}
	if (parse(argc - 2, argv + 2, &o, "apikeys", usage_apikeys) < 0)
		return 2;
	if (o.help)
		return 0;
	if (o.role || o.name || o.lang) {
		fprintf(stderr, "pintu apikeys: --role, --name and --lang belong to pintu users\n");
		return 2;
	}
	if (!strcmp(sub, "add") || !strcmp(sub, "revoke"))
		return apikeys_change(sub, &o);
	if (!strcmp(sub, "list")) {
		if (o.nargs) {
			fprintf(stderr, "pintu apikeys list: unexpected argument %s\n%s", o.args[0],
				usage_apikeys);
			return 2;
		}
		return list_cmd(&o,
				"SELECT k.name, k.kind, u.username AS user, CASE WHEN k.revoked_ms IS "
				"NULL THEN 'active' ELSE 'revoked' END AS state, "
				"strftime('%Y-%m-%dT%H:%M:%SZ', k.created_ms / 1000, 'unixepoch') AS "
				"created_at FROM api_keys k LEFT JOIN users u ON u.id = k.user_id "
				"ORDER BY k.name",
				"NAME                 KIND     USER                 STATE    CREATED\n",
				"%-20s %-8s %-20s %-8s %s\n");
	}
	fprintf(stderr, "pintu apikeys: unknown subcommand \"%s\"\n%s", sub, usage_apikeys);
	return 2;
}
