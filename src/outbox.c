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
 * before the sender committed the provider's id; reports keyed by provider id
 * then find nothing (PT_ENOTFOUND) - providers that echo our row id (Kannel
 * dlr-url) are not affected.
 */
#include "pintu/outbox.h"

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

int pt_outbox_enqueue(sqlite3 *db, const struct pt_outbox_item *it, int64_t *id_out)
{
	if (db == NULL || it == NULL || it->channel == NULL || it->to == NULL || it->text == NULL)
		return PT_EINVAL;
	size_t len = strlen(it->text);
	size_t segments = it->not_sms ? 0 : pt_sms_split(it->text, len, NULL, 0, NULL);
	int64_t now = pt_now_ms();
	sqlite3_stmt *s = pt_store_stmt(db, sql_enqueue);
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_text(s, 1, it->channel, -1, SQLITE_STATIC);
	bind_id(s, 2, it->contact_id);
	sqlite3_bind_text(s, 3, it->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, it->text, (int)len, SQLITE_STATIC);
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
	if (rc != SQLITE_DONE) {
		pt_log(PT_LOG_ERROR, "outbox_enqueue_failed", "channel=%s error=\"%s\"", it->channel,
		       sqlite3_errmsg(db));
		return PT_EDB;
	}
	if (id_out)
		*id_out = sqlite3_last_insert_rowid(db);
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
