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
 *
 * Inspection and repair for the command line (`pintu outbox list|retry`):
 * pt_outbox_list() reads on any connection (the CLI's is read-only) and never
 * hands out the text (only its length) nor a full number (recipients through
 * pt_outbox_mask_peer(), errors through pt_sender_mask_for_log()).
 * pt_outbox_retry() moves 'failed' or 'dead' back to 'queued', due now, with
 * attempts 0, in one short transaction on the CLI's own connection; the
 * running server's sender finds the row on its next periodic scan.
 */
#include "pintu/outbox.h"

#include <stdio.h>
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
		int rc = pt_outbox_report(db, channel, 0, provider_id, (enum pt_dlr)e[i].dlr,
					  e[i].reason);
		if (rc < 0)
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

static void col_text(sqlite3_stmt *s, int i, char *out, size_t cap)
{
	const unsigned char *v = sqlite3_column_text(s, i);
	pt_strlcpy(out, v ? (const char *)v : "", cap);
}

int pt_outbox_list(sqlite3 *db, const struct pt_outbox_filter *f,
		   int (*fn)(const struct pt_outbox_row *row, void *arg), void *arg)
{
	static const char sql[] =
		"SELECT id, channel, status, attempts, next_attempt_ms, peer, segments, last_error, "
		"created_ms, length(body) FROM messages WHERE direction = 'out' "
		"AND (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR channel = ?2) "
		"ORDER BY id DESC LIMIT ?3";
	const char *status = f ? f->status : NULL;
	const char *channel = f ? f->channel : NULL;
	int limit = f && f->limit > 0 ? f->limit : 100;
	char peer[PT_PHONE_MAX * 2], err[sizeof(((struct pt_outbox_row *)0)->last_error)];
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
		col_text(s, 1, r.channel, sizeof(r.channel));
		col_text(s, 2, r.status, sizeof(r.status));
		r.attempts = sqlite3_column_int(s, 3);
		r.next_attempt_ms = sqlite3_column_int64(s, 4); /* NULL reads as 0 */
		col_text(s, 5, peer, sizeof(peer));
		pt_outbox_mask_peer(peer, r.to_masked, sizeof(r.to_masked));
		r.segments = sqlite3_column_int(s, 6);
		col_text(s, 7, err, sizeof(err));
		pt_sender_mask_for_log(err, r.last_error, sizeof(r.last_error));
		r.created_ms = sqlite3_column_int64(s, 8);
		r.length = sqlite3_column_int64(s, 9);
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
				col_text(s, 0, status_out, cap);
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
