/*
 * cmd_broadcast.c - `pintu broadcast`: create, preview, approve, send, pause,
 * resume, cancel, status and list broadcasts (issue 5).
 *
 * Changes open the store with pt_cli_store() (pt_store_exec runs on this
 * thread, one durable transaction each) and write an audit row with the actor
 * "cli" and the person named by --author/--by. Reads (preview, status, list)
 * use a read-only connection, so they never stall a running server. A running
 * server's broadcast pump notices `send`/`resume` within 200 ms and the
 * sender honours `pause`/`cancel` within a second.
 *
 * `status` prints a progress bar when stdout is a terminal, plain key=value
 * lines otherwise; --watch refreshes every --interval seconds (default 1)
 * until the broadcast is done or cancelled. Exit 0 done, 1 failed, 2 usage.
 */
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "pintu/auth.h"
#include "pintu/broadcast.h"
#include "pintu/common.h"

static const char usage[] =
	"usage: pintu broadcast create --text-id TEXT [--text-en TEXT] [--kecamatan K]\n"
	"                              [--kelurahan K] [--program P] [--channel C] [--lang id|en]\n"
	"                              [--tickets PROGRAM:open|resolved] [--at \"YYYY-MM-DD HH:MM\"]\n"
	"                              --author NAME\n"
	"       pintu broadcast preview ID\n"
	"       pintu broadcast approve ID --by NAME\n"
	"       pintu broadcast send|pause|resume|cancel ID [--by NAME]\n"
	"       pintu broadcast status ID [--watch] [--interval SECONDS]\n"
	"       pintu broadcast list\n"
	"\n"
	"Broadcasts to subscribers by area and program. A broadcast is created as a\n"
	"draft, previewed (audience, SMS segments and encoding, estimated duration at\n"
	"the channels' rate limits with quiet hours), approved by a supervisor other\n"
	"than its author, then sent: a running `pintu serve` queues it through the\n"
	"outbox in batches, outside quiet hours, at each channel's rate limit.\n"
	"  --at TIME      send at this office time instead of at once\n"
	"  --tickets P:S  only residents with an open/resolved ticket of program P\n"
	"  --config FILE  configuration (default: the built-in demo)\n"
	"  --db FILE      the database (default: the configuration's)\n";

struct bopts {
	const char *config, *db, *text_id, *text_en, *kecamatan, *kelurahan, *program, *channel,
		*lang, *tickets, *at, *author, *by, *interval;
	int watch, help;
	const char *args[2];
	int nargs;
};

static int parse(int argc, char **argv, struct bopts *o)
{
	static const struct {
		const char *name;
		size_t off;
	} opts[] = {
#define O(n, f) { n, offsetof(struct bopts, f) }
		O("--config", config),	   O("--db", db),	   O("--text-id", text_id),
		O("--text-en", text_en),   O("--kecamatan", kecamatan), O("--kelurahan", kelurahan),
		O("--program", program),   O("--channel", channel), O("--lang", lang),
		O("--tickets", tickets),   O("--at", at),	   O("--author", author),
		O("--by", by),		   O("--interval", interval),
#undef O
	};
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			o->help = 1;
			return 0;
		}
		if (!strcmp(a, "--watch")) {
			o->watch = 1;
			continue;
		}
		size_t k = 0;
		while (k < PT_ARRAY_LEN(opts) && strcmp(opts[k].name, a) != 0)
			k++;
		if (k < PT_ARRAY_LEN(opts)) {
			if (i + 1 >= argc) {
				fprintf(stderr, "pintu broadcast: %s needs a value\n%s", a, usage);
				return -1;
			}
			*(const char **)(void *)((char *)o + opts[k].off) = argv[++i];
			continue;
		}
		if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "pintu broadcast: unknown option %s\n%s", a, usage);
			return -1;
		}
		if (o->nargs >= (int)PT_ARRAY_LEN(o->args)) {
			fprintf(stderr, "pintu broadcast: unexpected argument %s\n%s", a, usage);
			return -1;
		}
		o->args[o->nargs++] = a;
	}
	return 0;
}

/* The ID argument; -1 (printed) when missing or not a number. */
static int64_t arg_id(const struct bopts *o)
{
	if (o->nargs != 2) {
		fprintf(stderr, "pintu broadcast %s: needs a broadcast ID\n%s", o->args[0], usage);
		return -1;
	}
	char *end = NULL;
	long long v = strtoll(o->args[1], &end, 10);
	if (end == o->args[1] || *end || v <= 0) {
		fprintf(stderr, "pintu broadcast %s: ID must be a positive number, not \"%s\"\n",
			o->args[0], o->args[1]);
		return -1;
	}
	return v;
}

static sqlite3 *open_ro(const struct pt_config *cfg)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(cfg->db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "pintu broadcast: cannot open %s: %s\n", cfg->db,
			db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* ---- writes ---- */

struct wctx {
	const struct pt_config *cfg;
	const char *action;
	struct pt_broadcast *b;
	const char *by;
	int64_t id, count;
	char err[256];
};

static int write_tx(sqlite3 *db, void *arg)
{
	struct wctx *c = arg;
	int64_t now = pt_now_ms();
	int rc;
	if (!strcmp(c->action, "create"))
		rc = pt_broadcast_create(db, c->cfg, c->b, now, &c->id, c->err, sizeof(c->err));
	else if (!strcmp(c->action, "approve"))
		rc = pt_broadcast_approve(db, c->id, c->by, now, c->err, sizeof(c->err));
	else if (!strcmp(c->action, "send"))
		rc = pt_broadcast_send(db, c->cfg, c->id, now, &c->count, c->err, sizeof(c->err));
	else if (!strcmp(c->action, "pause"))
		rc = pt_broadcast_pause(db, c->id, now, c->err, sizeof(c->err));
	else if (!strcmp(c->action, "resume"))
		rc = pt_broadcast_resume(db, c->id, now, c->err, sizeof(c->err));
	else
		rc = pt_broadcast_cancel(db, c->id, now, c->err, sizeof(c->err));
	if (rc != PT_OK)
		return rc;
	struct pt_staff who;
	memset(&who, 0, sizeof(who));
	pt_strlcpy(who.username, "cli", sizeof(who.username));
	pt_strlcpy(who.name, c->by ? c->by : "", sizeof(who.name));
	char action[48], target[48], detail[160];
	snprintf(action, sizeof(action), "broadcast.%s", c->action);
	snprintf(target, sizeof(target), "broadcast:%lld", (long long)c->id);
	snprintf(detail, sizeof(detail), "{\"by\":\"%.64s\",\"recipients\":%lld}",
		 c->by ? c->by : "", (long long)c->count);
	for (char *p = detail + 7; *p; p++)
		if (*p == '\\' || (unsigned char)*p < 0x20)
			*p = ' ';
	return pt_audit(db, &who, action, target, detail);
}

static int run_write(const struct pt_config *cfg, struct wctx *c)
{
	struct pt_store *st = pt_cli_store(cfg);
	if (st == NULL)
		return 1;
	int rc = pt_store_exec(st, write_tx, c);
	pt_store_close(st);
	if (rc == PT_OK)
		return 0;
	if (rc == PT_ENOTFOUND)
		fprintf(stderr, "pintu broadcast %s: no broadcast %lld\n", c->action, (long long)c->id);
	else if (rc == PT_ESTATE || rc == PT_EPERM || rc == PT_EINVAL)
		fprintf(stderr, "pintu broadcast %s: %s\n", c->action, c->err);
	else
		fprintf(stderr, "pintu broadcast %s: %s\n", c->action, pt_strerror(rc));
	return 1;
}

static int cmd_create(const struct pt_config *cfg, const struct bopts *o)
{
	if (!o->text_id || !o->author) {
		fprintf(stderr, "pintu broadcast create: --text-id and --author are required\n%s",
			usage);
		return 2;
	}
	struct pt_broadcast *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return 1;
	int ret = 1;
	struct {
		const char *v, *name;
		char *dst;
		size_t cap;
	} f[] = {
		{ o->author, "--author", b->author, sizeof(b->author) },
		{ o->text_id, "--text-id", b->text_id, sizeof(b->text_id) },
		{ o->text_en, "--text-en", b->text_en, sizeof(b->text_en) },
		{ o->kecamatan, "--kecamatan", b->kecamatan, sizeof(b->kecamatan) },
		{ o->kelurahan, "--kelurahan", b->kelurahan, sizeof(b->kelurahan) },
		{ o->program, "--program", b->program, sizeof(b->program) },
		{ o->channel, "--channel", b->channel, sizeof(b->channel) },
		{ o->lang, "--lang", b->lang, sizeof(b->lang) },
	};
	for (size_t i = 0; i < PT_ARRAY_LEN(f); i++) {
		if (f[i].v && pt_strlcpy(f[i].dst, f[i].v, f[i].cap) >= f[i].cap) {
			fprintf(stderr, "pintu broadcast create: %s is too long (at most %zu bytes)\n",
				f[i].name, f[i].cap - 1);
			goto out;
		}
	}
	if (o->tickets) {
		const char *colon = strchr(o->tickets, ':');
		size_t n = colon ? (size_t)(colon - o->tickets) : strlen(o->tickets);
		if (n == 0 || n >= sizeof(b->tickets_program) ||
		    (colon && strlen(colon + 1) >= sizeof(b->tickets_state))) {
			fprintf(stderr, "pintu broadcast create: --tickets must be "
					"PROGRAM:open or PROGRAM:resolved\n");
			ret = 2;
			goto out;
		}
		memcpy(b->tickets_program, o->tickets, n);
		b->tickets_program[n] = '\0';
		if (colon)
			pt_strlcpy(b->tickets_state, colon + 1, sizeof(b->tickets_state));
	}
	if (o->at && pt_broadcast_parse_time(o->at, cfg->office.utc_offset_min, &b->schedule_ms)) {
		fprintf(stderr, "pintu broadcast create: --at must be \"YYYY-MM-DD HH:MM\" "
				"(office time), not \"%s\"\n", o->at);
		ret = 2;
		goto out;
	}
	struct wctx c = { .cfg = cfg, .action = "create", .b = b, .by = o->author };
	ret = run_write(cfg, &c);
	if (ret == 0)
		printf("broadcast %lld created (draft); next: pintu broadcast preview %lld, then "
		       "approve by a supervisor\n", (long long)c.id, (long long)c.id);
out:
	free(b);
	return ret;
}

/* ---- reads ---- */

static void print_text(const char *lang, const struct pt_broadcast_text_info *t)
{
	printf("text %s: %s, %ld characters, %ld SMS segment%s\n", lang, t->ucs2 ? "UCS-2" : "GSM-7",
	       t->chars, t->segments, t->segments == 1 ? "" : "s");
	if (t->bad_pos > 0)
		printf("  warning: character %ld \"%s\" (U+%04X) forces UCS-2: 70 characters per "
		       "SMS instead of 160\n", t->bad_pos, t->bad_char, (unsigned)t->bad_cp);
}

static int cmd_preview(const struct pt_config *cfg, sqlite3 *db, int64_t id)
{
	struct pt_broadcast *b = malloc(sizeof(*b));
	struct pt_broadcast_preview *p = malloc(sizeof(*p));
	int ret = 1;
	if (!b || !p)
		goto out;
	int rc = pt_broadcast_get(db, id, b);
	if (rc == PT_OK)
		rc = pt_broadcast_preview(db, cfg, b, pt_now_ms(), p);
	if (rc != PT_OK) {
		fprintf(stderr, "pintu broadcast preview: %s\n",
			rc == PT_ENOTFOUND ? "no such broadcast" : pt_strerror(rc));
		goto out;
	}
	int off = cfg->office.utc_offset_min;
	char t1[32], t2[32];
	printf("broadcast %lld (%s) by %s: %lld recipient%s\n", (long long)id, b->state, b->author,
	       (long long)p->total, p->total == 1 ? "" : "s");
	for (int i = 0; i < p->nch; i++) {
		if (p->ch[i].rate_per_s > 0)
			snprintf(t1, sizeof(t1), "%.4g/s", p->ch[i].rate_per_s);
		else
			snprintf(t1, sizeof(t1), "no limit");
		printf("  %-16s %8lld  (id %lld, en %lld)  rate %s%s\n", p->ch[i].channel,
		       (long long)p->ch[i].count, (long long)p->ch[i].lang_id,
		       (long long)p->ch[i].lang_en, t1,
		       p->ch[i].sendable ? "" : "  NO SENDING CHANNEL: skipped");
	}
	print_text("id", &p->text_id);
	if (p->text_en.chars > 0)
		print_text("en", &p->text_en);
	pt_broadcast_format_time(p->start_ms, off, t1, sizeof(t1));
	pt_broadcast_format_time(p->finish_ms, off, t2, sizeof(t2));
	printf("estimate: %lld s of sending; start %s, finish %s (office time)%s\n",
	       (long long)((p->send_ms + 999) / 1000), t1, t2,
	       p->quiet_now ? "; waits for the end of quiet hours" : "");
	ret = 0;
out:
	free(b);
	free(p);
	return ret;
}

static void print_status(const struct pt_broadcast *b, const struct pt_broadcast_progress *p,
			 int tty)
{
	int64_t done = p->sent + p->delivered + p->failed + p->skipped + p->cancelled;
	if (!tty) {
		printf("id=%lld state=%s total=%lld pending=%lld queued=%lld sent=%lld "
		       "delivered=%lld failed=%lld skipped=%lld cancelled=%lld\n",
		       (long long)b->id, b->state, (long long)p->total, (long long)p->pending,
		       (long long)p->queued, (long long)p->sent, (long long)p->delivered,
		       (long long)p->failed, (long long)p->skipped, (long long)p->cancelled);
		return;
	}
	enum { W = 40 };
	char bar[W + 1];
	int fill = p->total > 0 ? (int)(done * W / p->total) : 0;
	for (int i = 0; i < W; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[W] = '\0';
	printf("\rbroadcast %lld %-9s [%s] %3d%%  sent %lld  delivered %lld  failed %lld  "
	       "queued %lld  pending %lld  skipped %lld  cancelled %lld ",
	       (long long)b->id, b->state, bar, p->total > 0 ? (int)(done * 100 / p->total) : 0,
	       (long long)(p->sent + p->delivered), (long long)p->delivered, (long long)p->failed,
	       (long long)p->queued, (long long)p->pending, (long long)p->skipped,
	       (long long)p->cancelled);
	fflush(stdout);
}

static int cmd_status(sqlite3 *db, int64_t id, const struct bopts *o)
{
	int tty = isatty(STDOUT_FILENO);
	double interval = 1.0;
	if (o->interval) {
		char *end = NULL;
		interval = strtod(o->interval, &end);
		if (end == o->interval || *end || interval < 0.1 || interval > 3600) {
			fprintf(stderr, "pintu broadcast status: --interval must be 0.1..3600 seconds\n");
			return 2;
		}
	}
	struct pt_broadcast *b = malloc(sizeof(*b));
	if (b == NULL)
		return 1;
	int ret = 1;
	for (;;) {
		struct pt_broadcast_progress p;
		int rc = pt_broadcast_get(db, id, b);
		if (rc == PT_OK)
			rc = pt_broadcast_progress(db, id, &p);
		if (rc != PT_OK) {
			fprintf(stderr, "pintu broadcast status: %s\n",
				rc == PT_ENOTFOUND ? "no such broadcast" : pt_strerror(rc));
			break;
		}
		print_status(b, &p, tty);
		ret = 0;
		if (!o->watch || !strcmp(b->state, "done") || !strcmp(b->state, "cancelled") ||
		    !strcmp(b->state, "draft") || !strcmp(b->state, "approved"))
			break;
		struct timespec ts = { (time_t)interval,
				       (long)((interval - (double)(time_t)interval) * 1e9) };
		nanosleep(&ts, NULL);
	}
	if (tty && ret == 0)
		printf("\n");
	free(b);
	return ret;
}

static int list_one(const struct pt_broadcast *b, void *arg)
{
	const struct pt_config *cfg = arg;
	char when[32] = "-";
	if (b->schedule_ms > 0)
		pt_broadcast_format_time(b->schedule_ms, cfg->office.utc_offset_min, when,
					 sizeof(when));
	/* the segment on one line: "PKH / Pahandut / Langkai / sms / en / BPNT:open" */
	char seg[400];
	size_t n = (size_t)snprintf(seg, sizeof(seg), "%s",
				    b->program[0] ? b->program : "all programs");
	const char *parts[] = { b->kecamatan, b->kelurahan, b->channel, b->lang };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && n < sizeof(seg); i++)
		if (parts[i][0])
			n += (size_t)snprintf(seg + n, sizeof(seg) - n, " / %s", parts[i]);
	if (b->tickets_program[0] && n < sizeof(seg))
		snprintf(seg + n, sizeof(seg) - n, " / tickets %s%s%s", b->tickets_program,
			 b->tickets_state[0] ? ":" : "", b->tickets_state);
	printf("%-6lld %-10s %-16s %-16s %8lld  %s\n", (long long)b->id, b->state, b->author, when,
	       (long long)b->recipients, seg);
	return 0;
}

int pt_cmd_broadcast(int argc, char **argv)
{
	struct bopts o;
	if (parse(argc, argv, &o) < 0)
		return 2;
	if (o.help)
		return 0;
	if (o.nargs == 0) {
		fprintf(stderr, "pintu broadcast: which action?\n%s", usage);
		return 2;
	}
	const char *act = o.args[0];
	static const char *const acts[] = { "create", "preview", "approve", "send", "pause",
					    "resume", "cancel", "status", "list" };
	size_t k = 0;
	while (k < PT_ARRAY_LEN(acts) && strcmp(acts[k], act) != 0)
		k++;
	if (k == PT_ARRAY_LEN(acts)) {
		fprintf(stderr, "pintu broadcast: unknown action \"%s\"\n%s", act, usage);
		return 2;
	}
	if ((!strcmp(act, "create") || !strcmp(act, "list")) && o.nargs != 1) {
		fprintf(stderr, "pintu broadcast %s: unexpected argument %s\n%s", act, o.args[1], usage);
		return 2;
	}
	int64_t id = 0;
	if (strcmp(act, "create") && strcmp(act, "list") && (id = arg_id(&o)) < 0)
		return 2;
	if (!strcmp(act, "approve") && !o.by) {
		fprintf(stderr, "pintu broadcast approve: --by NAME (the approving supervisor) is "
				"required\n");
		return 2;
	}
	struct pt_config *cfg = pt_cli_config(o.config, o.db);
	if (cfg == NULL)
		return 1;
	int ret;
	if (!strcmp(act, "create")) {
		ret = cmd_create(cfg, &o);
	} else if (!strcmp(act, "preview") || !strcmp(act, "status") || !strcmp(act, "list")) {
		sqlite3 *db = open_ro(cfg);
		if (db == NULL) {
			pt_config_free(cfg);
			return 1;
		}
		if (!strcmp(act, "preview")) {
			ret = cmd_preview(cfg, db, id);
		} else if (!strcmp(act, "status")) {
			ret = cmd_status(db, id, &o);
		} else {
			printf("%-6s %-10s %-16s %-16s %8s  %s\n", "ID", "STATE", "AUTHOR", "SCHEDULE",
			       "RCPTS", "SEGMENT");
			ret = pt_broadcast_list(db, 100, list_one, cfg) == PT_OK ? 0 : 1;
		}
		sqlite3_close(db);
	} else {
		struct wctx c = { .cfg = cfg, .action = act, .by = o.by, .id = id };
		ret = run_write(cfg, &c);
		if (ret == 0 && !strcmp(act, "send"))
			printf("broadcast %lld: sending to %lld recipient%s\n", (long long)id,
			       (long long)c.count, c.count == 1 ? "" : "s");
		else if (ret == 0)
			printf("broadcast %lld: %s\n", (long long)id,
			       !strcmp(act, "approve") ? "approved" : !strcmp(act, "pause") ? "paused"
			       : !strcmp(act, "resume") ? "sending" : "cancelled");
	}
	pt_config_free(cfg);
	return ret;
}
