/*
 * hooks.h - where the inbox and the dialog engine hand a resident's message to
 * the office procedure (src/procedure.c) and to broadcast subscriptions
 * (src/subscriptions.c) before the conversation.
 *
 * Order for a plain SMS/chat text (not USSD), after the duplicate check and
 * before the per-sender rate limit: pt_subs_inbound (STOP must always work),
 * pt_proc_inbound, then the needs_info attachment and the dialog step.
 * Each runs inside the inbox job's transaction on the writer thread and must
 * not block on anything but that database.
 */
#ifndef PT_HOOKS_H
#define PT_HOOKS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "pintu/config.h"
#include "pintu/dialog.h"
#include "pintu/tickets.h"

struct pt_inbound {
	const struct pt_config *cfg;
	const struct pt_dialogs *dialogs;
	const struct pt_channel *chan;
	int64_t contact_id;
	const char *phone;   /* E.164, or the chat address ("tg:123") */
	const char *lang;    /* the contact's language, "id" | "en" */
	const char *text;    /* the whole message as received (UTF-8) */
	int64_t now_ms;
};

/* Return 1 when the message was handled here: reply (cap bytes) gets the text
 * to answer ("" = no answer), which the inbox sends on the message's channel.
 * 0 = not mine, go on. Negative PT_E* = database error (the job rolls back and
 * the provider gets 503 and retries). */
int pt_subs_inbound(sqlite3 *db, const struct pt_inbound *in, char *reply, size_t cap);
int pt_proc_inbound(sqlite3 *db, const struct pt_inbound *in, char *reply, size_t cap);

/* A new ticket t was just inserted (pt_ticket_create, by a dialog or Open311):
 * set its service-level due time and link it to an open duplicate (same NIK
 * and program within 30 days). When it was linked, *dup_number (9 bytes) gets
 * the existing ticket's 8-digit number, else "". PT_OK or PT_EDB. */
int pt_proc_on_create(sqlite3 *db, const struct pt_config *cfg, struct pt_ticket *t,
		      char dup_number[9]);

#endif
