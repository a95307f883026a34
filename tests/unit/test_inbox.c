/*
 * test_inbox.c - the inbox's session cache (src/inbox.c): conversations give
 * the same screens and leave the same rows with the cache off, with a cache
 * so small that every step evicts, and with the default; a step rolled back
 * after its session row was written is not remembered; the least recently
 * used row is the one that goes.
 *
 * Messages go in as Africa's Talking sends them (form bodies through the
 * at-ussd adapter of the demo configuration) and run through
 * pt_inbox_process, as `pintu simulate` does. Run from the repository root
 * (the shipped dialogs are loaded from dialogs/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "pintu/common.h"
#include "pintu/config.h"
#include "pintu/dialog.h"
#include "pintu/inbox.h"
#include "pintu/store.h"
#include "test.h"
#include "treq.h"

#define NRES 6      /* residents talking at the same time */
#define NSTEPS 16   /* rounds each one sends (see script()) */
#define REPLY_MAX 512

static char dir[] = "/tmp/pintu-test-inbox-XXXXXX";
static struct pt_config *cfg;
static struct pt_dialogs *dialogs;
static const struct pt_channel *ussd;

/* One resident's conversation: the complaint path of the shipped dialogs
 * (as tests/bench/prepare.mjs walks it) with an invalid answer, a dropped
 * session dialled again and resumed, and a second dial after the ticket. */
struct resident {
	char phone[24], session[40], text[512];
	int dial; /* provider sessions so far */
};

static const char *const complaint[] = {
	"1", "1", "2", "1", NULL /* NIK */, "2", "1", "Bantuan PKH tahap dua belum cair", "1", "1",
};

/* Round k of resident i: NULL = dial (a new provider session); else the input. */
static const char *script(int i, int k, char *nik, size_t cap)
{
	switch (k) {
	case 0: return NULL;
	case 1: return "1";
	case 2: return "7"; /* not an option: the same question again */
	case 3: return "1";
	case 4: return NULL; /* dropped; dialled again: the resume offer */
	case 5: return "1";  /* resume */
	case 14: return NULL; /* after the ticket: the main menu again */
	case 15: return i % 2 ? "9" : "2"; /* English, or the status check */
	default: break;
	}
	const char *in = complaint[k - 4];
	if (in == NULL) {
		snprintf(nik, cap, "62710315059%05d", 10 + i);
		/* the last digits of a valid NIK are free; birth date 150590 */
		return nik;
	}
	return in;
}

/* application/x-www-form-urlencoded, as a provider encodes a value. */
static void form_encode(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *s && o + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.') {
			out[o++] = (char)c;
		} else if (c == ' ') {
			out[o++] = '+';
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

/* Send one round as Africa's Talking would; the reply ("CON ..."/"END ...")
 * into out. Returns the inbox's rc. */
static int send_round(struct pt_inbox *in, struct resident *r, const char *input, char *out,
		      size_t cap)
{
	if (input == NULL) {
		r->dial++;
		snprintf(r->session, sizeof(r->session), "ATUid_%s_%d", r->phone + 1, r->dial);
		r->text[0] = '\0';
	} else {
		size_t n = strlen(r->text);
		snprintf(r->text + n, sizeof(r->text) - n, "%s%s", n ? "*" : "", input);
	}
	char body[2048], phone[80], text[1600];
	form_encode(r->phone, phone, sizeof(phone));
	form_encode(r->text, text, sizeof(text));
	snprintf(body, sizeof(body),
		 "sessionId=%s&phoneNumber=%s&networkCode=51010&serviceCode=%%2A123%%23&text=%s",
		 r->session, phone, text);
	struct treq t;
	mkreq(&t, "POST", "application/x-www-form-urlencoded", body, NULL, NULL);
	struct pt_inbox_req *q = calloc(1, sizeof(*q));
	char err[200];
	int rc = q ? ussd->adapter->parse(ussd->conf, &t.req, &q->msg, err, sizeof(err)) : PT_ENOMEM;
	freereq(&t);
	if (rc == PT_OK) {
		q->chan = ussd;
		rc = pt_inbox_process(in, q);
		snprintf(out, cap, "%s %s", q->reply.end ? "END" : "CON", q->reply.text);
	}
	free(q);
	return rc;
}

/* Ticket numbers are random ("4821-0937"): the same in every run as
 * "####-####"; times (10 digits or more, e.g. a session's updated_ms) as "#". */
static void mask_numbers(char *s)
{
	char *o = s;
	for (const char *p = s; *p;) {
		size_t n = strspn(p, "0123456789");
		if (n >= 10) {
			*o++ = '#';
			p += n;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	for (; *s; s++) {
		int n = 0;
		while (n < 4 && s[n] >= '0' && s[n] <= '9')
			n++;
		if (n < 4 || s[4] != '-')
			continue;
		int m = 0;
		while (m < 4 && s[5 + m] >= '0' && s[5 + m] <= '9')
			m++;
		if (m == 4)
			memcpy(s, "####-####", 9);
	}
}

struct run {
	char replies[NRES * NSTEPS][REPLY_MAX];
	char sessions[8192];  /* the sessions table afterwards, masked */
	long long tickets;
	struct pt_inbox_stats stats;
	int failed; /* rounds not processed */
};

static void table_dump(sqlite3 *db, char *out, size_t cap)
{
	sqlite3_stmt *s = NULL;
	size_t off = 0;
	out[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT c.phone, s.channel, s.provider_session, s.last_text, "
				   "s.state, s.rounds FROM sessions s JOIN contacts c "
				   "ON c.id = s.contact_id ORDER BY c.phone, s.channel",
			       -1, &s, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(s) == SQLITE_ROW && off < cap)
		for (int c = 0; c < 6; c++) {
			const unsigned char *v = sqlite3_column_text(s, c);
			off += (size_t)snprintf(out + off, cap - off, "%s%c", v ? (const char *)v : "-",
						c == 5 ? '\n' : '|');
			if (off >= cap)
				break;
		}
	sqlite3_finalize(s);
	mask_numbers(out);
}

/* A started store on a fresh database <dir>/<name>.db and an inbox over it
 * with a session cache of cache rows; NULL (a failed check) on error. */
static struct pt_inbox *inbox_open(const char *name, size_t cache, struct pt_store **st,
				   char *path, size_t cap)
{
	char err[256] = "";
	snprintf(path, cap, "%s/%s.db", dir, name);
	*st = pt_store_open(path, err, sizeof(err));
	struct pt_inbox *in = *st ? pt_inbox_new(*st, cfg, dialogs) : NULL;
	PT_CHECK(in != NULL);
	if (!in) {
		fprintf(stderr, "test_inbox: %s: %s\n", name, err);
		pt_store_close(*st);
		return NULL;
	}
	pt_inbox_set_session_cache(in, cache);
	pt_store_start(*st);
	return in;
}

/* All residents' conversations, one round each in turn, on a fresh database
 * with a session cache of cache rows. */
static void run_all(const char *name, size_t cache, struct run *o)
{
	char path[512], nik[24];
	memset(o, 0, sizeof(*o));
	struct pt_store *st;
	struct pt_inbox *in = inbox_open(name, cache, &st, path, sizeof(path));
	if (!in) {
		o->failed = 1;
		return;
	}
	struct resident res[NRES];
	memset(res, 0, sizeof(res));
	for (int i = 0; i < NRES; i++)
		snprintf(res[i].phone, sizeof(res[i].phone), "+6281377%06d", 100 + i);
	for (int k = 0; k < NSTEPS; k++)
		for (int i = 0; i < NRES; i++) {
			char *rep = o->replies[k * NRES + i];
			if (send_round(in, &res[i], script(i, k, nik, sizeof(nik)), rep, REPLY_MAX) < 0)
				o->failed++;
			mask_numbers(rep);
		}
	pt_inbox_stats(in, &o->stats);
	sqlite3 *r = pt_store_open_reader(st);
	sqlite3_stmt *s = NULL;
	if (r && sqlite3_prepare_v2(r, "SELECT COUNT(*) FROM tickets", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		o->tickets = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (r)
		table_dump(r, o->sessions, sizeof(o->sessions));
	sqlite3_close(r);
	pt_inbox_free(in);
	pt_store_close(st);
}

static struct run off_run, tiny_run, def_run;

PT_TEST(test_same_screens_with_and_without_the_cache)
{
	run_all("off", 0, &off_run);
	run_all("tiny", 2, &tiny_run);
	run_all("default", PT_INBOX_SESSION_CACHE_DEFAULT, &def_run);
	PT_CHECK_INT(off_run.failed, 0);
	PT_CHECK_INT(tiny_run.failed, 0);
	PT_CHECK_INT(def_run.failed, 0);
	/* the conversations are the real ones, not a run of errors */
	PT_CHECK_INT(off_run.tickets, NRES);
	const char *resume = off_run.replies[4 * NRES];
	PT_CHECK(strstr(resume, "Lanjutkan pengaduan sebelumnya?") != NULL);
	for (int i = 0; i < NRES * NSTEPS; i++)
		if (getenv("TEST_INBOX_SHOW"))
			fprintf(stderr, "%d/%d: %s\n", i / NRES, i % NRES, off_run.replies[i]);
	const char *ticket = off_run.replies[13 * NRES];
	PT_CHECK(strstr(ticket, "Pengaduan diterima, nomor ####-####") != NULL);
	PT_CHECK(strstr(off_run.replies[2 * NRES], "Maaf, pilihan tidak dikenali.") != NULL);
	PT_CHECK(strstr(off_run.replies[15 * NRES], "nomor pengaduan") != NULL ||
		 strstr(off_run.replies[15 * NRES], "Nomor pengaduan") != NULL); /* status check */
	PT_CHECK(strstr(off_run.replies[15 * NRES + 1], "Complaints") != NULL); /* English */
	/* the same screens, round by round, and the same session rows */
	int diff = 0;
	for (int k = 0; k < NRES * NSTEPS; k++) {
		if (strcmp(off_run.replies[k], tiny_run.replies[k]) != 0 ||
		    strcmp(off_run.replies[k], def_run.replies[k]) != 0) {
			if (diff++ == 0)
				fprintf(stderr, "round %d (resident %d): off \"%s\" tiny \"%s\" default \"%s\"\n",
					k / NRES, k % NRES, off_run.replies[k], tiny_run.replies[k],
					def_run.replies[k]);
		}
	}
	PT_CHECK_INT(diff, 0);
	PT_CHECK_INT(tiny_run.tickets, NRES);
	PT_CHECK_INT(def_run.tickets, NRES);
	PT_CHECK(off_run.sessions[0] != '\0');
	PT_CHECK_STR(tiny_run.sessions, off_run.sessions);
	PT_CHECK_STR(def_run.sessions, off_run.sessions);
	/* where the rows were read from: never memory with the cache off; with
	 * room for everyone only the first round of each resident misses */
	PT_CHECK_INT(off_run.stats.session_hits, 0);
	PT_CHECK(tiny_run.stats.session_misses > tiny_run.stats.session_hits);
	PT_CHECK_INT(def_run.stats.session_misses, NRES);
	PT_CHECK_INT(def_run.stats.session_hits + def_run.stats.session_misses,
		     off_run.stats.session_misses);
}

/* A step whose session row was written and whose job then failed (the
 * contact's language update, made to fail by a trigger) is rolled back; the
 * cache must not keep the row it wrote: the aggregator's retry of the round
 * switches to English from the row in the database. Kept, the cached row
 * (already English) would make the retry switch back. */
PT_TEST(test_failed_step_not_remembered)
{
	char path[512], rep[REPLY_MAX];
	struct pt_store *st;
	struct pt_inbox *in = inbox_open("fail", PT_INBOX_SESSION_CACHE_DEFAULT, &st, path,
					 sizeof(path));
	if (!in)
		return;
	struct resident r = { .phone = "+6281377000999" };
	PT_CHECK_INT(send_round(in, &r, NULL, rep, sizeof(rep)), PT_OK);
	PT_CHECK(strstr(rep, "Sampaikan pengaduan") != NULL);
	sqlite3 *db = NULL;
	PT_CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	PT_CHECK_INT(sqlite3_exec(db, "CREATE TRIGGER langfail BEFORE UPDATE OF lang ON contacts "
				      "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	PT_CHECK(send_round(in, &r, "9", rep, sizeof(rep)) < 0);
	PT_CHECK_INT(sqlite3_exec(db, "DROP TRIGGER langfail", NULL, NULL, NULL), SQLITE_OK);
	/* the retry: the same session and text */
	r.text[0] = '\0';
	PT_CHECK_INT(send_round(in, &r, "9", rep, sizeof(rep)), PT_OK);
	PT_CHECK(strstr(rep, "Submit a complaint") != NULL);
	if (strstr(rep, "Submit a complaint") == NULL)
		fprintf(stderr, "retry answered: %s\n", rep);
	sqlite3_stmt *s = NULL;
	PT_CHECK_INT(sqlite3_prepare_v2(db, "SELECT lang FROM contacts WHERE phone = '+6281377000999'",
					-1, &s, NULL),
		     SQLITE_OK);
	PT_CHECK(sqlite3_step(s) == SQLITE_ROW &&
		 strcmp((const char *)sqlite3_column_text(s, 0), "en") == 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	pt_inbox_free(in);
	pt_store_close(st);
}

/* The cache keeps the most recently used rows (every step writes its row
 * again): with room for two, a resident who goes on typing stays cached while
 * a third one dials in, and the one who did nothing meanwhile goes. */
PT_TEST(test_least_recently_used_goes)
{
	char path[512], rep[REPLY_MAX];
	struct pt_store *st;
	struct pt_inbox *in = inbox_open("lru", 2, &st, path, sizeof(path));
	if (!in)
		return;
	struct resident a = { .phone = "+6281377000501" }, b = { .phone = "+6281377000502" },
			c = { .phone = "+6281377000503" };
	struct pt_inbox_stats s0, s1;
	PT_CHECK_INT(send_round(in, &a, NULL, rep, sizeof(rep)), PT_OK);
	PT_CHECK_INT(send_round(in, &b, NULL, rep, sizeof(rep)), PT_OK);
	pt_inbox_stats(in, &s0);
	PT_CHECK_INT(send_round(in, &a, "1", rep, sizeof(rep)), PT_OK); /* a: from memory */
	PT_CHECK_INT(send_round(in, &c, NULL, rep, sizeof(rep)), PT_OK); /* c in, b out */
	PT_CHECK_INT(send_round(in, &a, "1", rep, sizeof(rep)), PT_OK); /* a: still cached */
	PT_CHECK_INT(send_round(in, &b, "1", rep, sizeof(rep)), PT_OK); /* b: from SQLite */
	PT_CHECK(strstr(rep, "untuk siapa?") != NULL);
	pt_inbox_stats(in, &s1);
	PT_CHECK_INT(s1.session_hits - s0.session_hits, 2);
	PT_CHECK_INT(s1.session_misses - s0.session_misses, 2);
	pt_inbox_free(in);
	pt_store_close(st);
}

int main(void)
{
	char err[256] = "";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	pt_log_set_level(PT_LOG_ERROR);
	cfg = pt_config_demo(err, sizeof(err));
	dialogs = pt_dialogs_load("dialogs", NULL, NULL, NULL);
	ussd = cfg ? pt_config_channel(cfg, "at-ussd") : NULL;
	if (!cfg || !dialogs || !ussd) {
		fprintf(stderr, "test_inbox: setup failed (%s); run from the repository root\n", err);
		return 1;
	}
	PT_RUN(test_same_screens_with_and_without_the_cache);
	PT_RUN(test_failed_step_not_remembered);
	PT_RUN(test_least_recently_used_goes);
	pt_dialogs_free(dialogs);
	pt_config_free(cfg);
	pt_test_rmdir(dir);
	return PT_DONE();
}
