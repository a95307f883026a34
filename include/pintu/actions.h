/*
 * actions.h - the dialog environment: lists from the configuration, office
 * variables for templates, and the actions dialogs call (create a ticket, look
 * up a status, match a kelurahan, program information, the Puskesos).
 *
 * Runs on the writer thread inside the inbox's job, with that job's sqlite3
 * handle, so an action's writes commit (or roll back) with the step.
 */
#ifndef PT_ACTIONS_H
#define PT_ACTIONS_H

#include <sqlite3.h>

#include "pintu/config.h"
#include "pintu/dialog.h"

struct pt_actions_ctx {
	const struct pt_config *cfg;
	const struct pt_channel *chan;
	sqlite3 *db;
	int64_t contact_id;
	const char *phone;          /* E.164 of the resident */
	int64_t ticket_id;          /* out: set when create_ticket ran */
};

/* Fill env with the callbacks over ctx (chan kind, clock and session windows too). */
void pt_actions_env(struct pt_dialog_env *env, struct pt_actions_ctx *ctx);

struct pt_ticket;

/* Queue the resident's notification that ticket t is now in t->status (the
 * dialogs' "status_changed" template, in the ticket's language), on the
 * channel the ticket came from - for a USSD ticket, that channel's SMS
 * channel. note is the detail staff recorded (the referred office, the
 * outcome, the reason), may be NULL. Runs in the caller's transaction.
 * *out_id (may be NULL) gets the outbox row. PT_ENOTFOUND when there is no
 * channel that can send to the resident. */
int pt_actions_notify(const struct pt_config *cfg, const struct pt_dialogs *dialogs, sqlite3 *db,
		      const struct pt_ticket *t, const char *note, int64_t *out_id);

struct pt_outbox_item;

/* Queue it->text for a resident on channel it->channel, in the caller's
 * transaction, respecting WhatsApp's 24-hour window: on a "whatsapp" channel
 * whose resident (it->to) has not written on it for 24 hours (the session's
 * updated_ms on that channel), the channel's template for kind (config
 * "templates": {kind: {"name", "language", "language_en"}}; language_en is
 * used when lang is "en") is queued as a template row carrying it->text as
 * its body parameter (see pt_outbox_template_text); with no template for
 * kind, it->text (GSM-7 folded) goes on the channel's sms_channel to the same
 * number. Inside the window, and on every other channel, it->text is queued
 * as given. kind: "status_changed", "broadcast", ... (any key of "templates").
 * *id_out (may be NULL) gets the outbox row. PT_OK; PT_ENOTFOUND when the
 * channel is unknown or the window is closed and there is neither a template
 * nor an sms_channel (nothing queued; the caller decides); PT_EINVAL; PT_EDB. */
int pt_actions_queue_chat(const struct pt_config *cfg, sqlite3 *db, const struct pt_outbox_item *it,
			  const char *kind, const char *lang, int64_t *id_out);

/* A WhatsApp message refused because its 24-hour window had closed (error
 * 131047 in a later status): queue its text (a template row's parameter
 * text) on the channel's sms_channel, once (a repeated status queues
 * nothing). When the status came before the send's result was recorded (no
 * row has provider_id yet), the fallback is remembered with the early report
 * and pt_outbox_apply_early() queues it. PT_OK when an SMS was queued;
 * PT_ENOTFOUND when there is no fallback channel, no such message (the
 * fallback then waits for pt_outbox_apply_early), or it was already queued. */
int pt_actions_chat_fallback(const struct pt_config *cfg, sqlite3 *db, const char *channel,
			     const char *provider_id);

#endif
