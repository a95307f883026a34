/*
 * dialog.c - the conversation engine: one resident input in, one screen out.
 *
 * A session rests only on nodes that ask something (menu, input, confirm);
 * action nodes run and branch on their outcome, end nodes answer and make the
 * session idle (node "", every variable cleared, language kept). One step:
 *
 *   USSD, first round of a provider session: if the stored session rests on a
 *     resumable node and was updated within env->ussd_resume_ms, offer
 *     "Lanjutkan pengaduan sebelumnya? 1 Ya 2 Mulai baru" (pseudo node
 *     "@resume", the node to resume in variable "_resume"); else main menu.
 *   SMS/chat: a non-idle session older than env->sms_expiry_ms is reset and the
 *     reply starts with the "expired" notice. Then, if the message starts with a
 *     keyword (ADUAN, CEK, INFO, MENU, BATAL, ... from the dialog files), the
 *     conversation restarts at the keyword's target with the rest of the message
 *     preset in its variable. At an input node marked free_text a keyword counts
 *     only when it is the whole message, so a description that begins with
 *     "Status ..." or "Info ..." is not hijacked.
 *   Otherwise the input goes to the current node (or the main menu when idle).
 *
 * Invalid answers show the node's error (or the "invalid" message) above the
 * same question. Each node allows `retries` re-asks (default 3); one more
 * invalid answer ends the session with the "too_many" message. An action
 * outcome marked "retry" counts the same way when it returns to the node the
 * resident just answered. A failing action (negative return) restores the
 * session, answers with the "error" message and returns the code, so the host
 * does not commit.
 *
 * No allocation and no I/O per step except what env callbacks do; node lookup
 * is one hash probe; transitions are indices resolved at load.
 */
#include "dialog_int.h"

#include <stdio.h>
#include <string.h>

#include "pintu/common.h"
#include "pintu/text.h"

#define MAX_HOPS 32
#define RESUME_NODE "@resume"
#define RESUME_VAR "_resume"

struct step {
	const struct pt_dialogs *d;
	const struct pt_dialog_env *env;
	struct pt_session *s;
	struct dlg_rctx r;
	int origin;         /* node the input was given at, -1 when none */
	int origin_retries; /* its retry count before this step */
	char notice[512];   /* SMS: "session expired" line before the screen */
	char screen[PT_REPLY_MAX];
	struct dlg_buf out;
	int end;
};

static int chan_index(enum pt_chan_kind k)
{
	switch (k) {
	case PT_CHAN_USSD: return DLG_CH_USSD;
	case PT_CHAN_CHAT: return DLG_CH_CHAT;
	case PT_CHAN_SMS: return DLG_CH_SMS;
	}
	return DLG_CH_SMS;
}

static const struct dlg_node *node_at(const struct step *st, int idx)
{
	const struct dlg_node *base = &st->d->nodes[idx];
	return &st->d->nodes[base->variant[st->r.ch]];
}

static void session_reset(struct pt_session *s)
{
	s->node[0] = '\0';
	s->retries = 0;
	s->page = 0;
	s->nvars = 0;
}

static void session_copy(struct pt_session *dst, const struct pt_session *src)
{
	memcpy(dst->node, src->node, sizeof(dst->node));
	memcpy(dst->lang, src->lang, sizeof(dst->lang));
	dst->retries = src->retries;
	dst->page = src->page;
	dst->updated_ms = src->updated_ms;
	dst->nvars = src->nvars;
	for (int i = 0; i < src->nvars; i++)
		dst->vars[i] = src->vars[i];
}

static void set_lang(struct step *st)
{
	st->r.lang = strcmp(st->s->lang, "en") == 0;
}

/* Store a value, cut to the variable cap at a character boundary. */
static void set_var(struct pt_session *s, const char *key, const char *val, size_t len)
{
	char buf[PT_VAR_VAL_MAX];
	if (len >= sizeof(buf)) {
		len = sizeof(buf) - 1;
		while (len > 0 && ((unsigned char)val[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(buf, val, len);
	buf[len] = '\0';
	if (pt_session_set(s, key, buf) < 0)
		pt_log(PT_LOG_WARN, "dialog_var_full", "key=%s nvars=%d", key, s->nvars);
}

static void trim(const char **p, size_t *len)
{
	const char *s = *p;
	size_t n = *len;
	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
			 s[n - 1] == '\n'))
		n--;
	*p = s;
	*len = n;
}

/* "1", " 1 ", "1.", "1)" -> 1; anything else -> -1. */
static int parse_choice(const char *s, size_t len)
{
	trim(&s, &len);
	while (len > 0 && (s[len - 1] == '.' || s[len - 1] == ')'))
		len--;
	if (len == 0 || len > 3)
		return -1;
	int v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* A chat keyboard button sends the whole option line, "1 Sampaikan pengaduan".
 * Split such an answer into its number and the rest; -1 when it is not one. */
static int split_button(const char *s, size_t len, const char **rest, size_t *rlen)
{
	trim(&s, &len);
	size_t i = 0;
	int v = 0;
	while (i < len && i < 3 && s[i] >= '0' && s[i] <= '9')
		v = v * 10 + (s[i++] - '0');
	if (i == 0 || i >= len || s[i] != ' ')
		return -1;
	*rest = s + i;
	*rlen = len - i;
	trim(rest, rlen);
	return v;
}

/* Case-insensitive equality of a typed label with an option's label. */
static int label_is(const char *a, size_t alen, const char *label)
{
	if (!label || strlen(label) != alen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		if (((unsigned char)a[i] | 0x20) != ((unsigned char)label[i] | 0x20))
			return 0;
	return 1;
}

static int word_is(const char *s, size_t len, const char *const *words)
{
	for (; *words; words++) {
		size_t n = strlen(*words);
		if (n != len)
			continue;
		size_t i = 0;
		while (i < n && (s[i] | 0x20) == ((*words)[i] | 0x20))
			i++;
		if (i == n)
			return 1;
	}
	return 0;
}

/* ---- rendering helpers ---- */

static void render_msg(struct step *st, int m, struct dlg_buf *b)
{
	dlg_render_template(&st->r, dlg_text_get(&st->r, &st->d->msg[m]), NULL, 0, b);
}

/* Show a final message; the session becomes idle. */
static int finish_with(struct step *st, int m)
{
	session_reset(st->s);
	render_msg(st, m, &st->out);
	st->end = 1;
	return PT_OK;
}

static int show_node(struct step *st, int idx, const struct dlg_text *error)
{
	char pre[1024];
	struct dlg_buf pb = {pre, 0, sizeof(pre)};
	pre[0] = '\0';
	if (error)
		dlg_render_template(&st->r, dlg_text_get(&st->r, error), NULL, 0, &pb);
	return dlg_render_node(&st->r, node_at(st, idx), pre, &st->out);
}

static const struct dlg_text *error_text(const struct step *st, const struct dlg_node *n)
{
	return n->has_error ? &n->error : &st->d->msg[DM_INVALID];
}

/* An invalid answer at the current node: same question with the error, or the
 * polite end when the re-asks are used up. */
static int invalid(struct step *st, int idx, const struct dlg_text *error)
{
	const struct dlg_node *n = node_at(st, idx);
	if (st->s->retries + 1 > n->retries)
		return finish_with(st, DM_TOO_MANY);
	st->s->retries++;
	return show_node(st, idx, error ? error : error_text(st, n));
}

/* ---- transitions ---- */

static int find_outcome(const struct dlg_node *n, const char *name)
{
	int star = -1;
	for (int i = 0; i < n->nouts; i++) {
		if (strcmp(n->outs[i].name, name) == 0)
			return i;
		if (strcmp(n->outs[i].name, "*") == 0)
			star = i;
	}
	return star;
}

/* Go to target and run until a node that waits for the resident (or an end).
 * error/retry: the target is re-asked after a failed answer (skip_if, clear and
 * unset are not applied; retry counts against the node's limit). */
static int enter(struct step *st, int target, const struct dlg_text *error, int retry)
{
	struct pt_session *s = st->s;
	for (int hops = 0; hops < MAX_HOPS; hops++) {
		if (target < 0)
			return PT_ESTATE;
		const struct dlg_node *n = node_at(st, target);
		int forced = error != NULL || retry;
		if (!forced) {
			if (n->clear)
				s->nvars = 0;
			for (int i = 0; i < n->nunset; i++)
				pt_session_unset(s, n->unset[i]);
			if (n->skip_if) {
				const char *v = pt_session_get(s, n->skip_if);
				if (v && *v) {
					target = n->next;
					continue;
				}
			}
		}
		if (n->kind == DK_ACTION) {
			char outcome[64] = "";
			if (!st->env->action)
				return PT_ECONFIG;
			int rc = st->env->action(st->env->ctx, n->action, s, outcome, sizeof(outcome));
			if (rc < 0)
				return rc;
			int o = find_outcome(n, outcome);
			if (o < 0) {
				pt_log(PT_LOG_ERROR, "dialog_outcome", "node=%s action=%s outcome=\"%.40s\"",
				       n->name, n->action, outcome);
				return PT_ESTATE;
			}
			const struct dlg_outcome *oc = &n->outs[o];
			error = oc->has_error ? &oc->error : NULL;
			retry = oc->retry;
			target = oc->target;
			set_lang(st);
			continue;
		}
		if (n->kind == DK_END) {
			int rc = dlg_render_node(&st->r, n, NULL, &st->out);
			session_reset(s);
			st->end = 1;
			return rc;
		}
		if (retry) {
			int r = target == st->origin ? st->origin_retries + 1 : 1;
			if (r > n->retries)
				return finish_with(st, DM_TOO_MANY);
			s->retries = r;
			if (!error)
				error = error_text(st, n);
		} else {
			s->retries = 0;
		}
		pt_strlcpy(s->node, n->name, sizeof(s->node));
		s->page = 0;
		return show_node(st, target, error);
	}
	pt_log(PT_LOG_ERROR, "dialog_loop", "node=%s hops=%d", st->s->node, MAX_HOPS);
	return PT_ESTATE;
}

static int enter_main(struct step *st)
{
	session_reset(st->s);
	return enter(st, st->d->main_start, NULL, 0);
}

/* ---- answers per node kind ---- */

static void apply_option(struct step *st, const struct dlg_node *n, const struct dlg_option *o)
{
	struct pt_session *s = st->s;
	for (int i = 0; i < o->nunset; i++)
		pt_session_unset(s, o->unset[i]);
	for (int i = 0; i < o->nset; i++)
		set_var(s, o->set[i].key, o->set[i].val, strlen(o->set[i].val));
	if (n->label_var) {
		const char *lb = dlg_text_get(&st->r, &o->label);
		if (lb)
			set_var(s, n->label_var, lb, strlen(lb));
	}
	if (o->lang_toggle) {
		memcpy(s->lang, st->r.lang ? "id" : "en", 3);
		set_lang(st);
	}
}

static int answer_menu(struct step *st, int idx, const char *in, size_t len)
{
	const struct dlg_node *n = node_at(st, idx);
	struct pt_session *s = st->s;
	struct pt_list_item items[DLG_LIST_MAX];
	int nitems = dlg_menu_items(&st->r, n, items, DLG_LIST_MAX);
	if (nitems < 0)
		return nitems;
	int num = parse_choice(in, len);
	const char *rest;
	size_t rlen;
	int b = num < 0 ? split_button(in, len, &rest, &rlen) : -1;
	if (b >= 1 && b <= nitems) { /* "<n> <label>" from a keyboard button */
		const struct pt_list_item *it = &items[b - 1];
		if (label_is(rest, rlen, it->label_id) || label_is(rest, rlen, it->label_en))
			num = b;
	}
	for (int i = 0; b >= 0 && num < 0 && i < n->nopts; i++)
		if (n->opts[i].num == b && label_is(rest, rlen, dlg_text_get(&st->r, &n->opts[i].text)))
			num = b;
	if (st->r.ch == DLG_CH_USSD) {
		if (num == 98 && dlg_menu_page_has_more(&st->r, n, items, nitems, s->page)) {
			s->page++;
			return show_node(st, idx, NULL);
		}
		if (num == 0 && s->page > 0) {
			s->page--;
			return show_node(st, idx, NULL);
		}
	}
	if (num >= 1 && num <= nitems) {
		const struct pt_list_item *it = &items[num - 1];
		set_var(s, n->var, it->key, strlen(it->key));
		if (n->label_var) {
			const char *lb = st->r.lang && it->label_en[0] ? it->label_en : it->label_id;
			set_var(s, n->label_var, lb, strlen(lb));
		}
		return enter(st, n->next, NULL, 0);
	}
	for (int i = 0; num >= 0 && i < n->nopts; i++) {
		const struct dlg_option *o = &n->opts[i];
		if (o->num != num)
			continue;
		apply_option(st, n, o);
		return enter(st, o->target == DLG_TARGET_SELF ? idx : o->target, NULL, 0);
	}
	return invalid(st, idx, NULL);
}

static int match_pattern(const pcre2_code *re, const char *in, size_t len)
{
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	if (!md)
		return PT_ENOMEM;
	int rc = pcre2_match(re, (PCRE2_SPTR)in, len, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

/* Remove spaces (and dashes/dots for digit checks) into out; 0 when not all digits. */
static size_t only_digits(const char *in, size_t len, char *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == ' ' || c == '-' || c == '.')
			continue;
		if (c < '0' || c > '9' || k + 1 >= cap)
			return 0;
		out[k++] = c;
	}
	out[k] = '\0';
	return k;
}

static int answer_input(struct step *st, int idx, const char *in, size_t len)
{
	const struct dlg_node *n = node_at(st, idx);
	struct pt_session *s = st->s;
	trim(&in, &len);
	for (int i = 0; i < n->nshortcuts; i++) {
		const char *w[] = {n->shortcuts[i].input, NULL};
		if (word_is(in, len, w))
			return enter(st, n->shortcuts[i].target, NULL, 0);
	}
	if (n->allow_skip && len == 1 && in[0] == '0') {
		pt_session_unset(s, n->var);
		return enter(st, n->next, NULL, 0);
	}
	if (len == 0)
		return invalid(st, idx, NULL);
	if (n->re) {
		int m = match_pattern(n->re, in, len);
		if (m < 0)
			return m;
		if (!m)
			return invalid(st, idx, NULL);
	}
	char val[PT_VAR_VAL_MAX];
	const char *v = in;
	size_t vlen = len;
	switch (n->validate) {
	case DV_NIK:
		if (pt_nik_validate(in, len, val) != PT_NIK_OK)
			return invalid(st, idx, NULL);
		v = val;
		vlen = 16;
		break;
	case DV_TICKET:
		if (pt_ticket_parse(in, len, val) != PT_OK)
			return invalid(st, idx, NULL);
		v = val;
		vlen = 8;
		break;
	case DV_DIGITS4:
	case DV_DIGITS:
		vlen = only_digits(in, len, val, sizeof(val));
		if (vlen == 0 || (n->validate == DV_DIGITS4 && vlen != 4))
			return invalid(st, idx, NULL);
		v = val;
		break;
	default:
		break;
	}
	if (n->max_len > 0)
		vlen = dlg_prefix_bytes(v, vlen, (size_t)n->max_len);
	set_var(s, n->var, v, vlen);
	return enter(st, n->next, NULL, 0);
}

static int answer_confirm(struct step *st, int idx, const char *in, size_t len)
{
	static const char *const yes[] = {"1", "YA", "Y", "YES", "OK", "IYA", NULL};
	static const char *const no[] = {"2", "TIDAK", "T", "NO", "N", "BUKAN", "GAK", NULL};
	const struct dlg_node *n = node_at(st, idx);
	const char *rest;
	size_t rlen;
	int b = split_button(in, len, &rest, &rlen);
	if ((b == 1 || b == 2) && rlen <= 24) { /* a "1 Ya" / "2 Batal" button */
		in = b == 1 ? "1" : "2";
		len = 1;
	}
	trim(&in, &len);
	while (len > 0 && (in[len - 1] == '.' || in[len - 1] == '!'))
		len--;
	if (word_is(in, len, yes))
		return enter(st, n->yes, NULL, 0);
	if (word_is(in, len, no))
		return enter(st, n->no, NULL, 0);
	return invalid(st, idx, NULL);
}

static int answer(struct step *st, int idx, const char *in, size_t len)
{
	st->origin = idx;
	st->origin_retries = st->s->retries;
	switch (node_at(st, idx)->kind) {
	case DK_MENU: return answer_menu(st, idx, in, len);
	case DK_INPUT: return answer_input(st, idx, in, len);
	case DK_CONFIRM: return answer_confirm(st, idx, in, len);
	default: return enter(st, idx, NULL, 0); /* never rests here; run it again */
	}
}

/* ---- USSD resume ---- */

static int resume_target(const struct step *st)
{
	const char *name = st->s->node;
	if (strcmp(name, RESUME_NODE) == 0)
		name = pt_session_get(st->s, RESUME_VAR);
	return name ? dlg_find(st->d, name) : -1;
}

static int show_resume(struct step *st, const struct dlg_text *error)
{
	if (error) {
		dlg_render_template(&st->r, dlg_text_get(&st->r, error), NULL, 0, &st->out);
		dlg_buf_put(&st->out, "\n", 1);
	}
	render_msg(st, DM_RESUME, &st->out);
	return PT_OK;
}

static int offer_resume(struct step *st, int idx)
{
	struct pt_session *s = st->s;
	set_var(s, RESUME_VAR, st->d->nodes[idx].name, strlen(st->d->nodes[idx].name));
	pt_strlcpy(s->node, RESUME_NODE, sizeof(s->node));
	s->retries = 0;
	return show_resume(st, NULL);
}

static int answer_resume(struct step *st, const char *in, size_t len)
{
	struct pt_session *s = st->s;
	int idx = resume_target(st);
	int c = parse_choice(in, len);
	if (c == 1 && idx >= 0) {
		pt_strlcpy(s->node, st->d->nodes[idx].name, sizeof(s->node));
		pt_session_unset(s, RESUME_VAR);
		s->retries = 0;
		return show_node(st, idx, NULL);
	}
	if (c == 2 || idx < 0)
		return enter_main(st);
	if (s->retries + 1 > 3)
		return finish_with(st, DM_TOO_MANY);
	s->retries++;
	return show_resume(st, &st->d->msg[DM_INVALID]);
}

static int ussd_first(struct step *st)
{
	struct pt_session *s = st->s;
	if (s->node[0]) {
		int idx = resume_target(st);
		int64_t age = st->env->now_ms - s->updated_ms;
		if (idx >= 0 && node_at(st, idx)->resumable && s->updated_ms > 0 && age >= 0 &&
		    age < st->env->ussd_resume_ms) {
			if (strcmp(s->node, RESUME_NODE) != 0)
				return offer_resume(st, idx);
			s->retries = 0;
			return show_resume(st, NULL);
		}
	}
	return enter_main(st);
}

/* ---- SMS keywords ---- */

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The keyword the message starts with, or NULL; arg and arglen get the rest. */
static const struct dlg_keyword *find_keyword(const struct pt_dialogs *d, const char *in, size_t len,
					      const char **arg, size_t *arglen)
{
	if (d->nkw == 0)
		return NULL;
	char norm[64];
	size_t n = pt_text_normalize(in, len < 48 ? len : 48, norm, sizeof(norm));
	if (n >= sizeof(norm))
		n = sizeof(norm) - 1;
	norm[n] = '\0';
	size_t w = 0;
	while (w < n && norm[w] >= 'A' && norm[w] <= 'Z')
		w++;
	if (w == 0 || (w < n && norm[w] != ' ' && !(norm[w] >= '0' && norm[w] <= '9')))
		return NULL;
	const struct dlg_keyword *kw = NULL;
	for (int i = 0; i < d->nkw; i++) {
		if (strlen(d->kw[i].word) == w && memcmp(d->kw[i].word, norm, w) == 0) {
			kw = &d->kw[i];
			break;
		}
	}
	if (!kw)
		return NULL;
	/* the same word in the original text, then the separators after it */
	size_t i = 0;
	while (i < len && !is_alnum(in[i]))
		i++;
	i += w;
	while (i < len && !is_alnum(in[i]) && ((unsigned char)in[i] < 0x80) && in[i] != '"' &&
	       in[i] != '(')
		i++;
	const char *a = in + (i < len ? i : len);
	size_t al = i < len ? len - i : 0;
	trim(&a, &al);
	*arg = a;
	*arglen = al;
	return kw;
}

static void preset_from_list(struct step *st, const struct dlg_keyword *kw, const char *arg,
			     size_t alen)
{
	struct pt_list_item items[DLG_LIST_MAX];
	if (!st->env->list)
		return;
	int n = st->env->list(st->env->ctx, kw->arg_list, st->s, items, DLG_LIST_MAX);
	if (n <= 0)
		return;
	if (n > DLG_LIST_MAX)
		n = DLG_LIST_MAX;
	/* keys, Indonesian labels, English labels: matched separately so an item
	 * never ties with itself; the best score wins, earlier arrays on equal score */
	const char *cands[3][DLG_LIST_MAX];
	for (int i = 0; i < n; i++) {
		cands[0][i] = items[i].key;
		cands[1][i] = items[i].label_id;
		cands[2][i] = items[i].label_en[0] ? items[i].label_en : NULL;
	}
	int best = -1, best_score = 0;
	for (int k = 0; k < 3; k++) {
		int score = 0;
		int m = pt_text_match(arg, alen, cands[k], (size_t)n, &score);
		if (m >= 0 && score > best_score) {
			best = m;
			best_score = score;
		}
	}
	if (best >= 0)
		set_var(st->s, kw->arg, items[best].key, strlen(items[best].key));
}

static int run_keyword(struct step *st, const struct dlg_keyword *kw, const char *arg, size_t alen)
{
	if (kw->target == DLG_TARGET_CANCEL)
		return finish_with(st, DM_CANCELLED);
	session_reset(st->s);
	if (kw->arg && alen > 0) {
		if (kw->arg_list) {
			preset_from_list(st, kw, arg, alen);
		} else {
			if (kw->max_len > 0)
				alen = dlg_prefix_bytes(arg, alen, (size_t)kw->max_len);
			set_var(st->s, kw->arg, arg, alen);
		}
	}
	return enter(st, kw->target, NULL, 0);
}

/* ---- the step ---- */

static int current_node(struct step *st)
{
	struct pt_session *s = st->s;
	if (!s->node[0] || strcmp(s->node, RESUME_NODE) == 0)
		return -1;
	int idx = dlg_find(st->d, s->node);
	if (idx < 0) {
		/* the dialogs changed under a stored session: start over */
		pt_log(PT_LOG_INFO, "dialog_stale_node", "node=%.60s", s->node);
		session_reset(s);
	}
	return idx;
}

static int step_text(struct step *st, const char *in, size_t len)
{
	struct pt_session *s = st->s;
	int64_t age = st->env->now_ms - s->updated_ms;
	if (s->node[0] && s->updated_ms > 0 && age >= st->env->sms_expiry_ms) {
		session_reset(s);
		struct dlg_buf nb = {st->notice, 0, sizeof(st->notice)};
		render_msg(st, DM_EXPIRED, &nb);
	}
	if (strcmp(s->node, RESUME_NODE) == 0)
		session_reset(s);
	int idx = current_node(st);
	const char *arg = NULL;
	size_t alen = 0;
	const struct dlg_keyword *kw = find_keyword(st->d, in, len, &arg, &alen);
	if (kw && idx >= 0 && alen > 0 && node_at(st, idx)->free_text)
		kw = NULL;
	if (kw)
		return run_keyword(st, kw, arg, alen);
	if (idx < 0)
		return enter_main(st);
	return answer(st, idx, in, len);
}

static int step_ussd(struct step *st, const char *in, size_t len, int first)
{
	if (first)
		return ussd_first(st);
	if (strcmp(st->s->node, RESUME_NODE) == 0)
		return answer_resume(st, in, len);
	int idx = current_node(st);
	if (idx < 0)
		return enter_main(st);
	return answer(st, idx, in, len);
}

/* One resident input in, one screen out (see the top of this file). On a
 * negative return s is restored and out holds the polite apology. */
int pt_dialog_step(const struct pt_dialogs *d, const struct pt_dialog_env *env,
		   struct pt_session *s, const char *input, size_t len, int first,
		   struct pt_dialog_out *out)
{
	static _Thread_local struct step st;
	static _Thread_local struct pt_session backup;
	st.d = d;
	st.env = env;
	st.s = s;
	st.r = (struct dlg_rctx){d, env, s, chan_index(env->chan), 0};
	st.origin = -1;
	st.origin_retries = 0;
	st.notice[0] = '\0';
	st.screen[0] = '\0';
	st.out = (struct dlg_buf){st.screen, 0, sizeof(st.screen)};
	st.end = 0;
	out->end = 0;
	if (!input)
		len = 0;
	if (len > PT_TEXT_MAX)
		len = PT_TEXT_MAX;
	const char *in = input ? input : "";
	trim(&in, &len);
	if (strcmp(s->lang, "id") != 0 && strcmp(s->lang, "en") != 0)
		memcpy(s->lang, "id", 3);
	set_lang(&st);
	session_copy(&backup, s);

	int rc;
	if (d->main_start < 0)
		rc = PT_ECONFIG;
	else if (st.r.ch == DLG_CH_USSD)
		rc = step_ussd(&st, in, len, first);
	else
		rc = step_text(&st, in, len);

	if (rc < 0) {
		pt_log(PT_LOG_ERROR, "dialog_step_failed", "node=%.60s err=%s", backup.node,
		       pt_strerror(rc));
		session_copy(s, &backup);
		set_lang(&st);
		st.out.len = 0;
		st.screen[0] = '\0';
		render_msg(&st, DM_ERROR, &st.out);
		dlg_finish(st.r.ch, st.screen, st.out.len, out);
		out->end = 1;
		return rc;
	}
	s->updated_ms = env->now_ms;
	if (st.notice[0]) {
		/* the notice goes first: rebuild screen = notice + "\n" + screen */
		char tmp[PT_REPLY_MAX];
		int n = snprintf(tmp, sizeof(tmp), "%s\n%s", st.notice, st.screen);
		size_t tl = n < 0 ? 0 : (size_t)n >= sizeof(tmp) ? sizeof(tmp) - 1 : (size_t)n;
		dlg_finish(st.r.ch, tmp, tl, out);
	} else {
		dlg_finish(st.r.ch, st.screen, st.out.len, out);
	}
	out->end = st.end;
	return PT_OK;
}

/* Render the named template of the dialog files (a notification, outside any
 * conversation) in s->lang for env->chan, with s's variables and the host's. */
int pt_dialog_template(const struct pt_dialogs *d, const struct pt_dialog_env *env,
		       struct pt_session *s, const char *name, struct pt_dialog_out *out)
{
	int i = 0;
	while (i < d->ntpl && strcmp(d->tpl_name[i], name) != 0)
		i++;
	out->text[0] = '\0';
	out->len = 0;
	out->end = 1;
	if (i == d->ntpl)
		return PT_ENOTFOUND;
	struct dlg_rctx r = { d, env, s, chan_index(env->chan), strcmp(s->lang, "en") == 0 };
	char buf[PT_REPLY_MAX];
	struct dlg_buf b = { buf, 0, sizeof(buf) };
	const char *tpl = dlg_text_get(&r, &d->tpl[i]);
	dlg_render_template(&r, tpl ? tpl : "", NULL, 0, &b);
	dlg_finish(r.ch, buf, b.len, out);
	return PT_OK;
}

/* 1 when the message starts with one of the dialog files' SMS keywords. */
int pt_dialog_is_keyword(const struct pt_dialogs *d, const char *in, size_t len)
{
	const char *arg;
	size_t alen;
	return find_keyword(d, in, len, &arg, &alen) != NULL;
}
