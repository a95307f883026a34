/*
 * adapter.h - one table of small functions per provider wire format.
 *
 * Adapters (adapters/<type>.c) are pure translators: no SQLite, no dialogs, no
 * global state. Each reads its own channel keys from the configuration through
 * configure(), which names a bad key by its path ("channels[2].fields.text").
 * Unknown request fields are ignored; every field read is capped.
 */
#ifndef PT_ADAPTER_H
#define PT_ADAPTER_H

#include <cjson/cJSON.h>

#include "pintu/msg.h"

enum pt_reply_mode {
	PT_REPLY_INLINE = 0, /* the reply goes back in the webhook's HTTP response */
	PT_REPLY_SEND = 1,   /* the webhook is acknowledged; the reply is sent via the provider's API */
};

struct pt_adapter {
	const char *type;       /* config "type", e.g. "africastalking-ussd" */
	enum pt_chan_kind kind; /* PT_CHAN_USSD or PT_CHAN_SMS */

	/* Validate this channel's JSON object and build private config in *conf.
	 * path is the object's path for messages, e.g. "channels[1]". On error write
	 * "channels[1].fields.text: must be a string" style text to err. */
	int (*configure)(const cJSON *chan, const char *path, void **conf, char *err, size_t errlen);
	void (*free_conf)(void *conf);

	/* Inbound webhook -> message. PT_EBADREQ with a short reason in err for a
	 * malformed/missing field (HTTP 400), PT_ETOOBIG for an over-long field (413). */
	int (*parse)(const void *conf, const struct pt_http_req *req, struct pt_msg *out, char *err,
		     size_t errlen);

	/* Optional, for providers that put several messages and statuses in one
	 * POST (WhatsApp Cloud API): fill up to max messages into out[] and the
	 * count into *n. When set, the HTTP layer calls it instead of parse() and
	 * answers once every message is committed. A PT_MSG_VERIFY result (e.g.
	 * the GET hub.challenge handshake) must come alone (*n == 1). */
	int (*parse_batch)(const void *conf, const struct pt_http_req *req, struct pt_msg *out,
			   int max, int *n, char *err, size_t errlen);

	/* Delivery report at /webhooks/<name>/status -> PT_MSG_DLR. NULL if none. */
	int (*parse_status)(const void *conf, const struct pt_http_req *req, struct pt_msg *out,
			    char *err, size_t errlen);

	/* Where this channel's replies go (inline or via send). */
	enum pt_reply_mode (*reply_mode)(const void *conf);

	/* Our answer -> the HTTP response the provider expects. reply->has_text == 0
	 * means acknowledge only. Always sets status 200 for a well-formed answer. */
	int (*render)(const void *conf, const struct pt_reply *reply, struct pt_http_resp *out);

	/* Queued message -> provider send request. NULL if the channel cannot send.
	 * m->text is the row's text as queued; a text starting with
	 * PT_OUTBOX_TEMPLATE_MARK is a template row (outbox.h), which only the
	 * whatsapp adapter is ever given. */
	int (*build_send)(const void *conf, const struct pt_outmsg *m, struct pt_outreq *out);

	/* Provider's answer to a send -> PT_SEND_OK (with its message id in
	 * provider_id, "" if it gives none), PT_SEND_RETRY or PT_SEND_FAIL (reason in err). */
	int (*parse_send)(const void *conf, long http_status, const char *body, size_t len,
			  char *provider_id, size_t idcap, char *err, size_t errlen);
};

/* The adapter for a config type name, or NULL. */
const struct pt_adapter *pt_adapter_find(const char *type);
/* Every registered adapter type, NULL-terminated (for --help and error messages). */
const struct pt_adapter *const *pt_adapter_all(void);

#endif
