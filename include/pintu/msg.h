/*
 * msg.h - the normalised shapes that cross the adapter boundary.
 *
 * An adapter turns a provider's HTTP request (struct pt_http_req, a view that owns
 * nothing) into a struct pt_msg, turns our answer (struct pt_reply) into the HTTP
 * response the provider expects (struct pt_http_resp), and builds outbound
 * provider requests (struct pt_outreq) from a queued message (struct pt_outmsg).
 * Every field has a fixed cap; an over-long value is an error (PT_ETOOBIG), never a
 * silent truncation of something we key on (ids, phone numbers).
 */
#ifndef PT_MSG_H
#define PT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "pintu/form.h"

#define PT_ID_MAX 128     /* provider message/session id, including NUL */
#define PT_PHONE_MAX 32   /* E.164 number or short code, including NUL */
#define PT_TEXT_MAX 2048  /* inbound text in bytes, including NUL */
#define PT_REPLY_MAX 4096 /* a reply/outbound text in bytes, including NUL */

enum pt_chan_kind { PT_CHAN_USSD = 1, PT_CHAN_SMS = 2, PT_CHAN_CHAT = 3 };

enum pt_msg_type {
	PT_MSG_TEXT = 1,     /* an SMS/chat message from a resident */
	PT_MSG_USSD = 2,     /* one USSD round (start or continue) */
	PT_MSG_USSD_END = 3, /* provider tells us a USSD session ended (no reply) */
	PT_MSG_DLR = 4,      /* delivery report for one of our outbound messages */
	PT_MSG_VERIFY = 5,   /* a provider's verification handshake: answer 200 with text, store nothing */
};

/* How a USSD provider gives the resident's input. */
enum pt_ussd_input {
	PT_USSD_HISTORY = 0, /* text = every input so far joined with '*' (Africa's Talking) */
	PT_USSD_NEWEST = 1,  /* text = only the newest input */
};

enum pt_ussd_op { PT_USSD_OP_NONE = 0, PT_USSD_OP_BEGIN, PT_USSD_OP_CONTINUE, PT_USSD_OP_END };

enum pt_dlr { PT_DLR_NONE = 0, PT_DLR_SENT, PT_DLR_DELIVERED, PT_DLR_FAILED };

struct pt_msg {
	enum pt_msg_type type;
	char provider_id[PT_ID_MAX]; /* provider's message id (dedupe key), "" if none */
	char session_id[PT_ID_MAX];  /* USSD session id */
	char from[PT_PHONE_MAX];     /* resident, normalised E.164 ("+62...") */
	char to[PT_PHONE_MAX];       /* our number / short code as the provider gave it */
	char service_code[32];       /* USSD code dialled, e.g. "*123#" */
	char text[PT_TEXT_MAX];      /* UTF-8 (invalid bytes replaced), see ussd_input */
	size_t text_len;
	enum pt_ussd_input ussd_input;
	enum pt_ussd_op ussd_op;
	/* PT_MSG_DLR only: */
	enum pt_dlr dlr;
	int64_t out_id;              /* our outbox row id when the provider echoes it (Kannel dlr-url), else 0 */
	char dlr_reason[128];
	int64_t sent_at_ms;          /* provider timestamp (ms since epoch), 0 when unknown */
};

/* A read-only view of one HTTP request; the HTTP layer owns the memory. */
struct pt_http_req {
	const char *method;       /* "GET", "POST" */
	const char *path;         /* "/webhooks/at-ussd" (no query) */
	const struct pt_form *query; /* decoded query-string arguments */
	const char *raw_query;    /* the query string as sent, without '?' ("" when none) */
	const char *content_type; /* may be NULL */
	const char *body;         /* raw body bytes, NUL-terminated for convenience */
	size_t body_len;
	const char *remote_addr;  /* "127.0.0.1" */
	/* header lookup, case-insensitive; NULL when absent */
	const char *(*header)(const void *hctx, const char *name);
	const void *hctx;
};

/* What we answer a resident in the webhook response (or nothing). */
struct pt_reply {
	int has_text;  /* 0: acknowledge without a reply */
	int end;       /* USSD: final screen (END), 1; continue (CON), 0 */
	char text[PT_REPLY_MAX];
	size_t text_len;
};

struct pt_http_resp {
	int status;
	char content_type[64];
	char body[PT_REPLY_MAX + 512];
	size_t body_len;
};

/* One queued outbound message, as the sender hands it to an adapter. */
struct pt_outmsg {
	int64_t id;                /* our outbox row id */
	char to[PT_PHONE_MAX];     /* E.164 */
	const char *text;          /* UTF-8 */
	size_t text_len;
};

#define PT_OUTREQ_HEADERS 6
struct pt_outreq {
	char method[8];            /* "POST" / "GET" */
	char url[2048];
	char content_type[96];     /* "" when no body */
	char body[PT_REPLY_MAX * 3 + 1024];
	size_t body_len;
	char headers[PT_OUTREQ_HEADERS][512]; /* "Name: value" */
	int nheaders;
	char userpwd[256];         /* HTTP basic auth "user:pass", "" for none */
};

/* Outcome of a provider's answer to a send request. */
enum pt_send_result { PT_SEND_OK = 0, PT_SEND_RETRY = 1, PT_SEND_FAIL = 2 };

#endif
