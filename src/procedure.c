/*
 * procedure.c - the office procedure: the transition table, service levels,
 * overdue escalation, duplicates, appeals (BANDING) and satisfaction answers.
 *
 * The table (rules[] below) is the law (design.md section 2): every allowed
 * state change with the roles that may make it and the fields it must record.
 * pt_proc_transition() is the only way staff, the CLI and the resident's
 * BANDING change a ticket's state; it checks the rule, the role and the
 * fields, then in the caller's transaction: the ticket row (status via
 * pt_ticket_set_status, which writes the event; then due_ms of the new state,
 * the recorded fields, prev_status, resolved_ms), the event's due_ms (the due
 * time that applied when the change was made, for SLA compliance), an audit
 * row, and the resident's message (the template of the new state in
 * dialogs/status.json on the ticket's channel; a USSD caller gets it by SMS,
 * a WhatsApp resident past the 24-hour window too).
 *
 * Service levels: working days per state (and per program), from the
 * "service_levels" config section; Saturdays, Sundays and the holidays are
 * skipped, counted in the office's time zone; a ticket is due at the end
 * (23:59:59.999 local) of the last working day. resolved and rejected are
 * terminal: no due time, never overdue. awaiting_approval -> dtks_proposed is
 * refused when the resident was recorded as registered in DTKS. Overdue
 * tickets are escalated once
 * (tickets.escalated_ms, an event with note "escalated", actor "system")
 * when staff list them (pt_proc_escalate); a transition clears escalated_ms.
 *
 * Resident messages (pt_proc_inbound, before the dialog): "BANDING <number>"
 * (case, spacing and punctuation tolerant) appeals a resolved ticket of the
 * same contact within 14 days of resolution; a lone digit 1-5 that is the
 * contact's first message after the satisfaction question (within 7 days)
 * is stored as the satisfaction score. The resident's text is never logged.
 */
#include "pintu/procedure.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "migrations.h"
#include "pintu/actions.h"
#include "pintu/auth.h"
#include "pintu/common.h"
#include "pintu/hooks.h"
#include "pintu/outbox.h"
#include "pintu/text.h"

#define DAY_MS 86400000LL

const char pt_schema_procedure[] =
	"ALTER TABLE tickets ADD COLUMN assigned_to TEXT;\n"
	"ALTER TABLE tickets ADD COLUMN dtks_status TEXT;\n"
	"ALTER TABLE tickets ADD COLUMN referral_level TEXT;\n"
	"ALTER TABLE tickets ADD COLUMN referral_org TEXT;\n"
	"ALTER TABLE tickets ADD COLUMN referral_program TEXT;\n"
	"ALTER TABLE tickets ADD COLUMN referral_ref TEXT;\n"
	"ALTER TABLE tickets ADD COLUMN outcome TEXT;\n"
	"ALTER TABLE tickets ADD COLUMN reject_reason TEXT;\n"
	"ALTER TABLE tickets ADD COLUMN question TEXT;\n"
	"ALTER TABLE tickets ADD COLUMN satisfaction INTEGER;\n"
	"ALTER TABLE tickets ADD COLUMN satisfaction_asked_ms INTEGER;\n"
	"ALTER TABLE tickets ADD COLUMN linked_to TEXT;\n"
	"ALTER TABLE tickets ADD COLUMN resolved_ms INTEGER;\n"
	"ALTER TABLE tickets ADD COLUMN escalated_ms INTEGER;\n"
	"ALTER TABLE tickets ADD COLUMN prev_status TEXT;\n"
	"ALTER TABLE ticket_events ADD COLUMN due_ms INTEGER;\n"
	"CREATE TABLE ticket_notes (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ticket_id INTEGER NOT NULL REFERENCES tickets(id),\n"
	"  author TEXT NOT NULL,\n"
	"  text TEXT NOT NULL,\n"
	"  created_ms INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX ticket_notes_ticket ON ticket_notes(ticket_id);\n"
	"CREATE INDEX tickets_nik_program ON tickets(nik, program, created_ms) WHERE nik IS NOT NULL;\n"
	"CREATE INDEX tickets_due ON tickets(due_ms) WHERE due_ms IS NOT NULL;\n"
	"CREATE INDEX tickets_assigned ON tickets(assigned_to) WHERE assigned_to IS NOT NULL;\n";

/* ---- the table ---- */

#define R_FRONT PT_ROLE_FRONT
#define R_BACK PT_ROLE_BACK
#define R_SUP PT_ROLE_SUPERVISOR
#define R_RES PT_PROC_ROLE_RESIDENT

/* "*prev*" as `to`: back to the state the ticket was in before needs_info. */
#define TO_PREV "*prev*"

static const struct pt_proc_rule rules[] = {
	{ "received", "registered", R_FRONT, PT_PROC_F_DTKS, "Daftarkan", "Register" },
	{ "received", "needs_info", R_FRONT | R_BACK, PT_PROC_F_QUESTION, "Minta data tambahan",
	  "Ask for more information" },
	{ "received", "rejected", R_FRONT | R_SUP, PT_PROC_F_REASON, "Tolak", "Reject" },
	{ "registered", "in_review", R_FRONT | R_BACK, 0, "Mulai telaah", "Start review" },
	{ "registered", "needs_info", R_FRONT | R_BACK, PT_PROC_F_QUESTION, "Minta data tambahan",
	  "Ask for more information" },
	{ "in_review", "awaiting_approval", R_BACK, 0, "Ajukan persetujuan", "Send for approval" },
	{ "in_review", "needs_info", R_BACK, PT_PROC_F_QUESTION, "Minta data tambahan",
	  "Ask for more information" },
	{ "awaiting_approval", "in_progress", R_SUP, 0, "Setujui: tangani", "Approve: handle" },
	{ "awaiting_approval", "dtks_proposed", R_SUP, 0, "Setujui: usulkan DTKS",
	  "Approve: propose for DTKS" },
	{ "awaiting_approval", "referred", R_SUP, PT_PROC_F_REFERRAL, "Setujui: rujuk",
	  "Approve: refer" },
	{ "awaiting_approval", "rejected", R_SUP, PT_PROC_F_REASON, "Tolak", "Reject" },
	{ "awaiting_approval", "in_review", R_SUP, 0, "Kembalikan untuk ditelaah",
	  "Send back for review" },
	{ "dtks_proposed", "in_progress", R_BACK | R_SUP, 0, "Tangani", "Handle" },
	{ "dtks_proposed", "resolved", R_BACK | R_SUP, PT_PROC_F_OUTCOME, "Selesaikan", "Resolve" },
	{ "in_progress", "needs_info", R_BACK, PT_PROC_F_QUESTION, "Minta data tambahan",
	  "Ask for more information" },
	{ "in_progress", "referred", R_BACK | R_SUP, PT_PROC_F_REFERRAL, "Rujuk", "Refer" },
	{ "in_progress", "resolved", R_BACK | R_SUP, PT_PROC_F_OUTCOME, "Selesaikan", "Resolve" },
	{ "referred", "resolved", R_BACK | R_SUP, PT_PROC_F_OUTCOME, "Selesaikan", "Resolve" },
	{ "needs_info", "needs_info", R_FRONT | R_BACK, PT_PROC_F_QUESTION, "Minta data lagi",
	  "Ask again" },
	{ "needs_info", TO_PREV, R_FRONT | R_BACK, 0, "Lanjutkan (data diterima)",
	  "Continue (information received)" },
	{ "resolved", "appealed", R_RES, 0, "Banding", "Appeal" },
	{ "appealed", "in_review", R_BACK | R_SUP, 0, "Telaah ulang", "Review again" },
};

const struct pt_proc_rule *pt_proc_rules(size_t *n)
{
	if (n)
		*n = PT_ARRAY_LEN(rules);
	return rules;
}

const struct pt_proc_rule *pt_proc_rule_find(const char *from, const char *to, const char *prev)
{
	if (from == NULL || to == NULL)
		return NULL;
	for (size_t i = 0; i < PT_ARRAY_LEN(rules); i++) {
		const struct pt_proc_rule *r = &rules[i];
		if (strcmp(r->from, from) != 0)
			continue;
		if (strcmp(r->to, TO_PREV) == 0) {
			if (prev && prev[0] && strcmp(prev, to) == 0 && pt_ticket_state_valid(to))
				return r;
			continue;
		}
		if (strcmp(r->to, to) == 0)
			return r;
	}
	return NULL;
}

int pt_proc_state_terminal(const char *state)
{
	return state && (strcmp(state, "resolved") == 0 || strcmp(state, "rejected") == 0);
}

/* ---- service levels ---- */

struct default_days {
	const char *state;
	int days;
};

/* Used when the configuration has no service_levels.default_days entry. */
static const struct default_days builtin_days[] = {
	{ "received", 2 },	    { "registered", 3 },     { "needs_info", 7 },
	{ "in_review", 5 },	    { "awaiting_approval", 3 }, { "dtks_proposed", 20 },
	{ "in_progress", 10 },	    { "referred", 14 },      { "appealed", 5 },
};

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD" -> day number; PT_EINVAL when it is not a real date. */
static int parse_date(const char *s, int64_t *day)
{
	int y, m, d;
	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return PT_EINVAL;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return PT_EINVAL;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return PT_EINVAL;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m == 2 && d == 29 && !leap)
		return PT_EINVAL;
	*day = days_from_civil(y, m, d);
	return PT_OK;
}

static int floor_div(int64_t a, int64_t b, int64_t *q)
{
	*q = a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
	return 0;
}

static int is_holiday(int64_t day, const char *const *holidays, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t h;
		if (parse_date(holidays[i], &h) == PT_OK && h == day)
			return 1;
	}
	return 0;
}

int64_t pt_proc_add_working_days(int64_t now_ms, int days, int utc_offset_min,
				 const char *const *holidays, size_t nholidays)
{
	if (days <= 0)
		return 0;
	int64_t off = (int64_t)utc_offset_min * 60000;
	int64_t day;
	floor_div(now_ms + off, DAY_MS, &day);
	int counted = 0;
	while (counted < days) {
		day++;
		int64_t wd = ((day % 7) + 7 + 4) % 7; /* 1970-01-01 was a Thursday; 0 = Sunday */
		if (wd == 0 || wd == 6 || is_holiday(day, holidays, nholidays))
			continue;
		counted++;
	}
	return (day + 1) * DAY_MS - 1 - off;
}

/* Working days for state (and program) from the config section, else built in. */
static int state_days(const cJSON *sl, const char *state, const char *program)
{
	if (pt_proc_state_terminal(state))
		return 0;
	if (sl && program && program[0]) {
		const cJSON *progs = cJSON_GetObjectItemCaseSensitive(sl, "programs");
		const cJSON *p = NULL;
		cJSON_ArrayForEach(p, progs) {
			if (p->string && strcasecmp(p->string, program) == 0) {
				const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, state);
				if (cJSON_IsNumber(v))
					return v->valueint;
			}
		}
	}
	if (sl) {
		const cJSON *dd = cJSON_GetObjectItemCaseSensitive(sl, "default_days");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(dd, state);
		if (cJSON_IsNumber(v))
			return v->valueint;
	}
	for (size_t i = 0; i < PT_ARRAY_LEN(builtin_days); i++)
		if (strcmp(builtin_days[i].state, state) == 0)
			return builtin_days[i].days;
	return 0;
}

#define HOLIDAYS_MAX 256

int64_t pt_proc_due_ms(const struct pt_config *cfg, const char *state, const char *program,
		       int64_t now_ms)
{
	const cJSON *sl = cfg ? cfg->sections[PT_CFG_SERVICE_LEVELS] : NULL;
	int days = state_days(sl, state, program);
	if (days <= 0)
		return 0;
	const char *hol[HOLIDAYS_MAX];
	size_t nh = 0;
	const cJSON *h = NULL;
	const cJSON *harr = sl ? cJSON_GetObjectItemCaseSensitive(sl, "holidays") : NULL;
	cJSON_ArrayForEach(h, harr) {
		if (cJSON_IsString(h) && nh < HOLIDAYS_MAX)
			hol[nh++] = h->valuestring;
	}
	return pt_proc_add_working_days(now_ms, days, cfg ? cfg->office.utc_offset_min : 0, hol, nh);
}

/* ---- configuration ---- */

static int check_days(const cJSON *obj, const char *path, char *err, size_t errlen)
{
	if (!cJSON_IsObject(obj)) {
		snprintf(err, errlen, "%s: must be an object of state: working days", path);
		return PT_ECONFIG;
	}
	const cJSON *v = NULL;
	cJSON_ArrayForEach(v, obj) {
		if (v->string[0] == '_')
			continue;
		if (!pt_ticket_state_valid(v->string)) {
			snprintf(err, errlen, "%s.%s: unknown state", path, v->string);
			return PT_ECONFIG;
		}
		if (!cJSON_IsNumber(v) || v->valuedouble != (double)v->valueint || v->valueint < 0 ||
		    v->valueint > 365) {
			snprintf(err, errlen, "%s.%s: must be a whole number of working days (0-365)",
				 path, v->string);
			return PT_ECONFIG;
		}
	}
	return PT_OK;
}

int pt_proc_check_config(const struct cJSON *section, char *err, size_t errlen)
{
	char path[128];
	if (section == NULL)
		return PT_OK;
	if (!cJSON_IsObject(section)) {
		snprintf(err, errlen, "service_levels: must be an object");
		return PT_ECONFIG;
	}
	const cJSON *k = NULL;
	cJSON_ArrayForEach(k, section) {
		const char *name = k->string;
		if (name[0] == '_')
			continue;
		if (strcmp(name, "default_days") == 0) {
			if (check_days(k, "service_levels.default_days", err, errlen) < 0)
				return PT_ECONFIG;
		} else if (strcmp(name, "programs") == 0) {
			if (!cJSON_IsObject(k)) {
				snprintf(err, errlen, "service_levels.programs: must be an object");
				return PT_ECONFIG;
			}
			const cJSON *p = NULL;
			cJSON_ArrayForEach(p, k) {
				if (p->string[0] == '_')
					continue;
				snprintf(path, sizeof(path), "service_levels.programs.%.60s", p->string);
				if (check_days(p, path, err, errlen) < 0)
					return PT_ECONFIG;
			}
		} else if (strcmp(name, "holidays") == 0) {
			if (!cJSON_IsArray(k)) {
				snprintf(err, errlen, "service_levels.holidays: must be an array of dates");
				return PT_ECONFIG;
			}
			int i = 0;
			const cJSON *h = NULL;
			cJSON_ArrayForEach(h, k) {
				int64_t day;
				if (i >= HOLIDAYS_MAX) {
					snprintf(err, errlen, "service_levels.holidays: more than %d dates",
						 HOLIDAYS_MAX);
					return PT_ECONFIG;
				}
				if (!cJSON_IsString(h) || parse_date(h->valuestring, &day) < 0) {
					snprintf(err, errlen,
						 "service_levels.holidays[%d]: not a date (YYYY-MM-DD)", i);
					return PT_ECONFIG;
				}
				i++;
			}
		} else {
			snprintf(err, errlen, "service_levels.%.60s: unknown key", name);
			return PT_ECONFIG;
		}
	}
	return PT_OK;
}

/* ---- small SQL helpers (prepare + finalize: any connection) ---- */

static void bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL || v[0] == '\0')
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static int db_fail(sqlite3 *db, const char *what)
{
	pt_log(PT_LOG_ERROR, "procedure_db_failed", "what=%s error=\"%s\"", what, sqlite3_errmsg(db));
	return PT_EDB;
}

/* ---- resident messages ---- */

/* Extra template variables (name/value pairs, NULL name ends). */
struct tvars {
	const char *k[6];
	const char *v[6];
};

/* Render template `name` in lang on ch with the ticket's status variables
 * (when t is given) plus extra; out gets the text. */
static int render(const struct pt_config *cfg, const struct pt_dialogs *dialogs,
		  const struct pt_channel *ch, sqlite3 *db, const struct pt_ticket *t,
		  const char *lang, const char *name, const struct tvars *extra,
		  struct pt_dialog_out *out)
{
	struct pt_session *s = malloc(sizeof(*s));
	if (!s)
		return PT_ENOMEM;
	pt_session_init(s);
	pt_strlcpy(s->lang, lang && strcmp(lang, "en") == 0 ? "en" : "id", sizeof(s->lang));
	int rc = PT_OK;
	if (t) {
		char shown[10], date[16];
		const char *label = pt_ticket_state_label(t->status, s->lang);
		pt_ticket_format(t->number, shown);
		if (pt_session_set(s, "ticket_number", shown) < 0 ||
		    pt_session_set(s, "status_label", label ? label : t->status) < 0)
			rc = PT_ETOOBIG;
		if (rc == PT_OK && t->due_ms > 0) {
			pt_config_local_date(cfg, t->due_ms, date, sizeof(date));
			if (pt_session_set(s, "next_date", date) < 0)
				rc = PT_ETOOBIG;
		}
	}
	for (int i = 0; rc == PT_OK && extra && i < 6 && extra->k[i]; i++)
		if (pt_session_set(s, extra->k[i], extra->v[i] ? extra->v[i] : "") < 0)
			rc = PT_ETOOBIG;
	struct pt_actions_ctx ctx = { .cfg = cfg, .chan = ch, .db = db,
				      .phone = t ? t->phone : "" };
	struct pt_dialog_env env;
	pt_actions_env(&env, &ctx);
	if (rc == PT_OK)
		rc = pt_dialog_template(dialogs, &env, s, name, out);
	free(s);
	return rc;
}

/* The detail the resident's label shows (pt_actions_notify: "Dirujuk ke X",
 * "Selesai: X", "Tidak dapat diproses: X"). */
static const char *label_detail(const char *state, const struct pt_proc_fields *f)
{
	if (strcmp(state, "referred") == 0)
		return f->organisation;
	if (strcmp(state, "resolved") == 0)
		return f->outcome;
	if (strcmp(state, "rejected") == 0)
		return f->reason;
	return NULL;
}

/* Queue the message about t's new state: the status_changed notification
 * (pt_actions_notify: channel rules, WhatsApp templates), then for needs_info
 * the question and for resolved the satisfaction question, as a follow-up on
 * the same channel, or by its SMS fallback when WhatsApp's 24-hour window is
 * closed (the status itself then went as a template). */
static int notify(const struct pt_config *cfg, const struct pt_dialogs *dialogs, sqlite3 *db,
		  const struct pt_ticket *t, const struct pt_proc_fields *f)
{
	int64_t out_id = 0;
	if (!cfg || !dialogs)
		return 0;
	int rc = pt_actions_notify(cfg, dialogs, db, t, label_detail(t->status, f), &out_id);
	if (rc == PT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	const char *tmpl = NULL;
	struct tvars x = { { NULL }, { NULL } };
	if (strcmp(t->status, "needs_info") == 0 && f->question && f->question[0]) {
		tmpl = "status_question";
		x.k[0] = "question";
		x.v[0] = f->question;
	} else if (strcmp(t->status, "resolved") == 0) {
		tmpl = "satisfaction_ask";
	}
	if (!tmpl)
		return 1;
	char chname[64] = "";
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT channel FROM messages WHERE id = ?1", -1, &q, NULL) !=
	    SQLITE_OK)
		return db_fail(db, "notify");
	sqlite3_bind_int64(q, 1, out_id);
	if (sqlite3_step(q) == SQLITE_ROW)
		pt_store_col_text(q, 0, chname, sizeof(chname));
	sqlite3_finalize(q);
	const struct pt_channel *ch = pt_config_channel(cfg, chname);
	if (!ch || !ch->adapter->build_send)
		return 1;
	struct pt_dialog_out *out = malloc(sizeof(*out));
	if (!out)
		return PT_ENOMEM;
	rc = render(cfg, dialogs, ch, db, t, t->lang, tmpl, &x, out);
	if (rc == PT_OK && ch->adapter->kind == PT_CHAN_SMS) {
		char *folded = malloc(sizeof(out->text));
		if (!folded) {
			free(out);
			return PT_ENOMEM;
		}
		pt_gsm7_fold(out->text, strlen(out->text), folded, sizeof(out->text));
		pt_strlcpy(out->text, folded, sizeof(out->text));
		free(folded);
	}
	if (rc == PT_OK) {
		/* WhatsApp past 24 h (the status itself went as a template): the
		 * channel's template for this kind, else its SMS fallback, else
		 * not at all - the same routing as every other message. */
		struct pt_outbox_item it = {
			.channel = ch->name,
			.to = t->phone,
			.text = out->text,
			.ticket_id = t->id,
			.not_sms = ch->adapter->kind != PT_CHAN_SMS,
		};
		rc = pt_actions_queue_chat(cfg, db, &it, tmpl, t->lang, NULL);
		if (rc == PT_ENOTFOUND)
			rc = PT_OK;
	}
	free(out);
	return rc < 0 ? rc : 1;
}

/* ---- transitions ---- */

static int fail(struct pt_proc_err *err, int rc, int http, const char *code, const char *field,
		const char *msg)
{
	if (err) {
		err->http = http;
		pt_strlcpy(err->code, code, sizeof(err->code));
		pt_strlcpy(err->field, field ? field : "", sizeof(err->field));
		pt_strlcpy(err->message, msg, sizeof(err->message));
	}
	return rc;
}

static int need_text(const char *v, const char *name, struct pt_proc_err *err)
{
	char msg[96];
	if (v == NULL || v[0] == '\0') {
		snprintf(msg, sizeof(msg), "%s is required for this transition", name);
		return fail(err, PT_EINVAL, 422, "missing_field", name, msg);
	}
	if (strlen(v) > PT_PROC_TEXT_MAX) {
		snprintf(msg, sizeof(msg), "%s is longer than %d bytes", name, PT_PROC_TEXT_MAX);
		return fail(err, PT_EINVAL, 422, "invalid_field", name, msg);
	}
	return PT_OK;
}

static int one_of(const char *v, const char *name, const char *const *allowed,
		  struct pt_proc_err *err)
{
	char msg[128];
	int rc = need_text(v, name, err);
	if (rc < 0)
		return rc;
	for (int i = 0; allowed[i]; i++)
		if (strcmp(v, allowed[i]) == 0)
			return PT_OK;
	snprintf(msg, sizeof(msg), "%s must be one of", name);
	for (int i = 0; allowed[i]; i++) {
		size_t n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, "%s%s", i ? ", " : " ", allowed[i]);
	}
	return fail(err, PT_EINVAL, 422, "invalid_field", name, msg);
}

static int check_fields(unsigned need, const struct pt_proc_fields *f, struct pt_proc_err *err)
{
	static const char *const dtks[] = { "registered", "not_registered", "unknown", NULL };
	static const char *const levels[] = { "city", "province", "national", NULL };
	static const struct pt_proc_fields none;
	int rc = PT_OK;
	if (!f)
		f = &none;
	if (f->note && strlen(f->note) > PT_PROC_TEXT_MAX)
		return fail(err, PT_EINVAL, 422, "invalid_field", "note", "note is too long");
	if (need & PT_PROC_F_DTKS && (rc = one_of(f->dtks_status, "dtks_status", dtks, err)) < 0)
		return rc;
	if (need & PT_PROC_F_REFERRAL &&
	    ((rc = one_of(f->level, "level", levels, err)) < 0 ||
	     (rc = need_text(f->organisation, "organisation", err)) < 0 ||
	     (rc = need_text(f->program, "program", err)) < 0 ||
	     (rc = need_text(f->reference, "reference", err)) < 0))
		return rc;
	if (need & PT_PROC_F_OUTCOME && (rc = need_text(f->outcome, "outcome", err)) < 0)
		return rc;
	if (need & PT_PROC_F_REASON && (rc = need_text(f->reason, "reason", err)) < 0)
		return rc;
	if (need & PT_PROC_F_QUESTION && (rc = need_text(f->question, "question", err)) < 0)
		return rc;
	return PT_OK;
}

static int role_allows(const struct pt_proc_rule *r, unsigned role)
{
	if (r->roles & role)
		return 1;
	if (strcmp(r->from, "*") == 0)
		return 0;
	/* The CLI may take every staff row, never the resident's. */
	return (role & PT_PROC_ROLE_CLI) && (r->roles & (R_FRONT | R_BACK | R_SUP));
}

/* The state before needs_info and the recorded DTKS status of ticket id. */
static int load_prev(sqlite3 *db, int64_t id, char *prev, size_t cap, char *dtks, size_t dcap)
{
	sqlite3_stmt *s = NULL;
	prev[0] = '\0';
	dtks[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT prev_status, dtks_status FROM tickets WHERE id = ?1", -1,
			       &s, NULL) != SQLITE_OK)
		return db_fail(db, "prev_status");
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		pt_store_col_text(s, 0, prev, cap);
		pt_store_col_text(s, 1, dtks, dcap);
	}
	sqlite3_finalize(s);
	return PT_OK;
}

static const char sql_apply[] =
	"UPDATE tickets SET due_ms = ?2, escalated_ms = NULL,"
	" prev_status = CASE WHEN ?3 = 'needs_info' AND ?4 != 'needs_info' THEN ?4"
	" ELSE prev_status END,"
	" dtks_status = COALESCE(?5, dtks_status),"
	" referral_level = COALESCE(?6, referral_level),"
	" referral_org = COALESCE(?7, referral_org),"
	" referral_program = COALESCE(?8, referral_program),"
	" referral_ref = COALESCE(?9, referral_ref),"
	" outcome = COALESCE(?10, outcome),"
	" reject_reason = COALESCE(?11, reject_reason),"
	" question = CASE WHEN ?3 = 'needs_info' THEN ?12 ELSE question END,"
	" resolved_ms = CASE WHEN ?3 = 'resolved' THEN ?13 ELSE resolved_ms END,"
	" satisfaction_asked_ms = CASE WHEN ?3 = 'resolved' THEN ?13 ELSE satisfaction_asked_ms END,"
	" satisfaction = CASE WHEN ?3 = 'resolved' THEN NULL ELSE satisfaction END"
	" WHERE id = ?1";

/* Record what the rule asked for, the new due time and the event's due time. */
static int apply_fields(sqlite3 *db, const struct pt_ticket *t, const char *from, unsigned need,
			const struct pt_proc_fields *f, int64_t event_id, int64_t old_due,
			int64_t now)
{
	sqlite3_stmt *s = NULL;
	int rc = PT_EDB;
	if (sqlite3_prepare_v2(db, sql_apply, -1, &s, NULL) != SQLITE_OK)
		return db_fail(db, "apply");
	sqlite3_bind_int64(s, 1, t->id);
	if (t->due_ms > 0)
		sqlite3_bind_int64(s, 2, t->due_ms);
	else
		sqlite3_bind_null(s, 2);
	sqlite3_bind_text(s, 3, t->status, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, from, -1, SQLITE_STATIC);
	bind_opt(s, 5, need & PT_PROC_F_DTKS ? f->dtks_status : NULL);
	bind_opt(s, 6, need & PT_PROC_F_REFERRAL ? f->level : NULL);
	bind_opt(s, 7, need & PT_PROC_F_REFERRAL ? f->organisation : NULL);
	bind_opt(s, 8, need & PT_PROC_F_REFERRAL ? f->program : NULL);
	bind_opt(s, 9, need & PT_PROC_F_REFERRAL ? f->reference : NULL);
	bind_opt(s, 10, need & PT_PROC_F_OUTCOME ? f->outcome : NULL);
	bind_opt(s, 11, need & PT_PROC_F_REASON ? f->reason : NULL);
	bind_opt(s, 12, need & PT_PROC_F_QUESTION ? f->question : NULL);
	sqlite3_bind_int64(s, 13, now);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(db, "UPDATE ticket_events SET due_ms = ?2 WHERE id = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(s, 1, event_id);
	if (old_due > 0)
		sqlite3_bind_int64(s, 2, old_due);
	else
		sqlite3_bind_null(s, 2);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto out;
	rc = PT_OK;
out:
	if (rc < 0)
		db_fail(db, "apply");
	sqlite3_finalize(s);
	return rc;
}

static int audit(sqlite3 *db, int64_t actor_id, const char *actor, unsigned role,
		 const struct pt_ticket *t, const char *from)
{
	if (role & PT_PROC_ROLE_RESIDENT)
		return PT_OK; /* the resident's appeal is in the event history */
	struct pt_staff who;
	memset(&who, 0, sizeof(who));
	who.id = actor_id;
	pt_strlcpy(who.username, actor ? actor : "system", sizeof(who.username));
	who.role = (enum pt_role)(role & PT_ROLE_STAFF);
	char target[32], detail[96];
	snprintf(target, sizeof(target), "ticket:%s", t->number);
	snprintf(detail, sizeof(detail), "{\"from\":\"%s\",\"to\":\"%s\"}", from, t->status);
	return pt_audit(db, &who, "ticket.transition", target, detail);
}

int pt_proc_transition(sqlite3 *db, const struct pt_config *cfg, const struct pt_dialogs *dialogs,
		       struct pt_ticket *t, const char *to, unsigned role, int64_t actor_id,
		       const char *actor, const struct pt_proc_fields *f, struct pt_proc_err *err)
{
	static const struct pt_proc_fields none;
	char prev[24], dtks[24], from[24], msg[160];
	int rc;
	if (err)
		memset(err, 0, sizeof(*err));
	if (!db || !t)
		return fail(err, PT_EINVAL, 500, "internal", NULL, "no ticket");
	if (!f)
		f = &none;
	if (!to || !pt_ticket_state_valid(to))
		return fail(err, PT_EINVAL, 422, "invalid_field", "to", "unknown state");
	if ((rc = load_prev(db, t->id, prev, sizeof(prev), dtks, sizeof(dtks))) < 0)
		return fail(err, rc, 500, "db", NULL, "database error");
	const struct pt_proc_rule *r = pt_proc_rule_find(t->status, to, prev);
	/* The CLI (the operator's repair tool, `pintu tickets set-status`) may
	 * also move a ticket where the table has no row: recorded as actor
	 * "cli" with the same event, due time and message. */
	static const struct pt_proc_rule cli_repair = { "*", "*", PT_PROC_ROLE_CLI, 0, "", "" };
	if (!r && (role & PT_PROC_ROLE_CLI) && strcmp(to, "appealed") != 0)
		r = &cli_repair;
	if (!r) {
		snprintf(msg, sizeof(msg), "%s -> %s is not allowed", t->status, to);
		return fail(err, PT_ESTATE, 409, "invalid_transition", NULL, msg);
	}
	if (!role_allows(r, role)) {
		snprintf(msg, sizeof(msg), "your role may not move a ticket %s -> %s", t->status, to);
		return fail(err, PT_EPERM, 403, "forbidden", NULL, msg);
	}
	/* DTKS inclusion is proposed only for a resident not (known to be) in it. */
	if (strcmp(to, "dtks_proposed") == 0 && strcmp(dtks, "registered") == 0 &&
	    !(role & PT_PROC_ROLE_CLI))
		return fail(err, PT_ESTATE, 409, "invalid_transition", "dtks_status",
			    "the resident is already registered in DTKS");
	/* The CLI is the operator's repair tool: it records the fields it was
	 * given but is not held to the required ones. */
	if ((rc = check_fields((role & PT_PROC_ROLE_CLI) ? 0 : r->fields, f, err)) < 0)
		return rc;
	pt_strlcpy(from, t->status, sizeof(from));
	int64_t old_due = t->due_ms;
	if ((rc = pt_ticket_set_status(db, t, to, actor ? actor : "system", f->note)) < 0)
		return fail(err, rc, rc == PT_ENOTFOUND ? 404 : 500,
			    rc == PT_ENOTFOUND ? "not_found" : "db", NULL, "could not change state");
	int64_t event_id = sqlite3_last_insert_rowid(db);
	t->due_ms = pt_proc_due_ms(cfg, to, t->program, t->updated_ms);
	if ((rc = apply_fields(db, t, from, r->fields, f, event_id, old_due, t->updated_ms)) < 0 ||
	    (rc = audit(db, actor_id, actor, role, t, from)) < 0)
		return fail(err, rc, 500, "db", NULL, "database error");
	if (!(role & PT_PROC_ROLE_RESIDENT)) {
		rc = notify(cfg, dialogs, db, t, f);
		if (rc < 0)
			return fail(err, rc, 500, "db", NULL, "could not queue the message");
	}
	return PT_OK;
}

/* ---- notes, assignment, escalation ---- */

int pt_proc_note_add(sqlite3 *db, int64_t ticket_id, const char *author, const char *text,
		     int64_t now_ms)
{
	sqlite3_stmt *s = NULL;
	if (!db || !text || !text[0])
		return PT_EINVAL;
	if (sqlite3_prepare_v2(db, "INSERT INTO ticket_notes (ticket_id, author, text, created_ms) "
				   "VALUES (?1, ?2, ?3, ?4)", -1, &s, NULL) != SQLITE_OK)
		return db_fail(db, "note");
	sqlite3_bind_int64(s, 1, ticket_id);
	sqlite3_bind_text(s, 2, author ? author : "system", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now_ms);
	int rc = sqlite3_step(s) == SQLITE_DONE ? PT_OK : db_fail(db, "note");
	sqlite3_finalize(s);
	return rc;
}

int pt_proc_assign(sqlite3 *db, int64_t ticket_id, const char *username)
{
	sqlite3_stmt *s = NULL;
	if (!db)
		return PT_EINVAL;
	if (sqlite3_prepare_v2(db, "UPDATE tickets SET assigned_to = ?2 WHERE id = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return db_fail(db, "assign");
	sqlite3_bind_int64(s, 1, ticket_id);
	bind_opt(s, 2, username);
	int rc = sqlite3_step(s) == SQLITE_DONE ? PT_OK : db_fail(db, "assign");
	if (rc == PT_OK && sqlite3_changes(db) != 1)
		rc = PT_ENOTFOUND;
	sqlite3_finalize(s);
	return rc;
}

int pt_proc_escalate(sqlite3 *db, int64_t now_ms, int *count)
{
	sqlite3_stmt *s = NULL;
	int n = 0, rc = PT_EDB;
	if (count)
		*count = 0;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO ticket_events (ticket_id, actor, from_status, to_status, "
			       "note, created_ms, due_ms) SELECT id, 'system', status, status, "
			       "'escalated', ?1, due_ms FROM tickets WHERE due_ms IS NOT NULL AND "
			       "due_ms < ?1 AND escalated_ms IS NULL AND status NOT IN "
			       "('resolved','rejected')",
			       -1, &s, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(s, 1, now_ms);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto out;
	n = sqlite3_changes(db);
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(db,
			       "UPDATE tickets SET escalated_ms = ?1 WHERE due_ms IS NOT NULL AND "
			       "due_ms < ?1 AND escalated_ms IS NULL AND status NOT IN "
			       "('resolved','rejected')",
			       -1, &s, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(s, 1, now_ms);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto out;
	rc = PT_OK;
	if (n > 0)
		pt_log(PT_LOG_INFO, "tickets_escalated", "count=%d", n);
	if (count)
		*count = n;
out:
	if (rc < 0)
		db_fail(db, "escalate");
	sqlite3_finalize(s);
	return rc;
}

/* ---- hooks: ticket creation ---- */

int pt_proc_on_create(sqlite3 *db, const struct pt_config *cfg, struct pt_ticket *t,
		      char dup_number[9])
{
	/* On the writer's hot path (every ticket a dialog files): cached
	 * statements, and no UPDATE when the row already has its due time
	 * (pt_ticket_create was given it) and no duplicate was found. */
	static const char sql_dup[] =
		"SELECT number FROM tickets WHERE nik = ?1 AND program = ?2 "
		"AND id != ?3 AND status NOT IN ('resolved','rejected') AND "
		"created_ms >= ?4 ORDER BY created_ms, id LIMIT 1";
	static const char sql_set[] = "UPDATE tickets SET due_ms = ?2, linked_to = ?3 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int rc = PT_EDB;
	dup_number[0] = '\0';
	if (!db || !t)
		return PT_EINVAL;
	int64_t due = pt_proc_due_ms(cfg, t->status[0] ? t->status : "received", t->program,
				     t->created_ms);
	if (t->nik[0] && t->program[0]) {
		if ((s = pt_store_stmt(db, sql_dup)) == NULL)
			goto out;
		sqlite3_bind_text(s, 1, t->nik, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, t->program, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, t->id);
		sqlite3_bind_int64(s, 4, t->created_ms - PT_PROC_DUPLICATE_WINDOW_MS);
		int st = sqlite3_step(s);
		if (st == SQLITE_ROW)
			pt_store_col_text(s, 0, dup_number, 9);
		sqlite3_reset(s);
		if (st != SQLITE_ROW && st != SQLITE_DONE)
			goto out;
	}
	if (due != t->due_ms || dup_number[0]) {
		t->due_ms = due;
		if ((s = pt_store_stmt(db, sql_set)) == NULL)
			goto out;
		sqlite3_bind_int64(s, 1, t->id);
		if (t->due_ms > 0)
			sqlite3_bind_int64(s, 2, t->due_ms);
		else
			sqlite3_bind_null(s, 2);
		bind_opt(s, 3, dup_number);
		int st = sqlite3_step(s);
		sqlite3_reset(s);
		if (st != SQLITE_DONE)
			goto out;
	}
	rc = PT_OK;
	if (dup_number[0])
		pt_log(PT_LOG_INFO, "ticket_duplicate", "number=%s linked_to=%s", t->number,
		       dup_number);
out:
	if (rc < 0) {
		db_fail(db, "on_create");
		dup_number[0] = '\0';
	}
	return rc;
}

/* ---- hooks: the resident's messages ---- */

/* Copy text without leading/trailing spaces and punctuation into out,
 * uppercased. */
static void normalise(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	while (*in && (isspace((unsigned char)*in) || *in == '.' || *in == '!'))
		in++;
	for (; *in && n + 1 < cap; in++)
		out[n++] = (char)toupper((unsigned char)*in);
	while (n > 0 && (isspace((unsigned char)out[n - 1]) || out[n - 1] == '.' ||
			 out[n - 1] == '!'))
		n--;
	out[n] = '\0';
}

/* Render a reply template without a ticket row (for replies), with vars. */
static int reply_text(const struct pt_inbound *in, sqlite3 *db, const struct pt_ticket *t,
		      const char *name, const struct tvars *x, char *reply, size_t cap)
{
	struct pt_dialog_out *out = malloc(sizeof(*out));
	if (!out)
		return PT_ENOMEM;
	int rc = render(in->cfg, in->dialogs, in->chan, db, t, in->lang, name, x, out);
	if (rc == PT_OK)
		pt_strlcpy(reply, out->text, cap);
	free(out);
	return rc;
}

/* Find the contact's ticket by number; PT_ENOTFOUND if not theirs. */
static int contact_ticket(sqlite3 *db, int64_t contact_id, const char *digits,
			  struct pt_ticket *t, int64_t *resolved_ms)
{
	int rc = pt_ticket_get(db, digits, t);
	if (rc < 0)
		return rc;
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, "SELECT contact_id, resolved_ms FROM tickets WHERE id = ?1", -1,
			       &s, NULL) != SQLITE_OK)
		return db_fail(db, "contact_ticket");
	sqlite3_bind_int64(s, 1, t->id);
	rc = PT_ENOTFOUND;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) == contact_id) {
		*resolved_ms = sqlite3_column_int64(s, 1);
		rc = PT_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

static int appeal(sqlite3 *db, const struct pt_inbound *in, const char *arg, char *reply,
		  size_t cap)
{
	char digits[9], shown[10];
	struct tvars x = { { "ticket_input" }, { arg } };
	int rc;
	if (arg[0] == '\0') {
		rc = reply_text(in, db, NULL, "appeal_usage", NULL, reply, cap);
		return rc < 0 ? rc : 1;
	}
	if (pt_ticket_parse(arg, strlen(arg), digits) < 0) {
		rc = reply_text(in, db, NULL, "appeal_invalid", &x, reply, cap);
		return rc < 0 ? rc : 1;
	}
	pt_ticket_format(digits, shown);
	x.k[0] = "ticket_number";
	x.v[0] = shown;
	struct pt_ticket *t = malloc(sizeof(*t));
	if (!t)
		return PT_ENOMEM;
	int64_t resolved_ms = 0;
	rc = contact_ticket(db, in->contact_id, digits, t, &resolved_ms);
	if (rc == PT_ENOTFOUND) {
		rc = reply_text(in, db, NULL, "appeal_not_found", &x, reply, cap);
		goto out;
	}
	if (rc < 0)
		goto out;
	if (strcmp(t->status, "resolved") != 0) {
		rc = reply_text(in, db, t, "appeal_not_resolved", NULL, reply, cap);
		goto out;
	}
	if (in->now_ms - resolved_ms > PT_PROC_APPEAL_WINDOW_MS) {
		rc = reply_text(in, db, t, "appeal_too_late", NULL, reply, cap);
		pt_log(PT_LOG_INFO, "appeal_too_late", "number=%s", t->number);
		goto out;
	}
	struct pt_proc_err e;
	rc = pt_proc_transition(db, in->cfg, in->dialogs, t, "appealed", PT_PROC_ROLE_RESIDENT, 0,
				"resident", NULL, &e);
	if (rc < 0)
		goto out;
	pt_log(PT_LOG_INFO, "appeal_received", "number=%s channel=%s", t->number, in->chan->name);
	rc = reply_text(in, db, t, "appeal_received", NULL, reply, cap);
out:
	free(t);
	return rc < 0 ? rc : 1;
}

/* A lone 1-5: the contact's first message after the satisfaction question. */
static int satisfaction(sqlite3 *db, const struct pt_inbound *in, int score, char *reply,
			size_t cap)
{
	sqlite3_stmt *s = NULL;
	int64_t id = 0;
	char number[9] = "";
	if (sqlite3_prepare_v2(db,
			       "SELECT t.id, t.number FROM tickets t WHERE t.contact_id = ?1 AND "
			       "t.status = 'resolved' AND t.satisfaction IS NULL AND "
			       "t.satisfaction_asked_ms >= ?2 AND NOT EXISTS (SELECT 1 FROM messages m "
			       "WHERE m.contact_id = t.contact_id AND m.direction = 'in' AND "
			       "m.created_ms > t.satisfaction_asked_ms) "
			       "ORDER BY t.satisfaction_asked_ms DESC LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return db_fail(db, "satisfaction");
	sqlite3_bind_int64(s, 1, in->contact_id);
	sqlite3_bind_int64(s, 2, in->now_ms - PT_PROC_SATISFACTION_WINDOW_MS);
	int st = sqlite3_step(s);
	if (st == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		pt_store_col_text(s, 1, number, sizeof(number));
	}
	sqlite3_finalize(s);
	if (st != SQLITE_ROW && st != SQLITE_DONE)
		return db_fail(db, "satisfaction");
	if (id == 0)
		return 0;
	s = NULL;
	if (sqlite3_prepare_v2(db, "UPDATE tickets SET satisfaction = ?2 WHERE id = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return db_fail(db, "satisfaction");
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, score);
	st = sqlite3_step(s);
	sqlite3_finalize(s);
	if (st != SQLITE_DONE)
		return db_fail(db, "satisfaction");
	pt_log(PT_LOG_INFO, "satisfaction_recorded", "number=%s score=%d", number, score);
	char shown[10], sc[4];
	pt_ticket_format(number, shown);
	snprintf(sc, sizeof(sc), "%d", score);
	struct tvars x = { { "ticket_number", "score" }, { shown, sc } };
	int rc = reply_text(in, db, NULL, "satisfaction_thanks", &x, reply, cap);
	return rc < 0 ? rc : 1;
}

int pt_proc_inbound(sqlite3 *db, const struct pt_inbound *in, char *reply, size_t cap)
{
	char text[64];
	if (!db || !in || !in->text || !reply || cap == 0)
		return 0;
	reply[0] = '\0';
	if (strlen(in->text) >= sizeof(text))
		return 0; /* longer than any command we know */
	normalise(in->text, text, sizeof(text));
	if (strncmp(text, "BANDING", 7) == 0 &&
	    (text[7] == '\0' || isspace((unsigned char)text[7]) || text[7] == ':' ||
	     text[7] == '-' || text[7] == '#' || isdigit((unsigned char)text[7]))) {
		const char *arg = text + 7;
		while (*arg && (isspace((unsigned char)*arg) || *arg == ':' || *arg == '-' ||
				*arg == '#'))
			arg++;
		return appeal(db, in, arg, reply, cap);
	}
	if (text[0] >= '1' && text[0] <= '5' && text[1] == '\0')
		return satisfaction(db, in, text[0] - '0', reply, cap);
	return 0;
}
