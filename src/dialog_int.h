/*
 * dialog_int.h - private to the dialog engine (dialog.c, dialog_load.c,
 * dialog_render.c): the compiled form of the dialog files.
 *
 * pt_dialogs_load() turns every node of every file into a struct dlg_node whose
 * strings point into the parsed cJSON trees (kept alive until pt_dialogs_free).
 * Targets are resolved to node indices at load, so a step never looks a name up
 * except the session's current node (one hash probe). A node with per-channel
 * overrides ("ussd", "sms", "chat") is compiled once per channel: the base node
 * keeps the name and the hash slot, variant[] says which compiled node to use on
 * each channel (itself when there is no override).
 */
#ifndef PT_DIALOG_INT_H
#define PT_DIALOG_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <cjson/cJSON.h>
#include <pcre2.h>
#include <stddef.h>

#include "pintu/dialog.h"

enum { DLG_CH_USSD = 0, DLG_CH_SMS = 1, DLG_CH_CHAT = 2, DLG_CH_N = 3 };
enum dlg_kind { DK_MENU = 1, DK_INPUT, DK_CONFIRM, DK_ACTION, DK_END };
enum dlg_validate { DV_NONE = 0, DV_NIK, DV_TICKET, DV_DIGITS4, DV_DIGITS };

#define DLG_TARGET_SELF (-2) /* option without "next": stay on the node */
#define DLG_TARGET_CANCEL (-3) /* keyword target "@cancel" */
#define DLG_FIT_MAX 4
#define DLG_LIST_MAX 64      /* items fetched from env->list */
#define DLG_SMS_FIT 300      /* "fit" budget on SMS/chat, characters */

/* A text per channel and language, fallbacks resolved at load. NULL = none. */
struct dlg_text {
	const char *s[DLG_CH_N][2]; /* [channel][0 = id, 1 = en] */
};

struct dlg_kv {
	const char *key;
	const char *val;
};

struct dlg_option {
	int num;                /* what the resident types */
	struct dlg_text text;   /* shown in the menu */
	struct dlg_text label;  /* stored in label_var (defaults to text) */
	int target;             /* node index, or DLG_TARGET_SELF */
	struct dlg_kv *set;
	int nset;
	const char **unset;
	int nunset;
	int lang_toggle;
};

struct dlg_outcome {
	const char *name;       /* "ok", "not_found", "*" */
	int target;
	int retry;              /* re-ask target as after an invalid answer */
	int has_error;
	struct dlg_text error;
};

struct dlg_shortcut {
	const char *input;
	int target;
};

struct dlg_node {
	char name[64];          /* "complaint.nik" */
	const char *file;       /* "complaint.json" */
	const char *short_name; /* "nik" */
	int variant[DLG_CH_N];  /* compiled node per channel */
	enum dlg_kind kind;
	struct dlg_text text, error, yes_label, no_label;
	int has_error;
	int next, yes, no;      /* node indices or -1 */
	const char *skip_if;
	const char *var, *label_var, *list;
	struct dlg_option *opts;
	int nopts;
	int validate;
	pcre2_code *re;
	int allow_skip;
	int max_len;            /* characters kept of an input, 0 = no limit */
	int retries;
	struct dlg_shortcut *shortcuts;
	int nshortcuts;
	const char *action;
	struct dlg_outcome *outs;
	int nouts;
	const char *fit[DLG_FIT_MAX];
	int nfit;
	const char **unset;     /* variables removed on entry */
	int nunset;
	int clear;              /* entry clears every variable */
	int resumable;
	int free_text;
};

struct dlg_keyword {
	const char *word;       /* upper case */
	int target;             /* node index or DLG_TARGET_CANCEL */
	const char *arg;        /* variable for the rest of the message */
	const char *arg_list;   /* match the rest against this list's keys/labels */
	int max_len;
};

enum dlg_msg {
	DM_INVALID, DM_TOO_MANY, DM_CANCELLED, DM_EXPIRED, DM_RESUME, DM_ERROR,
	DM_MORE, DM_BACK, DM_YES, DM_NO, DM_N
};

#define DLG_TEMPLATES_MAX 32

struct pt_dialogs {
	struct dlg_node *nodes;
	int nnodes, capnodes;
	int *hash;              /* open addressing over base nodes, -1 empty */
	unsigned hashcap;       /* power of two */
	int main_start;
	struct dlg_keyword *kw;
	int nkw;
	struct dlg_text msg[DM_N];
	/* named texts the host renders outside a conversation ("templates") */
	const char *tpl_name[DLG_TEMPLATES_MAX];
	struct dlg_text tpl[DLG_TEMPLATES_MAX];
	int ntpl;
	cJSON **trees;          /* one per file, then merged variant nodes */
	int ntrees, captrees;
	void **blocks;          /* every other allocation, freed together */
	int nblocks, capblocks;
	char **names;           /* file names (basename) */
	int nnames;
};

/* Index of the node called name ("dialog.node"), or -1. */
int dlg_find(const struct pt_dialogs *d, const char *name);

/* Small growable-free output buffer with a hard cap; never overflows. */
struct dlg_buf {
	char *p;
	size_t len, cap;
};
void dlg_buf_put(struct dlg_buf *b, const char *s, size_t n);
void dlg_buf_str(struct dlg_buf *b, const char *s);

struct dlg_fit {
	const char *name;
	size_t max_chars;
};

/* Everything a renderer needs for one step. */
struct dlg_rctx {
	const struct pt_dialogs *d;
	const struct pt_dialog_env *env;
	struct pt_session *s;
	int ch;   /* DLG_CH_* */
	int lang; /* 0 id, 1 en */
};

const char *dlg_text_get(const struct dlg_rctx *r, const struct dlg_text *t);
/* Value of a template variable: session, then env->var, then computed ones.
 * tmp (>= 32 bytes) holds computed values. NULL when unknown. */
const char *dlg_var_value(const struct dlg_rctx *r, const char *name, size_t nlen, char *tmp,
			  size_t tmpcap);
/* Render a template ({var}, {?var}..{/var}, {!var}..{/var}, {{ and }}). */
void dlg_render_template(const struct dlg_rctx *r, const char *tpl, const struct dlg_fit *fit,
			 int nfit, struct dlg_buf *out);
/* Render a template so it fits in limit characters, shortening the node's
 * "fit" variables with "..." first. */
void dlg_render_fitted(const struct dlg_rctx *r, const char *tpl, const struct dlg_node *n,
		       size_t limit, struct dlg_buf *out);
/* Render the screen of node n (menu/input/confirm/end) with an optional line
 * (error or notice) before it. */
int dlg_render_node(const struct dlg_rctx *r, const struct dlg_node *n, const char *pre,
		    struct dlg_buf *out);
/* Screen of a menu: fetches dynamic items. Returns count of numbered items or
 * a negative PT_E code from env->list. */
int dlg_menu_items(const struct dlg_rctx *r, const struct dlg_node *n,
		   struct pt_list_item *items, int max);
/* 1 when USSD page p of menu n has a next page ("98" is valid there). */
int dlg_menu_page_has_more(const struct dlg_rctx *r, const struct dlg_node *n,
			   const struct pt_list_item *items, int nitems, int page);
/* Apply channel post-processing: GSM-7 fold (SMS/chat), non-GSM characters to
 * '?' (SMS), hard cap of PT_USSD_SCREEN_MAX characters (USSD). */
void dlg_finish(int ch, const char *in, size_t len, struct pt_dialog_out *out);
/* Number of UTF-8 characters. */
size_t dlg_chars(const char *s, size_t len);
/* Byte length of the first max_chars characters of s. */
size_t dlg_prefix_bytes(const char *s, size_t len, size_t max_chars);

#endif
