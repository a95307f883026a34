/*
 * dialog.h - the conversation engine: dialogs as data (JSON files in dialogs/), one
 * resident input in, one screen out.
 *
 * The engine owns the channel behaviour of a conversation: numbered menus,
 * USSD paging ("98 Berikutnya" / "0 Kembali", never more than 182 characters a
 * screen), input validation with PCRE2 patterns and retry limits, confirm
 * screens, actions, language switch (id/en), SMS keywords, USSD resume within
 * the resume window, SMS expiry after inactivity. It knows nothing of SQLite or
 * HTTP: data it needs from the deployment (lists, office variables) and effects
 * (create a ticket, look up a status) go through struct pt_dialog_env.
 *
 * A session is plain data (struct pt_session) that the caller loads and saves
 * around each step (serialised with pt_session_to_json/from_json).
 */
#ifndef PT_DIALOG_H
#define PT_DIALOG_H

#include <stddef.h>
#include <stdint.h>

#include "pintu/msg.h"

#define PT_USSD_SCREEN_MAX 182
#define PT_VARS_MAX 32
#define PT_VAR_KEY_MAX 32
#define PT_VAR_VAL_MAX 512

struct pt_var {
	char key[PT_VAR_KEY_MAX];
	char val[PT_VAR_VAL_MAX];
};

/* One resident's conversation on one channel. node == "" means idle. */
struct pt_session {
	char node[64];      /* current node, "<dialog>.<node>" */
	char lang[4];       /* "id" (default) or "en" */
	int retries;        /* invalid inputs at the current node */
	int page;           /* USSD menu page at the current node */
	int64_t updated_ms; /* last step (for resume/expiry) */
	int nvars;
	struct pt_var vars[PT_VARS_MAX];
};

void pt_session_init(struct pt_session *s);
const char *pt_session_get(const struct pt_session *s, const char *key); /* NULL if unset */
/* Set (or replace) a variable; PT_ETOOBIG if the value or the table is full. */
int pt_session_set(struct pt_session *s, const char *key, const char *val);
void pt_session_unset(struct pt_session *s, const char *key);
/* Serialise to compact JSON; returns length or PT_ETOOBIG. */
int pt_session_to_json(const struct pt_session *s, char *buf, size_t cap);
/* Parse what pt_session_to_json wrote; PT_EINVAL on garbage (s is then reset). */
int pt_session_from_json(struct pt_session *s, const char *json, size_t len);

/* An entry of a dynamic list (programs, kecamatan, kelurahan, ...). */
struct pt_list_item {
	char key[64];       /* stored in the variable when chosen, e.g. "PKH" */
	char label_id[128]; /* shown to the resident, Bahasa Indonesia */
	char label_en[128]; /* English ("" = same as label_id) */
};

/* What the engine needs from its host. Every callback gets ctx. */
struct pt_dialog_env {
	enum pt_chan_kind chan; /* renders for USSD / SMS / chat */
	void *ctx;
	int64_t now_ms;
	int64_t ussd_resume_ms;  /* offer to resume a dropped USSD conversation within this (30 min) */
	int64_t sms_expiry_ms;   /* SMS conversation expires after this much inactivity */

	/* Fill up to max items of the named list; returns the count (>= 0) or a
	 * negative PT_E code. Lists: "programs", "kecamatan", "kelurahan" (those of
	 * the kecamatan in variable "kecamatan"), and any other the host offers. */
	int (*list)(void *ctx, const char *name, const struct pt_session *s,
		    struct pt_list_item *items, int max);

	/* Run a named action. It may read and set session variables. It writes the
	 * outcome name (e.g. "ok", "not_found", "need_nik4") to outcome; the dialog
	 * file maps outcomes to next nodes. Returns PT_OK, or a negative PT_E code for
	 * an internal failure (the engine then answers with a polite error and the
	 * caller must not commit). */
	int (*action)(void *ctx, const char *name, struct pt_session *s, char *outcome,
		      size_t outcap);

	/* Deployment variable for templates ("office_name", "short_code",
	 * "office_phone", ...); NULL when unknown. */
	const char *(*var)(void *ctx, const char *name);
};

/* The screen to send back. */
struct pt_dialog_out {
	char text[PT_REPLY_MAX];
	size_t len;
	int end; /* 1: the conversation is over (USSD END; session is idle again) */
};

struct pt_dialogs; /* opaque: a loaded, validated set of dialog files */

/* Called once per problem found while loading: file name, node (or ""), field
 * (JSON path inside the node, or "") and a short message. */
typedef void (*pt_dialog_problem_fn)(void *ctx, const char *file, const char *node,
				     const char *field, const char *msg);

/* Load and validate every *.json file in dir. Returns NULL when any problem was
 * found (each reported through fn, which may be NULL); *nproblems (may be NULL)
 * gets the count. Validation covers JSON syntax, unknown node kinds, missing
 * fields, targets that do not exist, PCRE2 patterns that do not compile,
 * texts without "id", templates naming unknown variables where checkable. */
struct pt_dialogs *pt_dialogs_load(const char *dir, pt_dialog_problem_fn fn, void *ctx,
				   int *nproblems);
void pt_dialogs_free(struct pt_dialogs *d);

/* One step. input is the resident's newest input (for USSD the new part only);
 * first is 1 when this input opens a new USSD session or is the first message of
 * an SMS conversation the caller knows about (the engine then applies resume /
 * expiry rules using s->updated_ms). Updates s (including updated_ms = now) and
 * writes the screen to out. Returns PT_OK or a negative PT_E code (then out holds
 * a polite apology and s is unchanged in meaning; the caller must not commit). */
int pt_dialog_step(const struct pt_dialogs *d, const struct pt_dialog_env *env,
		   struct pt_session *s, const char *input, size_t len, int first,
		   struct pt_dialog_out *out);

/* 1 when the message starts with one of the SMS keywords of the dialog files
 * (MENU, CEK <number>, ...), matched as the engine matches them. */
int pt_dialog_is_keyword(const struct pt_dialogs *d, const char *in, size_t len);

/* Render the template called name (from a dialog file's "templates") in
 * s->lang for env->chan with s's variables and env->var(): notifications the
 * host sends outside a conversation. PT_ENOTFOUND when there is none. */
int pt_dialog_template(const struct pt_dialogs *d, const struct pt_dialog_env *env,
		       struct pt_session *s, const char *name, struct pt_dialog_out *out);

#endif
