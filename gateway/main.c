/*
 * main.c - the pintu command line.
 *
 *   pintu serve [--config FILE] [--db FILE] [--listen ADDR:PORT] [--dialogs DIR]
 *   pintu tickets list [--db FILE] [--status S] [--limit N] [--json]
 *   pintu tickets show NUMBER [--db FILE] [--json]
 *   pintu outbox list [--db FILE] [--status S] [--channel NAME] [--limit N] [--json]
 *   pintu outbox retry ID [--db FILE]
 *   pintu simulate --channel ussd|sms [--from +62...] [--config FILE] [--db FILE]
 *   pintu check-dialogs [DIR]
 *
 * Wiring for serve: configuration -> dialogs -> store (writer thread) ->
 * inbox -> sender -> HTTP. SIGINT/SIGTERM stop accepting, let in-flight
 * webhooks commit and answer, then stop the sender and close the store.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "pintu/actions.h"
#include "pintu/auth.h"
#include "pintu/broadcast.h"
#include "pintu/adapter.h"
#include "pintu/common.h"
#include "pintu/config.h"
#include "pintu/dialog.h"
#include "pintu/http.h"
#include "pintu/inbox.h"
#include "pintu/outbox.h"
#include "pintu/procedure.h"
#include "pintu/store.h"
#include "pintu/text.h"
#include "pintu/tickets.h"
#include "pintu/web.h"

#define SIM_DB_DEFAULT "var/simulator.db"

struct opts {
	const char *config, *db, *listen, *dialogs, *status, *channel, *from, *note, *due;
	int json, limit, help;
	const char *args[4];
	int nargs;
};

static const char usage_main[] =
	"usage: pintu <command> [options]\n"
	"\n"
	"Commands:\n"
	"  serve           run the gateway (webhooks for every configured channel)\n"
	"  tickets list    list tickets           tickets show NUMBER   one ticket with its history\n"
	"  outbox list     outbound messages      outbox retry ID       send a failed one again\n"
	"  simulate        a phone in the terminal, talking to the same engine (for training)\n"
	"  check-dialogs   validate the dialog files and print every problem\n"
	"  users           staff accounts (add, list, disable, passwd)\n"
	"  apikeys         API keys of Open311 clients (add, list, revoke)\n"
	"  broadcast       messages to residents by area and program (create, preview, approve, ...)\n"
	"  subscribers     broadcast subscribers (import, export)\n"
	"\n"
	"Run 'pintu <command> --help' for the options of a command.\n";

static const char usage_serve[] =
	"usage: pintu serve [--config FILE] [--db FILE] [--listen ADDR:PORT] [--dialogs DIR]\n"
	"\n"
	"Serve the webhooks of every channel in the configuration. Without --config the\n"
	"built-in demo (Dinas Sosial Kota Palangka Raya) is used. Flags override the file.\n"
	"  --config FILE      JSON configuration (see docs/configuration.md)\n"
	"  --db FILE          SQLite database (created and migrated when needed)\n"
	"  --listen ADDR:PORT address to listen on, e.g. 127.0.0.1:8080 (port 0: any free port)\n"
	"  --dialogs DIR      directory of dialog files (default: dialogs)\n";

static const char usage_tickets[] =
	"usage: pintu tickets list [--db FILE] [--status STATE] [--limit N] [--json]\n"
	"       pintu tickets show NUMBER [--db FILE] [--json]\n"
	"       pintu tickets set-status NUMBER STATE [--note TEXT] [--due YYYY-MM-DD] [--db FILE]\n"
	"\n"
	"List tickets (newest first) or show one with its event history. NUMBER may be\n"
	"written 4821-0934 or 48210934. Phone numbers and NIKs are always masked.\n"
	"set-status moves a ticket to STATE through the procedure's transition table\n"
	"(docs/procedure.md; any staff transition, not the resident's appeal), records the\n"
	"event (actor \"cli\"), sets the service-level due time and queues\n"
	"the resident's notification on the channel they used (a USSD caller gets an SMS),\n"
	"in their language, with the label, the next date (--due) and the office to contact.\n"
	"  --note TEXT     the referred office, the outcome or the reason (shown to the resident\n"
	"                  for referred, resolved and rejected)\n"
	"  --due DATE      the date of the next news (office time zone)\n"
	"  --config FILE   take the database path from this configuration\n"
	"  --db FILE       the database (default: the configuration's, var/pintu.db)\n"
	"  --status STATE  only tickets in this state (received, registered, ...)\n"
	"  --json          JSON output\n";

static const char usage_outbox[] =
	"usage: pintu outbox list [--db FILE] [--status S] [--channel NAME] [--limit N] [--json]\n"
	"       pintu outbox retry ID [--db FILE]\n"
	"\n"
	"list: outbound messages (SMS, USSD screens, chat replies), newest first, with\n"
	"their delivery status and attempts. Recipients are masked and the text is never\n"
	"shown (only its length in characters). Opens the database read-only.\n"
	"retry: put a failed or dead message back in the queue (attempts 0, due now);\n"
	"a running 'pintu serve' sends it within about a second.\n"
	"  --config FILE    take the database path from this configuration\n"
	"  --db FILE        the database (default: the configuration's, var/pintu.db)\n"
	"  --status S       queued, sending, sent, delivered, failed or dead\n"
	"  --channel NAME   only this channel (e.g. at-sms)\n"
	"  --limit N        at most N messages (default 100)\n"
	"  --json           JSON output: an array of objects\n";

static const char usage_simulate[] =
	"usage: pintu simulate --channel ussd|sms [--from +62...] [--config FILE] [--db FILE]\n"
	"\n"
	"A phone in the terminal: type what a resident would type, one input per line.\n"
	"USSD: an empty line dials again after a session ends. SMS: each line is one SMS.\n"
	"Type /quit (or Ctrl-D) to stop. Tickets go to " SIM_DB_DEFAULT " unless --db is given.\n";

static const char usage_check[] =
	"usage: pintu check-dialogs [DIR]\n"
	"\n"
	"Load every dialog file in DIR (default: dialogs) and print each problem with the\n"
	"file, node and field. Exit status 0 when there is none.\n";

static int parse_opts(int argc, char **argv, struct opts *o, const char *usage)
{
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			o->help = 1;
			return 0;
		}
		if (strcmp(a, "--json") == 0) {
			o->json = 1;
			continue;
		}
		if (strcmp(a, "--config") == 0)
			slot = &o->config;
		else if (strcmp(a, "--db") == 0)
			slot = &o->db;
		else if (strcmp(a, "--listen") == 0)
			slot = &o->listen;
		else if (strcmp(a, "--dialogs") == 0)
			slot = &o->dialogs;
		else if (strcmp(a, "--status") == 0)
			slot = &o->status;
		else if (strcmp(a, "--channel") == 0)
			slot = &o->channel;
		else if (strcmp(a, "--from") == 0)
			slot = &o->from;
		else if (strcmp(a, "--note") == 0)
			slot = &o->note;
		else if (strcmp(a, "--due") == 0)
			slot = &o->due;
		else if (strcmp(a, "--limit") == 0) {
			if (i + 1 >= argc || atoi(argv[i + 1]) <= 0) {
				fprintf(stderr, "pintu: --limit needs a positive number\n");
				return -1;
			}
			o->limit = atoi(argv[++i]);
			continue;
		}
		if (slot) {
			if (i + 1 >= argc) {
				fprintf(stderr, "pintu: %s needs a value\n%s", a, usage);
				return -1;
			}
			*slot = argv[++i];
			continue;
		}
		if (a[0] == '-') {
			fprintf(stderr, "pintu: unknown option %s\n%s", a, usage);
			return -1;
		}
		if (o->nargs >= (int)PT_ARRAY_LEN(o->args)) {
			fprintf(stderr, "pintu: too many arguments\n%s", usage);
			return -1;
		}
		o->args[o->nargs++] = a;
	}
	return 0;
}

static struct pt_config *load_config(const struct opts *o)
{
	char err[512];
	struct pt_config *c = o->config ? pt_config_load(o->config, err, sizeof(err))
					: pt_config_demo(err, sizeof(err));
	if (!c) {
		fprintf(stderr, "pintu: configuration error: %s\n", err);
		return NULL;
	}
	if (o->db)
		pt_strlcpy(c->db, o->db, sizeof(c->db));
	if (o->listen)
		pt_strlcpy(c->listen, o->listen, sizeof(c->listen));
	if (o->dialogs)
		pt_strlcpy(c->dialogs, o->dialogs, sizeof(c->dialogs));
	return c;
}

static int dir_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A relative dialogs directory that is not under the working directory is
 * looked up next to the binary (build/pintu -> dialogs/), then the system's. */
static void resolve_dialogs(char *dir, size_t cap)
{
	if (dir[0] == '/' || dir_exists(dir))
		return;
	char exe[PATH_MAX], cand[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(cand, sizeof(cand), "%s/../%s", exe, dir);
			if (dir_exists(cand)) {
				pt_strlcpy(dir, cand, cap);
				return;
			}
		}
	}
	snprintf(cand, sizeof(cand), "/usr/share/pintu/%s", dir);
	if (dir_exists(cand))
		pt_strlcpy(dir, cand, cap);
}

static void print_problem(void *ctx, const char *file, const char *node, const char *field,
			  const char *msg)
{
	FILE *out = ctx;
	fprintf(out, "%s", file);
	if (node && node[0])
		fprintf(out, ": node \"%s\"", node);
	if (field && field[0])
		fprintf(out, ": field \"%s\"", field);
	fprintf(out, ": %s\n", msg);
}

static struct pt_dialogs *load_dialogs(char *dir, size_t cap)
{
	resolve_dialogs(dir, cap);
	int n = 0;
	struct pt_dialogs *d = pt_dialogs_load(dir, print_problem, stderr, &n);
	if (!d)
		fprintf(stderr, "pintu: %d problem(s) in the dialogs in %s (see above)\n", n, dir);
	return d;
}

/* ---- serve ---- */

/* A store job: escalate every overdue ticket (pt_proc_escalate). */
static int escalate_overdue(sqlite3 *db, void *arg)
{
	int n = 0;
	int rc = pt_proc_escalate(db, *(const int64_t *)arg, &n);
	if (rc == PT_OK && n > 0)
		pt_log(PT_LOG_INFO, "escalated", "tickets=%d", n);
	return rc;
}

/* Staff accounts in the database (-1 when it cannot be read). */
static int count_users(struct pt_store *st)
{
	sqlite3 *db = pt_store_open_reader(st);
	sqlite3_stmt *q = NULL;
	int n = -1;
	if (db && sqlite3_prepare_v2(db, "SELECT count(*) FROM users", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

static int cmd_serve(int argc, char **argv)
{
	struct opts o;
	if (parse_opts(argc, argv, &o, usage_serve) < 0)
		return 2;
	if (o.help)
		return 0;
	if (o.nargs) {
		fprintf(stderr, "pintu serve: unexpected argument %s\n%s", o.args[0], usage_serve);
		return 2;
	}
	int ret = 1;
	char err[512];
	struct pt_config *cfg = NULL;
	struct pt_dialogs *dialogs = NULL;
	struct pt_store *st = NULL;
	struct pt_inbox *inbox = NULL;
	struct pt_sender *sender = NULL;
	struct pt_http *http = NULL;
	struct pt_sender_channel *sch = NULL;
	struct pt_auth *auth = NULL;
	struct pt_broadcast_pump *pump = NULL;
	static struct pt_app app;

	/* Block the stop signals in every thread; the main thread waits for them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!(cfg = load_config(&o)))
		goto out;
	if (!(dialogs = load_dialogs(cfg->dialogs, sizeof(cfg->dialogs))))
		goto out;
	if (!(st = pt_store_open(cfg->db, err, sizeof(err))) ||
	    pt_store_claim(st, err, sizeof(err)) != PT_OK) {
		fprintf(stderr, "pintu: %s\n", err);
		goto out;
	}
	if ((inbox = pt_inbox_new(st, cfg, dialogs)))
		pt_inbox_set_rate_limit(inbox, (int)cfg->messages_per_minute);
	if (!inbox || pt_store_start(st) < 0) {
		fprintf(stderr, "pintu: cannot start the store writer\n");
		goto out;
	}
	sch = calloc((size_t)cfg->nchannels + 1, sizeof(*sch));
	int ns = 0;
	for (int i = 0; sch && i < cfg->nchannels; i++) {
		const struct pt_channel *ch = &cfg->channels[i];
		if (!ch->adapter->build_send)
			continue;
		sch[ns++] = (struct pt_sender_channel){
			ch->name, ch->adapter, ch->conf, ch->rate_per_s,
			ch->sms_channel[0] ? ch->sms_channel : NULL };
	}
	if (!sch || !(sender = pt_sender_start(st, sch, ns, &cfg->sender))) {
		fprintf(stderr, "pintu: cannot start the sender\n");
		goto out;
	}
	pt_inbox_set_sender(inbox, sender);
	if (!(pump = pt_broadcast_pump_start(st, cfg, sender))) {
		fprintf(stderr, "pintu: cannot start the broadcast pump\n");
		goto out;
	}
	/* Tests: hold every WAL sync this long, so that messages sent meanwhile
	 * share one transaction (tests/integration/robust.test.mjs); set before
	 * the first request can arrive. */
	const char *sd = getenv("PINTU_TEST_SYNC_DELAY_US");
	long sd_us = sd ? strtol(sd, NULL, 10) : 0;
	if (sd_us > 0 && sd_us <= 10000000)
		pt_store_set_sync_delay(st, (unsigned)sd_us);
	if (!(http = pt_http_start(cfg, inbox, st, err, sizeof(err)))) {
		fprintf(stderr, "pintu: %s\n", err);
		goto out;
	}
	pt_http_set_sender(http, sender);
	if (!(auth = pt_auth_new(st, cfg))) {
		fprintf(stderr, "pintu: cannot start the staff accounts\n");
		goto out;
	}
	app = (struct pt_app){ .cfg = cfg, .dialogs = dialogs, .st = st, .inbox = inbox,
			       .sender = sender, .auth = auth, .now_ms = pt_now_ms };
	if (pt_http_set_app(http, &app) < 0) {
		fprintf(stderr, "pintu: cannot start the staff console workers\n");
		goto out;
	}
	char host[128];
	pt_strlcpy(host, cfg->listen, sizeof(host));
	char *colon = strrchr(host, ':');
	if (colon)
		*colon = '\0';
	unsigned port = pt_http_port(http);
	printf("pintu: %s (%s), database %s\n", cfg->office.name, cfg->source, cfg->db);
	printf("pintu: listening on http://%s:%u\n", host, port);
	for (int i = 0; i < cfg->nchannels; i++)
		printf("  webhook  http://%s:%u/webhooks/%s  (%s)\n", host, port, cfg->channels[i].name,
		       cfg->channels[i].adapter->type);
	printf("  health   http://%s:%u/health    metrics http://%s:%u/metrics\n", host, port, host,
	       port);
	printf("  staff    http://%s:%u/staff      simulator http://%s:%u/simulator\n", host, port,
	       host, port);
	if (count_users(st) == 0)
		printf("  no staff account yet; create the first one with:\n"
		       "    PINTU_PASSWORD='<10+ characters>' build/pintu users add admin --role admin "
		       "--db %s\n",
		       cfg->db);
	const struct pt_channel *u = NULL;
	for (int i = 0; i < cfg->nchannels && !u; i++)
		if (cfg->channels[i].adapter->kind == PT_CHAN_USSD)
			u = &cfg->channels[i];
	if (u)
		printf("  try: curl -d 'sessionId=demo1&serviceCode=*123%%23&phoneNumber=%%2B6281234567890"
		       "&text=' http://%s:%u/webhooks/%s\n",
		       host, port, u->name);
	printf("  or a phone in the terminal: build/pintu simulate --channel ussd\n");
	fflush(stdout);
	pt_log(PT_LOG_INFO, "started", "listen=%s:%u channels=%d event_loop=%s", host, port,
	       cfg->nchannels, pt_http_use_epoll(cfg) ? "epoll" : "poll");

	/* The main thread waits for the stop signal and meanwhile escalates
	 * overdue tickets to the supervisors once a minute (the console also
	 * does it when a list is opened). PINTU_ESCALATE_INTERVAL_MS shortens
	 * the interval for tests. */
	const char *iv = getenv("PINTU_ESCALATE_INTERVAL_MS");
	long interval_ms = iv ? strtol(iv, NULL, 10) : 60000;
	if (interval_ms < 10)
		interval_ms = 60000;
	int sig = 0;
	for (;;) {
		struct timespec ts = { interval_ms / 1000, (interval_ms % 1000) * 1000000L };
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig > 0)
			break;
		int64_t now = pt_now_ms();
		if (pt_store_exec(st, escalate_overdue, &now) < 0)
			pt_log(PT_LOG_WARN, "escalate_failed", "when=timer");
	}
	pt_log(PT_LOG_INFO, "stopping", "signal=%d", sig);
	ret = 0;
out:
	pt_http_stop(http);
	pt_auth_free(auth);
	pt_broadcast_pump_stop(pump);
	pt_sender_stop(sender);
	pt_inbox_free(inbox);
	pt_store_close(st);
	free(sch);
	pt_dialogs_free(dialogs);
	pt_config_free(cfg);
	if (ret == 0)
		pt_log(PT_LOG_INFO, "stopped", "clean=1");
	return ret;
}

/* ---- shared with the subcommand files (cmd.h) ---- */

struct pt_config *pt_cli_config(const char *config_path, const char *db_path)
{
	struct opts o = { .config = config_path, .db = db_path };
	return load_config(&o);
}

struct pt_store *pt_cli_store(const struct pt_config *cfg)
{
	char err[512];
	struct pt_store *st = pt_store_open(cfg->db, err, sizeof(err));
	if (!st)
		fprintf(stderr, "pintu: %s\n", err);
	return st;
}

/* ---- tickets ---- */

/* PRAGMA user_version of db into *v; -1 when it cannot be read. */
static int read_schema_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *q = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW) {
		*v = sqlite3_column_int(q, 0);
		rc = 0;
	}
	sqlite3_finalize(q);
	return rc;
}

/* A connection to an existing database for the CLI's commands, read-only or
 * (writable) read-write. Deliberately not pt_store_open: that may change the
 * journal mode or migrate, and pt_store_close checkpoints (TRUNCATE), which
 * takes the write lock and can stall a running server's writer. It never
 * creates the file; a writer refuses any other schema version than this
 * binary's, waits up to 5 s for the server's writer and does not checkpoint on
 * close. The caller closes it with sqlite3_close. */
static sqlite3 *open_db(const struct opts *o, int writable)
{
	char db[512];
	if (o->db) {
		pt_strlcpy(db, o->db, sizeof(db));
	} else {
		struct pt_config *c = load_config(o);
		if (!c)
			return NULL;
		pt_strlcpy(db, c->db, sizeof(db));
		pt_config_free(c);
	}
	if (access(db, F_OK) != 0) {
		fprintf(stderr, "pintu: no database at %s (start 'pintu serve' first, or pass --db)\n",
			db);
		return NULL;
	}
	sqlite3 *h = NULL;
	int v = 0;
	if (sqlite3_open_v2(db, &h, writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "pintu: cannot open %s for %s: %s\n", db,
			writable ? "writing" : "reading", h ? sqlite3_errmsg(h) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(h, writable ? 5000 : 2000);
	if (writable)
		sqlite3_db_config(h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (read_schema_version(h, &v) < 0) {
		fprintf(stderr, "pintu: cannot read %s: %s\n", db, sqlite3_errmsg(h));
		goto fail;
	}
	if (v == 0) {
		fprintf(stderr, "pintu: %s is not a Pintu database (or empty)\n", db);
		goto fail;
	}
	if (v > PT_STORE_SCHEMA_VERSION) {
		fprintf(stderr,
			"pintu: database schema version %d is newer than this pintu (knows up to %d); "
			"upgrade pintu\n",
			v, PT_STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (writable && v != PT_STORE_SCHEMA_VERSION) {
		fprintf(stderr,
			"pintu: database schema version %d, this pintu writes version %d; run the "
			"matching 'pintu serve' first\n",
			v, PT_STORE_SCHEMA_VERSION);
		goto fail;
	}
	return h;
fail:
	sqlite3_close(h);
	return NULL;
}

struct list_ctx {
	sqlite3 *db;
	int json, n;
};

static int print_ticket_row(const struct pt_ticket *t, void *arg)
{
	struct list_ctx *lc = arg;
	if (lc->json) {
		fputs(lc->n ? ",\n" : "\n", stdout);
		pt_ticket_write_json(lc->db, t, 0, stdout);
	} else {
		char num[10], phone[40];
		pt_ticket_format(t->number, num);
		pt_phone_mask(t->phone, phone, sizeof(phone));
		char desc[41];
		pt_strlcpy(desc, t->description, sizeof(desc));
		for (char *p = desc; *p; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		printf("%-9s  %-17s  %-12s  %-8s  %-16s  %-14s  %s\n", num, t->status, t->type,
		       t->program[0] ? t->program : "-", t->kelurahan[0] ? t->kelurahan : "-", phone,
		       desc);
	}
	lc->n++;
	return 0;
}

/* "key: value" lines and an event list, from the same JSON the API gives
 * (one source for what a ticket shows, masked the same way). */
static void print_ticket_text(sqlite3 *db, const struct pt_ticket *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	if (!mem)
		return;
	pt_ticket_write_json(db, t, 1, mem);
	fclose(mem);
	cJSON *o = cJSON_ParseWithLength(buf, len);
	free(buf);
	if (!o)
		return;
	const cJSON *it;
	cJSON_ArrayForEach(it, o)
	{
		if (cJSON_IsString(it) && it->valuestring[0])
			printf("%-13s %s\n", it->string, it->valuestring);
		else if (cJSON_IsNumber(it))
			printf("%-13s %g\n", it->string, it->valuedouble);
	}
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "events");
	if (cJSON_IsArray(ev))
		printf("history:\n");
	cJSON_ArrayForEach(it, ev)
	{
		const cJSON *at = cJSON_GetObjectItemCaseSensitive(it, "at");
		const cJSON *actor = cJSON_GetObjectItemCaseSensitive(it, "actor");
		const cJSON *from = cJSON_GetObjectItemCaseSensitive(it, "from");
		const cJSON *to = cJSON_GetObjectItemCaseSensitive(it, "to");
		const cJSON *note = cJSON_GetObjectItemCaseSensitive(it, "note");
		printf("  %s  %-10s %s -> %s%s%s\n", cJSON_IsString(at) ? at->valuestring : "",
		       cJSON_IsString(actor) ? actor->valuestring : "",
		       cJSON_IsString(from) ? from->valuestring : "-",
		       cJSON_IsString(to) ? to->valuestring : "",
		       cJSON_IsString(note) ? "  " : "", cJSON_IsString(note) ? note->valuestring : "");
	}
	cJSON_Delete(o);
}


struct set_status {
	const struct pt_config *cfg;
	const struct pt_dialogs *dialogs;
	const char *digits, *state, *note;
	int64_t due_ms;
	char from[24];
	int64_t out_id;
	int notified;
	struct pt_proc_err err;
};

/* Through the procedure's transition table (src/procedure.c) as actor "cli":
 * every staff transition, with --note recorded as the event's note and as the
 * detail the new state shows the resident (question, referred office,
 * outcome, reason). */
static int set_status_fn(sqlite3 *db, void *arg)
{
	struct set_status *ss = arg;
	struct pt_ticket t;
	int rc = pt_ticket_get(db, ss->digits, &t);
	if (rc < 0)
		return rc;
	pt_strlcpy(ss->from, t.status, sizeof(ss->from));
	int64_t last_out = 0;
	sqlite3_stmt *q = NULL;
	static const char sql_last[] = "SELECT COALESCE(MAX(id), 0) FROM messages WHERE "
				       "ticket_id = ?1 AND direction = 'out'";
	if (sqlite3_prepare_v2(db, sql_last, -1, &q, NULL) != SQLITE_OK)
		return PT_EDB;
	sqlite3_bind_int64(q, 1, t.id);
	if (sqlite3_step(q) == SQLITE_ROW)
		last_out = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	const char *n = ss->note;
	struct pt_proc_fields f = { .note = n, .question = n, .organisation = n, .outcome = n,
				    .reason = n };
	rc = pt_proc_transition(db, ss->cfg, ss->dialogs, &t, ss->state, PT_PROC_ROLE_CLI, 0, "cli",
				&f, &ss->err);
	if (rc < 0)
		return rc;
	if (ss->due_ms) {
		if (sqlite3_prepare_v2(db, "UPDATE tickets SET due_ms = ?1 WHERE id = ?2", -1, &q,
				       NULL) != SQLITE_OK)
			return PT_EDB;
		sqlite3_bind_int64(q, 1, ss->due_ms);
		sqlite3_bind_int64(q, 2, t.id);
		rc = sqlite3_step(q) == SQLITE_DONE ? PT_OK : PT_EDB;
		sqlite3_finalize(q);
		if (rc < 0)
			return rc;
		/* The message queued above carries the due date: rewrite it with --due. */
		t.due_ms = ss->due_ms;
		if (sqlite3_prepare_v2(db, "DELETE FROM messages WHERE ticket_id = ?1 AND direction = "
				       "'out' AND id > ?2 AND status = 'queued'", -1, &q, NULL) != SQLITE_OK)
			return PT_EDB;
		sqlite3_bind_int64(q, 1, t.id);
		sqlite3_bind_int64(q, 2, last_out);
		rc = sqlite3_step(q) == SQLITE_DONE ? PT_OK : PT_EDB;
		sqlite3_finalize(q);
		if (rc < 0)
			return rc;
		rc = pt_actions_notify(ss->cfg, ss->dialogs, db, &t, ss->note, &ss->out_id);
		ss->notified = rc == PT_OK;
		return rc == PT_ENOTFOUND ? PT_OK : rc;
	}
	if (sqlite3_prepare_v2(db, sql_last, -1, &q, NULL) != SQLITE_OK)
		return PT_EDB;
	sqlite3_bind_int64(q, 1, t.id);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) > last_out) {
		ss->out_id = sqlite3_column_int64(q, 0);
		ss->notified = 1;
	}
	sqlite3_finalize(q);
	return PT_OK;
}

/* "2026-12-14" -> ms at 00:00 office time; 0 on a malformed date. */
static int64_t parse_due(const struct pt_config *cfg, const char *s)
{
	int y, m, d;
	char end;
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &end) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
		return 0;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
	time_t t = timegm(&tm);
	return ((int64_t)t - (int64_t)cfg->office.utc_offset_min * 60) * 1000;
}

static int cmd_set_status(struct opts *o)
{
	char digits[9];
	int rc = pt_ticket_parse(o->args[0], strlen(o->args[0]), digits);
	if (rc < 0) {
		fprintf(stderr, "pintu: \"%s\" is not a valid ticket number\n", o->args[0]);
		return 2;
	}
	if (!pt_ticket_state_valid(o->args[1])) {
		fprintf(stderr, "pintu: unknown state \"%s\"\n", o->args[1]);
		return 2;
	}
	int ret = 1;
	struct pt_config *cfg = load_config(o);
	struct pt_dialogs *dialogs = NULL;
	sqlite3 *db = NULL;
	if (!cfg)
		return 1;
	struct set_status ss = { .cfg = cfg, .digits = digits, .state = o->args[1], .note = o->note };
	if (o->due && !(ss.due_ms = parse_due(cfg, o->due))) {
		fprintf(stderr, "pintu: --due: not a date (YYYY-MM-DD): %s\n", o->due);
		ret = 2;
		goto out;
	}
	if (!(dialogs = load_dialogs(cfg->dialogs, sizeof(cfg->dialogs))))
		goto out;
	ss.dialogs = dialogs;
	if (!(db = open_db(o, 1)))
		goto out;
	/* One durable transaction: the state, its event and the notification. */
	sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "pintu: database busy: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	rc = set_status_fn(db, &ss);
	if (rc < 0 || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		if (rc == PT_ESTATE || rc == PT_EPERM || rc == PT_EINVAL)
			fprintf(stderr, "pintu: ticket %s: %s\n", o->args[0], ss.err.message);
		else
			fprintf(stderr, "pintu: ticket %s: %s\n", o->args[0],
				rc == PT_ENOTFOUND ? "not found" : pt_strerror(rc < 0 ? rc : PT_EDB));
		goto out;
	}
	char shown[10];
	pt_ticket_format(digits, shown);
	printf("ticket %s: %s -> %s", shown, ss.from, o->args[1]);
	if (ss.notified)
		printf("; notification queued (outbox %lld)\n", (long long)ss.out_id);
	else
		printf("; no channel can reach the resident, nothing queued\n");
	ret = 0;
out:
	if (db) {
		sqlite3_stmt *st;
		while ((st = sqlite3_next_stmt(db, NULL)) != NULL)
			sqlite3_finalize(st);
		sqlite3_close(db);
	}
	pt_dialogs_free(dialogs);
	pt_config_free(cfg);
	return ret;
}

static int cmd_tickets(int argc, char **argv)
{
	struct opts o;
	if (argc >= 1 && strcmp(argv[0], "set-status") == 0) {
		if (parse_opts(argc - 1, argv + 1, &o, usage_tickets) < 0)
			return 2;
		if (o.help)
			return 0;
		if (o.nargs != 2) {
			fprintf(stderr, "pintu tickets set-status: give NUMBER and STATE\n%s",
				usage_tickets);
			return 2;
		}
		return cmd_set_status(&o);
	}
	if (argc < 1 || (strcmp(argv[0], "list") != 0 && strcmp(argv[0], "show") != 0)) {
		if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
			fputs(usage_tickets, stdout);
			return 0;
		}
		fputs(usage_tickets, stderr);
		return 2;
	}
	int show = strcmp(argv[0], "show") == 0;
	if (parse_opts(argc - 1, argv + 1, &o, usage_tickets) < 0)
		return 2;
	if (o.help)
		return 0;
	if (show != (o.nargs == 1)) {
		fprintf(stderr, show ? "pintu tickets show: give one ticket NUMBER\n%s"
				     : "pintu tickets list: unexpected argument\n%s",
			usage_tickets);
		return 2;
	}
	if (o.status && !pt_ticket_state_valid(o.status)) {
		fprintf(stderr, "pintu: unknown state \"%s\"\n", o.status);
		return 2;
	}
	sqlite3 *db = open_db(&o, 0);
	if (!db)
		return 1;
	int ret = 0;
	if (show) {
		char digits[9];
		struct pt_ticket t;
		int rc = pt_ticket_parse(o.args[0], strlen(o.args[0]), digits);
		if (rc < 0) {
			fprintf(stderr, "pintu: \"%s\" is not a valid ticket number%s\n", o.args[0],
				rc == PT_ECHECK ? " (check digit does not match: a typo?)" : "");
			ret = 1;
		} else if ((rc = pt_ticket_get(db, digits, &t)) < 0) {
			fprintf(stderr, "pintu: ticket %s %s\n", o.args[0],
				rc == PT_ENOTFOUND ? "not found" : "could not be read");
			ret = 1;
		} else if (o.json) {
			pt_ticket_write_json(db, &t, 1, stdout);
			fputc('\n', stdout);
		} else {
			print_ticket_text(db, &t);
		}
	} else {
		struct pt_ticket_filter f = { .status = o.status, .limit = o.limit };
		struct list_ctx lc = { db, o.json, 0 };
		if (o.json)
			fputs("[", stdout);
		else
			printf("%-9s  %-17s  %-12s  %-8s  %-16s  %-14s  %s\n", "NUMBER", "STATUS", "TYPE",
			       "PROGRAM", "KELURAHAN", "PHONE", "DESCRIPTION");
		if (pt_ticket_list(db, &f, print_ticket_row, &lc) < 0) {
			fprintf(stderr, "pintu: cannot list tickets\n");
			ret = 1;
		}
		if (o.json)
			fputs(lc.n ? "\n]\n" : "]\n", stdout);
		else
			printf("(%d ticket%s)\n", lc.n, lc.n == 1 ? "" : "s");
	}
	sqlite3_close(db);
	return ret;
}

/* ---- outbox ---- */

/* "2026-11-22T15:44:25Z" (cap >= 21), or "" for 0. */
static void outbox_iso(int64_t ms, char *out, size_t cap)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	if (ms <= 0 || gmtime_r(&sec, &tm) == NULL) {
		out[0] = '\0';
		return;
	}
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

struct outbox_ctx {
	int json, n;
};

static int print_outbox_row(const struct pt_outbox_row *r, void *arg)
{
	struct outbox_ctx *c = arg;
	char next[32], created[32];
	outbox_iso(r->next_attempt_ms, next, sizeof(next));
	outbox_iso(r->created_ms, created, sizeof(created));
	if (c->json) {
		cJSON *o = cJSON_CreateObject();
		if (!o)
			return 1;
		cJSON_AddNumberToObject(o, "id", (double)r->id);
		cJSON_AddStringToObject(o, "channel", r->channel);
		cJSON_AddStringToObject(o, "status", r->status);
		cJSON_AddNumberToObject(o, "attempts", r->attempts);
		if (next[0])
			cJSON_AddStringToObject(o, "next_attempt", next);
		else
			cJSON_AddNullToObject(o, "next_attempt");
		cJSON_AddStringToObject(o, "to_masked", r->to_masked);
		if (r->segments > 0)
			cJSON_AddNumberToObject(o, "segments", r->segments);
		else
			cJSON_AddNullToObject(o, "segments");
		if (r->last_error[0])
			cJSON_AddStringToObject(o, "last_error", r->last_error);
		else
			cJSON_AddNullToObject(o, "last_error");
		cJSON_AddStringToObject(o, "created_at", created);
		cJSON_AddNumberToObject(o, "length", (double)r->length);
		if (r->template_name[0])
			cJSON_AddStringToObject(o, "template", r->template_name);
		else
			cJSON_AddNullToObject(o, "template");
		char *txt = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (!txt)
			return 1;
		printf("%s%s", c->n ? ",\n" : "\n", txt);
		free(txt);
	} else {
		char seg[16];
		if (r->segments > 0)
			snprintf(seg, sizeof(seg), "%d", r->segments);
		else
			pt_strlcpy(seg, "-", sizeof(seg));
		char errtxt[81];
		if (r->template_name[0])
			snprintf(errtxt, sizeof(errtxt), "template %s%s%.50s", r->template_name,
				 r->last_error[0] ? "; " : "", r->last_error);
		else
			pt_strlcpy(errtxt, r->last_error[0] ? r->last_error : "-", sizeof(errtxt));
		printf("%-7lld  %-12s  %-9s  %8d  %-20s  %-16s  %4s  %6lld  %-20s  %s\n",
		       (long long)r->id, r->channel, r->status, r->attempts, next[0] ? next : "-",
		       r->to_masked, seg, (long long)r->length, created, errtxt);
	}
	c->n++;
	return 0;
}

static int outbox_retry(const struct opts *o)
{
	char *end = NULL;
	errno = 0;
	long long id = strtoll(o->args[0], &end, 10);
	if (errno != 0 || end == o->args[0] || *end != '\0' || id <= 0) {
		fprintf(stderr, "pintu outbox retry: \"%s\" is not a message id\n", o->args[0]);
		return 2;
	}
	sqlite3 *db = open_db(o, 1);
	if (!db)
		return 1;
	char status[16];
	int rc = pt_outbox_retry(db, (int64_t)id, status, sizeof(status));
	sqlite3_close(db);
	switch (rc) {
	case PT_OK:
		printf("message %lld queued again\n", id);
		return 0;
	case PT_ENOTFOUND:
		fprintf(stderr, "pintu: no outbound message %lld\n", id);
		return 1;
	case PT_ESTATE:
		fprintf(stderr, "pintu: message %lld is not failed or dead (status %s)\n", id, status);
		return 1;
	default:
		fprintf(stderr, "pintu: message %lld could not be queued again (database busy or "
				"failing; try again)\n",
			id);
		return 1;
	}
}

static int cmd_outbox(int argc, char **argv)
{
	struct opts o;
	if (argc < 1 || (strcmp(argv[0], "list") != 0 && strcmp(argv[0], "retry") != 0)) {
		if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
			fputs(usage_outbox, stdout);
			return 0;
		}
		fputs(usage_outbox, stderr);
		return 2;
	}
	int retry = strcmp(argv[0], "retry") == 0;
	if (parse_opts(argc - 1, argv + 1, &o, usage_outbox) < 0)
		return 2;
	if (o.help)
		return 0;
	if (retry != (o.nargs == 1)) {
		fprintf(stderr, retry ? "pintu outbox retry: give one message ID\n%s"
				      : "pintu outbox list: unexpected argument\n%s",
			usage_outbox);
		return 2;
	}
	if (retry)
		return outbox_retry(&o);
	if (o.status && !pt_outbox_status_valid(o.status)) {
		fprintf(stderr, "pintu: unknown status \"%s\" (valid:", o.status);
		for (int i = 0; pt_outbox_statuses[i]; i++)
			fprintf(stderr, "%s %s", i ? "," : "", pt_outbox_statuses[i]);
		fputs(")\n", stderr);
		return 2;
	}
	sqlite3 *db = open_db(&o, 0);
	if (!db)
		return 1;
	int ret = 0;
	struct pt_outbox_filter f = { .status = o.status, .channel = o.channel, .limit = o.limit };
	struct outbox_ctx c = { o.json, 0 };
	if (o.json)
		fputs("[", stdout);
	else
		printf("%-7s  %-12s  %-9s  %8s  %-20s  %-16s  %4s  %6s  %-20s  %s\n", "ID", "CHANNEL",
		       "STATUS", "ATTEMPTS", "NEXT_ATTEMPT", "TO", "SEGS", "LENGTH", "CREATED_AT",
		       "LAST_ERROR");
	if (pt_outbox_list(db, &f, print_outbox_row, &c) < 0) {
		fprintf(stderr, "pintu: cannot list outbound messages\n");
		ret = 1;
	}
	if (o.json)
		fputs(c.n ? "\n]\n" : "]\n", stdout);
	else
		printf("(%d message%s)\n", c.n, c.n == 1 ? "" : "s");
	sqlite3_close(db);
	return ret;
}

/* ---- simulate ---- */

/* Print the messages queued to the resident on other channels since *last_id
 * (the SMS confirmation a USSD caller gets). */
static void sim_show_sms(sqlite3 *rd, const char *phone, const char *chan, int64_t *last_id)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(rd,
			       "SELECT id, channel, body FROM messages WHERE direction = 'out' AND "
			       "peer = ?1 AND id > ?2 AND channel <> ?3 ORDER BY id",
			       -1, &q, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(q, 1, phone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, *last_id);
	sqlite3_bind_text(q, 3, chan, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		*last_id = sqlite3_column_int64(q, 0);
		printf("[SMS via %s] %s\n", (const char *)sqlite3_column_text(q, 1),
		       (const char *)sqlite3_column_text(q, 2));
	}
	sqlite3_finalize(q);
}

static int cmd_simulate(int argc, char **argv)
{
	struct opts o;
	if (parse_opts(argc, argv, &o, usage_simulate) < 0)
		return 2;
	if (o.help)
		return 0;
	if (!o.channel || (strcmp(o.channel, "ussd") != 0 && strcmp(o.channel, "sms") != 0)) {
		fprintf(stderr, "pintu simulate: --channel must be ussd or sms\n%s", usage_simulate);
		return 2;
	}
	char phone[PT_PHONE_MAX];
	const char *from = o.from ? o.from : "+6281200000001";
	if (pt_phone_normalize(from, strlen(from), phone, sizeof(phone)) < 0) {
		fprintf(stderr, "pintu simulate: --from: not a phone number\n");
		return 2;
	}
	if (!o.db)
		o.db = SIM_DB_DEFAULT;
	int ret = 1;
	char err[512];
	struct pt_config *cfg = load_config(&o);
	struct pt_dialogs *dialogs = NULL;
	struct pt_store *st = NULL;
	struct pt_inbox *inbox = NULL;
	struct pt_inbox_req *r = calloc(1, sizeof(*r));
	if (!cfg || !r)
		goto out;
	if (!(dialogs = load_dialogs(cfg->dialogs, sizeof(cfg->dialogs))))
		goto out;
	if (!(st = pt_store_open(cfg->db, err, sizeof(err))) ||
	    pt_store_claim(st, err, sizeof(err)) != PT_OK) {
		fprintf(stderr, "pintu: %s\n", err);
		goto out;
	}
	if (!(inbox = pt_inbox_new(st, cfg, dialogs)))
		goto out;
	pt_inbox_set_rate_limit(inbox, (int)cfg->messages_per_minute);
	enum pt_chan_kind kind = strcmp(o.channel, "ussd") == 0 ? PT_CHAN_USSD : PT_CHAN_SMS;
	const struct pt_channel *ch = NULL;
	for (int i = 0; i < cfg->nchannels && !ch; i++)
		if (cfg->channels[i].adapter->kind == kind)
			ch = &cfg->channels[i];
	if (!ch) {
		fprintf(stderr, "pintu simulate: the configuration has no %s channel\n", o.channel);
		goto out;
	}
	char masked[40];
	pt_phone_mask(phone, masked, sizeof(masked));
	printf("Pintu simulator: %s channel \"%s\" as %s (database %s). /quit to stop.\n",
	       o.channel, ch->name, masked, cfg->db);
	int tty = isatty(STDIN_FILENO);
	char line[PT_TEXT_MAX], history[PT_TEXT_MAX] = "";
	int session_no = 0, in_session = 0, msg_no = 0;
	int64_t last_sms = INT64_MAX;
	sqlite3 *rd = pt_store_open_reader(st);
	if (rd) { /* only what this run queues */
		sqlite3_stmt *q = NULL;
		last_sms = 0;
		if (sqlite3_prepare_v2(rd, "SELECT coalesce(max(id), 0) FROM messages", -1, &q, NULL) ==
			    SQLITE_OK &&
		    sqlite3_step(q) == SQLITE_ROW)
			last_sms = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	for (;;) {
		memset(&r->msg, 0, sizeof(r->msg));
		r->chan = ch;
		pt_strlcpy(r->msg.from, phone, sizeof(r->msg.from));
		if (kind == PT_CHAN_USSD && !in_session) {
			/* Dial: the first request carries no input. */
			session_no++;
			history[0] = '\0';
			printf("\n[dial %s]\n", cfg->office.ussd_code[0] ? cfg->office.ussd_code : "USSD");
			r->msg.type = PT_MSG_USSD;
		} else {
			if (tty) {
				fputs("> ", stdout);
				fflush(stdout);
			}
			if (!fgets(line, sizeof(line), stdin))
				break;
			line[strcspn(line, "\r\n")] = '\0';
			if (!tty)
				printf("> %s\n", line);
			if (strcmp(line, "/quit") == 0)
				break;
			if (kind == PT_CHAN_USSD) {
				size_t hl = strlen(history);
				snprintf(history + hl, sizeof(history) - hl, "%s%s", hl ? "*" : "", line);
				r->msg.type = PT_MSG_USSD;
			} else {
				r->msg.type = PT_MSG_TEXT;
				snprintf(r->msg.provider_id, sizeof(r->msg.provider_id), "sim-%d-%d",
					 (int)getpid(), ++msg_no);
				pt_strlcpy(r->msg.text, line, sizeof(r->msg.text));
			}
		}
		if (kind == PT_CHAN_USSD) {
			snprintf(r->msg.session_id, sizeof(r->msg.session_id), "sim-%d-%d",
				 (int)getpid(), session_no);
			r->msg.ussd_input = PT_USSD_HISTORY;
			pt_strlcpy(r->msg.text, in_session ? history : "", sizeof(r->msg.text));
			if (!in_session)
				history[0] = '\0';
			in_session = 1;
		}
		r->msg.text_len = strlen(r->msg.text);
		if (pt_inbox_process(inbox, r) < 0) {
			printf("[error: %s]\n", pt_strerror(r->rc));
			continue;
		}
		if (r->reply.has_text)
			printf("%s%s\n", kind == PT_CHAN_USSD ? (r->reply.end ? "END " : "CON ") : "",
			       r->reply.text);
		if (rd)
			sim_show_sms(rd, phone, ch->name, &last_sms);
		if (kind == PT_CHAN_USSD && r->reply.end) {
			in_session = 0;
			printf("[session ended - press Enter to dial again]\n");
			if (tty) {
				fputs("> ", stdout);
				fflush(stdout);
			}
			if (!fgets(line, sizeof(line), stdin))
				break;
			if (!tty)
				printf("> %s", line);
			if (strncmp(line, "/quit", 5) == 0)
				break;
		}
	}
	ret = 0;
	sqlite3_close(rd);
out:
	pt_inbox_free(inbox);
	pt_store_close(st);
	pt_dialogs_free(dialogs);
	pt_config_free(cfg);
	free(r);
	return ret;
}

/* ---- check-dialogs ---- */

static int cmd_check_dialogs(int argc, char **argv)
{
	struct opts o;
	if (parse_opts(argc, argv, &o, usage_check) < 0)
		return 2;
	if (o.help)
		return 0;
	char dir[512];
	pt_strlcpy(dir, o.nargs ? o.args[0] : "dialogs", sizeof(dir));
	if (!dir_exists(dir)) {
		fprintf(stderr, "pintu check-dialogs: %s is not a directory\n", dir);
		return 2;
	}
	int n = 0;
	struct pt_dialogs *d = pt_dialogs_load(dir, print_problem, stdout, &n);
	if (!d) {
		printf("%d problem%s in %s\n", n, n == 1 ? "" : "s", dir);
		return 1;
	}
	pt_dialogs_free(d);
	printf("%s: dialogs OK\n", dir);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_main, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strcmp(cmd, "tickets") == 0)
		return cmd_tickets(argc - 2, argv + 2);
	if (strcmp(cmd, "outbox") == 0)
		return cmd_outbox(argc - 2, argv + 2);
	if (strcmp(cmd, "simulate") == 0)
		return cmd_simulate(argc - 2, argv + 2);
	if (strcmp(cmd, "users") == 0)
		return pt_cmd_users(argc - 1, argv + 1);
	if (strcmp(cmd, "apikeys") == 0)
		return pt_cmd_apikeys(argc - 1, argv + 1);
	if (strcmp(cmd, "broadcast") == 0)
		return pt_cmd_broadcast(argc - 1, argv + 1);
	if (strcmp(cmd, "subscribers") == 0)
		return pt_cmd_subscribers(argc - 1, argv + 1);
	if (strcmp(cmd, "check-dialogs") == 0)
		return cmd_check_dialogs(argc - 2, argv + 2);
	fprintf(stderr, "pintu: unknown command \"%s\"\n%s", cmd, usage_main);
	return 2;
}
