/*
 * procedure.h - the office procedure (design.md section 2): the one table of
 * allowed ticket transitions (who may make each, what must be recorded, what
 * the resident is told), service levels in working days, overdue escalation,
 * duplicates, appeals (BANDING) and the satisfaction question.
 *
 * The staff API (src/api_tickets.c), the console and the command line
 * (`pintu tickets set-status`) all change a ticket's state through
 * pt_proc_transition(); nothing else writes tickets.status after creation
 * (except the resident's BANDING, which goes through the same table with the
 * role PT_PROC_ROLE_RESIDENT).
 *
 * Schema (pt_schema_procedure, v2 -> v3): tickets gains assigned_to,
 * dtks_status, referral_level, referral_org, referral_program, referral_ref,
 * outcome, reject_reason, question, satisfaction, linked_to, resolved_ms,
 * escalated_ms, prev_status, satisfaction_asked_ms; new table ticket_notes.
 */
#ifndef PT_PROCEDURE_H
#define PT_PROCEDURE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "pintu/config.h"
#include "pintu/dialog.h"
#include "pintu/tickets.h"

/* Roles are the bit mask of auth.h (PT_ROLE_FRONT, ...); two more "actors"
 * that are not staff accounts: */
#define PT_PROC_ROLE_RESIDENT (1u << 8) /* the resident (BANDING by SMS/chat) */
#define PT_PROC_ROLE_CLI (1u << 9)      /* `pintu tickets set-status`: may take every
					   staff transition of the table; required
					   fields are recorded when given, not enforced */

/* What a transition requires (bit mask, struct pt_proc_rule.fields). */
#define PT_PROC_F_DTKS (1u << 0)     /* dtks_status: registered | not_registered | unknown */
#define PT_PROC_F_REFERRAL (1u << 1) /* level (city|province|national), organisation,
					program, reference: all four */
#define PT_PROC_F_OUTCOME (1u << 2)  /* outcome (free text) */
#define PT_PROC_F_REASON (1u << 3)   /* reason (free text) */
#define PT_PROC_F_QUESTION (1u << 4) /* question (free text, sent to the resident) */

/* Free-text fields are capped at PT_PROC_TEXT_MAX bytes (422 beyond). */
#define PT_PROC_TEXT_MAX 500

/* One row of the transition table. from "*back*" in needs_info rows means
 * "back to the state it came from" (tickets.prev_status). */
struct pt_proc_rule {
	const char *from;
	const char *to;
	unsigned roles;        /* PT_ROLE_* | PT_PROC_ROLE_RESIDENT */
	unsigned fields;       /* PT_PROC_F_* required */
	const char *action_id; /* the console's button, Bahasa Indonesia: "Daftarkan" */
	const char *action_en; /* "Register" */
};

/* The table, for listing (console, docs, tests). *n gets the row count. */
const struct pt_proc_rule *pt_proc_rules(size_t *n);

/* The rule for from -> to (for from = "needs_info", to must equal prev, the
 * state it came from; pass prev NULL otherwise). NULL when the table has none. */
const struct pt_proc_rule *pt_proc_rule_find(const char *from, const char *to, const char *prev);

/* What staff record with a transition. NULL or "" = not given. */
struct pt_proc_fields {
	const char *note;         /* internal note on the event (never sent) */
	const char *dtks_status;
	const char *level;
	const char *organisation;
	const char *program;
	const char *reference;
	const char *outcome;
	const char *reason;
	const char *question;
};

/* Why a transition was refused: the HTTP status the API answers with, an
 * error code and the field at fault. */
struct pt_proc_err {
	int http;            /* 403 role, 409 state, 422 field, 404 ticket, 500 db */
	char code[32];       /* "forbidden" | "invalid_transition" | "missing_field" |
				"invalid_field" | "not_found" | "db" */
	char field[32];      /* for 422: "dtks_status", "level", ... */
	char message[160];   /* short English reason */
};

/* Move t to `to` following the table: checks the rule exists from t->status
 * (PT_ESTATE, 409), role is allowed (PT_EPERM, 403) and the required fields
 * are present and valid (PT_EINVAL, 422); then, in the caller's transaction
 * (the writer's db): updates the ticket (status, due_ms of the new state,
 * recorded fields, prev_status, resolved_ms, clears escalated_ms), writes the
 * event (actor = username, note), an audit row (pt_audit, action
 * "ticket.transition", unless role is PT_PROC_ROLE_RESIDENT/CLI without a
 * staff id - then actor is the audit's username with id 0), and queues the
 * resident's message (status_changed; needs_info adds the question, resolved
 * adds the satisfaction question). t is updated in place. err may be NULL.
 * actor_id is the staff user id (0 for "cli"/"resident"). */
int pt_proc_transition(sqlite3 *db, const struct pt_config *cfg, const struct pt_dialogs *dialogs,
		       struct pt_ticket *t, const char *to, unsigned role, int64_t actor_id,
		       const char *actor, const struct pt_proc_fields *f, struct pt_proc_err *err);

/* ---- service levels ---- */

/* Due time for a ticket entering `state` of `program` at now_ms: the number of
 * working days from the service_levels section (programs override
 * default_days), skipping Saturdays, Sundays and the holidays, in the office's
 * time zone, ending at 23:59:59.999 local time of the last working day. 0 when
 * the state has no service level (terminal states, or 0 days configured). */
int64_t pt_proc_due_ms(const struct pt_config *cfg, const char *state, const char *program,
		       int64_t now_ms);
/* The same arithmetic with explicit parameters (unit tests): add `days`
 * working days to now_ms; holidays are "YYYY-MM-DD" strings (nholidays). */
int64_t pt_proc_add_working_days(int64_t now_ms, int days, int utc_offset_min,
				 const char *const *holidays, size_t nholidays);
/* 1 when state is terminal (resolved, rejected): no due time, never overdue. */
int pt_proc_state_terminal(const char *state);

/* Escalate every ticket past its due time and not yet escalated: set
 * tickets.escalated_ms = now_ms and add an event "escalated" (actor "system",
 * from = to = the current state). Writer's db. *count (may be NULL) gets the
 * number escalated. PT_OK or PT_EDB. */
int pt_proc_escalate(sqlite3 *db, int64_t now_ms, int *count);

/* Add an internal note (never sent to the resident). Writer's db. */
int pt_proc_note_add(sqlite3 *db, int64_t ticket_id, const char *author, const char *text,
		     int64_t now_ms);
/* Assign to username ("" or NULL = unassign). Writer's db. */
int pt_proc_assign(sqlite3 *db, int64_t ticket_id, const char *username);

/* Windows (ms). */
#define PT_PROC_DUPLICATE_WINDOW_MS (30LL * 86400 * 1000)
#define PT_PROC_APPEAL_WINDOW_MS (14LL * 86400 * 1000)
#define PT_PROC_SATISFACTION_WINDOW_MS (7LL * 86400 * 1000)

#endif
