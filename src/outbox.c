/*
 * outbox.c - outbound message rows (table messages, direction 'out') and
 * delivery reports.
 *
 * A row moves through these states (column status):
 *
 *   queued --(sender claims it)--> sending --(provider accepted)--> sent
 *     ^                               |                              |
 *     +--(temporary failure, after a back-off: next_attempt_ms)------+ (no)
 *                                     |--(permanent failure)--> failed
 *                                     `--(attempts >= max)----> dead
 *   sent --(delivery report)--> delivered | failed
 *
 * Rows answered inline in a webhook response start as 'sent'. Retry schedule
 * (src/sender.c): base * 2^(attempts-1), capped, +-20% jitter, or a longer
 * Retry-After from the provider on 429/503.
 *
 * Delivery reports never move a row backwards: a late "sent" report does not
 * undo 'delivered' or 'failed', and a "failed" report does not undo
 * 'delivered' (a handset cannot un-receive a message). A report may arrive
 * before the sender committed the provider's id: it is kept in early_reports
 * and applied by pt_outbox_apply_early() when the sender records the id (in
 * the same transaction). A WhatsApp 131047 status ("outside the 24-hour
 * window") that came that early also leaves an early_reports row with dlr
 * EARLY_FALLBACK and the SMS channel as reason; apply_early then queues the
 * SMS fallback after applying the reports.
 *
 * Template rows (outbox.h): "\x1e" + {"template","language","params"}; the
 * mark is removed from every other text at enqueue, so only code that asks
 * for a template row (pt_actions_queue_chat) can make one. The SMS fallback
 * of a row (pt_outbox_fallback_sms) sends the text - a template row's
 * parameter text - GSM-7 folded on the SMS channel, once: the original row's
 * last_error notes "sms fallback #<id>", and a second 131047 for it (Meta
 * repeats statuses) finds the note. A fallback is always an SMS, never a
 * WhatsApp row, so it cannot loop.
 *
 * Inspection and repair for the command line (`pintu outbox list|retry`):
 * pt_outbox_list() reads on any connection (the CLI's is read-only) and never
 * hands out the text (only its length; for a template row the length of its
 * parameter text and the template's name) nor a full number (recipients through
 * pt_outbox_mask_peer(), errors through pt_sender_mask_for_log()).
 * pt_outbox_retry() moves 'failed' or 'dead' back to 'queued', due now, with
 * attempts 0, in one short transaction on the CLI's own connection; the
 * running server's sender finds the row on its next periodic scan.
 */
#include "pintu/outbox.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pintu/common.h"
#include "pintu/store.h"
#include "pintu/text.h"

static const char sql_enqueue[] =
	"INSERT INTO messages (channel, direction, contact_id, peer, body, status, in_reply_to, "
	"ticket_id, segments, attempts, next_attempt_ms, created_ms, updated_ms) "
	"VALUES (?1, 'out', ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10, ?10)";

static void bind_id(sqlite3_stmt *s, int i, int64_t v)
{
	if (v > 0)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* A copy of text without PT_OUTBOX_TEMPLATE_MARK bytes (malloc'd), or NULL. */
static char *strip_mark(const char *text, size_t len, size_t *out_len)
{
	char *c = malloc(len + 1);
	size_t n = 0;
	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (text[i] != PT_OUTBOX_TEMPLATE_MARK)
			c[n++] = text[i];
	c[n] = '\0';
	*out_len = n;
	return c;
}

int pt_outbox_enqueue(sqlite3 *db, const struct pt_outbox_item *it, int64_t *id_out)
{
	if (db == NULL || it == NULL || it->channel == NULL || it->to == NULL || it->text == NULL)
		return PT_EINVAL;
	size_t len = strlen(it->text);
	const char *text = it->text;
	char *stripped = NULL;
	if (it->template_row && !pt_outbox_is_template(text, len))
		return PT_EINVAL;
	if (!it->template_row && memchr(text, PT_OUTBOX_TEMPLATE_MARK, len) != NULL) {
		/* Only a template row may carry the mark (see outbox.h). */
		stripped = strip_mark(text, len, &len);
		if (stripped == NULL)
			return PT_ENOMEM;
		text = stripped;
	}
	size_t segments = it->not_sms || it->template_row ? 0 : pt_sms_split(text, len, NULL, 0, NULL);
	int64_t now = pt_now_ms();
	sqlite3_stmt *s = pt_store_stmt(db, sql_enqueue);
	if (s == NULL) {
		free(stripped);
		return PT_EDB;
	}
	sqlite3_bind_text(s, 1, it->channel, -1, SQLITE_STATIC);
	bind_id(s, 2, it->contact_id);
	sqlite3_bind_text(s, 3, it->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, text, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, it->inline_sent ? "sent" : "queued", -1, SQLITE_STATIC);
	bind_id(s, 6, it->in_reply_to);
	bind_id(s, 7, it->ticket_id);
	if (segments > 0)
		sqlite3_bind_int64(s, 8, (int64_t)segments);
	else
		sqlite3_bind_null(s, 8);
	if (it->inline_sent)
		sqlite3_bind_null(s, 9);
	else
		sqlite3_bind_int64(s, 9, now);
	sqlite3_bind_int64(s, 10, now);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	free(stripped);
	if (rc != SQLITE_DONE) {
		pt_log(PT_LOG_ERROR, "outbox_enqueue_failed", "channel=%s error=\"%s\"", it->channel,
		       sqlite3_errmsg(db));
		return PT_EDB;
	}
	if (id_out)
		*id_out = sqlite3_last_insert_rowid(db);
	return PT_OK;
}

/* ---- template rows and the SMS fallback ---- */

/* Bytes of the first max code points of s (len bytes of UTF-8). */
static size_t utf8_prefix(const char *s, size_t len, size_t max)
{
	size_t i = 0, cps = 0;
	while (i < len && cps < max) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		cps++;
	}
	return i;
}

int pt_outbox_is_template(const char *text, size_t len)
{
	return text != NULL && len > 1 && text[0] == PT_OUTBOX_TEMPLATE_MARK && text[1] == '{';
}

int pt_outbox_template_text(const char *name, const char *language, const char *param, char *out,
			    size_t cap)
{
	int rc = PT_ENOMEM;
	char *json = NULL, *cut = NULL;
	if (out && cap)
		out[0] = '\0';
	if (name == NULL || !name[0] || language == NULL || !language[0] || param == NULL ||
	    out == NULL || cap < 2)
		return PT_EINVAL;
	size_t plen = strlen(param);
	size_t keep = utf8_prefix(param, plen, PT_OUTBOX_TEMPLATE_PARAM_MAX);
	cut = malloc(keep + 1);
	cJSON *o = cJSON_CreateObject();
	cJSON *params = cJSON_CreateArray();
	if (cut == NULL || o == NULL || params == NULL)
		goto fail;
	memcpy(cut, param, keep);
	cut[keep] = '\0';
	cJSON_AddItemToObject(o, "template", cJSON_CreateString(name));
	cJSON_AddItemToObject(o, "language", cJSON_CreateString(language));
	cJSON_AddItemToArray(params, cJSON_CreateString(cut));
	cJSON_AddItemToObject(o, "params", params);
	params = NULL;
	json = cJSON_PrintUnformatted(o);
	if (json == NULL)
		goto fail;
	size_t jl = strlen(json);
	rc = PT_ETOOBIG;
	if (jl + 2 > cap)
		goto fail;
	out[0] = PT_OUTBOX_TEMPLATE_MARK;
	memcpy(out + 1, json, jl + 1);
	rc = PT_OK;
fail:
	if (rc != PT_OK && out && cap)
		out[0] = '\0';
	cJSON_free(json);
	cJSON_Delete(params);
	cJSON_Delete(o);
	free(cut);
	return rc;
}

int pt_outbox_template_params(const char *text, size_t len, char *out, size_t cap, char *name,
			      size_t ncap)
{
	int rc = PT_EINVAL;
	if (out && cap)
		out[0] = '\0';
	if (name && ncap)
		name[0] = '\0';
	if (out == NULL || cap == 0 || !pt_outbox_is_template(text, len))
		return PT_EINVAL;
	cJSON *o = cJSON_ParseWithLength(text + 1, len - 1);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "template");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "params");
	if (!cJSON_IsString(t) || !t->valuestring[0] || !cJSON_IsArray(params))
		goto out;
	const cJSON *p;
	size_t n = 0;
	cJSON_ArrayForEach(p, params)
	{
		if (!cJSON_IsString(p))
			goto out;
		int w = snprintf(out + n, cap - n, "%s%s", n ? "\n" : "", p->valuestring);
		if (w < 0)
			goto out;
		n += (size_t)w < cap - n ? (size_t)w : cap - n - 1;
	}
	if (name && ncap)
		pt_strlcpy(name, t->valuestring, ncap);
	rc = PT_OK;
out:
	if (rc != PT_OK)
		out[0] = '\0';
	cJSON_Delete(o);
	return rc;
}

#define FALLBACK_NOTE "sms fallback #"

int pt_outbox_fallback_sms(sqlite3 *db, int64_t row_id, const char *sms_channel, int64_t *id_out)
{
	static const char sql_row[] = "SELECT contact_id, peer, body, ticket_id, last_error FROM "
				      "messages WHERE id = ?1 AND direction = 'out'";
	static const char sql_note[] =
		"UPDATE messages SET last_error = CASE WHEN last_error IS NULL OR last_error = '' "
		"THEN ?2 ELSE last_error || ' (' || ?2 || ')' END WHERE id = ?1";
	char peer[PT_PHONE_MAX], body[PT_REPLY_MAX], params[PT_REPLY_MAX], note[48];
	int64_t contact_id = 0, ticket_id = 0, new_id = 0;

	if (db == NULL || row_id <= 0 || sms_channel == NULL || !sms_channel[0])
		return PT_EINVAL;
	sqlite3_stmt *s = pt_store_stmt(db, sql_row);
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_int64(s, 1, row_id);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? PT_ENOTFOUND : PT_EDB;
	}
	contact_id = sqlite3_column_int64(s, 0);
	pt_store_col_text(s, 1, peer, sizeof(peer));
	const char *b = (const char *)sqlite3_column_text(s, 2);
	size_t blen = (size_t)sqlite3_column_bytes(s, 2);
	ticket_id = sqlite3_column_int64(s, 3);
	const char *le = (const char *)sqlite3_column_text(s, 4);
	int done = le && strstr(le, FALLBACK_NOTE) != NULL;
	if (!done) {
		/* The resident reads the text, never the template envelope. */
		if (pt_outbox_is_template(b, blen) &&
		    pt_outbox_template_params(b, blen, params, sizeof(params), NULL, 0) == PT_OK)
			pt_gsm7_fold(params, strlen(params), body, sizeof(body));
		else
			pt_gsm7_fold(b ? b : "", b ? blen : 0, body, sizeof(body));
	}
	sqlite3_reset(s);
	if (done)
		return PT_EEXIST;
	struct pt_outbox_item it = {
		.channel = sms_channel,
		.contact_id = contact_id,
		.to = peer,
		.text = body,
		.ticket_id = ticket_id,
	};
	rc = pt_outbox_enqueue(db, &it, &new_id);
	if (rc != PT_OK)
		return rc;
	snprintf(note, sizeof(note), FALLBACK_NOTE "%lld", (long long)new_id);
	s = pt_store_stmt(db, sql_note);
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_int64(s, 1, row_id);
	sqlite3_bind_text(s, 2, note, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return PT_EDB;
	pt_log(PT_LOG_INFO, "outbox_sms_fallback", "id=%lld fallback_id=%lld channel=%s",
	       (long long)row_id, (long long)new_id, sms_channel);
	if (id_out)
		*id_out = new_id;
	return PT_OK;
}

/* The status a report moves a row to, or NULL to leave it as it is. */
static const char *report_target(const char *cur, enum pt_dlr dlr)
{
	int final = strcmp(cur, "delivered") == 0 || strcmp(cur, "failed") == 0;
	switch (dlr) {
	case PT_DLR_SENT:
		return final ? NULL : "sent";
	case PT_DLR_DELIVERED:
		return "delivered";
	case PT_DLR_FAILED:
		return strcmp(cur, "delivered") == 0 ? NULL : "failed";
	default:
		return NULL;
	}
}

/* A report by the provider's id that came before we recorded the send that
 * got that id (a fast provider, our results are committed in rounds): keep
 * it; pt_outbox_apply_early() applies it once the id is recorded. Reports
 * older than a week that never matched are dropped on the way. */
static int keep_early(sqlite3 *db, const char *channel, const char *provider_id, enum pt_dlr dlr,
		      const char *reason)
{
	int64_t now = pt_now_ms();
	sqlite3_stmt *s = pt_store_stmt(db, "DELETE FROM early_reports WHERE created_ms < ?1");
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_int64(s, 1, now - 7LL * 86400000);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	s = rc == SQLITE_DONE ? pt_store_stmt(db, "INSERT OR REPLACE INTO early_reports (channel, "
						  "provider_id, dlr, reason, created_ms) VALUES "
						  "(?1, ?2, ?3, ?4, ?5)")
			      : NULL;
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, provider_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, (int)dlr);
	if (reason && reason[0])
		sqlite3_bind_text(s, 4, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

/* An early_reports row that is not a report: "queue the SMS fallback on the
 * channel named in reason" (pt_outbox_defer_fallback). Sorts after reports. */
#define EARLY_FALLBACK 100

int pt_outbox_defer_fallback(sqlite3 *db, const char *channel, const char *provider_id,
			     const char *sms_channel)
{
	if (db == NULL || channel == NULL || provider_id == NULL || !provider_id[0] ||
	    sms_channel == NULL || !sms_channel[0])
		return PT_EINVAL;
	int rc = keep_early(db, channel, provider_id, (enum pt_dlr)EARLY_FALLBACK, sms_channel);
	if (rc == PT_OK)
		pt_log(PT_LOG_INFO, "outbox_sms_fallback_deferred", "channel=%s fallback=%s", channel,
		       sms_channel);
	return rc;
}

int pt_outbox_apply_early(sqlite3 *db, int64_t row_id, const char *provider_id)
{
	char channel[64] = "";
	sqlite3_stmt *s = pt_store_stmt(db, "SELECT channel FROM messages WHERE id = ?1");
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_int64(s, 1, row_id);
	if (sqlite3_step(s) == SQLITE_ROW)
		pt_strlcpy(channel, (const char *)sqlite3_column_text(s, 0), sizeof(channel));
	sqlite3_reset(s);
	if (!channel[0])
		return PT_OK;
	struct early {
		int dlr;
		char reason[128];
	} e[4];
	int n = 0;
	s = pt_store_stmt(db, "SELECT dlr, reason FROM early_reports WHERE channel = ?1 AND "
			      "provider_id = ?2 ORDER BY dlr");
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, provider_id, -1, SQLITE_STATIC);
	while (n < 4 && sqlite3_step(s) == SQLITE_ROW) {
		e[n].dlr = sqlite3_column_int(s, 0);
		const unsigned char *r = sqlite3_column_text(s, 1);
		pt_strlcpy(e[n].reason, r ? (const char *)r : "", sizeof(e[n].reason));
		n++;
	}
	sqlite3_reset(s);
	for (int i = 0; i < n; i++) {
		int rc;
		if (e[i].dlr == EARLY_FALLBACK) /* after the reports: ORDER BY dlr */
			rc = pt_outbox_fallback_sms(db, row_id, e[i].reason, NULL);
		else
			rc = pt_outbox_report(db, channel, 0, provider_id, (enum pt_dlr)e[i].dlr,
					      e[i].reason);
		if (rc < 0 && rc != PT_EEXIST)
			return rc;
	}
	if (n == 0)
		return PT_OK;
	s = pt_store_stmt(db, "DELETE FROM early_reports WHERE channel = ?1 AND provider_id = ?2");
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, provider_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

int pt_outbox_report(sqlite3 *db, const char *channel, int64_t out_id, const char *provider_id,
		     enum pt_dlr dlr, const char *reason)
{
	/* By our id, still only within the reporting channel: a report on one
	 * channel's status URL can never touch another channel's messages. */
	static const char sql_by_id[] = "SELECT id, status FROM messages WHERE id = ?1 AND "
					"channel = ?2 AND direction = 'out'";
	static const char sql_by_pid[] = "SELECT id, status FROM messages WHERE channel = ?1 AND "
					 "direction = 'out' AND provider_id = ?2";
	static const char sql_update[] =
		"UPDATE messages SET status = ?1, updated_ms = ?2, "
		"last_error = CASE WHEN ?1 = 'failed' THEN ?3 ELSE last_error END WHERE id = ?4";
	char cur[16];
	int64_t id = 0;

	if (db == NULL || dlr == PT_DLR_NONE)
		return PT_EINVAL;
	if (channel == NULL || (out_id == 0 && (provider_id == NULL || provider_id[0] == '\0')))
		return PT_EINVAL;
	sqlite3_stmt *s = pt_store_stmt(db, out_id != 0 ? sql_by_id : sql_by_pid);
	if (s == NULL)
		return PT_EDB;
	if (out_id != 0) {
		sqlite3_bind_int64(s, 1, out_id);
		sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, provider_id, -1, SQLITE_STATIC);
	}
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		const unsigned char *v = sqlite3_column_text(s, 1);
		pt_strlcpy(cur, v ? (const char *)v : "", sizeof(cur));
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE && out_id == 0)
		return keep_early(db, channel, provider_id, dlr, reason);
	if (rc == SQLITE_DONE)
		return PT_ENOTFOUND;
	if (rc != SQLITE_ROW)
		goto fail;

	const char *to = report_target(cur, dlr);
	if (to == NULL || strcmp(to, cur) == 0)
		return PT_OK;
	s = pt_store_stmt(db, sql_update);
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_text(s, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, pt_now_ms());
	if (reason != NULL && reason[0] != '\0')
		sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	else
		sqlite3_bind_text(s, 3, "failed", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		goto fail;
	pt_log(PT_LOG_DEBUG, "outbox_report", "id=%lld from=%s to=%s", (long long)id, cur, to);
	return PT_OK;
fail:
	pt_log(PT_LOG_ERROR, "outbox_report_failed", "error=\"%s\"", sqlite3_errmsg(db));
	return PT_EDB;
}

/* ---- inspection and repair ---- */

const char *const pt_outbox_statuses[] = { "queued", "sending", "sent", "delivered",
					   "failed", "dead", NULL };

int pt_outbox_status_valid(const char *status)
{
	if (status == NULL)
		return 0;
	for (int i = 0; pt_outbox_statuses[i] != NULL; i++)
		if (strcmp(status, pt_outbox_statuses[i]) == 0)
			return 1;
	return 0;
}

#define PEER_SCHEME_MAX 15
#define PEER_ID_KEEP 3

void pt_outbox_mask_peer(const char *peer, char *out, size_t cap)
{
	size_t n = 0;
	if (cap == 0)
		return;
	if (peer == NULL) {
		out[0] = '\0';
		return;
	}
	while (n < PEER_SCHEME_MAX && peer[n] >= 'a' && peer[n] <= 'z')
		n++;
	if (n == 0 || peer[n] != ':') {
		pt_phone_mask(peer, out, cap);
		return;
	}
	const char *id = peer + n + 1;
	size_t len = strnlen(id, 64);
	if (len > 2 * PEER_ID_KEEP)
		snprintf(out, cap, "%.*s:%.*s****%.*s", (int)n, peer, PEER_ID_KEEP, id, PEER_ID_KEEP,
			 id + len - PEER_ID_KEEP);
	else
		snprintf(out, cap, "%.*s:%.*s****", (int)n, peer, len > 0 ? 1 : 0, id);
}


int pt_outbox_list(sqlite3 *db, const struct pt_outbox_filter *f,
		   int (*fn)(const struct pt_outbox_row *row, void *arg), void *arg)
{
	static const char sql[] =
		"SELECT id, channel, status, attempts, next_attempt_ms, peer, segments, last_error, "
		"created_ms, length(body), CASE WHEN substr(body, 1, 1) = char(30) THEN body END "
		"FROM messages WHERE direction = 'out' "
		"AND (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR channel = ?2) "
		"ORDER BY id DESC LIMIT ?3";
	const char *status = f ? f->status : NULL;
	const char *channel = f ? f->channel : NULL;
	int limit = f && f->limit > 0 ? f->limit : 100;
	char peer[PT_PHONE_MAX * 2], err[sizeof(((struct pt_outbox_row *)0)->last_error)];
	char params[PT_REPLY_MAX];
	struct pt_outbox_row r;
	sqlite3_stmt *s = NULL;
	int rc = PT_EDB;

	if (db == NULL || fn == NULL || (status != NULL && !pt_outbox_status_valid(status)))
		return PT_EINVAL;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		goto out;
	if (status)
		sqlite3_bind_text(s, 1, status, -1, SQLITE_STATIC);
	if (channel)
		sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, limit);
	for (;;) {
		int st = sqlite3_step(s);
		if (st == SQLITE_DONE) {
			rc = PT_OK;
			break;
		}
		if (st != SQLITE_ROW)
			break;
		memset(&r, 0, sizeof(r));
		r.id = sqlite3_column_int64(s, 0);
		pt_store_col_text(s, 1, r.channel, sizeof(r.channel));
		pt_store_col_text(s, 2, r.status, sizeof(r.status));
		r.attempts = sqlite3_column_int(s, 3);
		r.next_attempt_ms = sqlite3_column_int64(s, 4); /* NULL reads as 0 */
		pt_store_col_text(s, 5, peer, sizeof(peer));
		pt_outbox_mask_peer(peer, r.to_masked, sizeof(r.to_masked));
		r.segments = sqlite3_column_int(s, 6);
		pt_store_col_text(s, 7, err, sizeof(err));
		pt_sender_mask_for_log(err, r.last_error, sizeof(r.last_error));
		r.created_ms = sqlite3_column_int64(s, 8);
		r.length = sqlite3_column_int64(s, 9);
		const char *tb = (const char *)sqlite3_column_text(s, 10);
		if (tb != NULL) { /* a template row: what the resident reads */
			size_t tl = (size_t)sqlite3_column_bytes(s, 10);
			if (pt_outbox_template_params(tb, tl, params, sizeof(params), r.template_name,
						      sizeof(r.template_name)) == PT_OK)
				r.length = (int64_t)pt_utf8_count(params, strlen(params));
		}
		if (fn(&r, arg) != 0) {
			rc = PT_OK;
			break;
		}
	}
out:
	if (rc != PT_OK)
		pt_log(PT_LOG_ERROR, "outbox_list_failed", "error=\"%s\"", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return rc;
}

int pt_outbox_retry(sqlite3 *db, int64_t id, char *status_out, size_t cap)
{
	static const char sql_update[] =
		"UPDATE messages SET status = 'queued', attempts = 0, next_attempt_ms = ?2, "
		"updated_ms = ?2 WHERE id = ?1 AND direction = 'out' AND status IN ('failed','dead')";
	static const char sql_status[] =
		"SELECT status FROM messages WHERE id = ?1 AND direction = 'out'";
	sqlite3_stmt *s = NULL;
	int rc = PT_EDB, began = 0;

	if (status_out && cap)
		status_out[0] = '\0';
	if (db == NULL)
		return PT_EINVAL;
	if (id <= 0)
		return PT_ENOTFOUND;
	if (sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	began = 1;
	if (sqlite3_prepare_v2(db, sql_update, -1, &s, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, pt_now_ms());
	if (sqlite3_step(s) != SQLITE_DONE)
		goto out;
	int changed = sqlite3_changes(db);
	sqlite3_finalize(s);
	s = NULL;
	if (changed == 0) {
		/* Why not: no such row, or another status (read in the same transaction). */
		if (sqlite3_prepare_v2(db, sql_status, -1, &s, NULL) != SQLITE_OK)
			goto out;
		sqlite3_bind_int64(s, 1, id);
		int st = sqlite3_step(s);
		if (st == SQLITE_ROW) {
			if (status_out && cap)
				pt_store_col_text(s, 0, status_out, cap);
			rc = PT_ESTATE;
		} else if (st == SQLITE_DONE) {
			rc = PT_ENOTFOUND;
		} else {
			goto out;
		}
		sqlite3_finalize(s);
		s = NULL;
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	if (status_out && cap)
		pt_strlcpy(status_out, "queued", cap);
	pt_log(PT_LOG_INFO, "outbox_retry", "id=%lld status=queued", (long long)id);
	return PT_OK;
out:
	pt_log(PT_LOG_ERROR, "outbox_retry_failed", "id=%lld error=\"%s\"", (long long)id,
	       sqlite3_errmsg(db));
	sqlite3_finalize(s);
	if (began && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return PT_EDB;
}
