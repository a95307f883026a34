/*
 * actions.c - what dialogs can ask of the deployment.
 *
 * Lists (for menus): "programs", "kecamatan", "kelurahan" (of the kecamatan in
 * variable "kecamatan"). Template variables: office_name, office_short_name,
 * short_code, ussd_code, office_phone, office_address. Actions and their
 * outcomes (the contract with the dialog files, documented in docs/dialogs.md):
 *
 *   create_ticket       -> ok            sets ticket_number, ticket_digits
 *   status_lookup       -> ok | need_nik4 | label_only | not_found | invalid
 *                          reads ticket_input; sets ticket_number, ticket_digits,
 *                          status_label, status_date, next_date (when due)
 *   status_verify_nik4  -> ok | wrong | locked   reads ticket_digits, nik4
 *   match_kelurahan     -> found | not_found   reads kelurahan_input; sets
 *                          kelurahan, kecamatan
 *   program_info        -> ok | not_found  reads program; sets program_name, program_info
 *   puskesos_lookup     -> puskesos | office   reads kecamatan, kelurahan; sets
 *                          puskesos_name, puskesos_address (or the office's)
 *
 * Who may see a status: the number that filed the ticket sees everything;
 * another number must give the last 4 digits of the ticket's NIK, or, when the
 * ticket has no NIK, sees only the label. A mistyped number (wrong check digit)
 * is "invalid", never somebody else's ticket.
 *
 * Guessing the last 4 digits: every wrong answer adds a row to
 * status_verify_failures (ticket, contact, time). When the ticket has
 * PT_NIK4_MAX_FAILURES or more wrong answers in the last PT_NIK4_WINDOW_MS, from
 * any number, status_verify_nik4 answers "locked" without comparing, even when
 * the answer would be right; so 10,000 tries cannot be made by restarting the
 * session with CEK <number>. The owner's number never reaches this check.
 * The lock counts per ticket, not per contact, because a guesser can use many
 * numbers; the cost is that a guesser can lock a stranger's ticket for a day
 * (the owner still sees it from the filing number, and the office can help).
 */
#include "pintu/actions.h"
#include "pintu/broadcast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pintu/common.h"
#include "pintu/hooks.h"
#include "pintu/store.h"
#include "pintu/text.h"
#include "pintu/outbox.h"
#include "pintu/procedure.h"
#include "pintu/subscriptions.h"
#include "pintu/tickets.h"

/* Wrong last-4-NIK answers a ticket may collect in the window before it is locked. */
#define PT_NIK4_MAX_FAILURES 5
#define PT_NIK4_WINDOW_MS (24LL * 60 * 60 * 1000)

static int is_en(const struct pt_session *s)
{
	return strcmp(s->lang, "en") == 0;
}

static const char *get(const struct pt_session *s, const char *key)
{
	const char *v = pt_session_get(s, key);
	return v ? v : "";
}

static int list_cb(void *vctx, const char *name, const struct pt_session *s,
		   struct pt_list_item *items, int max)
{
	struct pt_actions_ctx *ctx = vctx;
	const struct pt_config *c = ctx->cfg;
	int n = 0;
	/* only the items returned are filled (a whole list of 64 is 20 KB to
	 * clear, twice per menu step); a kecamatan or kelurahan has no English */
	if (strcmp(name, "programs") == 0) {
		for (int i = 0; i < c->nprograms && n < max; i++, n++) {
			pt_strlcpy(items[n].key, c->programs[i].code, sizeof(items[n].key));
			pt_strlcpy(items[n].label_id, c->programs[i].name, sizeof(items[n].label_id));
			pt_strlcpy(items[n].label_en, c->programs[i].name_en, sizeof(items[n].label_en));
		}
		return n;
	}
	if (strcmp(name, "kecamatan") == 0) {
		for (int i = 0; i < c->nareas && n < max; i++, n++) {
			pt_strlcpy(items[n].key, c->areas[i].name, sizeof(items[n].key));
			pt_strlcpy(items[n].label_id, c->areas[i].name, sizeof(items[n].label_id));
			items[n].label_en[0] = '\0';
		}
		return n;
	}
	if (strcmp(name, "kelurahan") == 0) {
		const struct pt_kecamatan *k = pt_config_kecamatan(c, get(s, "kecamatan"));
		if (!k)
			return 0;
		for (int i = 0; i < k->nkel && n < max; i++, n++) {
			pt_strlcpy(items[n].key, k->kel[i].name, sizeof(items[n].key));
			pt_strlcpy(items[n].label_id, k->kel[i].name, sizeof(items[n].label_id));
			items[n].label_en[0] = '\0';
		}
		return n;
	}
	return PT_ENOTFOUND;
}

static const char *var_cb(void *vctx, const char *name)
{
	struct pt_actions_ctx *ctx = vctx;
	const struct pt_config *c = ctx->cfg;
	if (strcmp(name, "office_name") == 0)
		return c->office.name;
	if (strcmp(name, "office_short_name") == 0)
		return c->office.short_name;
	if (strcmp(name, "short_code") == 0)
		return c->office.short_code;
	if (strcmp(name, "ussd_code") == 0)
		return c->office.ussd_code;
	if (strcmp(name, "office_phone") == 0)
		return c->office.phone;
	if (strcmp(name, "office_address") == 0)
		return c->office.address;
	return NULL;
}

static void set_out(char *outcome, size_t cap, const char *v)
{
	pt_strlcpy(outcome, v, cap);
}

static int create_ticket(struct pt_actions_ctx *ctx, struct pt_session *s, char *outcome,
			 size_t cap)
{
	struct pt_ticket t;
	memset(&t, 0, sizeof(t));
	const char *subject = get(s, "subject");
	pt_strlcpy(t.subject, strcmp(subject, "other") == 0 ? "other" : "self", sizeof(t.subject));
	pt_strlcpy(t.type, get(s, "type")[0] ? get(s, "type") : "lainnya", sizeof(t.type));
	pt_strlcpy(t.program, get(s, "program"), sizeof(t.program));
	pt_strlcpy(t.kecamatan, get(s, "kecamatan"), sizeof(t.kecamatan));
	pt_strlcpy(t.kelurahan, get(s, "kelurahan"), sizeof(t.kelurahan));
	pt_strlcpy(t.location, get(s, "location"), sizeof(t.location));
	pt_strlcpy(t.description, get(s, "description"), sizeof(t.description));
	char nik[17];
	const char *n = get(s, "nik");
	if (n[0] && pt_nik_validate(n, strlen(n), nik) == PT_NIK_OK)
		pt_strlcpy(t.nik, nik, sizeof(t.nik));
	pt_strlcpy(t.channel, ctx->chan->name, sizeof(t.channel));
	pt_strlcpy(t.phone, ctx->phone, sizeof(t.phone));
	pt_strlcpy(t.lang, s->lang[0] ? s->lang : "id", sizeof(t.lang));
	/* The due time goes in with the row (pt_proc_on_create then only links
	 * a duplicate). */
	t.created_ms = pt_now_ms();
	t.due_ms = pt_proc_due_ms(ctx->cfg, "received", t.program, t.created_ms);
	int rc = pt_ticket_create(ctx->db, &t, ctx->contact_id);
	if (rc < 0)
		return rc;
	char dup[9];
	if ((rc = pt_proc_on_create(ctx->db, ctx->cfg, &t, dup)) < 0)
		return rc;
	char shown[10];
	pt_ticket_format(t.number, shown);
	if (pt_session_set(s, "ticket_number", shown) < 0 ||
	    pt_session_set(s, "ticket_digits", t.number) < 0)
		return PT_ETOOBIG;
	ctx->ticket_id = t.id;
	if (dup[0]) {
		char dshown[10];
		pt_ticket_format(dup, dshown);
		if (pt_session_set(s, "duplicate_of", dshown) < 0)
			return PT_ETOOBIG;
		set_out(outcome, cap, "duplicate");
		return PT_OK;
	}
	set_out(outcome, cap, "ok");
	return PT_OK;
}

/* Put the status of t into the session variables. full = 0: label only. */
static int set_status_vars(struct pt_actions_ctx *ctx, struct pt_session *s,
			   const struct pt_ticket *t, int full)
{
	char shown[10], date[16];
	pt_ticket_format(t->number, shown);
	const char *label = pt_ticket_state_label(t->status, s->lang);
	if (pt_session_set(s, "ticket_number", shown) < 0 ||
	    pt_session_set(s, "ticket_digits", t->number) < 0 ||
	    pt_session_set(s, "status_label", label ? label : t->status) < 0)
		return PT_ETOOBIG;
	pt_session_unset(s, "status_date");
	pt_session_unset(s, "next_date");
	if (!full)
		return PT_OK;
	pt_config_local_date(ctx->cfg, t->updated_ms, date, sizeof(date));
	if (pt_session_set(s, "status_date", date) < 0)
		return PT_ETOOBIG;
	if (t->due_ms > 0) {
		pt_config_local_date(ctx->cfg, t->due_ms, date, sizeof(date));
		if (pt_session_set(s, "next_date", date) < 0)
			return PT_ETOOBIG;
	}
	return PT_OK;
}

static int status_lookup(struct pt_actions_ctx *ctx, struct pt_session *s, char *outcome,
			 size_t cap)
{
	const char *in = get(s, "ticket_input");
	char digits[9];
	struct pt_ticket t;
	if (pt_ticket_parse(in, strlen(in), digits) < 0) {
		set_out(outcome, cap, "invalid");
		return PT_OK;
	}
	int rc = pt_ticket_get(ctx->db, digits, &t);
	if (rc == PT_ENOTFOUND) {
		set_out(outcome, cap, "not_found");
		return PT_OK;
	}
	if (rc < 0)
		return rc;
	if (strcmp(t.phone, ctx->phone) == 0) {
		set_out(outcome, cap, "ok");
		return set_status_vars(ctx, s, &t, 1);
	}
	if (t.nik[0]) {
		char shown[10];
		pt_ticket_format(t.number, shown);
		set_out(outcome, cap, "need_nik4");
		if (pt_session_set(s, "ticket_digits", t.number) < 0 ||
		    pt_session_set(s, "ticket_number", shown) < 0)
			return PT_ETOOBIG;
		return PT_OK;
	}
	set_out(outcome, cap, "label_only");
	return set_status_vars(ctx, s, &t, 0);
}

/* Wrong answers for ticket_id since since_ms, into *count. */
static int nik4_failures(sqlite3 *db, int64_t ticket_id, int64_t since_ms, int64_t *count)
{
	sqlite3_stmt *st = pt_store_stmt(db, "SELECT count(*) FROM status_verify_failures "
					     "WHERE ticket_id = ?1 AND created_ms >= ?2");
	if (!st)
		return PT_EDB;
	sqlite3_bind_int64(st, 1, ticket_id);
	sqlite3_bind_int64(st, 2, since_ms);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? PT_OK : PT_EDB;
}

static int nik4_failure_add(sqlite3 *db, int64_t ticket_id, int64_t contact_id, int64_t now)
{
	sqlite3_stmt *st = pt_store_stmt(db, "INSERT INTO status_verify_failures "
					     "(ticket_id, contact_id, created_ms) VALUES (?1, ?2, ?3)");
	if (!st)
		return PT_EDB;
	sqlite3_bind_int64(st, 1, ticket_id);
	sqlite3_bind_int64(st, 2, contact_id);
	sqlite3_bind_int64(st, 3, now);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	/* Only the last day counts: forget this ticket's older answers. */
	sqlite3_stmt *del = rc == SQLITE_DONE ? pt_store_stmt(db, "DELETE FROM status_verify_failures "
								 "WHERE ticket_id = ?1 AND created_ms < ?2")
					      : NULL;
	if (del) {
		sqlite3_bind_int64(del, 1, ticket_id);
		sqlite3_bind_int64(del, 2, now - 86400000);
		rc = sqlite3_step(del);
		sqlite3_reset(del);
	}
	if (rc != SQLITE_DONE) {
		pt_log(PT_LOG_ERROR, "status_nik4_record_failed", "error=\"%s\"", sqlite3_errmsg(db));
		return PT_EDB;
	}
	return PT_OK;
}

static int status_verify_nik4(struct pt_actions_ctx *ctx, struct pt_session *s, char *outcome,
			      size_t cap)
{
	const char *digits = get(s, "ticket_digits");
	const char *nik4 = get(s, "nik4");
	struct pt_ticket t;
	int rc = pt_ticket_get(ctx->db, digits, &t);
	if (rc == PT_ENOTFOUND) {
		set_out(outcome, cap, "wrong");
		return PT_OK;
	}
	if (rc < 0)
		return rc;
	int64_t now = pt_now_ms(), failures = 0;
	if ((rc = nik4_failures(ctx->db, t.id, now - PT_NIK4_WINDOW_MS, &failures)) < 0)
		return rc;
	if (failures >= PT_NIK4_MAX_FAILURES) {
		pt_log(PT_LOG_WARN, "status_nik4_locked", "channel=%s failures=%lld",
		       ctx->chan->name, (long long)failures);
		set_out(outcome, cap, "locked");
		return PT_OK;
	}
	size_t nl = strlen(t.nik);
	if (nl == 16 && strlen(nik4) == 4 && memcmp(t.nik + 12, nik4, 4) == 0) {
		set_out(outcome, cap, "ok");
		return set_status_vars(ctx, s, &t, 1);
	}
	if ((rc = nik4_failure_add(ctx->db, t.id, ctx->contact_id, now)) < 0)
		return rc;
	pt_log(PT_LOG_INFO, "status_nik4_mismatch", "channel=%s failures=%lld", ctx->chan->name,
	       (long long)failures + 1);
	set_out(outcome, cap, "wrong");
	return PT_OK;
}

static int match_kelurahan(struct pt_actions_ctx *ctx, struct pt_session *s, char *outcome,
			   size_t cap)
{
	const struct pt_config *c = ctx->cfg;
	const char *names[1024];
	const struct pt_kecamatan *kec[1024];
	size_t n = 0;
	for (int i = 0; i < c->nareas; i++)
		for (int j = 0; j < c->areas[i].nkel && n < PT_ARRAY_LEN(names); j++) {
			names[n] = c->areas[i].kel[j].name;
			kec[n++] = &c->areas[i];
		}
	const char *in = get(s, "kelurahan_input");
	int idx = pt_text_match(in, strlen(in), names, n, NULL);
	if (idx < 0) {
		set_out(outcome, cap, "not_found");
		return PT_OK;
	}
	if (pt_session_set(s, "kelurahan", names[idx]) < 0 ||
	    pt_session_set(s, "kecamatan", kec[idx]->name) < 0)
		return PT_ETOOBIG;
	set_out(outcome, cap, "found");
	return PT_OK;
}

static int program_info(struct pt_actions_ctx *ctx, struct pt_session *s, char *outcome,
			size_t cap)
{
	const struct pt_program *p = pt_config_program(ctx->cfg, get(s, "program"));
	if (!p) {
		set_out(outcome, cap, "not_found");
		return PT_OK;
	}
	int en = is_en(s);
	const char *name = en && p->name_en[0] ? p->name_en : p->name;
	const char *info = en && p->info_en[0] ? p->info_en : p->info;
	if (pt_session_set(s, "program_name", name) < 0 ||
	    pt_session_set(s, "program_info", info) < 0)
		return PT_ETOOBIG;
	set_out(outcome, cap, "ok");
	return PT_OK;
}

static int puskesos_lookup(struct pt_actions_ctx *ctx, struct pt_session *s, char *outcome,
			   size_t cap)
{
	const struct pt_config *c = ctx->cfg;
	const struct pt_kecamatan *k = pt_config_kecamatan(c, get(s, "kecamatan"));
	const struct pt_kelurahan *kel = pt_config_kelurahan(c, k, get(s, "kelurahan"), &k);
	if (kel && kel->puskesos[0]) {
		char name[96];
		snprintf(name, sizeof(name), "Puskesos Kel. %s", kel->name);
		if (pt_session_set(s, "puskesos_name", name) < 0 ||
		    pt_session_set(s, "puskesos_address", kel->puskesos) < 0)
			return PT_ETOOBIG;
		set_out(outcome, cap, "puskesos");
		return PT_OK;
	}
	if (pt_session_set(s, "office_name", c->office.name) < 0 ||
	    pt_session_set(s, "office_address", c->office.address) < 0 ||
	    pt_session_set(s, "office_phone", c->office.phone) < 0)
		return PT_ETOOBIG;
	set_out(outcome, cap, "office");
	return PT_OK;
}

static const struct {
	const char *name;
	int (*fn)(struct pt_actions_ctx *, struct pt_session *, char *, size_t);
} actions[] = {
	{ "create_ticket", create_ticket },
	{ "status_lookup", status_lookup },
	{ "status_verify_nik4", status_verify_nik4 },
	{ "match_kelurahan", match_kelurahan },
	{ "program_info", program_info },
	{ "puskesos_lookup", puskesos_lookup },
};

static int action_cb(void *vctx, const char *name, struct pt_session *s, char *outcome,
		     size_t outcap)
{
	for (size_t i = 0; i < PT_ARRAY_LEN(actions); i++)
		if (strcmp(actions[i].name, name) == 0)
			return actions[i].fn(vctx, s, outcome, outcap);
	if (strncmp(name, "subscribe", 9) == 0) /* src/subscriptions.c */
		return pt_subs_action(vctx, name, s, outcome, outcap);
	pt_log(PT_LOG_ERROR, "unknown_action", "name=%s", name);
	return PT_ENOTFOUND;
}

void pt_actions_env(struct pt_dialog_env *env, struct pt_actions_ctx *ctx)
{
	memset(env, 0, sizeof(*env));
	env->chan = ctx->chan->adapter->kind;
	env->ctx = ctx;
	env->now_ms = pt_now_ms();
	env->ussd_resume_ms = ctx->cfg->ussd_resume_ms;
	env->sms_expiry_ms = ctx->cfg->sms_expiry_ms;
	env->list = list_cb;
	env->action = action_cb;
	env->var = var_cb;
}

/* WhatsApp accepts free-form messages only within 24 hours of the resident's
 * last message (their session on that channel was last touched then). */
#define CHAT_WINDOW_MS (24LL * 3600 * 1000)

static int outside_window(sqlite3 *db, const struct pt_channel *ch, const char *phone, int64_t now)
{
	if (strcmp(ch->adapter->type, "whatsapp") != 0)
		return 0;
	sqlite3_stmt *q = pt_store_stmt(db, "SELECT s.updated_ms FROM sessions s JOIN contacts c "
					    "ON c.id = s.contact_id WHERE c.phone = ?1 AND s.channel = ?2");
	if (!q)
		return 1;
	sqlite3_bind_text(q, 1, phone, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, ch->name, -1, SQLITE_STATIC);
	int64_t last = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_reset(q);
	return now - last >= CHAT_WINDOW_MS;
}

/* How a message to a resident on a chat channel goes out (chat_route). */
enum route { ROUTE_DIRECT, ROUTE_TEMPLATE, ROUTE_SMS, ROUTE_NONE };

/* Decide the route for a message of kind to `to` on channel ch: direct unless
 * ch is WhatsApp and the window is closed; then the template for kind (name
 * and language into tpl/code), else ch's sms_channel (*sms), else none. */
static enum route chat_route(const struct pt_config *cfg, sqlite3 *db, const struct pt_channel *ch,
			     const char *to, const char *kind, const char *lang, char *tpl,
			     size_t tcap, char *code, size_t ccap, const struct pt_channel **sms)
{
	*sms = NULL;
	if (!outside_window(db, ch, to, pt_now_ms()))
		return ROUTE_DIRECT;
	if (kind && pt_whatsapp_template(ch->conf, kind, lang, tpl, tcap, code, ccap) == PT_OK)
		return ROUTE_TEMPLATE;
	*sms = ch->sms_channel[0] ? pt_config_channel(cfg, ch->sms_channel) : NULL;
	if (*sms && (*sms)->adapter->build_send)
		return ROUTE_SMS;
	*sms = NULL;
	return ROUTE_NONE;
}

/* Queue it along route r (chat_route's answer): the text itself, a template
 * row with the text as its parameter, or the GSM-7 folded text by SMS. */
static int queue_routed(sqlite3 *db, const struct pt_outbox_item *it, enum route r,
			const char *tpl, const char *code, const struct pt_channel *sms,
			int64_t *id_out)
{
	struct pt_outbox_item q = *it;
	int rc;
	if (r == ROUTE_DIRECT) {
		q.template_row = 0;
		return pt_outbox_enqueue(db, &q, id_out);
	}
	if (r == ROUTE_NONE)
		return PT_ENOTFOUND;
	char *buf = malloc(PT_REPLY_MAX);
	if (!buf)
		return PT_ENOMEM;
	if (r == ROUTE_TEMPLATE) {
		rc = pt_outbox_template_text(tpl, code, it->text, buf, PT_REPLY_MAX);
		q.text = buf;
		q.template_row = 1;
		q.not_sms = 1;
	} else {
		pt_gsm7_fold(it->text, strlen(it->text), buf, PT_REPLY_MAX);
		rc = PT_OK;
		q.channel = sms->name;
		q.text = buf;
		q.template_row = 0;
		q.not_sms = 0;
	}
	if (rc == PT_OK)
		rc = pt_outbox_enqueue(db, &q, id_out);
	if (rc == PT_OK)
		pt_log(PT_LOG_INFO, "chat_window_closed", "channel=%s route=%s%s", it->channel,
		       r == ROUTE_TEMPLATE ? "template:" : "sms:", r == ROUTE_TEMPLATE ? tpl : sms->name);
	free(buf);
	return rc;
}

int pt_actions_queue_chat(const struct pt_config *cfg, sqlite3 *db, const struct pt_outbox_item *it,
			  const char *kind, const char *lang, int64_t *id_out)
{
	if (!cfg || !db || !it || !it->channel || !it->to || !it->text)
		return PT_EINVAL;
	const struct pt_channel *ch = pt_config_channel(cfg, it->channel);
	if (!ch)
		return PT_ENOTFOUND;
	char tpl[128], code[16];
	const struct pt_channel *sms;
	enum route r = chat_route(cfg, db, ch, it->to, kind, lang ? lang : "id", tpl, sizeof(tpl),
				  code, sizeof(code), &sms);
	if (r == ROUTE_NONE)
		pt_log(PT_LOG_WARN, "chat_window_no_route", "channel=%s kind=%s", ch->name,
		       kind ? kind : "-");
	return queue_routed(db, it, r, tpl, code, sms, id_out);
}

/* A WhatsApp message the provider refused because the 24-hour window had
 * closed (error 131047, reported after the send was accepted): queue the same
 * text on the channel's SMS fallback, once. When the send's result is not
 * recorded yet, the fallback waits with the early report. */
int pt_actions_chat_fallback(const struct pt_config *cfg, sqlite3 *db, const char *channel,
			     const char *provider_id)
{
	const struct pt_channel *ch = pt_config_channel(cfg, channel);
	const struct pt_channel *sms =
		ch && ch->sms_channel[0] ? pt_config_channel(cfg, ch->sms_channel) : NULL;
	if (!sms || !provider_id || !provider_id[0])
		return PT_ENOTFOUND;
	sqlite3_stmt *q = pt_store_stmt(db, "SELECT id FROM messages "
					    "WHERE channel = ?1 AND direction = 'out' AND provider_id = ?2");
	if (!q)
		return PT_EDB;
	sqlite3_bind_text(q, 1, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, provider_id, -1, SQLITE_STATIC);
	int st = sqlite3_step(q);
	int64_t id = st == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_reset(q);
	if (st != SQLITE_ROW && st != SQLITE_DONE)
		return PT_EDB;
	if (id == 0) { /* the status overtook the send's result */
		int rc = pt_outbox_defer_fallback(db, channel, provider_id, sms->name);
		return rc == PT_OK ? PT_ENOTFOUND : rc;
	}
	int64_t new_id = 0;
	int rc = pt_outbox_fallback_sms(db, id, sms->name, &new_id);
	/* A broadcast's row: the SMS takes its place in the broadcast (paused,
	 * quiet hours and progress follow it). */
	if (rc == PT_OK)
		rc = pt_broadcast_adopt_fallback(db, id, new_id);
	if (rc == PT_OK)
		pt_log(PT_LOG_INFO, "chat_window_fallback", "channel=%s fallback=%s", channel,
		       sms->name);
	return rc == PT_EEXIST ? PT_ENOTFOUND : rc;
}

/* The label a resident reads for a state, with the detail staff recorded:
 * "Dirujuk ke <note>", "Selesai: <note>", "Tidak dapat diproses: <note>". */
static void notify_label(const char *state, const char *lang, const char *note, char *out,
			 size_t cap)
{
	const char *label = pt_ticket_state_label(state, lang);
	if (!label)
		label = state;
	int en = strcmp(lang, "en") == 0;
	if (note && note[0] && strcmp(state, "referred") == 0)
		snprintf(out, cap, "%s %s %s", label, en ? "to" : "ke", note);
	else if (note && note[0] && (strcmp(state, "resolved") == 0 || strcmp(state, "rejected") == 0))
		snprintf(out, cap, "%s: %s", label, note);
	else
		pt_strlcpy(out, label, cap);
}

int pt_actions_notify(const struct pt_config *cfg, const struct pt_dialogs *dialogs, sqlite3 *db,
		      const struct pt_ticket *t, const char *note, int64_t *out_id)
{
	const struct pt_channel *ch = pt_config_channel(cfg, t->channel);
	const struct pt_channel *sms = NULL;
	const char *lang = strcmp(t->lang, "en") == 0 ? "en" : "id";
	/* A ticket that came in through no channel of ours (Open311): the first
	 * SMS channel that can send reaches the resident's phone number. */
	for (int i = 0; !ch && t->phone[0] == '+' && i < cfg->nchannels; i++)
		if (cfg->channels[i].adapter->kind == PT_CHAN_SMS &&
		    cfg->channels[i].adapter->build_send)
			ch = &cfg->channels[i];
	char tpl[128] = "", code[16] = "";
	enum route r = ROUTE_DIRECT;
	if (ch && ch->adapter->kind == PT_CHAN_USSD) /* a USSD caller gets an SMS */
		ch = ch->sms_channel[0] ? pt_config_channel(cfg, ch->sms_channel) : NULL;
	else if (ch) /* WhatsApp past 24 h: its template, else by SMS */
		r = chat_route(cfg, db, ch, t->phone, "status_changed", lang, tpl, sizeof(tpl), code,
			       sizeof(code), &sms);
	if (r == ROUTE_SMS) { /* written for an SMS from the start */
		ch = sms;
		r = ROUTE_DIRECT;
	}
	if (!ch || !ch->adapter->build_send || r == ROUTE_NONE) {
		pt_log(PT_LOG_WARN, "notify_no_channel", "ticket_channel=%s", t->channel);
		return PT_ENOTFOUND;
	}
	struct pt_session *s = malloc(sizeof(*s));
	if (!s)
		return PT_ENOMEM;
	pt_session_init(s);
	pt_strlcpy(s->lang, lang, sizeof(s->lang));
	char shown[10], label[320], date[16];
	pt_ticket_format(t->number, shown);
	notify_label(t->status, s->lang, note, label, sizeof(label));
	int rc = PT_OK;
	if (pt_session_set(s, "ticket_number", shown) < 0 ||
	    pt_session_set(s, "status_label", label) < 0)
		rc = PT_ETOOBIG;
	if (rc == PT_OK && t->due_ms > 0) {
		pt_config_local_date(cfg, t->due_ms, date, sizeof(date));
		if (pt_session_set(s, "next_date", date) < 0)
			rc = PT_ETOOBIG;
	}
	struct pt_actions_ctx ctx = { .cfg = cfg, .chan = ch, .db = db, .phone = t->phone };
	struct pt_dialog_env env;
	pt_actions_env(&env, &ctx);
	struct pt_dialog_out out;
	if (rc == PT_OK)
		rc = pt_dialog_template(dialogs, &env, s, "status_changed", &out);
	if (rc == PT_OK) {
		struct pt_outbox_item it = {
			.channel = ch->name,
			.to = t->phone,
			.text = out.text,
			.ticket_id = t->id,
			.not_sms = ch->adapter->kind != PT_CHAN_SMS,
		};
		rc = queue_routed(db, &it, r, tpl, code, NULL, out_id);
	}
	free(s);
	return rc;
}
