/*
 * dialog_render.c - turning a node into the screen a resident sees.
 *
 * Templates: "{var}" is replaced by the variable's value (session variables
 * first, then the host's env->var(), then computed ones: nik_masked); a missing
 * variable renders as nothing. "{?var}...{/var}" keeps the section only when the
 * variable is non-empty, "{!var}...{/var}" only when it is empty. "{{" and "}}"
 * are literal braces. Load-time validation guarantees the syntax.
 *
 * USSD screens never exceed PT_USSD_SCREEN_MAX characters (UTF-8 code points):
 *  - text screens (input, confirm, end) shorten the node's "fit" variables with
 *    "..." until they fit, then, as a last resort, the whole screen is cut;
 *  - menus page: options keep their numbers on every page, "98 Berikutnya"
 *    moves on, "0 Kembali" goes back (on the first page "0" is the menu's own
 *    0 option, if any). Page breaks depend only on the menu's header and
 *    options, never on an error line shown above it, so typing 98 always shows
 *    the options that did not fit; an error line squeezes the header instead.
 * SMS and chat get the same content without paging, folded to GSM-7
 * (pt_gsm7_fold); on SMS any remaining non-GSM character becomes '?', so one
 * stray emoji in a resident's description cannot turn the reply into UCS-2.
 */
#include "dialog_int.h"

#include <stdio.h>
#include <string.h>

#include "pintu/common.h"
#include "pintu/text.h"

#define LIMIT PT_USSD_SCREEN_MAX

/* ---- buffers and characters ---- */

static size_t utf8_back(const char *s, size_t n)
{
	/* largest length <= n that does not split a UTF-8 sequence */
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

void dlg_buf_put(struct dlg_buf *b, const char *s, size_t n)
{
	if (b->len + n >= b->cap) {
		n = b->cap - 1 - b->len;
		if (n > 0 && (((unsigned char)s[n]) & 0xC0) == 0x80)
			n = utf8_back(s, n);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void dlg_buf_str(struct dlg_buf *b, const char *s)
{
	dlg_buf_put(b, s, strlen(s));
}

size_t dlg_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

size_t dlg_prefix_bytes(const char *s, size_t len, size_t max_chars)
{
	size_t chars = 0;
	for (size_t i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (chars == max_chars)
				return i;
			chars++;
		}
	}
	return len;
}

/* Cut b (from byte base) to max_chars characters, ending with "..." if cut. */
static void cut_chars(struct dlg_buf *b, size_t base, size_t max_chars)
{
	size_t n = b->len - base;
	if (dlg_chars(b->p + base, n) <= max_chars)
		return;
	size_t keep = max_chars >= 3 ? max_chars - 3 : 0;
	b->len = base + dlg_prefix_bytes(b->p + base, n, keep);
	/* no trailing space or newline before the dots */
	while (b->len > base && (b->p[b->len - 1] == ' ' || b->p[b->len - 1] == '\n'))
		b->len--;
	b->p[b->len] = '\0';
	dlg_buf_put(b, "...", max_chars >= 3 ? 3 : max_chars);
}

/* ---- texts and variables ---- */

const char *dlg_text_get(const struct dlg_rctx *r, const struct dlg_text *t)
{
	return t->s[r->ch][r->lang];
}

const char *dlg_var_value(const struct dlg_rctx *r, const char *name, size_t nlen, char *tmp,
			  size_t tmpcap)
{
	char key[PT_VAR_KEY_MAX];
	if (nlen >= sizeof(key))
		return NULL;
	memcpy(key, name, nlen);
	key[nlen] = '\0';
	const char *v = pt_session_get(r->s, key);
	if (v)
		return v;
	if (r->env->var) {
		v = r->env->var(r->env->ctx, key);
		if (v)
			return v;
	}
	if (strcmp(key, "nik_masked") == 0 && tmpcap >= 17) {
		const char *nik = pt_session_get(r->s, "nik");
		if (!nik || !*nik)
			return NULL;
		char m[17];
		pt_nik_mask(nik, m);
		memcpy(tmp, m, 17);
		return tmp;
	}
	return NULL;
}

static const struct dlg_fit *find_fit(const struct dlg_fit *fit, int nfit, const char *name,
				      size_t n)
{
	for (int i = 0; i < nfit; i++)
		if (strlen(fit[i].name) == n && memcmp(fit[i].name, name, n) == 0)
			return &fit[i];
	return NULL;
}

void dlg_render_template(const struct dlg_rctx *r, const char *tpl, const struct dlg_fit *fit,
			 int nfit, struct dlg_buf *out)
{
	const char *p = tpl;
	char tmp[32];
	while (*p) {
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			dlg_buf_put(out, p, 1);
			p += 2;
			continue;
		}
		if (*p != '{') {
			const char *q = p;
			while (*q && *q != '{' && *q != '}')
				q++;
			if (q == p)
				q++; /* a lone '}' (rejected at load) */
			dlg_buf_put(out, p, (size_t)(q - p));
			p = q;
			continue;
		}
		const char *e = strchr(p, '}');
		if (!e) {
			dlg_buf_str(out, p);
			return;
		}
		const char *name = p + 1;
		char sigil = 0;
		if (*name == '?' || *name == '!' || *name == '/')
			sigil = *name++;
		size_t n = (size_t)(e - name);
		p = e + 1;
		if (sigil == '/')
			continue;
		const char *v = dlg_var_value(r, name, n, tmp, sizeof(tmp));
		if (sigil) {
			int empty = !v || !*v;
			if (sigil == '?' ? empty : !empty) {
				char needle[PT_VAR_KEY_MAX + 4];
				snprintf(needle, sizeof(needle), "{/%.*s}", (int)n, name);
				const char *close = strstr(p, needle);
				p = close ? close + strlen(needle) : p + strlen(p);
			}
			continue;
		}
		if (!v)
			continue;
		const struct dlg_fit *f = find_fit(fit, nfit, name, n);
		size_t vlen = strlen(v);
		if (f && dlg_chars(v, vlen) > f->max_chars) {
			size_t keep = dlg_prefix_bytes(v, vlen, f->max_chars);
			while (keep > 0 && v[keep - 1] == ' ')
				keep--;
			dlg_buf_put(out, v, keep);
			dlg_buf_put(out, "...", 3);
		} else {
			dlg_buf_put(out, v, vlen);
		}
	}
}

/* Shrinks the fit variables in order, first down to FIT_FLOOR characters each,
 * then further if the screen still does not fit. */
#define FIT_FLOOR 24

void dlg_render_fitted(const struct dlg_rctx *r, const char *tpl, const struct dlg_node *n,
		       size_t limit, struct dlg_buf *out)
{
	size_t base = out->len;
	dlg_render_template(r, tpl, NULL, 0, out);
	size_t total = dlg_chars(out->p + base, out->len - base);
	if (total <= limit || n->nfit == 0)
		return;
	struct dlg_fit fits[DLG_FIT_MAX];
	size_t vlen[DLG_FIT_MAX];
	char tmp[32];
	for (int i = 0; i < n->nfit; i++) {
		const char *v = dlg_var_value(r, n->fit[i], strlen(n->fit[i]), tmp, sizeof(tmp));
		fits[i].name = n->fit[i];
		fits[i].max_chars = (size_t)-1;
		vlen[i] = v ? dlg_chars(v, strlen(v)) : 0;
	}
	for (int pass = 0; pass < 2 && total > limit; pass++) {
		size_t floor = pass == 0 ? FIT_FLOOR : 0;
		for (int i = 0; i < n->nfit && total > limit; i++) {
			size_t shown = fits[i].max_chars < vlen[i] ? fits[i].max_chars + 3 : vlen[i];
			if (shown <= floor + 3)
				continue;
			size_t excess = total - limit;
			size_t want = shown > excess + 3 ? shown - excess - 3 : 0;
			fits[i].max_chars = want > floor ? want : floor;
			out->len = base;
			out->p[base] = '\0';
			dlg_render_template(r, tpl, fits, n->nfit, out);
			total = dlg_chars(out->p + base, out->len - base);
		}
	}
}

/* ---- menus ---- */

struct menu_line {
	int num;
	size_t off, len, chars;
};

struct menu {
	char buf[PT_REPLY_MAX];
	struct dlg_buf b;
	struct menu_line lines[DLG_LIST_MAX + 100];
	int n;     /* numbered lines (without the 0 option) */
	int zero;  /* index of the 0 option's line, or -1 */
	char hbuf[PT_REPLY_MAX];
	struct dlg_buf h; /* header */
	size_t hchars;
};

int dlg_menu_items(const struct dlg_rctx *r, const struct dlg_node *n,
		   struct pt_list_item *items, int max)
{
	if (!n->list)
		return 0;
	if (!r->env->list)
		return PT_ECONFIG;
	int cnt = r->env->list(r->env->ctx, n->list, r->s, items, max);
	if (cnt > max)
		cnt = max;
	return cnt;
}

static void add_line(struct menu *m, int num, const char *label_tpl, const char *label_plain,
		     const struct dlg_rctx *r)
{
	if (m->n + 1 >= (int)PT_ARRAY_LEN(m->lines))
		return;
	size_t start = m->b.len;
	char num_s[24];
	size_t k = pt_i64_dec(num, num_s);
	num_s[k++] = ' ';
	dlg_buf_put(&m->b, num_s, k);
	if (label_tpl)
		dlg_render_template(r, label_tpl, NULL, 0, &m->b);
	else
		dlg_buf_str(&m->b, label_plain);
	struct menu_line ln = {num, start, m->b.len - start, 0};
	ln.chars = dlg_chars(m->b.p + start, ln.len);
	if (num == 0) {
		m->zero = (int)PT_ARRAY_LEN(m->lines) - 1;
		m->lines[m->zero] = ln;
	} else {
		m->lines[m->n++] = ln;
	}
}

static void menu_build(const struct dlg_rctx *r, const struct dlg_node *n,
		       const struct pt_list_item *items, int nitems, struct menu *m)
{
	m->b = (struct dlg_buf){m->buf, 0, sizeof(m->buf)};
	m->buf[0] = '\0';
	m->h = (struct dlg_buf){m->hbuf, 0, sizeof(m->hbuf)};
	m->hbuf[0] = '\0';
	m->n = 0;
	m->zero = -1;
	const char *t = dlg_text_get(r, &n->text);
	if (t)
		dlg_render_template(r, t, NULL, 0, &m->h);
	m->hchars = dlg_chars(m->h.p, m->h.len);
	for (int i = 0; i < nitems; i++) {
		const char *lb = r->lang && items[i].label_en[0] ? items[i].label_en
								 : items[i].label_id;
		add_line(m, i + 1, NULL, lb, r);
	}
	for (int i = 0; i < n->nopts; i++)
		add_line(m, n->opts[i].num, dlg_text_get(r, &n->opts[i].text), NULL, r);
}

/* Cost in characters of a line after the previous content: newline + text. */
static long line_cost(size_t chars)
{
	return 1 + (long)chars;
}

/* Lay out page `page` (clamped): first line index, count and whether a next
 * page exists. hchars is the header width used for the layout. */
static int menu_page(const struct menu *m, long hdr, size_t more_chars, size_t back_chars,
		     int page, int *first, int *count, int *more)
{
	int start = 0, p = 0;
	for (;;) {
		long base = hdr;
		long back = p > 0 ? line_cost(back_chars)
				  : (m->zero >= 0 ? line_cost(m->lines[m->zero].chars) : 0);
		long all = base + back;
		for (int i = start; i < m->n; i++)
			all += line_cost(m->lines[i].chars);
		int cnt;
		int has_more;
		if (all <= LIMIT || start >= m->n) {
			cnt = m->n - start;
			has_more = 0;
		} else {
			long used = base + back + line_cost(more_chars);
			cnt = 0;
			while (start + cnt < m->n &&
			       used + line_cost(m->lines[start + cnt].chars) <= LIMIT) {
				used += line_cost(m->lines[start + cnt].chars);
				cnt++;
			}
			if (cnt == 0)
				cnt = 1;
			has_more = start + cnt < m->n;
		}
		if (p == page || !has_more) {
			*first = start;
			*count = cnt;
			*more = has_more;
			return p;
		}
		start += cnt;
		p++;
	}
}

static void nav_labels(const struct dlg_rctx *r, char *more, size_t mcap, char *back, size_t bcap)
{
	snprintf(more, mcap, "98 %s", dlg_text_get(r, &r->d->msg[DM_MORE]));
	snprintf(back, bcap, "0 %s", dlg_text_get(r, &r->d->msg[DM_BACK]));
}

static long header_width(const struct menu *m)
{
	/* an empty header takes no line, so the first option needs no newline */
	return m->h.len ? (long)m->hchars : -1;
}

int dlg_menu_page_has_more(const struct dlg_rctx *r, const struct dlg_node *n,
			   const struct pt_list_item *items, int nitems, int page)
{
	static _Thread_local struct menu m;
	char more[64], back[64];
	menu_build(r, n, items, nitems, &m);
	nav_labels(r, more, sizeof(more), back, sizeof(back));
	int first, count, has_more;
	int p = menu_page(&m, header_width(&m), dlg_chars(more, strlen(more)),
			  dlg_chars(back, strlen(back)), page, &first, &count, &has_more);
	return p == page ? has_more : 0;
}

static void put_line(struct dlg_buf *out, const struct menu *m, const struct menu_line *l)
{
	if (out->len)
		dlg_buf_put(out, "\n", 1);
	dlg_buf_put(out, m->b.p + l->off, l->len);
}

static int render_menu(const struct dlg_rctx *r, const struct dlg_node *n, const char *pre,
		       struct dlg_buf *out)
{
	struct pt_list_item items[DLG_LIST_MAX];
	int nitems = dlg_menu_items(r, n, items, DLG_LIST_MAX);
	if (nitems < 0)
		return nitems;
	static _Thread_local struct menu m;
	menu_build(r, n, items, nitems, &m);
	size_t base = out->len;
	if (r->ch != DLG_CH_USSD) {
		if (pre && *pre)
			dlg_buf_str(out, pre);
		if (m.h.len) {
			if (out->len > base)
				dlg_buf_put(out, "\n", 1);
			dlg_buf_put(out, m.h.p, m.h.len);
		}
		for (int i = 0; i < m.n; i++)
			put_line(out, &m, &m.lines[i]);
		if (m.zero >= 0)
			put_line(out, &m, &m.lines[m.zero]);
		return PT_OK;
	}
	char more[64], back[64];
	nav_labels(r, more, sizeof(more), back, sizeof(back));
	size_t more_c = dlg_chars(more, strlen(more)), back_c = dlg_chars(back, strlen(back));
	int first, count, has_more;
	int page = menu_page(&m, header_width(&m), more_c, back_c, r->s->page, &first, &count,
			     &has_more);
	r->s->page = page;
	/* what the options need; the rest is the header's budget */
	long need = 0;
	for (int i = first; i < first + count; i++)
		need += line_cost(m.lines[i].chars);
	if (has_more)
		need += line_cost(more_c);
	if (page > 0)
		need += line_cost(back_c);
	else if (m.zero >= 0)
		need += line_cost(m.lines[m.zero].chars);
	long budget = LIMIT - need; /* characters for the header (its own newline counted) */
	size_t pre_c = pre && *pre ? dlg_chars(pre, strlen(pre)) : 0;
	if (pre_c && (long)(pre_c + 1 + m.hchars) <= budget) {
		dlg_buf_str(out, pre);
		dlg_buf_put(out, "\n", 1);
		dlg_buf_put(out, m.h.p, m.h.len);
	} else if (pre_c) {
		dlg_buf_str(out, pre);
		cut_chars(out, base, budget > 3 ? (size_t)budget : 3);
	} else if (m.h.len) {
		dlg_buf_put(out, m.h.p, m.h.len);
		cut_chars(out, base, budget > 3 ? (size_t)budget : 3);
	}
	for (int i = first; i < first + count; i++)
		put_line(out, &m, &m.lines[i]);
	if (has_more) {
		dlg_buf_put(out, "\n", 1);
		dlg_buf_str(out, more);
	}
	if (page > 0) {
		dlg_buf_put(out, "\n", 1);
		dlg_buf_str(out, back);
	} else if (m.zero >= 0) {
		put_line(out, &m, &m.lines[m.zero]);
	}
	return PT_OK;
}

/* ---- other nodes ---- */

static size_t budget_for(const struct dlg_rctx *r)
{
	return r->ch == DLG_CH_USSD ? LIMIT : DLG_SMS_FIT;
}

static void render_text_node(const struct dlg_rctx *r, const struct dlg_node *n, const char *pre,
			     const char *suffix, struct dlg_buf *out)
{
	size_t budget = budget_for(r);
	size_t used = 0;
	if (pre && *pre) {
		dlg_buf_str(out, pre);
		dlg_buf_put(out, "\n", 1);
		used += dlg_chars(pre, strlen(pre)) + 1;
	}
	if (suffix)
		used += dlg_chars(suffix, strlen(suffix));
	const char *t = dlg_text_get(r, &n->text);
	if (t)
		dlg_render_fitted(r, t, n, budget > used ? budget - used : 0, out);
	if (suffix)
		dlg_buf_str(out, suffix);
}

int dlg_render_node(const struct dlg_rctx *r, const struct dlg_node *n, const char *pre,
		    struct dlg_buf *out)
{
	switch (n->kind) {
	case DK_MENU:
		return render_menu(r, n, pre, out);
	case DK_CONFIRM: {
		char suffix[256];
		const char *y = n->yes_label.s[0][0] ? dlg_text_get(r, &n->yes_label)
						     : dlg_text_get(r, &r->d->msg[DM_YES]);
		const char *no = n->no_label.s[0][0] ? dlg_text_get(r, &n->no_label)
						     : dlg_text_get(r, &r->d->msg[DM_NO]);
		snprintf(suffix, sizeof(suffix), "\n1 %s\n2 %s", y, no);
		render_text_node(r, n, pre, suffix, out);
		return PT_OK;
	}
	case DK_INPUT:
	case DK_END:
	case DK_ACTION:
		render_text_node(r, n, pre, NULL, out);
		return PT_OK;
	}
	return PT_EINVAL;
}

/* ---- channel post-processing ---- */

static size_t utf8_seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0)
		return 2;
	if ((c & 0xF0) == 0xE0)
		return 3;
	if ((c & 0xF8) == 0xF0)
		return 4;
	return 1;
}

void dlg_finish(int ch, const char *in, size_t len, struct pt_dialog_out *out)
{
	size_t n = pt_gsm7_fold(in, len, out->text, sizeof(out->text));
	if (n >= sizeof(out->text))
		n = sizeof(out->text) - 1;
	out->text[n] = '\0';
	if (ch == DLG_CH_SMS) {
		size_t pos = 0;
		while (pos < n) {
			long bad = pt_gsm7_first_bad(out->text + pos, n - pos);
			if (bad < 0)
				break;
			size_t at = pos + (size_t)bad;
			size_t sl = utf8_seq_len((unsigned char)out->text[at]);
			if (at + sl > n)
				sl = n - at;
			out->text[at] = '?';
			memmove(out->text + at + 1, out->text + at + sl, n - at - sl + 1);
			n -= sl - 1;
			pos = at + 1;
		}
	}
	if (ch == DLG_CH_USSD && dlg_chars(out->text, n) > LIMIT) {
		struct dlg_buf b = {out->text, n, sizeof(out->text)};
		cut_chars(&b, 0, LIMIT);
		n = b.len;
	}
	out->len = n;
}
