/*
 * migrations.h - schema scripts that live with the module owning the tables.
 * src/store.c lists them in order in its migrations[] array:
 *   0 -> 1  the core schema (src/store.c)
 *   1 -> 2  pt_schema_auth       (src/auth.c: users, staff_sessions, login_attempts, audit_log, api_keys)
 *   2 -> 3  pt_schema_procedure  (src/procedure.c: ticket work columns, notes, ticket links, satisfaction)
 *   3 -> 4  pt_schema_subscriptions (src/subscriptions.c: broadcast subscriptions, opt-outs)
 *   4 -> 5  pt_schema_broadcast  (src/broadcast.c: broadcasts, recipients, outbox priority)
 *   5 -> 6  sessions.rounds      (inline in src/store.c; used by src/inbox.c)
 * Each is run once inside a transaction; never edit one that has shipped,
 * append a new one instead.
 */
#ifndef PT_MIGRATIONS_H
#define PT_MIGRATIONS_H

extern const char pt_schema_auth[];
extern const char pt_schema_procedure[];
extern const char pt_schema_subscriptions[];
extern const char pt_schema_broadcast[];

#endif
