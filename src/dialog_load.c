/*
 * dialog_load.c - reading and validating the dialog files (every *.json file
 * of one directory; the format is documented for staff in docs/dialogs.md).
 *
 * Loading runs in passes so that every problem is found in one go:
 *   1. read and parse every *.json file (sorted by name), register every node
 *      name "<dialog>.<node>" (dialog = file name without .json) in a hash;
 *   2. compile each node into struct dlg_node, resolving targets to indices,
 *      compiling PCRE2 patterns (PCRE2_UTF, as written: authors anchor with ^ $),
 *      and compiling per-channel variants ("ussd"/"sms"/"chat" overrides: fields
 *      replace the base node's; an override that names a "kind" replaces the
 *      whole node);
 *   3. keywords, engine messages and declared host variables;
 *   4. every template is checked for syntax and for variables nobody sets.
 * Each problem goes to the callback with file, node and field; any problem
 * makes the load fail. Problems inside a variant are reported with the field
 * prefixed by the override ("sms.next"); a problem of an inherited field is
 * reported once, by the base node.
 *
 * Compiled strings point into the cJSON trees, which live as long as the
 * struct pt_dialogs; arrays come from calloc and are tracked in d->blocks.
 */
#include "dialog_int.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pintu/common.h"

#define DLG_FILE_MAX (1024 * 1024)

struct tpl_ref {
	const char *file, *node;
	char field[64];
	const char *tpl;
};

struct loader {
	struct pt_dialogs *d;
	pt_dialog_problem_fn fn;
	void *ctx;
	int nproblems;
	int oom;
	const char *file;   /* current file */
	const char *node;   /* current node short name, "" at file level */
	const char *dialog; /* current dialog name */
	/* variant compilation: report only fields taken from the override */
	const cJSON *override;
	const char *prefix; /* "ussd", "sms", "chat" or NULL */
	int replaced;       /* override names a kind: every field is its own */
	const char **known;
	int nknown, capknown;
	struct tpl_ref *tpls;
	int ntpls, captpls;
};

/* ---- allocation and problems ---- */

static void *lalloc(struct loader *L, size_t n)
{
	struct pt_dialogs *d = L->d;
	if (n == 0)
		n = 1;
	if (d->nblocks == d->capblocks) {
		int cap = d->capblocks ? d->capblocks * 2 : 64;
		void **nb = realloc(d->blocks, (size_t)cap * sizeof(*nb));
		if (!nb) {
			L->oom = 1;
			return NULL;
		}
		d->blocks = nb;
		d->capblocks = cap;
	}
	void *p = calloc(1, n);
	if (!p) {
		L->oom = 1;
		return NULL;
	}
	d->blocks[d->nblocks++] = p;
	return p;
}

static int field_from_override(const struct loader *L, const char *field)
{
	if (!L->override || L->replaced)
		return 1;
	char top[64];
	size_t i = 0;
	while (field[i] && field[i] != '.' && field[i] != '[' && i + 1 < sizeof(top)) {
		top[i] = field[i];
		i++;
	}
	top[i] = '\0';
	return cJSON_GetObjectItemCaseSensitive(L->override, top) != NULL;
}

static void problem(struct loader *L, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct loader *L, const char *field, const char *fmt, ...)
{
	if (L->override && !field_from_override(L, field))
		return;
	char msg[256], fbuf[96];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (L->prefix) {
		snprintf(fbuf, sizeof(fbuf), "%s.%s", L->prefix, field);
		field = fbuf;
	}
	L->nproblems++;
	if (L->fn)
		L->fn(L->ctx, L->file ? L->file : "", L->node ? L->node : "", field, msg);
}

static void add_known(struct loader *L, const char *name)
{
	for (int i = 0; i < L->nknown; i++)
		if (strcmp(L->known[i], name) == 0)
			return;
	if (L->nknown == L->capknown) {
		int cap = L->capknown ? L->capknown * 2 : 64;
		const char **nk = realloc(L->known, (size_t)cap * sizeof(*nk));
		if (!nk) {
			L->oom = 1;
			return;
		}
		L->known = nk;
		L->capknown = cap;
	}
	L->known[L->nknown++] = name;
}

static int is_known(const struct loader *L, const char *name, size_t n)
{
	for (int i = 0; i < L->nknown; i++)
		if (strlen(L->known[i]) == n && memcmp(L->known[i], name, n) == 0)
			return 1;
	return 0;
}

static void add_tpl(struct loader *L, const char *field, const char *tpl)
{
	if (L->override && !field_from_override(L, field))
		return; /* inherited by a channel variant: the base node checks it */
	if (L->ntpls == L->captpls) {
		int cap = L->captpls ? L->captpls * 2 : 256;
		struct tpl_ref *nt = realloc(L->tpls, (size_t)cap * sizeof(*nt));
		if (!nt) {
			L->oom = 1;
			return;
		}
		L->tpls = nt;
		L->captpls = cap;
	}
	struct tpl_ref *t = &L->tpls[L->ntpls++];
	t->file = L->file;
	t->node = L->node;
	if (L->prefix)
		snprintf(t->field, sizeof(t->field), "%s.%s", L->prefix, field);
	else
		snprintf(t->field, sizeof(t->field), "%s", field);
	t->tpl = tpl;
}

/* ---- names ---- */

static unsigned name_hash(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

int dlg_find(const struct pt_dialogs *d, const char *name)
{
	if (!d->hashcap)
		return -1;
	unsigned mask = d->hashcap - 1;
	for (unsigned i = name_hash(name) & mask;; i = (i + 1) & mask) {
		int idx = d->hash[i];
		if (idx < 0)
			return -1;
		if (strcmp(d->nodes[idx].name, name) == 0)
			return idx;
	}
}

static void hash_insert(struct pt_dialogs *d, int idx)
{
	unsigned mask = d->hashcap - 1;
	unsigned i = name_hash(d->nodes[idx].name) & mask;
	while (d->hash[i] >= 0)
		i = (i + 1) & mask;
	d->hash[i] = idx;
}

static int valid_ident(const char *s, int allow_dash)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (allow_dash && c == '-')))
			return 0;
	}
	return 1;
}

static int valid_var(const char *s)
{
	return valid_ident(s, 0) && strlen(s) < PT_VAR_KEY_MAX;
}

/* "nik" -> "<dialog>.nik"; "main.menu" stays. -1 with a problem when missing. */
static int resolve(struct loader *L, const char *field, const cJSON *item)
{
	if (!cJSON_IsString(item)) {
		problem(L, field, "must be a string naming a node");
		return -1;
	}
	const char *t = item->valuestring;
	char full[128];
	if (strchr(t, '.'))
		snprintf(full, sizeof(full), "%s", t);
	else
		snprintf(full, sizeof(full), "%s.%s", L->dialog, t);
	int idx = dlg_find(L->d, full);
	if (idx < 0)
		problem(L, field, "target \"%s\" does not exist", full);
	return idx;
}

/* ---- small field readers ---- */

static const char *get_str(struct loader *L, const cJSON *obj, const char *key, int required)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!it) {
		if (required)
			problem(L, key, "missing");
		return NULL;
	}
	if (!cJSON_IsString(it) || !it->valuestring[0]) {
		problem(L, key, "must be a non-empty string");
		return NULL;
	}
	return it->valuestring;
}

static const char *get_var(struct loader *L, const cJSON *obj, const char *key, int required)
{
	const char *v = get_str(L, obj, key, required);
	if (v && !valid_var(v)) {
		problem(L, key, "\"%s\" is not a valid variable name (letters, digits, _; < %d)", v,
			PT_VAR_KEY_MAX);
		return NULL;
	}
	return v;
}

static int get_bool(struct loader *L, const cJSON *obj, const char *key, int dflt)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!it)
		return dflt;
	if (!cJSON_IsBool(it)) {
		problem(L, key, "must be true or false");
		return dflt;
	}
	return cJSON_IsTrue(it);
}

static int get_int(struct loader *L, const cJSON *obj, const char *key, int dflt, int lo, int hi)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!it)
		return dflt;
	if (!cJSON_IsNumber(it) || it->valuedouble != (double)(int)it->valuedouble ||
	    it->valueint < lo || it->valueint > hi) {
		problem(L, key, "must be a whole number from %d to %d", lo, hi);
		return dflt;
	}
	return it->valueint;
}

static int get_target(struct loader *L, const cJSON *obj, const char *key, int required)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!it) {
		if (required)
			problem(L, key, "missing");
		return -1;
	}
	return resolve(L, key, it);
}

/* Read {"id": "...", "en": "...", "ussd": {...}, "sms": {...}, "chat": {...}}. */
static int read_text(struct loader *L, const cJSON *it, const char *field, struct dlg_text *out)
{
	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(it)) {
		problem(L, field, "must be an object {\"id\": \"...\", \"en\": \"...\"}");
		return -1;
	}
	static const char *const chans[DLG_CH_N] = {"ussd", "sms", "chat"};
	const char *base[2] = {NULL, NULL};
	const char *ov[DLG_CH_N][2] = {{NULL, NULL}, {NULL, NULL}, {NULL, NULL}};
	char f[96];
	const cJSON *c;
	cJSON_ArrayForEach(c, it)
	{
		const char *k = c->string;
		int ch = -1;
		for (int i = 0; i < DLG_CH_N; i++)
			if (strcmp(k, chans[i]) == 0)
				ch = i;
		if (strcmp(k, "id") == 0 || strcmp(k, "en") == 0) {
			snprintf(f, sizeof(f), "%s.%s", field, k);
			if (!cJSON_IsString(c)) {
				problem(L, f, "must be a string");
				continue;
			}
			base[k[0] == 'e'] = c->valuestring;
			add_tpl(L, f, c->valuestring);
		} else if (ch >= 0) {
			if (!cJSON_IsObject(c)) {
				snprintf(f, sizeof(f), "%s.%s", field, k);
				problem(L, f, "must be an object {\"id\": ..., \"en\": ...}");
				continue;
			}
			for (int l = 0; l < 2; l++) {
				const char *lk = l ? "en" : "id";
				const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, lk);
				snprintf(f, sizeof(f), "%s.%s.%s", field, k, lk);
				if (!v)
					continue;
				if (!cJSON_IsString(v)) {
					problem(L, f, "must be a string");
					continue;
				}
				ov[ch][l] = v->valuestring;
				add_tpl(L, f, v->valuestring);
			}
		} else if (k[0] != '_') {
			snprintf(f, sizeof(f), "%s.%s", field, k);
			problem(L, f, "unknown field (expected id, en, ussd, sms, chat)");
		}
	}
	if (!base[0]) {
		snprintf(f, sizeof(f), "%s.id", field);
		problem(L, f, "missing (every text needs Bahasa Indonesia)");
		return -1;
	}
	for (int ch = 0; ch < DLG_CH_N; ch++) {
		const char *const *o = ov[ch];
		if (ch == DLG_CH_CHAT && !o[0] && !o[1])
			o = ov[DLG_CH_SMS];
		out->s[ch][0] = o[0] ? o[0] : base[0];
		out->s[ch][1] = o[1] ? o[1] : base[1] ? base[1] : o[0] ? o[0] : base[0];
	}
	return 0;
}

static int get_text(struct loader *L, const cJSON *obj, const char *key, int required,
		    struct dlg_text *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	memset(out, 0, sizeof(*out));
	if (!it) {
		if (required)
			problem(L, key, "missing");
		return 0;
	}
	return read_text(L, it, key, out) == 0;
}

static int read_var_list(struct loader *L, const cJSON *obj, const char *key, const char *field,
			 const char ***out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	key = field;
	*out = NULL;
	if (!it)
		return 0;
	if (cJSON_IsString(it)) {
		if (!valid_var(it->valuestring)) {
			problem(L, key, "\"%s\" is not a valid variable name", it->valuestring);
			return 0;
		}
		*out = lalloc(L, sizeof(char *));
		if (!*out)
			return 0;
		(*out)[0] = it->valuestring;
		return 1;
	}
	if (!cJSON_IsArray(it)) {
		problem(L, key, "must be a variable name or an array of them");
		return 0;
	}
	int n = cJSON_GetArraySize(it), k = 0;
	*out = lalloc(L, (size_t)n * sizeof(char *));
	if (!*out)
		return 0;
	const cJSON *v;
	cJSON_ArrayForEach(v, it)
	{
		if (!cJSON_IsString(v) || !valid_var(v->valuestring)) {
			problem(L, key, "every entry must be a variable name");
			continue;
		}
		(*out)[k++] = v->valuestring;
	}
	return k;
}

/* ---- fields allowed per kind ---- */

enum {
	F_MENU = 1 << DK_MENU,
	F_INPUT = 1 << DK_INPUT,
	F_CONFIRM = 1 << DK_CONFIRM,
	F_ACTION = 1 << DK_ACTION,
	F_END = 1 << DK_END,
	F_ALL = F_MENU | F_INPUT | F_CONFIRM | F_ACTION | F_END,
	F_ASK = F_MENU | F_INPUT | F_CONFIRM,
};

static const struct {
	const char *name;
	int kinds;
} node_fields[] = {
	{"kind", F_ALL},       {"text", F_ALL & ~F_ACTION}, {"next", F_ALL & ~F_END},
	{"skip_if", F_ALL},    {"resumable", F_ALL},        {"unset", F_ALL},
	{"clear", F_ALL},      {"fit", F_ALL & ~F_ACTION},  {"ussd", F_ALL},
	{"sms", F_ALL},        {"chat", F_ALL},             {"error", F_ASK},
	{"retries", F_ASK},    {"options", F_MENU},         {"list", F_MENU},
	{"var", F_MENU | F_INPUT}, {"label_var", F_MENU},   {"pattern", F_INPUT},
	{"validate", F_INPUT}, {"allow_skip", F_INPUT},     {"max_len", F_INPUT},
	{"shortcuts", F_INPUT}, {"free_text", F_INPUT},     {"yes", F_CONFIRM},
	{"no", F_CONFIRM},     {"yes_label", F_CONFIRM},    {"no_label", F_CONFIRM},
	{"action", F_ACTION},  {"outcomes", F_ACTION},
};

static void check_fields(struct loader *L, const cJSON *obj, enum dlg_kind kind)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, obj)
	{
		if (c->string[0] == '_')
			continue;
		int found = 0;
		for (size_t i = 0; i < PT_ARRAY_LEN(node_fields); i++) {
			if (strcmp(node_fields[i].name, c->string) != 0)
				continue;
			found = 1;
			if (!(node_fields[i].kinds & (1 << kind)))
				problem(L, c->string, "not used by a node of this kind");
		}
		if (!found)
			problem(L, c->string, "unknown field");
	}
}

static enum dlg_kind parse_kind(const char *k)
{
	static const char *const names[] = {NULL, "menu", "input", "confirm", "action", "end"};
	for (int i = 1; i < (int)PT_ARRAY_LEN(names); i++)
		if (k && strcmp(k, names[i]) == 0)
			return (enum dlg_kind)i;
	return 0;
}

/* ---- node parts ---- */

static void read_kv(struct loader *L, const cJSON *it, const char *field, struct dlg_option *o)
{
	if (!cJSON_IsObject(it)) {
		problem(L, field, "must be an object of variable: value");
		return;
	}
	int n = cJSON_GetArraySize(it);
	o->set = lalloc(L, (size_t)n * sizeof(*o->set));
	if (!o->set)
		return;
	const cJSON *c;
	cJSON_ArrayForEach(c, it)
	{
		if (!valid_var(c->string) || !cJSON_IsString(c) ||
		    strlen(c->valuestring) >= PT_VAR_VAL_MAX) {
			problem(L, field, "\"%s\" must be a variable name with a string value", c->string);
			continue;
		}
		o->set[o->nset].key = c->string;
		o->set[o->nset].val = c->valuestring;
		o->nset++;
		add_known(L, c->string);
	}
}

static int option_key(struct loader *L, const cJSON *it, const char *field)
{
	long v = -1;
	if (cJSON_IsNumber(it) && it->valuedouble == (double)it->valueint)
		v = it->valueint;
	else if (cJSON_IsString(it) && it->valuestring[0] && strlen(it->valuestring) <= 2 &&
		 strspn(it->valuestring, "0123456789") == strlen(it->valuestring))
		v = strtol(it->valuestring, NULL, 10);
	if (v < 0 || v > 99 || v == 98) {
		problem(L, field, "must be a number from 0 to 99 (98 is reserved for the next page)");
		return -1;
	}
	return (int)v;
}

static void compile_options(struct loader *L, struct dlg_node *n, const cJSON *arr)
{
	if (!cJSON_IsArray(arr)) {
		problem(L, "options", "must be an array");
		return;
	}
	int cnt = cJSON_GetArraySize(arr);
	n->opts = lalloc(L, (size_t)cnt * sizeof(*n->opts));
	if (!n->opts)
		return;
	char f[64];
	int auto_num = 1;
	const cJSON *o;
	cJSON_ArrayForEach(o, arr)
	{
		int i = n->nopts;
		struct dlg_option *op = &n->opts[n->nopts++];
		op->target = -1;
		if (!cJSON_IsObject(o)) {
			snprintf(f, sizeof(f), "options[%d]", i);
			problem(L, f, "must be an object");
			continue;
		}
		const cJSON *c;
		cJSON_ArrayForEach(c, o)
		{
			static const char *const ok[] = {"key", "text", "label", "next", "set", "unset",
							 "lang"};
			int found = c->string[0] == '_';
			for (size_t k = 0; k < PT_ARRAY_LEN(ok); k++)
				found |= strcmp(ok[k], c->string) == 0;
			if (!found) {
				snprintf(f, sizeof(f), "options[%d].%s", i, c->string);
				problem(L, f, "unknown field");
			}
		}
		const cJSON *key = cJSON_GetObjectItemCaseSensitive(o, "key");
		snprintf(f, sizeof(f), "options[%d].key", i);
		if (key) {
			op->num = option_key(L, key, f);
		} else if (n->list) {
			problem(L, f, "missing (options of a list menu need an explicit key, e.g. 0)");
			op->num = -1;
		} else {
			op->num = auto_num;
		}
		if (op->num >= 0)
			auto_num = op->num + 1;
		if (n->list && op->num >= 1 && op->num <= DLG_LIST_MAX) {
			problem(L, f, "%d collides with the list's numbers (use 0 or 65..99)", op->num);
			op->num = -1;
		}
		for (int j = 0; j < i && op->num >= 0; j++)
			if (n->opts[j].num == op->num)
				problem(L, f, "duplicate key %d", op->num);
		snprintf(f, sizeof(f), "options[%d].text", i);
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "text");
		if (!t)
			problem(L, f, "missing");
		else
			read_text(L, t, f, &op->text);
		const cJSON *lb = cJSON_GetObjectItemCaseSensitive(o, "label");
		snprintf(f, sizeof(f), "options[%d].label", i);
		if (lb)
			read_text(L, lb, f, &op->label);
		else
			op->label = op->text;
		const cJSON *lang = cJSON_GetObjectItemCaseSensitive(o, "lang");
		if (lang) {
			snprintf(f, sizeof(f), "options[%d].lang", i);
			if (!cJSON_IsString(lang) || strcmp(lang->valuestring, "toggle") != 0)
				problem(L, f, "must be \"toggle\"");
			else
				op->lang_toggle = 1;
		}
		const cJSON *nx = cJSON_GetObjectItemCaseSensitive(o, "next");
		snprintf(f, sizeof(f), "options[%d].next", i);
		if (nx)
			op->target = resolve(L, f, nx);
		else if (op->lang_toggle)
			op->target = DLG_TARGET_SELF;
		else
			problem(L, f, "missing");
		const cJSON *set = cJSON_GetObjectItemCaseSensitive(o, "set");
		snprintf(f, sizeof(f), "options[%d].set", i);
		if (set)
			read_kv(L, set, f, op);
		snprintf(f, sizeof(f), "options[%d].unset", i);
		op->nunset = read_var_list(L, o, "unset", f, &op->unset);
	}
}

static void compile_outcomes(struct loader *L, struct dlg_node *n, const cJSON *obj)
{
	if (!cJSON_IsObject(obj) || !obj->child) {
		problem(L, "outcomes", "must be an object of outcome: target, with at least one");
		return;
	}
	int cnt = cJSON_GetArraySize(obj);
	n->outs = lalloc(L, (size_t)cnt * sizeof(*n->outs));
	if (!n->outs)
		return;
	char f[96];
	const cJSON *c;
	cJSON_ArrayForEach(c, obj)
	{
		struct dlg_outcome *o = &n->outs[n->nouts++];
		o->name = c->string;
		o->target = -1;
		snprintf(f, sizeof(f), "outcomes.%s", c->string);
		if (cJSON_IsString(c)) {
			o->target = resolve(L, f, c);
			continue;
		}
		if (!cJSON_IsObject(c)) {
			problem(L, f, "must be a target or {\"next\": ..., \"retry\": true, \"error\": {...}}");
			continue;
		}
		const cJSON *k;
		cJSON_ArrayForEach(k, c)
		{
			if (k->string[0] != '_' && strcmp(k->string, "next") != 0 &&
			    strcmp(k->string, "retry") != 0 && strcmp(k->string, "error") != 0) {
				char f2[128];
				snprintf(f2, sizeof(f2), "%s.%s", f, k->string);
				problem(L, f2, "unknown field");
			}
		}
		const cJSON *nx = cJSON_GetObjectItemCaseSensitive(c, "next");
		char f2[128];
		snprintf(f2, sizeof(f2), "%s.next", f);
		if (!nx)
			problem(L, f2, "missing");
		else
			o->target = resolve(L, f2, nx);
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(c, "retry");
		if (r && !cJSON_IsBool(r)) {
			snprintf(f2, sizeof(f2), "%s.retry", f);
			problem(L, f2, "must be true or false");
		}
		o->retry = cJSON_IsTrue(r);
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(c, "error");
		if (e) {
			snprintf(f2, sizeof(f2), "%s.error", f);
			o->has_error = read_text(L, e, f2, &o->error) == 0;
		}
	}
}

static void compile_shortcuts(struct loader *L, struct dlg_node *n, const cJSON *obj)
{
	if (!cJSON_IsObject(obj)) {
		problem(L, "shortcuts", "must be an object of input: target");
		return;
	}
	int cnt = cJSON_GetArraySize(obj);
	n->shortcuts = lalloc(L, (size_t)cnt * sizeof(*n->shortcuts));
	if (!n->shortcuts)
		return;
	char f[96];
	const cJSON *c;
	cJSON_ArrayForEach(c, obj)
	{
		struct dlg_shortcut *sc = &n->shortcuts[n->nshortcuts++];
		sc->input = c->string;
		snprintf(f, sizeof(f), "shortcuts.%s", c->string);
		sc->target = resolve(L, f, c);
	}
}

static void compile_pattern(struct loader *L, struct dlg_node *n, const char *pat)
{
	int err;
	PCRE2_SIZE off;
	n->re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);
	if (!n->re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(err, msg, sizeof(msg));
		problem(L, "pattern", "does not compile at offset %zu: %s", (size_t)off, (char *)msg);
	}
}

static void compile_fit(struct loader *L, struct dlg_node *n, const cJSON *obj)
{
	const char **list = NULL;
	int k = read_var_list(L, obj, "fit", "fit", &list);
	if (k > DLG_FIT_MAX) {
		problem(L, "fit", "at most %d variables", DLG_FIT_MAX);
		k = DLG_FIT_MAX;
	}
	for (int i = 0; i < k; i++)
		n->fit[i] = list[i];
	n->nfit = k;
}

static void compile_node(struct loader *L, struct dlg_node *n, const cJSON *j, int dialog_resumable)
{
	const cJSON *kind_it = cJSON_GetObjectItemCaseSensitive(j, "kind");
	const char *ks = cJSON_IsString(kind_it) ? kind_it->valuestring : NULL;
	n->kind = parse_kind(ks);
	n->next = n->yes = n->no = -1;
	if (!n->kind) {
		if (!kind_it)
			problem(L, "kind", "missing (menu, input, confirm, action or end)");
		else
			problem(L, "kind", "unknown kind \"%s\" (menu, input, confirm, action or end)",
				ks ? ks : "?");
		return;
	}
	check_fields(L, j, n->kind);
	int need_text = n->kind == DK_INPUT || n->kind == DK_CONFIRM || n->kind == DK_END;
	if (n->kind != DK_ACTION)
		get_text(L, j, "text", need_text, &n->text);
	n->skip_if = get_var(L, j, "skip_if", 0);
	n->resumable = get_bool(L, j, "resumable", dialog_resumable);
	n->clear = get_bool(L, j, "clear", 0);
	n->nunset = read_var_list(L, j, "unset", "unset", &n->unset);
	if (n->kind != DK_ACTION)
		compile_fit(L, n, j);
	n->retries = get_int(L, j, "retries", 3, 0, 20);
	n->has_error = get_text(L, j, "error", 0, &n->error);

	int need_next = n->kind == DK_INPUT || (n->kind == DK_MENU &&
			cJSON_GetObjectItemCaseSensitive(j, "list"));
	if (n->kind != DK_END)
		n->next = get_target(L, j, "next", need_next);
	if (n->skip_if && n->kind != DK_END && !cJSON_GetObjectItemCaseSensitive(j, "next"))
		problem(L, "next", "missing (skip_if goes to next)");
	if (n->skip_if && n->kind == DK_END)
		problem(L, "skip_if", "an end node cannot be skipped");

	switch (n->kind) {
	case DK_MENU: {
		n->list = get_str(L, j, "list", 0);
		n->var = get_var(L, j, "var", n->list != NULL);
		n->label_var = get_var(L, j, "label_var", 0);
		if (n->var)
			add_known(L, n->var);
		if (n->label_var)
			add_known(L, n->label_var);
		if (n->var && !n->list)
			problem(L, "var", "only a list menu stores a variable (use \"set\" on options)");
		const cJSON *opts = cJSON_GetObjectItemCaseSensitive(j, "options");
		if (opts)
			compile_options(L, n, opts);
		else if (!n->list)
			problem(L, "options", "missing (a menu needs options or a list)");
		break;
	}
	case DK_INPUT: {
		n->var = get_var(L, j, "var", 1);
		if (n->var)
			add_known(L, n->var);
		const char *pat = get_str(L, j, "pattern", 0);
		if (pat)
			compile_pattern(L, n, pat);
		const char *v = get_str(L, j, "validate", 0);
		if (v) {
			static const char *const names[] = {"", "nik", "ticket", "digits4", "digits"};
			for (int i = 1; i < (int)PT_ARRAY_LEN(names); i++)
				if (strcmp(v, names[i]) == 0)
					n->validate = i;
			if (!n->validate)
				problem(L, "validate",
					"unknown check \"%s\" (nik, ticket, digits4, digits)", v);
		}
		n->allow_skip = get_bool(L, j, "allow_skip", 0);
		n->max_len = get_int(L, j, "max_len", 0, 0, PT_VAR_VAL_MAX - 1);
		n->free_text = get_bool(L, j, "free_text", 0);
		const cJSON *sc = cJSON_GetObjectItemCaseSensitive(j, "shortcuts");
		if (sc)
			compile_shortcuts(L, n, sc);
		break;
	}
	case DK_CONFIRM:
		n->yes = get_target(L, j, "yes", 1);
		n->no = get_target(L, j, "no", 1);
		get_text(L, j, "yes_label", 0, &n->yes_label);
		get_text(L, j, "no_label", 0, &n->no_label);
		break;
	case DK_ACTION: {
		n->action = get_str(L, j, "action", 1);
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "outcomes");
		if (!o)
			problem(L, "outcomes", "missing");
		else
			compile_outcomes(L, n, o);
		break;
	}
	case DK_END:
		break;
	}
}

/* ---- files ---- */

static const char *const msg_names[DM_N] = {
	"invalid", "too_many", "cancelled", "expired", "resume", "error", "more", "back", "yes", "no",
};

static const char *const msg_defaults[DM_N][2] = {
	{"Maaf, pilihan tidak dikenali. Balas dengan angka yang tersedia, atau ketik MENU.",
	 "Sorry, that choice is not recognised. Reply with one of the numbers, or type MENU."},
	{"Maaf, terlalu banyak kesalahan. Silakan coba lagi nanti.",
	 "Sorry, too many errors. Please try again later."},
	{"Pengaduan dibatalkan. Ketik MENU untuk mulai lagi.",
	 "Cancelled. Type MENU to start again."},
	{"Sesi sebelumnya berakhir karena tidak ada balasan.",
	 "Your previous session ended because there was no reply."},
	{"Lanjutkan pengaduan sebelumnya?\n1 Ya\n2 Mulai baru",
	 "Continue your previous complaint?\n1 Yes\n2 Start again"},
	{"Maaf, terjadi gangguan. Silakan coba lagi nanti.",
	 "Sorry, something went wrong. Please try again later."},
	{"Berikutnya", "Next"},
	{"Kembali", "Back"},
	{"Ya", "Yes"},
	{"Tidak", "No"},
};

static void set_default_messages(struct pt_dialogs *d)
{
	for (int m = 0; m < DM_N; m++)
		for (int ch = 0; ch < DLG_CH_N; ch++)
			for (int l = 0; l < 2; l++)
				d->msg[m].s[ch][l] = msg_defaults[m][l];
}

static void load_messages(struct loader *L, const cJSON *obj)
{
	if (!cJSON_IsObject(obj)) {
		problem(L, "messages", "must be an object");
		return;
	}
	const cJSON *c;
	char f[96];
	cJSON_ArrayForEach(c, obj)
	{
		if (c->string[0] == '_')
			continue;
		snprintf(f, sizeof(f), "messages.%s", c->string);
		int m = -1;
		for (int i = 0; i < DM_N; i++)
			if (strcmp(msg_names[i], c->string) == 0)
				m = i;
		if (m < 0) {
			problem(L, f, "unknown message (invalid, too_many, cancelled, expired, resume, "
				      "error, more, back, yes, no)");
			continue;
		}
		read_text(L, c, f, &L->d->msg[m]);
	}
}

/* "templates": { "status_changed": {"id": ..., "en": ...}, ... } - texts the
 * host renders outside a conversation (notifications). */
static void load_templates(struct loader *L, const cJSON *obj)
{
	struct pt_dialogs *d = L->d;
	char f[96];
	if (!cJSON_IsObject(obj)) {
		problem(L, "templates", "must be an object");
		return;
	}
	const cJSON *c;
	cJSON_ArrayForEach(c, obj)
	{
		if (c->string[0] == '_')
			continue;
		snprintf(f, sizeof(f), "templates.%s", c->string);
		int i = 0;
		while (i < d->ntpl && strcmp(d->tpl_name[i], c->string) != 0)
			i++;
		if (i == d->ntpl) {
			if (d->ntpl >= DLG_TEMPLATES_MAX) {
				problem(L, f, "too many templates (at most 32)");
				continue;
			}
			d->ntpl++;
		}
		d->tpl_name[i] = c->string;
		read_text(L, c, f, &d->tpl[i]);
	}
}

static void load_keywords(struct loader *L, const cJSON *arr)
{
	struct pt_dialogs *d = L->d;
	char f[96];
	if (!cJSON_IsArray(arr)) {
		problem(L, "keywords", "must be an array");
		return;
	}
	int total = d->nkw;
	const cJSON *k;
	cJSON_ArrayForEach(k, arr)
	{
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(k, "words");
		total += cJSON_IsArray(w) ? cJSON_GetArraySize(w) : 1;
	}
	struct dlg_keyword *nk = lalloc(L, (size_t)total * sizeof(*nk));
	if (!nk)
		return;
	if (d->nkw)
		memcpy(nk, d->kw, (size_t)d->nkw * sizeof(*nk));
	d->kw = nk;
	int i = 0;
	cJSON_ArrayForEach(k, arr)
	{
		snprintf(f, sizeof(f), "keywords[%d]", i);
		i++;
		if (!cJSON_IsObject(k)) {
			problem(L, f, "must be an object");
			continue;
		}
		struct dlg_keyword kw = {.target = -1};
		char g[128];
		const cJSON *c;
		cJSON_ArrayForEach(c, k)
		{
			static const char *const ok[] = {"words", "target", "arg", "arg_list", "max_len"};
			int found = c->string[0] == '_';
			for (size_t x = 0; x < PT_ARRAY_LEN(ok); x++)
				found |= strcmp(ok[x], c->string) == 0;
			if (!found) {
				snprintf(g, sizeof(g), "%s.%s", f, c->string);
				problem(L, g, "unknown field");
			}
		}
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(k, "target");
		snprintf(g, sizeof(g), "%s.target", f);
		if (cJSON_IsString(t) && strcmp(t->valuestring, "@cancel") == 0)
			kw.target = DLG_TARGET_CANCEL;
		else if (!t)
			problem(L, g, "missing");
		else
			kw.target = resolve(L, g, t);
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(k, "arg");
		snprintf(g, sizeof(g), "%s.arg", f);
		if (a) {
			if (!cJSON_IsString(a) || !valid_var(a->valuestring))
				problem(L, g, "must be a variable name");
			else
				kw.arg = a->valuestring;
			if (kw.arg)
				add_known(L, kw.arg);
		}
		const cJSON *al = cJSON_GetObjectItemCaseSensitive(k, "arg_list");
		snprintf(g, sizeof(g), "%s.arg_list", f);
		if (al && !cJSON_IsString(al))
			problem(L, g, "must be a list name");
		else if (al)
			kw.arg_list = al->valuestring;
		if (al && !kw.arg)
			problem(L, g, "needs \"arg\" (the variable that gets the matched key)");
		const cJSON *ml = cJSON_GetObjectItemCaseSensitive(k, "max_len");
		if (ml) {
			if (!cJSON_IsNumber(ml) || ml->valueint < 1 || ml->valueint > PT_VAR_VAL_MAX - 1) {
				snprintf(g, sizeof(g), "%s.max_len", f);
				problem(L, g, "must be a number from 1 to %d", PT_VAR_VAL_MAX - 1);
			} else {
				kw.max_len = ml->valueint;
			}
		}
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(k, "words");
		snprintf(g, sizeof(g), "%s.words", f);
		if (!cJSON_IsArray(w) || !w->child) {
			problem(L, g, "must be a non-empty array of words");
			continue;
		}
		const cJSON *x;
		cJSON_ArrayForEach(x, w)
		{
			if (!cJSON_IsString(x) || !valid_ident(x->valuestring, 0) ||
			    strlen(x->valuestring) > 32) {
				problem(L, g, "every word must be letters/digits only");
				continue;
			}
			/* store upper case: the JSON string is ours to change */
			for (char *p = x->valuestring; *p; p++)
				if (*p >= 'a' && *p <= 'z')
					*p = (char)(*p - 'a' + 'A');
			for (int y = 0; y < d->nkw; y++)
				if (strcmp(d->kw[y].word, x->valuestring) == 0)
					problem(L, g, "keyword %s is defined twice", x->valuestring);
			kw.word = x->valuestring;
			d->kw[d->nkw++] = kw;
		}
	}
}

static void load_vars(struct loader *L, const cJSON *arr)
{
	if (!cJSON_IsArray(arr)) {
		problem(L, "vars", "must be an array of variable names");
		return;
	}
	const cJSON *v;
	cJSON_ArrayForEach(v, arr)
	{
		if (!cJSON_IsString(v) || !valid_var(v->valuestring))
			problem(L, "vars", "every entry must be a variable name");
		else
			add_known(L, v->valuestring);
	}
}

/* ---- templates ---- */

static void check_template(struct loader *L, const struct tpl_ref *t)
{
	L->file = t->file;
	L->node = t->node;
	L->override = NULL;
	L->prefix = NULL;
	const char *p = t->tpl;
	const char *open[8];
	size_t openlen[8];
	int nopen = 0;
	while (*p) {
		if (p[0] == '{' && p[1] == '{') {
			p += 2;
			continue;
		}
		if (p[0] == '}' && p[1] == '}') {
			p += 2;
			continue;
		}
		if (*p == '}') {
			problem(L, t->field, "stray '}' (write }} for a brace)");
			return;
		}
		if (*p != '{') {
			p++;
			continue;
		}
		const char *e = strchr(p, '}');
		if (!e) {
			problem(L, t->field, "'{' without '}' (write {{ for a brace)");
			return;
		}
		const char *name = p + 1;
		char sigil = 0;
		if (*name == '?' || *name == '!' || *name == '/')
			sigil = *name++;
		size_t n = (size_t)(e - name);
		int ok = n > 0 && n < PT_VAR_KEY_MAX;
		for (size_t i = 0; i < n && ok; i++) {
			char c = name[i];
			ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '_';
		}
		if (!ok) {
			problem(L, t->field, "bad placeholder \"%.*s\"", (int)(e - p + 1), p);
			return;
		}
		if (sigil == '/') {
			if (nopen == 0 || openlen[nopen - 1] != n ||
			    memcmp(open[nopen - 1], name, n) != 0) {
				problem(L, t->field, "{/%.*s} does not close the last open section", (int)n,
					name);
				return;
			}
			nopen--;
		} else {
			if (!is_known(L, name, n))
				problem(L, t->field, "unknown variable \"%.*s\"", (int)n, name);
			if (sigil) {
				if (nopen == (int)PT_ARRAY_LEN(open)) {
					problem(L, t->field, "sections nested too deeply");
					return;
				}
				open[nopen] = name;
				openlen[nopen++] = n;
			}
		}
		p = e + 1;
	}
	if (nopen > 0)
		problem(L, t->field, "{%c%.*s} is never closed with {/%.*s}", '?', (int)openlen[0],
			open[0], (int)openlen[0], open[0]);
}

/* ---- driver ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(DLG_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	size_t n = fread(buf, 1, DLG_FILE_MAX + 1, f);
	int err = ferror(f);
	fclose(f);
	if (err || n > DLG_FILE_MAX) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int list_files(struct loader *L, const char *dir)
{
	struct pt_dialogs *d = L->d;
	DIR *dp = opendir(dir);
	if (!dp) {
		L->file = dir;
		problem(L, "", "cannot open the dialog directory");
		return -1;
	}
	struct dirent *de;
	int cap = 0;
	while ((de = readdir(dp)) != NULL) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		if (d->nnames == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(d->names, (size_t)cap * sizeof(*nn));
			if (!nn)
				break;
			d->names = nn;
		}
		d->names[d->nnames] = strdup(de->d_name);
		if (!d->names[d->nnames])
			break;
		d->nnames++;
	}
	closedir(dp);
	if (d->nnames > 0)
		qsort(d->names, (size_t)d->nnames, sizeof(*d->names), cmp_str);
	return 0;
}

static int count_overrides(const cJSON *node)
{
	int n = 0;
	static const char *const ch[] = {"ussd", "sms", "chat"};
	for (size_t i = 0; i < PT_ARRAY_LEN(ch); i++)
		if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(node, ch[i])))
			n++;
	return n;
}

/* Pass 1a for one file: read and parse into d->trees[fi]. */
static void parse_file(struct loader *L, int fi, const char *dir)
{
	struct pt_dialogs *d = L->d;
	char path[4096];
	L->file = d->names[fi];
	L->node = "";
	snprintf(path, sizeof(path), "%s/%s", dir, d->names[fi]);
	size_t len = 0;
	char *text = read_file(path, &len);
	if (!text) {
		problem(L, "", "cannot read the file (missing, unreadable or over 1 MB)");
		return;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		size_t off = end ? (size_t)(end - text) : 0;
		int line = 1;
		for (size_t i = 0; i < off && i < len; i++)
			line += text[i] == '\n';
		problem(L, "", "invalid JSON near line %d (byte %zu)", line, off);
		free(text);
		return;
	}
	free(text);
	d->trees[fi] = root;
	if (!cJSON_IsObject(root)) {
		problem(L, "", "the file must hold a JSON object");
		return;
	}
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "nodes")))
		problem(L, "nodes", "missing (an object of node name: node)");
}

/* Pass 1b for one file: register its node names. */
static void register_nodes(struct loader *L, int fi)
{
	struct pt_dialogs *d = L->d;
	L->file = d->names[fi];
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(d->trees[fi], "nodes");
	size_t dlen = strlen(d->names[fi]) - 5;
	const cJSON *n;
	cJSON_ArrayForEach(n, nodes)
	{
		L->node = n->string;
		if (!valid_ident(n->string, 1)) {
			problem(L, "", "node names use letters, digits, '_' and '-'");
			continue;
		}
		if (dlen + 1 + strlen(n->string) >= sizeof(d->nodes[0].name)) {
			problem(L, "", "node name too long");
			continue;
		}
		if (!cJSON_IsObject(n)) {
			problem(L, "", "a node must be an object");
			continue;
		}
		if (d->nnodes >= d->capnodes) {
			L->oom = 1;
			return;
		}
		struct dlg_node *dn = &d->nodes[d->nnodes];
		snprintf(dn->name, sizeof(dn->name), "%.*s.%s", (int)dlen, d->names[fi], n->string);
		if (dlg_find(d, dn->name) >= 0) {
			problem(L, "", "node defined twice");
			memset(dn, 0, sizeof(*dn));
			continue;
		}
		dn->file = d->names[fi];
		dn->short_name = n->string;
		for (int c = 0; c < DLG_CH_N; c++)
			dn->variant[c] = d->nnodes;
		hash_insert(d, d->nnodes);
		d->nnodes++;
	}
	L->node = "";
}

/* Build the merged JSON of a channel override and compile it as a variant. */
static int compile_variant(struct loader *L, int base, const cJSON *j, const cJSON *ov,
			   const char *prefix, int resumable)
{
	struct pt_dialogs *d = L->d;
	if (d->nnodes >= d->capnodes) {
		L->oom = 1;
		return base;
	}
	int replaced = cJSON_GetObjectItemCaseSensitive(ov, "kind") != NULL;
	cJSON *merged = cJSON_Duplicate(replaced ? ov : j, 1);
	if (!merged) {
		L->oom = 1;
		return base;
	}
	if (!replaced) {
		static const char *const ch[] = {"ussd", "sms", "chat"};
		for (size_t i = 0; i < PT_ARRAY_LEN(ch); i++)
			cJSON_DeleteItemFromObjectCaseSensitive(merged, ch[i]);
		const cJSON *c;
		cJSON_ArrayForEach(c, ov)
		{
			cJSON *dup = cJSON_Duplicate(c, 1);
			if (!dup) {
				L->oom = 1;
				break;
			}
			if (cJSON_GetObjectItemCaseSensitive(merged, c->string))
				cJSON_ReplaceItemInObjectCaseSensitive(merged, c->string, dup);
			else
				cJSON_AddItemToObject(merged, c->string, dup);
		}
	}
	/* keep the merged tree alive with the dialogs (capacity sized in pass 1) */
	if (d->ntrees >= d->captrees) {
		cJSON_Delete(merged);
		L->oom = 1;
		return base;
	}
	d->trees[d->ntrees++] = merged;
	int idx = d->nnodes++;
	struct dlg_node *v = &d->nodes[idx];
	const struct dlg_node *b = &d->nodes[base];
	memcpy(v->name, b->name, sizeof(v->name));
	v->file = b->file;
	v->short_name = b->short_name;
	for (int c = 0; c < DLG_CH_N; c++)
		v->variant[c] = idx;
	L->override = ov;
	L->prefix = prefix;
	L->replaced = replaced;
	compile_node(L, v, merged, resumable);
	L->override = NULL;
	L->prefix = NULL;
	L->replaced = 0;
	return idx;
}

/* Pass 2 for one file. */
static void compile_file(struct loader *L, int fi)
{
	struct pt_dialogs *d = L->d;
	cJSON *root = d->trees[fi];
	if (!cJSON_IsObject(root))
		return;
	char dname[64];
	snprintf(dname, sizeof(dname), "%.*s", (int)(strlen(d->names[fi]) - 5), d->names[fi]);
	L->file = d->names[fi];
	L->node = "";
	L->dialog = dname;
	const cJSON *c;
	cJSON_ArrayForEach(c, root)
	{
		static const char *const ok[] = {"nodes",    "start", "resumable", "keywords",
						 "messages", "vars",  "templates"};
		int found = c->string[0] == '_';
		for (size_t i = 0; i < PT_ARRAY_LEN(ok); i++)
			found |= strcmp(ok[i], c->string) == 0;
		if (!found)
			problem(L, c->string, "unknown field");
	}
	int resumable = get_bool(L, root, "resumable", 0);
	const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "vars");
	if (vars)
		load_vars(L, vars);
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
	if (msgs)
		load_messages(L, msgs);
	const cJSON *kws = cJSON_GetObjectItemCaseSensitive(root, "keywords");
	if (kws)
		load_keywords(L, kws);
	const cJSON *tpls = cJSON_GetObjectItemCaseSensitive(root, "templates");
	if (tpls)
		load_templates(L, tpls);
	int start = get_target(L, root, "start", strcmp(dname, "main") == 0);
	if (strcmp(dname, "main") == 0)
		d->main_start = start;

	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(root, "nodes");
	const cJSON *n;
	cJSON_ArrayForEach(n, nodes)
	{
		char full[128];
		snprintf(full, sizeof(full), "%s.%s", dname, n->string);
		int idx = dlg_find(d, full);
		if (idx < 0 || d->nodes[idx].file != d->names[fi] || d->nodes[idx].kind)
			continue; /* reported in pass 1, or a duplicate key */
		L->node = d->nodes[idx].short_name;
		compile_node(L, &d->nodes[idx], n, resumable);
		static const char *const ch[] = {"ussd", "sms", "chat"};
		int var[DLG_CH_N] = {idx, idx, idx};
		for (int k = 0; k < DLG_CH_N; k++) {
			const cJSON *ov = cJSON_GetObjectItemCaseSensitive(n, ch[k]);
			if (!ov)
				continue;
			if (!cJSON_IsObject(ov)) {
				problem(L, ch[k], "must be an object of fields to override");
				continue;
			}
			var[k] = compile_variant(L, idx, n, ov, ch[k], resumable);
			if (k == DLG_CH_SMS && !cJSON_GetObjectItemCaseSensitive(n, "chat"))
				var[DLG_CH_CHAT] = var[k];
		}
		for (int k = 0; k < DLG_CH_N; k++)
			d->nodes[idx].variant[k] = var[k];
		L->node = "";
	}
}

/* Free a loaded dialog set (NULL is fine). */
void pt_dialogs_free(struct pt_dialogs *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->nnodes; i++)
		pcre2_code_free(d->nodes[i].re);
	for (int i = 0; i < d->ntrees; i++)
		cJSON_Delete(d->trees[i]);
	free(d->trees);
	for (int i = 0; i < d->nblocks; i++)
		free(d->blocks[i]);
	free(d->blocks);
	for (int i = 0; i < d->nnames; i++)
		free(d->names[i]);
	free(d->names);
	free(d->nodes);
	free(d->hash);
	free(d);
}

/* Load and validate every *.json file of dir; NULL (and every problem reported
 * through fn) when anything is wrong. The caller owns the result. */
struct pt_dialogs *pt_dialogs_load(const char *dir, pt_dialog_problem_fn fn, void *ctx,
				   int *nproblems)
{
	struct loader L = {.fn = fn, .ctx = ctx};
	struct pt_dialogs *d = calloc(1, sizeof(*d));
	if (!d) {
		if (nproblems)
			*nproblems = 1;
		return NULL;
	}
	L.d = d;
	d->main_start = -1;
	set_default_messages(d);
	add_known(&L, "nik_masked");
	if (list_files(&L, dir) < 0)
		goto done;
	if (d->nnames == 0) {
		L.file = "main.json";
		problem(&L, "", "no dialog files (*.json) found");
		goto done;
	}
	d->trees = calloc((size_t)d->nnames, sizeof(*d->trees));
	if (!d->trees) {
		L.oom = 1;
		goto done;
	}
	d->ntrees = d->nnames;
	d->captrees = d->nnames;

	/* pass 1: parse, count nodes and variants to size the arrays once, register */
	for (int fi = 0; fi < d->nnames; fi++)
		parse_file(&L, fi, dir);
	int nbase = 0, nvariant = 0;
	for (int fi = 0; fi < d->nnames; fi++) {
		const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(d->trees[fi], "nodes");
		const cJSON *n;
		cJSON_ArrayForEach(n, nodes)
		{
			nbase++;
			nvariant += count_overrides(n);
		}
	}
	d->capnodes = nbase + nvariant > 0 ? nbase + nvariant : 1;
	d->nodes = calloc((size_t)d->capnodes, sizeof(*d->nodes));
	cJSON **trees = realloc(d->trees, (size_t)(d->nnames + nvariant + 1) * sizeof(*trees));
	if (trees) {
		d->trees = trees;
		d->captrees = d->nnames + nvariant + 1;
	}
	d->hashcap = 16;
	while (d->hashcap < (unsigned)d->capnodes * 2)
		d->hashcap <<= 1;
	d->hash = malloc(d->hashcap * sizeof(*d->hash));
	if (!d->nodes || !d->hash || !trees) {
		L.oom = 1;
		goto done;
	}
	memset(d->hash, 0xff, d->hashcap * sizeof(*d->hash));
	for (int fi = 0; fi < d->nnames; fi++)
		register_nodes(&L, fi);

	/* pass 2 and 3: compile nodes, keywords, messages, variables */
	for (int fi = 0; fi < d->nnames; fi++)
		compile_file(&L, fi);

	L.file = "main.json";
	L.node = "";
	if (d->main_start < 0 && dlg_find(d, "main.menu") < 0) {
		int have_main = 0;
		for (int fi = 0; fi < d->nnames; fi++)
			have_main |= strcmp(d->names[fi], "main.json") == 0;
		if (!have_main)
			problem(&L, "", "missing: main.json holds the main menu (\"start\")");
	}

	/* pass 4: templates */
	for (int i = 0; i < L.ntpls; i++)
		check_template(&L, &L.tpls[i]);

done:
	if (L.oom) {
		L.file = "";
		L.node = "";
		problem(&L, "", "out of memory while loading dialogs");
	}
	free(L.known);
	free(L.tpls);
	if (nproblems)
		*nproblems = L.nproblems;
	if (L.nproblems > 0) {
		pt_dialogs_free(d);
		return NULL;
	}
	return d;
}
