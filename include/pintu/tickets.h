/*
 * tickets.h - complaints and reports, their numbers, states and event history.
 *
 * Functions take the sqlite3 handle of the caller's transaction (the writer
 * thread's, inside a store job; or a reader connection for the *_get/_list
 * functions). Numbers are stored as 8 digits ("48210937") and shown as "4821-0937".
 */
#ifndef PT_TICKETS_H
#define PT_TICKETS_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

/* Resident-facing label of a state in Bahasa Indonesia / English
 * (design.md section 2), e.g. "received" -> "Diterima". NULL if unknown. */
const char *pt_ticket_state_label(const char *state, const char *lang);
/* 1 when state is one of the known states. */
int pt_ticket_state_valid(const char *state);

struct pt_ticket {
	int64_t id;
	char number[9];        /* 8 digits */
	char status[24];       /* "received", ... */
	char type[24];         /* "kepesertaan" | "penyaluran" | "layanan" | "informasi" | "orang_terlantar" ... */
	char subject[8];       /* "self" | "other" */
	char program[24];      /* "PKH", "BPNT", ..., "LAINNYA" */
	char kecamatan[64];
	char kelurahan[64];
	char location[256];    /* free location description (reports about others) */
	char nik[17];          /* full NIK or "" (never print it: use pt_nik_mask) */
	char channel[32];      /* channel name it arrived on */
	char phone[32];        /* resident's E.164 (never print it: mask) */
	char lang[4];
	char description[1024];
	int64_t created_ms, updated_ms, due_ms; /* due_ms 0 = none */
};

/* Insert t (status "received") with a fresh random number (retried on collision),
 * add the first event (actor "resident"), set t->id, t->number, timestamps
 * (created_ms is kept when the caller set it; due_ms is stored as given).
 * contact_id links the contact row. Returns PT_OK or PT_EDB. */
int pt_ticket_create(sqlite3 *db, struct pt_ticket *t, int64_t contact_id);
/* Load by 8-digit number. PT_ENOTFOUND if none. */
int pt_ticket_get(sqlite3 *db, const char *number, struct pt_ticket *t);
/* Change state, recording an event (actor, from, to, note). PT_EINVAL for an
 * unknown state. */
int pt_ticket_set_status(sqlite3 *db, struct pt_ticket *t, const char *to, const char *actor,
			 const char *note);

struct pt_ticket_filter {
	const char *status; /* NULL = any */
	int limit;          /* 0 = 1000 */
};
/* Call fn for each ticket matching f, newest first. Stops early when fn returns non-zero. */
int pt_ticket_list(sqlite3 *db, const struct pt_ticket_filter *f,
		   int (*fn)(const struct pt_ticket *t, void *arg), void *arg);

/* Write t as one JSON object (masked phone and NIK; number "4821-0937";
 * created_at ISO 8601 UTC) to out. with_events adds "events":[...] read from db. */
int pt_ticket_write_json(sqlite3 *db, const struct pt_ticket *t, int with_events, FILE *out);

#endif
