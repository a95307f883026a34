/*
 * subscriptions.h - residents' opt-in to broadcasts (issue 5): who receives
 * Dinas Sosial information, for which programs and where, and who said STOP.
 *
 * One subscription row per address (the contact's phone: E.164, or a chat
 * address such as "tg:123"), with the channel to reach them on, their language,
 * kecamatan/kelurahan and programs (all, or a list of program codes). A STOP
 * (SMS/chat keyword, or a provider's own opt-out signal) sets stopped_ms: a
 * stopped address is never selected for a broadcast and an import never
 * resubscribes it; only the resident's own DAFTAR (or a menu opt-in) does.
 * Ticket notifications are not affected by any of this.
 *
 * Tables (migration pt_schema_subscriptions, v3->4): subscriptions,
 * subscription_programs, subs_pending (open questions: kelurahan, "YA" offers),
 * subs_asked (the complaint dialog asks once per contact).
 */
#ifndef PT_SUBSCRIPTIONS_H
#define PT_SUBSCRIPTIONS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pintu/config.h"

/* A broadcast audience. Every field NULL (or "") = any. program matches a
 * subscriber of that program or of all programs; tickets_program/tickets_state
 * restrict to subscribers whose contact has a ticket of that program that is
 * "open" (any status but resolved/closed/rejected) or "resolved" (resolved or
 * closed); tickets_state NULL with tickets_program set = any ticket of it. */
struct pt_segment {
	const char *kecamatan, *kelurahan, *program, *channel, *lang;
	const char *tickets_program;
	const char *tickets_state; /* "open" | "resolved" | NULL */
};

/* One active subscriber, valid only during the callback. */
struct pt_recipient {
	int64_t subscription_id;
	int64_t contact_id;    /* 0 when no contact row exists (never, after import) */
	const char *phone;     /* E.164, or the chat address ("tg:123") */
	const char *channel;   /* channel name to send on */
	const char *lang;      /* "id" | "en" */
	const char *kecamatan; /* "" when unknown */
	const char *kelurahan; /* "" when unknown */
};

/* Call fn for every active (not stopped) subscriber matching seg (NULL = all),
 * in subscription id order. fn returns 0 to go on; a non-zero return stops the
 * walk and is returned. Works on any connection (reader or writer).
 * PT_OK, fn's non-zero value, or PT_EDB. */
int pt_subs_select(sqlite3 *db, const struct pt_segment *seg,
		   int (*fn)(const struct pt_recipient *r, void *arg), void *arg);
/* Number of subscribers pt_subs_select would visit, in *count. PT_OK or PT_EDB. */
int pt_subs_count(sqlite3 *db, const struct pt_segment *seg, int64_t *count);

/* 1 when the address (E.164 or chat address; a non-normalised number is
 * normalised first) said STOP (or a provider opted it out), 0 when not,
 * PT_EDB on error. Call it right before sending a broadcast. */
int pt_subs_is_stopped(sqlite3 *db, const char *phone);

/* A provider's own opt-out for peer on channel (Twilio 21610, Telegram 403
 * "bot was blocked by the user"): same as STOP (all channels of that address
 * and the contact's other addresses), reason kept for staff ("twilio_21610").
 * Must run in a write transaction. PT_OK or PT_EDB. */
int pt_subs_optout_signal(sqlite3 *db, const char *channel, const char *peer, const char *reason);

/* The same opt-out when it arrives in a delivery report (a Twilio status
 * callback with ErrorCode 21610): the recipient of our outbound row with
 * provider_id on channel is stopped. Must run in a write transaction. PT_OK;
 * PT_ENOTFOUND (no such row); PT_EDB. */
int pt_subs_optout_report(sqlite3 *db, const char *channel, const char *provider_id,
			  const char *reason);

/* ---- used by the dialog actions, the CLI and the API ---- */

/* Subscribe (or resubscribe after STOP) address phone reached on channel.
 * programs: space/comma separated codes, "" or NULL = all programs;
 * kelurahan may be NULL/"" (unknown, kept if already known). source:
 * sms|ussd|chat|complaint|import. Runs in a write transaction. PT_OK, PT_EINVAL
 * (unknown program or kelurahan) or PT_EDB. */
int pt_subs_subscribe(sqlite3 *db, const struct pt_config *cfg, const char *phone,
		      const char *channel, const char *lang, const char *programs,
		      const char *kelurahan, const char *source, int64_t now_ms);
/* STOP for phone (and the contact's other addresses). PT_OK or PT_EDB. */
int pt_subs_stop(sqlite3 *db, const char *phone, const char *reason, int64_t now_ms);

/* CSV import report. */
#define PT_SUBS_REJECT_MAX 200
struct pt_subs_reject {
	int line;          /* 1-based line in the file (the header is line 1) */
	char reason[96];   /* "bad phone number", "unknown program \"XYZ\"", ... */
};
struct pt_subs_report {
	int imported;      /* new subscriptions */
	int updated;       /* existing ones updated */
	int rejected;      /* total rejected rows (reasons kept for the first PT_SUBS_REJECT_MAX) */
	struct pt_subs_reject rejects[PT_SUBS_REJECT_MAX];
	int nrejects;
	char error[160];   /* whole-file error (missing header...), "" when none */
};
#define PT_SUBS_CSV_MAX (8u * 1024u * 1024u)
/* Import CSV text (header "phone,programs,kelurahan,lang,channel", columns in
 * any order, phone required; programs "" or "all" = all) inside the caller's
 * write transaction. default_channel is used when a row has no channel.
 * PT_OK (see rep, rows may be rejected), PT_EBADREQ (rep->error: the file as a
 * whole is unusable), PT_ETOOBIG, PT_EDB. */
int pt_subs_import_csv(sqlite3 *db, const struct pt_config *cfg, const char *csv, size_t len,
		       const char *source, const char *default_channel, int64_t now_ms,
		       struct pt_subs_report *rep);
/* Write active subscribers (optionally of program / in kelurahan) as CSV with
 * the import's columns (full numbers: for staff only, never log it). */
int pt_subs_export_csv(sqlite3 *db, const char *program, const char *kelurahan, FILE *out);

/* Dialog actions, dispatched from src/actions.c for names starting
 * "subscribe" (outcome in outcome; PT_ENOTFOUND for an unknown name):
 *   subscribe_check  -> ask | asked   the complaint dialog's opt-in question is
 *                       asked once per contact (never to a subscriber, to a
 *                       stopped address, or on a channel that cannot send);
 *                       "ask" records that it was asked
 *   subscribe_offer  -> ok   after program info on SMS/chat: remembers an offer
 *                       for variable "program" ("YA" within 30 min subscribes)
 *                       and sets "subs_offer" (unset when already subscribed)
 *   subscribe_area   -> known | unknown   kelurahan from the subscription or
 *                       the latest ticket; sets kelurahan, kecamatan
 *   subscribe        -> ok | invalid   subscribes to "program" when
 *                       "subs_use_program" is set, else "subs_programs_in"
 *                       ("" = all), with "kelurahan" if set, source from
 *                       "subs_source" (else ussd|sms|chat); sets "subs_programs"
 *                       (a label for the reply)
 *   subscribe_complaint -> ok | invalid   the complaint dialog's yes: all
 *                       programs, source "complaint", the complaint's
 *                       kelurahan unless it was a report about someone else */
struct pt_actions_ctx;
struct pt_session;
int pt_subs_action(const struct pt_actions_ctx *ctx, const char *name, struct pt_session *s,
		   char *outcome, size_t cap);

#endif
