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

#endif
